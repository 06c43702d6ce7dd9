/*
 * flow_key.h - the bidirectional flow key. Both directions of a flow map to
 * the same canonical key (lower endpoint first), so one hash serves the
 * flow table and the dispatch of packets to workers.
 */
#ifndef MW_FLOW_KEY_H
#define MW_FLOW_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "decode/packet.h"
#include "flow/flow_record.h"

typedef struct mw_flow_key {
    uint8_t addr_a[16], addr_b[16]; /* a <= b (address, then port) */
    uint64_t tunnel_ctx;            /* inner flows: hash of the tunnel endpoints; else 0 */
    uint16_t port_a, port_b;
    uint16_t vlan; /* outer VLAN id */
    uint8_t l4_proto;
    uint8_t kind; /* enum mw_flow_kind: the same 5-tuple inside and outside is two flows */
} mw_flow_key_t;
/* hashed and compared as bytes: no padding anywhere, the last 8 bytes from port_a on */
_Static_assert(sizeof(mw_flow_key_t) == 48 && offsetof(mw_flow_key_t, port_a) == 40 &&
                       offsetof(mw_flow_key_t, kind) == 47,
        "mw_flow_key_t must have no padding");

/*
 * Builds the canonical key of l3 in packet p. *a_is_src is set to 1 when the
 * packet's source is endpoint a. tunnel_ctx is 0 for plain and tunnel flows.
 */
void mw_flow_key_make(mw_flow_key_t *key, const mw_packet_t *p, const mw_l3_t *l3, uint8_t kind,
        uint64_t tunnel_ctx, int *a_is_src /* OUT */);

/* The kind of flow a packet's flow layer makes (not a tunnel's own record): inner when
 * it rides in GTP-U, else plain. */
static inline uint8_t mw_flow_kind_of(const mw_packet_t *p)
{
    return p->has_gtp ? MW_FLOW_INNER : MW_FLOW_PLAIN;
}

/* Symmetric: both directions give the same value. */
uint64_t mw_flow_key_hash(const mw_flow_key_t *key);

/* Hash of the outer endpoints of a GTP-U packet, direction-independent. */
uint64_t mw_flow_tunnel_ctx(const mw_packet_t *p);

int mw_flow_key_equal(const mw_flow_key_t *x, const mw_flow_key_t *y);

#endif
