/*
 * detect_novelty.c - what training never saw: a peer outside the allowed
 * OAM peers (A1; on any plane once it moves real volume, so an ICMP or
 * other tunnel is not invisible), a protocol/port or unclassified traffic
 * on the management plane, or anything new between two base stations but
 * X2/Xn and GTP-U (A2), the base station opening a management
 * session itself (A3), and a new time source (A11). Each compares one flow
 * with the model's tuples; inventory roles decide what an "allowed" peer is.
 * "Who opened it" is judged only when the handshake or a listening port
 * says so, never from the first packet of a capture that began mid-session.
 */
#include <stdio.h>
#include <string.h>

#include "classify/plane.h"
#include "classify/roles.h"
#include "core/addr.h"
#include "detect/detector.h"

#define NEW_PEER_HIGH_UP  1000000 /* bytes up to a new peer that make it high */
#define OTHER_PLANE_BYTES 65536   /* a new peer off the management plane: this much either way */

enum { NEW_PEER_OAM = 0, NEW_PEER_OTHER_PLANE = 1, NEW_PEER_IPSEC = 2 };

static int time_port(unsigned service, uint16_t port)
{
    return service == MW_SVC_NTP ? port == 123 : port == 319 || port == 320;
}

/* A time exchange in which the base station takes time: it sent to the peer's NTP or PTP
 * port, or, both sides on it (NTP's symmetric mode, PTP), it asked - unless the packets
 * said the peer did (an NTP client's mode). A station answering on its own port serves
 * time to the peer, which is then no time source of it (an outsider asking it the time is
 * a new peer). */
static int station_takes_time(const mw_flow_view_t *v)
{
    unsigned svc = v->rec->service;
    int peer_on = time_port(svc, v->peer_port), local_on = time_port(svc, v->local_port);

    if (svc != MW_SVC_NTP && svc != MW_SVC_PTP)
        return 0;
    if (peer_on != local_on)
        return peer_on;
    return !v->opener_known || v->bs_opened;
}

/* Sessions other detectors already judge when the peer is new: signalling (leakage), the
 * station's time sources (time_source) - not a refused attempt, which they leave alone. */
static int watched_elsewhere(const mw_flow_view_t *v)
{
    const mw_flow_record_t *r = v->rec;

    if (!mw_flow_carried_data(r))
        return 0;
    return (r->plane == MW_PLANE_CONTROL && (r->l4_proto == 132 || r->service == MW_SVC_GTPC)) ||
           station_takes_time(v);
}

/* ---- A1 new peer ---- */

/* IPsec the station itself sent: IKE (UDP 500, 4500) as the initiator or answering the
 * peer, or ESP/AH - it holds a security association with the peer (or is setting one up),
 * where a scan's probe of its port (unanswered, or refused) shows none. */
static int ipsec_association(const mw_flow_record_t *r, const mw_flow_view_t *v)
{
    int ike = r->l4_proto == 17 && r->service == MW_SVC_IKE;
    int esp_ah = r->l4_proto == 50 || r->l4_proto == 51;

    return (ike || esp_ah) && r->refused_by == MW_SIDE_NONE && v->up > 0;
}

static void new_peer_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    const mw_flow_record_t *r = v->rec;
    /* a station serving time to a peer exposes a service, and a signalling port tried and
     * refused (which leakage leaves alone) was reached: news as on the management plane */
    int oam_plane =
            r->plane == MW_PLANE_MANAGEMENT || r->plane == MW_PLANE_UNKNOWN ||
            ((r->service == MW_SVC_NTP || r->service == MW_SVC_PTP) && !station_takes_time(v)) ||
            (r->plane == MW_PLANE_CONTROL && !mw_flow_carried_data(r));
    mw_evidence_t ev;

    (void)key;
    /* any inventory role (EMS, NTP, core...) is an allowed peer: only unlisted ones are new */
    if (tuple != NULL || r->kind == MW_FLOW_INNER || r->peer_role != MW_ROLE_UNKNOWN)
        return;
    if (!oam_plane && watched_elsewhere(v))
        return;
    if (mw_detect_knows_peer(ctx, st, v->peer))
        return;
    mw_evidence_from_flow(
            &ev, MW_DET_NEW_PEER, v->up > NEW_PEER_HIGH_UP ? MW_SEV_HIGH : MW_SEV_MEDIUM, st, v);
    ev.kind = oam_plane                 ? NEW_PEER_OAM
              : ipsec_association(r, v) ? NEW_PEER_IPSEC
                                        : NEW_PEER_OTHER_PLANE;
    ev.group = ev.kind;
    /* off the management plane a new peer counts once it moved real volume (a tunnel) - but
     * a station's IPsec peers are its security gateways, which the inventory lists: a few
     * kB of IKE or ESP a day with anyone else is a tunnel nobody set up for it (a real VPN
     * client's: 10-86 kB per gateway over 19 hours, never 64 kB in one incident) */
    ev.min_bytes = ev.kind == NEW_PEER_OTHER_PLANE ? OTHER_PLANE_BYTES : 0;
    ev.value = (double)v->up;
    mw_detect_report(ctx, &ev);
}

