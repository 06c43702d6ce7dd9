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

/* NULL writer: nothing to do. */
int mw_run_meta_write(mw_h5_writer_t *w, const mw_config_t *cfg, const mw_run_summary_t *sum,
        mw_worker_t *worker, const mw_inventory_t *inv, char *errbuf, size_t errlen);

/* Counter names and values of a summary, as written to /stats/counters. */
size_t mw_run_counters(
        const mw_run_summary_t *sum, const char **names, uint64_t *values, size_t max);

#endif
