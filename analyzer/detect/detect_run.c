/*
 * detect_run.c - the detection run: known-sets built from the model, the
 * per-record dispatch to the detectors, management-plane windows, coverage
 * per base station, and the hand-over of finished incidents (grouped by
 * incidents.c, filtered by suppress.c, explained by their detector) to the
 * caller's sink.
 *
 * Time: the watermark is the slowest producer's packet time; windows close
 * MW_WINDOW_LATENESS_US behind it (records arrive when their flow ends),
 * incidents twice that (detectors such as rate report an hour after it is
 * past), so every decision is taken in packet time, whatever the arrival
 * order of records.
 */
#include "detect/detect_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "baseline/hour_counts.h"
#include "baseline/trainer.h"
#include "baseline/windows.h"
#include "classify/plane.h"
#include "classify/roles.h"
#include "core/log.h"
#include "core/mw.h"
#include "detect/detector.h"
#include "detect/fpmap.h"
#include "detect/incidents.h"
#include "detect/suppress.h"

#define CLOCK_JUMP_US (86400LL * 1000000)

struct mw_detect_ctx {
    mw_detect_params_t p;
    mw_fpmap_t peers, services; /* fingerprints of what training saw */
    mw_fpmap_t anyapp;          /* tuple key without its label -> index into anyapp_stats */
    mw_tuple_stats_t *anyapp_stats;
    size_t nanyapp, capanyapp;
    mw_windows_t *windows;
    mw_incidents_t *incidents;
    mw_suppress_t *suppress;
    void *state[MW_DET_COUNT];
    int64_t window_us, watermark_us, last_close_us;
    int own_watermark; /* no producer watermark given: follow the records */
    uint64_t counts[4];
    mw_coverage_record_t *cov; /* [0] no base station, [i] bs_index i */
    size_t ncov;
    uint8_t **hours_seen; /* per station: bit h = a record started in hour base_hour + h */
    int64_t base_hour, first_us, last_us;
};

#define COVERAGE_MAX_HOURS (24 * 400) /* gaps are counted over 400 days at most */

/* ---- known-sets ---- */

static uint64_t peer_fp(uint32_t station, const uint8_t peer[16])
{
    uint8_t buf[20];

    memcpy(buf, &station, 4);
    memcpy(buf + 4, peer, 16);
    return XXH3_64bits(buf, sizeof(buf));
}

static uint64_t service_fp(const mw_tuple_key_t *k)
{
    mw_tuple_key_t s;

    memset(&s, 0, sizeof(s));
    s.station = k->station;
    s.service = k->service;
    s.l4_proto = k->l4_proto;
    s.inner = k->inner;
    memcpy(s.app, k->app, sizeof(s.app));
    /* a service known by name may move ports; an unnamed one is known by its port */
    if (k->service == MW_SVC_NONE)
        s.port = k->port;
    return XXH3_64bits(&s, sizeof(s));
}

/* A named service (by its port) under any label: what a record whose label cannot be
 * trusted (nDPI "Unknown", or a session picked up mid-stream) is matched against. The
 * empty label stands for any: a record's label is never empty ("Unknown" at least). */
static uint64_t service_any_label_fp(const mw_tuple_key_t *k)
{
    mw_tuple_key_t s = *k;

    memset(s.app, 0, sizeof(s.app));
    return service_fp(&s);
}

static uint64_t anyapp_fp(const mw_tuple_key_t *k)
{
    mw_tuple_key_t s = *k;

    memset(s.app, 0, sizeof(s.app));
    return XXH3_64bits(&s, sizeof(s));
}

typedef struct learn_ctx {
    mw_detect_ctx_t *c;
    int failed;
} learn_ctx_t;

