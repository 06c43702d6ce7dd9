/*
 * sctp_assoc.c - chunk encoding for the handful of SCTP chunk types a
 * signalling association shows in a short capture. Each packet carries one
 * chunk (no bundling) so a reader can line frames up with the RFC.
 * specification: RFC 9260 (SCTP), RFC 9260 section 3.3 for chunk layouts.
 */
#include "sctp_assoc.h"

#include "pkt_build.h"

#include <string.h>

#define SG_RWND 106496u

void mw_sctp_init(mw_sctp_t *a, const mw_flow_t *f, uint32_t ppid, uint32_t rtt_us, mw_prng_t *r)
{
    memset(a, 0, sizeof(*a));
    a->f = *f;
    a->ppid = ppid;
    a->rtt_us = rtt_us;
    for (int i = 0; i < 2; i++) {
        a->tag[i] = (uint32_t)mw_prng_range(r, 1, 0xffffffffu);
        a->tsn[i] = (uint32_t)mw_prng_next(r);
    }
    mw_prng_fill(r, a->cookie, sizeof(a->cookie));
    a->hb_nonce = mw_prng_next(r);
}

static size_t init_chunk(
        uint8_t *c, uint8_t type, uint32_t tag, uint32_t tsn, const uint8_t *cookie)
{
    size_t n = 20;
    c[0] = type;
    c[1] = 0;
    mw_be32(c + 4, tag);
    mw_be32(c + 8, SG_RWND);
    mw_be16(c + 12, 10); /* outbound streams */
    mw_be16(c + 14, 10); /* max inbound streams */
    mw_be32(c + 16, tsn);
    if (cookie != NULL) {
        mw_be16(c + n, 7); /* State Cookie */
        mw_be16(c + n + 2, 36);
        memcpy(c + n + 4, cookie, 32);
        n += 36;
    } else {
        mw_be16(c + n, 12); /* Supported Address Types: IPv4 */
        mw_be16(c + n + 2, 6);
        mw_be16(c + n + 4, 5);
        mw_be16(c + n + 6, 0); /* padding */
        n += 8;
    }
    /* The chunk length excludes the trailing padding of the last parameter. */
    mw_be16(c + 2, (uint16_t)(cookie ? n : n - 2));
    return n;
}

uint64_t mw_sctp_establish(mw_sg_t *sg, mw_sctp_t *a, uint64_t t)
{
    uint8_t c[64];
    size_t n;

    n = init_chunk(c, 1, a->tag[0], a->tsn[0], NULL);
    mw_emit_sctp(sg, &a->f, 0, t, 0, c, n);
    t += a->rtt_us;
    n = init_chunk(c, 2, a->tag[1], a->tsn[1], a->cookie);
    mw_emit_sctp(sg, &a->f, 1, t, a->tag[0], c, n);
    t += 60;
    c[0] = 10;
    c[1] = 0;
    mw_be16(c + 2, 36);
    memcpy(c + 4, a->cookie, 32);
    mw_emit_sctp(sg, &a->f, 0, t, a->tag[1], c, 36);
    t += a->rtt_us;
    c[0] = 11;
    c[1] = 0;
    mw_be16(c + 2, 4);
    mw_emit_sctp(sg, &a->f, 1, t, a->tag[0], c, 4);
    a->up = 1;
    return t + 100;
}

uint64_t mw_sctp_data(
        mw_sg_t *sg, mw_sctp_t *a, int dir, uint64_t t, const uint8_t *msg, size_t len)
{
    uint8_t c[2048];
    if (len + 16 + 3 > sizeof(c))
        return t;
    size_t n = 16 + len;
    c[0] = 0;
    c[1] = 0x03; /* B and E: unfragmented user message */
    mw_be16(c + 2, (uint16_t)n);
    mw_be32(c + 4, a->tsn[dir]);
    mw_be16(c + 8, 0); /* stream 0: non-UE-associated signalling */
    mw_be16(c + 10, a->ssn[dir]);
    mw_be32(c + 12, a->ppid);
    memcpy(c + 16, msg, len);
    while (n & 3)
        c[n++] = 0;
    mw_emit_sctp(sg, &a->f, dir, t, a->tag[!dir], c, n);
    t += a->rtt_us;
    /* SACK: cumulative TSN ack, a_rwnd, no gap blocks, no duplicates. */
    c[0] = 3;
    c[1] = 0;
    mw_be16(c + 2, 16);
    mw_be32(c + 4, a->tsn[dir]);
    mw_be32(c + 8, SG_RWND);
    mw_be16(c + 12, 0);
    mw_be16(c + 14, 0);
    mw_emit_sctp(sg, &a->f, !dir, t, a->tag[dir], c, 16);
    a->tsn[dir]++;
    a->ssn[dir]++;
    return t + 100;
}

uint64_t mw_sctp_heartbeat(mw_sg_t *sg, mw_sctp_t *a, int dir, uint64_t t)
{
    uint8_t c[32];
    /* Heartbeat Info parameter: opaque to the peer, echoed back verbatim. */
    c[0] = 4;
    c[1] = 0;
    mw_be16(c + 2, 4 + 4 + 16);
    mw_be16(c + 4, 1);
    mw_be16(c + 6, 4 + 16);
    mw_be32(c + 8, (uint32_t)(a->hb_nonce >> 32));
    mw_be32(c + 12, (uint32_t)a->hb_nonce);
    mw_be32(c + 16, (uint32_t)(t / MW_SG_US));
    mw_be32(c + 20, (uint32_t)(t % MW_SG_US));
    mw_be32(c + 24, 0);
    a->hb_nonce = a->hb_nonce * 6364136223846793005ULL + 1442695040888963407ULL;
    mw_emit_sctp(sg, &a->f, dir, t, a->tag[!dir], c, 24);
    t += a->rtt_us;
    c[0] = 5;
    mw_emit_sctp(sg, &a->f, !dir, t, a->tag[dir], c, 24);
    return t + 100;
}
