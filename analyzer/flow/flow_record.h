/*
 * flow_record.h - the flow record as it is written to /flows in HDF5.
 *
 * This struct IS the on-disk row: h5_writer.c describes it member by member
 * with HOFFSET so the file type matches memory exactly (no conversion on
 * write). Members are scalars only, so pandas.DataFrame(ds[:]) works.
 * Changing it means bumping MW_SCHEMA_VERSION and docs/SCHEMA.md.
 *
 * Addresses are IPv6 or IPv4-mapped IPv6 (::ffff:a.b.c.d) split into two
 * big-endian halves stored as uint64 (hi = bytes 0..7, lo = bytes 8..15).
 * "src" is the initiator: who opened the flow, from the handshake (TCP SYN /
 * SYN-ACK, SCTP INIT / INIT-ACK, ICMP echo) when it was seen, else from the
 * well-known listening port (classify/orient.c), else the sender of the
 * first packet seen; `orient` says which, `start_seen` whether the record
 * begins with the flow's real opening.
 */
#ifndef MW_FLOW_RECORD_H
#define MW_FLOW_RECORD_H

#include <stdint.h>

#define MW_SCHEMA_VERSION 7
#define MW_HOST_LEN       256 /* a DNS name has at most 253 characters */
/* A refusal or a bare probe on the wire, at most: Ethernet with a VLAN tag, IPv6 and an
 * ICMPv6 error quoting an IPv6 header and 8 bytes is 118. What a refusing side sends
 * beyond this per packet counts as data sent (an error quoting a whole upload, a forged
 * one carrying it). */
#define MW_BARE_PACKET_BYTES 128

/* What kind of flow a record is (GTP-U, IP-in-IP and GRE yield two linked records). */
enum mw_flow_kind {
    MW_FLOW_PLAIN = 0,  /* an ordinary IP flow (inside IP-in-IP or GRE: tunnel_flow_id set) */
    MW_FLOW_TUNNEL = 1, /* the outer GTP-U tunnel (eNB/gNB - SGW/UPF), IP-in-IP or GRE tunnel */
    MW_FLOW_INNER = 2,  /* a subscriber flow carried inside a GTP-U tunnel */
};

/* Why a record was emitted. */
enum mw_end_reason {
    MW_END_IDLE = 0,      /* no packet for idle_timeout */
    MW_END_ACTIVE = 1,    /* active_timeout reached: flow continues in a new record */
    MW_END_EVICTED = 2,   /* flow table full: least recently used flow pushed out */
    MW_END_EOF = 3,       /* end of the input */
    MW_END_SHUTDOWN = 4,  /* stopped by a signal or a packet/duration limit */
    MW_END_TCP_CLOSE = 5, /* FIN seen both ways or RST, and then idle briefly */
};

/* How a record's src (the initiator) was decided, weakest last. */
enum mw_orient {
    MW_ORIENT_FIRST_PACKET = 0, /* the sender of the first packet seen: a guess */
    MW_ORIENT_HANDSHAKE = 1,    /* SYN / SYN-ACK, INIT / INIT-ACK, echo request / reply */
    MW_ORIENT_PORT = 2,         /* the side on a well-known service port listens */
    MW_ORIENT_COUNT
};

/* Which side of an inner (GTP-U) record is the subscriber behind the base station. */
enum mw_subscriber_side { MW_SUB_NONE = 0, MW_SUB_SRC = 1, MW_SUB_DST = 2 };
enum mw_flow_side { MW_SIDE_NONE = 0, MW_SIDE_SRC = 1, MW_SIDE_DST = 2 };

typedef struct mw_dir_stats {
    uint64_t packets;
    uint64_t bytes;                            /* wire bytes (inner IP bytes for MW_FLOW_INNER) */
    float len_min, len_mean, len_std, len_max; /* packet length, bytes */
    float iat_min, iat_mean, iat_std, iat_max; /* inter-arrival, milliseconds */
    uint8_t tcp_flags;                         /* OR of all TCP flags seen in this direction */
    uint8_t pad_[7];
} mw_dir_stats_t;

