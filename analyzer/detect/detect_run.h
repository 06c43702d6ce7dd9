/*
 * detect_run.h - scores flow records against a model, in the writer thread:
 * every detector sees every record of a known base station, windows close
 * behind a watermark, evidence groups into incidents (incidents.h), and
 * finished anomalies, closed windows and the run's coverage go to the
 * caller's sink (output/ writes them to HDF5, JSON lines, syslog) - this
 * module writes nothing itself.
 */
#ifndef MW_DETECT_RUN_H
#define MW_DETECT_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "baseline/features.h"
#include "baseline/model.h"
#include "classify/inventory.h"
#include "core/memcap.h"
#include "detect/anomaly.h"
#include "flow/flow_record.h"

typedef struct mw_detect_run mw_detect_run_t;

/* Where finished results go. Any callback may be NULL. */
typedef struct mw_detect_sink {
    /* event "open" (live, the moment it starts) or "final"; explanation filled */
    void (*anomaly)(void *ctx, const char *event, const mw_anomaly_record_t *a,
            const uint64_t *flow_ids, uint32_t nids);
    void (*window)(void *ctx, const mw_window_record_t *row);
    void *ctx;
} mw_detect_sink_t;

typedef struct mw_detect_params {
    const mw_model_t *model;   /* borrowed */
    const mw_inventory_t *inv; /* borrowed; required */
    mw_proto_name_fn name;
    void *name_ctx;
    const char *suppress_path; /* NULL or a suppression file */
    int live;                  /* announce anomalies as they open */
    const mw_memcap_t *memcap; /* the memory parts (NULL: the default cap) */
    mw_detect_sink_t sink;
} mw_detect_params_t;

mw_detect_run_t *mw_detect_run_create(const mw_detect_params_t *p, char *errbuf, size_t errlen);
/*
 * Scores records. watermark_us: a time every record still to come ends
 * after (the slowest producer's packet time) - windows and incidents older
 * than it by the allowed lateness are closed; 0 while producers have not
 * published one yet. MW_WATERMARK_FOLLOW = use the records' own times (one
 * producer, records in time order: tests, tools).
 */
#define MW_WATERMARK_FOLLOW INT64_MIN
void mw_detect_run_records(
        mw_detect_run_t *run, const mw_flow_record_t *recs, size_t n, int64_t watermark_us);
void mw_detect_run_finish(mw_detect_run_t *run);
/* Live: time passes without records (closes windows and incidents). */
void mw_detect_run_tick(mw_detect_run_t *run, int64_t now_us);
/* Live: the capture lost packets between from_us and to_us (dropped by the kernel, or by
 * the interface when interface is set, while passed were captured): a capture_health
 * anomaly when the share passes its limit (detect_health.c). */
/* Live: the interface was away from from_us to to_us: nothing in it was seen. */
void mw_detect_run_capture_lost(mw_detect_run_t *run, int64_t from_us, int64_t to_us);
void mw_detect_run_capture_drops(mw_detect_run_t *run, int64_t from_us, int64_t to_us,
        uint64_t dropped, uint64_t passed, int interface);
/* anomalies handed out, by severity (index 1..3) */
void mw_detect_run_counts(const mw_detect_run_t *run, uint64_t counts[4]);
/* Per base station (index = bs_index, row 0 = flows of no base station), nrows OUT;
 * computes the gap counts, so call it after mw_detect_run_finish. */
const mw_coverage_record_t *mw_detect_run_coverage(const mw_detect_run_t *run, size_t *nrows);
/* What the run shed under its memory parts (added to out). */
void mw_detect_run_shed(const mw_detect_run_t *run, mw_shed_t *out);
void mw_detect_run_destroy(mw_detect_run_t *run); /* NULL-safe */

#endif
