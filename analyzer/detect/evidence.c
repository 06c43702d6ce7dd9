/*
 * evidence.c - evidence from a flow view, and the score scale every
 * detector shares (docs/MODEL.md, "Scores and severities").
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "classify/classify_ndpi.h"
#include "classify/plane.h"
#include "classify/roles.h"
#include "detect/detector.h"

float mw_score(unsigned severity, double value, double limit)
{
    double past = 0.0;

    /* log2(value / limit) in [0, 2] -> [0, 2.5]: at the limit 0, at 4x or more 2.5 */
    if (limit > 0.0 && value > limit)
        past = fmin(2.5, 1.25 * log2(value / limit));
    return (float)(2.5 * (double)severity + past);
}

#define TCP_PSH 0x08

int mw_flow_carried_data(const mw_flow_record_t *r)
{
    /* one side only refused (a scanned port): data went only if the other side sent some -
     * more than a probe and its retry of bare packets, or a pushed TCP segment */
    if (r->refused_by != MW_SIDE_NONE) {
        const mw_dir_stats_t *sent = r->refused_by == MW_SIDE_DST ? &r->c2s : &r->s2c;
        if (r->l4_proto == 6)
            return (sent->tcp_flags & TCP_PSH) != 0;
        return sent->packets > 2 || sent->bytes > sent->packets * MW_BARE_PACKET_BYTES;
    }
    if (r->l4_proto != 6)
        return 1;
    return ((r->c2s.tcp_flags | r->s2c.tcp_flags) & TCP_PSH) != 0;
}

void mw_evidence_from_flow(mw_evidence_t *ev, uint8_t detector, uint8_t severity, uint32_t station,
        const mw_flow_view_t *v)
{
    const mw_flow_record_t *r = v->rec;

    memset(ev, 0, sizeof(*ev));
    ev->detector = detector;
    ev->severity = severity;
    ev->station = station;
    ev->bs_index = r->bs_index;
    ev->plane = r->plane;
    /* who opened it only when the packets said so: a record oriented by its first packet
     * (a capture that began mid-session, one direction of a SPAN port) may have it backwards */
    ev->initiator = v->opener_known ? r->initiator : MW_INIT_UNKNOWN;
    /* both ends base stations (X2/Xn, lateral movement): the local side is src, its opener */
    if (ev->initiator == MW_INIT_UNKNOWN && v->bs_opened && v->opener_known)
        ev->initiator = MW_INIT_BASE_STATION;
    /* a GTP-C path has no opener: both ends send requests (echoes, too); the record's sides
     * come from the roles, which is no news about this exchange */
    if (r->service == MW_SVC_GTPC)
        ev->initiator = MW_INIT_UNKNOWN;
    ev->l4_proto = r->l4_proto;
    ev->inner = r->kind == MW_FLOW_INNER;
    memcpy(ev->local, v->local, 16);
    memcpy(ev->peer, v->peer, 16);
    ev->peer_port = v->peer_port;
    ev->local_port = v->local_port;
    /* a passive FTP data connection is learned under no port: the alert names the one used */
    ev->service_port = v->ftp_data && v->service_port == 0 ? r->dst_port : v->service_port;
    ev->service = r->service;
    /* ... and what it is, where nDPI had no name for the file's bytes; a label nDPI guessed
     * from the port alone says so, so that no alert passes a guess off as what was seen */
    if (v->ftp_data && strcmp(v->app, "Unknown") == 0)
        strncpy(ev->app, v->family, sizeof(ev->app) - 1);
    else if (strcmp(v->app, "Unknown") != 0 && !mw_classifier_label_from_payload(r->confidence))
        snprintf(ev->app, sizeof(ev->app), "%.20s by port", v->app);
    else
        strncpy(ev->app, v->app, sizeof(ev->app) - 1);
    memcpy(ev->host, r->host, sizeof(ev->host));
    ev->host[sizeof(ev->host) - 1] = '\0';
    ev->start_us = r->first_us;
    ev->end_us = r->last_us;
    ev->flow_id = r->flow_id;
    ev->flows = 1;
    ev->sessions = v->real_start ? 1 : 0;
    /* TEIDs by direction: up = towards the core, sent by the subscriber's side */
    ev->teid_up = v->local_is_dst ? r->teid_s2c : r->teid_c2s;
    ev->teid_down = v->local_is_dst ? r->teid_c2s : r->teid_s2c;
    if (r->kind != MW_FLOW_INNER)
        ev->teid_up = ev->teid_down = 0;
    ev->up = v->up;
    ev->down = v->down;
    ev->pkts_up = v->pkts_up;
    ev->pkts_down = v->pkts_down;
    ev->src_hi = r->src_hi;
    ev->src_lo = r->src_lo;
    ev->dst_hi = r->dst_hi;
    ev->dst_lo = r->dst_lo;
    ev->src_port = r->src_port;
    ev->dst_port = r->dst_port;
}
