/*
 * pkt_build.c - frame assembly. Builders write the L4 header in front of the
 * payload inside a buffer with headroom, then prepend IPv4, optionally
 * GTP-U/UDP/IPv4 (outer tunnel), then Ethernet, so nothing is copied twice.
 * Checksums are always computed: analyzers and tshark flag bad checksums
 * only when asked, but a generator that means "realistic" must not rely on
 * that.
 * specification: RFC 791 (IPv4), RFC 8200 (IPv6), RFC 768 (UDP), RFC 9293 (TCP), RFC 9260
 * (SCTP), 3GPP TS 29.281 (GTP-U), TS 38.415 (PDU Session Container).
 */
#include "pkt_build.h"

#include "core/mw.h"
#include "truth.h"

#include <string.h>

#define HEADROOM  128u
#define GTPU_PORT 2152u

static uint8_t g_frame[HEADROOM + MW_SG_MAX_PAYLOAD + 64];

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
    while (len > 1) {
        sum += (uint32_t)((p[0] << 8) | p[1]);
        p += 2;
        len -= 2;
    }
    if (len)
        sum += (uint32_t)(p[0] << 8);
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
    uint32_t s = 0;
    s += src >> 16;
    s += src & 0xffff;
    s += dst >> 16;
    s += dst & 0xffff;
    s += proto;
    s += (uint32_t)len;
    return s;
}

/* IPv6 pseudo-header sum (RFC 8200 8.1): addresses, upper-layer length, next header. */
static uint32_t pseudo6(const uint8_t *src, const uint8_t *dst, uint8_t nh, size_t len)
{
    uint32_t s = sum16(src, 16, 0);
    s = sum16(dst, 16, s);
    s += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
    s += nh;
    return s;
}

/* The pseudo-header sum of flow f in direction dir, for either IP version. */
static uint32_t l4_pseudo(const mw_flow_t *f, int dir, uint8_t proto, size_t len)
{
    if (f->v6) {
        uint8_t s6[16], d6[16];
        mw_sg_site_v6(f->ip[dir], s6);
        mw_sg_site_v6(f->ip[!dir], d6);
        return pseudo6(s6, d6, proto, len);
    }
    return pseudo(f->ip[dir], f->ip[!dir], proto, len);
}

static uint32_t crc_table[256];
static int crc_ready;

uint32_t mw_crc32c(const uint8_t *p, size_t len)
{
    if (!crc_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
            crc_table[i] = c;
        }
        crc_ready = 1;
    }
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* Prepends a 20-byte IPv4 header in front of l4 and returns its start. */
static uint8_t *put_ipv4(uint8_t *l4, size_t l4len, uint8_t proto, uint32_t src, uint32_t dst,
        uint16_t id, uint8_t ttl)
{
    uint8_t *ip = l4 - 20;
    ip[0] = 0x45;
    ip[1] = 0;
    mw_be16(ip + 2, (uint16_t)(l4len + 20));
    mw_be16(ip + 4, id);
    mw_be16(ip + 6, 0x4000); /* DF: nothing here is fragmented */
    ip[8] = ttl;
    ip[9] = proto;
    ip[10] = ip[11] = 0;
    mw_be32(ip + 12, src);
    mw_be32(ip + 16, dst);
    mw_be16(ip + 10, fold(sum16(ip, 20, 0)));
    return ip;
}

/* Prepends a 40-byte IPv6 header in front of l4 and returns its start. */
static uint8_t *put_ipv6(uint8_t *l4, size_t l4len, uint8_t nh, uint32_t src, uint32_t dst,
        uint32_t flow_label, uint8_t hop)
{
    uint8_t *ip = l4 - 40;
    mw_be32(ip, 0x60000000u | (flow_label & 0xfffff));
    mw_be16(ip + 4, (uint16_t)l4len);
    ip[6] = nh;
    ip[7] = hop;
    mw_sg_site_v6(src, ip + 8);
    mw_sg_site_v6(dst, ip + 24);
    return ip;
}

