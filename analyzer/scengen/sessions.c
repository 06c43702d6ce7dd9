/*
 * sessions.c - conversation scripts. Timing inside a session is at the
 * scale of a LAN/backhaul (RTT of a few ms, server "think" times of a few
 * ms to a second) and sizes are drawn by the caller, so the schedulers in
 * normal_traffic.c and inject.c decide volumes and these scripts only make
 * them look like the real protocol on the wire.
 */
#include "sessions.h"

#include "pkt_build.h"
#include "proto_payloads.h"
#include "tcp_session.h"
#include "truth.h"

#include <stdio.h>
#include <string.h>

static uint8_t g_buf[8192];

void mw_sess_track(mw_sg_t *sg, mw_flow_t *f)
{
    if (sg->cur_anomaly >= 0 && f->track < 0) {
        int id = mw_truth_add_flow(sg->truth, sg->cur_anomaly, f);
        f->track = id >= 0 ? id : -1;
    }
}

static void tcp_open_opt(
        mw_tcp_t *s, mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, const mw_sess_opt_t *o)
{
    mw_sess_track(sg, f);
    mw_tcp_open(s, sg, f, t, o && o->rtt_us ? o->rtt_us : 2000, r);
    if (o && o->rate_bps)
        s->rate_bps = o->rate_bps;
}

static void send_str(mw_tcp_t *s, int dir, const char *str, int reply)
{
    mw_tcp_send(s, dir, (const uint8_t *)str, strlen(str), reply);
}

uint64_t mw_sess_dns(mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, const char *name,
        uint32_t answer, int answered)
{
    uint16_t id = (uint16_t)mw_prng_next(r);
    size_t n;
    mw_sess_track(sg, f);
    n = mw_pl_dns_query(g_buf, sizeof(g_buf), id, name, 1);
    if (n == 0)
        return t;
    mw_emit_udp(sg, f, 0, t, g_buf, n);
    if (!answered)
        return t;
    t += 800 + mw_prng_range(r, 0, 4000);
    n = mw_pl_dns_response(g_buf, sizeof(g_buf), id, name, 1, answer, 300);
    if (n)
        mw_emit_udp(sg, f, 1, t, g_buf, n);
    return t;
}

uint64_t mw_sess_tls(mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, const char *sni,
        size_t up, size_t down, int rounds, const mw_sess_opt_t *o)
{
    mw_tcp_t s;
    size_t n;
    tcp_open_opt(&s, sg, f, t, r, o);
    n = mw_pl_tls_client_hello(g_buf, sizeof(g_buf), sni, r);
    mw_tcp_send(&s, 0, g_buf, n, 1);
    n = mw_pl_tls_server_hello(g_buf, sizeof(g_buf), r);
    mw_tcp_send(&s, 1, g_buf, n, 1);
    /* EncryptedExtensions, Certificate, CertificateVerify, Finished: one opaque flight. */
    mw_tcp_send_random(&s, 1, 1500 + mw_prng_range(r, 0, 1000), 1400, r, 1);
    static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
    mw_tcp_send(&s, 0, ccs, sizeof(ccs), 1);
    if (rounds < 1)
        rounds = 1;
    for (int i = 0; i < rounds; i++) {
        size_t u = up / (size_t)rounds + 60, d = down / (size_t)rounds + 40;
        mw_tcp_send_random(&s, 0, u, 16000, r, 1);
        mw_tcp_wait(&s, 1000 + mw_prng_range(r, 0, 20000));
        mw_tcp_send_random(&s, 1, d, 16000, r, 1);
        if (i + 1 < rounds)
            mw_tcp_wait(&s, mw_prng_range(r, 10000, 2000000));
    }
    mw_tcp_wait(&s, mw_prng_range(r, 1000, 50000));
    mw_tcp_close(&s, 0);
    return s.t;
}

static void ssh_msg(mw_tcp_t *s, int dir, size_t n, mw_prng_t *r)
{
    size_t k = mw_pl_ssh_encrypted(g_buf, sizeof(g_buf), n, r);
    mw_tcp_send(s, dir, g_buf, k, 1);
}

