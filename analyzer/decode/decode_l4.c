/*
 * decode_l4.c - dispatches the payload of an IP header to its transport
 * decoder. Protocols without a decoder here (ESP, GRE, OSPF, ...) still
 * form flows on addresses and protocol number, with ports 0.
 *
 * IP-in-IP (4, 6in4 = 41) is a transport overlay, not a telecom tunnel:
 * like nDPI's reader, the packet is re-decoded from the inner header, which
 * then stands for the flow (the outer header is not kept).
 * specification: RFC 2003 (IPIP), RFC 4213 (6in4)
 */
#include "decode/decode.h"

#include <string.h>

/* Forgets the outer IP header and decodes the inner one in its place. */
static int decode_overlay(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint32_t len)
{
    if (++d->layers > MW_MAX_LAYERS)
        return MW_DEC_TOO_DEEP;
    memset(&p->outer, 0, sizeof(p->outer));
    p->has_ip = 0;
    d->ip_depth = 0;
    return mw__decode_ip(d, p, off, len);
}

int mw__decode_l4(mw_decoder_t *d, mw_packet_t *p, mw_l3_t *l3, uint32_t off, uint32_t len)
{
    int rc;

    switch (l3->l4_proto) {
        case 6:
            return mw__decode_tcp(d, l3, off, len);
        case 17:
            rc = mw__decode_udp(d, l3, off, len);
            if (rc == MW_DEC_OK && l3 == &p->outer &&
                    (l3->sport == 2152 || l3->dport == 2152 || l3->sport == 2123 ||
                            l3->dport == 2123))
                return mw__decode_gtp(d, p, l3->payload_off, l3->payload_len);
            return rc;
        case 4:
        case 41:
            if (l3 == &p->outer)
                return decode_overlay(d, p, off, len);
            break;
        case 132:
            return mw__decode_sctp(d, l3, off, len);
        case 1:
        case 58:
            return mw__decode_icmp(d, l3, off, len);
        default:
            break;
    }
    l3->l4_off = 0;
    l3->payload_off = off;
    l3->payload_len = len;
    return MW_DEC_OK;
}