static void new_peer_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    char session[256], up[32], down[32];

    mw_fmt_session(ctx, session, sizeof(session), a);
    mw_fmt_bytes(up, sizeof(up), (double)a->bytes_up);
    mw_fmt_bytes(down, sizeof(down), (double)a->bytes_down);
    snprintf(out, len,
            "new peer outside the inventory's OAM peers, never seen in %.1f days of training%s: "
            "%s %s (%s); %u flows, %s up, %s down",
            mw_detect_training_days(ctx),
            a->kind == NEW_PEER_OTHER_PLANE ? ", off the management plane"
            : a->kind == NEW_PEER_IPSEC     ? ", IPsec with a peer that is none of the "
                                              "inventory's security gateways"
                                            : "",
            session, a->app, mw_plane_name(a->plane), a->n_flows, up, down);
}

const mw_detector_ops_t mw_det_new_peer = {
    .name = "new_peer", .on_flow = new_peer_flow, .explain = new_peer_explain
};

/* ---- A2 new protocol/port or unclassified on the management plane ---- */

enum {
    NEW_SERVICE_USED = 0,
    NEW_SERVICE_UNCLASSIFIED = 1,
    NEW_SERVICE_ATTEMPT = 2,
    NEW_SERVICE_LATERAL = 3
};

/* Two base stations talk X2/Xn (SCTP: the control plane) and forward over GTP-U (the user
 * plane); anything else between them that training never saw is lateral movement. */
static int lateral(const mw_flow_record_t *r)
{
    return r->local_role == MW_ROLE_BASE_STATION && r->peer_role == MW_ROLE_BASE_STATION &&
           (r->plane == MW_PLANE_MANAGEMENT || r->plane == MW_PLANE_UNKNOWN);
}

/* An FTP data connection of a station whose FTP (control or data) training saw: a
 * transfer on a known FTP session, whatever nDPI made of the file's bytes. */
static int ftp_data_of_known_ftp(
        const mw_detect_ctx_t *ctx, const mw_flow_view_t *v, const mw_tuple_key_t *key)
{
    mw_tuple_key_t ftp = *key;

    if (!v->ftp_data)
        return 0;
    ftp.service = MW_SVC_FTP;
    return mw_detect_knows_service_any_label(ctx, &ftp);
}

static void new_service_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    int between_stations = lateral(v->rec);
    mw_evidence_t ev;

    if (tuple != NULL || v->rec->kind == MW_FLOW_INNER ||
            (v->rec->plane != MW_PLANE_MANAGEMENT && !between_stations))
        return;
    if (between_stations) { /* new with this peer is enough: the tuple names the peer */
        mw_evidence_from_flow(&ev, MW_DET_NEW_SERVICE, MW_SEV_HIGH, st, v);
        ev.kind = NEW_SERVICE_LATERAL;
        mw_detect_report(ctx, &ev);
        return;
    }
    if (mw_detect_knows_service(ctx, key) || ftp_data_of_known_ftp(ctx, v, key))
        return;
    /* nDPI's label of a session picked up mid-stream, or none, is no news about the service
     * its port names ("TLS" for NETCONF's SSH from its middle) */
    if (!v->label_trusted && mw_detect_knows_service_any_label(ctx, key))
        return;
    mw_evidence_from_flow(&ev, MW_DET_NEW_SERVICE, MW_SEV_MEDIUM, st, v);
    if (v->rec->start_seen && !mw_flow_carried_data(v->rec))
        ev.kind = NEW_SERVICE_ATTEMPT; /* a SYN and no data: a port was tried, not used */
    else if (v->rec->service == MW_SVC_NONE && strcmp(v->app, "Unknown") == 0)
        ev.kind = NEW_SERVICE_UNCLASSIFIED;
    mw_detect_report(ctx, &ev);
}

