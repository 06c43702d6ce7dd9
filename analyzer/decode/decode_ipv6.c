/*
 * decode_ipv6.c - IPv6 header and its extension-header chain (hop-by-hop,
 * routing, destination options, fragment, AH, mobility). The chain walk is
 * capped at MW_MAX_IPV6_EXT headers so a crafted loop cannot run long.
 * specification: RFC 8200 (IPv6, extension headers), RFC 4302 (AH)
 */
#include "decode/decode.h"

#include "core/addr.h"

#include <string.h>

#define IPV6_HLEN   40
#define NH_HOPOPTS  0
#define NH_ROUTING  43
#define NH_FRAGMENT 44
#define NH_AH       51
#define NH_DSTOPTS  60
#define NH_MOBILITY 135

int mw__decode_ipv6(mw_decoder_t *d, mw_packet_t *p, mw_l3_t *l3, uint32_t off, uint32_t len)
{
    const uint8_t *h = d->frame + off;
    uint32_t total, avail, pos, end, hdr_len;
    uint8_t next;
    unsigned n;

    if (len < IPV6_HLEN || !MW_NEED(off, IPV6_HLEN, d->caplen))
        return MW_DEC_IPV6_TRUNCATED;
    avail = MW_MIN(len, d->caplen - off);
    total = IPV6_HLEN + (uint32_t)mw_get_be16(h + 4);
    if (total == IPV6_HLEN && avail > IPV6_HLEN) /* jumbogram or TSO: trust the capture */
        total = avail;

    l3->ip_version = 6;
    l3->l3_off = off;
    l3->ip_len = total;
    l3->l3_len = MW_MIN(total, avail);
    memcpy(l3->src, h + 8, 16);
    memcpy(l3->dst, h + 24, 16);
    /* ::ffff:a.b.c.d is how IPv4 is written here: on the wire (RFC 4291 2.5.5.2: never, and
     * Linux drops it) it would pass for that IPv4 host, its inventory role included */
    if (mw_addr_is_v4mapped(l3->src) || mw_addr_is_v4mapped(l3->dst))
        return MW_DEC_IPV6_V4MAPPED;
    if (l3 == &p->outer)
        p->has_ip = 1;

    next = h[6];
    pos = off + IPV6_HLEN;
    end = off + l3->l3_len;
    for (n = 0;; n++) {
        if (next != NH_HOPOPTS && next != NH_ROUTING && next != NH_FRAGMENT && next != NH_AH &&
                next != NH_DSTOPTS && next != NH_MOBILITY)
            break;
        if (n >= MW_MAX_IPV6_EXT)
            return MW_DEC_TOO_DEEP;
        if (!MW_NEED(pos, 8, end))
            return MW_DEC_IPV6_EXT_TRUNCATED;
        if (next == NH_FRAGMENT) {
            uint16_t frag = mw_get_be16(d->frame + pos + 2);
            hdr_len = 8;
            l3->frag_id = mw_get_be32(d->frame + pos + 4);
            if (frag & 0xfff8) {
                l3->l4_proto = d->frame[pos];
                l3->frag = MW_FRAG_LATER;
                return MW_DEC_IP_FRAGMENT_LATER;
            }
            if (frag & 1)
                l3->frag = MW_FRAG_FIRST;
        } else if (next == NH_AH) {
            hdr_len = ((uint32_t)d->frame[pos + 1] + 2) * 4;
        } else {
            hdr_len = ((uint32_t)d->frame[pos + 1] + 1) * 8;
        }
        if (!MW_NEED(pos, hdr_len, end))
            return MW_DEC_IPV6_EXT_TRUNCATED;
        next = d->frame[pos];
        pos += hdr_len;
    }
    l3->l4_proto = next;
    return mw__decode_l4(d, p, l3, pos, end - pos);
}
