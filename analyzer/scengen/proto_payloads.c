/*
 * proto_payloads.c - byte-exact payloads for the protocols a base station's
 * management and sync planes carry. They are minimal but well-formed: tshark
 * must dissect them without "malformed" expert errors and nDPI 4.2 must
 * recognise them, because the analyzer is validated against both.
 * specification: RFC 1035 (DNS), RFC 3416/X.690 BER (SNMP), RFC 5905 (NTP),
 * IEEE 1588-2008 (PTP), RFC 3164 (syslog), RFC 8446 (TLS 1.3), RFC 4253 and
 * RFC 8731 (SSH), 3GPP TS 29.060 (GTPv1-C).
 */
#include "proto_payloads.h"

#include "pkt_build.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---------- DNS ---------- */

static size_t dns_name(uint8_t *b, size_t cap, const char *name)
{
    size_t n = 0;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (l == 0 || l > 63 || n + l + 2 > cap)
            return 0;
        b[n++] = (uint8_t)l;
        memcpy(b + n, p, l);
        n += l;
        p += l;
        if (*p == '.')
            p++;
    }
    if (n + 1 > cap || n + 1 > 255)
        return 0;
    b[n++] = 0;
    return n;
}

static size_t dns_header_question(uint8_t *b, size_t cap, uint16_t id, uint16_t flags, uint16_t an,
        const char *name, uint16_t qtype)
{
    if (cap < 12 + 4)
        return 0;
    mw_be16(b, id);
    mw_be16(b + 2, flags);
    mw_be16(b + 4, 1);
    mw_be16(b + 6, an);
    mw_be16(b + 8, 0);
    mw_be16(b + 10, 0);
    size_t n = dns_name(b + 12, cap - 12 - 4, name);
    if (n == 0)
        return 0;
    n += 12;
    mw_be16(b + n, qtype);
    mw_be16(b + n + 2, 1); /* IN */
    return n + 4;
}

size_t mw_pl_dns_query(uint8_t *b, size_t cap, uint16_t id, const char *name, uint16_t qtype)
{
    return dns_header_question(b, cap, id, 0x0100, 0, name, qtype); /* RD */
}

size_t mw_pl_dns_response(uint8_t *b, size_t cap, uint16_t id, const char *name, uint16_t qtype,
        uint32_t addr, uint32_t ttl)
{
    size_t n = dns_header_question(b, cap, id, 0x8180, 1, name, qtype);
    size_t rl = qtype == 28 ? 16 : 4;
    if (n == 0 || n + 12 + rl > cap)
        return 0;
    mw_be16(b + n, 0xc00c); /* pointer to the question name */
    mw_be16(b + n + 2, qtype);
    mw_be16(b + n + 4, 1);
    mw_be32(b + n + 6, ttl);
    mw_be16(b + n + 10, (uint16_t)rl);
    if (rl == 4) {
        mw_be32(b + n + 12, addr);
    } else {
        static const uint8_t pfx[12] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 0, 0, 0, 0, 0 };
        memcpy(b + n + 12, pfx, 12);
        mw_be32(b + n + 24, addr);
    }
    return n + 12 + rl;
}

/* ---------- SNMP (BER) ---------- */

/* Encodes a tag and definite length in front of len content bytes already at p. */
static size_t ber_wrap(uint8_t *p, uint8_t tag, size_t len)
{
    uint8_t h[4];
    size_t hl;
    h[0] = tag;
    if (len < 128) {
        h[1] = (uint8_t)len;
        hl = 2;
    } else if (len < 256) {
        h[1] = 0x81;
        h[2] = (uint8_t)len;
        hl = 3;
    } else {
        h[1] = 0x82;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        hl = 4;
    }
    memmove(p + hl, p, len);
    memcpy(p, h, hl);
    return hl + len;
}

/* Unsigned value as a minimal BER integer body (leading 0 when the top bit is set). */
static size_t ber_uint(uint8_t *p, uint8_t tag, uint64_t v)
{
    uint8_t tmp[9];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)v;
        v >>= 8;
    } while (v);
    if (tmp[n - 1] & 0x80)
        tmp[n++] = 0;
    for (size_t i = 0; i < n; i++)
        p[2 + i] = tmp[n - 1 - i];
    p[0] = tag;
    p[1] = (uint8_t)n;
    return n + 2;
}

