/*
 * features.c - from a flow record to the base station's point of view.
 */
#include "baseline/features.h"

#include <string.h>

#include "classify/classify_ndpi.h"
#include "classify/plane.h"
#include "core/mw.h"
#include "classify/roles.h"

/* Active mode's data connection: from port 20 to the client's port of the day, which is
 * never a privileged port or one a known service listens on (a station connecting from 20
 * to an SSH server is no transfer). */
static int ftp_active_data(const mw_flow_record_t *r)
{
    uint16_t other;

    if (r->l4_proto != 6 || (r->src_port == MW_FTP_DATA_PORT) == (r->dst_port == MW_FTP_DATA_PORT))
        return 0;
    other = r->src_port == MW_FTP_DATA_PORT ? r->dst_port : r->src_port;
    return other >= 1024 && mw_service_for_port(6, other) == MW_SVC_NONE;
}

static uint16_t ftp_data_port(const mw_flow_record_t *r)
{
    return ftp_active_data(r) ? MW_FTP_DATA_PORT : 0;
}

int mw_flow_view(mw_flow_view_t *v, const mw_flow_record_t *r, const mw_inventory_t *inv,
        mw_proto_name_fn name, void *name_ctx)
{
    int64_t local_s;
    int64_t days;
    const char *app;

    memset(v, 0, sizeof(*v));
    v->rec = r;
    if (r->bs_index == 0 || inv == NULL)
        return 0;
    v->bs_id = mw_inventory_bs_id(inv, r->bs_index);
    if (v->bs_id == NULL)
        return 0;
    /* The local side is dst when the peer opened the flow (inner records: when
     * the subscriber is dst); "up" is what the local side sent. */
    v->local_is_dst =
            r->kind == MW_FLOW_INNER ? r->subscriber == MW_SUB_DST : r->initiator == MW_INIT_PEER;
    if (v->local_is_dst) {
        mw_addr_join(r->dst_hi, r->dst_lo, v->local);
        mw_addr_join(r->src_hi, r->src_lo, v->peer);
        v->peer_port = r->src_port;
        v->local_port = r->dst_port;
        v->up = r->s2c.bytes;
        v->down = r->c2s.bytes;
        v->pkts_up = r->s2c.packets;
        v->pkts_down = r->c2s.packets;
    } else {
        mw_addr_join(r->src_hi, r->src_lo, v->local);
        mw_addr_join(r->dst_hi, r->dst_lo, v->peer);
        v->peer_port = r->dst_port;
        v->local_port = r->src_port;
        v->up = r->c2s.bytes;
        v->down = r->s2c.bytes;
        v->pkts_up = r->c2s.packets;
        v->pkts_down = r->s2c.packets;
    }
    /* a refusing side (a scanned port's RST or port unreachable) sent refusals, no data: a
     * UDP scan's thousands of port unreachables are no upload; what its packets carry
     * beyond a bare refusal's size still counts */
    if (r->refused_by != MW_SIDE_NONE) {
        int local_refused = (r->refused_by == MW_SIDE_DST) == (v->local_is_dst != 0);
        uint64_t *bytes = local_refused ? &v->up : &v->down;
        uint64_t bare = (local_refused ? v->pkts_up : v->pkts_down) * MW_BARE_PACKET_BYTES;
        *bytes = *bytes > bare ? *bytes - bare : 0;
    }
    /* both ends base stations (X2/Xn, lateral movement): src, who opened it, is "ours" */
    v->bs_opened = r->initiator == MW_INIT_BASE_STATION ||
                   (r->kind != MW_FLOW_INNER && r->local_role == MW_ROLE_BASE_STATION &&
                           r->peer_role == MW_ROLE_BASE_STATION);
    v->opener_known = r->orient != MW_ORIENT_FIRST_PACKET;
    v->real_start = r->start_seen && !r->continued;
    v->max_pkt = (uint32_t)(r->c2s.len_max > r->s2c.len_max ? r->c2s.len_max : r->s2c.len_max);
    v->duration_us = mw_span_us(r->first_us, r->last_us);
    local_s = r->first_us / 1000000 + mw_inventory_utc_offset(inv, r->first_us / 1000000);
    days = local_s >= 0 ? local_s / 86400 : (local_s - 86399) / 86400;
    v->hour_of_day = (unsigned)((local_s - days * 86400) / 3600);
    v->hour_of_week = (unsigned)(((days + 3) % 7 + 7) % 7) * 24 +
                      v->hour_of_day; /* 1970-01-01 was a Thursday */
    app = name ? name(name_ctx, r->app_proto ? r->app_proto : r->master_proto) : NULL;
    v->app = (app && app[0]) ? app : "Unknown";
    /* the family: nDPI labels one session "TLS.ApplePush", "TLS" or "ApplePush" depending on
     * what it saw; the master protocol, when it named one, stays the same */
    app = name && r->master_proto ? name(name_ctx, r->master_proto) : NULL;
    v->family = (app && app[0] && strcmp(app, "Unknown") != 0) ? app : v->app;
    /* active mode connects from port 20 to the client's port of the day; passive mode to
     * the server's: key them by 20, or by none, so every transfer is the same tuple */
    v->ftp_data =
            r->l4_proto == 6 && (ftp_active_data(r) || r->service == MW_SVC_FTP_DATA ||
                                        (r->app_proto != 0 && strcmp(v->app, "FTP_DATA") == 0));
    /* what nDPI makes of a transferred file's bytes (Unknown, FTP_DATA, a file type) is
     * not the session's protocol: every transfer is one tuple */
    if (v->ftp_data)
        v->family = "FTP_DATA";
    v->service_port = v->ftp_data ? ftp_data_port(r) : r->dst_port;
    /* a connection seen one way (a SPAN port's half): nDPI read half a dialogue, and named
     * a station's HTTPS to its EMS "Mining" from the server's half alone; a label from the
     * port alone is a guess too (a whole SMBv1 session on 445 is "SMBv23" by port) */
    v->label_trusted = v->real_start && strcmp(v->app, "Unknown") != 0 &&
                       mw_classifier_label_from_payload(r->confidence) &&
                       mw_flow_one_way_side(r) == MW_SEEN_BOTH;
    return 1;
}

