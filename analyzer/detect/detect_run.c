/*
 * detect_run.c - the detection run: known-sets built from the model,
 * windows, evidence aggregation, suppressions and output.
 *
 * Aggregation: evidence with the same (detector, station, peer, port)
 * joins one open anomaly; it closes once the watermark (latest record
 * time seen) is a window plus the allowed lateness (2 h) past its last
 * evidence, or at the end of input. Live runs announce an anomaly the
 * moment it opens, so the wait costs no alert time.
 * So a beacon that fires every 5 minutes all day is one anomaly with many
 * flows, not 288.
 */
#include "detect/detect_run.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <xxhash.h>

#include "baseline/trainer.h"
#include "baseline/windows.h"
#include "classify/plane.h"
#include "classify/roles.h"
#include "core/log.h"
#include "core/mw.h"
#include "detect/detector.h"

#define READY_MIN_US       (20LL * 3600 * 1000000) /* 20 h of training before statistics */
#define READY_MIN_WINDOWS  24
#define MAX_OPEN_ANOMALIES 100000
#define MAX_SUPPRESS       1024

typedef struct hashset {
    uint64_t *v;
    size_t n, cap; /* cap: power of two; 0 is the empty marker (hashes are |1) */
} hashset_t;

typedef struct open_anomaly {
    mw_anomaly_record_t rec;
    uint32_t station;
    int64_t last_evidence_us;
    double value, reference;
    uint32_t nflows;
    uint64_t flows[MW_ANOMALY_MAX_FLOWS];
} open_anomaly_t;

typedef struct suppression {
    int detector;             /* -1 = any */
    char bs[MW_MODEL_ID_LEN]; /* "" = any */
    uint8_t peer[16];
    int any_peer;
} suppression_t;

struct mw_detect_ctx {
    mw_detect_params_t p;
    hashset_t peers, services;
    mw_windows_t *windows;
    int64_t window_us, watermark_us, last_close_us;
    int own_watermark; /* no producer watermark given: follow the records */
    open_anomaly_t *open;
    size_t nopen, cap_open;
    uint64_t next_id, counts[4];
    uint8_t unknown_noted[65536];
    suppression_t supp[MAX_SUPPRESS];
    size_t nsupp;
    mw_h5_writer_t *w; /* valid during a call from the sink */
};

/* ---- small hash set of 64-bit fingerprints ---- */

static int set_add(hashset_t *s, uint64_t h)
{
    size_t i;

    h |= 1;
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024, j;
        uint64_t *v = calloc(cap, sizeof(*v));
        if (v == NULL)
            return MW_ENOMEM;
        for (j = 0; j < s->cap; j++) {
            if (s->v[j] == 0)
                continue;
            for (i = s->v[j] & (cap - 1); v[i] != 0; i = (i + 1) & (cap - 1))
                ;
            v[i] = s->v[j];
        }
        free(s->v);
        s->v = v;
        s->cap = cap;
    }
    for (i = h & (s->cap - 1); s->v[i] != 0; i = (i + 1) & (s->cap - 1))
        if (s->v[i] == h)
            return 0;
    s->v[i] = h;
    s->n++;
    return 0;
}

static int set_has(const hashset_t *s, uint64_t h)
{
    size_t i;

    if (s->cap == 0)
        return 0;
    h |= 1;
    for (i = h & (s->cap - 1); s->v[i] != 0; i = (i + 1) & (s->cap - 1))
        if (s->v[i] == h)
            return 1;
    return 0;
}

static uint64_t peer_fp(uint32_t station, const uint8_t peer[16])
{
    uint8_t buf[20];
    memcpy(buf, &station, 4);
    memcpy(buf + 4, peer, 16);
    return XXH3_64bits(buf, sizeof(buf));
}