static size_t ber_oid(uint8_t *p, const uint32_t *arc, size_t narc)
{
    size_t n = 2;
    p[n++] = (uint8_t)(arc[0] * 40 + arc[1]);
    for (size_t i = 2; i < narc; i++) {
        uint32_t v = arc[i];
        uint8_t tmp[5];
        int k = 0;
        do {
            tmp[k++] = (uint8_t)(v & 0x7f);
            v >>= 7;
        } while (v);
        while (k > 0) {
            k--;
            p[n++] = (uint8_t)(tmp[k] | (k ? 0x80 : 0));
        }
    }
    p[0] = 0x06;
    p[1] = (uint8_t)(n - 2);
    return n;
}

static const uint32_t oid_uptime[] = { 1, 3, 6, 1, 2, 1, 1, 3, 0 };
static const uint32_t oid_name[] = { 1, 3, 6, 1, 2, 1, 1, 5, 0 };
static const uint32_t oid_in[] = { 1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1 };
static const uint32_t oid_out[] = { 1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 10, 1 };

size_t mw_pl_snmp_get(uint8_t *b, size_t cap, const char *community, uint32_t reqid, int response,
        uint32_t uptime, uint64_t in_oct, uint64_t out_oct, const char *sysname)
{
    size_t cl = strlen(community), sl = strlen(sysname);
    if (cl > 64 || sl > 64 || cap < 256 + cl + sl)
        return 0;
    uint8_t *p = b;
    size_t n = ber_uint(p, 0x02, 1); /* version: 1 = v2c */
    p[n] = 0x04;
    p[n + 1] = (uint8_t)cl;
    memcpy(p + n + 2, community, cl);
    n += 2 + cl;
    size_t pdu = n;
    size_t m = pdu;
    m += ber_uint(b + m, 0x02, reqid & 0x7fffffff);
    m += ber_uint(b + m, 0x02, 0); /* error-status */
    m += ber_uint(b + m, 0x02, 0); /* error-index */
    size_t vbl = m;
    struct {
        const uint32_t *oid;
        size_t n;
    } oids[4] = { { oid_uptime, 9 }, { oid_name, 9 }, { oid_in, 12 }, { oid_out, 12 } };
    for (int i = 0; i < 4; i++) {
        size_t vb = m;
        m += ber_oid(b + m, oids[i].oid, oids[i].n);
        if (!response) {
            b[m++] = 0x05; /* NULL */
            b[m++] = 0x00;
        } else if (i == 0) {
            m += ber_uint(b + m, 0x43, uptime); /* TimeTicks */
        } else if (i == 1) {
            b[m++] = 0x04;
            b[m++] = (uint8_t)sl;
            memcpy(b + m, sysname, sl);
            m += sl;
        } else {
            m += ber_uint(b + m, 0x46, i == 2 ? in_oct : out_oct); /* Counter64 */
        }
        m = vb + ber_wrap(b + vb, 0x30, m - vb);
    }
    m = vbl + ber_wrap(b + vbl, 0x30, m - vbl);
    m = pdu + ber_wrap(b + pdu, response ? 0xa2 : 0xa0, m - pdu);
    return ber_wrap(b, 0x30, m);
}

/* ---------- NTP ---------- */

static void ntp_ts(uint8_t *p, uint64_t t_us)
{
    uint64_t s = t_us / 1000000u + 2208988800ULL;
    uint64_t frac = ((t_us % 1000000u) << 32) / 1000000u;
    mw_be32(p, (uint32_t)s);
    mw_be32(p + 4, (uint32_t)frac);
}

size_t mw_pl_ntp(
        uint8_t *b, size_t cap, int server, uint64_t t_us, uint64_t orig_us, uint32_t refid)
{
    if (cap < 48)
        return 0;
    memset(b, 0, 48);
    b[0] = server ? 0x24 : 0x23; /* LI 0, VN 4, mode 4 / 3 */
    b[2] = 10;                   /* poll 2^10 s */
    if (server) {
        b[1] = 2;                   /* stratum 2 */
        b[3] = 0xe9;                /* precision 2^-23 */
        mw_be32(b + 4, 0x00000120); /* root delay */
        mw_be32(b + 8, 0x00000340); /* root dispersion */
        mw_be32(b + 12, refid);
        ntp_ts(b + 16, t_us - 17000000u);
        ntp_ts(b + 24, orig_us);
        ntp_ts(b + 32, t_us - 40);
        ntp_ts(b + 40, t_us);
    } else {
        b[3] = 0xec;
        ntp_ts(b + 40, t_us);
    }
    return 48;
}

/* ---------- PTP ---------- */

static void ptp_ts(uint8_t *p, uint64_t t_us)
{
    uint64_t s = t_us / 1000000u + 37; /* TAI = UTC + 37 s */
    mw_be16(p, (uint16_t)(s >> 32));
    mw_be32(p + 2, (uint32_t)s);
    mw_be32(p + 6, (uint32_t)((t_us % 1000000u) * 1000u));
}

