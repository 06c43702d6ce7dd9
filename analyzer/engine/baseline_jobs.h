/*
 * baseline_jobs.h - the commands around models that need no packets:
 * training from results files, showing and merging models.
 */
#ifndef MW_BASELINE_JOBS_H
#define MW_BASELINE_JOBS_H

#include <stdio.h>

#include "core/config.h"

/* 1 when every input of cfg is an HDF5 results file, 0 when none is, -1 when mixed. */
int mw_inputs_are_results(const mw_config_t *cfg);
int mw_train_from_results(const mw_config_t *cfg, char *errbuf, size_t errlen);
int mw_model_show(const char *path, FILE *out, char *errbuf, size_t errlen);
int mw_model_merge_files(const mw_config_t *cfg, char *errbuf, size_t errlen);

#endif
