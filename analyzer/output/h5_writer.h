/*
 * h5_writer.h - the HDF5 results file. Single-threaded: one writer thread
 * (flow_sink.c) owns it once started. The file is built as a skeleton
 * (create: every table, then the caller writes /meta and the root
 * attributes with complete=0), then started: it becomes NAME.partial, open
 * in SWMR write mode, so a killed run leaves a readable file with every row
 * up to the last flush. mw_h5_writer_close(..., finalize=1) renames it to
 * NAME, so a finished name is always a complete file. Layout and meaning of
 * every member: docs/SCHEMA.md.
 */
#ifndef MW_H5_WRITER_H
#define MW_H5_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "flow/flow_record.h"

typedef struct mw_h5_writer mw_h5_writer_t;

/* Makes HDF5 report errors only through return codes, in the calling thread. */
void mw_h5_quiet(void);

/*
 * Creates the skeleton under a temporary name beside PATH (exclusively,
 * never through a symlink) with an empty /flows and, with
 * detection_tables, the empty detection tables; /flows chunks are deflated on
 * deflate_threads threads (0 = 1). Then write /meta, /stats and the root
 * attributes, and call mw_h5_writer_start(). NULL + message on failure.
 */
mw_h5_writer_t *mw_h5_writer_create(const char *path, int detection_tables,
        unsigned deflate_threads, char *errbuf, size_t errlen);

/*
 * Publishes the skeleton as PATH.partial - failing when that name exists
 * (another run, or a crashed one) - and reopens it in SWMR write mode.
 * After this only appends and in-place updates of int64 attributes and
 * counters are allowed.
 */
int mw_h5_writer_start(mw_h5_writer_t *w, char *errbuf, size_t errlen);

/* Buffers rows and writes whole chunks. */
int mw_h5_writer_append_flows(
        mw_h5_writer_t *w, const mw_flow_record_t *recs, size_t n, char *errbuf, size_t errlen);

/* Writes buffered rows and flushes HDF5's caches to the file. */
int mw_h5_writer_flush(mw_h5_writer_t *w, char *errbuf, size_t errlen);

/* /meta/<name>: rows of (id uint32, name string) for ids 0..count-1 (before the start). */
int mw_h5_writer_name_table(mw_h5_writer_t *w, const char *name, const char *const *names,
        size_t count, char *errbuf, size_t errlen);

/* /stats/<name>: rows of (name string, value uint64). After the start: rewrites the
 * values of the table written before it (same names). */
int mw_h5_writer_counters(mw_h5_writer_t *w, const char *name, const char *const *names,
        const uint64_t *values, size_t count, char *errbuf, size_t errlen);

/* /stats/counters and the first_us/last_us attributes in one go (in place after the
 * start): a checkpoint, a rotated file's end, the run's end. 0 or MW_EIO + message. */
int mw_h5_writer_progress(mw_h5_writer_t *w, const char *const *names, const uint64_t *values,
        size_t count, int64_t first_us, int64_t last_us, char *errbuf, size_t errlen);

/* Root attributes. Strings only before the start; int64 after it only in place. */
int mw_h5_writer_attr_string(mw_h5_writer_t *w, const char *name, const char *value);
int mw_h5_writer_attr_int64(mw_h5_writer_t *w, const char *name, int64_t value);

/* A scalar string dataset, e.g. /meta/inventory (the config the run used); before the start. */
int mw_h5_writer_text(
        mw_h5_writer_t *w, const char *path, const char *text, char *errbuf, size_t errlen);

struct mw_anomaly_record;
struct mw_anomaly_flow;
struct mw_window_record;
struct mw_coverage_record;
/* /anomalies + /anomaly_flows and /windows (created on first use). */
int mw_h5_writer_append_anomalies(mw_h5_writer_t *w, const struct mw_anomaly_record *a, size_t n,
        const struct mw_anomaly_flow *links, size_t nlinks);
int mw_h5_writer_append_windows(mw_h5_writer_t *w, const struct mw_window_record *rows, size_t n);
/* /coverage: one row per base station of the inventory (row 0: flows of none). */
int mw_h5_writer_append_coverage(
        mw_h5_writer_t *w, const struct mw_coverage_record *rows, size_t n);
/* 0 when the detection tables exist (they are made by create). */
int mw_h5_writer_detection_tables(mw_h5_writer_t *w);

/* CPU seconds of the thread that deflates /flows chunks in the background. */
double mw_h5_writer_deflate_cpu_s(mw_h5_writer_t *w);

/*
 * Flushes, closes every HDF5 identifier and, when finalize is set, fsyncs
 * and renames PATH.partial to PATH. Before the start it removes the
 * skeleton; after it, without finalize, PATH.partial stays (recoverable).
 * Always frees w. Returns 0 or a negative MW_E* code.
 */
int mw_h5_writer_close(mw_h5_writer_t *w, int finalize, char *errbuf, size_t errlen);

#endif
