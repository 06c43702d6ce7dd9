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
 * For each site with a model: when none of the night's captures of that
 * site has an anomaly of severity high (3) or above, trains on the night's
 * complete results not yet folded in (`mastwatch train`), merges that with
 * the model (`mastwatch model merge`) and renames the merge over the model,
 * keeping the previous one as MODEL.prev. One line per site on stderr says
 * what was done or why not. Returns the number of sites whose training
 * failed.
 */
int mw__batch_train(const char *exe, const mw_batch_night_t *nt, mw_batch_state_t *st);

#endif