typedef struct mw_flow_record {
    uint64_t flow_id;             /* 2 * frame number of the first packet (+1 for inner flows) */
    uint64_t tunnel_flow_id;      /* carried flows: flow_id of the carrying tunnel, else 0 */
    uint64_t last_tunnel_flow_id; /* carried flows: flow_id of the last tunnel to join, else 0 */
    int64_t first_us;             /* first packet, microseconds since the Unix epoch */
    int64_t last_us;              /* last packet */
    uint64_t src_hi, src_lo;      /* initiator address */
    uint64_t dst_hi, dst_lo;      /* responder address */
    uint16_t src_port, dst_port;
    uint8_t ip_version;              /* 4 or 6 */
    uint8_t l4_proto;                /* IANA protocol number (6 TCP, 17 UDP, 132 SCTP, 1/58 ICMP) */
    uint8_t kind;                    /* enum mw_flow_kind */
    uint8_t end_reason;              /* enum mw_end_reason */
    uint16_t vlan_outer, vlan_inner; /* 802.1Q ids, 0 when untagged */
    uint32_t mpls_label;             /* top MPLS label, 0 when none */
    uint32_t teid_c2s;               /* GTP-U TEID seen initiator->responder (tunnel and inner) */
    uint32_t teid_s2c;               /* GTP-U TEID seen responder->initiator */
    uint32_t sctp_ppid;    /* first SCTP DATA payload protocol id (18 = S1AP, 60 = NGAP) */
    mw_dir_stats_t c2s;    /* initiator -> responder */
    mw_dir_stats_t s2c;    /* responder -> initiator */
    uint16_t master_proto; /* nDPI ids: look up names in /meta/protocols */
    uint16_t app_proto;
    uint16_t category;  /* nDPI category id: /meta/categories */
    uint8_t confidence; /* nDPI confidence (0 unknown .. DPI) */
    uint8_t ndpi_done;  /* 1 when nDPI finished, 0 when it gave up */
    uint64_t risk;      /* nDPI risk bitmap: bit i = /meta/risks id i */
    /* Site inventory and plane (issue 3); 0 = unknown/not assigned. */
    uint16_t bs_index;      /* 1-based index into /meta/base_stations, 0 none */
    uint8_t plane;          /* enum mw_plane */
    uint8_t local_role;     /* enum mw_role of the base-station side (or src) */
    uint8_t peer_role;      /* enum mw_role of the other side */
    uint8_t initiator;      /* enum mw_initiator: who opened the flow */
    uint16_t service;       /* enum mw_service: telecom protocol named from ports/PPID */
    uint8_t start_seen;     /* 1: the record begins with the flow's opening (a real start) */
    uint8_t orient;         /* enum mw_orient: how src/dst were decided */
    uint8_t continued;      /* 1: continues a record cut by the active timeout */
    uint8_t subscriber;     /* enum mw_subscriber_side (inner records) */
    uint16_t tunnels;       /* carried flows: distinct tunnels that carried it, else 0 */
    uint8_t dns_max_label;  /* DNS: longest label of any question in this record's packets */
    uint8_t refused_by;     /* enum mw_flow_side: the side whose every packet refused the other's
                             * (TCP RST, SCTP ABORT, ICMP destination unreachable), else 0 */
    char host[MW_HOST_LEN]; /* DNS query, TLS SNI or HTTP Host, NUL padded */
} mw_flow_record_t;

/* Addresses: the 16-byte form (IPv4-mapped) to and from the record's big-endian halves. */
void mw_addr_split(const uint8_t a[16], uint64_t *hi /* OUT */, uint64_t *lo /* OUT */);
void mw_addr_join(uint64_t hi, uint64_t lo, uint8_t out[16] /* OUT */);

/* Exchanges src and dst with everything that is per side (ports, TEIDs, c2s/s2c). */
void mw_flow_record_swap(mw_flow_record_t *r);

/* A connection (TCP, SCTP) seen one way only - a SPAN port or route showing half of it:
 * MW_SEEN_OPENER only the opener's packets, MW_SEEN_RESPONDER only the responder's;
 * MW_SEEN_BOTH both ways, or not a connection. */
enum { MW_SEEN_BOTH = 0, MW_SEEN_OPENER = 1, MW_SEEN_RESPONDER = 2 };
int mw_flow_one_way_side(const mw_flow_record_t *r);

#endif
