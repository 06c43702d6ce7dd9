/*
 * fuzz_pcap_split.c - differential libFuzzer target for the threads that read
 * a pcap file in byte ranges (capture/pcap_split.c, analyze --readers N), one
 * thread (the default) and two:
 * any file must give exactly what libpcap alone gives - the same packets
 * (time, lengths, link type, bytes) in the same order, the same errors at
 * the same points, the same end. The first input byte picks the header
 * (microseconds or nanoseconds, a snaplen) so that most inputs are files
 * the range readers take; ranges are 512 bytes (then 4 kB) so a small input
 * already spans many ranges and their guessed first records. Built with
 * libFuzzer (-DMW_FUZZ=ON) and with replay_main.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "core/mw.h"
#include "fuzz_file.h"

#define MAX_EVENTS 4096 /* packets and errors compared per input */

typedef struct event {
    int rc;
    int64_t ts_us, ts_ns;
    uint32_t caplen, wirelen;
    int dlt;
    uint64_t digest; /* FNV-1a of the bytes, or of the error text */
} event_t;

static uint64_t fnv(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 1469598103934665603ull;

    while (n--)
        h = (h ^ *b++) * 1099511628211ull;
    return h;
}

/* Every event of reading path with threads (0: libpcap only). */
static size_t read_all(const char *path, unsigned threads, uint32_t range, event_t *ev)
{
    const char *files[1] = { path };
    mw_capture_params_t params = {
        .files = files, .nfiles = 1, .read_threads = threads, .read_range_bytes = range
    };
    char err[MW_ERRBUF_SIZE];
    mw_capture_t *cap = mw_capture_open(&params, err, sizeof(err));
    size_t n = 0;

    if (cap == NULL)
        return 0;
    while (n < MAX_EVENTS) {
        mw_raw_packet_t raw;
        event_t *e = &ev[n++];

        err[0] = '\0';
        memset(e, 0, sizeof(*e));
        e->rc = mw_capture_next(cap, &raw, err, sizeof(err));
        if (e->rc == 1) {
            e->ts_us = raw.ts_us;
            e->ts_ns = raw.ts_ns;
            e->caplen = raw.caplen;
            e->wirelen = raw.wirelen;
            e->dlt = raw.dlt;
            e->digest = fnv(raw.data, raw.caplen);
            continue;
        }
        e->digest = fnv(err, strlen(err));
        if (e->rc == MW_EEOF)
            break;
    }
    mw_capture_close(cap);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static event_t want[MAX_EVENTS], got[MAX_EVENTS];
    static const uint32_t snaplens[4] = { 262144, 65535, 1500, 0 };
    uint8_t *file;
    const char *path;
    size_t nwant, ngot, i;
    uint32_t range;
    unsigned threads;

    if (size < 1)
        return 0;
    file = malloc(24 + size - 1);
    if (file == NULL)
        return 0;
    {
        uint32_t magic = data[0] & 1 ? 0xa1b23c4du : 0xa1b2c3d4u;
        uint16_t major = 2, minor = 4;
        int32_t zone = 0;
        uint32_t sigfigs = 0, snaplen = snaplens[(data[0] >> 1) & 3], linktype = 1;
        memcpy(file, &magic, 4);
        memcpy(file + 4, &major, 2);
        memcpy(file + 6, &minor, 2);
        memcpy(file + 8, &zone, 4);
        memcpy(file + 12, &sigfigs, 4);
        memcpy(file + 16, &snaplen, 4);
        memcpy(file + 20, &linktype, 4);
    }
    memcpy(file + 24, data + 1, size - 1);
    range = data[0] & 8 ? 4096 : 512;
    path = mw_fuzz_file(file, 24 + size - 1);
    free(file);
    if (path == NULL)
        return 0;
    nwant = read_all(path, 0, 0, want);
    for (threads = 1; threads <= 2; threads++) {
        ngot = read_all(path, threads, range, got);
        if (ngot != nwant) {
            fprintf(stderr, "%u range readers: %zu events, libpcap: %zu\n", threads, ngot, nwant);
            abort();
        }
        for (i = 0; i < nwant; i++) {
            if (memcmp(&want[i], &got[i], sizeof(want[i])) != 0) {
                fprintf(stderr,
                        "%u range readers: event %zu differs: rc %d vs %d, caplen %u vs %u\n",
                        threads, i, got[i].rc, want[i].rc, got[i].caplen, want[i].caplen);
                abort();
            }
        }
    }
    unlink(path);
    return 0;
}
