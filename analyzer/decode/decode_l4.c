/*
 * decode_l4.c - dispatches the payload of an IP header to its transport
 * decoder. Protocols without a decoder here (ESP, OSPF, ...) still
 * form flows on addresses and protocol number, with ports 0.
 *
 * IP-in-IP (4, 6in4 = 41) and GRE carrying IP (47, decode_gre.c) are handled like
 * GTP-U: the outer header stays the tunnel (who tunnels to whom is what a backhaul
 * watcher must see, and dropping it hid the tunnel endpoints), the inner header goes to
 * p->inner and stands for the inner flow. A broken inner packet keeps the tunnel and is a
 * soft event. The inner IP packet is the second and last IP level, so GTP-U inside
 * IP-in-IP is an inner UDP flow, not unpacked again.
 * specification: RFC 2003 (IPIP), RFC 4213 (6in4)
 */
#include "decode/decode.h"

#include <string.h>

int mw__decode_tunneled_ip(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint32_t len)
{
    int rc;

    if (++d->layers > MW_MAX_LAYERS)
        rc = MW_DEC_TOO_DEEP;
    else
        rc = mw__decode_ip(d, p, off, len);
    if (rc == MW_DEC_OK || rc == MW_DEC_IP_FRAGMENT_LATER) {
        p->has_ipip = 1; /* a later inner fragment: p->inner.frag says so */
        return MW_DEC_OK;
    }
    /* keep the tunnel flow; the inner packet is counted by reason */
    memset(&p->inner, 0, sizeof(p->inner));
    p->soft_event = (uint8_t)rc;
    return MW_DEC_OK;
}

/* RFC 1858's tiny fragments put a TCP header's flags in the second fragment, where no
 * ports are; nothing is reassembled here, so the first fragment's ports name the flow and
 * the later fragments join it by IP identification (frag_table.c). */
int mw__decode_cut_ports(mw_decoder_t *d, mw_l3_t *l3, uint32_t off, uint32_t len)
{
    if (len < 4 || !MW_NEED(off, 4, d->caplen))
        return 0;
    l3->sport = mw_get_be16(d->frame + off);
    l3->dport = mw_get_be16(d->frame + off + 2);
    l3->l4_off = off;
    l3->payload_off = off + len;
    l3->payload_len = 0;
    l3->l4_cut = 1;
    return 1;
}

/* A transport header the snaplen cut after its ports (a header-only capture: -s 64 with
 * IPv6, -s 96 with GTP-U): the packet still counts in its flow, as a soft event. */
static int snaplen_cut(mw_packet_t *p, const mw_l3_t *l3, int rc, int event)
{
    if (rc == MW_DEC_OK && l3->l4_cut && l3->frag != MW_FRAG_FIRST && p->soft_event == 0)
        p->soft_event = (uint8_t)event;
    return rc;
}

/* A protocol with no transport header here: its payload starts right after the IP header. */
static void no_transport_header(mw_l3_t *l3, uint32_t off, uint32_t len)
{
    l3->l4_off = 0;
    l3->payload_off = off;
    l3->payload_len = len;
}

int mw__decode_l4(mw_decoder_t *d, mw_packet_t *p, mw_l3_t *l3, uint32_t off, uint32_t len)
{
    int rc;

    switch (l3->l4_proto) {
        case 6:
            return snaplen_cut(p, l3, mw__decode_tcp(d, l3, off, len), MW_DEC_TCP_TRUNCATED);
        case 17:
            rc = snaplen_cut(p, l3, mw__decode_udp(d, l3, off, len), MW_DEC_UDP_TRUNCATED);
            if (rc == MW_DEC_OK && l3 == &p->outer && !l3->l4_cut &&
                    (l3->sport == 2152 || l3->dport == 2152 || l3->sport == 2123 ||
                            l3->dport == 2123))
                return mw__decode_gtp(d, p, l3->payload_off, l3->payload_len);
            if (rc == MW_DEC_OK && (l3->dport == 4789 || l3->dport == 6081))
                return mw__decode_udp_encap(d, p, l3);
            return rc;
        case 4:
        case 41:
            if (l3 == &p->outer) {
                no_transport_header(l3, off, len);
                return mw__decode_tunneled_ip(d, p, off, len);
            }
            break;
        case 47:
            if (l3 == &p->outer && l3->frag == MW_FRAG_NONE) {
                no_transport_header(l3, off, len);
                return mw__decode_gre(d, p, off, len);
            }
            break;
        case 132:
            return snaplen_cut(p, l3, mw__decode_sctp(d, l3, off, len), MW_DEC_SCTP_TRUNCATED);
        case 1:
        case 58:
            return mw__decode_icmp(d, l3, off, len);
        default:
            break;
    }
    no_transport_header(l3, off, len);
    return MW_DEC_OK;
}
