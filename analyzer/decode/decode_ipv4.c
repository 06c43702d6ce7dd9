/*
 * decode_ipv4.c - IPv4 header with options. Lengths in the header are not
 * trusted: the captured length bounds every read, and a total length that
 * is smaller than the header is an event. A total length larger than what
 * was captured is normal (snaplen) and only limits the payload.
 * Non-first fragments carry no transport header: they return
 * MW_DEC_IP_FRAGMENT_LATER with the addresses, protocol and identification
 * filled in, so the engine can account them to the flow of their first
 * fragment (which holds the ports and is classified).
 * specification: RFC 791
 */
#include "decode/decode.h"

#include "core/addr.h"

#include <string.h>

#define IPV4_MIN_HLEN 20

int mw__decode_ipv4(mw_decoder_t *d, mw_packet_t *p, mw_l3_t *l3, uint32_t off, uint32_t len)
{
    const uint8_t *h = d->frame + off;
    uint32_t hlen, total, avail;
    uint16_t frag;

    if (len < IPV4_MIN_HLEN || !MW_NEED(off, IPV4_MIN_HLEN, d->caplen))
        return MW_DEC_IPV4_TRUNCATED;
    hlen = (uint32_t)(h[0] & 0x0f) * 4;
    if (hlen < IPV4_MIN_HLEN)
        return MW_DEC_IPV4_BAD_HEADER;
    if (hlen > len || !MW_NEED(off, hlen, d->caplen))
        return MW_DEC_IPV4_TRUNCATED;
    total = mw_get_be16(h + 2);
    avail = MW_MIN(len, d->caplen - off);
    if (total == 0) /* TSO/LRO captures leave it 0: trust what was captured */
        total = avail;
    if (total < hlen)
        return MW_DEC_IPV4_BAD_LENGTH;

    l3->ip_version = 4;
    l3->l4_proto = h[9];
    l3->l3_off = off;
    l3->ip_len = total;
    l3->l3_len = MW_MIN(total, avail);
    mw_addr_map_v4(l3->src, h + 12);
    mw_addr_map_v4(l3->dst, h + 16);
    if (l3 == &p->outer)
        p->has_ip = 1;

    frag = mw_get_be16(h + 6);
    if (frag & 0x3fff)
        l3->frag_id = mw_get_be16(h + 4);
    if (frag & 0x1fff) {
        l3->frag = MW_FRAG_LATER;
        return MW_DEC_IP_FRAGMENT_LATER;
    }
    if (frag & 0x2000)
        l3->frag = MW_FRAG_FIRST;
    return mw__decode_l4(d, p, l3, off + hlen, l3->l3_len - hlen);
}
