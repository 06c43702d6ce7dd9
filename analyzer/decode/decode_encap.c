/*
 * decode_encap.c - encapsulations that deliver whole frames captured elsewhere: ERSPAN
 * (a switch's remote SPAN session), Ethernet bridged in GRE, VXLAN and Geneve (overlays,
 * and the mirror sessions of cloud networks). What matters at a capture point fed so is
 * the traffic the frames carry, with its own VLANs, MPLS and GTP-U: the encapsulation is
 * stripped, the carried frame decoded as if captured where it was mirrored, and
 * p->encap says what was stripped (p->encap_l3_off where the delivery's IP header was:
 * the reader decodes a base station's own delivery again, as sent). Only the first
 * encapsulation is stripped; one inside a carried frame stays a flow (or GRE tunnel) of
 * its own. Nothing is stripped under MW_DECODE_KEEP_ENCAP.
 * specification: draft-foschiano-erspan-03 (ERSPAN types I, II, III), RFC 1701
 * (0x6558 transparent Ethernet bridging), RFC 7348 (VXLAN), RFC 8926 (Geneve)
 */
#include "decode/decode.h"

#include <string.h>

#define ERSPAN2_HLEN       8
#define ERSPAN3_HLEN       12
#define ERSPAN3_SUBHDR_LEN 8 /* platform-specific subheader, when the O bit is set */
#define ERSPAN3_FT_IP      2 /* frame type: an IP packet without its Ethernet header */
#define ETHERTYPE_ERSPAN3  0x22eb

#define VXLAN_PORT   4789
#define VXLAN_HLEN   8
#define VXLAN_FLAG_I 0x08 /* the VNI is valid: set in every VXLAN packet */
#define GENEVE_PORT  6081
#define GENEVE_HLEN  8

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_TEB  0x6558

static int stripping(const mw_decoder_t *d, const mw_packet_t *p)
{
    return !(d->flags & MW_DECODE_KEEP_ENCAP) && p->encap == MW_ENCAP_NONE;
}

/* Forgets the delivering layers and decodes the carried frame (Ethernet, or an IP packet
 * where the encapsulation says so) in their place. The packet's length becomes the
 * carried frame's: its flows count what they would have counted where it was mirrored. */
static int decode_carried(mw_decoder_t *d, mw_packet_t *p, uint8_t encap, uint32_t off, int ip)
{
    int64_t ts = p->ts_us;
    uint64_t frame_no = p->frame;
    uint32_t caplen = p->caplen, wirelen = p->wirelen > off ? p->wirelen - off : 0;
    uint32_t delivery_off = p->outer.l3_off;

    memset(p, 0, sizeof(*p));
    p->ts_us = ts;
    p->frame = frame_no;
    p->caplen = caplen;
    p->wirelen = wirelen;
    p->encap = encap;
    p->encap_l3_off = (uint16_t)MW_MIN(delivery_off, UINT16_MAX);
    d->ip_depth = 0;
    if (ip)
        return mw__decode_ip(d, p, off, d->caplen > off ? d->caplen - off : 0);
    return mw__decode_ether(d, p, off);
}

int mw__decode_carried_ether(mw_decoder_t *d, mw_packet_t *p, uint8_t encap, uint32_t off)
{
    if (!stripping(d, p))
        return MW_DEC_OK;
    return decode_carried(d, p, encap, off, 0);
}

/* An encapsulation header cut short or of an unknown version: the packet still counts as
 * delivered (encap.*), and is counted by reason. */
static int encap_failed(mw_packet_t *p, uint8_t encap, int event)
{
    p->encap = encap;
    p->encap_l3_off = (uint16_t)MW_MIN(p->outer.l3_off, UINT16_MAX);
    return event;
}

