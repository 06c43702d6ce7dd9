/*
 * flow_sink.c - a mutex-protected record queue drained by one thread that
 * owns the HDF5 writer (HDF5's high-level calls are not thread-safe, and
 * one writer keeps the file's row order simple).
 */
#include "output/flow_sink.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mw.h"
#include "core/pool.h"

typedef struct checkpoint {
    const char *names[MW_SINK_MAX_COUNTERS];
    uint64_t values[MW_SINK_MAX_COUNTERS];
    size_t n;
    int64_t first_us, last_us;
} checkpoint_t;

struct mw_flow_sink {
    mw_flow_sink_params_t params;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    mw_flow_record_t *queue, *spare; /* swapped: producers fill one, the writer drains the other */
    size_t queued, cap;
    int stopping, failed;
    uint64_t count;
    double cpu_s; /* the writer thread's, once it ended */
    char err[MW_ERRBUF_SIZE];
    /* the latest checkpoint, written at the next flush (writer thread only) */
    int checkpoint_pending;
    checkpoint_t checkpoint;
};

#define WAKE_RECORDS 2048

static void write_batch(
        mw_flow_sink_t *s, mw_h5_writer_t *w, const mw_flow_record_t *recs, size_t n)
{
    char err[MW_ERRBUF_SIZE];
    int failed;

    pthread_mutex_lock(&s->mu);
    failed = s->failed;
    pthread_mutex_unlock(&s->mu);
    if (failed || w == NULL || n == 0)
        return;
    if (mw_h5_writer_append_flows(w, recs, n, err, sizeof(err)) != 0) {
        pthread_mutex_lock(&s->mu);
        s->failed = 1;
        memcpy(s->err, err, sizeof(err));
        pthread_mutex_unlock(&s->mu);
    }
}

static int write_checkpoint(mw_flow_sink_t *s, mw_h5_writer_t *w, char *err, size_t errlen)
{
    checkpoint_t cp;
    int pending;

    pthread_mutex_lock(&s->mu);
    pending = s->checkpoint_pending;
    if (pending)
        cp = s->checkpoint;
    s->checkpoint_pending = 0;
    pthread_mutex_unlock(&s->mu);
    if (!pending || cp.n == 0)
        return 0;
    return mw_h5_writer_progress(
            w, cp.names, cp.values, cp.n, cp.first_us, cp.last_us, err, errlen);
}

static void flush_writer(mw_flow_sink_t *s, mw_h5_writer_t *w)
{
    char err[MW_ERRBUF_SIZE];

    if (w == NULL || s->failed)
        return;
    if (write_checkpoint(s, w, err, sizeof(err)) != 0 ||
            mw_h5_writer_flush(w, err, sizeof(err)) != 0) {
        pthread_mutex_lock(&s->mu);
        s->failed = 1;
        memcpy(s->err, err, sizeof(err));
        pthread_mutex_unlock(&s->mu);
    }
}

/* -G: the current file is completed and the next one takes the rows that follow. */
static mw_h5_writer_t *rotate_writer(mw_flow_sink_t *s, mw_h5_writer_t *w)
{
    checkpoint_t cp;
    mw_h5_writer_t *next;

    if (w == NULL || s->failed)
        return w;
    pthread_mutex_lock(&s->mu);
    cp = s->checkpoint;
    pthread_mutex_unlock(&s->mu);
    next = s->params.rotation.rotate(
            s->params.rotation.ctx, w, cp.names, cp.values, cp.n, cp.first_us, cp.last_us);
    if (next == NULL)
        return w;
    pthread_mutex_lock(&s->mu);
    s->params.writer = next;
    pthread_mutex_unlock(&s->mu);
    /* the new writer is the callee's, not made from the local copies passed to it */
    /* cppcheck-suppress returnDanglingLifetime */
    return next;
}