static void put_mac(uint8_t *m, const mw_sg_t *sg, uint32_t ip)
{
    if (mw_sg_site_is_bs(&sg->site, ip)) {
        m[0] = 0x02;
        m[1] = 0x00;
        mw_be32(m + 2, ip);
    } else {
        /* Everything else is reached through the site router (VRRP-style MAC). */
        static const uint8_t router[6] = { 0x00, 0x00, 0x5e, 0x00, 0x01, 0x01 };
        memcpy(m, router, 6);
    }
}

/* l4 holds the inner (or only) L4 segment; wraps it and queues the frame. */
static int finish(mw_sg_t *sg, mw_flow_t *f, int dir, uint64_t t, uint8_t *l4, size_t l4len)
{
    uint32_t src = f->ip[dir], dst = f->ip[!dir];
    uint8_t *p;
    size_t len;

    if (f->v6 && !f->tunneled) {
        /* Flow label: one per direction of the flow, as RFC 6437 suggests. */
        uint32_t label = (f->ip[dir] * 2654435761u) ^ ((uint32_t)f->port[dir] << 4) ^ f->port[!dir];
        p = put_ipv6(l4, l4len, f->proto, src, dst, label, f->ttl[dir]);
        len = l4len + 40;
    } else {
        p = put_ipv4(l4, l4len, f->proto, src, dst, f->ipid[dir]++, f->ttl[dir]);
        len = l4len + 20;
    }

    if (f->tunneled) {
        int uplink = (dir == f->ue_end);
        uint32_t osrc = uplink ? f->tun_ip[0] : f->tun_ip[1];
        uint32_t odst = uplink ? f->tun_ip[1] : f->tun_ip[0];
        size_t gl = f->gtp_ext ? 16 : 8;
        uint8_t *g = p - gl;
        g[0] = f->gtp_ext ? 0x34 : 0x30; /* version 1, PT=1, E flag */
        g[1] = 0xff;                     /* G-PDU */
        mw_be16(g + 2, (uint16_t)(len + gl - 8));
        mw_be32(g + 4, uplink ? f->teid_ul : f->teid_dl);
        if (f->gtp_ext) {
            mw_be16(g + 8, 0);            /* sequence number (S flag clear) */
            g[10] = 0;                    /* N-PDU number */
            g[11] = 0x85;                 /* next: PDU Session Container */
            g[12] = 1;                    /* length in 4-octet units */
            g[13] = uplink ? 0x10 : 0x00; /* PDU type 1 = UL, 0 = DL */
            g[14] = f->qfi & 0x3f;
            g[15] = 0; /* no further extension */
        }
        len += gl;
        uint8_t *u = g - 8;
        mw_be16(u, GTPU_PORT);
        mw_be16(u + 2, GTPU_PORT);
        mw_be16(u + 4, (uint16_t)(len + 8));
        mw_be16(u + 6, 0);
        len += 8;
        uint16_t c = fold(sum16(u, len, pseudo(osrc, odst, 17, len)));
        mw_be16(u + 6, c ? c : 0xffff);
        uint16_t oid = (uint16_t)(f->teid_ul ^ (uplink ? f->gtp_seq : (uint16_t)~f->gtp_seq));
        f->gtp_seq++;
        p = put_ipv4(u, len, 17, osrc, odst, oid, 64);
        len += 20;
        src = osrc;
        dst = odst;
    }
    uint8_t *e = p - 14;
    put_mac(e, sg, dst);
    put_mac(e + 6, sg, src);
    mw_be16(e + 12, f->v6 && !f->tunneled ? 0x86dd : 0x0800);
    len += 14;

    int rc = mw_pkt_queue_push(sg->q, t, e, (uint32_t)len);
    if (rc != MW_OK) {
        if (sg->err == 0)
            sg->err = rc;
        return rc;
    }
    sg->frames++;
    sg->bytes += len;
    if (f->track >= 0)
        mw_truth_touch(sg->truth, f->track, t, (uint32_t)len);
    return MW_OK;
}

int mw_emit_udp(mw_sg_t *sg, mw_flow_t *f, int dir, uint64_t t_us, const uint8_t *pl, size_t len)
{
    if (len > MW_SG_MAX_PAYLOAD)
        return MW_EINVAL;
    uint8_t *u = g_frame + HEADROOM;
    if (len)
        memcpy(u + 8, pl, len);
    mw_be16(u, f->port[dir]);
    mw_be16(u + 2, f->port[!dir]);
    mw_be16(u + 4, (uint16_t)(len + 8));
    mw_be16(u + 6, 0);
    uint16_t c = fold(sum16(u, len + 8, l4_pseudo(f, dir, 17, len + 8)));
    mw_be16(u + 6, c ? c : 0xffff);
    return finish(sg, f, dir, t_us, u, len + 8);
}

