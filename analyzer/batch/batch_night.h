/*
 * batch_night.h - a night's outputs, rebuilt at the end of every run over
 * all of the night's captures (batch_night.c): NIGHT/index.h5,
 * NIGHT/anomalies.jsonl and NIGHT/night.json (docs/BATCH.md).
 */
#ifndef MW_BATCH_NIGHT_H
#define MW_BATCH_NIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "batch/batch_config.h"
#include "batch/batch_state.h"
#include "output/h5_index.h"

typedef struct mw_batch_night_capture {
    const mw_batch_record_t *rec;
    mw_results_info_t info; /* read from the results file */
    int have_info;          /* the results file was read */
} mw_batch_night_capture_t;

typedef struct mw_batch_night {
    const char *night;
    const char *dir; /* OUTDIR/NIGHT, absolute */
    const mw_batch_config_t *config;
    mw_batch_night_capture_t *caps; /* sorted by path: capture_id = index + 1 */
    size_t n;
    char started_utc[MW_BATCH_UTC_LEN];
    const char *run_error;   /* what stopped the run, NULL when nothing */
    const char *train_error; /* --train: why the model was not updated, NULL when it was */
    /* OUT of mw__batch_night_write */
    size_t done, failed, not_matched, young;
    uint64_t flows, anomalies;
} mw_batch_night_t;

/*
 * Reads every capture's results file, then writes index.h5, anomalies.jsonl
 * and night.json, each atomically (tmp + fsync + rename). 0, or an MW_E*
 * code with a message (the night's status in night.json is then "failed"
 * when night.json itself could still be written).
 */
int mw__batch_night_write(mw_batch_night_t *night, char *errbuf, size_t errlen);

/* night.json again, after mw__batch_night_write (now with train_error): 0 or MW_E*. */
int mw__batch_night_rewrite_json(mw_batch_night_t *night, char *errbuf, size_t errlen);

#endif
