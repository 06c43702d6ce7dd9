/*
 * batch_state.h - what the batch has done, kept in the output tree
 * (batch_state.c): OUTDIR/state/lock (flock: one batch at a time),
 * OUTDIR/state/done.tsv (one line per finished capture, appended and fsynced
 * only once the capture's results are in place) and state/trained.tsv
 * (results files already folded into a model by --train).
 */
#ifndef MW_BATCH_STATE_H
#define MW_BATCH_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "batch/batch_util.h"

enum mw_batch_status {
    MW_BS_DONE = 0,    /* analyze exited 0 */
    MW_BS_FAILED,      /* analyze failed (its error line), crashed, or could not start */
    MW_BS_NOT_MATCHED, /* no site of the config matches the path: not analyzed */
    MW_BS_YOUNG,       /* younger than --min-age: left for the next run */
};

const char *mw__batch_status_name(enum mw_batch_status s); /* "done", "failed", ... */

/* One capture of a night. Strings are owned by whoever holds the record. */
typedef struct mw_batch_record {
    char night[11];
    enum mw_batch_status status;
    int exit_code; /* analyze's exit status; 128+N killed by signal N; -1 none */
    uint64_t size;
    int64_t mtime_ns;
    char started_utc[MW_BATCH_UTC_LEN], finished_utc[MW_BATCH_UTC_LEN];
    char *path;      /* absolute */
    char *site;      /* NULL: not matched */
    char *results;   /* relative to the night directory; NULL: none */
    char *anomalies; /* relative; NULL: none */
    char *log;       /* relative; NULL: none */
    char *error;     /* one line, NULL when none */
} mw_batch_record_t;

void mw__batch_record_free(mw_batch_record_t *r); /* frees the strings, not r */

typedef struct mw_batch_state mw_batch_state_t;

/*
 * Creates OUTDIR/state, takes the lock without waiting and reads done.tsv
 * (a torn last line, from a crash while appending, is cut off). NULL with a
 * one-line message; *busy (OUT) is 1 when another batch holds the lock.
 */
mw_batch_state_t *mw__batch_state_open(const char *outdir, int *busy, char *errbuf, size_t errlen);

size_t mw__batch_state_count(const mw_batch_state_t *st);
const mw_batch_record_t *mw__batch_state_get(const mw_batch_state_t *st, size_t i);

/* The last record for this capture (path, size and mtime), or NULL. */
const mw_batch_record_t *mw__batch_state_find(
        const mw_batch_state_t *st, const char *path, uint64_t size, int64_t mtime_ns);

/* Appends r to done.tsv with one write() and fsync; keeps a copy. 0 or MW_EIO/MW_ENOMEM. */
int mw__batch_state_append(
        mw_batch_state_t *st, const mw_batch_record_t *r, char *errbuf, size_t errlen);

/* trained.tsv: has this night's results file (relative) been folded into a model? */
int mw__batch_state_trained(const mw_batch_state_t *st, const char *night, const char *results);
int mw__batch_state_mark_trained(mw_batch_state_t *st, const char *night, const char *site,
        const char *results, char *errbuf, size_t errlen);

/* Releases the lock and frees everything (NULL-safe). */
void mw__batch_state_close(mw_batch_state_t *st);

#endif