static void learn_tuple(void *ctx, const mw_tuple_key_t *k, const mw_tuple_stats_t *st)
{
    learn_ctx_t *l = ctx;
    mw_detect_ctx_t *c = l->c;
    uint64_t fp = anyapp_fp(k), pos;

    l->failed |= mw_fpmap_put(&c->peers, peer_fp(k->station, k->peer), 1);
    l->failed |= mw_fpmap_put(&c->services, service_fp(k), 1);
    if (k->service != MW_SVC_NONE)
        l->failed |= mw_fpmap_put(&c->services, service_any_label_fp(k), 1);
    if (mw_fpmap_get(&c->anyapp, fp, &pos)) {
        mw_tuple_merge(&c->anyapp_stats[pos], st);
        return;
    }
    if (c->nanyapp == c->capanyapp) {
        size_t cap = c->capanyapp ? c->capanyapp * 2 : 1024;
        mw_tuple_stats_t *n = realloc(c->anyapp_stats, cap * sizeof(*n));
        if (n == NULL) {
            l->failed = 1;
            return;
        }
        c->anyapp_stats = n;
        c->capanyapp = cap;
    }
    c->anyapp_stats[c->nanyapp] = *st;
    l->failed |= mw_fpmap_put(&c->anyapp, fp, c->nanyapp);
    c->nanyapp++;
}

/* ---- what detectors call ---- */

const mw_model_t *mw_detect_model(const mw_detect_ctx_t *c)
{
    return c->p.model;
}

const mw_inventory_t *mw_detect_inventory(const mw_detect_ctx_t *c)
{
    return c->p.inv;
}

int mw_detect_knows_peer(const mw_detect_ctx_t *c, uint32_t station, const uint8_t peer[16])
{
    return mw_fpmap_get(&c->peers, peer_fp(station, peer), NULL);
}

int mw_detect_knows_service(const mw_detect_ctx_t *c, const mw_tuple_key_t *key)
{
    return mw_fpmap_get(&c->services, service_fp(key), NULL);
}

int mw_detect_knows_service_any_label(const mw_detect_ctx_t *c, const mw_tuple_key_t *key)
{
    return key->service != MW_SVC_NONE &&
           mw_fpmap_get(&c->services, service_any_label_fp(key), NULL);
}

int mw_detect_is_live(const mw_detect_ctx_t *c)
{
    return c->p.live;
}

void *mw_detect_state(const mw_detect_ctx_t *c, unsigned detector)
{
    return detector < MW_DET_COUNT ? c->state[detector] : NULL;
}

int mw_detect_station_ready(const mw_detect_ctx_t *c, uint32_t station)
{
    const mw_station_t *s = mw_model_station_at(c->p.model, station);
    return s != NULL && mw_station_learned(s);
}

double mw_detect_training_days(const mw_detect_ctx_t *c)
{
    const mw_model_meta_t *m = mw_model_meta_const(c->p.model);
    return (double)mw_span_us(m->first_us, m->last_us) / 86400e6;
}

void mw_detect_report(mw_detect_ctx_t *c, const mw_evidence_t *ev)
{
    const mw_detector_ops_t *ops = mw_detectors[ev->detector];

    mw_incidents_add(c->incidents, ev, ops->gap_us ? ops->gap_us : MW_DETECT_DEFAULT_GAP_US);
}

/* ---- finished incidents ---- */

static void on_incident(void *ctx, enum mw_incident_event event, mw_anomaly_record_t *a,
        const uint64_t *ids, uint32_t nids)
{
    mw_detect_ctx_t *c = ctx;
    const char *bs = mw_inventory_bs_id(c->p.inv, a->bs_index);

    if (mw_suppress_match(c->suppress, a->detector, bs, a->peer_hi, a->peer_lo))
        return;
    mw_detectors[a->detector]->explain(c, a, a->explanation, MW_EXPLANATION_LEN);
    if (event == MW_INCIDENT_FINAL) {
        c->counts[a->severity & 3]++;
        if (a->bs_index < c->ncov)
            c->cov[a->bs_index].anomalies++;
    }
    if (c->p.sink.anomaly != NULL)
        c->p.sink.anomaly(c->p.sink.ctx,
                event == MW_INCIDENT_OPEN ? "open" : (c->p.live ? "close" : "final"), a, ids, nids);
}

static void on_window_closed(void *ctx, const mw_window_t *win)
{
    mw_detect_ctx_t *c = ctx;
    const mw_station_t *st = mw_model_station_at(c->p.model, win->model_station);
    mw_window_record_t row;
    double sd = mw_series_stddev(&st->win_up);
    size_t i;

    memset(&row, 0, sizeof(row));
    row.start_us = win->index * c->window_us;
    row.flows = win->flows;
    row.bytes_up = win->up;
    row.bytes_down = win->down;
    row.peers = win->npeers;
    row.bs_index = win->bs_index;
    if (mw_detect_station_ready(c, win->model_station) && sd > 0)
        row.z_up = (float)(((double)win->up - mw_series_mean(&st->win_up)) / sd);
    if (c->p.sink.window != NULL)
        c->p.sink.window(c->p.sink.ctx, &row);
    for (i = 0; i < mw_detector_count; i++)
        if (mw_detectors[i]->on_window != NULL)
            mw_detectors[i]->on_window(c, win, st);
}

