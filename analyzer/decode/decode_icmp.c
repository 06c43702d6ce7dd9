/*
 * decode_icmp.c - ICMP and ICMPv6: only the 4-byte type/code/checksum head
 * is required. ICMP flows are keyed on addresses alone (ports 0), as
 * nDPI's reader does.
 * specification: RFC 792, RFC 4443
 */
#include "decode/decode.h"

#define ICMP_HLEN 4

int mw__decode_icmp(mw_decoder_t *d, mw_l3_t *l3, uint32_t off, uint32_t len)
{
    if (len < ICMP_HLEN || !MW_NEED(off, ICMP_HLEN, d->caplen))
        return MW_DEC_ICMP_TRUNCATED;
    l3->l4_off = off;
    l3->payload_off = off + ICMP_HLEN;
    l3->payload_len = len - ICMP_HLEN;
    return MW_DEC_OK;
}
