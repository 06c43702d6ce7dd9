/*
 * batch_job.h - one capture of the batch as one `mastwatch analyze` child
 * (batch_job.c): its file names, its argv, and what to record once the
 * child has ended. Shared by the single-process pool and by MPI ranks, so a
 * capture is analyzed and committed the same way wherever it runs.
 */
#ifndef MW_BATCH_JOB_H
#define MW_BATCH_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "batch/batch_state.h"
#include "batch/batch_util.h"

#define MW_BATCH_ARGV 16

typedef struct mw_batch_job {
    /* IN, borrowed */
    const char *path; /* the capture, absolute */
    uint64_t size;
    int64_t mtime_ns;
    const char *site, *inventory, *model; /* model NULL: none */
    int no_vlan_tracking;                 /* the site's captures tag each direction apart */
    int dedup;                            /* ... show packets twice: drop the copies */
    /* owned (mw__batch_job_free) */
    char *base;     /* captures/SITE/NAME, relative to the night directory */
    char *results;  /* absolute paths */
    char *anom_tmp; /* analyze writes here; renamed to anom once it is done */
    char *anom;
    char *log;
    char *argv[MW_BATCH_ARGV];
    char started[MW_BATCH_UTC_LEN];
} mw_batch_job_t;

/* Sets base (taking it) and the absolute names under nightdir. 0 or MW_ENOMEM. */
int mw__batch_job_name(mw_batch_job_t *j, char *base, const char *nightdir);

/*
 * Makes the directory, removes old outputs, opens the log and fills the
 * argv of `mastwatch analyze` (the mw_batch_exec_ops_t prepare contract).
 */
int mw__batch_job_prepare(mw_batch_job_t *j, char *const **argv, int *log_fd);

/*
 * The child ended (wait status, or -1 with errno_value). stopping and not
 * successful: the outputs are removed and 1 is returned (nothing to record:
 * done again next run). Otherwise the results and anomalies are made
 * durable (fsync, rename, fsync of the directory) and *rec is filled for
 * night (path and site borrowed from j; error, log, results, anomalies
 * malloc'd: mw__batch_job_record_free): 0, or MW_EIO/MW_ENOMEM with a message.
 */
int mw__batch_job_finish(mw_batch_job_t *j, const char *night, int wstatus, int errno_value,
        int stopping, mw_batch_record_t *rec, char *errbuf, size_t errlen);

/* Frees what mw__batch_job_finish allocated in rec. */
void mw__batch_job_record_free(mw_batch_record_t *rec);

void mw__batch_job_free(mw_batch_job_t *j); /* the owned names, not j */

#endif
