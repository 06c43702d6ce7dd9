/*
 * detect_novelty.c - what training never saw: a peer outside the allowed
 * OAM peers (A1), a protocol/port or unclassified traffic on the management
 * plane (A2), the base station opening a management session itself (A3),
 * and a new time source (A11). Each compares one flow with the model's
 * tuples; inventory roles decide what an "allowed" peer is.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "classify/plane.h"
#include "classify/roles.h"
#include "detect/detector.h"

static char *peer_text(char *out, size_t len, const mw_anomaly_record_t *a)
{
    mw_fmt_addr(out, len, a->peer_hi, a->peer_lo);
    return out;
}

/* Roles a management peer may have without being "new". */
static int allowed_oam_role(unsigned role)
{
    return role == MW_ROLE_EMS || role == MW_ROLE_NMS || role == MW_ROLE_OSS ||
           role == MW_ROLE_OAM_PEER || role == MW_ROLE_SYSLOG || role == MW_ROLE_DNS ||
           role == MW_ROLE_NTP || role == MW_ROLE_PTP;
}

/* ---- A1 new peer ---- */

static void new_peer_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    mw_evidence_t ev;
    (void)key;
    if (tuple != NULL || v->rec->kind == MW_FLOW_INNER || allowed_oam_role(v->rec->peer_role))
        return;
    if (v->rec->plane != MW_PLANE_MANAGEMENT && v->rec->plane != MW_PLANE_UNKNOWN)
        return;
    if (v->rec->peer_role != MW_ROLE_UNKNOWN || mw_detect_knows_peer(ctx, st, v->peer))
        return;
    mw_evidence_from_flow(
            &ev, MW_DET_NEW_PEER, v->up > 1000000 ? MW_SEV_HIGH : MW_SEV_MEDIUM, st, v);
    ev.score = 2.0f + (float)(v->up > 0 ? log10((double)v->up) : 0.0);
    mw_detect_report(ctx, &ev);
}

static void new_peer_explain(const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, double value,
        double ref, char *out, size_t len)
{
    char peer[64], up[32], down[32];
    (void)value;
    (void)ref;
    mw_fmt_bytes(up, sizeof(up), (double)a->bytes_up);
    mw_fmt_bytes(down, sizeof(down), (double)a->bytes_down);
    snprintf(out, len,
            "new peer %s:%u (%s) outside the inventory's OAM peers, never seen in %.1f days of "
            "training; %u flows, %s up, %s down",
            peer_text(peer, sizeof(peer), a), a->peer_port, a->app, mw_detect_training_days(ctx),
            a->n_flows, up, down);
}

const mw_detector_ops_t mw_det_new_peer = { "new_peer", new_peer_flow, NULL, NULL,
    new_peer_explain };

/* ---- A2 new protocol/port or unclassified on the management plane ---- */

static void new_service_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    mw_evidence_t ev;
    if (tuple != NULL || v->rec->kind == MW_FLOW_INNER || v->rec->plane != MW_PLANE_MANAGEMENT)
        return;
    if (mw_detect_knows_service(ctx, key))
        return;
    mw_evidence_from_flow(&ev, MW_DET_NEW_SERVICE, MW_SEV_MEDIUM, st, v);
    /* the key decides aggregation: one anomaly per peer and port */
    ev.peer_port = key->port;
    mw_detect_report(ctx, &ev);
}

static void new_service_explain(const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a,
        double value, double ref, char *out, size_t len)
{
    char peer[64];
    (void)value;
    (void)ref;
    if (a->service == MW_SVC_NONE && strcmp(a->app, "Unknown") == 0)
        snprintf(out, len,
                "unclassified traffic on the management plane with %s, port %u: no protocol "
                "recognised, never seen in %.1f days of training; %u flows",
                peer_text(peer, sizeof(peer), a), a->peer_port, mw_detect_training_days(ctx),
                a->n_flows);
    else
        snprintf(out, len,
                "new management protocol %s (%s) on port %u with %s, never used by this base "
                "station in %.1f days of training; %u flows",
                a->app, mw_service_name(a->service), a->peer_port, peer_text(peer, sizeof(peer), a),
                mw_detect_training_days(ctx), a->n_flows);
}

const mw_detector_ops_t mw_det_new_service = { "new_service", new_service_flow, NULL, NULL,
    new_service_explain };

/* ---- A3 direction flip: the base station opens a management session ---- */

static int session_service(unsigned svc)
{
    return svc == MW_SVC_SSH || svc == MW_SVC_NETCONF || svc == MW_SVC_HTTPS ||
           svc == MW_SVC_HTTP || svc == MW_SVC_TELNET || svc == MW_SVC_TLS || svc == MW_SVC_RDP ||
           svc == MW_SVC_VNC || svc == MW_SVC_FTP;
}

static void direction_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    mw_evidence_t ev;
    (void)key;
    if (tuple != NULL || !v->bs_opened || v->rec->kind == MW_FLOW_INNER ||
            !session_service(v->rec->service))
        return;
    mw_evidence_from_flow(&ev, MW_DET_DIRECTION, MW_SEV_HIGH, st, v);
    mw_detect_report(ctx, &ev);
}

static void direction_explain(const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a,
        double value, double ref, char *out, size_t len)
{
    char peer[64], up[32];
    (void)value;
    (void)ref;
    mw_fmt_bytes(up, sizeof(up), (double)a->bytes_up);
    snprintf(out, len,
            "base station opened %s to %s:%u itself; in %.1f days of training it never opened "
            "this session; %u flows, %s up",
            mw_service_name(a->service), peer_text(peer, sizeof(peer), a), a->peer_port,
            mw_detect_training_days(ctx), a->n_flows, up);
}

const mw_detector_ops_t mw_det_direction = { "direction", direction_flow, NULL, NULL,
    direction_explain };

/* ---- A11 new time source ---- */

static void time_source_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    mw_evidence_t ev;
    (void)key;
    if (tuple != NULL || v->rec->kind == MW_FLOW_INNER ||
            (v->rec->service != MW_SVC_NTP && v->rec->service != MW_SVC_PTP))
        return;
    if (mw_detect_knows_peer(ctx, st, v->peer))
        return;
    mw_evidence_from_flow(&ev, MW_DET_TIME_SOURCE, MW_SEV_HIGH, st, v);
    mw_detect_report(ctx, &ev);
}

static void time_source_explain(const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a,
        double value, double ref, char *out, size_t len)
{
    char peer[64];
    (void)value;
    (void)ref;
    snprintf(out, len,
            "new time source: %s from %s:%u, not a source of this base station in %.1f days of "
            "training; %u flows",
            mw_service_name(a->service), peer_text(peer, sizeof(peer), a), a->peer_port,
            mw_detect_training_days(ctx), a->n_flows);
}

const mw_detector_ops_t mw_det_time_source = { "time_source", time_source_flow, NULL, NULL,
    time_source_explain };
