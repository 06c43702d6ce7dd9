/*
 * anomaly_sinks.h - where the detection run's results go: /anomalies,
 * /anomaly_flows, /windows and /coverage in the HDF5 results file, JSON
 * lines for a SIEM (anomaly_json.c) and syslog (anomaly_syslog.c). The
 * detection layer hands finished records over through mw_detect_sink_t and
 * knows none of these outputs.
 * Used from the writer thread only (like the HDF5 writer it feeds).
 */
#ifndef MW_ANOMALY_SINKS_H
#define MW_ANOMALY_SINKS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "classify/inventory.h"
#include "detect/detect_run.h"
#include "output/h5_writer.h"

typedef struct mw_anomaly_sinks_params {
    FILE *json; /* JSON lines, NULL for none; closed by the sinks unless stdout */
    /* reopened for appending when *reopen_requests changes (SIGHUP after logrotate) */
    const char *json_path;
    atomic_int *reopen_requests;
    int syslog; /* also log each anomaly with syslog(3) */
    const mw_inventory_t *inv;
    /* offline: the input file holding a frame and its number there (NULL: live) */
    const char *(*source_of)(void *ctx, uint64_t frame, uint64_t *frame_in_file /* OUT */);
    void *source_ctx;
} mw_anomaly_sinks_params_t;

typedef struct mw_anomaly_sinks mw_anomaly_sinks_t;

mw_anomaly_sinks_t *mw_anomaly_sinks_create(const mw_anomaly_sinks_params_t *p);
void mw_anomaly_sinks_destroy(mw_anomaly_sinks_t *s); /* NULL-safe */
/* The inventory that names stations in the feeds from now on (a reload). */
void mw_anomaly_sinks_set_inventory(mw_anomaly_sinks_t *s, const mw_inventory_t *inv);
/* The HDF5 file for the rows that follow (NULL: none); the writer thread sets it per call. */
void mw_anomaly_sinks_set_writer(mw_anomaly_sinks_t *s, mw_h5_writer_t *w);
/* The callbacks for mw_detect_params_t.sink. */
mw_detect_sink_t mw_anomaly_sinks_detect_sink(mw_anomaly_sinks_t *s);
/* /coverage rows (end of run). 0 or MW_E*. */
int mw_anomaly_sinks_coverage(mw_anomaly_sinks_t *s, const mw_coverage_record_t *rows, size_t n);
/* Which outputs failed to take a write (full disk...): MW_SINK_FAILED_* bits, 0 none. */
#define MW_SINK_FAILED_JSON 1
#define MW_SINK_FAILED_H5   2
int mw_anomaly_sinks_failed(const mw_anomaly_sinks_t *s);
/* Anomalies handed to the outputs so far (any thread may read it). */
uint64_t mw_anomaly_sinks_count(const mw_anomaly_sinks_t *s);
/* The writer thread's chance to reopen the JSON feed when asked (also done before each
 * anomaly): a logrotate'd feed is not written into the old file for long. */
void mw_anomaly_sinks_check_reopen(mw_anomaly_sinks_t *s);

/* One anomaly as a JSON object on one line (anomaly_json.c); source (may be NULL) is the
 * capture file of its first frame, source_frame that frame's number in it. 0 or -1 on a
 * write error. */
int mw_anomaly_json_write(FILE *out, const mw_inventory_t *inv, const char *event,
        const mw_anomaly_record_t *a, const uint64_t *flow_ids, uint32_t nids, const char *source,
        uint64_t source_frame);
/* One anomaly to syslog (anomaly_syslog.c). */
void mw_anomaly_syslog_open(void);
void mw_anomaly_syslog_write(const mw_inventory_t *inv, const mw_anomaly_record_t *a);
void mw_anomaly_syslog_close(void);

#endif