/* ---- per record ---- */

enum { SCORED_BY_NONE, SCORED_BY_OWN, SCORED_BY_GROUP };

/* The model station scoring a base station: its own, else its role group's (group[] names
 * it then); SCORED_BY_NONE when the model has neither. */
static int scoring_station(
        const mw_detect_ctx_t *c, uint16_t bs_index, uint32_t *st, char group[MW_MODEL_ID_LEN])
{
    const char *bs = mw_inventory_bs_id(c->p.inv, bs_index);

    group[0] = '\0';
    if (bs == NULL)
        return SCORED_BY_NONE;
    if (mw_model_find_station(c->p.model, bs, st) != NULL)
        return SCORED_BY_OWN;
    snprintf(group, MW_MODEL_ID_LEN, "%s%s", MW_GROUP_PREFIX,
            mw_bs_type_name(mw_inventory_bs_type(c->p.inv, bs_index)));
    return mw_model_find_station(c->p.model, group, st) != NULL ? SCORED_BY_GROUP : SCORED_BY_NONE;
}

/* The model station scoring the record's base station, as scoring_station; sets coverage. */
static int station_or_group(mw_detect_ctx_t *c, uint16_t bs_index, uint32_t *st)
{
    char group[MW_MODEL_ID_LEN];
    mw_coverage_record_t *cov = &c->cov[bs_index];
    int by = scoring_station(c, bs_index, st, group);

    if (cov->status == MW_COV_SILENT) {
        if (by == SCORED_BY_OWN) {
            cov->status = mw_detect_station_ready(c, *st) ? MW_COV_SCORED : MW_COV_LEARNING;
        } else {
            cov->status = by == SCORED_BY_GROUP ? MW_COV_GROUP : MW_COV_NOT_SCORED;
            if (by == SCORED_BY_GROUP)
                mw_log_note("base station %s is not in the model: scored against all %s "
                            "stations of the training (%s)",
                        mw_inventory_bs_id(c->p.inv, bs_index),
                        mw_bs_type_name(mw_inventory_bs_type(c->p.inv, bs_index)), group);
        }
    }
    return by != SCORED_BY_NONE;
}

/* Marks the record's hours for the station: hours nobody marked are gaps. */
static void mark_hours(mw_detect_ctx_t *c, size_t st, const mw_flow_record_t *r)
{
    int64_t h, from = r->first_us / MW_HOUR_US, to = r->last_us / MW_HOUR_US;

    if (c->first_us == 0 || r->first_us < c->first_us)
        c->first_us = r->first_us;
    if (r->last_us > c->last_us)
        c->last_us = r->last_us;
    if (c->base_hour == 0)
        c->base_hour = from - 24; /* records arrive up to the lateness out of order */
    if (c->hours_seen[st] == NULL) {
        c->hours_seen[st] = calloc(COVERAGE_MAX_HOURS / 8, 1);
        if (c->hours_seen[st] == NULL)
            return;
    }
    for (h = from; h <= to && h - from < COVERAGE_MAX_HOURS; h++) {
        int64_t i = h - c->base_hour;
        if (i >= 0 && i < COVERAGE_MAX_HOURS)
            c->hours_seen[st][i / 8] |= (uint8_t)(1u << (i % 8));
    }
}

static void count_coverage(mw_detect_ctx_t *c, const mw_flow_record_t *r)
{
    size_t st = r->bs_index < c->ncov ? r->bs_index : 0;
    mw_coverage_record_t *cov = &c->cov[st];

    mark_hours(c, st, r);
    if (cov->flows == 0 || r->first_us < cov->first_us)
        cov->first_us = r->first_us;
    if (r->last_us > cov->last_us)
        cov->last_us = r->last_us;
    cov->flows++;
    cov->start_seen += r->start_seen && !r->continued;
    cov->continued += r->continued;
    cov->mid_session += !r->start_seen && !r->continued && (r->l4_proto == 6 || r->l4_proto == 132);
    cov->one_way += mw_flow_one_way_side(r) != MW_SEEN_BOTH;
}

