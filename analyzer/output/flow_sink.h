/*
 * flow_sink.h - the one writer thread. Workers and the reader push finished
 * flow records from any thread; the sink appends them to the HDF5 writer
 * and flushes the file every few seconds so a crash loses at most that
 * much. The queue is bounded: producers wait when the writer falls behind.
 * After a write error (disk full) the sink keeps accepting and dropping
 * records so producers never block, and reports the failure.
 */
#ifndef MW_FLOW_SINK_H
#define MW_FLOW_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "flow/flow_record.h"
#include "output/h5_writer.h"

typedef struct mw_flow_sink mw_flow_sink_t;

/* Runs in the writer thread on every batch, before it is written (training,
 * detection); w may be NULL. finish runs once, after the last batch. */
typedef struct mw_flow_observer {
    /* watermark: the value of watermark() read when the batch was taken from the queue
     * (under the queue's lock), so no record pushed before it is missing from the batch */
    void (*observe)(void *ctx, const mw_flow_record_t *recs, size_t n, mw_h5_writer_t *w,
            int64_t watermark);
    int64_t (*watermark)(void *ctx); /* may be NULL (watermark 0) */
    void (*finish)(void *ctx, mw_h5_writer_t *w);
    /* live runs: called every flush interval with the wall clock, so time moves on
     * when traffic stops (may be NULL) */
    void (*tick)(void *ctx, int64_t now_us, mw_h5_writer_t *w);
    /* every turn of the writer thread, between batches: reloads (may be NULL) */
    void (*maintain)(void *ctx, mw_h5_writer_t *w);
    void *ctx;
} mw_flow_observer_t;

/*
 * -G: every interval_ms the writer thread hands the current file to rotate(),
 * which completes it and returns the next one (or NULL to keep writing the
 * old one, which it then must not have closed). The counters are those of
 * the latest checkpoint (mw_flow_sink_checkpoint); n = 0 before the first.
 */
typedef struct mw_flow_rotation {
    int64_t interval_ms; /* 0 = never */
    mw_h5_writer_t *(*rotate)(void *ctx, mw_h5_writer_t *old, const char *const *names,
            const uint64_t *values, size_t n, int64_t first_us, int64_t last_us);
    void *ctx;
} mw_flow_rotation_t;

typedef struct mw_flow_sink_params {
    mw_h5_writer_t *writer;      /* ownership passes to the sink; NULL = count only */
    mw_flow_observer_t observer; /* optional */
    mw_flow_rotation_t rotation; /* optional */
    int flush_interval_ms;       /* 0 = 2000 */
    size_t max_queued;           /* records; 0 = 16384 (8 MB a buffer) */
} mw_flow_sink_params_t;

mw_flow_sink_t *mw_flow_sink_create(
        const mw_flow_sink_params_t *params, char *errbuf, size_t errlen);

/* Hands a started writer to the sink (ownership passes), before any record is pushed. */
void mw_flow_sink_set_writer(mw_flow_sink_t *sink, mw_h5_writer_t *w);

/* Thread-safe. Copies n records. */
void mw_flow_sink_push(mw_flow_sink_t *sink, const mw_flow_record_t *recs, size_t n);

/* Non-zero once a write failed; the message is copied to errbuf. */
int mw_flow_sink_failed(mw_flow_sink_t *sink, char *errbuf, size_t errlen);

uint64_t mw_flow_sink_count(mw_flow_sink_t *sink);

/*
 * Thread-safe. The run's counters and packet-time span as of now; the
 * writer thread puts them into the file (in place) at its next flush, so
 * a killed run's partial carries them to `mastwatch recover`. names must
 * stay valid for the sink's life; at most MW_SINK_MAX_COUNTERS are kept.
 */
#define MW_SINK_MAX_COUNTERS 128
void mw_flow_sink_checkpoint(mw_flow_sink_t *sink, const char *const *names, const uint64_t *values,
        size_t n, int64_t first_us, int64_t last_us);

/*
 * Drains the queue, stops the thread and hands the writer back (NULL when
 * none) so the caller can add metadata and close it; *cpu_s is the CPU time
 * the writer thread used. Frees sink.
 */
mw_h5_writer_t *mw_flow_sink_finish(mw_flow_sink_t *sink, int *failed /* OUT */,
        double *cpu_s /* OUT */, char *errbuf, size_t errlen);

#endif