uint64_t mw_sess_ssh(mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, size_t up, size_t down,
        int rounds, const mw_sess_opt_t *o)
{
    mw_tcp_t s;
    size_t n, k;
    tcp_open_opt(&s, sg, f, t, r, o);
    n = mw_pl_ssh_banner(g_buf, sizeof(g_buf), 1);
    mw_tcp_send(&s, 1, g_buf, n, 1);
    n = mw_pl_ssh_banner(g_buf, sizeof(g_buf), 0);
    mw_tcp_send(&s, 0, g_buf, n, 1);
    n = mw_pl_ssh_kexinit(g_buf, sizeof(g_buf), 0, r);
    mw_tcp_send(&s, 0, g_buf, n, 1);
    n = mw_pl_ssh_kexinit(g_buf, sizeof(g_buf), 1, r);
    mw_tcp_send(&s, 1, g_buf, n, 1);
    n = mw_pl_ssh_ecdh(g_buf, sizeof(g_buf), 0, r);
    mw_tcp_send(&s, 0, g_buf, n, 1);
    mw_tcp_wait(&s, 2000);
    n = mw_pl_ssh_ecdh(g_buf, sizeof(g_buf), 1, r);
    k = mw_pl_ssh_newkeys(g_buf + n, sizeof(g_buf) - n);
    mw_tcp_send(&s, 1, g_buf, n + k, 1);
    n = mw_pl_ssh_newkeys(g_buf, sizeof(g_buf));
    mw_tcp_send(&s, 0, g_buf, n, 1);
    /* Encrypted from here: service request/accept, public-key auth, channel open. */
    ssh_msg(&s, 0, 28, r);
    ssh_msg(&s, 1, 28, r);
    ssh_msg(&s, 0, 360, r);
    mw_tcp_wait(&s, 3000);
    ssh_msg(&s, 1, 20, r);
    if (rounds < 1)
        rounds = 1;
    for (int i = 0; i < rounds; i++) {
        size_t u = up / (size_t)rounds, d = down / (size_t)rounds;
        if (u > 2000) {
            mw_tcp_send_random(&s, 0, u, 16384, r, 0);
        } else {
            ssh_msg(&s, 0, u + 40, r);
        }
        mw_tcp_wait(&s, 500 + mw_prng_range(r, 0, 5000));
        if (d > 2000) {
            mw_tcp_send_random(&s, 1, d, 16384, r, 0);
        } else {
            ssh_msg(&s, 1, d + 40, r);
        }
        if (i + 1 < rounds)
            mw_tcp_wait(&s, o && o->round_gap_us ? o->round_gap_us + mw_prng_range(r, 0, 2000000)
                                                 : mw_prng_range(r, 50000, 3000000));
    }
    ssh_msg(&s, 0, 40, r); /* channel close, disconnect */
    mw_tcp_close(&s, 0);
    return s.t;
}

