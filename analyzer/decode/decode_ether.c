/*
 * decode_ether.c - Ethernet II and the ethertype switch shared by every
 * link layer that names its payload with an ethertype (Ethernet, SLL,
 * SLL2, VLAN tags, PPPoE).
 * specification: IEEE 802.3; RFC 2516 (PPPoE); RFC 1661 (PPP protocol field)
 */
#include "decode/decode.h"

#define ETH_HLEN           14
#define ETHERTYPE_IPV4     0x0800
#define ETHERTYPE_IPV6     0x86dd
#define ETHERTYPE_VLAN     0x8100
#define ETHERTYPE_QINQ     0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_MPLS     0x8847
#define ETHERTYPE_MPLS_MC  0x8848
#define ETHERTYPE_PPPOE    0x8864
#define PPPOE_HLEN         8 /* 6-byte PPPoE header + 2-byte PPP protocol */

int mw__decode_ether(mw_decoder_t *d, mw_packet_t *p, uint32_t off)
{
    if (!MW_NEED(off, ETH_HLEN, d->caplen))
        return MW_DEC_L2_TRUNCATED;
    return mw__decode_ethertype(d, p, mw_get_be16(d->frame + off + 12), off + ETH_HLEN);
}

static int decode_pppoe(mw_decoder_t *d, mw_packet_t *p, uint32_t off)
{
    uint16_t proto;

    if (!MW_NEED(off, PPPOE_HLEN, d->caplen))
        return MW_DEC_L2_TRUNCATED;
    proto = mw_get_be16(d->frame + off + 6);
    if (proto == 0x0021 || proto == 0x0057)
        return mw__decode_ip(d, p, off + PPPOE_HLEN, d->caplen - off - PPPOE_HLEN);
    return MW_DEC_NON_IP;
}

int mw__decode_ethertype(mw_decoder_t *d, mw_packet_t *p, uint16_t ethertype, uint32_t off)
{
    if (++d->layers > MW_MAX_LAYERS)
        return MW_DEC_TOO_DEEP;
    switch (ethertype) {
        case ETHERTYPE_IPV4:
        case ETHERTYPE_IPV6:
            return mw__decode_ip(d, p, off, d->caplen - off);
        case ETHERTYPE_VLAN:
        case ETHERTYPE_QINQ:
        case ETHERTYPE_QINQ_OLD:
            return mw__decode_vlan(d, p, off, ethertype);
        case ETHERTYPE_MPLS:
        case ETHERTYPE_MPLS_MC:
            return mw__decode_mpls(d, p, off);
        case ETHERTYPE_PPPOE:
            return decode_pppoe(d, p, off);
        default:
            return MW_DEC_NON_IP; /* ARP, LLDP, 802.3 lengths, ... */
    }
}
