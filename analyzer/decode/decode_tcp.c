/*
 * decode_tcp.c - TCP header: ports, flags and the payload bounds. The data
 * offset is checked against both the minimum header and the captured bytes.
 * specification: RFC 9293
 */
#include "decode/decode.h"

#define TCP_MIN_HLEN 20

int mw__decode_tcp(mw_decoder_t *d, mw_l3_t *l3, uint32_t off, uint32_t len)
{
    const uint8_t *h = d->frame + off;
    uint32_t hlen;

    /* a tiny first fragment, or a header-only capture: the ports still name the flow */
    if ((l3->frag == MW_FRAG_FIRST && len < TCP_MIN_HLEN) ||
            (len < TCP_MIN_HLEN && mw__cut_by_snaplen(l3, off, TCP_MIN_HLEN)))
        return mw__decode_cut_ports(d, l3, off, len) ? MW_DEC_OK : MW_DEC_TCP_TRUNCATED;
    if (len < TCP_MIN_HLEN || !MW_NEED(off, TCP_MIN_HLEN, d->caplen))
        return MW_DEC_TCP_TRUNCATED;
    hlen = (uint32_t)(h[12] >> 4) * 4;
    if (hlen < TCP_MIN_HLEN)
        return MW_DEC_TCP_BAD_HEADER;
    l3->sport = mw_get_be16(h);
    l3->dport = mw_get_be16(h + 2);
    l3->tcp_flags = h[13];
    if ((h[13] & 0x16) == 0x02) /* SYN without ACK or RST */
        l3->handshake = MW_HS_OPEN;
    else if ((h[13] & 0x16) == 0x12)
        l3->handshake = MW_HS_ACCEPT;
    l3->l4_off = off;
    if (hlen > len) /* options cut by snaplen: ports and flags are still good */
        hlen = len;
    l3->payload_off = off + hlen;
    l3->payload_len = len - hlen;
    /* a bare RST refuses; one with data carries it (RFC 9293 lets a RST hold a reason) */
    if ((h[13] & 0x04) && l3->payload_len == 0)
        l3->refusal = MW_REFUSAL_RESET;
    return MW_DEC_OK;
}