int mw__decode_erspan(
        mw_decoder_t *d, mw_packet_t *p, uint16_t gre_proto, int seq, uint32_t off, uint32_t len)
{
    const uint8_t *h = d->frame + off;
    uint32_t end = off + len;

    if (!stripping(d, p))
        return MW_DEC_OK;
    if (gre_proto != ETHERTYPE_ERSPAN3) {
        /* type I has no header of its own (and no GRE sequence number); type II has 8
         * bytes, version 1 */
        if (!seq)
            return decode_carried(d, p, MW_ENCAP_ERSPAN, off, 0);
        if (!MW_NEED(off, ERSPAN2_HLEN, end))
            return encap_failed(p, MW_ENCAP_ERSPAN, MW_DEC_ENCAP_TRUNCATED);
        if ((h[0] >> 4) != 1)
            return encap_failed(p, MW_ENCAP_ERSPAN, MW_DEC_GRE_UNSUPPORTED);
        return decode_carried(d, p, MW_ENCAP_ERSPAN, off + ERSPAN2_HLEN, 0);
    }
    if (!MW_NEED(off, ERSPAN3_HLEN, end))
        return encap_failed(p, MW_ENCAP_ERSPAN, MW_DEC_ENCAP_TRUNCATED);
    if ((h[0] >> 4) != 2)
        return encap_failed(p, MW_ENCAP_ERSPAN, MW_DEC_GRE_UNSUPPORTED);
    {
        uint32_t pos = off + ERSPAN3_HLEN + ((h[11] & 1) ? ERSPAN3_SUBHDR_LEN : 0);
        unsigned frame_type = (h[10] >> 2) & 0x1f;
        if (!MW_NEED(pos, 0, end))
            return encap_failed(p, MW_ENCAP_ERSPAN, MW_DEC_ENCAP_TRUNCATED);
        if (frame_type != 0 && frame_type != ERSPAN3_FT_IP)
            return encap_failed(p, MW_ENCAP_ERSPAN, MW_DEC_GRE_UNSUPPORTED);
        return decode_carried(d, p, MW_ENCAP_ERSPAN, pos, frame_type == ERSPAN3_FT_IP);
    }
}

int mw__decode_udp_encap(mw_decoder_t *d, mw_packet_t *p, const mw_l3_t *udp)
{
    uint32_t off = udp->payload_off, len = udp->payload_len;
    const uint8_t *h = d->frame + off;

    if (!stripping(d, p) || udp != &p->outer || udp->l4_cut || udp->frag != MW_FRAG_NONE)
        return MW_DEC_OK;
    if (udp->dport == VXLAN_PORT) {
        /* without the I flag (set in every VXLAN packet) it is not VXLAN: it stays a
         * UDP flow */
        if (len <= VXLAN_HLEN || !(h[0] & VXLAN_FLAG_I))
            return MW_DEC_OK;
        if (++d->layers > MW_MAX_LAYERS)
            return MW_DEC_TOO_DEEP;
        return decode_carried(d, p, MW_ENCAP_VXLAN, off + VXLAN_HLEN, 0);
    }
    if (udp->dport == GENEVE_PORT) {
        uint32_t hlen;
        uint16_t proto;
        if (len <= GENEVE_HLEN || (h[0] >> 6) != 0)
            return MW_DEC_OK;
        hlen = GENEVE_HLEN + (uint32_t)(h[0] & 0x3f) * 4;
        proto = mw_get_be16(h + 2);
        if (proto != ETHERTYPE_TEB && proto != ETHERTYPE_IPV4 && proto != ETHERTYPE_IPV6)
            return MW_DEC_OK;
        if (++d->layers > MW_MAX_LAYERS)
            return MW_DEC_TOO_DEEP;
        if (len <= hlen)
            return encap_failed(p, MW_ENCAP_GENEVE, MW_DEC_ENCAP_TRUNCATED);
        return decode_carried(d, p, MW_ENCAP_GENEVE, off + hlen, proto != ETHERTYPE_TEB);
    }
    return MW_DEC_OK;
}
