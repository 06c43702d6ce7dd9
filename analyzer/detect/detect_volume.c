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

/* A window-level evidence; ev.service / ev.reference's sign say what it is about. */
static void window_evidence(mw_detect_ctx_t *ctx, mw_evidence_t *ev, const mw_window_t *win,
        double value, double limit, uint16_t service)
{
    int64_t len = mw_model_meta_const(mw_detect_model(ctx))->window_us;

    memset(ev, 0, sizeof(*ev));
    ev->detector = MW_DET_VOLUME;
    ev->severity = value > 4 * limit ? MW_SEV_HIGH : MW_SEV_MEDIUM;
    ev->score = (float)(value / limit);
    ev->station = win->model_station;
    ev->bs_index = win->bs_index;
    ev->plane = MW_PLANE_MANAGEMENT;
    memcpy(ev->peer, win->top_peer, 16);
    ev->service = service;
    ev->app = "";
    ev->start_us = win->index * len;
    ev->end_us = ev->start_us + len;
    ev->flow_id = win->first_flow_id;
    ev->value = value;
    ev->reference = limit;
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
        window_evidence(ctx, &ev, win, (double)win->svc_up[svc], limit, (uint16_t)svc);
        ev.peer_port = 0; /* marks per-protocol evidence: its own anomaly */
        ev.up = win->svc_up[svc];
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
        window_evidence(ctx, &ev, win, ratio, limit, MW_SVC_NONE);
        ev.reference = -limit; /* marks the ratio case for the explanation */
        ev.peer_port = 1;      /* its own anomaly, apart from the volume one */
        mw_detect_report(ctx, &ev);
    }
    limit = up_threshold(s);
    if ((double)win->up <= limit)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.detector = MW_DET_VOLUME;
    ev.severity = (double)win->up > 4 * limit ? MW_SEV_HIGH : MW_SEV_MEDIUM;
    ev.score = (float)((double)win->up / limit);
    ev.station = st;
    ev.bs_index = win->bs_index;
    ev.plane = MW_PLANE_MANAGEMENT;
    memcpy(ev.peer, win->top_peer, 16);
    ev.peer_port = win->top_peer_port;
    ev.app = "";
    ev.start_us = win->index * mw_model_meta_const(mw_detect_model(ctx))->window_us;
    ev.end_us = ev.start_us + mw_model_meta_const(mw_detect_model(ctx))->window_us;
    ev.flow_id = win->first_flow_id;
    ev.up = win->up;
    ev.down = win->down;
    ev.value = (double)win->up;
    ev.reference = limit;
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
    ev.score = (float)((double)v->up / limit);
    ev.value = (double)v->up;
    ev.reference = limit;
    ev.up = 0; /* the window evidence counts the bytes; here only the flow */
    ev.down = 0;
    mw_detect_report(ctx, &ev);
}

static void volume_explain(const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, double value,
        double ref, char *out, size_t len)
{
    char peer[64], v[32], r[32], total[32];
    (void)ctx;
    mw_fmt_addr(peer, sizeof(peer), a->peer_hi, a->peer_lo);
    if (ref < 0) {
        snprintf(out, len,
                "management-plane up/down ratio of %.1f in a window, above %.1f (4x the highest in "
                "training); largest upload to %s",
                value, -ref, peer);
        return;
    }
    if (a->service != MW_SVC_NONE && a->peer_port == 0) { /* per-protocol window evidence */
        mw_fmt_bytes(v, sizeof(v), value);
        mw_fmt_bytes(r, sizeof(r), ref);
        snprintf(out, len,
                "%s uploaded %s in a window, above its learned limit of %s (mean + 6 sd, 2x its "
                "largest window); largest upload to %s",
                mw_service_name(a->service), v, r, peer);
        return;
    }
    mw_fmt_bytes(v, sizeof(v), value);
    mw_fmt_bytes(r, sizeof(r), ref);
    mw_fmt_bytes(total, sizeof(total), a->bytes_up ? (double)a->bytes_up : value);
    snprintf(out, len,
            "upload of %s (largest to %s, port %u) above the learned limit of %s; %s up in all, "
            "%u flows",
            v, peer, a->peer_port, r, total, a->n_flows);
}

const mw_detector_ops_t mw_det_volume = { "volume", volume_flow, volume_window, NULL,
    volume_explain };

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
        ev.reference = limit;
        ev.score = (float)((double)v->down / limit);
        mw_detect_report(ctx, &ev);
    }
}

static void off_hours_explain(const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a,
        double value, double ref, char *out, size_t len)
{
    char peer[64], v[32], r[32];
    mw_fmt_addr(peer, sizeof(peer), a->peer_hi, a->peer_lo);
    mw_fmt_bytes(v, sizeof(v), value);
    mw_fmt_bytes(r, sizeof(r), ref);
    snprintf(out, len,
            "download of %s from %s:%u (%s) outside the maintenance windows, above %s (4x the "
            "largest outside them in %.1f days of training, at least 100 kB); %u flows",
            v, peer, a->peer_port, a->app, r, mw_detect_training_days(ctx), a->n_flows);
}

const mw_detector_ops_t mw_det_off_hours = { "off_hours", off_hours_flow, NULL, NULL,
    off_hours_explain };
