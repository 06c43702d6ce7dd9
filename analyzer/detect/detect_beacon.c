/*
 * detect_beacon.c - A6 beaconing: connections from a base station to one
 * peer that start at regular intervals. Scored as RITA does, on the
 * inter-start gaps: their median and their median absolute deviation
 * (MAD); a low MAD relative to the median is a machine keeping time.
 * Sessions training already knew (SNMP polls, PM uploads) are allowed to
 * be periodic: only tuples without history are scored.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/plane.h"
#include "detect/detector.h"

#define BEACON_MIN_STARTS  6
#define BEACON_MAX_REL_MAD 0.2 /* MAD / median gap */
#define BEACON_MIN_GAP_US  10000000LL
#define BEACON_SLOTS       4096 /* tracked (station, peer, port) series: capped */
#define BEACON_KEEP        256  /* starts kept per series (the most recent) */

typedef struct start {
    int64_t t;
    uint64_t flow_id;
    uint64_t up, down;
} start_t;

typedef struct series {
    uint32_t station;
    uint8_t peer[16];
    uint16_t port;
    uint8_t used;
    uint32_t n; /* kept starts, sorted by time */
    start_t starts[BEACON_KEEP];
    mw_flow_view_t view; /* the last flow, for the evidence's fields */
    mw_flow_record_t rec;
} series_t;

/* One detection run at a time uses this state (the writer thread); on_finish clears it. */
static series_t slots[BEACON_SLOTS];

static series_t *find_series(uint32_t st, const uint8_t peer[16], uint16_t port)
{
    uint64_t h = st * 2654435761u ^ port;
    size_t i, probe;

    for (i = 0; i < 16; i++)
        h = h * 31 + peer[i];
    for (probe = 0; probe < 64; probe++) {
        series_t *s = &slots[(h + probe) % BEACON_SLOTS];
        if (!s->used) {
            memset(s, 0, sizeof(*s));
            s->used = 1;
            s->station = st;
            memcpy(s->peer, peer, 16);
            s->port = port;
            return s;
        }
        if (s->station == st && s->port == port && memcmp(s->peer, peer, 16) == 0)
            return s;
    }
    return NULL; /* table full around this slot: not tracked (capped) */
}

/* Keeps starts sorted, so the verdict does not depend on arrival order. */
static void add_start(series_t *s, const start_t *x)
{
    uint32_t i;

    if (s->n == BEACON_KEEP) {
        if (x->t <= s->starts[0].t)
            return;
        memmove(&s->starts[0], &s->starts[1], (BEACON_KEEP - 1) * sizeof(start_t));
        s->n--;
    }
    for (i = s->n; i > 0 && s->starts[i - 1].t > x->t; i--)
        s->starts[i] = s->starts[i - 1];
    s->starts[i] = *x;
    s->n++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, uint32_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Median and MAD of the gaps between the sorted starts; 0 when too few. */
static int gap_stats(const series_t *s, double *median, double *mad)
{
    static double gaps[BEACON_KEEP], dev[BEACON_KEEP];
    uint32_t i;

    if (s->n < BEACON_MIN_STARTS)
        return 0;
    for (i = 1; i < s->n; i++)
        gaps[i - 1] = (double)(s->starts[i].t - s->starts[i - 1].t);
    *median = median_of(gaps, s->n - 1);
    for (i = 0; i + 1 < s->n; i++)
        dev[i] = fabs((double)(s->starts[i + 1].t - s->starts[i].t) - *median);
    *mad = median_of(dev, s->n - 1);
    return 1;
}

static int regular(const series_t *s, double *median, double *mad)
{
    return gap_stats(s, median, mad) && *median >= BEACON_MIN_GAP_US &&
           *mad <= BEACON_MAX_REL_MAD * *median;
}

static void report_start(
        mw_detect_ctx_t *ctx, series_t *s, const start_t *x, double median, double mad)
{
    mw_evidence_t ev;

    s->view.rec = &s->rec;
    mw_evidence_from_flow(&ev, MW_DET_BEACON, MW_SEV_HIGH, s->station, &s->view);
    ev.start_us = ev.end_us = x->t;
    ev.flow_id = x->flow_id;
    ev.up = x->up;
    ev.down = x->down;
    ev.value = median / 1e6;
    ev.reference = mad / 1e6;
    ev.score = (float)(1.0 - mad / median) * 3.0f;
    mw_detect_report(ctx, &ev);
}

static void beacon_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    series_t *s;
    start_t x;
    double median, mad;

    (void)key;
    if (tuple != NULL || !v->bs_opened || v->rec->kind == MW_FLOW_INNER ||
            v->rec->plane == MW_PLANE_USER)
        return;
    s = find_series(st, v->peer, v->peer_port);
    if (s == NULL)
        return;
    x = (start_t){ v->rec->first_us, v->rec->flow_id, v->up, v->down };
    add_start(s, &x);
    s->view = *v;
    s->rec = *v->rec;
    /* live: say it as soon as it is regular; offline: judge the whole series at the end */
    if (mw_detect_is_live(ctx) && regular(s, &median, &mad))
        report_start(ctx, s, &x, median, mad);
}

static void beacon_finish(mw_detect_ctx_t *ctx)
{
    size_t i;
    uint32_t j;
    double median, mad;

    for (i = 0; i < BEACON_SLOTS; i++) {
        series_t *s = &slots[i];
        if (s->used && !mw_detect_is_live(ctx) && regular(s, &median, &mad))
            for (j = 0; j < s->n; j++)
                report_start(ctx, s, &s->starts[j], median, mad);
        s->used = 0;
    }
}

static void beacon_explain(const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, double value,
        double ref, char *out, size_t len)
{
    char peer[64];
    mw_fmt_addr(peer, sizeof(peer), a->peer_hi, a->peer_lo);
    snprintf(out, len,
            "beaconing: base station opens %s (%s) to %s:%u every %.0f s (median gap, MAD "
            "%.0f s); a session never seen in %.1f days of training; %u flows",
            a->app, mw_service_name(a->service), peer, a->peer_port, value, ref,
            mw_detect_training_days(ctx), a->n_flows);
}

const mw_detector_ops_t mw_det_beacon = { "beacon", beacon_flow, NULL, beacon_finish,
    beacon_explain };