static uint64_t service_fp(const mw_tuple_key_t *k)
{
    mw_tuple_key_t s;
    memset(&s, 0, sizeof(s));
    s.station = k->station;
    s.service = k->service;
    s.l4_proto = k->l4_proto;
    s.inner = k->inner;
    memcpy(s.app, k->app, sizeof(s.app));
    /* a service known by name may move ports; an unnamed one is known by its port */
    if (k->service == MW_SVC_NONE)
        s.port = k->port;
    return XXH3_64bits(&s, sizeof(s));
}

static void learn_tuple(void *ctx, const mw_tuple_key_t *k, const mw_tuple_stats_t *st)
{
    mw_detect_ctx_t *c = ctx;
    (void)st;
    set_add(&c->peers, peer_fp(k->station, k->peer));
    set_add(&c->services, service_fp(k));
}

static void announce(mw_detect_ctx_t *c, open_anomaly_t *a);

/* ---- what detectors call ---- */

const mw_model_t *mw_detect_model(const mw_detect_ctx_t *c)
{
    return c->p.model;
}

const mw_inventory_t *mw_detect_inventory(const mw_detect_ctx_t *c)
{
    return c->p.inv;
}

int mw_detect_knows_peer(const mw_detect_ctx_t *c, uint32_t station, const uint8_t peer[16])
{
    return set_has(&c->peers, peer_fp(station, peer));
}

int mw_detect_knows_service(const mw_detect_ctx_t *c, const mw_tuple_key_t *key)
{
    return set_has(&c->services, service_fp(key));
}

int mw_detect_is_live(const mw_detect_ctx_t *c)
{
    return c->p.live;
}

int mw_detect_station_ready(const mw_detect_ctx_t *c, uint32_t station)
{
    const mw_station_t *s = mw_model_station_at(c->p.model, station);
    return s != NULL && s->last_us - s->first_us >= READY_MIN_US &&
           s->win_up.n >= READY_MIN_WINDOWS;
}

double mw_detect_training_days(const mw_detect_ctx_t *c)
{
    const mw_model_meta_t *m = mw_model_meta_const(c->p.model);
    return (double)(m->last_us - m->first_us) / 86400e6;
}

void mw_evidence_from_flow(mw_evidence_t *ev, uint8_t detector, uint8_t severity, uint32_t station,
        const mw_flow_view_t *v)
{
    memset(ev, 0, sizeof(*ev));
    ev->detector = detector;
    ev->severity = severity;
    ev->score = (float)severity;
    ev->station = station;
    ev->bs_index = v->rec->bs_index;
    ev->plane = v->rec->plane;
    memcpy(ev->peer, v->peer, 16);
    /* the service port (the responder's): one anomaly per service, not per ephemeral port */
    ev->peer_port = v->rec->dst_port;
    ev->service = v->rec->service;
    ev->app = v->app;
    ev->start_us = v->rec->first_us;
    ev->end_us = v->rec->last_us;
    ev->flow_id = v->rec->flow_id;
    ev->up = v->up;
    ev->down = v->down;
}

static void split16(const uint8_t a[16], uint64_t *hi, uint64_t *lo)
{
    int i;
    *hi = *lo = 0;
    for (i = 0; i < 8; i++) {
        *hi = (*hi << 8) | a[i];
        *lo = (*lo << 8) | a[i + 8];
    }
}

