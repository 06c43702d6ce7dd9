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
    /* echo request / reply (ICMP 8/0, ICMPv6 128/129): who pings whom */
    {
        uint8_t type = d->frame[off], v6 = l3->l4_proto == 58;
        if (type == (v6 ? 128 : 8))
            l3->handshake = MW_HS_OPEN;
        else if (type == (v6 ? 129 : 0))
            l3->handshake = MW_HS_ACCEPT;
    }
    l3->payload_off = off + ICMP_HLEN;
    l3->payload_len = len - ICMP_HLEN;
    return MW_DEC_OK;
}
