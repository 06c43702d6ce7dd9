/*
 * summary.h - the end-of-run summary people read on stderr.
 */
#ifndef MW_SUMMARY_H
#define MW_SUMMARY_H

#include <stdio.h>

#include "core/config.h"
#include "engine/engine.h"

void mw_summary_print(FILE *out, const mw_config_t *cfg, const mw_run_summary_t *sum);

#endif