void mw_detect_report(mw_detect_ctx_t *c, const mw_evidence_t *ev)
{
    uint64_t hi, lo;
    open_anomaly_t *a = NULL;
    int opened = 0;
    size_t i;

    split16(ev->peer, &hi, &lo);
    for (i = 0; i < c->nopen; i++) {
        open_anomaly_t *o = &c->open[i];
        if (o->rec.detector == ev->detector && o->station == ev->station && o->rec.peer_hi == hi &&
                o->rec.peer_lo == lo && o->rec.peer_port == ev->peer_port) {
            a = o;
            break;
        }
    }
    if (a == NULL) {
        if (c->nopen >= MAX_OPEN_ANOMALIES)
            return;
        if (c->nopen == c->cap_open) {
            size_t cap = c->cap_open ? c->cap_open * 2 : 64;
            open_anomaly_t *n = realloc(c->open, cap * sizeof(*n));
            if (n == NULL)
                return;
            c->open = n;
            c->cap_open = cap;
        }
        a = &c->open[c->nopen++];
        memset(a, 0, sizeof(*a));
        opened = 1;
        a->station = ev->station;
        a->rec.detector = ev->detector;
        a->rec.bs_index = ev->bs_index;
        a->rec.peer_hi = hi;
        a->rec.peer_lo = lo;
        a->rec.peer_port = ev->peer_port;
        a->rec.service = ev->service;
        a->rec.plane = ev->plane;
        a->rec.start_us = ev->start_us;
        a->rec.end_us = ev->end_us;
        a->rec.first_flow_id = ev->flow_id;
        strncpy(a->rec.app, ev->app ? ev->app : "", MW_ANOMALY_APP_LEN - 1);
    }
    if (ev->start_us < a->rec.start_us)
        a->rec.start_us = ev->start_us;
    if (ev->end_us > a->rec.end_us)
        a->rec.end_us = ev->end_us;
    if (ev->severity > a->rec.severity)
        a->rec.severity = ev->severity;
    if (ev->score > a->rec.score || a->rec.n_flows == 0) {
        a->rec.score = ev->score;
        a->value = ev->value;
        a->reference = ev->reference;
    }
    a->rec.bytes_up += ev->up;
    a->rec.bytes_down += ev->down;
    if (ev->flow_id != 0) {
        a->rec.n_flows++;
        if (a->nflows < MW_ANOMALY_MAX_FLOWS)
            a->flows[a->nflows++] = ev->flow_id;
    }
    if (ev->end_us > a->last_evidence_us)
        a->last_evidence_us = ev->end_us;
    if (opened && c->p.live)
        announce(c, a);
}

/* ---- output ---- */

static void iso(char *out, size_t len, int64_t us)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int suppressed(const mw_detect_ctx_t *c, const open_anomaly_t *a)
{
    const char *bs = mw_inventory_bs_id(c->p.inv, a->rec.bs_index);
    uint64_t hi, lo;
    size_t i;

    for (i = 0; i < c->nsupp; i++) {
        const suppression_t *s = &c->supp[i];
        if (s->detector >= 0 && s->detector != a->rec.detector)
            continue;
        if (s->bs[0] && (bs == NULL || strcmp(s->bs, bs) != 0))
            continue;
        split16(s->peer, &hi, &lo);
        if (!s->any_peer && (hi != a->rec.peer_hi || lo != a->rec.peer_lo))
            continue;
        return 1;
    }
    return 0;
}

static void emit_json(mw_detect_ctx_t *c, const open_anomaly_t *a, const char *event)
{
    const mw_anomaly_record_t *r = &a->rec;
    char start[32], end[32], peer[64];
    json_t *o, *ids;
    char *text;
    uint32_t i;

    iso(start, sizeof(start), r->start_us);
    iso(end, sizeof(end), r->end_us);
    mw_fmt_addr(peer, sizeof(peer), r->peer_hi, r->peer_lo);
    ids = json_array();
    for (i = 0; i < a->nflows; i++)
        json_array_append_new(ids, json_integer((json_int_t)a->flows[i]));
    o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:s, s:s, s:i, s:s, s:s, s:I, "
                  "s:I, s:I, s:o, s:s}",
            "anomaly_id", (json_int_t)r->anomaly_id, "detector", mw_detector_name(r->detector),
            "bs", mw_inventory_bs_id(c->p.inv, r->bs_index) ?: "", "plane", mw_plane_name(r->plane),
            "start", start, "end", end, "start_us", (json_int_t)r->start_us, "end_us",
            (json_int_t)r->end_us, "score", (double)r->score, "severity",
            mw_severity_name(r->severity), "peer", peer, "peer_port", (int)r->peer_port, "protocol",
            r->app, "service", mw_service_name(r->service), "n_flows", (json_int_t)r->n_flows,
            "bytes_up", (json_int_t)r->bytes_up, "bytes_down", (json_int_t)r->bytes_down,
            "flow_ids", ids, "explanation", r->explanation);
    if (o == NULL)
        return;
    json_object_set_new(o, "event", json_string(event));
    text = json_dumps(o, JSON_COMPACT);
    if (text != NULL) {
        if (c->p.json != NULL) {
            fputs(text, c->p.json);
            fputc('\n', c->p.json);
            fflush(c->p.json);
        }
        free(text);
    }
    json_decref(o);
}