int mw_emit_tcp(mw_sg_t *sg, mw_flow_t *f, int dir, uint64_t t_us, uint32_t seq, uint32_t ack,
        uint8_t flags, uint16_t win, const uint8_t *opt, size_t optlen, const uint8_t *pl,
        size_t len)
{
    if (len > MW_SG_MAX_PAYLOAD || optlen > 40 || (optlen & 3))
        return MW_EINVAL;
    uint8_t *t = g_frame + HEADROOM;
    size_t hl = 20 + optlen;
    if (len)
        memcpy(t + hl, pl, len);
    if (optlen)
        memcpy(t + 20, opt, optlen);
    mw_be16(t, f->port[dir]);
    mw_be16(t + 2, f->port[!dir]);
    mw_be32(t + 4, seq);
    mw_be32(t + 8, (flags & MW_TCP_ACK) ? ack : 0);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = flags;
    mw_be16(t + 14, win);
    mw_be16(t + 16, 0);
    mw_be16(t + 18, 0);
    mw_be16(t + 16, fold(sum16(t, hl + len, l4_pseudo(f, dir, 6, hl + len))));
    return finish(sg, f, dir, t_us, t, hl + len);
}

int mw_emit_sctp(mw_sg_t *sg, mw_flow_t *f, int dir, uint64_t t_us, uint32_t vtag,
        const uint8_t *chunks, size_t len)
{
    if (len > MW_SG_MAX_PAYLOAD)
        return MW_EINVAL;
    uint8_t *s = g_frame + HEADROOM;
    memcpy(s + 12, chunks, len);
    mw_be16(s, f->port[dir]);
    mw_be16(s + 2, f->port[!dir]);
    mw_be32(s + 4, vtag);
    memset(s + 8, 0, 4);
    uint32_t crc = mw_crc32c(s, len + 12);
    /* The CRC goes on the wire least significant byte first (RFC 9260 appendix A). */
    s[8] = (uint8_t)crc;
    s[9] = (uint8_t)(crc >> 8);
    s[10] = (uint8_t)(crc >> 16);
    s[11] = (uint8_t)(crc >> 24);
    return finish(sg, f, dir, t_us, s, len + 12);
}

void mw_flow_init(mw_flow_t *f, const mw_sg_t *sg, uint8_t proto, uint32_t a, uint16_t pa,
        uint32_t b, uint16_t pb)
{
    memset(f, 0, sizeof(*f));
    f->proto = proto;
    f->ip[0] = a;
    f->ip[1] = b;
    f->port[0] = pa;
    f->port[1] = pb;
    /* TTL as seen at the site router: local hosts 64, anything routed from afar less. */
    f->ttl[0] = mw_sg_site_is_bs(&sg->site, a) ? 64 : 62;
    f->ttl[1] = mw_sg_site_is_bs(&sg->site, b) ? 64 : 62;
    /* Seed IP ids from the tuple so they differ between flows but stay deterministic. */
    f->ipid[0] = (uint16_t)(a * 2654435761u ^ pa ^ (b >> 7));
    f->ipid[1] = (uint16_t)(b * 2654435761u ^ pb ^ (a >> 5));
    f->track = -1;
}

void mw_flow_tunnel(
        mw_flow_t *f, const mw_sg_t *sg, int bs, int ue_end, uint32_t teid_ul, uint32_t teid_dl)
{
    const mw_sg_bs_t *b = &sg->site.bs[bs];
    f->tunneled = 1;
    f->ue_end = (uint8_t)ue_end;
    f->tun_ip[0] = b->ip;
    f->tun_ip[1] = b->is_gnb ? sg->site.upf : sg->site.sgw;
    f->teid_ul = teid_ul;
    f->teid_dl = teid_dl;
    f->gtp_ext = (uint8_t)b->is_gnb;
    f->qfi = 9;
    f->ttl[ue_end] = 64;
    f->ttl[!ue_end] = 52;
}
