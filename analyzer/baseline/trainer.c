/*
 * trainer.c - every flow record with a base station updates its tuple, the
 * station's span and hour-of-week profile, and its management-plane window;
 * windows fold into the station's series once they can no longer change.
 */
#include "baseline/trainer.h"

#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>
#include <string.h>

#include "baseline/hour_counts.h"
#include "baseline/windows.h"
#include "classify/plane.h"
#include "core/mw.h"

struct mw_trainer {
    mw_model_t *model;
    const mw_inventory_t *inv;
    mw_proto_name_fn name;
    void *name_ctx;
    mw_windows_t *windows;
    mw_hour_counts_t hours; /* flows per (tuple, hour): each tuple's busiest hour */
    int64_t last_close_us;
    uint64_t records;
};

mw_trainer_t *mw_trainer_create(
        mw_model_t *model, const mw_inventory_t *inv, mw_proto_name_fn name, void *name_ctx)
{
    mw_trainer_t *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->windows = mw_windows_create(mw_model_meta(model)->window_us);
    if (t->windows == NULL) {
        free(t);
        return NULL;
    }
    t->model = model;
    t->inv = inv;
    t->name = name;
    t->name_ctx = name_ctx;
    return t;
}

static void add_window(mw_station_t *s, const mw_window_t *win)
{
    double ratio = mw_window_ratio(win);
    int svc;

    mw_series_add(&s->win_flows, (double)win->flows);
    mw_series_add(&s->win_up, (double)win->up);
    mw_series_add(&s->win_down, (double)win->down);
    mw_series_add(&s->win_peers, (double)win->npeers);
    if (ratio >= 0)
        mw_series_add(&s->win_ratio, ratio);
    for (svc = 0; svc < MW_SVC_COUNT; svc++) {
        if (win->svc_flows[svc] == 0)
            continue;
        mw_series_add(&s->svc_up[svc], (double)win->svc_up[svc]);
        mw_series_add(&s->svc_flows[svc], (double)win->svc_flows[svc]);
    }
}

/* The role group of a station: all base stations of its type, as one more "station". */
static mw_station_t *group_of(mw_trainer_t *t, const mw_station_t *s, uint32_t *index)
{
    char id[MW_MODEL_ID_LEN];

    snprintf(id, sizeof(id), "%s%s", MW_GROUP_PREFIX, mw_bs_type_name(s->type));
    return mw_model_station(t->model, id, index);
}

static void fold_window(void *ctx, const mw_window_t *win)
{
    mw_trainer_t *t = ctx;
    mw_station_t *g = group_of(t, mw_model_station_at(t->model, win->station), NULL);

    if (g != NULL)
        add_window(g, win);
    /* after group_of: creating the group may have moved the station table */
    add_window((mw_station_t *)mw_model_station_at(t->model, win->station), win);
}

static void update_tuple(mw_trainer_t *t, const mw_flow_view_t *v, uint32_t st)
{
    mw_tuple_key_t key;
    mw_tuple_stats_t *ts, one;
    const mw_flow_record_t *r = v->rec;

    mw_flow_view_key(v, st, &key);
    ts = mw_model_tuple(t->model, &key, 1);
    if (ts == NULL)
        return;          /* model cap reached: counted by the tuple count staying flat */
    if (v->real_start) { /* how often a session starts: records cut by a timeout are no start */
        mw_hour_count_t *hc = mw_hour_counts_add(
                &t->hours, XXH3_64bits(&key, sizeof(key)), r->first_us, r->last_us, r->flow_id);
        if (hc != NULL && hc->count > ts->max_flows_hour)
            ts->max_flows_hour = hc->count;
    }
    memset(&one, 0, sizeof(one));
    one.flows = 1;
    one.bytes_up = one.max_up = v->up;
    one.bytes_down = one.max_down = v->down;
    if (!mw_inventory_in_maintenance(t->inv, r->first_us))
        one.max_down_offwin = v->down;
    one.first_us = r->first_us;
    one.last_us = r->last_us;
    one.max_duration_us = v->duration_us;
    one.max_pkt_len = v->max_pkt;
    one.hours_mask = 1u << v->hour_of_day;
    one.risk_mask = r->risk;
    mw_tuple_merge(ts, &one);
}