static void *sink_main(void *arg)
{
    mw_flow_sink_t *s = arg;
    int64_t last_flush = mw_monotonic_ms(), last_rotate = mw_monotonic_ms();
    int64_t rotate_ms = s->params.rotation.rotate != NULL ? s->params.rotation.interval_ms : 0;
    mw_h5_writer_t *w = NULL;

    pthread_setname_np(pthread_self(), "mw-writer"); /* top -H, perf: which thread is busy */
    mw_h5_quiet();                                   /* HDF5's error settings are per thread */
    for (;;) {
        mw_flow_record_t *batch;
        size_t n;
        int stop;
        int64_t watermark;
        struct timespec ts;

        pthread_mutex_lock(&s->mu);
        mw_deadline_in(&ts,
                rotate_ms > 0 ? (int)MW_MAX(1, MW_MIN((int64_t)s->params.flush_interval_ms,
                                                       last_rotate + rotate_ms - mw_monotonic_ms()))
                              : s->params.flush_interval_ms);
        while (s->queued == 0 && !s->stopping) {
            if (pthread_cond_timedwait(&s->not_empty, &s->mu, &ts) != 0)
                break;
        }
        /* read before the swap: producers push records before they publish progress */
        watermark = s->params.observer.watermark
                            ? s->params.observer.watermark(s->params.observer.ctx)
                            : 0;
        batch = s->queue;
        n = s->queued;
        s->queue = s->spare;
        s->spare = batch;
        s->queued = 0;
        stop = s->stopping;
        w = s->params.writer; /* set once, before any record (mw_flow_sink_set_writer) */
        pthread_cond_broadcast(&s->not_full);
        pthread_mutex_unlock(&s->mu);

        if (s->params.observer.observe != NULL && n > 0)
            s->params.observer.observe(
                    s->params.observer.ctx, batch, n, s->failed ? NULL : w, watermark);
        write_batch(s, w, batch, n);
        if (s->params.observer.maintain != NULL)
            s->params.observer.maintain(s->params.observer.ctx, s->failed ? NULL : w);
        if (rotate_ms > 0 && !stop && mw_monotonic_ms() - last_rotate >= rotate_ms) {
            w = rotate_writer(s, w);
            last_rotate += rotate_ms * ((mw_monotonic_ms() - last_rotate) / rotate_ms);
        }
        if (mw_monotonic_ms() - last_flush >= s->params.flush_interval_ms) {
            if (s->params.observer.tick != NULL) {
                s->params.observer.tick(s->params.observer.ctx, mw_wall_us(), s->failed ? NULL : w);
            }
            flush_writer(s, w);
            last_flush = mw_monotonic_ms();
        }
        if (stop && n == 0)
            break;
    }
    if (s->params.observer.finish != NULL)
        s->params.observer.finish(s->params.observer.ctx, s->failed ? NULL : w);
    s->cpu_s = mw_thread_cpu_s();
    return NULL;
}

void mw_flow_sink_checkpoint(mw_flow_sink_t *s, const char *const *names, const uint64_t *values,
        size_t n, int64_t first_us, int64_t last_us)
{
    n = MW_MIN(n, (size_t)MW_SINK_MAX_COUNTERS);
    pthread_mutex_lock(&s->mu);
    memcpy(s->checkpoint.names, names, n * sizeof(*names));
    memcpy(s->checkpoint.values, values, n * sizeof(*values));
    s->checkpoint.n = n;
    s->checkpoint.first_us = first_us;
    s->checkpoint.last_us = last_us;
    s->checkpoint_pending = 1;
    pthread_mutex_unlock(&s->mu);
}

