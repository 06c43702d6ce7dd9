/*
 * detector.h - the contract between the detection run (detect_run.c) and
 * the detectors. A detector is a static ops table (STYLE.md section 7): it
 * looks at each flow from the base station's point of view and, if it
 * wants, at each closed management-plane window, and reports evidence.
 * Its own state (series, counters) lives on the run's handle: init creates
 * it, fini frees it - nothing is process-global.
 * The run groups evidence into incidents (incidents.c) and hands finished
 * ones to the sinks.
 */
#ifndef MW_DETECTOR_H
#define MW_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "baseline/features.h"
#include "baseline/model.h"
#include "baseline/windows.h"
#include "core/memcap.h"
#include "detect/anomaly.h"

typedef struct mw_detect_ctx mw_detect_ctx_t;

/*
 * One piece of evidence. (detector, bs_index, peer, group) decide which
 * incident it joins; evidence of one key joins an incident while it starts
 * within the detector's gap of the incident's last evidence (packet time).
 */
typedef struct mw_evidence {
    uint8_t detector, severity, kind;
    uint16_t group;   /* splits one detector's incidents with one peer (e.g. volume ratio) */
    uint32_t station; /* model station index */
    uint16_t bs_index;
    uint8_t plane, initiator, l4_proto, inner;
    uint8_t local[16], peer[16];
    uint16_t peer_port, local_port, service_port, service;
    char app[MW_ANOMALY_APP_LEN];
    char host[MW_HOST_LEN];
    int64_t start_us, end_us;
    uint64_t flow_id;  /* 0 for window evidence */
    uint32_t flows;    /* flow records it stands for (1 for a flow; a count for rate) */
    uint32_t sessions; /* of which real starts */
    uint32_t teid_up, teid_down;
    uint64_t up, down; /* bytes: local side sent / received */
    uint64_t pkts_up, pkts_down;
    double value, limit; /* the number that tripped it, and what training allows */
    /* the first flow's 5-tuple for the Community ID and the display filter */
    uint64_t src_hi, src_lo, dst_hi, dst_lo;
    uint16_t src_port, dst_port;
    uint8_t window; /* 1: window-level evidence (bytes of a window, not of one flow) */
    /* the incident counts only once its flows moved this many bytes (both ways together):
     * a threshold on the incident, not on one record, so cutting a flow does not evade it */
    uint64_t min_bytes;
} mw_evidence_t;

/* What detectors may ask the run. */
const mw_model_t *mw_detect_model(const mw_detect_ctx_t *ctx);
const mw_inventory_t *mw_detect_inventory(const mw_detect_ctx_t *ctx);
int mw_detect_knows_peer(const mw_detect_ctx_t *ctx, uint32_t station, const uint8_t peer[16]);
/* Seen this service/app/port/l4 with any peer (inner or not as in key)? */
int mw_detect_knows_service(const mw_detect_ctx_t *ctx, const mw_tuple_key_t *key);
/* The same service (named by its port) known under any label. */
int mw_detect_knows_service_any_label(const mw_detect_ctx_t *ctx, const mw_tuple_key_t *key);
/* Is the station's training long enough for statistics (window series)? */
int mw_detect_station_ready(const mw_detect_ctx_t *ctx, uint32_t station);
void mw_detect_report(mw_detect_ctx_t *ctx, const mw_evidence_t *ev);
/* Live runs judge as records come; offline runs may wait for the end (stable results). */
int mw_detect_is_live(const mw_detect_ctx_t *ctx);
/* The detector's own state (what its init made). */
void *mw_detect_state(const mw_detect_ctx_t *ctx, unsigned detector);
/* Fills the common fields of an evidence from a flow view. */
void mw_evidence_from_flow(mw_evidence_t *ev, uint8_t detector, uint8_t severity, uint32_t station,
        const mw_flow_view_t *v);
/* The score scale (docs/MODEL.md): 2.5 x severity, plus up to 2.5 for how far value is past
 * limit (0 at the limit, 2.5 at 4x or more); limit <= 0 means "no magnitude". */
float mw_score(unsigned severity, double value, double limit);

/* Whether a record's session carried data: when one side only refused (refused_by: a
 * scan's SYN and RST, an SCTP INIT and ABORT, a datagram and its port unreachable), only if
 * the other side sent more than bare probes (a pushed TCP segment; more than two packets or
 * MW_BARE_PACKET_BYTES a packet); else a TCP segment pushed, or any datagram or SCTP packet. */
int mw_flow_carried_data(const mw_flow_record_t *r);

typedef struct mw_detector_ops {
    const char *name;
    /* per flow record of a known station; key and tuple (NULL when unknown) given */
    void (*on_flow)(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t station,
            const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple);
    /* per flow record of no base station (neither side one: a multicast announcement on
     * the stations' segment); may be NULL */
    void (*on_site_flow)(mw_detect_ctx_t *ctx, const mw_flow_record_t *rec);
    /* per closed management-plane window of a known station (may be NULL) */
    void (*on_window)(mw_detect_ctx_t *ctx, const mw_window_t *win, const mw_station_t *st);
    /* the watermark moved: every record still to come ends after it (may be NULL) */
    void (*on_advance)(mw_detect_ctx_t *ctx, int64_t watermark_us);
    /* end of input: evaluate what needs the whole picture (may be NULL) */
    void (*on_finish)(mw_detect_ctx_t *ctx);
    /* the sentence for a finished anomaly, from its record's members only */
    void (*explain)(
            const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len);
    /* state on the run's handle (all may be NULL): 0 or MW_E*; cap: the memory parts */
    int (*init)(void **state, const mw_memcap_t *cap);
    void (*fini)(void *state);
    /* adds what the state shed under its memory part */
    void (*shed)(const void *state, mw_shed_t *out);
    /* evidence starting within this of an incident's last evidence joins it */
    int64_t gap_us;
} mw_detector_ops_t;

#define MW_DETECT_DEFAULT_GAP_US (3600LL * 1000000)

/* The registry: every detector, in the order they run, indexed by enum mw_detector_id. */
extern const mw_detector_ops_t *const mw_detectors[];
extern const size_t mw_detector_count;

/* Small text helpers for explanations. */
void mw_fmt_bytes(char *out, size_t len, double bytes);
void mw_fmt_addr(char *out, size_t len, uint64_t hi, uint64_t lo);
double mw_detect_training_days(const mw_detect_ctx_t *ctx);
/* Text address (IPv4 or IPv6) to the 16-byte form; 0 or -1. */
int mw_parse_addr(const char *text, uint8_t out[16]);
/* "the base station 10.1.0.1" / "subscriber 10.45.0.2 of the base station" */
void mw_fmt_local(char *out, size_t len, const mw_anomaly_record_t *a);
/* "192.0.2.7", or "EMS 10.0.0.5" when the inventory names the peer's role */
void mw_fmt_peer(const mw_detect_ctx_t *ctx, char *out, size_t len, const mw_anomaly_record_t *a);
/* who opened what: "OPENER -> LISTENER, port P" (or "N ports (first P)") */
void mw_fmt_session(
        const mw_detect_ctx_t *ctx, char *out, size_t len, const mw_anomaly_record_t *a);

#endif