uint64_t mw_sess_ftp(mw_sg_t *sg, mw_flow_t *ctrl, uint64_t t, mw_prng_t *r, const char *user,
        const char *pass, const char *file, size_t bytes, int upload)
{
    mw_tcp_t c, d;
    char line[256];
    uint32_t sip = ctrl->ip[1];
    uint16_t dport = (uint16_t)mw_prng_range(r, 30000, 39999);

    tcp_open_opt(&c, sg, ctrl, t, r, NULL);
    send_str(&c, 1, "220 (vsFTPd 3.0.3)\r\n", 1);
    snprintf(line, sizeof(line), "USER %s\r\n", user);
    send_str(&c, 0, line, 1);
    send_str(&c, 1, "331 Please specify the password.\r\n", 1);
    snprintf(line, sizeof(line), "PASS %s\r\n", pass);
    send_str(&c, 0, line, 1);
    mw_tcp_wait(&c, 20000);
    send_str(&c, 1, "230 Login successful.\r\n", 1);
    send_str(&c, 0, "TYPE I\r\n", 1);
    send_str(&c, 1, "200 Switching to Binary mode.\r\n", 1);
    send_str(&c, 0, "PASV\r\n", 1);
    snprintf(line, sizeof(line), "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u).\r\n", sip >> 24,
            (sip >> 16) & 255, (sip >> 8) & 255, sip & 255, (unsigned)dport >> 8,
            (unsigned)dport & 255);
    send_str(&c, 1, line, 1);

    mw_flow_t df = *ctrl;
    df.port[0] = (uint16_t)mw_prng_range(r, 61000, 64999);
    df.port[1] = dport;
    df.track = -1;
    mw_sess_track(sg, &df);
    mw_tcp_open(&d, sg, &df, c.t, 2000, r);
    c.t = d.t;
    snprintf(line, sizeof(line), "%s %s\r\n", upload ? "STOR" : "RETR", file);
    send_str(&c, 0, line, 1);
    send_str(&c, 1,
            upload ? "150 Ok to send data.\r\n" : "150 Opening BINARY mode data connection.\r\n",
            1);
    d.t = c.t;
    mw_tcp_send_random(&d, upload ? 0 : 1, bytes, 8192, r, 0);
    mw_tcp_close(&d, upload ? 0 : 1);
    c.t = d.t + 500;
    send_str(&c, 1, "226 Transfer complete.\r\n", 1);
    send_str(&c, 0, "QUIT\r\n", 1);
    send_str(&c, 1, "221 Goodbye.\r\n", 1);
    mw_tcp_close(&c, 1);
    return c.t;
}

uint64_t mw_sess_telnet(
        mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, const char *user, const char *pass)
{
    mw_tcp_t s;
    char line[128];
    /* IAC DO TERMINAL-TYPE, IAC DO TERMINAL-SPEED, IAC DO NAWS, IAC DO NEW-ENVIRON */
    static const uint8_t srv_neg[] = { 0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20, 0xff, 0xfd, 0x1f, 0xff,
        0xfd, 0x27 };
    /* IAC WILL TERMINAL-TYPE, IAC WONT TERMINAL-SPEED, IAC WILL NAWS, IAC WONT NEW-ENVIRON */
    static const uint8_t cli_neg[] = { 0xff, 0xfb, 0x18, 0xff, 0xfc, 0x20, 0xff, 0xfb, 0x1f, 0xff,
        0xfc, 0x27 };
    tcp_open_opt(&s, sg, f, t, r, NULL);
    mw_tcp_send(&s, 1, srv_neg, sizeof(srv_neg), 1);
    mw_tcp_send(&s, 0, cli_neg, sizeof(cli_neg), 1);
    send_str(&s, 1, "\r\nBaseband OAM shell\r\nlogin: ", 1);
    mw_tcp_wait(&s, mw_prng_range(r, 500000, 2000000));
    snprintf(line, sizeof(line), "%s\r\n", user);
    send_str(&s, 0, line, 1);
    send_str(&s, 1, "Password: ", 1);
    mw_tcp_wait(&s, mw_prng_range(r, 500000, 2000000));
    snprintf(line, sizeof(line), "%s\r\n", pass);
    send_str(&s, 0, line, 1);
    send_str(&s, 1, "\r\nLast login: Mon Nov  2 09:12:44 on ttyS0\r\n# ", 1);
    mw_tcp_wait(&s, mw_prng_range(r, 1000000, 4000000));
    send_str(&s, 0, "cat /etc/passwd\r\n", 1);
    send_str(&s, 1, "root:x:0:0:root:/root:/bin/sh\r\noam:x:1000:1000::/home/oam:/bin/sh\r\n# ", 1);
    mw_tcp_wait(&s, mw_prng_range(r, 1000000, 4000000));
    send_str(&s, 0, "exit\r\n", 1);
    mw_tcp_close(&s, 1);
    return s.t;
}

