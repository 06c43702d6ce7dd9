/*
 * incidents.c - evidence per key, sorted and cut into incidents by the
 * packet-time gap; finished incidents as anomaly records (incidents.h).
 */
#include "detect/incidents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/addr.h"
#include "core/mw.h"
#include "detect/fpmap.h"
#include "flow/community_id.h"

typedef struct inc_key {
    uint8_t detector;
    uint8_t pad_;
    uint16_t group;
    uint16_t bs_index;
    uint8_t peer[16];
} inc_key_t;

typedef struct key_state {
    inc_key_t key;
    uint64_t fp;
    int64_t gap_us;
    mw_evidence_t *ev; /* evidence not yet in a finished incident */
    size_t n, cap;
    int sorted;
    /* live: the announced incident still open, and how far it reaches */
    uint64_t open_id;
    int64_t open_until_us;
} key_state_t;

typedef struct finished {
    mw_anomaly_record_t rec;
    uint32_t event; /* offline: which event (station, peer, time) it belongs to */
    uint16_t group;
    uint32_t nids;
    uint64_t ids[MW_ANOMALY_MAX_FLOWS];
    uint64_t min_bytes; /* below this many bytes in all the incident is not one */
} finished_t;

struct mw_incidents {
    mw_incidents_params_t p;
    mw_fpmap_t index; /* key fingerprint -> position in keys */
    key_state_t *keys;
    size_t nkeys, capkeys;
    finished_t *done; /* offline: held until flush */
    size_t ndone, capdone;
    size_t bytes;
    uint64_t dropped, next_id;
};

mw_incidents_t *mw_incidents_create(const mw_incidents_params_t *p)
{
    mw_incidents_t *in = calloc(1, sizeof(*in));

    if (in == NULL)
        return NULL;
    in->p = *p;
    mw_fpmap_init(&in->index);
    return in;
}

void mw_incidents_destroy(mw_incidents_t *in)
{
    size_t i;

    if (in == NULL)
        return;
    for (i = 0; i < in->nkeys; i++)
        free(in->keys[i].ev);
    free(in->keys);
    free(in->done);
    mw_fpmap_free(&in->index);
    free(in);
}

uint64_t mw_incidents_dropped(const mw_incidents_t *in)
{
    return in->dropped;
}

static key_state_t *key_for(mw_incidents_t *in, const mw_evidence_t *ev, int64_t gap_us)
{
    inc_key_t k;
    uint64_t fp, pos;
    key_state_t *ks;

    memset(&k, 0, sizeof(k));
    k.detector = ev->detector;
    k.group = ev->group;
    k.bs_index = ev->bs_index;
    memcpy(k.peer, ev->peer, 16);
    fp = XXH3_64bits(&k, sizeof(k)) | 1;
    if (mw_fpmap_get(&in->index, fp, &pos))
        return &in->keys[pos];
    if (mw_grow((void **)&in->keys, &in->capkeys, in->nkeys + 1, sizeof(*in->keys)) != 0 ||
            mw_fpmap_put(&in->index, fp, in->nkeys) != 0)
        return NULL;
    ks = &in->keys[in->nkeys++];
    memset(ks, 0, sizeof(*ks));
    ks->key = k;
    ks->fp = fp;
    ks->gap_us = gap_us;
    ks->sorted = 1;
    in->bytes += sizeof(*ks);
    return ks;
}

static void drop_key(mw_incidents_t *in, size_t pos)
{
    key_state_t *ks = &in->keys[pos];

    mw_fpmap_del(&in->index, ks->fp);
    free(ks->ev);
    in->bytes -= sizeof(*ks);
    if (pos != in->nkeys - 1) {
        *ks = in->keys[in->nkeys - 1];
        mw_fpmap_put(&in->index, ks->fp, pos);
    }
    in->nkeys--;
}

static int cmp_evidence(const void *a, const void *b)
{
    const mw_evidence_t *x = a, *y = b;

    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    if (x->flow_id != y->flow_id)
        return x->flow_id < y->flow_id ? -1 : 1;
    if (x->end_us != y->end_us)
        return x->end_us < y->end_us ? -1 : 1;
    return memcmp(x, y, offsetof(mw_evidence_t, start_us));
}

