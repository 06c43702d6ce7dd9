/*
 * anomaly_json.c - an anomaly as one JSON line (jansson does the escaping):
 * who (base station, its address or the subscriber's), whom (peer, ports),
 * what (service, nDPI label, host name), when (UTC and the site's local time
 * with its zone), how much (the record's numbers, the same as the text),
 * why (value and limit) and where in the packets (frames, flow ids,
 * Community ID, Wireshark filter). Field list: docs/SCHEMA.md.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "classify/plane.h"
#include "classify/roles.h"
#include "core/addr.h"
#include "detect/detector.h"
#include "output/anomaly_sinks.h"

static void utc_text(char *out, size_t len, int64_t us)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "2026-11-30T07:12:03+01:00" in the site's time zone */
static void local_text(char *out, size_t len, const mw_inventory_t *inv, int64_t us)
{
    int32_t off = mw_inventory_utc_offset(inv, us / 1000000);
    time_t t = (time_t)(us / 1000000 + off);
    struct tm tm;
    char base[24];
    int32_t a = off < 0 ? -off : off;

    gmtime_r(&t, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s%c%02d:%02d", base, off < 0 ? '-' : '+', (int)(a / 3600),
            (int)(a % 3600 / 60));
}

/* What "local" is: the base station's address, a subscriber's (inside GTP-U), or, for a
 * finding of no station, the multicast group it was sent to (time_source kind 1) or none. */
static const char *local_kind(const mw_anomaly_record_t *a)
{
    if (a->inner)
        return "subscriber";
    if (a->bs_index != 0)
        return "base_station";
    if (mw_addr_is_multicast_u64(a->local_hi, a->local_lo))
        return "multicast_group";
    return "none";
}

static json_t *who_what(const mw_inventory_t *inv, const mw_anomaly_record_t *a)
{
    char local[64], peer[64];
    const char *bs = mw_inventory_bs_id(inv, a->bs_index);
    mw_inventory_match_t pm;

    mw_fmt_addr(local, sizeof(local), a->local_hi, a->local_lo);
    mw_fmt_addr(peer, sizeof(peer), a->peer_hi, a->peer_lo);
    mw_inventory_lookup_u64(inv, a->peer_hi, a->peer_lo, &pm);
    return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:s, s:s, s:b, "
                     "s:I, s:I, s:s}",
            "bs", bs ? bs : "", "local", local, "local_kind", local_kind(a), "local_port",
            (int)a->local_port, "peer", peer, "peer_role", mw_role_name(pm.role), "peer_port",
            (int)a->peer_port, "service_port", (int)a->service_port, "n_ports", (int)a->n_ports,
            "opened_by", mw_initiator_name(a->initiator), "plane", mw_plane_name(a->plane),
            "service", mw_service_name(a->service), "protocol", a->app, "inner", (int)a->inner,
            "teid_up", (json_int_t)a->teid_up, "teid_down", (json_int_t)a->teid_down, "host",
            a->host);
}

int mw_anomaly_json_write(FILE *out, const mw_inventory_t *inv, const char *event,
        const mw_anomaly_record_t *a, const uint64_t *flow_ids, uint32_t nids, const char *source,
        uint64_t source_frame)
{
    char start[32], end[32], lstart[40], lend[40];
    json_t *o, *ids, *more;
    char *text;
    uint32_t i;
    int rc = -1;

    utc_text(start, sizeof(start), a->start_us);
    utc_text(end, sizeof(end), a->end_us);
    local_text(lstart, sizeof(lstart), inv, a->start_us);
    local_text(lend, sizeof(lend), inv, a->end_us);
    ids = json_array();
    for (i = 0; ids != NULL && i < nids; i++)
        json_array_append_new(ids, json_integer((json_int_t)flow_ids[i]));
    o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:f, s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
            "anomaly_id", (json_int_t)a->anomaly_id, "incident_id", (json_int_t)a->incident_id,
            "event", event, "detector", mw_detector_name(a->detector), "severity",
            mw_severity_name(a->severity), "score", (double)a->score, "kind", (int)a->kind, "start",
            start, "end", end, "start_local", lstart, "end_local", lend, "timezone",
            mw_inventory_timezone(inv) ? mw_inventory_timezone(inv) : "UTC", "start_us",
            (json_int_t)a->start_us, "end_us", (json_int_t)a->end_us);
    more = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:o, s:s, s:s, s:s}",
            "n_flows", (json_int_t)a->n_flows, "n_sessions", (json_int_t)a->n_sessions, "bytes_up",
            (json_int_t)a->bytes_up, "bytes_down", (json_int_t)a->bytes_down, "packets_up",
            (json_int_t)a->packets_up, "packets_down", (json_int_t)a->packets_down, "first_frame",
            (json_int_t)(a->first_flow_id / 2), "value", a->value, "limit", a->limit,
            "first_flow_id", (json_int_t)a->first_flow_id, "last_flow_id",
            (json_int_t)a->last_flow_id, "flow_ids", ids ? ids : json_array(), "community_id",
            a->community_id, "wireshark", a->wireshark, "explanation", a->explanation);
    if (o != NULL && more != NULL) {
        json_t *w = who_what(inv, a);
        json_object_update(o, w);
        json_object_update(o, more);
        if (source != NULL) {
            json_object_set_new(o, "source", json_string(source));
            json_object_set_new(o, "source_frame", json_integer((json_int_t)source_frame));
        }
        json_decref(w);
        text = json_dumps(o, JSON_COMPACT);
        if (text != NULL) {
            rc = fputs(text, out) < 0 || fputc('\n', out) == EOF || fflush(out) != 0 ? -1 : 0;
            free(text);
        }
    }
    json_decref(o);
    json_decref(more);
    return rc;
}
