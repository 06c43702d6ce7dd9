/*
 * detect_rate.c - a known session that suddenly starts far more often than
 * it ever did: more real starts in one clock hour than max(3 x, + 6) the
 * busiest hour of training for that tuple. This catches what novelty
 * cannot: a beacon or a tool hiding in a session the base station always
 * had (HTTPS to the EMS every few hours turned into one every 5 minutes).
 * Only real starts count - a long association cut by the active timeout is
 * one session, not one every few minutes.
 * Offline, an hour is judged once the watermark has passed it (or at the
 * end), on its full count, so the verdict does not depend on arrival order;
 * live, the moment the count crosses the limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "baseline/hour_counts.h"
#include "baseline/trainer.h"
#include "classify/plane.h"
#include "core/mw.h"
#include "detect/detector.h"

#define RATE_FACTOR 3
#define RATE_SLACK  6

typedef struct rate_state {
    mw_hour_counts_t counts;
    mw_detect_ctx_t *ctx; /* valid while the run calls in */
} rate_state_t;

static int rate_init(void **state, const mw_memcap_t *cap)
{
    rate_state_t *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return MW_ENOMEM;
    r->counts.max_bytes = cap->hours;
    *state = r;
    return 0;
}

static void rate_fini(void *state)
{
    rate_state_t *r = state;

    mw_hour_counts_free(&r->counts);
    free(r);
}

static uint32_t limit_of(uint32_t learned)
{
    uint32_t a = RATE_FACTOR * learned, b = learned + RATE_SLACK;
    return a > b ? a : b;
}

/* Evidence for an hour over its limit: its kept flow ids, together standing for all its starts. */
static void report_hour(mw_detect_ctx_t *ctx, const mw_hour_count_t *e)
{
    mw_flow_view_t v;
    mw_evidence_t ev;
    uint32_t i;

    if (!mw_flow_view(&v, &e->sample, mw_detect_inventory(ctx), NULL, NULL))
        return;
    mw_evidence_from_flow(&ev, MW_DET_RATE, MW_SEV_MEDIUM, e->station, &v);
    memcpy(ev.app, e->app, sizeof(ev.app));
    ev.start_us = e->first_us;
    ev.end_us = e->last_us;
    ev.value = e->count;
    ev.limit = limit_of(e->learned);
    for (i = 0; i < e->nids; i++) {
        ev.flow_id = e->ids[i];
        /* the first piece stands for the starts whose ids were not kept, and carries the
         * hour's bytes: the incident's sums are the hour's */
        ev.flows = ev.sessions = i == 0 ? e->count - (e->nids - 1) : 1;
        ev.up = i == 0 ? e->up : 0;
        ev.down = i == 0 ? e->down : 0;
        ev.pkts_up = i == 0 ? e->pkts_up : 0;
        ev.pkts_down = i == 0 ? e->pkts_down : 0;
        mw_detect_report(ctx, &ev);
    }
}

static void judge(void *state, const mw_hour_count_t *e)
{
    rate_state_t *r = state;

    if (!mw_detect_is_live(r->ctx) && e->count > limit_of(e->learned))
        report_hour(r->ctx, e);
}

static void rate_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    rate_state_t *r = mw_detect_state(ctx, MW_DET_RATE);
    mw_hour_count_t *e;
    struct {
        mw_tuple_key_t key;
        uint16_t bs_index;
    } counted;

    memset(&counted, 0, sizeof(counted)); /* hashed whole: padding too */
    if (tuple == NULL || !v->real_start || v->rec->kind == MW_FLOW_INNER ||
            v->rec->plane == MW_PLANE_USER)
        return;
    r->ctx = ctx;
    r->counts.on_drop = judge;
    r->counts.drop_ctx = r;
    /* the tuple names the model's station, a role group for stations not in the model: the
     * inventory's station keeps each station's hours its own */
    counted.key = *key;
    counted.bs_index = v->rec->bs_index;
    e = mw_hour_counts_add(&r->counts, XXH3_64bits(&counted, sizeof(counted)), v->rec->first_us,
            v->rec->last_us, v->rec->flow_id);
    if (e == NULL)
        return;
    e->up += v->up;
    e->down += v->down;
    e->pkts_up += v->pkts_up;
    e->pkts_down += v->pkts_down;
    if (e->count == 1 || v->rec->flow_id <= e->ids[0]) {
        e->station = st;
        e->learned = tuple->max_flows_hour;
        e->sample = *v->rec;
        memcpy(e->app, key->app, sizeof(e->app));
        e->app[sizeof(e->app) - 1] = '\0';
    }
    if (!mw_detect_is_live(ctx) || e->count <= limit_of(e->learned))
        return;
    if (e->count == limit_of(e->learned) + 1) {
        report_hour(ctx, e); /* crossing: the starts so far are the evidence */
    } else {
        mw_evidence_t ev;
        mw_evidence_from_flow(&ev, MW_DET_RATE, MW_SEV_MEDIUM, st, v);
        memcpy(ev.app, e->app, sizeof(ev.app));
        ev.value = e->count;
        ev.limit = limit_of(e->learned);
        mw_detect_report(ctx, &ev); /* this start, with its own bytes */
    }
}

static void rate_advance(mw_detect_ctx_t *ctx, int64_t watermark_us)
{
    rate_state_t *r = mw_detect_state(ctx, MW_DET_RATE);

    r->ctx = ctx;
    mw_hour_counts_expire(&r->counts, watermark_us - MW_WINDOW_LATENESS_US - MW_HOUR_US);
}

static void rate_finish(mw_detect_ctx_t *ctx)
{
    rate_state_t *r = mw_detect_state(ctx, MW_DET_RATE);

    r->ctx = ctx;
    mw_hour_counts_drain(&r->counts);
    mw_hour_counts_free(&r->counts);
}

static void rate_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    char session[256];

    mw_fmt_session(ctx, session, sizeof(session), a);
    snprintf(out, len,
            "%s (%s) started %.0f times in one hour, above the limit of %.0f (3x, at least +6, "
            "the busiest hour of %.1f days of training): %s; %u sessions in all",
            mw_service_name(a->service), a->app, a->value, a->limit, mw_detect_training_days(ctx),
            session, a->n_sessions);
}

static void rate_shed(const void *state, mw_shed_t *out)
{
    out->hours += ((const rate_state_t *)state)->counts.dropped;
}

const mw_detector_ops_t mw_det_rate = { .name = "rate",
    .on_flow = rate_flow,
    .on_advance = rate_advance,
    .on_finish = rate_finish,
    .explain = rate_explain,
    .init = rate_init,
    .fini = rate_fini,
    .shed = rate_shed };
