/*
 * detect_rate.c - a known session that suddenly starts far more often than
 * it ever did: more flows in one clock hour than max(3 x, + 6) the busiest
 * hour of training for that tuple. This catches what novelty cannot: a
 * beacon or a tool hiding in a session the base station always had (HTTPS
 * to the EMS every few hours turned into one every 5 minutes).
 * Offline, an hour is judged when it is past (or at the end), on its full
 * count, so the verdict does not depend on arrival order; live, the moment
 * the count crosses the limit.
 */
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "baseline/hour_counts.h"
#include "classify/plane.h"
#include "detect/detector.h"

#define RATE_FACTOR 3
#define RATE_SLACK  6

/* One detection run at a time (the writer thread); on_finish clears it. */
static mw_hour_counts_t counts;
static mw_detect_ctx_t *counts_ctx;

static uint32_t limit_of(uint32_t learned)
{
    uint32_t a = RATE_FACTOR * learned, b = learned + RATE_SLACK;
    return a > b ? a : b;
}

static void report_one(mw_detect_ctx_t *ctx, const mw_hour_count_t *e, uint64_t flow_id)
{
    mw_flow_view_t v;
    mw_evidence_t ev;

    if (!mw_flow_view(&v, &e->sample, mw_detect_inventory(ctx), NULL, NULL))
        return;
    mw_evidence_from_flow(&ev, MW_DET_RATE, MW_SEV_MEDIUM, e->station, &v);
    ev.app = e->app;
    ev.flow_id = flow_id;
    ev.start_us = e->first_us;
    ev.end_us = e->last_us;
    ev.value = e->count;
    ev.reference = e->learned;
    ev.score = (float)e->count / (float)limit_of(e->learned);
    ev.up = ev.down = 0;
    mw_detect_report(ctx, &ev);
}

static void report_ids(mw_detect_ctx_t *ctx, const mw_hour_count_t *e)
{
    uint32_t i;

    for (i = 0; i < e->nids; i++)
        report_one(ctx, e, e->ids[i]);
}

static void judge(void *ctx, const mw_hour_count_t *e)
{
    (void)ctx;
    if (counts_ctx != NULL && !mw_detect_is_live(counts_ctx) && e->count > limit_of(e->learned))
        report_ids(counts_ctx, e);
}

static void rate_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    mw_hour_count_t *e;

    if (tuple == NULL || v->rec->kind == MW_FLOW_INNER || v->rec->plane == MW_PLANE_USER)
        return;
    counts_ctx = ctx;
    counts.on_drop = judge;
    e = mw_hour_counts_add(&counts, XXH3_64bits(key, sizeof(*key)), v->rec->first_us,
            v->rec->last_us, v->rec->flow_id);
    if (e == NULL)
        return;
    if (e->count == 1) {
        e->station = st;
        e->learned = tuple->max_flows_hour;
        e->sample = *v->rec;
        memcpy(e->app, key->app, sizeof(e->app));
        e->app[sizeof(e->app) - 1] = '\0';
    }
    if (!mw_detect_is_live(ctx) || e->count <= limit_of(e->learned))
        return;
    if (e->count == limit_of(e->learned) + 1)
        report_ids(ctx, e); /* crossing: the flows so far are the evidence */
    else
        report_one(ctx, e, v->rec->flow_id);
}

static void rate_finish(mw_detect_ctx_t *ctx)
{
    counts_ctx = ctx;
    mw_hour_counts_drain(&counts);
    mw_hour_counts_free(&counts);
    counts_ctx = NULL;
}

static void rate_explain(const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, double value,
        double ref, char *out, size_t len)
{
    char peer[64];
    mw_fmt_addr(peer, sizeof(peer), a->peer_hi, a->peer_lo);
    snprintf(out, len,
            "%s with %s, port %u: %.0f sessions started in one hour, the busiest hour of %.1f "
            "days of training had %.0f",
            mw_service_name(a->service), peer, a->peer_port, value, mw_detect_training_days(ctx),
            ref);
}

const mw_detector_ops_t mw_det_rate = { "rate", rate_flow, NULL, rate_finish, rate_explain };
