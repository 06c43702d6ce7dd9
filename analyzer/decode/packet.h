/*
 * packet.h - a decoded packet: what each layer found, as offsets into the
 * captured frame so the record can be copied to another thread together
 * with the frame bytes. Decoders fill it; the engine and flow code read it.
 */
#ifndef MW_PACKET_H
#define MW_PACKET_H

#include <stdint.h>

#define MW_MAX_VLAN 2 /* ids kept; deeper tags are still walked */

/* One IP layer and the transport header above it. */
typedef struct mw_l3 {
    uint8_t ip_version; /* 4 or 6, 0 when absent */
    uint8_t l4_proto;   /* final protocol after IPv6 extension headers */
    uint8_t frag;       /* MW_FRAG_* */
    uint8_t tcp_flags;
    uint8_t handshake;        /* MW_HS_*: what this packet says about who opened the flow */
    uint8_t refusal;          /* MW_REFUSAL_*: the packet refuses the other side's */
    uint8_t l4_cut;           /* a first fragment with the ports but not the whole transport
                               * header (RFC 1858's tiny fragments): no flags, nothing for nDPI */
    uint8_t src[16], dst[16]; /* IPv6 or IPv4-mapped IPv6 */
    uint16_t sport, dport;    /* 0 when the protocol has no ports */
    uint32_t l3_off;          /* offset of the IP header in the frame */
    uint32_t l3_len;          /* captured bytes of the IP packet (<= IP total length) */
    uint32_t ip_len;          /* IP total length from the header */
    uint32_t l4_off;          /* offset of the transport header, 0 when none */
    uint32_t payload_off;     /* offset of the transport payload */
    uint32_t payload_len;     /* captured payload bytes */
    uint32_t sctp_ppid;       /* PPID of the first SCTP DATA chunk, 0 when none */
    uint32_t frag_id;         /* IPv4 identification / IPv6 fragment id, when frag != NONE */
} mw_l3_t;

enum { MW_FRAG_NONE = 0, MW_FRAG_FIRST = 1, MW_FRAG_LATER = 2 };

/*
 * A packet that refuses what the other side sent: a TCP RST or an SCTP ABORT, or an
 * ICMP destination unreachable standing in for the flow it quotes - the layer then has
 * that flow's protocol, addresses and ports, as its answer, and no payload (nDPI never
 * sees it: the bytes are ICMP's).
 */
enum { MW_REFUSAL_NONE = 0, MW_REFUSAL_RESET = 1, MW_REFUSAL_ICMP = 2 };

/*
 * Who opened a flow, as the packet's own protocol says: the opener's packet
 * (TCP SYN, SCTP INIT, ICMP echo request) or the answer to it (SYN-ACK,
 * INIT-ACK, echo reply), whose receiver is the opener.
 */
enum { MW_HS_NONE = 0, MW_HS_OPEN = 1, MW_HS_ACCEPT = 2 };

/* Which side of a packet listens, where something other than the packet says so (an FTP
 * control session's announcement of a data connection). */
enum { MW_LISTENER_NONE = 0, MW_LISTENER_DST = 1, MW_LISTENER_SRC = 2 };

/*
 * An encapsulation that delivers whole frames captured elsewhere (a remote SPAN session,
 * an overlay): the decoder strips it and decodes the frame it carries as if captured
 * there; encap_l3_off keeps where its outer IP header was (decode_encap.c).
 */
enum mw_encap {
    MW_ENCAP_NONE = 0,
    MW_ENCAP_ERSPAN = 1,  /* GRE 0x88BE (type I and II) or 0x22EB (type III) */
    MW_ENCAP_GRE_TEB = 2, /* GRE 0x6558, transparent Ethernet bridging */
    MW_ENCAP_VXLAN = 3,   /* UDP 4789 */
    MW_ENCAP_GENEVE = 4,  /* UDP 6081 */
    MW_ENCAP_COUNT
};

typedef struct mw_packet {
    int64_t ts_us;
    uint64_t frame; /* 1-based frame number across all inputs */
    uint32_t caplen, wirelen;
    uint16_t vlan[MW_MAX_VLAN];
    uint8_t vlan_count;
    uint8_t vlan_untracked; /* set by the reader: the flow key leaves the VLAN id out */
    uint8_t mpls_count;
    uint8_t encap;       /* enum mw_encap: the L2 encapsulation stripped off the frame */
    uint32_t mpls_label; /* top (first) label */
    uint8_t has_ip;      /* outer is valid */
    uint8_t has_gtp;     /* GTP-U G-PDU with a decoded inner IP packet */
    uint8_t has_ipip;    /* IP-in-IP (protocol 4 or 41) or GRE with a decoded inner IP packet */
    uint8_t gtp_type;    /* GTP message type (255 = G-PDU), 0 when not GTP */
    uint8_t gtp_version; /* 1 (GTPv1-U/C) or 2 (GTPv2-C) */
    uint16_t frames;     /* set by the reader: the fragment frames of a datagram it put
                          * back together; 0 for a packet read as one frame */
    uint32_t teid;
    uint8_t soft_event; /* a counted, non-fatal event (bad GTP inside good UDP), else 0 */
    uint8_t ftp_data;   /* set by the reader: MW_LISTENER_* of an announced FTP data connection */
    uint16_t encap_l3_off; /* encap: offset of the delivery's IP header (its two ends) */
    mw_l3_t outer;         /* the first IP layer */
    mw_l3_t inner;         /* the IP packet inside GTP-U or IP-in-IP, when has_gtp/has_ipip */
} mw_packet_t;

/* Does the packet carry a decoded inner IP packet (its flow is an inner flow)? */
static inline int mw_packet_has_inner(const mw_packet_t *p)
{
    return p->has_gtp || p->has_ipip;
}

/* Frames on the wire the packet stands for: a reassembled datagram is all its fragments. */
static inline uint32_t mw_packet_frames(const mw_packet_t *p)
{
    return p->frames ? p->frames : 1u;
}

/* The IP layer that flows and nDPI look at: the inner one in a tunnel. */
static inline const mw_l3_t *mw_packet_flow_l3(const mw_packet_t *p)
{
    return mw_packet_has_inner(p) ? &p->inner : &p->outer;
}

#endif
