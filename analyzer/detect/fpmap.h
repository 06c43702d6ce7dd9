/*
 * fpmap.h - a hash map from 64-bit fingerprints (XXH3 of a key) to 64-bit
 * values: open addressing with linear probing and backward-shift deletion,
 * so lookups stay O(1) with no tombstones. The detection run uses it for
 * its known-sets (peers, services) and to find an incident's key.
 * A fingerprint stands for its key: 64 bits make a collision among a few
 * million keys about 1 in 10^6, accepted here as the model's own key
 * hashing accepts it.
 */
#ifndef MW_FPMAP_H
#define MW_FPMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_fpmap {
    uint64_t *keys; /* 0 = empty; stored fingerprints are never 0 (forced odd) */
    uint64_t *vals;
    size_t n, cap; /* cap: a power of two */
} mw_fpmap_t;

void mw_fpmap_init(mw_fpmap_t *m);
void mw_fpmap_free(mw_fpmap_t *m);
/* Inserts or replaces; 0 or MW_ENOMEM. */
int mw_fpmap_put(mw_fpmap_t *m, uint64_t fp, uint64_t val);
/* 1 and *val when present, else 0. val may be NULL. */
int mw_fpmap_get(const mw_fpmap_t *m, uint64_t fp, uint64_t *val /* OUT */);
void mw_fpmap_del(mw_fpmap_t *m, uint64_t fp);

#endif