static void log_syslog(const mw_detect_ctx_t *c, const open_anomaly_t *a)
{
    if (c->p.syslog)
        syslog(a->rec.severity >= MW_SEV_HIGH ? LOG_WARNING : LOG_NOTICE, "%s %s: %s",
                mw_detector_name(a->rec.detector),
                mw_inventory_bs_id(c->p.inv, a->rec.bs_index) ?: "?", a->rec.explanation);
}

/* Live runs say so the moment an anomaly opens; it is closed (and written) later. */
static void announce(mw_detect_ctx_t *c, open_anomaly_t *a)
{
    if (suppressed(c, a))
        return;
    a->rec.anomaly_id = ++c->next_id;
    mw_detectors[a->rec.detector]->explain(
            c, &a->rec, a->value, a->reference, a->rec.explanation, MW_EXPLANATION_LEN);
    emit_json(c, a, "open");
    log_syslog(c, a);
}

static void finish_anomaly(mw_detect_ctx_t *c, open_anomaly_t *a)
{
    const mw_detector_ops_t *ops = mw_detectors[a->rec.detector];
    mw_anomaly_flow_t links[MW_ANOMALY_MAX_FLOWS];
    uint32_t i;

    if (suppressed(c, a))
        return;
    if (a->rec.anomaly_id == 0)
        a->rec.anomaly_id = ++c->next_id;
    ops->explain(c, &a->rec, a->value, a->reference, a->rec.explanation, MW_EXPLANATION_LEN);
    c->counts[a->rec.severity & 3]++;
    if (c->w != NULL) {
        for (i = 0; i < a->nflows; i++) {
            links[i].anomaly_id = a->rec.anomaly_id;
            links[i].flow_id = a->flows[i];
        }
        mw_h5_writer_append_anomalies(c->w, &a->rec, 1, links, a->nflows);
    }
    emit_json(c, a, c->p.live ? "close" : "final");
    if (!c->p.live)
        log_syslog(c, a);
}

static void close_anomalies(mw_detect_ctx_t *c, int64_t watermark_us)
{
    size_t i, kept = 0;

    for (i = 0; i < c->nopen; i++) {
        /* records reach us late and out of order (a flow is written when it ends, workers
         * batch): wait as long as training does, so any thread count aggregates alike */
        if (watermark_us == INT64_MAX ||
                watermark_us - c->open[i].last_evidence_us > c->window_us + MW_WINDOW_LATENESS_US)
            finish_anomaly(c, &c->open[i]);
        else
            c->open[kept++] = c->open[i];
    }
    c->nopen = kept;
}

static void on_window_closed(void *ctx, const mw_window_t *win)
{
    mw_detect_ctx_t *c = ctx;
    const mw_station_t *st = mw_model_station_at(c->p.model, win->model_station);
    mw_window_record_t row;
    double sd = mw_series_stddev(&st->win_up);
    size_t i;

    memset(&row, 0, sizeof(row));
    row.start_us = win->index * c->window_us;
    row.flows = win->flows;
    row.bytes_up = win->up;
    row.bytes_down = win->down;
    row.peers = win->npeers;
    row.bs_index = win->bs_index;
    if (mw_detect_station_ready(c, win->model_station) && sd > 0)
        row.z_up = (float)(((double)win->up - mw_series_mean(&st->win_up)) / sd);
    if (c->w != NULL)
        mw_h5_writer_append_windows(c->w, &row, 1);
    for (i = 0; i < mw_detector_count; i++)
        if (mw_detectors[i]->on_window != NULL)
            mw_detectors[i]->on_window(c, win, st);
}

