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

static void leakage_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    const mw_flow_record_t *r = v->rec;
    mw_evidence_t ev;
    (void)key;

    if (r->kind == MW_FLOW_INNER) {
        mw_inventory_match_t dst, src;
        mw_inventory_lookup_u64(mw_detect_inventory(ctx), r->dst_hi, r->dst_lo, &dst);
        mw_inventory_lookup_u64(mw_detect_inventory(ctx), r->src_hi, r->src_lo, &src);
        if (tuple != NULL && !management_service(r->service))
            return;
        if (management_service(r->service) || dst.role != MW_ROLE_UNKNOWN ||
                src.role != MW_ROLE_UNKNOWN) {
            mw_evidence_from_flow(&ev, MW_DET_LEAKAGE, MW_SEV_HIGH, st, v);
            ev.value = 1; /* kind: management inside GTP-U */
            mw_detect_report(ctx, &ev);
        }
        return;
    }
    if (r->service == MW_SVC_GTPC) {
        double learned = tuple ? (double)tuple->max_pkt_len : 0.0;
        if (tuple != NULL && (double)v->max_pkt <= learned + GTPC_SLACK_BYTES)
            return;
        mw_evidence_from_flow(&ev, MW_DET_LEAKAGE, MW_SEV_HIGH, st, v);
        ev.value = tuple ? 2 : 3; /* oversized GTP-C, or GTP-C with a new peer */
        ev.reference = learned;
        ev.score = (float)v->max_pkt;
        mw_detect_report(ctx, &ev);
        return;
    }
    if (tuple == NULL && r->plane == MW_PLANE_CONTROL && r->l4_proto == 132 &&
            !mw_detect_knows_peer(ctx, st, v->peer)) {
        mw_evidence_from_flow(&ev, MW_DET_LEAKAGE, MW_SEV_HIGH, st, v);
        ev.value = 4; /* SCTP signalling with a new peer */
        mw_detect_report(ctx, &ev);
    }
}

static void leakage_explain(const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, double value,
        double ref, char *out, size_t len)
{
    char peer[64];
    mw_fmt_addr(peer, sizeof(peer), a->peer_hi, a->peer_lo);
    if (value == 1)
        snprintf(out, len,
                "management traffic inside a subscriber GTP-U tunnel: %s (%s) to %s:%u; %u flows",
                a->app, mw_service_name(a->service), peer, a->peer_port, a->n_flows);
    else if (value == 2)
        snprintf(out, len,
                "GTP-C message of %.0f bytes to %s, larger than any (%.0f bytes) in %.1f days of "
                "training: an Echo or signalling message carrying extra payload; %u flows",
                (double)a->score, peer, ref, mw_detect_training_days(ctx), a->n_flows);
    else
        snprintf(out, len,
                "control-plane %s with %s:%u, a peer this base station never signalled with in "
                "%.1f days of training; %u flows",
                mw_service_name(a->service), peer, a->peer_port, mw_detect_training_days(ctx),
                a->n_flows);
}

const mw_detector_ops_t mw_det_leakage = { "leakage", leakage_flow, NULL, NULL, leakage_explain };
