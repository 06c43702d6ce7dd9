/*
 * status.h - a running capture's health, for operators: one line on
 * stderr (the journal under systemd) every --status seconds or on SIGUSR1,
 * and a Prometheus textfile for node-exporter's textfile collector (so no
 * HTTP server of our own), replaced atomically.
 */
#ifndef MW_STATUS_H
#define MW_STATUS_H

#include <stdint.h>
#include <stdio.h>

#include "decode/decode.h"

typedef struct mw_status {
    int64_t wall_us;   /* when taken */
    double interval_s; /* since the previous status (0: first) */
    uint64_t packets, bytes;
    uint64_t packets_delta; /* since the previous status */
    uint64_t kernel_received, kernel_dropped, if_dropped;
    int have_kernel;                  /* the numbers above come from a live handle */
    uint64_t malformed[MW_DEC_COUNT]; /* packets stopped, by reason (index 0 unused) */
    uint64_t flows_in_memory, flows_evicted;
    uint64_t anomalies;
    int64_t lag_us;   /* detection behind the wire (live), -1 unknown */
    int capture_down; /* live: the interface is away, being opened again */
} mw_status_t;

/* The one-line status (no newline) into buf. */
void mw_status_format_line(const mw_status_t *s, char *buf, size_t len);

/* The Prometheus text exposition of s to path (tmp + fsync + rename). 0 or MW_EIO. */
int mw_status_write_prometheus(const mw_status_t *s, const char *path);

#endif
