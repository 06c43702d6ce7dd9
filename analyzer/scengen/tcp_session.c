/*
 * tcp_session.c - sequence-number bookkeeping for scripted connections.
 * The capture point sits at the site router, next to the base stations, so
 * a frame and the ACK answering it are one round trip apart. Data from one
 * side is paced at rate_bps; the other side ACKs every second full segment
 * (RFC 9293 3.8.6.3, delayed ACK) one RTT after it passed, which keeps
 * acknowledgement numbers consistent with what the capture already saw.
 */
#include "tcp_session.h"

#include "pkt_build.h"

#include <string.h>

#define SG_WIN 64240

static const uint8_t mss_opt[4] = { 0x02, 0x04, 0x05, 0xb4 }; /* MSS 1460 */

static void ack_from(mw_tcp_t *s, int side, uint64_t t)
{
    mw_emit_tcp(s->sg, &s->f, side, t, s->seq[side], s->seq[!side], MW_TCP_ACK, SG_WIN, NULL, 0,
            NULL, 0);
    s->unacked[!side] = 0;
}

void mw_tcp_open(
        mw_tcp_t *s, mw_sg_t *sg, const mw_flow_t *f, uint64_t t, uint32_t rtt_us, mw_prng_t *r)
{
    memset(s, 0, sizeof(*s));
    s->sg = sg;
    s->f = *f;
    s->rtt_us = rtt_us ? rtt_us : 1000;
    s->mss = 1460;
    s->rate_bps = 50000000;
    s->seq[0] = (uint32_t)mw_prng_next(r);
    s->seq[1] = (uint32_t)mw_prng_next(r);
    mw_emit_tcp(sg, &s->f, 0, t, s->seq[0], 0, MW_TCP_SYN, SG_WIN, mss_opt, 4, NULL, 0);
    s->seq[0]++;
    t += s->rtt_us;
    mw_emit_tcp(sg, &s->f, 1, t, s->seq[1], s->seq[0], MW_TCP_SYN | MW_TCP_ACK, 65160, mss_opt, 4,
            NULL, 0);
    s->seq[1]++;
    t += 40;
    ack_from(s, 0, t);
    s->t = t + 200;
}

void mw_tcp_send(mw_tcp_t *s, int dir, const uint8_t *data, size_t len, int reply)
{
    uint64_t t = s->t, last = s->t;
    size_t off = 0;
    /* Microseconds to put one byte on the wire at the pacing rate (x1000 for precision). */
    uint64_t ns_per_byte = 8000000000ULL / (s->rate_bps ? s->rate_bps : 1);

    if (s->unacked[!dir]) {
        /* Our previous data is still unacknowledged by us; piggyback happens here. */
        s->unacked[!dir] = 0;
    }
    while (off < len) {
        size_t n = len - off < s->mss ? len - off : s->mss;
        uint8_t flags = MW_TCP_ACK | (off + n == len ? MW_TCP_PSH : 0);
        mw_emit_tcp(s->sg, &s->f, dir, t, s->seq[dir], s->seq[!dir], flags, SG_WIN, NULL, 0,
                data + off, n);
        s->seq[dir] += (uint32_t)n;
        off += n;
        last = t;
        if (++s->unacked[dir] >= 2)
            ack_from(s, !dir, t + s->rtt_us);
        t += 20 + (n * ns_per_byte) / 1000;
    }
    if (!reply && s->unacked[dir]) {
        ack_from(s, !dir, last + s->rtt_us);
    }
    s->t = last + s->rtt_us + 50;
}

void mw_tcp_send_random(mw_tcp_t *s, int dir, size_t len, size_t rec, mw_prng_t *r, int tls)
{
    /* Built in chunks so a multi-megabyte upload needs no large buffer. */
    uint8_t buf[8192];
    size_t done = 0;
    if (rec < 64)
        rec = 64;
    if (rec > sizeof(buf) - 5)
        rec = sizeof(buf) - 5;
    while (done < len) {
        size_t n = len - done < rec ? len - done : rec;
        size_t hl = 0;
        if (tls) {
            /* TLS 1.3 application_data record: type 23, legacy version 3.3. */
            buf[0] = 23;
            buf[1] = 3;
            buf[2] = 3;
            mw_be16(buf + 3, (uint16_t)n);
            hl = 5;
        }
        mw_prng_fill(r, buf + hl, n);
        int last = done + n >= len;
        mw_tcp_send(s, dir, buf, n + hl, !last);
        if (!last)
            s->t -= s->rtt_us; /* records of one transfer follow each other without waiting */
        done += n;
    }
}

void mw_tcp_wait(mw_tcp_t *s, uint64_t us)
{
    s->t += us;
}

void mw_tcp_close(mw_tcp_t *s, int dir)
{
    uint64_t t = s->t;
    mw_emit_tcp(s->sg, &s->f, dir, t, s->seq[dir], s->seq[!dir], MW_TCP_FIN | MW_TCP_ACK, SG_WIN,
            NULL, 0, NULL, 0);
    s->seq[dir]++;
    t += s->rtt_us;
    mw_emit_tcp(s->sg, &s->f, !dir, t, s->seq[!dir], s->seq[dir], MW_TCP_FIN | MW_TCP_ACK, SG_WIN,
            NULL, 0, NULL, 0);
    s->seq[!dir]++;
    t += 30;
    mw_emit_tcp(
            s->sg, &s->f, dir, t, s->seq[dir], s->seq[!dir], MW_TCP_ACK, SG_WIN, NULL, 0, NULL, 0);
    s->t = t;
}
