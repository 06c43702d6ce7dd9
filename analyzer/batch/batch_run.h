/*
 * batch_run.h - one run of the batch (batch_main.c) and the seam where the
 * analysis and the training can be handed to other processes: by default
 * this process's own children do both; the MPI build (batch_mpi.c) plugs
 * in a driver that shares the captures and the training among its ranks.
 * Everything else - lock, spool, state, names, night outputs - stays in
 * the one process that runs mw__batch_run, so the outputs are the same
 * whichever way the captures were analyzed.
 */
#ifndef MW_BATCH_RUN_H
#define MW_BATCH_RUN_H

#include <stddef.h>

#include "batch/batch_exec.h"
#include "batch/batch_job.h"
#include "batch/batch_opts.h"
#include "batch/batch_state.h"
#include "batch/batch_train.h"

/* The captures to analyze, as the run hands them to a driver. */
typedef struct mw_batch_pool {
    const char *exe;      /* this program */
    const char *nightdir; /* OUTDIR/NIGHT, absolute */
    const mw_batch_opts_t *opts;
    mw_batch_job_t *jobs; /* named, not yet run */
    size_t njobs;
    mw_batch_exec_ops_t local; /* prepare/finished for this process's own children */
    /*
     * Job i was analyzed elsewhere and its outputs are durable: rec as from
     * mw__batch_job_finish (path and site may be any copy). Appends it to
     * the state. 0, or -1: the state cannot be written, stop.
     */
    int (*record)(void *ctx, size_t i, const mw_batch_record_t *rec);
    void *ctx; /* of record() */
} mw_batch_pool_t;

typedef struct mw_batch_driver {
    void *ctx;
    /*
     * The run is set up (code 0: nightdir is valid and analyze follows) or
     * ends before analyzing anything (code: its exit status).
     */
    void (*setup_done)(void *ctx, int code, const char *nightdir);
    /* Analyzes the pool's jobs; returns as mw__batch_exec_run does. */
    int (*analyze)(void *ctx, const mw_batch_pool_t *pool);
    mw_batch_train_fn train; /* for --train (ctx as above) */
} mw_batch_driver_t;

/*
 * Runs the batch with parsed options. drv NULL: this process's children do
 * everything. Returns the exit status (batch.h).
 */
int mw__batch_run(const mw_batch_opts_t *opts, const mw_batch_driver_t *drv);

#endif
