/*
 * decode.h - turns a captured frame into an mw_packet_t.
 *
 * Every decoder has the same shape: (ctx, packet, frame, offset, length)
 * and returns MW_DEC_OK or an event. An event is not an error for the run:
 * it is counted by reason in mw_decode_stats_t and the packet is skipped or
 * kept as far as it decoded. Nothing here allocates or keeps state between
 * packets, so one decode context per thread is enough.
 */
#ifndef MW_DECODE_H
#define MW_DECODE_H

#include <stdint.h>

#include "core/mw.h"
#include "decode/packet.h"

/* X-macro: the name column is what /stats and the summary print. */
#define MW_DECODE_EVENTS(X)                                                                        \
    X(OK, "ok")                                                                                    \
    X(LINKTYPE_UNSUPPORTED, "linktype_unsupported")                                                \
    X(NON_IP, "non_ip")                                                                            \
    X(L2_TRUNCATED, "l2_truncated")                                                                \
    X(VLAN_TRUNCATED, "vlan_truncated")                                                            \
    X(MPLS_TRUNCATED, "mpls_truncated")                                                            \
    X(TOO_DEEP, "encapsulation_too_deep")                                                          \
    X(IPV4_TRUNCATED, "ipv4_truncated")                                                            \
    X(IPV4_BAD_HEADER, "ipv4_bad_header")                                                          \
    X(IPV4_BAD_LENGTH, "ipv4_bad_length")                                                          \
    X(IPV6_TRUNCATED, "ipv6_truncated")                                                            \
    X(IPV6_BAD_HEADER, "ipv6_bad_header")                                                          \
    X(IPV6_EXT_TRUNCATED, "ipv6_ext_truncated")                                                    \
    X(IPV6_V4MAPPED, "ipv6_v4mapped_address")                                                      \
    X(IP_FRAGMENT_LATER, "ip_fragment_not_first")                                                  \
    X(TCP_TRUNCATED, "tcp_truncated")                                                              \
    X(TCP_BAD_HEADER, "tcp_bad_header")                                                            \
    X(UDP_TRUNCATED, "udp_truncated")                                                              \
    X(UDP_BAD_LENGTH, "udp_bad_length")                                                            \
    X(SCTP_TRUNCATED, "sctp_truncated")                                                            \
    X(ICMP_TRUNCATED, "icmp_truncated")                                                            \
    X(GTP_TRUNCATED, "gtp_truncated")                                                              \
    X(GTP_BAD_HEADER, "gtp_bad_header")                                                            \
    X(GTP_INNER_NOT_IP, "gtp_inner_not_ip")                                                        \
    X(GRE_TRUNCATED, "gre_truncated")                                                              \
    X(GRE_UNSUPPORTED, "gre_unsupported_header")                                                   \
    X(ENCAP_TRUNCATED, "encap_truncated")

enum mw_decode_event {
#define MW_DEC_ENUM(id, name) MW_DEC_##id,
    MW_DECODE_EVENTS(MW_DEC_ENUM)
#undef MW_DEC_ENUM
            MW_DEC_COUNT
};

/* Caps on nesting (Suricata's PacketIncreaseCheckLayers idea). */
#define MW_MAX_LAYERS   16 /* VLAN + MPLS + IP + tunnel headers in one frame */
#define MW_MAX_IPV6_EXT 8  /* extension headers walked per IPv6 header */

typedef struct mw_decode_stats {
    uint64_t events[MW_DEC_COUNT];
} mw_decode_stats_t;

/* Working state of one decode; lives on the caller's stack. */
typedef struct mw_decoder {
    const uint8_t *frame;
    uint32_t caplen;
    unsigned layers;   /* layers walked so far, capped by MW_MAX_LAYERS */
    unsigned ip_depth; /* IP headers seen (outer = 1, inner = 2) */
    unsigned flags;    /* MW_DECODE_* */
} mw_decoder_t;

/* Leave L2 encapsulations (ERSPAN, GRE-TEB, VXLAN, Geneve) on: the frame's own outer
 * headers are the packet (the reader's view of a base station's own delivery). */
#define MW_DECODE_KEEP_ENCAP 1u

