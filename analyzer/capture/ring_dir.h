/*
 * ring_dir.h - the files of a --pcap-ring directory (ring-*.pcap), with
 * what their own headers say: nothing is kept beside them, so a reader
 * (mastwatch extract --ring) and a restarted capture both rebuild the
 * ring's state from the files alone.
 */
#ifndef MW_RING_DIR_H
#define MW_RING_DIR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MW_RING_PREFIX "ring-"
#define MW_RING_SUFFIX ".pcap"

typedef struct mw_ring_file {
    char *path;
    uint64_t size;
    time_t mtime;     /* last write */
    int valid;        /* the pcap file header is readable and known */
    int64_t first_ns; /* first packet's time; INT64_MAX when it has none (or !valid) */
} mw_ring_file_t;

/*
 * Lists the ring files of dir, sorted by first packet time (then name); a
 * file with no packet sorts last. Returns 0 (n may be 0) or a negative
 * MW_E* with a message when dir cannot be read.
 */
int mw_ring_dir_list(
        const char *dir, mw_ring_file_t **files, size_t *n, char *errbuf, size_t errlen);

void mw_ring_dir_free(mw_ring_file_t *files, size_t n);

/* 1 when name looks like a ring file (ring-*.pcap). */
int mw_ring_dir_is_ring_name(const char *name);

#endif
