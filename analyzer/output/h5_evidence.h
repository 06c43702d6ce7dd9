/*
 * h5_evidence.h - what `mastwatch extract` needs from a results file: an
 * anomaly's time span and linked flows, and the run's sources. The flow
 * records themselves come from mw_h5_flows_read() (h5_model.h), which also
 * probes the file in a child first, so read that before these.
 */
#ifndef MW_H5_EVIDENCE_H
#define MW_H5_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_h5_anomaly_span {
    int64_t start_us, end_us;
    uint64_t first_flow_id, last_flow_id;
    uint64_t *flow_ids; /* from /anomaly_flows (the first 64) */
    size_t nflows;
} mw_h5_anomaly_span_t;

/*
 * Reads anomaly id. Returns 0, MW_EINVAL when the file has no such anomaly
 * (or no /anomalies: a run without --model), or MW_EFORMAT/MW_EIO/MW_ENOMEM
 * with a one-line message.
 */
int mw_h5_anomaly_span_read(
        const char *path, uint64_t id, mw_h5_anomaly_span_t *out, char *errbuf, size_t errlen);
void mw_h5_anomaly_span_free(mw_h5_anomaly_span_t *a);

/* The root attributes `sources` (newly allocated, caller frees) and `command`. */
int mw_h5_run_sources(const char *path, char **sources, char *command, size_t command_len,
        char *errbuf, size_t errlen);

#endif
