/*
 * decode_icmp.c - ICMP and ICMPv6: only the 4-byte type/code/checksum head
 * is required. ICMP flows are keyed on addresses alone (ports 0), as
 * nDPI's reader does.
 *
 * A destination unreachable that quotes a TCP, UDP or SCTP packet is the
 * answer to that packet's flow, not a flow of its own: a UDP scan answered
 * with port unreachables would otherwise be the scanned host "sending" a
 * stream of ICMP to the scanner. The layer then stands for the quoted
 * flow's answer (its addresses and ports swapped, no payload) with
 * `refusal` set. Path MTU messages (fragmentation needed, packet too big)
 * refuse nothing and stay ICMP.
 * specification: RFC 792, RFC 4443, RFC 1812 5.2.7.1 (the codes)
 */
#include "decode/decode.h"

#include <string.h>

#include "core/addr.h"

#define ICMP_HLEN         4
#define ICMP_ERROR_HLEN   8 /* type, code, checksum, 4 unused (or MTU) bytes */
#define ICMP4_UNREACHABLE 3
#define ICMP4_FRAG_NEEDED 4 /* the code: path MTU discovery */
#define ICMP6_UNREACHABLE 1
#define QUOTED_PORTS_LEN  4 /* TCP, UDP and SCTP all begin with the two ports */
#define QUOTED_IPV4_MIN   20
#define QUOTED_IPV6_HLEN  40
#define ICMP4_ERROR_MAX   576  /* RFC 1812 4.3.2.3: an error's whole IP packet at most */
#define ICMP6_ERROR_MAX   1280 /* RFC 4443 2.4 (c) */
#define GTPU_PORT         2152

static int quotable(uint8_t proto)
{
    return proto == 6 || proto == 17 || proto == 132;
}

/*
 * The quoted packet's header at q (bounded by end): 1 with its protocol, addresses and
 * ports; 0 when it is not a whole first packet of a TCP, UDP or SCTP flow (a later
 * fragment, an IPv6 extension header, cut short).
 */
static int read_quoted(const uint8_t *frame, uint32_t q, uint32_t end, int v6, uint8_t *proto,
        uint8_t src[16], uint8_t dst[16], uint16_t *sport, uint16_t *dport)
{
    const uint8_t *h = frame + q;
    uint32_t hlen;

    if (v6) {
        if (!MW_NEED(q, QUOTED_IPV6_HLEN + QUOTED_PORTS_LEN, end) || (h[0] >> 4) != 6)
            return 0;
        *proto = h[6];
        memcpy(src, h + 8, 16);
        memcpy(dst, h + 24, 16);
        hlen = QUOTED_IPV6_HLEN;
    } else {
        if (!MW_NEED(q, QUOTED_IPV4_MIN, end) || (h[0] >> 4) != 4)
            return 0;
        hlen = (uint32_t)(h[0] & 0x0f) * 4;
        if (hlen < QUOTED_IPV4_MIN || !MW_NEED(q, hlen + QUOTED_PORTS_LEN, end) ||
                (mw_get_be16(h + 6) & 0x1fff) != 0)
            return 0;
        *proto = h[9];
        mw_addr_map_v4(src, h + 12);
        mw_addr_map_v4(dst, h + 16);
    }
    if (!quotable(*proto))
        return 0;
    *sport = mw_get_be16(h + hlen);
    *dport = mw_get_be16(h + hlen + 2);
    /* a GTP-U path's error belongs to its tunnel, which is keyed apart: it stays ICMP */
    return !(*proto == 17 && (*sport == GTPU_PORT || *dport == GTPU_PORT));
}

/* A destination unreachable quoting a packet that l3's receiver sent: l3 becomes that
 * flow's answer. Anything else stays an ICMP packet. */
static void stand_for_quoted(mw_decoder_t *d, mw_l3_t *l3, uint32_t off, uint32_t len)
{
    const uint8_t *h = d->frame + off;
    int v6 = l3->l4_proto == 58;
    uint8_t proto, src[16], dst[16];
    uint16_t sport, dport;
    uint32_t end = off + MW_MIN(len, d->caplen - off);

    if (v6 ? h[0] != ICMP6_UNREACHABLE : h[0] != ICMP4_UNREACHABLE || h[1] == ICMP4_FRAG_NEEDED)
        return;
    /* larger than any error may be, or fragmented: not an error's, whatever it quotes (its
     * bytes stay ICMP's, counted as sent) */
    if (l3->ip_len > (v6 ? ICMP6_ERROR_MAX : ICMP4_ERROR_MAX) || l3->frag != MW_FRAG_NONE)
        return;
    if (!read_quoted(d->frame, off + ICMP_ERROR_HLEN, end, v6, &proto, src, dst, &sport, &dport))
        return;
    /* the error goes back to the quoted packet's sender; one that does not is no answer of
     * a flow seen here (a forged quote, an address rewritten on the way) */
    if (memcmp(src, l3->dst, 16) != 0)
        return;
    memcpy(l3->src, dst, 16); /* a router on the way may have sent it: it answers for dst */
    l3->l4_proto = proto;
    l3->sport = dport;
    l3->dport = sport;
    l3->handshake = MW_HS_NONE;
    l3->refusal = MW_REFUSAL_ICMP;
    l3->payload_off = off + len; /* the quoted bytes are not the flow's payload */
    l3->payload_len = 0;
}

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
    stand_for_quoted(d, l3, off, len);
    return MW_DEC_OK;
}