static int has_id(const uint64_t *ids, uint32_t n, uint64_t id)
{
    uint32_t i;

    for (i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Distinct service ports of the evidence like the describing one d (flows, or windows; when
 * d's opener is known, not the guessed ones, whose "service port" may be a client's). */
static uint32_t distinct_ports(const mw_evidence_t *ev, size_t n, const mw_evidence_t *d)
{
    uint16_t *ports = malloc(n * sizeof(*ports));
    uint32_t count = 0;
    size_t i, m = 0;

    if (ports == NULL)
        return 1;
    for (i = 0; i < n; i++)
        if (ev[i].window == d->window &&
                (d->initiator == MW_INIT_UNKNOWN || ev[i].initiator != MW_INIT_UNKNOWN))
            ports[m++] = ev[i].service_port;
    qsort(ports, m, sizeof(*ports), cmp_u16);
    for (i = 0; i < m; i++)
        count += i == 0 || ports[i] != ports[i - 1];
    free(ports);
    return count;
}

/* Wireshark's field for an address: each side by its own family. */
static const char *addr_field(uint64_t hi, uint64_t lo)
{
    return mw_addr_is_v4_u64(hi, lo) ? "ip.addr" : "ipv6.addr";
}

/* "ip.addr==a && ip.addr==b && tcp.port==p": what the engineer types into Wireshark. */
static void display_filter(mw_anomaly_record_t *r)
{
    char local[48], peer[48], port[32] = "";
    const char *field = addr_field(r->local_hi, r->local_lo);
    const char *l4 = r->l4_proto == 6     ? "tcp"
                     : r->l4_proto == 17  ? "udp"
                     : r->l4_proto == 132 ? "sctp"
                                          : NULL;

    mw_fmt_addr(local, sizeof(local), r->local_hi, r->local_lo);
    mw_fmt_addr(peer, sizeof(peer), r->peer_hi, r->peer_lo);
    if (l4 != NULL && r->n_ports == 1 && r->service_port != 0)
        snprintf(port, sizeof(port), " && %s.port==%u", l4, r->service_port);
    if (r->detector == MW_DET_CAPTURE_HEALTH) /* the capture, not a station: its time */
        snprintf(r->wireshark, sizeof(r->wireshark),
                "frame.time_epoch >= %lld && frame.time_epoch < %lld",
                (long long)(r->start_us / 1000000), (long long)(r->end_us / 1000000 + 1));
    else if (r->peer_hi == 0 && r->peer_lo == 0) /* window evidence with no single peer */
        snprintf(r->wireshark, sizeof(r->wireshark), "%s==%s", field, local);
    else
        snprintf(r->wireshark, sizeof(r->wireshark), "%s==%s && %s==%s%s%s", field, local,
                addr_field(r->peer_hi, r->peer_lo), peer, port, r->inner ? " && gtp" : "");
}

/* The evidence an incident is described by: its first flow's when it has flows (a window's
 * evidence starts at the window's edge, names the window's top peer port and no opener),
 * the first whose opener the packets said if one did (a capture that began mid-session
 * guesses its first flow's), else its first window's. */
static const mw_evidence_t *describing(const mw_evidence_t *ev, size_t n)
{
    const mw_evidence_t *first_flow = NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        if (ev[i].window)
            continue;
        if (ev[i].initiator != MW_INIT_UNKNOWN)
            return &ev[i];
        if (first_flow == NULL)
            first_flow = &ev[i];
    }
    return first_flow != NULL ? first_flow : &ev[0];
}

/* One finished incident from ev[0..n) (sorted). */
static void build(finished_t *f, const mw_evidence_t *ev, size_t n)
{
    mw_anomaly_record_t *r = &f->rec;
    const mw_evidence_t *e0 = describing(ev, n), *best = &ev[0];
    uint64_t fl_up = 0, fl_down = 0, fl_pu = 0, fl_pd = 0, w_up = 0, w_down = 0;
    uint32_t fl_flows = 0, w_flows = 0, sessions = 0;
    size_t i;

    memset(f, 0, sizeof(*f));
    r->start_us = e0->start_us;
    r->end_us = e0->end_us;
    for (i = 0; i < n; i++) {
        const mw_evidence_t *e = &ev[i];
        /* its time is its flows' when it has any */
        if (e->window == e0->window && e->start_us < r->start_us)
            r->start_us = e->start_us;
        if (e->window == e0->window && e->end_us > r->end_us)
            r->end_us = e->end_us;
        float e_score = mw_score(e->severity, e->value, e->limit);
        float best_score = mw_score(best->severity, best->value, best->limit);
        /* on a tie a flow's finding heads the incident rather than its window's */
        if (e->severity > best->severity ||
                (e->severity == best->severity &&
                        (e_score > best_score ||
                                (e_score == best_score && best->window && !e->window))))
            best = e;
        if (e->window) {
            w_up += e->up;
            w_down += e->down;
            w_flows += e->flows;
        } else {
            fl_up += e->up;
            fl_down += e->down;
            fl_pu += e->pkts_up;
            fl_pd += e->pkts_down;
            fl_flows += e->flows;
            sessions += e->sessions;
        }
        if (e->flow_id != 0 && f->nids < MW_ANOMALY_MAX_FLOWS &&
                !has_id(f->ids, f->nids, e->flow_id))
            f->ids[f->nids++] = e->flow_id;
        if (e->flow_id != 0 && (r->last_flow_id == 0 || e->flow_id > r->last_flow_id))
            r->last_flow_id = e->flow_id;
        if (e->min_bytes > f->min_bytes)
            f->min_bytes = e->min_bytes;
    }
    r->first_flow_id = f->nids > 0 ? f->ids[0] : 0;
    mw_addr_split(e0->local, &r->local_hi, &r->local_lo);
    mw_addr_split(e0->peer, &r->peer_hi, &r->peer_lo);
    /* totals from the flows when there are any; a window-only incident counts its windows */
    r->bytes_up = fl_flows ? fl_up : w_up;
    r->bytes_down = fl_flows ? fl_down : w_down;
    r->packets_up = fl_pu;
    r->packets_down = fl_pd;
    r->n_flows = fl_flows ? fl_flows : w_flows;
    r->n_sessions = sessions;
    r->n_ports = distinct_ports(ev, n, e0);
    r->value = best->value;
    r->limit = best->limit;
    r->severity = best->severity;
    r->score = mw_score(best->severity, best->value, best->limit);
    r->teid_up = e0->teid_up;
    r->teid_down = e0->teid_down;
    r->bs_index = e0->bs_index;
    r->peer_port = e0->peer_port;
    r->local_port = e0->local_port;
    r->service_port = e0->service_port;
    r->service = e0->service;
    r->detector = e0->detector;
    r->plane = e0->plane;
    r->initiator = e0->initiator;
    r->l4_proto = e0->l4_proto;
    r->kind = best->kind;
    r->inner = e0->inner;
    memcpy(r->app, e0->app, sizeof(r->app));
    for (i = 0; i < n && r->host[0] == '\0'; i++)
        memcpy(r->host, ev[i].host, sizeof(r->host));
    if (e0->src_hi || e0->src_lo || e0->dst_hi || e0->dst_lo)
        mw_community_id(r->community_id, sizeof(r->community_id), e0->src_hi, e0->src_lo,
                e0->dst_hi, e0->dst_lo, e0->l4_proto, e0->src_port, e0->dst_port);
    display_filter(r);
    f->group = e0->group;
}

static void hand_out(mw_incidents_t *in, finished_t *f, enum mw_incident_event ev)
{
    in->p.emit(in->p.ctx, ev, &f->rec, f->ids, f->nids);
}

void mw_incidents_add(mw_incidents_t *in, const mw_evidence_t *ev, int64_t gap_us)
{
    key_state_t *ks;

    if (in->bytes + sizeof(*ev) > in->p.max_bytes) {
        in->dropped++;
        return;
    }
    ks = key_for(in, ev, gap_us);
    if (ks == NULL || mw_grow((void **)&ks->ev, &ks->cap, ks->n + 1, sizeof(*ev)) != 0) {
        in->dropped++;
        return;
    }
    if (ks->n > 0 && cmp_evidence(&ks->ev[ks->n - 1], ev) > 0)
        ks->sorted = 0;
    ks->ev[ks->n++] = *ev;
    in->bytes += sizeof(*ev);
    if (in->p.live && ev->min_bytes == 0 &&
            (ks->open_id == 0 || ev->start_us > ks->open_until_us)) {
        finished_t f;
        build(&f, ev, 1);
        f.rec.anomaly_id = f.rec.incident_id = ks->open_id = ++in->next_id;
        hand_out(in, &f, MW_INCIDENT_OPEN);
    }
    if (in->p.live && ev->end_us + gap_us > ks->open_until_us)
        ks->open_until_us = ev->end_us + gap_us;
}

static void finish(mw_incidents_t *in, key_state_t *ks, size_t n)
{
    finished_t f;

    build(&f, ks->ev, n);
    if (f.rec.bytes_up + f.rec.bytes_down < f.min_bytes) {
        ; /* too small to be an incident (e.g. a new peer off the management plane) */
    } else if (in->p.live) {
        f.rec.anomaly_id = ks->open_id ? ks->open_id : ++in->next_id;
        f.rec.incident_id = f.rec.anomaly_id; /* live: each anomaly is its own incident */
        ks->open_id = 0;
        hand_out(in, &f, MW_INCIDENT_FINAL);
    } else if (mw_grow((void **)&in->done, &in->capdone, in->ndone + 1, sizeof(f)) == 0) {
        in->done[in->ndone++] = f;
        in->bytes += sizeof(f);
    } else {
        in->dropped += n;
    }
    memmove(ks->ev, ks->ev + n, (ks->n - n) * sizeof(*ks->ev));
    ks->n -= n;
    in->bytes -= n * sizeof(*ks->ev);
}

void mw_incidents_close(mw_incidents_t *in, int64_t horizon_us)
{
    size_t pos = 0;

    while (pos < in->nkeys) {
        key_state_t *ks = &in->keys[pos];
        for (;;) {
            int64_t reach;
            size_t j;
            if (ks->n == 0)
                break;
            if (!ks->sorted) {
                qsort(ks->ev, ks->n, sizeof(*ks->ev), cmp_evidence);
                ks->sorted = 1;
            }
            reach = ks->ev[0].end_us;
            for (j = 1; j < ks->n && ks->ev[j].start_us <= reach + ks->gap_us; j++)
                if (ks->ev[j].end_us > reach)
                    reach = ks->ev[j].end_us;
            if (horizon_us != INT64_MAX && reach + ks->gap_us >= horizon_us)
                break;
            finish(in, ks, j);
        }
        if (ks->n == 0 && ks->open_id == 0)
            drop_key(in, pos); /* the last key moved here: look at pos again */
        else
            pos++;
    }
}

/* By base station, then peer address. */
static int cmp_bs_peer(const mw_anomaly_record_t *p, const mw_anomaly_record_t *q)
{
    if (p->bs_index != q->bs_index)
        return (int)p->bs_index - (int)q->bs_index;
    if (p->peer_hi != q->peer_hi)
        return p->peer_hi < q->peer_hi ? -1 : 1;
    if (p->peer_lo != q->peer_lo)
        return p->peer_lo < q->peer_lo ? -1 : 1;
    return 0;
}

/* The canonical order: start, detector, station, peer, group. */
static int cmp_finished(const void *a, const void *b)
{
    const finished_t *x = a, *y = b;
    const mw_anomaly_record_t *p = &x->rec, *q = &y->rec;
    int c;

    if (p->start_us != q->start_us)
        return p->start_us < q->start_us ? -1 : 1;
    if (p->detector != q->detector)
        return (int)p->detector - (int)q->detector;
    c = cmp_bs_peer(p, q);
    return c != 0 ? c : (int)x->group - (int)y->group;
}

static int cmp_station_peer(const void *a, const void *b)
{
    int c = cmp_bs_peer(&((const finished_t *)a)->rec, &((const finished_t *)b)->rec);
    return c != 0 ? c : cmp_finished(a, b);
}

/* Anomalies of one station and peer whose spans overlap (within the gap) are one event,
 * whatever detectors saw it: numbered so that mw_incidents_flush can link them. */
static void number_events(mw_incidents_t *in)
{
    uint32_t event = 0;
    int64_t reach = 0;
    size_t i;

    qsort(in->done, in->ndone, sizeof(*in->done), cmp_station_peer);
    for (i = 0; i < in->ndone; i++) {
        const mw_anomaly_record_t *r = &in->done[i].rec, *prev = i ? &in->done[i - 1].rec : NULL;
        if (prev == NULL || prev->bs_index != r->bs_index || prev->peer_hi != r->peer_hi ||
                prev->peer_lo != r->peer_lo || r->start_us > reach + MW_DETECT_DEFAULT_GAP_US) {
            event++;
            reach = r->end_us;
        }
        if (r->end_us > reach)
            reach = r->end_us;
        in->done[i].event = event;
    }
}

void mw_incidents_flush(mw_incidents_t *in)
{
    uint64_t *first_id;
    size_t i;

    if (in->ndone == 0)
        return; /* qsort must not get the NULL array of an empty set */
    number_events(in);
    qsort(in->done, in->ndone, sizeof(*in->done), cmp_finished);
    first_id = calloc(in->ndone + 1, sizeof(*first_id));
    for (i = 0; i < in->ndone; i++) {
        finished_t *f = &in->done[i];
        f->rec.anomaly_id = ++in->next_id;
        if (first_id != NULL && first_id[f->event] == 0)
            first_id[f->event] = f->rec.anomaly_id; /* canonical order: the earliest first */
        f->rec.incident_id = first_id != NULL ? first_id[f->event] : f->rec.anomaly_id;
        hand_out(in, f, MW_INCIDENT_FINAL);
    }
    free(first_id);
    in->bytes -= in->ndone * sizeof(*in->done);
    in->ndone = 0;
}