/* The tuple of a record; a record whose label cannot be trusted (none, mid-session, one
 * direction) matches the same session under any label. */
static const mw_tuple_stats_t *lookup_tuple(
        const mw_detect_ctx_t *c, const mw_flow_view_t *v, const mw_tuple_key_t *key)
{
    const mw_tuple_stats_t *t = mw_model_lookup(c->p.model, key);
    uint64_t pos;

    if (t == NULL && !v->label_trusted && mw_fpmap_get(&c->anyapp, anyapp_fp(key), &pos))
        t = &c->anyapp_stats[pos];
    return t;
}

/* A record whose opener was a guess (its first packet seen) is looked up the other way
 * round too: a session already open when the capture began, or seen one way, must
 * match what training saw from its opening. Returns the tuple and sets *key when the
 * reversed key is the one the model knows. */
static const mw_tuple_stats_t *lookup_either_way(
        const mw_detect_ctx_t *c, const mw_flow_view_t *v, mw_tuple_key_t *key)
{
    const mw_tuple_stats_t *t = lookup_tuple(c, v, key);
    mw_tuple_key_t rev;

    if (t != NULL || v->opener_known)
        return t;
    rev = *key;
    rev.port = v->ftp_data ? key->port : v->rec->src_port; /* an FTP data key has no side */
    if (key->initiator == MW_INIT_BASE_STATION)
        rev.initiator = MW_INIT_PEER;
    else if (key->initiator == MW_INIT_PEER)
        rev.initiator = MW_INIT_BASE_STATION;
    t = lookup_tuple(c, v, &rev);
    if (t != NULL || (mw_detect_knows_service(c, &rev) && !mw_detect_knows_service(c, key)))
        *key = rev;
    return t;
}

/*
 * Signalling between two base stations (X2, Xn) is either one's to open: a record goes to
 * its src (who opened it), training saw it from one side, and the day may bring it from
 * the other. When this side's model does not know it, it is looked up as the other
 * station's session: *mirror_rec is the record as that station has it (sides swapped, its
 * bs_index), *mirror its view, *st and *key its model station and key, so whatever is then
 * reported names that station, its address and its bytes. Management sessions between
 * stations keep their direction: who logs into whom is what lateral movement is.
 * Returns the tuple the other station knows, or NULL.
 */
static const mw_tuple_stats_t *lookup_other_station(const mw_detect_ctx_t *c,
        const mw_flow_view_t *v, mw_flow_record_t *mirror_rec, mw_flow_view_t *mirror, uint32_t *st,
        mw_tuple_key_t *key)
{
    const mw_flow_record_t *r = v->rec;
    mw_inventory_match_t other;
    char group[MW_MODEL_ID_LEN];

    if (r->kind == MW_FLOW_INNER || r->plane != MW_PLANE_CONTROL ||
            r->local_role != MW_ROLE_BASE_STATION || r->peer_role != MW_ROLE_BASE_STATION ||
            !mw_inventory_lookup(c->p.inv, v->peer, &other) || other.role != MW_ROLE_BASE_STATION ||
            other.bs_index == r->bs_index ||
            scoring_station(c, other.bs_index, st, group) == SCORED_BY_NONE)
        return NULL;
    *mirror_rec = *r;
    mw_flow_record_swap(mirror_rec);
    mirror_rec->bs_index = other.bs_index;
    if (!mw_flow_view(mirror, mirror_rec, c->p.inv, c->p.name, c->p.name_ctx))
        return NULL;
    mirror->service_port = v->service_port; /* the responder's port names the service */
    mirror->bs_opened = 0;                  /* the record's src opened it, not this station */
    mw_flow_view_key(mirror, *st, key);
    return lookup_either_way(c, mirror, key);
}

