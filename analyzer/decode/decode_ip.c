/*
 * decode_ip.c - picks IPv4 or IPv6 from the version nibble and the slot
 * the header goes to: the first IP header is the outer one, the one found
 * inside a GTP-U or IP-in-IP tunnel is the inner one. More levels are refused (GTP in
 * GTP is tracked as an inner flow on port 2152, not unpacked again).
 */
#include "decode/decode.h"

int mw__decode_ip(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint32_t len)
{
    mw_l3_t *l3;
    uint8_t version;

    if (d->ip_depth >= 2)
        return MW_DEC_TOO_DEEP;
    l3 = d->ip_depth == 0 ? &p->outer : &p->inner;
    d->ip_depth++;
    if (len == 0 || !MW_NEED(off, 1, d->caplen))
        return MW_DEC_IPV4_TRUNCATED;
    version = d->frame[off] >> 4;
    if (version == 4)
        return mw__decode_ipv4(d, p, l3, off, len);
    if (version == 6)
        return mw__decode_ipv6(d, p, l3, off, len);
    return MW_DEC_NON_IP;
}
