/*
 * features.c - from a flow record to the base station's point of view.
 */
#include "baseline/features.h"

#include <string.h>

#include "classify/plane.h"
#include "classify/roles.h"

static void addr_bytes(uint8_t out[16], uint64_t hi, uint64_t lo)
{
    int i;

    for (i = 0; i < 8; i++) {
        out[i] = (uint8_t)(hi >> (56 - 8 * i));
        out[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
    }
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
    /* The base station is dst only when the peer opened the flow. */
    if (r->initiator == MW_INIT_PEER) {
        addr_bytes(v->peer, r->src_hi, r->src_lo);
        v->peer_port = r->src_port;
        v->local_port = r->dst_port;
        v->up = r->s2c.bytes;
        v->down = r->c2s.bytes;
    } else {
        addr_bytes(v->peer, r->dst_hi, r->dst_lo);
        v->peer_port = r->dst_port;
        v->local_port = r->src_port;
        v->up = r->c2s.bytes;
        v->down = r->s2c.bytes;
        /* both ends base stations (X2/Xn, lateral movement): src, who opened it, is "ours" */
        v->bs_opened =
                r->initiator == MW_INIT_BASE_STATION ||
                (r->local_role == MW_ROLE_BASE_STATION && r->peer_role == MW_ROLE_BASE_STATION);
    }
    v->max_pkt = (uint32_t)(r->c2s.len_max > r->s2c.len_max ? r->c2s.len_max : r->s2c.len_max);
    v->duration_us = r->last_us - r->first_us;
    local_s = r->first_us / 1000000 + mw_inventory_utc_offset(inv, r->first_us / 1000000);
    days = local_s >= 0 ? local_s / 86400 : (local_s - 86399) / 86400;
    v->hour_of_day = (unsigned)((local_s - days * 86400) / 3600);
    v->hour_of_week = (unsigned)(((days + 3) % 7 + 7) % 7) * 24 +
                      v->hour_of_day; /* 1970-01-01 was a Thursday */
    app = name ? name(name_ctx, r->app_proto ? r->app_proto : r->master_proto) : NULL;
    v->app = (app && app[0]) ? app : "Unknown";
    return 1;
}

void mw_flow_view_key(const mw_flow_view_t *v, uint32_t st, mw_tuple_key_t *key)
{
    const mw_flow_record_t *r = v->rec;

    memset(key, 0, sizeof(*key)); /* padding too: keys are hashed as bytes */
    key->station = st;
    memcpy(key->peer, v->peer, 16);
    key->port = r->dst_port; /* the responder's: the service port */
    key->service = r->service;
    key->l4_proto = r->l4_proto;
    key->initiator = r->initiator;
    key->plane = r->plane;
    key->inner = r->kind == MW_FLOW_INNER;
    strncpy(key->app, v->app, MW_MODEL_APP_LEN - 1);
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

int mw_flow_view_is_oam(const mw_flow_view_t *v)
{
    return v->rec->plane == MW_PLANE_MANAGEMENT && v->rec->kind != MW_FLOW_INNER;
}