uint64_t mw_sess_snmp(mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, const char *community,
        uint32_t uptime, uint64_t in_oct, uint64_t out_oct, const char *sysname)
{
    uint32_t reqid = (uint32_t)mw_prng_range(r, 1, 0x7fffffff);
    size_t n;
    mw_sess_track(sg, f);
    n = mw_pl_snmp_get(g_buf, sizeof(g_buf), community, reqid, 0, 0, 0, 0, sysname);
    mw_emit_udp(sg, f, 0, t, g_buf, n);
    t += 1500 + mw_prng_range(r, 0, 6000);
    n = mw_pl_snmp_get(g_buf, sizeof(g_buf), community, reqid, 1, uptime, in_oct, out_oct, sysname);
    mw_emit_udp(sg, f, 1, t, g_buf, n);
    return t;
}

uint64_t mw_sess_ntp(mw_sg_t *sg, mw_flow_t *f, uint64_t t, uint32_t refid)
{
    size_t n;
    mw_sess_track(sg, f);
    n = mw_pl_ntp(g_buf, sizeof(g_buf), 0, t, 0, 0);
    mw_emit_udp(sg, f, 0, t, g_buf, n);
    uint64_t t2 = t + 900 + (t % 700);
    n = mw_pl_ntp(g_buf, sizeof(g_buf), 1, t2, t, refid);
    mw_emit_udp(sg, f, 1, t2, g_buf, n);
    return t2;
}

uint64_t mw_sess_gtpc_echo(mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, uint16_t seq,
        size_t priv_len, int trailer, int answered)
{
    size_t n;
    mw_sess_track(sg, f);
    n = mw_pl_gtpc_echo(g_buf, sizeof(g_buf), 0, seq, 0, priv_len, trailer, r);
    mw_emit_udp(sg, f, 0, t, g_buf, n);
    if (!answered)
        return t;
    t += 1000 + mw_prng_range(r, 0, 3000);
    n = mw_pl_gtpc_echo(g_buf, sizeof(g_buf), 1, seq, 7, 0, 0, r);
    mw_emit_udp(sg, f, 1, t, g_buf, n);
    return t;
}

uint64_t mw_sess_raw_tcp(
        mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, size_t up, size_t down, int rounds)
{
    mw_tcp_t s;
    tcp_open_opt(&s, sg, f, t, r, NULL);
    if (rounds < 1)
        rounds = 1;
    for (int i = 0; i < rounds; i++) {
        size_t u = up / (size_t)rounds + 1, d = down / (size_t)rounds + 1;
        mw_prng_fill(r, g_buf, 16);
        /* A fixed 4-byte magic makes the protocol consistent, yet unknown to classifiers. */
        g_buf[0] = 0x9c;
        g_buf[1] = 0x4e;
        g_buf[2] = 0x01;
        g_buf[3] = 0x7a;
        mw_tcp_send(&s, 0, g_buf, 16, 1);
        mw_tcp_send_random(&s, 0, u, 1200, r, 0);
        mw_tcp_wait(&s, mw_prng_range(r, 1000, 50000));
        mw_tcp_send_random(&s, 1, d, 1200, r, 0);
        mw_tcp_wait(&s, mw_prng_range(r, 100000, 2000000));
    }
    mw_tcp_close(&s, 0);
    return s.t;
}

uint64_t mw_sess_quic(mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, int npkts)
{
    uint8_t dcid[8];
    mw_sess_track(sg, f);
    mw_prng_fill(r, dcid, sizeof(dcid));
    for (int i = 0; i < npkts; i++) {
        int dir = (i % 4 == 0) ? 0 : 1; /* mostly server to client */
        size_t n = dir ? mw_prng_range(r, 900, 1250) : mw_prng_range(r, 40, 120);
        mw_prng_fill(r, g_buf, n);
        g_buf[0] = (uint8_t)(0x40 | (g_buf[0] & 0x3f)); /* short header, fixed bit */
        memcpy(g_buf + 1, dcid, sizeof(dcid));
        mw_emit_udp(sg, f, dir, t, g_buf, n);
        t += mw_prng_range(r, 200, 30000);
    }
    return t;
}
