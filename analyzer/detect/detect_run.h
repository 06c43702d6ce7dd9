/*
 * detect_run.h - scores flow records against a model, in the writer thread:
 * every detector sees every record of a known base station, windows close
 * behind a watermark, evidence aggregates into anomalies that are written
 * to HDF5 (/anomalies, /anomaly_flows, /windows), to JSON lines and, if
 * asked, to syslog as soon as they close (one window without new evidence).
 */
#ifndef MW_DETECT_RUN_H
#define MW_DETECT_RUN_H

#include <stdio.h>

#include "baseline/features.h"
#include "baseline/model.h"
#include "classify/inventory.h"
#include "flow/flow_record.h"
#include "output/h5_writer.h"

typedef struct mw_detect_run mw_detect_run_t;

typedef struct mw_detect_params {
    const mw_model_t *model;   /* borrowed */
    const mw_inventory_t *inv; /* borrowed; required */
    mw_proto_name_fn name;
    void *name_ctx;
    FILE *json;                /* JSON lines, NULL for none (not closed here) */
    int syslog;                /* also log each anomaly with syslog(3) */
    const char *suppress_path; /* NULL or a suppression file */
    int live;                  /* JSON/syslog as soon as an anomaly opens, and again on close */
} mw_detect_params_t;

mw_detect_run_t *mw_detect_run_create(const mw_detect_params_t *p, char *errbuf, size_t errlen);
/*
 * Scores records. watermark_us: a time every record still to come ends
 * after (the slowest producer's packet time) - windows and anomalies older
 * than it by the allowed lateness are closed. 0 = use the records' own times
 * (one producer, records in order).
 */
void mw_detect_run_records(mw_detect_run_t *run, const mw_flow_record_t *recs, size_t n,
        mw_h5_writer_t *w, int64_t watermark_us);
void mw_detect_run_finish(mw_detect_run_t *run, mw_h5_writer_t *w);
/* Live: time passes without records (closes windows and anomalies). */
void mw_detect_run_tick(mw_detect_run_t *run, int64_t now_us, mw_h5_writer_t *w);
/* anomalies written, by severity (index 1..3) */
void mw_detect_run_counts(const mw_detect_run_t *run, uint64_t counts[4]);
void mw_detect_run_destroy(mw_detect_run_t *run); /* NULL-safe */

#endif
