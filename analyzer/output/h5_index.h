/*
 * h5_index.h - reading what a batch needs from results files, and writing
 * a night's index (h5_index.c): virtual datasets over the per-capture
 * /flows and /anomalies plus a /captures table (docs/BATCH.md).
 */
#ifndef MW_H5_INDEX_H
#define MW_H5_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_results_info {
    uint64_t flows;     /* rows of /flows */
    uint64_t anomalies; /* rows of /anomalies (0 without a model) */
    int has_anomalies;  /* the file has an /anomalies table */
    int complete;       /* root attribute complete */
    int max_severity;   /* highest /anomalies severity, 0 none */
} mw_results_info_t;

/* Reads a closed results file. 0, or MW_EFORMAT/MW_EIO with a message. */
int mw_h5_results_info(
        const char *path, mw_results_info_t *out /* OUT */, char *errbuf, size_t errlen);

typedef struct mw_index_capture {
    uint32_t capture_id;
    const char *path, *site, *status, *error;
    const char *results; /* relative to the index's directory; NULL = none */
    int32_t exit_code;
    uint64_t flows, first_flow_row, anomalies, first_anomaly_row;
    int8_t complete;
} mw_index_capture_t;

/*
 * Writes the index to path (created/truncated): /flows and /anomalies are
 * virtual datasets mapping each capture's rows [first_*_row, +rows) to its
 * results file (named relative to dir, the directory the index will live
 * in, so the tree can move); /captures lists them all. Root attributes:
 * night, index_version, schema_version, captures. 0 or an MW_E* code.
 */
int mw_h5_index_write(const char *path, const char *dir, const char *night,
        const mw_index_capture_t *caps, size_t n, char *errbuf, size_t errlen);

#endif
