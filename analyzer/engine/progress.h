/*
 * progress.h - the progress line of long offline runs (bytes, packets/s,
 * ETA), redrawn at most once a second, only when stderr is a terminal.
 */
#ifndef MW_PROGRESS_H
#define MW_PROGRESS_H

#include <stdint.h>

typedef struct mw_progress {
    int enabled;
    int64_t start_ms, last_ms;
    uint64_t last_packets;
} mw_progress_t;

void mw_progress_init(mw_progress_t *pr, int wanted);
void mw_progress_update(
        mw_progress_t *pr, uint64_t packets, uint64_t done_bytes, uint64_t total_bytes, int live);
void mw_progress_clear(mw_progress_t *pr);

#endif