mw_flow_sink_t *mw_flow_sink_create(
        const mw_flow_sink_params_t *params, char *errbuf, size_t errlen)
{
    mw_flow_sink_t *s = calloc(1, sizeof(*s));

    if (s == NULL)
        goto fail_alloc;
    s->params = *params;
    if (s->params.flush_interval_ms <= 0)
        s->params.flush_interval_ms = 2000;
    /* two chunks: enough to keep the writer busy, and a burst (the end of input, a big
     * expiry sweep) holds the producers back rather than megabytes more (live capture asks
     * for more) */
    s->cap = s->params.max_queued ? s->params.max_queued : (1u << 14);
    s->queue = mw_buffer_alloc(s->cap * sizeof(*s->queue));
    s->spare = mw_buffer_alloc(s->cap * sizeof(*s->spare));
    if (s->queue == NULL || s->spare == NULL)
        goto fail_queue;
    if (pthread_mutex_init(&s->mu, NULL) != 0)
        goto fail_queue;
    if (pthread_cond_init(&s->not_empty, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        goto fail_queue;
    }
    if (pthread_cond_init(&s->not_full, NULL) != 0) {
        pthread_cond_destroy(&s->not_empty);
        pthread_mutex_destroy(&s->mu);
        goto fail_queue;
    }
    if (pthread_create(&s->thread, NULL, sink_main, s) != 0) {
        mw_fmt_err(errbuf, errlen, "cannot start the writer thread");
        goto fail_thread;
    }
    return s;

fail_thread:
    pthread_cond_destroy(&s->not_full);
    pthread_cond_destroy(&s->not_empty);
    pthread_mutex_destroy(&s->mu);
fail_queue:
    free(s->queue);
    free(s->spare);
    free(s);
fail_alloc:
    if (errbuf && errbuf[0] == '\0')
        mw_fmt_err(errbuf, errlen, "out of memory for the writer queue");
    return NULL;
}

void mw_flow_sink_set_writer(mw_flow_sink_t *s, mw_h5_writer_t *w)
{
    pthread_mutex_lock(&s->mu);
    s->params.writer = w;
    pthread_cond_signal(&s->not_empty);
    pthread_mutex_unlock(&s->mu);
}

void mw_flow_sink_push(mw_flow_sink_t *s, const mw_flow_record_t *recs, size_t n)
{
    pthread_mutex_lock(&s->mu);
    s->count += n;
    while (n > 0) {
        size_t take;
        while (s->queued == s->cap)
            pthread_cond_wait(&s->not_full, &s->mu);
        take = MW_MIN(n, s->cap - s->queued);
        memcpy(s->queue + s->queued, recs, take * sizeof(*recs));
        s->queued += take;
        recs += take;
        n -= take;
        /* wake the writer every WAKE_RECORDS, not per batch (a context switch each), nor
         * per quarter queue (it would touch megabytes more of both buffers); otherwise it
         * comes every flush interval by itself */
        if (s->queued >= MW_MIN(s->cap / 4, (size_t)WAKE_RECORDS))
            pthread_cond_signal(&s->not_empty);
    }
    pthread_mutex_unlock(&s->mu);
}

int mw_flow_sink_failed(mw_flow_sink_t *s, char *errbuf, size_t errlen)
{
    int failed;

    pthread_mutex_lock(&s->mu);
    failed = s->failed;
    if (failed)
        mw_fmt_err(errbuf, errlen, "%s", s->err);
    pthread_mutex_unlock(&s->mu);
    return failed;
}

uint64_t mw_flow_sink_count(mw_flow_sink_t *s)
{
    uint64_t n;

    pthread_mutex_lock(&s->mu);
    n = s->count;
    pthread_mutex_unlock(&s->mu);
    return n;
}

mw_h5_writer_t *mw_flow_sink_finish(
        mw_flow_sink_t *s, int *failed, double *cpu_s, char *errbuf, size_t errlen)
{
    mw_h5_writer_t *w;

    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->not_empty);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    *failed = s->failed;
    *cpu_s = s->cpu_s;
    if (s->failed)
        mw_fmt_err(errbuf, errlen, "%s", s->err);
    w = s->params.writer;
    pthread_cond_destroy(&s->not_full);
    pthread_cond_destroy(&s->not_empty);
    pthread_mutex_destroy(&s->mu);
    free(s->queue);
    free(s->spare);
    free(s);
    return w;
}
