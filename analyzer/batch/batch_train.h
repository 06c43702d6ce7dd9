/*
 * batch_train.h - --train: folds a clean night into each site's model
 * (batch_train.c).
 */
#ifndef MW_BATCH_TRAIN_H
#define MW_BATCH_TRAIN_H

#include <stddef.h>

#include "batch/batch_night.h"
#include "batch/batch_state.h"

/*
 * Trains the night's fresh results files of a site into the model file out
 * (the step the MPI build spreads over its ranks, batch_mpi_train.c).
 * Returns 0, or -1 when it failed (what failed is in log or on stderr).
 */
typedef int (*mw_batch_train_fn)(void *ctx, const char *exe, const mw_batch_site_t *site,
        char *const *fresh, size_t nfresh, const char *out, const char *log);

/* The default: one `mastwatch train` child over all of them (ctx unused). */
int mw__batch_train_local(void *ctx, const char *exe, const mw_batch_site_t *site,
        char *const *fresh, size_t nfresh, const char *out, const char *log);

/*
 * For each site with a model: when none of the night's captures of that
 * site has an anomaly of severity high (3) or above, trains on the night's
 * complete results not yet folded in (train_fn, e.g. mw__batch_train_local), merges that with
 * the model (`mastwatch model merge`) and renames the merge over the model,
 * keeping the previous one as MODEL.prev. One line per site on stderr says
 * what was done or why not. Returns the number of sites whose training
 * failed.
 */
int mw__batch_train(const char *exe, const mw_batch_night_t *nt, mw_batch_state_t *st,
        mw_batch_train_fn train_fn, void *ctx);

#endif