size_t mw_pl_ptp(uint8_t *b, size_t cap, int type, uint16_t seq, uint64_t clock, uint64_t t_us,
        uint64_t port_clock)
{
    size_t len;
    uint8_t ctl;
    switch (type) {
        case MW_PTP_SYNC:
            len = 44;
            ctl = 0;
            break;
        case MW_PTP_DELAY_REQ:
            len = 44;
            ctl = 1;
            break;
        case MW_PTP_FOLLOW_UP:
            len = 44;
            ctl = 2;
            break;
        case MW_PTP_DELAY_RESP:
            len = 54;
            ctl = 3;
            break;
        case MW_PTP_ANNOUNCE:
            len = 64;
            ctl = 5;
            break;
        default:
            return 0;
    }
    if (cap < len)
        return 0;
    memset(b, 0, len);
    b[0] = (uint8_t)type; /* transportSpecific 0 */
    b[1] = 2;             /* versionPTP */
    mw_be16(b + 2, (uint16_t)len);
    b[4] = 24; /* domain 24: ITU-T G.8275.2 telecom profile default range */
    mw_be16(b + 6, type == MW_PTP_SYNC ? 0x0200 : 0x0000); /* twoStepFlag on Sync */
    for (int i = 0; i < 8; i++)
        b[20 + i] = (uint8_t)(clock >> (56 - 8 * i));
    mw_be16(b + 28, 1); /* portNumber */
    mw_be16(b + 30, seq);
    b[32] = ctl;
    b[33] = type == MW_PTP_DELAY_REQ ? 0x7f : (type == MW_PTP_ANNOUNCE ? 1 : 0xfd);
    ptp_ts(b + 34, t_us);
    if (type == MW_PTP_DELAY_RESP) {
        for (int i = 0; i < 8; i++)
            b[44 + i] = (uint8_t)(port_clock >> (56 - 8 * i));
        mw_be16(b + 52, 1);
    } else if (type == MW_PTP_ANNOUNCE) {
        mw_be16(b + 44, 37);     /* currentUtcOffset */
        b[47] = 128;             /* grandmasterPriority1 */
        b[48] = 6;               /* clockClass: locked to primary reference */
        b[49] = 0x21;            /* clockAccuracy: within 100 ns */
        mw_be16(b + 50, 0x4e5d); /* offsetScaledLogVariance */
        b[52] = 128;             /* grandmasterPriority2 */
        for (int i = 0; i < 8; i++)
            b[53 + i] = (uint8_t)(clock >> (56 - 8 * i));
        mw_be16(b + 61, 0); /* stepsRemoved */
        b[63] = 0x20;       /* timeSource: GPS */
    }
    return len;
}

/* ---------- syslog ---------- */

size_t mw_pl_syslog(uint8_t *b, size_t cap, int pri, uint64_t t_s, const char *host,
        const char *tag, unsigned pid, const char *msg)
{
    char ts[32];
    time_t tt = (time_t)t_s;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
    int n = snprintf((char *)b, cap, "<%d>%s %s %s[%u]: %s", pri, ts, host, tag, pid, msg);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    return (size_t)n;
}

/* ---------- TLS ---------- */

static size_t put_ext(uint8_t *p, uint16_t type, const uint8_t *data, size_t len)
{
    mw_be16(p, type);
    mw_be16(p + 2, (uint16_t)len);
    memcpy(p + 4, data, len);
    return 4 + len;
}