static void new_service_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    char session[256];

    mw_fmt_session(ctx, session, sizeof(session), a);
    if (a->kind == NEW_SERVICE_LATERAL)
        snprintf(out, len,
                "base station to base station over %s (%s), neither X2/Xn signalling nor GTP-U, "
                "never seen between them in %.1f days of training: %s; %u flows",
                a->app, mw_service_name(a->service), mw_detect_training_days(ctx), session,
                a->n_flows);
    else if (a->kind == NEW_SERVICE_ATTEMPT)
        snprintf(out, len,
                "connection attempts to %s (%s), a management protocol or port this base station "
                "never used in %.1f days of training; no data exchanged: %s; %u flows",
                a->app, mw_service_name(a->service), mw_detect_training_days(ctx), session,
                a->n_flows);
    else if (a->kind == NEW_SERVICE_UNCLASSIFIED)
        snprintf(out, len,
                "unclassified traffic on the management plane, no protocol recognised, never "
                "seen in %.1f days of training: %s; %u flows",
                mw_detect_training_days(ctx), session, a->n_flows);
    else
        snprintf(out, len,
                "new management protocol %s (%s), never used by this base station in %.1f days "
                "of training: %s; %u flows",
                a->app, mw_service_name(a->service), mw_detect_training_days(ctx), session,
                a->n_flows);
}

const mw_detector_ops_t mw_det_new_service = {
    .name = "new_service", .on_flow = new_service_flow, .explain = new_service_explain
};

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
    /* an FTP data connection is opened at the control session's request (active mode: by
     * the server): that session, not this one, says who started the transfer */
    if (tuple != NULL || !v->bs_opened || !v->opener_known || v->rec->kind == MW_FLOW_INNER ||
            !session_service(v->rec->service) || v->ftp_data)
        return;
    mw_evidence_from_flow(&ev, MW_DET_DIRECTION, MW_SEV_HIGH, st, v);
    mw_detect_report(ctx, &ev);
}

static void direction_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    char session[256], up[32];

    mw_fmt_session(ctx, session, sizeof(session), a);
    mw_fmt_bytes(up, sizeof(up), (double)a->bytes_up);
    snprintf(out, len,
            "the base station opened %s itself (%s): %s; in %.1f days of training it never opened "
            "this session; %u flows, %s up",
            mw_service_name(a->service), a->app, session, mw_detect_training_days(ctx), a->n_flows,
            up);
}

const mw_detector_ops_t mw_det_direction = {
    .name = "direction", .on_flow = direction_flow, .explain = direction_explain
};

/* ---- A11 new time source ---- */

static void time_source_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    mw_evidence_t ev;

    (void)key;
    if (tuple != NULL || v->rec->kind == MW_FLOW_INNER || !station_takes_time(v) ||
            !mw_flow_carried_data(v->rec))
        return;
    if (mw_detect_knows_peer(ctx, st, v->peer))
        return;
    mw_evidence_from_flow(&ev, MW_DET_TIME_SOURCE, MW_SEV_HIGH, st, v);
    mw_detect_report(ctx, &ev);
}

enum { TIME_NEW_SOURCE = 0, TIME_UNLISTED_MULTICAST = 1 };

#define MW_PTP_GENERAL_PORT 320 /* Announce, Follow_Up, Delay_Resp: a master's */

/* Whether the inventory lists any address of this role. */
static int inventory_lists(const mw_inventory_t *inv, unsigned role)
{
    mw_inventory_prefix_t p;
    size_t i, n = mw_inventory_prefix_count(inv);

    for (i = 0; i < n; i++)
        if (mw_inventory_prefix(inv, i, &p) == 0 && p.role == role)
            return 1;
    return 0;
}

