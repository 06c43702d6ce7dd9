/*
 * hour_counts.h - flows per (tuple, clock hour): how often a known session
 * starts. Training keeps each tuple's busiest hour; detection compares
 * (detect_rate.c). The owner drops the hours that are past its watermark
 * (mw_hour_counts_expire), so memory stays bounded by the tuples active in
 * the last few hours and the counts do not depend on arrival order.
 */
#ifndef MW_HOUR_COUNTS_H
#define MW_HOUR_COUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "flow/flow_record.h"

#define MW_HOUR_US         (3600LL * 1000000)
#define MW_HOUR_COUNTS_MAX (1u << 22)
#define MW_HOUR_KEEP_IDS   16

typedef struct mw_hour_count {
    uint64_t fp;  /* fingerprint of the tuple key, 0 = empty slot */
    int64_t hour; /* first_us / 1 h */
    uint32_t count;
    uint32_t nids;
    uint64_t ids[MW_HOUR_KEEP_IDS]; /* the smallest flow ids, sorted (detection evidence) */
    int64_t first_us, last_us;
    uint32_t station, learned; /* detection: model station, the tuple's learned busiest hour */
    uint64_t up, down, pkts_up, pkts_down; /* detection: what the hour's flows carried */
    mw_flow_record_t sample; /* detection: the earliest record, for the evidence's fields */
    char app[32];            /* detection: the tuple's nDPI label */
} mw_hour_count_t;

typedef struct mw_hour_counts {
    mw_hour_count_t *slots;
    size_t n, cap;
    int64_t newest_hour;
    uint64_t dropped;   /* flows not counted: the cap was reached */
    uint64_t max_bytes; /* the table's cap in bytes; 0 = MW_HOUR_COUNTS_MAX slots */
    /* called for every entry dropped (hours past) and by mw_hour_counts_drain; may be NULL */
    void (*on_drop)(void *ctx, const mw_hour_count_t *e);
    void *drop_ctx;
} mw_hour_counts_t;

/* Counts one flow; returns its entry (NULL when the cap is reached). */
mw_hour_count_t *mw_hour_counts_add(
        mw_hour_counts_t *h, uint64_t fp, int64_t t_us, int64_t end_us, uint64_t flow_id);
/* Drops (through on_drop) every hour that ends before before_us. */
void mw_hour_counts_expire(mw_hour_counts_t *h, int64_t before_us);
/* Hands every remaining entry to on_drop (end of input). */
void mw_hour_counts_drain(mw_hour_counts_t *h);
void mw_hour_counts_free(mw_hour_counts_t *h);

#endif
