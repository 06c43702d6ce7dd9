/*
 * detect_leakage.c - A4, traffic where its plane says it cannot be:
 * management protocols or OAM addresses inside subscriber GTP-U tunnels,
 * GTP-C messages larger than any the tunnel endpoint sent in training (an
 * Echo carrying a hidden payload, as GTPDOOR does), and control-plane
 * signalling (GTP-C, SCTP) with a peer training never saw.
 */
#include <stdio.h>
#include <string.h>

#include "classify/plane.h"
#include "classify/roles.h"
#include "detect/detector.h"

#define GTPC_SLACK_BYTES 16 /* tolerated growth of a GTP-C message over the learned maximum */

static int management_service(unsigned svc)
{
    switch (svc) {
        case MW_SVC_SSH:
        case MW_SVC_NETCONF:
        case MW_SVC_SNMP:
        case MW_SVC_SNMP_TRAP:
        case MW_SVC_SYSLOG:
        case MW_SVC_TELNET:
        case MW_SVC_FTP:
        case MW_SVC_TFTP:
        case MW_SVC_CWMP:
            return 1;
        default:
            return 0;
    }
}

enum {
    LEAK_MGMT_IN_GTPU = 1,
    LEAK_GTPC_OVERSIZE = 2,
    LEAK_GTPC_NEW_PEER = 3,
    LEAK_SCTP_NEW_PEER = 4
};

static void leakage_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    const mw_flow_record_t *r = v->rec;
    mw_evidence_t ev;
    (void)key;

    if (r->kind == MW_FLOW_INNER) {
        /* management protocols, or inventory addresses (OAM, another base station), in GTP-U */
        if (tuple != NULL && !management_service(r->service))
            return;
        if (management_service(r->service) || r->peer_role != MW_ROLE_UNKNOWN ||
                r->local_role != MW_ROLE_UNKNOWN) {
            mw_evidence_from_flow(&ev, MW_DET_LEAKAGE, MW_SEV_HIGH, st, v);
            ev.kind = LEAK_MGMT_IN_GTPU;
            mw_detect_report(ctx, &ev);
        }
        return;
    }
    if (r->service == MW_SVC_GTPC) {
        double learned = tuple ? (double)tuple->max_pkt_len : 0.0;
        if (tuple != NULL && (double)v->max_pkt <= learned + GTPC_SLACK_BYTES)
            return;
        mw_evidence_from_flow(&ev, MW_DET_LEAKAGE, MW_SEV_HIGH, st, v);
        ev.kind = tuple ? LEAK_GTPC_OVERSIZE : LEAK_GTPC_NEW_PEER;
        ev.value = v->max_pkt;
        ev.limit = tuple ? learned + GTPC_SLACK_BYTES : 0;
        ev.group = ev.kind;
        mw_detect_report(ctx, &ev);
        return;
    }
    if (tuple == NULL && r->plane == MW_PLANE_CONTROL && r->l4_proto == 132 &&
            !mw_detect_knows_peer(ctx, st, v->peer)) {
        mw_evidence_from_flow(&ev, MW_DET_LEAKAGE, MW_SEV_HIGH, st, v);
        ev.kind = LEAK_SCTP_NEW_PEER;
        ev.group = ev.kind;
        mw_detect_report(ctx, &ev);
    }
}

static void leakage_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    char session[256];

    mw_fmt_session(ctx, session, sizeof(session), a);
    if (a->kind == LEAK_MGMT_IN_GTPU)
        snprintf(out, len,
                "management traffic or an inventory address inside a subscriber GTP-U tunnel: "
                "%s (%s): %s; %u flows",
                a->app, mw_service_name(a->service), session, a->n_flows);
    else if (a->kind == LEAK_GTPC_OVERSIZE)
        snprintf(out, len,
                "GTP-C message of %.0f bytes, larger than any (limit %.0f bytes) in %.1f days of "
                "training - an Echo or signalling message carrying extra payload: %s; %u flows",
                a->value, a->limit, mw_detect_training_days(ctx), session, a->n_flows);
    else
        snprintf(out, len,
                "control-plane %s with a peer this base station never signalled with in %.1f "
                "days of training: %s; %u flows",
                mw_service_name(a->service), mw_detect_training_days(ctx), session, a->n_flows);
}

const mw_detector_ops_t mw_det_leakage = {
    .name = "leakage", .on_flow = leakage_flow, .explain = leakage_explain
};
