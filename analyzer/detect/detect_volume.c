/*
 * detect_volume.c - A5 uploads beyond the learned band (per window of the
 * management plane, and per flow against its tuple's largest flow), and A7
 * work outside the maintenance windows: a download far larger than any the
 * session had outside them in training (software loads belong in the
 * window). An hour-of-day profile per session was tried and dropped: with
 * sessions every few hours at a random phase it only raised false alarms.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "classify/plane.h"
#include "classify/roles.h"
#include "detect/detector.h"

#define BAND_SIGMAS        6.0
#define MIN_UPLOAD_ALERT   256e3 /* never alert on less than this per window */
#define FLOW_UP_FACTOR     4.0   /* a flow 4x the largest of its tuple */
#define NEW_PEER_UP_ALERT  256e3 /* an upload of 256 kB to a peer with no history */
#define OFFWIN_DOWN_FACTOR 4.0
#define OFFWIN_MIN_DOWN    100e3

static double up_threshold(const mw_station_t *s)
{
    double band = mw_series_mean(&s->win_up) + BAND_SIGMAS * mw_series_stddev(&s->win_up);
    return fmax(fmax(band, 2.0 * s->win_up.max), MIN_UPLOAD_ALERT);
}

#define RATIO_FACTOR        4.0 /* up/down ratio this many times the learned maximum */
#define RATIO_MIN_WINDOWS   12
#define SERVICE_MIN_WINDOWS 24
#define SERVICE_MIN_UP      64e3

enum { VOL_FLOW = 1, VOL_WINDOW = 2, VOL_RATIO = 3, VOL_SERVICE = 4 };
#define GROUP_RATIO   1
#define GROUP_SERVICE 100 /* + service: each protocol's band is its own incident */

/* A window-level evidence: the window's bytes, with the peer most of them went to. */
static void window_evidence(mw_detect_ctx_t *ctx, mw_evidence_t *ev, const mw_window_t *win,
        double value, double limit, uint8_t kind, int service)
{
    int64_t len = mw_model_meta_const(mw_detect_model(ctx))->window_us;

    memset(ev, 0, sizeof(*ev));
    ev->detector = MW_DET_VOLUME;
    ev->severity = value > 4 * limit ? MW_SEV_HIGH : MW_SEV_MEDIUM;
    ev->kind = kind;
    ev->station = win->model_station;
    ev->bs_index = win->bs_index;
    ev->plane = MW_PLANE_MANAGEMENT;
    ev->initiator = MW_INIT_UNKNOWN; /* a window's bytes, of sessions either side opened */
    /* where most of the bytes went (of the service, for its own band), the port of the
     * largest upload there (no single session's ports besides) and the station's own address
     * it went from, not its inventory prefix's */
    (void)mw_window_top_peer(
            win, kind == VOL_SERVICE ? service : -1, ev->peer, &ev->service_port, ev->local);
    ev->start_us = win->index * len;
    ev->end_us = ev->start_us + len;
    ev->flow_id = win->first_flow_id;
    ev->window = 1;
    ev->flows = (uint32_t)win->flows;
    ev->up = win->up;
    ev->down = win->down;
    ev->value = value;
    ev->limit = limit;
}

/* Per management protocol: its upload in the window against its own learned band. */
static void volume_services(mw_detect_ctx_t *ctx, const mw_window_t *win, const mw_station_t *s)
{
    mw_evidence_t ev;
    int svc;

    for (svc = 1; svc < MW_SVC_COUNT; svc++) {
        const mw_series_t *up = &s->svc_up[svc];
        double limit;
        if (win->svc_up[svc] == 0 || up->n < SERVICE_MIN_WINDOWS)
            continue;
        limit = fmax(fmax(mw_series_mean(up) + BAND_SIGMAS * mw_series_stddev(up), 2.0 * up->max),
                SERVICE_MIN_UP);
        if ((double)win->svc_up[svc] <= limit)
            continue;
        window_evidence(ctx, &ev, win, (double)win->svc_up[svc], limit, VOL_SERVICE, svc);
        ev.group = (uint16_t)(GROUP_SERVICE + svc);
        ev.service = (uint16_t)svc;
        ev.up = win->svc_up[svc];
        ev.down = 0;
        ev.flows = win->svc_flows[svc];
        mw_detect_report(ctx, &ev);
    }
}

