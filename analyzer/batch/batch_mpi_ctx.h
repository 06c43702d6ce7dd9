/*
 * batch_mpi_ctx.h - what the MPI ranks of one batch run share between
 * batch_mpi.c (start, rank 0's hand-out), batch_mpi_worker.c (the other
 * ranks) and batch_mpi_train.c (training reduced across ranks). One per
 * process, on main()'s stack: no global state.
 */
#ifndef MW_BATCH_MPI_CTX_H
#define MW_BATCH_MPI_CTX_H

#include <limits.h>
#include <stddef.h>

#include "batch/batch_opts.h"
#include "batch/batch_run.h"
#include "core/mw.h"

typedef struct mw_batch_mpi {
    int rank, size;
    const mw_batch_opts_t *opts;
    char exe[PATH_MAX];
    /* rank 0 */
    const mw_batch_pool_t *pool; /* the run's jobs (valid until the run ends) */
    size_t *order;               /* job indices, largest capture first */
    size_t next;                 /* order[next] is handed out next */
    int *owner;                  /* rank that analyzed job i; -1 none yet */
    int *gone;                   /* rank r said BYE: it sends nothing more */
    int ngone;
    int failed; /* stop handing out: a result could not be recorded */
    /* other ranks */
    char *nightdir; /* rank 0's, broadcast */
} mw_batch_mpi_t;

/* A non-zero rank's part of the run: analysis, then training requests until END. */
int mw__batch_mpi_worker(mw_batch_mpi_t *m);

/* rank 0's train step (mw_batch_train_fn, ctx = mw_batch_mpi_t). */
int mw__batch_mpi_train(void *ctx, const char *exe, const mw_batch_site_t *site, char *const *fresh,
        size_t nfresh, const char *out, const char *log);

/* A non-zero rank's side of one mw__batch_mpi_train (its TRAIN message in msg). */
int mw__batch_mpi_train_part(mw_batch_mpi_t *m, void *msg);

#endif