/* A station the model does not know is scored against its role group, if any. */
static int station_or_group(mw_detect_ctx_t *c, const char *bs, uint16_t bs_index, uint32_t *st)
{
    char group[MW_MODEL_ID_LEN];
    const char *type = mw_bs_type_name(mw_inventory_bs_type(c->p.inv, bs_index));
    int found;

    if (mw_model_find_station(c->p.model, bs, st) != NULL)
        return 1;
    snprintf(group, sizeof(group), "%s%s", MW_GROUP_PREFIX, type);
    found = mw_model_find_station(c->p.model, group, st) != NULL;
    if (!c->unknown_noted[bs_index]) {
        c->unknown_noted[bs_index] = 1;
        if (found)
            mw_log_note("base station %s is not in the model: scored against all %s stations "
                        "of the training (%s)",
                    bs, type, group);
        else
            mw_log_note("still learning: base station %s is not in the model and no %s is; "
                        "no anomalies for it",
                    bs, group);
    }
    return found;
}

static void one_record(mw_detect_ctx_t *c, const mw_flow_record_t *r)
{
    mw_flow_view_t v;
    mw_tuple_key_t key;
    const mw_tuple_stats_t *tuple;
    uint32_t st;
    size_t i;

    if (c->own_watermark && r->last_us > c->watermark_us)
        c->watermark_us = r->last_us;
    if (!mw_flow_view(&v, r, c->p.inv, c->p.name, c->p.name_ctx))
        return;
    if (!station_or_group(c, v.bs_id, r->bs_index, &st))
        return;
    mw_flow_view_key(&v, st, &key);
    tuple = mw_model_lookup(c->p.model, &key);
    for (i = 0; i < mw_detector_count; i++)
        mw_detectors[i]->on_flow(c, &v, st, &key, tuple);
    if (mw_flow_view_is_oam(&v)) {
        /* keyed by inventory station: stations scored by one role group stay apart */
        mw_window_t *win = mw_windows_add(c->windows, r->bs_index, r->first_us, v.up, v.down,
                v.peer, v.peer_port, r->service, r->flow_id);
        if (win != NULL) {
            win->bs_index = r->bs_index;
            win->model_station = st;
        }
    }
}

void mw_detect_run_records(mw_detect_run_t *run, const mw_flow_record_t *recs, size_t n,
        mw_h5_writer_t *w, int64_t watermark_us)
{
    mw_detect_ctx_t *c = (mw_detect_ctx_t *)run;
    size_t i;

    c->w = w;
    c->own_watermark = watermark_us == 0;
    if (watermark_us > c->watermark_us)
        c->watermark_us = watermark_us;
    for (i = 0; i < n; i++)
        one_record(c, &recs[i]);
    if (c->watermark_us - c->last_close_us >= c->window_us) {
        mw_windows_close(c->windows, c->watermark_us - MW_WINDOW_LATENESS_US, on_window_closed, c);
        close_anomalies(c, c->watermark_us);
        c->last_close_us = c->watermark_us;
    }
    c->w = NULL;
}

void mw_detect_run_finish(mw_detect_run_t *run, mw_h5_writer_t *w)
{
    mw_detect_ctx_t *c = (mw_detect_ctx_t *)run;

    c->w = w;
    mw_windows_close(c->windows, INT64_MAX, on_window_closed, c);
    for (size_t i = 0; i < mw_detector_count; i++)
        if (mw_detectors[i]->on_finish != NULL)
            mw_detectors[i]->on_finish(c);
    close_anomalies(c, INT64_MAX);
    c->w = NULL;
}