/* Station-level learning, for the station itself and for its role group. */
static void learn_station(
        mw_trainer_t *t, const mw_flow_view_t *v, mw_station_t *s, uint32_t st, uint8_t type)
{
    const mw_flow_record_t *r = v->rec;

    if (s->records == 0 || r->first_us < s->first_us)
        s->first_us = r->first_us;
    if (r->last_us > s->last_us)
        s->last_us = r->last_us;
    s->records++;
    s->type = type;
    update_tuple(t, v, st);
    if (r->service == MW_SVC_DNS && (r->host[0] != '\0' || r->dns_max_label != 0)) {
        uint32_t len, label;
        mw_dns_record_shape(r, &len, &label);
        s->dns_max_name = MW_MAX(s->dns_max_name, len);
        s->dns_max_label = MW_MAX(s->dns_max_label, label);
    }
    if (mw_flow_view_is_oam(v)) {
        s->how_flows[v->hour_of_week]++;
        s->how_up[v->hour_of_week] += v->up;
    }
}

void mw_trainer_record(mw_trainer_t *t, const mw_flow_record_t *r)
{
    mw_flow_view_t v;
    mw_station_t *s, *g;
    uint32_t st, gi;
    uint8_t type;

    if (!mw_flow_view(&v, r, t->inv, t->name, t->name_ctx))
        return;
    type = (uint8_t)mw_inventory_bs_type(t->inv, r->bs_index);
    s = mw_model_station(t->model, v.bs_id, &st);
    if (s == NULL)
        return;
    s->type = type;
    g = group_of(t, s, &gi);
    if (g != NULL) {
        g->type = type;
        learn_station(t, &v, g, gi, type);
    }
    s = (mw_station_t *)mw_model_station_at(t->model, st); /* the table may have grown */
    t->records++;
    learn_station(t, &v, s, st, type);
    if (mw_flow_view_is_oam(&v))
        mw_windows_add(t->windows, st, r->first_us, v.up, v.down, v.local, v.peer, v.service_port,
                r->service, r->flow_id);
    {
        mw_model_meta_t *meta = mw_model_meta(t->model);
        if (meta->first_us == 0 || r->first_us < meta->first_us)
            meta->first_us = r->first_us;
        if (r->last_us > meta->last_us)
            meta->last_us = r->last_us;
    }
}

void mw_trainer_advance(mw_trainer_t *t, int64_t watermark_us)
{
    if (watermark_us > 0 && t->last_close_us - watermark_us > 86400LL * 1000000)
        t->last_close_us = watermark_us; /* packet time went back a day: follow it */
    if (watermark_us - t->last_close_us < mw_model_meta(t->model)->window_us)
        return;
    mw_windows_close(t->windows, watermark_us - MW_WINDOW_LATENESS_US, fold_window, t);
    /* an hour whose records have all arrived can be forgotten (its count is in the tuple) */
    mw_hour_counts_expire(&t->hours, watermark_us - MW_WINDOW_LATENESS_US - MW_HOUR_US);
    t->last_close_us = watermark_us;
}

void mw_trainer_set_memcap(mw_trainer_t *t, const mw_memcap_t *cap)
{
    mw_windows_set_max_bytes(t->windows, cap->windows);
    t->hours.max_bytes = cap->hours;
}

void mw_trainer_shed(const mw_trainer_t *t, mw_shed_t *out)
{
    out->windows += mw_windows_dropped(t->windows);
    out->hours += t->hours.dropped;
}

void mw_trainer_finish(mw_trainer_t *t)
{
    mw_windows_close(t->windows, INT64_MAX, fold_window, t);
}

uint64_t mw_trainer_records(const mw_trainer_t *t)
{
    return t->records;
}

void mw_trainer_destroy(mw_trainer_t *t)
{
    if (t == NULL)
        return;
    mw_windows_destroy(t->windows);
    mw_hour_counts_free(&t->hours);
    free(t);
}
