/*
 * vlan_split.c - see vlan_split.h. The table is direct-mapped on the hash of
 * the session's addresses, ports, protocol and kind without the VLAN: the two
 * halves of a split session end within an idle timeout of each other, so the
 * first usually waits in its slot until the second comes.
 */
#include "flow/vlan_split.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SLOT_BITS  13
#define SLOTS      (1u << SLOT_BITS)
#define OVERLAP_US (2LL * 1000000) /* halves of one session: their spans meet, give or take */

typedef struct slot {
    uint64_t tuple; /* 0: empty */
    int64_t first_us, last_us;
    uint16_t vlan;
    uint8_t sender_is_a; /* which end of the canonical tuple sent the half */
    uint8_t pad_[5];
} slot_t;

struct mw_vlan_split {
    mw_vlan_split_stats_t stats;
    slot_t slots[SLOTS];
};

/* The session's tuple, its ends in a fixed order (no VLAN), hashed; sets *src_is_a. */
static uint64_t tuple_hash(const mw_flow_record_t *r, int *src_is_a)
{
    struct {
        uint64_t a_hi, a_lo, b_hi, b_lo;
        uint16_t a_port, b_port;
        uint8_t proto, kind, pad_[2];
    } t;
    int src_first = r->src_hi != r->dst_hi   ? r->src_hi < r->dst_hi
                    : r->src_lo != r->dst_lo ? r->src_lo < r->dst_lo
                                             : r->src_port <= r->dst_port;
    uint64_t h;

    memset(&t, 0, sizeof(t));
    t.a_hi = src_first ? r->src_hi : r->dst_hi;
    t.a_lo = src_first ? r->src_lo : r->dst_lo;
    t.b_hi = src_first ? r->dst_hi : r->src_hi;
    t.b_lo = src_first ? r->dst_lo : r->src_lo;
    t.a_port = src_first ? r->src_port : r->dst_port;
    t.b_port = src_first ? r->dst_port : r->src_port;
    t.proto = r->l4_proto;
    t.kind = r->kind;
    *src_is_a = src_first;
    h = XXH3_64bits(&t, sizeof(t));
    return h != 0 ? h : 1;
}

mw_vlan_split_t *mw_vlan_split_create(void)
{
    return calloc(1, sizeof(mw_vlan_split_t));
}

void mw_vlan_split_destroy(mw_vlan_split_t *s)
{
    free(s);
}

int mw_vlan_split_record(mw_vlan_split_t *s, const mw_flow_record_t *r)
{
    int src_is_a, sender_is_a;
    uint64_t tuple;
    slot_t *slot;

    /* one side's packets only; a continued record's session was looked at in its first;
     * a tunnel's halves stand for the flows inside (their keys repeat across tunnels) */
    if ((r->c2s.packets == 0) == (r->s2c.packets == 0) || r->continued || r->kind == MW_FLOW_INNER)
        return 0;
    tuple = tuple_hash(r, &src_is_a);
    sender_is_a = r->c2s.packets > 0 ? src_is_a : !src_is_a;
    slot = &s->slots[tuple >> (64 - SLOT_BITS)];
    if (slot->tuple == tuple && slot->vlan != r->vlan_outer && slot->sender_is_a != sender_is_a &&
            slot->first_us <= r->last_us + OVERLAP_US &&
            r->first_us <= slot->last_us + OVERLAP_US) {
        if (s->stats.pairs == 0) {
            s->stats.first_vlan[0] = slot->vlan;
            s->stats.first_vlan[1] = r->vlan_outer;
        }
        s->stats.pairs++;
        memset(slot, 0, sizeof(*slot));
        return 1;
    }
    slot->tuple = tuple;
    slot->first_us = r->first_us;
    slot->last_us = r->last_us;
    slot->vlan = r->vlan_outer;
    slot->sender_is_a = (uint8_t)sender_is_a;
    return 0;
}

mw_vlan_split_stats_t mw_vlan_split_stats(const mw_vlan_split_t *s)
{
    return s->stats;
}
