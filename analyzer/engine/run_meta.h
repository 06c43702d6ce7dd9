/*
 * run_meta.h - what a results file says about its run: lookup tables for
 * every id in /flows, capture statistics, and root attributes.
 */
#ifndef MW_RUN_META_H
#define MW_RUN_META_H

#include <stddef.h>

#include "classify/inventory.h"
#include "core/config.h"
#include "engine/engine.h"
#include "engine/worker.h"
#include "output/h5_writer.h"

/* Before mw_h5_writer_start(): every lookup table, /meta/inventory, the root
 * attributes (complete=0) and the counters (zeros). NULL writer: nothing to do. */
int mw_run_meta_start(mw_h5_writer_t *w, const mw_config_t *cfg, mw_worker_t *worker,
        const mw_inventory_t *inv, char *errbuf, size_t errlen);

/* At the end: the counters' values and the attributes known only then (in place). */
int mw_run_meta_finish(mw_h5_writer_t *w, const mw_run_summary_t *sum, char *errbuf, size_t errlen);

/* Room for the counter names built at run time (per decode event). */
typedef struct mw_run_counter_names {
    char event[2][MW_DEC_COUNT][48];
} mw_run_counter_names_t;

#define MW_RUN_MAX_COUNTERS 128

/* Counter names and values of a summary, as written to /stats/counters;
 * some names point into store, which must outlive them. */
size_t mw_run_counters(const mw_run_summary_t *sum, mw_run_counter_names_t *store,
        const char **names, uint64_t *values, size_t max);

#endif
