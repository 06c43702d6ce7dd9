/*
 * decode.c - entry point of the decoder: picks the link-layer decoder for
 * the capture's DLT and walks the layers below it.
 *
 * Link types: Ethernet, Linux SLL and SLL2, raw IPv4/IPv6, BSD null/loop,
 * PPP and Cisco HDLC (routers' serial links).
 * specification: https://www.tcpdump.org/linktypes.html, RFC 1662 (PPP in
 * HDLC-like framing)
 */
#include "decode/decode.h"

#include <pcap/dlt.h>
#include <string.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define MW_LINKTYPE_RAW 101 /* pcap files may carry the LINKTYPE value itself */

static const char *const event_names[] = {
#define MW_DEC_NAME(id, name) name,
    MW_DECODE_EVENTS(MW_DEC_NAME)
#undef MW_DEC_NAME
};

const char *mw_decode_event_name(unsigned event)
{
    return event < MW_DEC_COUNT ? event_names[event] : "invalid";
}

const char *mw_encap_name(unsigned encap)
{
    static const char *const names[MW_ENCAP_COUNT] = { "", "ERSPAN", "Ethernet in GRE", "VXLAN",
        "Geneve" };

    return encap < MW_ENCAP_COUNT ? names[encap] : "";
}

/* Linux cooked v1: 16-byte header, protocol type in the last two bytes. */
static int decode_sll(mw_decoder_t *d, mw_packet_t *p)
{
    if (!MW_NEED(0, 16, d->caplen))
        return MW_DEC_L2_TRUNCATED;
    return mw__decode_ethertype(d, p, mw_get_be16(d->frame + 14), 16);
}

/* Linux cooked v2: 20-byte header, protocol type first. */
static int decode_sll2(mw_decoder_t *d, mw_packet_t *p)
{
    if (!MW_NEED(0, 20, d->caplen))
        return MW_DEC_L2_TRUNCATED;
    return mw__decode_ethertype(d, p, mw_get_be16(d->frame), 20);
}

/* BSD null/loop: a 4-byte address family, host order for NULL, network for LOOP. */
static int decode_null(mw_decoder_t *d, mw_packet_t *p, int network_order)
{
    uint32_t family;

    if (!MW_NEED(0, 4, d->caplen))
        return MW_DEC_L2_TRUNCATED;
    if (network_order) {
        family = mw_get_be32(d->frame);
    } else {
        memcpy(&family, d->frame, 4);
        /* A capture from a host of the other byte order: families are small. */
        if (family > 0xffff)
            family = __builtin_bswap32(family);
    }
    switch (family) {
        case 2:  /* AF_INET everywhere */
        case 10: /* AF_INET6 Linux */
        case 24: /* AF_INET6 NetBSD/OpenBSD */
        case 28: /* AF_INET6 FreeBSD */
        case 30: /* AF_INET6 macOS */
            return mw__decode_ip(d, p, 4, d->caplen - 4);
        default:
            /* Some writers leave garbage here: trust an IP version nibble. */
            if (MW_NEED(4, 1, d->caplen) && ((d->frame[4] >> 4) == 4 || (d->frame[4] >> 4) == 6))
                return mw__decode_ip(d, p, 4, d->caplen - 4);
            return MW_DEC_NON_IP;
    }
}

/* PPP: optional address/control (FF 03), then a 2-byte protocol. */
static int decode_ppp(mw_decoder_t *d, mw_packet_t *p)
{
    uint32_t off = 0;
    uint16_t proto;

    if (MW_NEED(0, 2, d->caplen) && d->frame[0] == 0xff && d->frame[1] == 0x03)
        off = 2;
    if (!MW_NEED(off, 2, d->caplen))
        return MW_DEC_L2_TRUNCATED;
    proto = mw_get_be16(d->frame + off);
    if (proto == 0x0021 || proto == 0x0057)
        return mw__decode_ip(d, p, off + 2, d->caplen - off - 2);
    return MW_DEC_NON_IP;
}

/* Cisco HDLC: address, control, then an ethertype. */
static int decode_chdlc(mw_decoder_t *d, mw_packet_t *p)
{
    if (!MW_NEED(0, 4, d->caplen))
        return MW_DEC_L2_TRUNCATED;
    return mw__decode_ethertype(d, p, mw_get_be16(d->frame + 2), 4);
}

int mw_decode_frame(int dlt, const uint8_t *frame, uint32_t caplen, mw_packet_t *p)
{
    return mw_decode_frame_flags(dlt, frame, caplen, 0, p);
}

int mw_decode_frame_flags(
        int dlt, const uint8_t *frame, uint32_t caplen, unsigned flags, mw_packet_t *p)
{
    mw_decoder_t d = {
        .frame = frame, .caplen = caplen, .layers = 0, .ip_depth = 0, .flags = flags
    };
    int64_t ts = p->ts_us;
    uint64_t frame_no = p->frame;
    uint32_t wirelen = p->wirelen;

    memset(p, 0, sizeof(*p));
    p->ts_us = ts;
    p->frame = frame_no;
    p->wirelen = wirelen;
    p->caplen = caplen;

    switch (dlt) {
        case DLT_EN10MB:
            return mw__decode_ether(&d, p, 0);
        case DLT_LINUX_SLL:
            return decode_sll(&d, p);
        case DLT_LINUX_SLL2:
            return decode_sll2(&d, p);
        case DLT_RAW:
        case MW_LINKTYPE_RAW:
        case DLT_IPV4:
        case DLT_IPV6:
            return mw__decode_ip(&d, p, 0, caplen);
        case DLT_NULL:
            return decode_null(&d, p, 0);
        case DLT_LOOP:
            return decode_null(&d, p, 1);
        case DLT_PPP:
        case DLT_PPP_SERIAL:
            return decode_ppp(&d, p);
        case DLT_C_HDLC:
            return decode_chdlc(&d, p);
        default:
            return MW_DEC_LINKTYPE_UNSUPPORTED;
    }
}