const char *mw_decode_event_name(unsigned event);
/* "ERSPAN", "VXLAN", ... for enum mw_encap; "" for none. */
const char *mw_encap_name(unsigned encap);

/*
 * Decodes one frame of the given DLT. Fills *p (which the caller zeroes or
 * not: this function resets it). Returns MW_DEC_OK when the packet carries
 * an IP flow worth tracking, else the event that stopped it.
 */
int mw_decode_frame(int dlt, const uint8_t *frame, uint32_t caplen, mw_packet_t *p);
/* The same with MW_DECODE_* flags. */
int mw_decode_frame_flags(
        int dlt, const uint8_t *frame, uint32_t caplen, unsigned flags, mw_packet_t *p);

/* Layer decoders, one per file, all with the same signature. */
int mw__decode_ether(mw_decoder_t *d, mw_packet_t *p, uint32_t off);
int mw__decode_ethertype(mw_decoder_t *d, mw_packet_t *p, uint16_t ethertype, uint32_t off);
int mw__decode_vlan(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint16_t tpid);
int mw__decode_mpls(mw_decoder_t *d, mw_packet_t *p, uint32_t off);
int mw__decode_ip(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint32_t len);
int mw__decode_ipv4(mw_decoder_t *d, mw_packet_t *p, mw_l3_t *l3, uint32_t off, uint32_t len);
int mw__decode_ipv6(mw_decoder_t *d, mw_packet_t *p, mw_l3_t *l3, uint32_t off, uint32_t len);
int mw__decode_l4(mw_decoder_t *d, mw_packet_t *p, mw_l3_t *l3, uint32_t off, uint32_t len);
int mw__decode_tcp(mw_decoder_t *d, mw_l3_t *l3, uint32_t off, uint32_t len);
int mw__decode_udp(mw_decoder_t *d, mw_l3_t *l3, uint32_t off, uint32_t len);
int mw__decode_sctp(mw_decoder_t *d, mw_l3_t *l3, uint32_t off, uint32_t len);
int mw__decode_icmp(mw_decoder_t *d, mw_l3_t *l3, uint32_t off, uint32_t len);
int mw__decode_gtp(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint32_t len);
int mw__decode_gre(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint32_t len);
/* An IP packet inside an outer one's tunnel (IP-in-IP, GRE) into p->inner (decode_l4.c). */
int mw__decode_tunneled_ip(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint32_t len);
/* ERSPAN's own header at off (GRE protocol gre_proto, GRE sequence bit seq), then the
 * frame it carries (decode_encap.c). */
int mw__decode_erspan(
        mw_decoder_t *d, mw_packet_t *p, uint16_t gre_proto, int seq, uint32_t off, uint32_t len);
/* An Ethernet frame carried from off (GRE-TEB) as if captured (decode_encap.c). */
int mw__decode_carried_ether(mw_decoder_t *d, mw_packet_t *p, uint8_t encap, uint32_t off);
/* VXLAN or Geneve on an outer UDP flow's payload: MW_DEC_OK with p untouched when the
 * payload is not one (decode_encap.c). */
int mw__decode_udp_encap(mw_decoder_t *d, mw_packet_t *p, const mw_l3_t *udp);
/* A first fragment holding a transport header's ports but not the rest of it: 1 with the
 * ports and l4_cut set, 0 when not even the ports are there (decode_l4.c). */
int mw__decode_cut_ports(mw_decoder_t *d, mw_l3_t *l3, uint32_t off, uint32_t len);

/* Whether the IP header claims need bytes from off on where fewer were captured: the
 * snaplen cut a transport header (a header-only capture), not a lie of the packet. */
static inline int mw__cut_by_snaplen(const mw_l3_t *l3, uint32_t off, uint32_t need)
{
    return (uint64_t)l3->l3_off + l3->ip_len >= (uint64_t)off + need;
}

/* Big-endian reads; callers check bounds first. */
static inline uint16_t mw_get_be16(const uint8_t *b)
{
    return (uint16_t)((b[0] << 8) | b[1]);
}
static inline uint32_t mw_get_be32(const uint8_t *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* Bounds check used by every decoder: need n bytes at off within [0,end). */
#define MW_NEED(off, n, end) ((uint64_t)(off) + (uint64_t)(n) <= (uint64_t)(end))

#endif