static void volume_window(mw_detect_ctx_t *ctx, const mw_window_t *win, const mw_station_t *s)
{
    mw_evidence_t ev;
    uint32_t st = win->model_station;
    double limit, ratio = mw_window_ratio(win);

    if (!mw_detect_station_ready(ctx, st))
        return;
    volume_services(ctx, win, s);
    limit = RATIO_FACTOR * fmax(s->win_ratio.max, 1.0);
    if (ratio >= 0 && s->win_ratio.n >= RATIO_MIN_WINDOWS && ratio > limit) {
        window_evidence(ctx, &ev, win, ratio, limit, VOL_RATIO, -1);
        ev.group = GROUP_RATIO;
        mw_detect_report(ctx, &ev);
    }
    limit = up_threshold(s);
    if ((double)win->up <= limit)
        return;
    window_evidence(ctx, &ev, win, (double)win->up, limit, VOL_WINDOW, -1);
    mw_detect_report(ctx, &ev);
}

static void volume_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    mw_evidence_t ev;
    double limit;
    (void)key;

    if (v->rec->kind == MW_FLOW_INNER || v->rec->plane == MW_PLANE_USER)
        return;
    limit = tuple ? fmax(FLOW_UP_FACTOR * (double)tuple->max_up, MIN_UPLOAD_ALERT)
                  : NEW_PEER_UP_ALERT;
    if ((double)v->up <= limit)
        return;
    mw_evidence_from_flow(&ev, MW_DET_VOLUME, MW_SEV_HIGH, st, v);
    ev.kind = VOL_FLOW;
    ev.value = (double)v->up;
    ev.limit = limit;
    mw_detect_report(ctx, &ev);
}

static void volume_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    char peer[96], local[96], v[32], r[32], total[32], session[256];

    mw_fmt_peer(ctx, peer, sizeof(peer), a);
    mw_fmt_local(local, sizeof(local), a);
    mw_fmt_bytes(v, sizeof(v), a->value);
    mw_fmt_bytes(r, sizeof(r), a->limit);
    mw_fmt_bytes(total, sizeof(total), (double)a->bytes_up);
    switch (a->kind) {
        case VOL_RATIO:
            snprintf(out, len,
                    "management-plane up/down ratio of %.1f in a window, above %.1f (4x the "
                    "highest in training) at %s; most uploaded to %s",
                    a->value, a->limit, local, peer);
            return;
        case VOL_SERVICE:
            snprintf(out, len,
                    "%s uploaded %s in a window, above its learned limit of %s (mean + 6 sd, 2x "
                    "its largest window) at %s; most of it to %s; %s up in %u flows in all",
                    mw_service_name(a->service), v, r, local, peer, total, a->n_flows);
            return;
        case VOL_WINDOW:
            snprintf(out, len,
                    "management-plane upload of %s in a window at %s, above the learned limit "
                    "of %s; most of it to %s; %s up in %u flows in all",
                    v, local, r, peer, total, a->n_flows);
            return;
        default:
            mw_fmt_session(ctx, session, sizeof(session), a);
            snprintf(out, len,
                    "upload of %s in one flow (%s, %s), above the learned limit of %s: %s; %s up "
                    "in %u flows in all",
                    v, a->app, mw_service_name(a->service), r, session, total, a->n_flows);
    }
}

const mw_detector_ops_t mw_det_volume = {
    .name = "volume", .on_flow = volume_flow, .on_window = volume_window, .explain = volume_explain
};

/* ---- A7 outside the learned hours / maintenance windows ---- */

static void off_hours_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    double limit;
    (void)key;

    if (v->rec->kind == MW_FLOW_INNER || v->rec->plane != MW_PLANE_MANAGEMENT)
        return;
    if (mw_inventory_in_maintenance(mw_detect_inventory(ctx), v->rec->first_us))
        return;
    limit = fmax(
            OFFWIN_DOWN_FACTOR * (double)(tuple ? tuple->max_down_offwin : 0), OFFWIN_MIN_DOWN);
    if ((double)v->down > limit) {
        mw_evidence_t ev;
        mw_evidence_from_flow(&ev, MW_DET_OFF_HOURS, MW_SEV_HIGH, st, v);
        ev.value = (double)v->down;
        ev.limit = limit;
        mw_detect_report(ctx, &ev);
    }
}

static void off_hours_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    char session[256], v[32], r[32], total[32];

    mw_fmt_session(ctx, session, sizeof(session), a);
    mw_fmt_bytes(v, sizeof(v), a->value);
    mw_fmt_bytes(r, sizeof(r), a->limit);
    mw_fmt_bytes(total, sizeof(total), (double)a->bytes_down);
    snprintf(out, len,
            "download of %s (%s) outside the maintenance windows, above %s (4x the largest "
            "outside them in %.1f days of training, at least 100 kB): %s; %s down in %u flows",
            v, a->app, r, mw_detect_training_days(ctx), session, total, a->n_flows);
}

const mw_detector_ops_t mw_det_off_hours = {
    .name = "off_hours", .on_flow = off_hours_flow, .explain = off_hours_explain
};
