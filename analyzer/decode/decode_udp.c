/*
 * decode_udp.c - UDP header. The length field may claim more than was
 * captured (snaplen, first fragment): the payload is what is really there.
 * A length below the header size is a lie and an event.
 * specification: RFC 768
 */
#include "decode/decode.h"

#define UDP_HLEN 8

int mw__decode_udp(mw_decoder_t *d, mw_l3_t *l3, uint32_t off, uint32_t len)
{
    const uint8_t *h = d->frame + off;
    uint32_t ulen;

    if (len < UDP_HLEN || !MW_NEED(off, UDP_HLEN, d->caplen))
        return MW_DEC_UDP_TRUNCATED;
    ulen = mw_get_be16(h + 4);
    l3->sport = mw_get_be16(h);
    l3->dport = mw_get_be16(h + 2);
    l3->l4_off = off;
    l3->payload_off = off + UDP_HLEN;
    /* 0 is legal for IPv6 jumbograms; otherwise it must cover the header */
    if (ulen != 0 && ulen < UDP_HLEN)
        return MW_DEC_UDP_BAD_LENGTH;
    l3->payload_len = len - UDP_HLEN;
    if (ulen >= UDP_HLEN && ulen - UDP_HLEN < l3->payload_len)
        l3->payload_len = ulen - UDP_HLEN; /* ignore Ethernet padding */
    return MW_DEC_OK;
}
