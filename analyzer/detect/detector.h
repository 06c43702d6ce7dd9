/*
 * detector.h - the contract between the detection run (detect_run.c) and
 * the detectors. A detector is a static ops table (STYLE.md section 7): it
 * looks at each flow from the base station's point of view and, if it
 * wants, at each closed management-plane window, and reports evidence.
 * The run aggregates evidence into anomalies and writes them out.
 */
#ifndef MW_DETECTOR_H
#define MW_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "baseline/features.h"
#include "baseline/model.h"
#include "baseline/windows.h"
#include "detect/anomaly.h"

typedef struct mw_detect_ctx mw_detect_ctx_t;

/* One piece of evidence; key fields decide which anomaly it joins. */
typedef struct mw_evidence {
    uint8_t detector, severity;
    float score;
    uint32_t station; /* model station index (UINT32_MAX: not in the model) */
    uint16_t bs_index;
    uint8_t plane;
    uint8_t peer[16];
    uint16_t peer_port, service;
    const char *app;
    int64_t start_us, end_us;
    uint64_t flow_id;
    uint64_t up, down;
    double value, reference; /* the number that tripped it, and what training says */
} mw_evidence_t;

/* What detectors may ask the run. */
const mw_model_t *mw_detect_model(const mw_detect_ctx_t *ctx);
const mw_inventory_t *mw_detect_inventory(const mw_detect_ctx_t *ctx);
int mw_detect_knows_peer(const mw_detect_ctx_t *ctx, uint32_t station, const uint8_t peer[16]);
/* Seen this service/app/port/l4 with any peer (inner or not as in key)? */
int mw_detect_knows_service(const mw_detect_ctx_t *ctx, const mw_tuple_key_t *key);
/* Is the station's training long enough for statistics (window series)? */
int mw_detect_station_ready(const mw_detect_ctx_t *ctx, uint32_t station);
void mw_detect_report(mw_detect_ctx_t *ctx, const mw_evidence_t *ev);
/* Live runs judge as records come; offline runs may wait for the end (stable results). */
int mw_detect_is_live(const mw_detect_ctx_t *ctx);
/* Fills the common fields of an evidence from a flow view. */
void mw_evidence_from_flow(mw_evidence_t *ev, uint8_t detector, uint8_t severity, uint32_t station,
        const mw_flow_view_t *v);

typedef struct mw_detector_ops {
    const char *name;
    /* per flow record of a known station; key and tuple (NULL when unknown) given */
    void (*on_flow)(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t station,
            const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple);
    /* per closed management-plane window of a known station (may be NULL) */
    void (*on_window)(mw_detect_ctx_t *ctx, const mw_window_t *win, const mw_station_t *st);
    /* end of input: evaluate what needs the whole picture, then forget it (may be NULL) */
    void (*on_finish)(mw_detect_ctx_t *ctx);
    /* the sentence for a finished anomaly */
    void (*explain)(const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, double value,
            double reference, char *out, size_t len);
} mw_detector_ops_t;

/* The registry: every detector, in the order they run. */
extern const mw_detector_ops_t *const mw_detectors[];
extern const size_t mw_detector_count;

/* Small text helpers for explanations. */
void mw_fmt_bytes(char *out, size_t len, double bytes);
void mw_fmt_addr(char *out, size_t len, uint64_t hi, uint64_t lo);
double mw_detect_training_days(const mw_detect_ctx_t *ctx);
/* Text address (IPv4 or IPv6) to the 16-byte form; 0 or -1. */
int mw_parse_addr(const char *text, uint8_t out[16]);

#endif
