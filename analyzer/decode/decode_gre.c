/*
 * decode_gre.c - GRE (IP protocol 47) on the outer IP header. What GRE carries decides
 * what it is:
 * - an IP packet (also PPP carrying IP: PPTP's enhanced GRE; or behind Cisco MetaData's
 *   group tag) makes a routed tunnel, as
 *   IP-in-IP does: the outer header stays the tunnel record and the inner packet is the
 *   flow (decode_l4.c);
 * - ERSPAN or a bridged Ethernet frame delivers traffic captured elsewhere: the frame is
 *   decoded as if captured there (decode_encap.c);
 * - anything else (keepalives, MPLS, PPP control) leaves the tunnel record alone.
 * A header that is cut or not understood keeps the tunnel record, as a soft event.
 * specification: RFC 2784 and RFC 2890 (GRE, key and sequence), RFC 1701 (flags),
 * RFC 2637 section 4.1 (enhanced GRE, version 1), RFC 1661 (PPP protocol field)
 */
#include "decode/decode.h"

#define GRE_HLEN      4
#define GRE_CHECKSUM  0x8000 /* checksum (and offset: RFC 1701) present */
#define GRE_ROUTING   0x4000 /* RFC 1701 source routing: not decoded */
#define GRE_KEY       0x2000
#define GRE_SEQ       0x1000
#define GRE_ACK       0x0080 /* version 1 only */
#define GRE_VERSION   0x0007
#define GRE_PROTO_PPP 0x880b

#define ETHERTYPE_IPV4    0x0800
#define ETHERTYPE_IPV6    0x86dd
#define ETHERTYPE_TEB     0x6558
#define ETHERTYPE_ERSPAN  0x88be
#define ETHERTYPE_ERSPAN3 0x22eb
#define ETHERTYPE_CMD     0x8909 /* Cisco MetaData (TrustSec group tags) */
#define CMD_HLEN          4

static int soft(mw_packet_t *p, int event)
{
    if (p->soft_event == 0)
        p->soft_event = (uint8_t)event;
    return MW_DEC_OK;
}

/* PPP in enhanced GRE: address and control may be left out, and so may the protocol
 * field's first byte (an odd first byte is the whole field). */
static int decode_ppp(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint32_t end)
{
    uint16_t proto;

    if (MW_NEED(off, 2, end) && d->frame[off] == 0xff && d->frame[off + 1] == 0x03)
        off += 2;
    if (!MW_NEED(off, 1, end))
        return soft(p, MW_DEC_GRE_TRUNCATED);
    if (d->frame[off] & 1) {
        proto = d->frame[off];
        off += 1;
    } else {
        if (!MW_NEED(off, 2, end))
            return soft(p, MW_DEC_GRE_TRUNCATED);
        proto = mw_get_be16(d->frame + off);
        off += 2;
    }
    if (proto == 0x0021 || proto == 0x0057)
        return mw__decode_tunneled_ip(d, p, off, end - off);
    return MW_DEC_OK; /* LCP, CCP, compressed data: the tunnel record only */
}

/* Cisco MetaData in GRE: the payload's ethertype, version, length of the options in
 * 4-byte words, the options (the group tag); then the payload. */
static int decode_cmd(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint32_t end)
{
    uint32_t pos;
    uint16_t proto;

    if (!MW_NEED(off, CMD_HLEN, end))
        return soft(p, MW_DEC_GRE_TRUNCATED);
    proto = mw_get_be16(d->frame + off);
    pos = off + CMD_HLEN + (uint32_t)d->frame[off + 3] * 4;
    if (!MW_NEED(pos, 0, end))
        return soft(p, MW_DEC_GRE_TRUNCATED);
    if ((proto == ETHERTYPE_IPV4 || proto == ETHERTYPE_IPV6) && pos < end)
        return mw__decode_tunneled_ip(d, p, pos, end - pos);
    return MW_DEC_OK;
}

int mw__decode_gre(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint32_t len)
{
    uint32_t end = off + len, pos = off + GRE_HLEN;
    uint16_t flags, proto;

    if (++d->layers > MW_MAX_LAYERS)
        return soft(p, MW_DEC_TOO_DEEP);
    if (end > d->caplen)
        end = d->caplen;
    if (!MW_NEED(off, GRE_HLEN, end))
        return soft(p, MW_DEC_GRE_TRUNCATED);
    flags = mw_get_be16(d->frame + off);
    proto = mw_get_be16(d->frame + off + 2);
    if ((flags & GRE_VERSION) == 0) {
        if (flags & GRE_ROUTING)
            return soft(p, MW_DEC_GRE_UNSUPPORTED);
        pos += (flags & GRE_CHECKSUM ? 4u : 0u) + (flags & GRE_KEY ? 4u : 0u) +
               (flags & GRE_SEQ ? 4u : 0u);
    } else if ((flags & GRE_VERSION) == 1) {
        /* enhanced GRE always has the key (payload length, call id) and carries PPP */
        if (proto != GRE_PROTO_PPP || !(flags & GRE_KEY) || (flags & (GRE_CHECKSUM | GRE_ROUTING)))
            return soft(p, MW_DEC_GRE_UNSUPPORTED);
        pos += 4u + (flags & GRE_SEQ ? 4u : 0u) + (flags & GRE_ACK ? 4u : 0u);
    } else {
        return soft(p, MW_DEC_GRE_UNSUPPORTED);
    }
    if (!MW_NEED(pos, 0, end))
        return soft(p, MW_DEC_GRE_TRUNCATED);
    switch (proto) {
        case ETHERTYPE_IPV4:
        case ETHERTYPE_IPV6:
            return pos < end ? mw__decode_tunneled_ip(d, p, pos, end - pos) : MW_DEC_OK;
        case GRE_PROTO_PPP:
            return (flags & GRE_VERSION) == 1 && pos < end ? decode_ppp(d, p, pos, end) : MW_DEC_OK;
        case ETHERTYPE_ERSPAN:
        case ETHERTYPE_ERSPAN3:
            return mw__decode_erspan(d, p, proto, (flags & GRE_SEQ) != 0, pos, end - pos);
        case ETHERTYPE_TEB:
            return mw__decode_carried_ether(d, p, MW_ENCAP_GRE_TEB, pos);
        case ETHERTYPE_CMD:
            return decode_cmd(d, p, pos, end);
        default:
            return MW_DEC_OK; /* keepalives, MPLS, ...: the tunnel record only */
    }
}