void mw_detect_run_tick(mw_detect_run_t *run, int64_t now_us, mw_h5_writer_t *w)
{
    mw_detect_ctx_t *c = (mw_detect_ctx_t *)run;

    if (now_us <= c->watermark_us)
        return;
    c->w = w;
    c->watermark_us = now_us;
    mw_windows_close(c->windows, now_us - MW_WINDOW_LATENESS_US, on_window_closed, c);
    close_anomalies(c, now_us);
    c->last_close_us = now_us;
    c->w = NULL;
}

void mw_detect_run_counts(const mw_detect_run_t *run, uint64_t counts[4])
{
    memcpy(counts, ((const mw_detect_ctx_t *)run)->counts, 4 * sizeof(uint64_t));
}

static int load_suppressions(mw_detect_ctx_t *c, const char *path, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[512];
    unsigned lineno = 0;

    if (f == NULL) {
        mw_fmt_errno(errbuf, errlen, errno, "%s", path);
        return MW_EINVAL;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char det[64], bs[MW_MODEL_ID_LEN], peer[64];
        suppression_t *s;
        int n;
        lineno++;
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
            continue;
        n = sscanf(line, "%63s %63s %63s", det, bs, peer);
        if (n != 3 || c->nsupp >= MAX_SUPPRESS)
            goto bad;
        s = &c->supp[c->nsupp];
        memset(s, 0, sizeof(*s));
        s->detector = -1;
        if (strcmp(det, "*") != 0) {
            unsigned d;
            for (d = 0; d < MW_DET_COUNT && strcmp(mw_detector_name(d), det) != 0; d++)
                ;
            if (d == MW_DET_COUNT)
                goto bad;
            s->detector = (int)d;
        }
        if (strcmp(bs, "*") != 0)
            snprintf(s->bs, sizeof(s->bs), "%s", bs);
        if (strcmp(peer, "*") == 0)
            s->any_peer = 1;
        else if (mw_parse_addr(peer, s->peer) != 0)
            goto bad;
        c->nsupp++;
    }
    fclose(f);
    return 0;
bad:
    fclose(f);
    mw_fmt_err(errbuf, errlen,
            "%s:%u: expected 'DETECTOR BASE-STATION PEER' (each may be *), detectors: new_peer, "
            "new_service, direction, leakage, volume, beacon, off_hours, cleartext, risk, dns, "
            "time_source",
            path, lineno);
    return MW_EINVAL;
}

mw_detect_run_t *mw_detect_run_create(const mw_detect_params_t *p, char *errbuf, size_t errlen)
{
    mw_detect_ctx_t *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return NULL;
    }
    c->p = *p;
    c->window_us = mw_model_meta_const(p->model)->window_us;
    c->windows = mw_windows_create(c->window_us);
    if (c->windows == NULL || mw_model_foreach_tuple(p->model, learn_tuple, c) != 0) {
        mw_fmt_err(errbuf, errlen, "out of memory loading the model");
        goto fail;
    }
    if (p->suppress_path != NULL && load_suppressions(c, p->suppress_path, errbuf, errlen) != 0)
        goto fail;
    if (p->syslog)
        openlog("mastwatch", LOG_PID, LOG_DAEMON);
    return (mw_detect_run_t *)c;
fail:
    mw_detect_run_destroy((mw_detect_run_t *)c);
    return NULL;
}

void mw_detect_run_destroy(mw_detect_run_t *run)
{
    mw_detect_ctx_t *c = (mw_detect_ctx_t *)run;

    if (c == NULL)
        return;
    if (c->p.syslog)
        closelog();
    mw_windows_destroy(c->windows);
    free(c->peers.v);
    free(c->services.v);
    free(c->open);
    free(c);
}
