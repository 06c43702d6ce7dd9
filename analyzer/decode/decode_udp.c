/*
 * decode_udp.c - UDP header. The length field may claim more than was
 * captured (snaplen, first fragment): the payload is what is really there.
 * A length below the header size is a lie and an event.
 * A request/answer protocol tells who asked, as a TCP SYN does: NTP's mode
 * and DNS's QR bit mark the packet as the opener's or the answer, so a
 * capture that starts at an answer, or a SPAN port showing only answers,
 * still names the asking side.
 * specification: RFC 768, RFC 5905 (NTP), RFC 1035 (DNS)
 */
#include "decode/decode.h"

#define UDP_HLEN     8
#define NTP_HLEN     48
#define DNS_HLEN     12
#define NTP_PORT     123
#define DNS_PORT     53
#define NTP_CLIENT   3 /* modes: a client asks, a server answers */
#define NTP_SERVER   4
#define NTP_SYM_ACT  1 /* symmetric active starts, passive answers */
#define NTP_SYM_PASS 2

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
    }
}

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
    udp_exchange(d, l3);
    return MW_DEC_OK;
}
