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

#define BEACON_MIN_STARTS 6
#define BEACON_MAX_REL_MAD 0.2  /* MAD / median gap */
#define BEACON_MIN_GAP_US 10000000LL
#define BEACON_SLOTS 4096       /* tracked (station, peer, port) series: capped */
#define BEACON_KEEP 32          /* starts kept per series */

typedef struct series {
    uint32_t station;
    uint8_t peer[16];
    uint16_t port;
    uint8_t used;
    uint32_t n;
    int64_t starts[BEACON_KEEP];
} series_t;

/* One detection run at a time uses this state (the writer thread). */
static series_t slots[BEACON_SLOTS];

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

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

/* Median and MAD of the gaps between sorted starts; 0 when too few. */
static int gap_stats(const series_t *s, double *median, double *mad)
{
    int64_t starts[BEACON_KEEP];
    double gaps[BEACON_KEEP], dev[BEACON_KEEP];
    uint32_t n = s->n < BEACON_KEEP ? s->n : BEACON_KEEP, i;

    if (n < BEACON_MIN_STARTS)
        return 0;
    memcpy(starts, s->starts, n * sizeof(*starts));
    qsort(starts, n, sizeof(*starts), cmp_i64);
    for (i = 1; i < n; i++)
        gaps[i - 1] = (double)(starts[i] - starts[i - 1]);
    *median = median_of(gaps, n - 1);
    for (i = 0; i + 1 < n; i++)
        dev[i] = fabs(gaps[i] - *median);
    *mad = median_of(dev, n - 1);
    return 1;
}

static void beacon_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    series_t *s;
    double median, mad;
    mw_evidence_t ev;

    (void)key;
    if (tuple != NULL || !v->bs_opened || v->rec->kind == MW_FLOW_INNER ||
            v->rec->plane == MW_PLANE_USER)
        return;
    s = find_series(st, v->peer, v->peer_port);
    if (s == NULL)
        return;
    s->starts[s->n % BEACON_KEEP] = v->rec->first_us;
    s->n++;
    if (!gap_stats(s, &median, &mad) || median < BEACON_MIN_GAP_US ||
            mad > BEACON_MAX_REL_MAD * median)
        return;
    mw_evidence_from_flow(&ev, MW_DET_BEACON, MW_SEV_HIGH, st, v);
    ev.value = median / 1e6;
    ev.reference = mad / 1e6;
    ev.score = (float)(1.0 - mad / median) * 3.0f;
    mw_detect_report(ctx, &ev);
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

const mw_detector_ops_t mw_det_beacon = { "beacon", beacon_flow, NULL, beacon_explain };
