/*
 * detect_beacon.c - A6 beaconing: sessions from a base station to one peer
 * that start at regular intervals. Scored as RITA does, on the inter-start
 * gaps: their median and their median absolute deviation (MAD); a low MAD
 * relative to the median is a machine keeping time.
 * Only real starts count (a handshake, or a connectionless flow's first
 * packet): a long session cut by the active timeout, or one that was open
 * when the capture began, is not a new start. Sessions training already
 * knew (SNMP polls, PM uploads) may be periodic: only tuples without
 * history are scored. One series is one incident, however long it runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "classify/plane.h"
#include "core/mw.h"
#include "detect/detector.h"
#include "detect/fpmap.h"

#define BEACON_MIN_STARTS  6
#define BEACON_MAX_REL_MAD 0.2 /* MAD / median gap */
#define BEACON_MIN_GAP_US  10000000LL
#define BEACON_KEEP        256 /* starts kept per series (the most recent) */
/* two records of one session: its ports, starts this close (a capture point that sees each
 * packet twice in two VLANs, or each direction in a VLAN of its own) */
#define BEACON_TWIN_US 1000000LL
/* in one flow (a datagram flow the idle timeout never ends): sd / mean of the gaps */
#define BEACON_MAX_REL_SD 0.2

enum { BEACON_STARTS = 0, BEACON_IN_FLOW = 1 };

typedef struct start {
    int64_t t, end;
    uint64_t flow_id;
    uint64_t up, down, pkts_up, pkts_down;
    uint16_t src_port, dst_port, local_port, peer_port; /* this session's own ports */
} start_t;

typedef struct series {
    uint32_t n; /* kept starts, sorted by time */
    start_t starts[BEACON_KEEP];
    /* starts no longer kept: counted, the earliest of them kept whole and the others' bytes
     * summed, so a beacon all day is found with all its sessions from its first */
    uint64_t dropped;
    start_t first;
    start_t others;     /* sums of up, down, pkts_up, pkts_down */
    mw_evidence_t last; /* the latest flow's evidence fields */
    /* datagrams the station sent within the series' UDP records: the gaps between them as
     * integers (µs, ms²: the same sums in any order, so any thread count), the earliest
     * record's evidence and the totals */
    struct {
        uint64_t gaps, sum_us, sum_sq_ms2, datagrams, records;
        uint64_t up, down, pkts_up, pkts_down;
        int64_t end_us;
        mw_evidence_t first;
        int reported; /* live: said once */
    } in_flow;
} series_t;

typedef struct beacon_state {
    mw_fpmap_t index; /* (station, peer, port) -> position in series */
    series_t **series;
    size_t n, cap;
    uint64_t untracked; /* flows of series past the memory cap */
    uint64_t max_bytes; /* the beacon part of the memory cap */
    double gaps[BEACON_KEEP], dev[BEACON_KEEP];
} beacon_state_t;

static int beacon_init(void **state, const mw_memcap_t *cap)
{
    beacon_state_t *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return MW_ENOMEM;
    mw_fpmap_init(&b->index);
    b->max_bytes = cap->beacon;
    *state = b;
    return 0;
}

static void beacon_fini(void *state)
{
    beacon_state_t *b = state;
    size_t i;

    for (i = 0; i < b->n; i++)
        free(b->series[i]);
    free(b->series);
    mw_fpmap_free(&b->index);
    free(b);
}

/* Keyed by the inventory's station, not the model's: stations scored by one role group
 * (not in the model) each have their own series. */
static series_t *find_series(
        beacon_state_t *b, uint16_t bs_index, const uint8_t peer[16], uint16_t port)
{
    uint8_t key[20];
    uint64_t fp, pos;
    series_t *s;

    memcpy(key, &bs_index, 2);
    memcpy(key + 2, peer, 16);
    memcpy(key + 18, &port, 2);
    fp = XXH3_64bits(key, sizeof(key));
    if (mw_fpmap_get(&b->index, fp, &pos))
        return b->series[pos];
    if ((b->n + 1) * (sizeof(series_t) + 2 * sizeof(uint64_t)) > b->max_bytes)
        return NULL;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        series_t **v = realloc(b->series, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        b->series = v;
        b->cap = cap;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL || mw_fpmap_put(&b->index, fp, b->n) != 0) {
        free(s);
        return NULL;
    }
    b->series[b->n++] = s;
    return s;
}

static void fold(start_t *sum, const start_t *x)
{
    sum->up += x->up;
    sum->down += x->down;
    sum->pkts_up += x->pkts_up;
    sum->pkts_down += x->pkts_down;
}

