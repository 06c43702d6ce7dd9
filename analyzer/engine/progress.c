/*
 * progress.c - progress line on stderr.
 */
#include "engine/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/mw.h"

void mw_progress_init(mw_progress_t *pr, int wanted)
{
    pr->enabled = wanted && isatty(STDERR_FILENO);
    pr->start_ms = pr->last_ms = mw_monotonic_ms();
    pr->last_packets = 0;
}

void mw_progress_update(
        mw_progress_t *pr, uint64_t packets, uint64_t done_bytes, uint64_t total_bytes, int live)
{
    int64_t now = mw_monotonic_ms();
    double rate, secs;

    if (!pr->enabled || now - pr->last_ms < 1000)
        return;
    secs = (double)(now - pr->last_ms) / 1000.0;
    rate = (double)(packets - pr->last_packets) / secs;
    if (live || total_bytes == 0) {
        fprintf(stderr, "\r\033[K%llu packets  %.0f pkt/s", (unsigned long long)packets, rate);
    } else {
        double frac = (double)done_bytes / (double)total_bytes;
        double elapsed = (double)(now - pr->start_ms) / 1000.0;
        double eta = frac > 0.001 ? elapsed * (1.0 - frac) / frac : 0.0;
        fprintf(stderr, "\r\033[K%5.1f%%  %.1f/%.1f MB  %.0f pkt/s  ETA %d:%02d", frac * 100.0,
                (double)done_bytes / 1e6, (double)total_bytes / 1e6, rate, (int)eta / 60,
                (int)eta % 60);
    }
    fflush(stderr);
    pr->last_ms = now;
    pr->last_packets = packets;
}

void mw_progress_clear(mw_progress_t *pr)
{
    if (pr->enabled)
        fputs("\r\033[K", stderr);
}
