/*
 * anomaly_sinks.c - fans the detection run's results out to the HDF5
 * tables, the JSON lines file and syslog (anomaly_sinks.h).
 */
#include "output/anomaly_sinks.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "core/mw.h"

struct mw_anomaly_sinks {
    mw_anomaly_sinks_params_t p;
    mw_h5_writer_t *w;
    FILE *json;
    int reopened; /* the reopen request last served */
    int failed;   /* MW_SINK_FAILED_* bits */
    _Atomic uint64_t count;
};

mw_anomaly_sinks_t *mw_anomaly_sinks_create(const mw_anomaly_sinks_params_t *p)
{
    mw_anomaly_sinks_t *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->p = *p;
    s->json = p->json;
    if (p->reopen_requests != NULL)
        s->reopened = atomic_load(p->reopen_requests);
    if (p->syslog)
        mw_anomaly_syslog_open();
    return s;
}

void mw_anomaly_sinks_destroy(mw_anomaly_sinks_t *s)
{
    if (s == NULL)
        return;
    if (s->p.syslog)
        mw_anomaly_syslog_close();
    if (s->json != NULL && s->json != stdout)
        fclose(s->json); /* every line was flushed and checked when written */
    free(s);
}

void mw_anomaly_sinks_set_inventory(mw_anomaly_sinks_t *s, const mw_inventory_t *inv)
{
    s->p.inv = inv;
}

void mw_anomaly_sinks_set_writer(mw_anomaly_sinks_t *s, mw_h5_writer_t *w)
{
    s->w = w;
}

int mw_anomaly_sinks_failed(const mw_anomaly_sinks_t *s)
{
    return s->failed;
}

uint64_t mw_anomaly_sinks_count(const mw_anomaly_sinks_t *s)
{
    return atomic_load_explicit(&((mw_anomaly_sinks_t *)s)->count, memory_order_relaxed);
}

void mw_anomaly_sinks_check_reopen(mw_anomaly_sinks_t *s)
{
    int asked;
    FILE *f;

    if (s->p.reopen_requests == NULL || s->p.json_path == NULL || s->json == NULL)
        return;
    asked = atomic_load(s->p.reopen_requests);
    if (asked == s->reopened)
        return;
    s->reopened = asked;
    /* append, never truncate: a restart or a copytruncate'd file keeps every line */
    f = fopen(s->p.json_path, "a");
    if (f == NULL) {
        s->failed |= MW_SINK_FAILED_JSON; /* the old file stays: nothing is lost */
        return;
    }
    if (fclose(s->json) != 0)
        s->failed |= MW_SINK_FAILED_JSON;
    s->json = f;
}

static void on_anomaly(void *ctx, const char *event, const mw_anomaly_record_t *a,
        const uint64_t *ids, uint32_t nids)
{
    mw_anomaly_sinks_t *s = ctx;
    mw_anomaly_flow_t links[MW_ANOMALY_MAX_FLOWS];
    uint32_t i;
    int final = event[0] != 'o'; /* "final" or "close" */

    mw_anomaly_sinks_check_reopen(s);
    if (event[0] == 'o' || event[0] == 'f') /* once per anomaly, as syslog below */
        atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    if (final && s->w != NULL) {
        for (i = 0; i < nids && i < MW_ANOMALY_MAX_FLOWS; i++) {
            links[i].anomaly_id = a->anomaly_id;
            links[i].flow_id = ids[i];
        }
        if (mw_h5_writer_append_anomalies(s->w, a, 1, links, i) != 0)
            s->failed |= MW_SINK_FAILED_H5;
    }
    if (s->json != NULL) {
        uint64_t in_file = 0;
        const char *src = s->p.source_of && a->first_flow_id
                                  ? s->p.source_of(s->p.source_ctx, a->first_flow_id / 2, &in_file)
                                  : NULL;
        if (mw_anomaly_json_write(s->json, s->p.inv, event, a, ids, nids, src, in_file) != 0)
            s->failed |= MW_SINK_FAILED_JSON;
    }
    /* syslog once per anomaly: when it opens live, when it is final offline */
    if (s->p.syslog && (event[0] == 'o' || event[0] == 'f'))
        mw_anomaly_syslog_write(s->p.inv, a);
}

static void on_window(void *ctx, const mw_window_record_t *row)
{
    mw_anomaly_sinks_t *s = ctx;

    if (s->w != NULL && mw_h5_writer_append_windows(s->w, row, 1) != 0)
        s->failed |= MW_SINK_FAILED_H5;
}

mw_detect_sink_t mw_anomaly_sinks_detect_sink(mw_anomaly_sinks_t *s)
{
    return (mw_detect_sink_t){ .anomaly = on_anomaly, .window = on_window, .ctx = s };
}

int mw_anomaly_sinks_coverage(mw_anomaly_sinks_t *s, const mw_coverage_record_t *rows, size_t n)
{
    if (s->w == NULL)
        return 0;
    if (mw_h5_writer_append_coverage(s->w, rows, n) != 0) {
        s->failed |= MW_SINK_FAILED_H5;
        return MW_EIO;
    }
    return 0;
}
