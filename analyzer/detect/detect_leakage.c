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
#include "core/mw.h"
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
    LEAK_GTPC_OVERSIZE = 2, /* sent by the base station */
    LEAK_GTPC_NEW_PEER = 3,
    LEAK_SCTP_NEW_PEER = 4,
    LEAK_GTPC_OVERSIZE_FROM_PEER = 5
};

#define GTPC_PORT 2123

/* The GTP-C path with this peer as training keyed it: both ends send requests, from 2123
 * or from a port of their own (TS 29.274 §4.2), so neither the opener nor the responder's
 * port of one exchange names the path. */
static const mw_tuple_stats_t *gtpc_path(const mw_detect_ctx_t *ctx, const mw_tuple_key_t *key)
{
    static const uint8_t openers[] = { MW_INIT_BASE_STATION, MW_INIT_PEER, MW_INIT_UNKNOWN };
    const mw_tuple_stats_t *t;
    mw_tuple_key_t k = *key;
    size_t i;

    k.port = GTPC_PORT;
    for (i = 0; i < MW_ARRAY_LEN(openers); i++) {
        k.initiator = openers[i];
        if ((t = mw_model_lookup(mw_detect_model(ctx), &k)) != NULL)
            return t;
    }
    return NULL;
}

/* Whether the largest packet of the record came from the base station's side. */
static int local_sent_largest(const mw_flow_view_t *v)
{
    const mw_flow_record_t *r = v->rec;
    float local = v->local_is_dst ? r->s2c.len_max : r->c2s.len_max;
    float peer = v->local_is_dst ? r->c2s.len_max : r->s2c.len_max;
    return local >= peer;
}

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
        /* the subscriber's own address counts when the inventory names it (a base station's
         * address, a server's), not when it falls in a catch-all OAM prefix that also
         * covers the UE pool (10.0.0.0/8 and open5gs' 10.45.0.0/16) */
        if (management_service(r->service) || r->peer_role != MW_ROLE_UNKNOWN ||
                (r->local_role != MW_ROLE_UNKNOWN && r->local_role != MW_ROLE_OAM_PEER)) {
            mw_evidence_from_flow(&ev, MW_DET_LEAKAGE, MW_SEV_HIGH, st, v);
            ev.kind = LEAK_MGMT_IN_GTPU;
            mw_detect_report(ctx, &ev);
        }
        return;
    }
    /* a refused attempt (an INIT and its ABORT, a datagram and its port unreachable) is no
     * signalling: a scanner that tried the port is a new peer */
    if (!mw_flow_carried_data(r))
        return;
    if (r->service == MW_SVC_GTPC) {
        const mw_tuple_stats_t *path = tuple != NULL ? tuple : gtpc_path(ctx, key);
        double learned = path ? (double)path->max_pkt_len : 0.0;
        if (path != NULL && (double)v->max_pkt <= learned + GTPC_SLACK_BYTES)
            return;
        /* a peer the station knows (its SGW from GTP-U) is no new signalling peer */
        if (path == NULL && mw_detect_knows_peer(ctx, st, v->peer))
            return;
        mw_evidence_from_flow(&ev, MW_DET_LEAKAGE, MW_SEV_HIGH, st, v);
        ev.kind = path == NULL            ? LEAK_GTPC_NEW_PEER
                  : local_sent_largest(v) ? LEAK_GTPC_OVERSIZE
                                          : LEAK_GTPC_OVERSIZE_FROM_PEER;
        ev.value = v->max_pkt;
        ev.limit = path ? learned + GTPC_SLACK_BYTES : 0;
        ev.group = path ? LEAK_GTPC_OVERSIZE : LEAK_GTPC_NEW_PEER;
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
    if (a->kind == LEAK_MGMT_IN_GTPU) {
        mw_inventory_match_t sub;
        char addr[64], which[160] = "";
        /* say so when the inventory address is the subscriber side's own */
        if (mw_inventory_lookup_u64(mw_detect_inventory(ctx), a->local_hi, a->local_lo, &sub) &&
                sub.role != MW_ROLE_OAM_PEER) {
            mw_fmt_addr(addr, sizeof(addr), a->local_hi, a->local_lo);
            snprintf(which, sizeof(which), "; the tunnel's inner address %s is the inventory's %s",
                    addr, mw_role_name(sub.role));
        }
        snprintf(out, len,
                "management traffic or an inventory address inside a subscriber GTP-U tunnel: "
                "%s (%s): %s; %u flows%s",
                a->app, mw_service_name(a->service), session, a->n_flows, which);
    } else if (a->kind == LEAK_GTPC_OVERSIZE || a->kind == LEAK_GTPC_OVERSIZE_FROM_PEER) {
        char sender[128];
        if (a->kind == LEAK_GTPC_OVERSIZE)
            mw_fmt_local(sender, sizeof(sender), a);
        else
            mw_fmt_peer(ctx, sender, sizeof(sender), a);
        snprintf(out, len,
                "GTP-C message of %.0f bytes sent by %s, larger than any (limit %.0f bytes) in "
                "%.1f days of training - an Echo or signalling message carrying extra payload: "
                "%s; %u flows",
                a->value, sender, a->limit, mw_detect_training_days(ctx), session, a->n_flows);
    } else
        snprintf(out, len,
                "control-plane %s with a peer this base station never signalled with in %.1f "
                "days of training: %s; %u flows",
                mw_service_name(a->service), mw_detect_training_days(ctx), session, a->n_flows);
}

const mw_detector_ops_t mw_det_leakage = {
    .name = "leakage", .on_flow = leakage_flow, .explain = leakage_explain
};