static void drop_start(series_t *s, const start_t *x)
{
    if (s->dropped++ == 0) {
        s->first = *x;
    } else if (x->t < s->first.t) {
        fold(&s->others, &s->first);
        s->first = *x;
    } else {
        fold(&s->others, x);
    }
}

/* Another record of kept start k's session: the same ports, started within BEACON_TWIN_US. */
static int is_twin(const start_t *k, const start_t *x)
{
    return k->local_port == x->local_port && k->peer_port == x->peer_port &&
           (k->t > x->t ? k->t - x->t : x->t - k->t) <= BEACON_TWIN_US;
}

/* One start for the session's two records: the earlier (then lower flow id) names it, and
 * each count is the larger - a direction's halves add up, a duplicate does not double -
 * so the result is the same in any arrival order. */
static void merge_twin(start_t *k, const start_t *x)
{
    start_t m = (x->t < k->t || (x->t == k->t && x->flow_id < k->flow_id)) ? *x : *k;

    m.end = MW_MAX(k->end, x->end);
    m.up = MW_MAX(k->up, x->up);
    m.down = MW_MAX(k->down, x->down);
    m.pkts_up = MW_MAX(k->pkts_up, x->pkts_up);
    m.pkts_down = MW_MAX(k->pkts_down, x->pkts_down);
    *k = m;
}

/* Whether x's record is to describe the series instead of last's: a later session, or the
 * earlier record of last's own session (the one that names it: the uplink half, with the
 * host name) - the same choice in any arrival order. */
static int names_latest(const mw_evidence_t *last, const start_t *x)
{
    start_t l = {
        .t = last->start_us, .local_port = last->local_port, .peer_port = last->peer_port
    };

    if (is_twin(&l, x))
        return x->t < last->start_us || (x->t == last->start_us && x->flow_id < last->flow_id);
    return x->t >= last->start_us;
}

