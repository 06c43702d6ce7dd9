/*
 * vlan_split.h - sessions whose two directions carry different VLAN ids. A SPAN
 * port or TAP that tags each direction with a VLAN of its own makes every such
 * session two one-way records while the VLAN id is part of the flow key (the
 * default): openers become guesses and detectors see halves. The finished
 * records are looked at as they are written; a one-way record meets the other
 * half of its session, sent by the other side in another VLAN at the same time,
 * in a small direct-mapped table, and each meeting is counted. Halves pushed out
 * of the table before they met are not: the count is a lower bound, for the hint
 * to run with --no-vlan-tracking. One thread only (the writer's).
 */
#ifndef MW_VLAN_SPLIT_H
#define MW_VLAN_SPLIT_H

#include <stdint.h>

#include "flow/flow_record.h"

typedef struct mw_vlan_split mw_vlan_split_t;

typedef struct mw_vlan_split_stats {
    uint64_t pairs;         /* sessions found split over two VLANs */
    uint16_t first_vlan[2]; /* the VLAN ids of the first one found (sender's first) */
} mw_vlan_split_stats_t;

mw_vlan_split_t *mw_vlan_split_create(void);    /* NULL: out of memory */
void mw_vlan_split_destroy(mw_vlan_split_t *s); /* NULL-safe */

/* Looks at a finished record; returns 1 when it completed a split session. */
int mw_vlan_split_record(mw_vlan_split_t *s, const mw_flow_record_t *r);

mw_vlan_split_stats_t mw_vlan_split_stats(const mw_vlan_split_t *s);

#endif