size_t mw_pl_tls_client_hello(uint8_t *b, size_t cap, const char *sni, mw_prng_t *r)
{
    size_t sl = strlen(sni);
    if (sl > 200 || cap < 400 + sl)
        return 0;
    uint8_t *h = b + 5; /* handshake message */
    size_t n = 4;
    mw_be16(h + n, 0x0303);
    n += 2;
    mw_prng_fill(r, h + n, 32);
    n += 32;
    h[n++] = 32; /* legacy session id (middlebox compatibility mode) */
    mw_prng_fill(r, h + n, 32);
    n += 32;
    static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030 };
    mw_be16(h + n, (uint16_t)(2 * MW_ARRAY_LEN_SG(suites)));
    n += 2;
    for (size_t i = 0; i < MW_ARRAY_LEN_SG(suites); i++, n += 2)
        mw_be16(h + n, suites[i]);
    h[n++] = 1;
    h[n++] = 0; /* null compression */
    size_t extl = n;
    n += 2;
    uint8_t e[256];
    /* server_name: list length, host_name type 0, name length, name. */
    mw_be16(e, (uint16_t)(sl + 3));
    e[2] = 0;
    mw_be16(e + 3, (uint16_t)sl);
    memcpy(e + 5, sni, sl);
    n += put_ext(h + n, 0, e, sl + 5);
    static const uint8_t groups[] = { 0, 4, 0x00, 0x1d, 0x00, 0x17 };
    n += put_ext(h + n, 10, groups, sizeof(groups));
    static const uint8_t sigs[] = { 0, 8, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x08, 0x07 };
    n += put_ext(h + n, 13, sigs, sizeof(sigs));
    static const uint8_t alpn[] = { 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
    n += put_ext(h + n, 16, alpn, sizeof(alpn));
    static const uint8_t vers[] = { 4, 0x03, 0x04, 0x03, 0x03 };
    n += put_ext(h + n, 43, vers, sizeof(vers));
    /* key_share: client_shares length, x25519, key length 32, key. */
    mw_be16(e, 36);
    mw_be16(e + 2, 0x001d);
    mw_be16(e + 4, 32);
    mw_prng_fill(r, e + 6, 32);
    n += put_ext(h + n, 51, e, 38);
    mw_be16(h + extl, (uint16_t)(n - extl - 2));
    h[0] = 1; /* ClientHello */
    h[1] = (uint8_t)((n - 4) >> 16);
    mw_be16(h + 2, (uint16_t)(n - 4));
    b[0] = 22;
    mw_be16(b + 1, 0x0301);
    mw_be16(b + 3, (uint16_t)n);
    return n + 5;
}

size_t mw_pl_tls_server_hello(uint8_t *b, size_t cap, mw_prng_t *r)
{
    if (cap < 200)
        return 0;
    uint8_t *h = b + 5;
    size_t n = 4;
    mw_be16(h + n, 0x0303);
    n += 2;
    mw_prng_fill(r, h + n, 32);
    n += 32;
    h[n++] = 32;
    mw_prng_fill(r, h + n, 32);
    n += 32;
    mw_be16(h + n, 0x1301);
    n += 2;
    h[n++] = 0;
    size_t extl = n;
    n += 2;
    static const uint8_t ver[] = { 0x03, 0x04 };
    n += put_ext(h + n, 43, ver, 2);
    uint8_t e[40];
    mw_be16(e, 0x001d);
    mw_be16(e + 2, 32);
    mw_prng_fill(r, e + 4, 32);
    n += put_ext(h + n, 51, e, 36);
    mw_be16(h + extl, (uint16_t)(n - extl - 2));
    h[0] = 2; /* ServerHello */
    h[1] = 0;
    mw_be16(h + 2, (uint16_t)(n - 4));
    b[0] = 22;
    mw_be16(b + 1, 0x0303);
    mw_be16(b + 3, (uint16_t)n);
    n += 5;
    /* change_cipher_spec record (compatibility mode) */
    static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
    memcpy(b + n, ccs, sizeof(ccs));
    return n + sizeof(ccs);
}

/* ---------- SSH ---------- */

size_t mw_pl_ssh_banner(uint8_t *b, size_t cap, int server)
{
    const char *s =
            server ? "SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3\r\n" : "SSH-2.0-OpenSSH_9.2p1\r\n";
    size_t n = strlen(s);
    if (n > cap)
        return 0;
    memcpy(b, s, n);
    return n;
}

/* Wraps payload (already at b + 5) into an unencrypted binary packet, block size 8. */
static size_t ssh_packet(uint8_t *b, size_t cap, size_t plen)
{
    size_t pad = 8 - ((5 + plen) % 8);
    if (pad < 4)
        pad += 8;
    if (5 + plen + pad > cap)
        return 0;
    memset(b + 5 + plen, 0, pad);
    mw_be32(b, (uint32_t)(1 + plen + pad));
    b[4] = (uint8_t)pad;
    return 5 + plen + pad;
}

static size_t put_str(uint8_t *p, const char *s)
{
    size_t l = strlen(s);
    mw_be32(p, (uint32_t)l);
    memcpy(p + 4, s, l);
    return 4 + l;
}

