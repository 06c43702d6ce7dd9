/*
 * decode_udp.c - UDP header. The length field may claim more than was
 * captured (snaplen, first fragment): the payload is what is really there.
 * A length below the header size is a lie and an event.
 * A request/answer protocol tells who asked, as a TCP SYN does: NTP's mode
 * and DNS's QR bit mark the packet as the opener's or the answer, so a
 * capture that starts at an answer, or a SPAN port showing only answers,
 * still names the asking side. IKE's header says who set up the security
 * association (its initiator), where both ends use port 500.
 * specification: RFC 768, RFC 5905 (NTP), RFC 1035 (DNS), RFC 7296 (IKEv2),
 * RFC 2408 (ISAKMP, IKEv1), RFC 3948 (IKE and ESP on port 4500)
 */
#include "decode/decode.h"

#include <string.h>

#define UDP_HLEN     8
#define NTP_HLEN     48
#define DNS_HLEN     12
#define NTP_PORT     123
#define DNS_PORT     53
#define NTP_CLIENT   3 /* modes: a client asks, a server answers */
#define NTP_SERVER   4
#define NTP_SYM_ACT  1 /* symmetric active starts, passive answers */
#define NTP_SYM_PASS 2
#define IKE_PORT     500
#define IKE_NAT_PORT 4500
#define IKE_HLEN     28
#define IKE_SA_INIT  34 /* IKEv2 exchanges that only the SA's initiator starts */
#define IKE_AUTH     35
#define IKEV1_MAIN   2    /* IKEv1 Identity Protection (main mode) */
#define IKEV1_AGGR   4    /* IKEv1 Aggressive mode */
#define IKE_F_INIT   0x08 /* IKEv2 flags: sent by the SA's original initiator */
#define IKE_F_RESP   0x20 /* ... a response */

static int ike_port(uint16_t port)
{
    return port == IKE_PORT || port == IKE_NAT_PORT;
}

/* IKE's header: an IKEv2 IKE_SA_INIT or IKE_AUTH request comes from the initiator, its
 * response from the responder; an IKEv1 exchange's first message has no responder cookie
 * yet. Later exchanges are left alone: after a rekey the initiator may be the other end. */
static void ike_exchange(const uint8_t *pl, uint32_t have, mw_l3_t *l3)
{
    static const uint8_t no_spi[8] = { 0 };
    unsigned major, minor, exchange, flags;
    int request, first;

    if (l3->sport == IKE_NAT_PORT || l3->dport == IKE_NAT_PORT) {
        /* RFC 3948: IKE behind a non-ESP marker of four zero bytes, else ESP or a keepalive */
        if (have < 4 || mw_get_be32(pl) != 0)
            return;
        pl += 4;
        have -= 4;
    }
    if (have < IKE_HLEN || mw_get_be32(pl + 24) < IKE_HLEN)
        return;
    major = pl[17] >> 4;
    minor = pl[17] & 0x0f;
    exchange = pl[18];
    flags = pl[19];
    first = memcmp(pl + 8, no_spi, 8) == 0 && mw_get_be32(pl + 20) == 0;
    if (major == 2 && minor == 0 && (exchange == IKE_SA_INIT || exchange == IKE_AUTH)) {
        request = (flags & (IKE_F_INIT | IKE_F_RESP)) == IKE_F_INIT;
        if (!request && (flags & (IKE_F_INIT | IKE_F_RESP)) != IKE_F_RESP)
            return; /* both or neither: not a header these exchanges carry */
        if (request && exchange == IKE_SA_INIT && !first)
            return;
    } else if (major == 1 && (exchange == IKEV1_MAIN || exchange == IKEV1_AGGR) && first) {
        request = 1;
    } else {
        return;
    }
    if (request && ike_port(l3->dport))
        l3->handshake = MW_HS_OPEN;
    else if (!request && ike_port(l3->sport))
        l3->handshake = MW_HS_ACCEPT;
}

/* What the payload says of the exchange; only a packet that goes to (asks) or comes
 * from (answers) the protocol's port counts. */
static void udp_exchange(mw_decoder_t *d, mw_l3_t *l3)
{
    const uint8_t *pl = d->frame + l3->payload_off;
    uint32_t have = l3->payload_len; /* captured bytes: the IP layer bounds its length */

    if ((l3->sport == NTP_PORT || l3->dport == NTP_PORT) && have >= NTP_HLEN) {
        unsigned version = (pl[0] >> 3) & 7, mode = pl[0] & 7;
        if (version < 1 || version > 4)
            return;
        if ((mode == NTP_CLIENT || mode == NTP_SYM_ACT) && l3->dport == NTP_PORT)
            l3->handshake = MW_HS_OPEN;
        else if ((mode == NTP_SERVER || mode == NTP_SYM_PASS) && l3->sport == NTP_PORT)
            l3->handshake = MW_HS_ACCEPT;
    } else if ((l3->sport == DNS_PORT) != (l3->dport == DNS_PORT) && have >= DNS_HLEN) {
        unsigned qdcount = mw_get_be16(pl + 4), answer = (pl[2] & 0x80) != 0;
        if (qdcount != 1 || ((pl[2] >> 3) & 0xf) > 5) /* one question, a known opcode */
            return;
        if (!answer && l3->dport == DNS_PORT)
            l3->handshake = MW_HS_OPEN;
        else if (answer && l3->sport == DNS_PORT)
            l3->handshake = MW_HS_ACCEPT;
    } else if (ike_port(l3->sport) || ike_port(l3->dport)) {
        ike_exchange(pl, have, l3);
    }
}

int mw__decode_udp(mw_decoder_t *d, mw_l3_t *l3, uint32_t off, uint32_t len)
{
    const uint8_t *h = d->frame + off;
    uint32_t ulen;

    if (len < UDP_HLEN && mw__cut_by_snaplen(l3, off, UDP_HLEN)) /* header-only capture */
        return mw__decode_cut_ports(d, l3, off, len) ? MW_DEC_OK : MW_DEC_UDP_TRUNCATED;
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
    udp_exchange(d, l3);
    return MW_DEC_OK;
}
