/*
 * pcap_ring.h - the rolling pcap store of a live capture (--pcap-ring): the
 * reader thread hands every packet it read to mw_pcap_ring_write(), which
 * appends it to ring-YYYYmmdd-HHMMSS.pcap (UTC start time of the file's
 * first packet, nanosecond timestamps, the capture's link type) in the
 * ring directory, rotating by size and deleting the oldest files when the
 * total passes the ring size or a file is older than the age. Files that
 * were already in the directory (an earlier run) count towards the size.
 * A write error never stops the capture: one warning, and the lost
 * packets are counted (mw_pcap_ring_dropped()).
 */
#ifndef MW_PCAP_RING_H
#define MW_PCAP_RING_H

#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"

typedef struct mw_pcap_ring mw_pcap_ring_t;

typedef struct mw_pcap_ring_params {
    const char *dir;    /* created (one level) when missing */
    uint64_t max_bytes; /* total size of the ring files */
    int64_t max_age_s;  /* 0: no age limit */
    int dlt;            /* link type of the capture */
    uint32_t snaplen;
} mw_pcap_ring_params_t;

/* Each file holds at most this much (a sixteenth of the ring, 64 MB at most). */
uint64_t mw_pcap_ring_file_max(uint64_t max_bytes);

mw_pcap_ring_t *mw_pcap_ring_open(const mw_pcap_ring_params_t *p, char *errbuf, size_t errlen);

/* Appends one packet; flushes at least every second. Never fails: losses are counted. */
void mw_pcap_ring_write(mw_pcap_ring_t *r, const mw_raw_packet_t *raw);

/* Call now and then on a quiet link: flushes and applies the age limit. */
void mw_pcap_ring_tick(mw_pcap_ring_t *r);

/* Packets not stored (write errors, full disk). */
uint64_t mw_pcap_ring_dropped(const mw_pcap_ring_t *r);

/* Writes and syncs the current file, frees (NULL-safe); returns the final dropped count. */
uint64_t mw_pcap_ring_close(mw_pcap_ring_t *r);

#endif