static void one_record(mw_detect_ctx_t *c, const mw_flow_record_t *r)
{
    mw_flow_record_t mirror_rec; /* the other station's record of it (lookup_other_station) */
    mw_flow_view_t v;
    mw_tuple_key_t key;
    const mw_tuple_stats_t *tuple;
    uint32_t st;
    size_t i;

    if (c->own_watermark && r->last_us > c->watermark_us)
        c->watermark_us = r->last_us;
    count_coverage(c, r);
    if (r->bs_index == 0) {
        for (i = 0; i < mw_detector_count; i++)
            if (mw_detectors[i]->on_site_flow != NULL)
                mw_detectors[i]->on_site_flow(c, r);
        return;
    }
    if (!mw_flow_view(&v, r, c->p.inv, c->p.name, c->p.name_ctx))
        return;
    if (!station_or_group(c, r->bs_index, &st))
        return;
    mw_flow_view_key(&v, st, &key);
    tuple = lookup_either_way(c, &v, &key);
    if (tuple == NULL) {
        mw_flow_view_t mirror;
        mw_tuple_key_t mirror_key;
        uint32_t mirror_st;
        const mw_tuple_stats_t *known =
                lookup_other_station(c, &v, &mirror_rec, &mirror, &mirror_st, &mirror_key);
        if (known != NULL) { /* judged as the session the other station has */
            v = mirror;
            st = mirror_st;
            key = mirror_key;
            tuple = known;
        }
    }
    for (i = 0; i < mw_detector_count; i++)
        mw_detectors[i]->on_flow(c, &v, st, &key, tuple);
    if (mw_flow_view_is_oam(&v)) {
        /* keyed by inventory station: stations scored by one role group stay apart */
        mw_window_t *win = mw_windows_add(c->windows, r->bs_index, r->first_us, v.up, v.down,
                v.local, v.peer, v.service_port, r->service, r->flow_id);
        if (win != NULL) {
            win->bs_index = r->bs_index;
            win->model_station = st;
        }
    }
}

static void advance(mw_detect_ctx_t *c, int64_t watermark_us)
{
    size_t i;

    mw_windows_close(c->windows, watermark_us - MW_WINDOW_LATENESS_US, on_window_closed, c);
    for (i = 0; i < mw_detector_count; i++)
        if (mw_detectors[i]->on_advance != NULL)
            mw_detectors[i]->on_advance(c, watermark_us);
    mw_incidents_close(c->incidents, watermark_us - 2 * MW_WINDOW_LATENESS_US);
    c->last_close_us = watermark_us;
}

void mw_detect_run_records(
        mw_detect_run_t *run, const mw_flow_record_t *recs, size_t n, int64_t watermark_us)
{
    mw_detect_ctx_t *c = (mw_detect_ctx_t *)run;
    size_t i;

    c->own_watermark = watermark_us == MW_WATERMARK_FOLLOW;
    if (watermark_us > c->watermark_us)
        c->watermark_us = watermark_us;
    else if (!c->own_watermark && watermark_us > 0 &&
             c->watermark_us - watermark_us > CLOCK_JUMP_US) {
        /* packet time went back a day (a bogus future packet, inputs out of order): follow it,
         * or every window would close the moment it opens */
        c->watermark_us = c->last_close_us = watermark_us;
    }
    for (i = 0; i < n; i++)
        one_record(c, &recs[i]);
    if (c->watermark_us - c->last_close_us >= c->window_us)
        advance(c, c->watermark_us);
}

void mw_detect_run_finish(mw_detect_run_t *run)
{
    mw_detect_ctx_t *c = (mw_detect_ctx_t *)run;
    size_t i;

    mw_windows_close(c->windows, INT64_MAX, on_window_closed, c);
    for (i = 0; i < mw_detector_count; i++)
        if (mw_detectors[i]->on_finish != NULL)
            mw_detectors[i]->on_finish(c);
    mw_incidents_close(c->incidents, INT64_MAX);
    mw_incidents_flush(c->incidents);
}

void mw_detect_run_tick(mw_detect_run_t *run, int64_t now_us)
{
    mw_detect_ctx_t *c = (mw_detect_ctx_t *)run;

    if (now_us <= c->watermark_us)
        return;
    c->watermark_us = now_us;
    advance(c, now_us);
}

void mw_detect_run_counts(const mw_detect_run_t *run, uint64_t counts[4])
{
    memcpy(counts, ((const mw_detect_ctx_t *)run)->counts, 4 * sizeof(uint64_t));
}

const mw_coverage_record_t *mw_detect_run_coverage(const mw_detect_run_t *run, size_t *nrows)
{
    mw_detect_ctx_t *c = (mw_detect_ctx_t *)run;
    int64_t first = c->first_us / MW_HOUR_US - c->base_hour,
            last = c->last_us / MW_HOUR_US - c->base_hour;
    size_t st;

    for (st = 0; st < c->ncov && c->last_us > 0; st++) {
        int64_t i;
        uint32_t silent = 0;
        for (i = first < 0 ? 0 : first; i <= last && i < COVERAGE_MAX_HOURS; i++)
            silent += c->hours_seen[st] == NULL || !(c->hours_seen[st][i / 8] >> (i % 8) & 1);
        c->cov[st].silent_hours = silent;
    }
    *nrows = c->ncov;
    return c->cov;
}