void mw_flow_view_key(const mw_flow_view_t *v, uint32_t st, mw_tuple_key_t *key)
{
    const mw_flow_record_t *r = v->rec;

    memset(key, 0, sizeof(*key)); /* padding too: keys are hashed as bytes */
    key->station = st;
    memcpy(key->peer, v->peer, 16);
    key->port = v->service_port; /* the responder's: the service port */
    key->service = r->service;
    key->l4_proto = r->l4_proto;
    key->initiator = r->initiator;
    key->plane = r->plane;
    key->inner = r->kind == MW_FLOW_INNER;
    strncpy(key->app, v->family, MW_MODEL_APP_LEN - 1);
}

void mw_dns_name_shape(const char *host, uint32_t *name_len, uint32_t *max_label)
{
    uint32_t n = 0, label = 0, best = 0;

    for (; host && host[n] != '\0'; n++) {
        if (host[n] == '.') {
            label = 0;
            continue;
        }
        if (++label > best)
            best = label;
    }
    *name_len = n;
    *max_label = best;
}

void mw_dns_record_shape(const mw_flow_record_t *r, uint32_t *name_len, uint32_t *max_label)
{
    char host[MW_HOST_LEN + 1];

    memcpy(host, r->host, MW_HOST_LEN);
    host[MW_HOST_LEN] = '\0';
    mw_dns_name_shape(host, name_len, max_label);
    *max_label = MW_MAX(*max_label, (uint32_t)r->dns_max_label);
}

int mw_flow_view_is_oam(const mw_flow_view_t *v)
{
    return v->rec->plane == MW_PLANE_MANAGEMENT && v->rec->kind != MW_FLOW_INNER;
}
