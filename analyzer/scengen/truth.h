/*
 * truth.h - the ground-truth ledger. The injector registers each anomaly
 * and each flow it creates; the packet builder "touches" a tracked flow for
 * every frame, so the first/last times and counts in the file are what the
 * pcap really contains, not what the injector intended.
 */
#ifndef MW_SG_TRUTH_H
#define MW_SG_TRUTH_H

#include <stddef.h>
#include <stdint.h>

#include "sg.h"

mw_truth_t *mw_truth_create(void);
void mw_truth_destroy(mw_truth_t *t);
/* Registers an anomaly; params_json is a JSON object text (copied). Returns index or MW_E*. */
int mw_truth_add_anomaly(mw_truth_t *t, const char *type, const char *plane, const char *bs,
        uint64_t start_s, uint64_t end_s, const char *params_json, const char *description);
/* Registers a flow of anomaly a (copies f's tuple). Returns the track id or MW_E*. */
int mw_truth_add_flow(mw_truth_t *t, int a, const mw_flow_t *f);
/* Flows that were generated but not recorded because the ledger is capped. */
uint64_t mw_truth_dropped(const mw_truth_t *t);
/* Called by the packet builder for each frame of a tracked flow. */
void mw_truth_touch(mw_truth_t *t, int track, uint64_t t_us, uint32_t len);
/* Writes the JSON array; 0 or MW_EIO with a message in errbuf. */
int mw_truth_write(const mw_truth_t *t, const char *path, char *errbuf, size_t errlen);
/* Formats epoch seconds as 2026-11-02T14:00:00Z into out (>= 21 bytes). */
void mw_iso8601(uint64_t s, char *out, size_t len);

#endif