void mw_detect_run_shed(const mw_detect_run_t *run, mw_shed_t *out)
{
    const mw_detect_ctx_t *c = (const mw_detect_ctx_t *)run;
    size_t i;

    out->evidence += mw_incidents_dropped(c->incidents);
    out->windows += mw_windows_dropped(c->windows);
    for (i = 0; i < mw_detector_count; i++)
        if (mw_detectors[i]->shed != NULL && c->state[i] != NULL)
            mw_detectors[i]->shed(c->state[i], out);
}

mw_detect_run_t *mw_detect_run_create(const mw_detect_params_t *p, char *errbuf, size_t errlen)
{
    mw_detect_ctx_t *c = calloc(1, sizeof(*c));
    mw_incidents_params_t ip;
    learn_ctx_t learn;
    mw_memcap_t cap;
    size_t i;

    if (c == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return NULL;
    }
    c->p = *p;
    mw_fpmap_init(&c->peers);
    mw_fpmap_init(&c->services);
    mw_fpmap_init(&c->anyapp);
    if (p->memcap != NULL)
        cap = *p->memcap;
    else
        mw_memcap_split(&cap, MW_MEMCAP_DEFAULT);
    c->window_us = mw_model_meta_const(p->model)->window_us;
    c->windows = mw_windows_create(c->window_us);
    if (c->windows != NULL)
        mw_windows_set_max_bytes(c->windows, cap.windows);
    ip = (mw_incidents_params_t){
        .max_bytes = cap.evidence, .live = p->live, .emit = on_incident, .ctx = c
    };
    c->incidents = mw_incidents_create(&ip);
    c->ncov = mw_inventory_bs_count(p->inv) + 1;
    c->cov = calloc(c->ncov, sizeof(*c->cov));
    c->hours_seen = calloc(c->ncov, sizeof(*c->hours_seen));
    learn = (learn_ctx_t){ c, 0 };
    if (c->windows == NULL || c->incidents == NULL || c->cov == NULL || c->hours_seen == NULL ||
            mw_model_foreach_tuple(p->model, learn_tuple, &learn) != 0 || learn.failed) {
        mw_fmt_err(errbuf, errlen, "out of memory loading the model");
        goto fail;
    }
    for (i = 0; i < c->ncov; i++) {
        c->cov[i].bs_index = (uint16_t)i;
        c->cov[i].status = i == 0 ? MW_COV_UNATTRIBUTED : MW_COV_SILENT;
    }
    for (i = 0; i < mw_detector_count; i++) {
        if (mw_detectors[i]->init != NULL && mw_detectors[i]->init(&c->state[i], &cap) != 0) {
            mw_fmt_err(errbuf, errlen, "out of memory for detector %s", mw_detectors[i]->name);
            goto fail;
        }
    }
    if (p->suppress_path != NULL) {
        c->suppress = mw_suppress_load(p->suppress_path, errbuf, errlen);
        if (c->suppress == NULL)
            goto fail;
    }
    return (mw_detect_run_t *)c;
fail:
    mw_detect_run_destroy((mw_detect_run_t *)c);
    return NULL;
}

void mw_detect_run_destroy(mw_detect_run_t *run)
{
    mw_detect_ctx_t *c = (mw_detect_ctx_t *)run;
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < mw_detector_count; i++)
        if (mw_detectors[i]->fini != NULL && c->state[i] != NULL)
            mw_detectors[i]->fini(c->state[i]);
    mw_incidents_destroy(c->incidents);
    mw_windows_destroy(c->windows);
    mw_suppress_free(c->suppress);
    mw_fpmap_free(&c->peers);
    mw_fpmap_free(&c->services);
    mw_fpmap_free(&c->anyapp);
    free(c->anyapp_stats);
    for (i = 0; c->hours_seen != NULL && i < c->ncov; i++)
        free(c->hours_seen[i]);
    free(c->hours_seen);
    free(c->cov);
    free(c);
}