/* Keeps the latest starts sorted, so the verdict does not depend on arrival order. */
static void add_start(series_t *s, const start_t *x)
{
    uint32_t i;

    for (i = s->n; i > 0 && s->starts[i - 1].t >= x->t - BEACON_TWIN_US; i--) {
        if (is_twin(&s->starts[i - 1], x)) {
            merge_twin(&s->starts[i - 1], x);
            for (i--; i > 0 && s->starts[i - 1].t > s->starts[i].t; i--) { /* stay sorted */
                start_t t = s->starts[i - 1];
                s->starts[i - 1] = s->starts[i];
                s->starts[i] = t;
            }
            return;
        }
    }
    if (s->n == BEACON_KEEP) {
        if (x->t <= s->starts[0].t) {
            drop_start(s, x);
            return;
        }
        drop_start(s, &s->starts[0]);
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

/* Median and MAD of the gaps between the sorted starts; 0 when too few or irregular. */
static int regular(beacon_state_t *b, const series_t *s, double *median, double *mad)
{
    uint32_t i;

    if (s->n < BEACON_MIN_STARTS)
        return 0;
    for (i = 1; i < s->n; i++)
        b->gaps[i - 1] = (double)(s->starts[i].t - s->starts[i - 1].t);
    *median = median_of(b->gaps, s->n - 1);
    for (i = 0; i + 1 < s->n; i++)
        b->dev[i] = fabs((double)(s->starts[i + 1].t - s->starts[i].t) - *median);
    *mad = median_of(b->dev, s->n - 1);
    return *median >= BEACON_MIN_GAP_US && *mad <= BEACON_MAX_REL_MAD * *median;
}

/* One start as evidence; sessions > 1 when it stands for starts no longer kept too. */
static void report_start(mw_detect_ctx_t *ctx, const series_t *s, const start_t *x,
        uint64_t sessions, double median, double mad)
{
    mw_evidence_t ev = s->last;

    ev.start_us = x->t;
    ev.end_us = x->end;
    ev.flow_id = x->flow_id;
    ev.up = x->up;
    ev.down = x->down;
    ev.pkts_up = x->pkts_up;
    ev.pkts_down = x->pkts_down;
    ev.src_port = x->src_port;
    ev.dst_port = x->dst_port;
    ev.local_port = x->local_port;
    ev.peer_port = x->peer_port;
    ev.flows = ev.sessions = (uint32_t)MW_MIN(sessions, (uint64_t)UINT32_MAX);
    ev.value = median / 1e6;
    /* the limit: how irregular a beacon may be, as a MAD (seconds) */
    ev.limit = mad / 1e6;
    mw_detect_report(ctx, &ev);
}

/* Mean and sd (µs) of the in-flow gaps; 1 when they make a beacon: at least
 * BEACON_MIN_STARTS datagrams sent, BEACON_MIN_GAP_US apart on average, sd within
 * BEACON_MAX_REL_SD of the mean. */
static int regular_in_flow(const series_t *s, double *mean_us, double *sd_us)
{
    double mean_ms, var_ms2;

    if (s->in_flow.gaps + 1 < BEACON_MIN_STARTS)
        return 0;
    mean_ms = (double)s->in_flow.sum_us / 1000.0 / (double)s->in_flow.gaps;
    var_ms2 = (double)s->in_flow.sum_sq_ms2 / (double)s->in_flow.gaps - mean_ms * mean_ms;
    *mean_us = mean_ms * 1000.0;
    *sd_us = var_ms2 > 0.0 ? sqrt(var_ms2) * 1000.0 : 0.0;
    return *mean_us >= BEACON_MIN_GAP_US && *sd_us <= BEACON_MAX_REL_SD * *mean_us;
}

static void report_in_flow(mw_detect_ctx_t *ctx, const series_t *s, double mean_us, double sd_us)
{
    mw_evidence_t ev = s->in_flow.first;

    ev.kind = BEACON_IN_FLOW;
    ev.group = BEACON_IN_FLOW;
    ev.end_us = s->in_flow.end_us;
    ev.up = s->in_flow.up;
    ev.down = s->in_flow.down;
    ev.pkts_up = s->in_flow.pkts_up;
    ev.pkts_down = s->in_flow.pkts_down;
    ev.flows = (uint32_t)MW_MIN(s->in_flow.records, (uint64_t)UINT32_MAX);
    ev.sessions = (uint32_t)MW_MIN(s->in_flow.datagrams, (uint64_t)UINT32_MAX);
    ev.value = mean_us / 1e6;
    ev.limit = sd_us / 1e6; /* how irregular it is, as an sd (seconds) */
    mw_detect_report(ctx, &ev);
}

/*
 * A UDP session that repeats faster than the idle timeout (120 s) is one flow, not a
 * series of starts: its beacon is in the gaps between the datagrams the station sent,
 * which each record keeps as a mean and sd (gaps across a record's cut are left out).
 * Management and unclassified traffic only: keepalives are periodic by design (GTP-C
 * echo, NTP polls, IKE's NAT keepalives) and the control, sync and transport planes'
 * detectors judge those sessions' peers.
 */
static void add_in_flow(
        mw_detect_ctx_t *ctx, beacon_state_t *b, const mw_flow_view_t *v, uint32_t st)
{
    const mw_flow_record_t *r = v->rec;
    const mw_dir_stats_t *sent = v->local_is_dst ? &r->s2c : &r->c2s;
    series_t *s;
    mw_evidence_t ev;
    double n, mean_us, sd_us;
    int regular;

    /* a record counts only with gaps of its own that could be a beacon's, so a scan or a
     * flood (one datagram a port, or thousands a second) starts no series - judged on the
     * record alone, so the same records count in any order - and not when the station
     * only refused (port unreachables are not datagrams it sent) */
    if (r->l4_proto != 17 || sent->packets < 2 || sent->iat_mean * 1000.0 < BEACON_MIN_GAP_US / 2 ||
            r->refused_by != MW_SIDE_NONE ||
            (r->plane != MW_PLANE_MANAGEMENT && r->plane != MW_PLANE_UNKNOWN))
        return;
    s = find_series(b, r->bs_index, v->peer, v->service_port);
    if (s == NULL) {
        b->untracked++;
        return;
    }
    n = (double)(sent->packets - 1);
    s->in_flow.gaps += sent->packets - 1;
    s->in_flow.sum_us += (uint64_t)llround(n * (double)sent->iat_mean * 1000.0);
    s->in_flow.sum_sq_ms2 += (uint64_t)llround(
            n * ((double)sent->iat_std * sent->iat_std + (double)sent->iat_mean * sent->iat_mean));
    s->in_flow.datagrams += sent->packets;
    s->in_flow.records++;
    s->in_flow.up += v->up;
    s->in_flow.down += v->down;
    s->in_flow.pkts_up += v->pkts_up;
    s->in_flow.pkts_down += v->pkts_down;
    if (r->last_us > s->in_flow.end_us)
        s->in_flow.end_us = r->last_us;
    if (s->in_flow.records == 1 || r->first_us < s->in_flow.first.start_us ||
            (r->first_us == s->in_flow.first.start_us && r->flow_id < s->in_flow.first.flow_id))
        mw_evidence_from_flow(&s->in_flow.first, MW_DET_BEACON, MW_SEV_HIGH, st, v);
    /* offline: judged once, at the end; live: said as soon as it is regular, and every
     * later record joins its incident */
    if (!mw_detect_is_live(ctx))
        return;
    regular = regular_in_flow(s, &mean_us, &sd_us);
    if (!s->in_flow.reported) {
        if (regular)
            report_in_flow(ctx, s, mean_us, sd_us);
        s->in_flow.reported = regular;
        return;
    }
    mw_evidence_from_flow(&ev, MW_DET_BEACON, MW_SEV_HIGH, st, v);
    ev.kind = ev.group = BEACON_IN_FLOW;
    ev.sessions = (uint32_t)MW_MIN(sent->packets, (uint64_t)UINT32_MAX);
    if (regular) {
        ev.value = mean_us / 1e6;
        ev.limit = sd_us / 1e6;
    }
    mw_detect_report(ctx, &ev);
}

static void beacon_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    beacon_state_t *b = mw_detect_state(ctx, MW_DET_BEACON);
    series_t *s;
    start_t x;
    double median, mad;

    (void)key;
    if (tuple != NULL || v->rec->kind == MW_FLOW_INNER || v->rec->plane == MW_PLANE_USER)
        return;
    add_in_flow(ctx, b, v, st);
    if (!v->real_start || !v->bs_opened || !v->opener_known)
        return;
    s = find_series(b, v->rec->bs_index, v->peer, v->service_port);
    if (s == NULL) {
        b->untracked++;
        return;
    }
    x = (start_t){ v->rec->first_us, v->rec->last_us, v->rec->flow_id, v->up, v->down, v->pkts_up,
        v->pkts_down, v->rec->src_port, v->rec->dst_port, v->local_port, v->peer_port };
    add_start(s, &x);
    if (s->n == 1 || names_latest(&s->last, &x))
        mw_evidence_from_flow(&s->last, MW_DET_BEACON, MW_SEV_HIGH, st, v);
    /* live: say it as soon as it is regular; offline: judge the whole series at the end */
    if (mw_detect_is_live(ctx) && regular(b, s, &median, &mad))
        report_start(ctx, s, &x, 1, median, mad);
}

static void beacon_finish(mw_detect_ctx_t *ctx)
{
    beacon_state_t *b = mw_detect_state(ctx, MW_DET_BEACON);
    double median, mad;
    size_t i;
    uint32_t j;

    for (i = 0; i < b->n; i++) {
        series_t *s = b->series[i];
        if (!mw_detect_is_live(ctx) && regular(b, s, &median, &mad)) {
            if (s->dropped > 0) { /* judged on the latest starts, found from the first */
                start_t first = s->first;
                fold(&first, &s->others);
                report_start(ctx, s, &first, s->dropped, median, mad);
            }
            for (j = 0; j < s->n; j++)
                report_start(ctx, s, &s->starts[j], 1, median, mad);
        }
        if (!mw_detect_is_live(ctx) && regular_in_flow(s, &median, &mad))
            report_in_flow(ctx, s, median, mad);
        s->n = 0;
        s->dropped = 0;
        memset(&s->others, 0, sizeof(s->others));
        memset(&s->in_flow, 0, sizeof(s->in_flow));
    }
}

static void beacon_shed(const void *state, mw_shed_t *out)
{
    out->beacon += ((const beacon_state_t *)state)->untracked;
}

static void beacon_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    char session[256];

    mw_fmt_session(ctx, session, sizeof(session), a);
    if (a->kind == BEACON_IN_FLOW)
        snprintf(out, len,
                "beaconing in one flow: the base station sent %u datagrams of %s (%s) every "
                "%.0f s (mean gap; sd %.1f s) in %u records: %s; a session never seen in %.1f "
                "days of training",
                a->n_sessions, a->app, mw_service_name(a->service), a->value, a->limit, a->n_flows,
                session, mw_detect_training_days(ctx));
    else
        snprintf(out, len,
                "beaconing: %u sessions of %s (%s) started every %.0f s (median gap; MAD %.0f "
                "s): %s; a session never seen in %.1f days of training",
                a->n_sessions, a->app, mw_service_name(a->service), a->value, a->limit, session,
                mw_detect_training_days(ctx));
}

const mw_detector_ops_t mw_det_beacon = { .name = "beacon",
    .on_flow = beacon_flow,
    .on_finish = beacon_finish,
    .explain = beacon_explain,
    .init = beacon_init,
    .fini = beacon_fini,
    .shed = beacon_shed,
    .gap_us = INT64_MAX / 4 };