/* PTP's peer-delay group (224.0.0.107, ff02::6b): every P2P port and transparent clock
 * talks there, masters or not. */
static int ptp_peer_delay_group(uint64_t hi, uint64_t lo)
{
    if (hi == 0)
        return lo == 0xffffe000006bULL;
    return hi == 0xff02000000000000ULL && lo == 0x6b;
}

/*
 * PTP's default profile announces to a multicast group: the grandmaster's Announce,
 * Follow_Up and Delay_Resp (general messages, port 320) are records of no base station,
 * which every station following the group hears; slaves send there only Delay_Req, an
 * event message to port 319. General messages from an address the inventory does not list
 * as a PTP source (when it lists any) are a rogue clock on the stations' segment: a site
 * finding, with no station to name. (NTP's broadcast and manycast modes are not judged:
 * a record does not say a server's mode from a client's.)
 */
static void time_source_site_flow(mw_detect_ctx_t *ctx, const mw_flow_record_t *r)
{
    const mw_inventory_t *inv = mw_detect_inventory(ctx);
    mw_inventory_match_t src;
    mw_evidence_t ev;

    if (r->kind != MW_FLOW_PLAIN || r->l4_proto != 17 || r->service != MW_SVC_PTP ||
            r->dst_port != MW_PTP_GENERAL_PORT || !mw_addr_is_multicast_u64(r->dst_hi, r->dst_lo) ||
            ptp_peer_delay_group(r->dst_hi, r->dst_lo) || r->c2s.packets == 0)
        return;
    (void)mw_inventory_lookup_u64(inv, r->src_hi, r->src_lo, &src);
    if (src.role == MW_ROLE_PTP || !inventory_lists(inv, MW_ROLE_PTP))
        return;
    memset(&ev, 0, sizeof(ev));
    ev.detector = MW_DET_TIME_SOURCE;
    ev.severity = MW_SEV_HIGH;
    ev.kind = TIME_UNLISTED_MULTICAST;
    ev.plane = r->plane;
    ev.l4_proto = r->l4_proto;
    mw_addr_join(r->dst_hi, r->dst_lo, ev.local); /* the group: no station to name */
    mw_addr_join(r->src_hi, r->src_lo, ev.peer);
    ev.peer_port = r->src_port;
    ev.local_port = r->dst_port;
    ev.service_port = r->dst_port;
    ev.service = r->service;
    strncpy(ev.app, "PTP", sizeof(ev.app) - 1);
    ev.initiator = MW_INIT_PEER; /* the announcer sent it */
    ev.start_us = r->first_us;
    ev.end_us = r->last_us;
    ev.flow_id = r->flow_id;
    ev.flows = 1;
    ev.sessions = r->start_seen && !r->continued;
    ev.down = r->c2s.bytes;
    ev.pkts_down = r->c2s.packets;
    ev.src_hi = r->src_hi;
    ev.src_lo = r->src_lo;
    ev.dst_hi = r->dst_hi;
    ev.dst_lo = r->dst_lo;
    ev.src_port = r->src_port;
    ev.dst_port = r->dst_port;
    mw_detect_report(ctx, &ev);
}

static void time_source_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    char session[256], group[64], source[64];

    if (a->kind == TIME_UNLISTED_MULTICAST) {
        mw_fmt_addr(group, sizeof(group), a->local_hi, a->local_lo);
        mw_fmt_addr(source, sizeof(source), a->peer_hi, a->peer_lo);
        snprintf(out, len,
                "%s master messages to the multicast group %s (port %u) from %s, which the "
                "inventory does not list as a %s source: every base station following the group "
                "hears this clock; %u flows, %u packets",
                mw_service_name(a->service), group, a->service_port, source,
                mw_service_name(a->service), a->n_flows, (unsigned)a->packets_down);
        return;
    }
    mw_fmt_session(ctx, session, sizeof(session), a);
    snprintf(out, len,
            "new time source: %s with a peer that was not a source of this base station in %.1f "
            "days of training: %s; %u flows",
            mw_service_name(a->service), mw_detect_training_days(ctx), session, a->n_flows);
}

const mw_detector_ops_t mw_det_time_source = {
    .name = "time_source",
    .on_flow = time_source_flow,
    .on_site_flow = time_source_site_flow,
    .explain = time_source_explain,
};