size_t mw_pl_ssh_kexinit(uint8_t *b, size_t cap, int server, mw_prng_t *r)
{
    static const char *lists[10] = { "curve25519-sha256,ecdh-sha2-nistp256",
        "ecdsa-sha2-nistp256,rsa-sha2-512", "chacha20-poly1305@openssh.com,aes128-ctr",
        "chacha20-poly1305@openssh.com,aes128-ctr", "hmac-sha2-256-etm@openssh.com,hmac-sha2-256",
        "hmac-sha2-256-etm@openssh.com,hmac-sha2-256", "none", "none", "", "" };
    if (cap < 700)
        return 0;
    MW_UNUSED_SG(server);
    size_t n = 5;
    b[n++] = 20; /* SSH_MSG_KEXINIT */
    mw_prng_fill(r, b + n, 16);
    n += 16;
    for (int i = 0; i < 10; i++)
        n += put_str(b + n, lists[i]);
    b[n++] = 0; /* first_kex_packet_follows */
    mw_be32(b + n, 0);
    n += 4;
    return ssh_packet(b, cap, n - 5);
}

size_t mw_pl_ssh_ecdh(uint8_t *b, size_t cap, int server, mw_prng_t *r)
{
    if (cap < 300)
        return 0;
    size_t n = 5;
    if (!server) {
        b[n++] = 30; /* SSH_MSG_KEX_ECDH_INIT: Q_C */
        mw_be32(b + n, 32);
        mw_prng_fill(r, b + n + 4, 32);
        n += 36;
    } else {
        b[n++] = 31; /* SSH_MSG_KEX_ECDH_REPLY: K_S, Q_S, signature */
        /* ECDSA host key: tshark 4.0 decodes its signature (it warns on ed25519's). */
        mw_be32(b + n, 4 + 19 + 4 + 8 + 4 + 65);
        n += 4;
        n += put_str(b + n, "ecdsa-sha2-nistp256");
        n += put_str(b + n, "nistp256");
        mw_be32(b + n, 65);
        b[n + 4] = 0x04; /* uncompressed point */
        mw_prng_fill(r, b + n + 5, 64);
        n += 69;
        mw_be32(b + n, 32);
        mw_prng_fill(r, b + n + 4, 32);
        n += 36;
        mw_be32(b + n, 4 + 19 + 4 + 72);
        n += 4;
        n += put_str(b + n, "ecdsa-sha2-nistp256");
        mw_be32(b + n, 72);
        n += 4;
        for (int k = 0; k < 2; k++) {
            mw_be32(b + n, 32); /* mpint r, s with the top bit clear */
            mw_prng_fill(r, b + n + 4, 32);
            b[n + 4] &= 0x7f;
            n += 36;
        }
    }
    return ssh_packet(b, cap, n - 5);
}

size_t mw_pl_ssh_newkeys(uint8_t *b, size_t cap)
{
    if (cap < 16)
        return 0;
    b[5] = 21; /* SSH_MSG_NEWKEYS */
    return ssh_packet(b, cap, 1);
}

size_t mw_pl_ssh_encrypted(uint8_t *b, size_t cap, size_t len, mw_prng_t *r)
{
    /* chacha20-poly1305: 4-byte encrypted length, body in 8-byte blocks, 16-byte tag. */
    size_t body = ((len + 7) / 8) * 8;
    if (body < 16)
        body = 16;
    size_t n = 4 + body + 16;
    if (n > cap)
        return 0;
    mw_prng_fill(r, b, n);
    return n;
}

/* ---------- GTPv1-C echo ---------- */

size_t mw_pl_gtpc_echo(uint8_t *b, size_t cap, int response, uint16_t seq, uint8_t restart,
        size_t priv_len, int trailer, mw_prng_t *r)
{
    size_t n = 12;
    if (cap < 12 + 2 + 5 + priv_len || priv_len > 1000)
        return 0;
    b[0] = 0x32; /* version 1, PT 1, S flag */
    b[1] = response ? 2 : 1;
    mw_be32(b + 4, 0); /* TEID 0 for path management */
    mw_be16(b + 8, seq);
    b[10] = 0;
    b[11] = 0;
    if (response) {
        b[n++] = 14; /* Recovery IE (TV) */
        b[n++] = restart;
    }
    if (priv_len && trailer) {
        /* Bytes beyond the declared length: a parser that trusts the header skips them. */
        mw_be16(b + 2, (uint16_t)(n - 8));
        mw_prng_fill(r, b + n, priv_len);
        return n + priv_len;
    }
    if (priv_len) {
        b[n++] = 255; /* Private Extension IE (TLV) */
        mw_be16(b + n, (uint16_t)(priv_len + 2));
        n += 2;
        mw_be16(b + n, 0x1f4a); /* extension identifier (enterprise number) */
        n += 2;
        mw_prng_fill(r, b + n, priv_len);
        n += priv_len;
    }
    mw_be16(b + 2, (uint16_t)(n - 8));
    return n;
}
