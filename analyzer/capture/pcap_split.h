/*
 * pcap_split.h - reads one plain pcap file with one or more threads (analyze
 * --readers N, default 1): each thread reads byte ranges of the file and finds
 * their records; the caller takes the records in file order, exactly as
 * libpcap would hand them over. Internal to capture/.
 *
 * Only what libpcap reads without changing a byte is taken: an uncompressed
 * classic pcap file, version 2.4, in this machine's byte order, of a link
 * type libpcap passes through, with records within the file's snapshot
 * length. Anything else (pcapng, gzip, a swapped or old file, an oversized
 * or truncated record) is libpcap's: mw__split_open() declines the file, or
 * mw__split_next() says where libpcap must go on.
 */
#ifndef MW_PCAP_SPLIT_H
#define MW_PCAP_SPLIT_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mw_split mw_split_t;

typedef struct mw_split_params {
    unsigned nthreads;    /* range readers, >= 1 */
    uint32_t range_bytes; /* 0 (or over 1.5 MB): 1.5 MB */
    int nano;             /* timestamps in nanoseconds, else microseconds */
    const char *filter;   /* records matching it, NULL or "" for all */
    /* run by the range readers on each record (after the filter), or NULL */
    void (*prepare)(void *ctx, const struct pcap_pkthdr *hdr, const uint8_t *data, void *out);
    void *prepare_ctx;
    size_t prepared_size;
    unsigned holders; /* > 0: a range stays until released that often (capture.h) */
    void (*range_done)(void *ctx, void (*release)(void *arg), void *arg);
    void *range_done_ctx;
} mw_split_params_t;

/*
 * Opens path. NULL when the file is not one it reads (see above), cannot be opened, or
 * the filter does not compile: libpcap then opens it and says what is wrong, if anything.
 * *dlt: the file's DLT_ value.
 */
mw_split_t *mw__split_open(const char *path, const mw_split_params_t *params, int *dlt /* OUT */);

/*
 * The next record in file order: 1 with *hdr and *data (valid until the next call);
 * 0 at the end of the file; 2 when libpcap must read the rest of the file from
 * *resume_off (a record it would refuse or cut, a read error, the file shorter or
 * longer than it was at open): the records before it were all handed over.
 */
int mw__split_next(mw_split_t *s, struct pcap_pkthdr *hdr /* OUT */, const uint8_t **data /* OUT */,
        void **prepared /* OUT, NULL when not prepared */, uint64_t *resume_off /* OUT */);

/* The threads' CPU seconds so far (NULL-safe: 0). */
double mw__split_cpu_s(const mw_split_t *s);

/* Ranges whose first record the caller had to find again so far (NULL-safe: 0). */
uint64_t mw__split_rewalked(const mw_split_t *s);

/* Bytes of the file handed over so far (for the progress line). */
uint64_t mw__split_done_bytes(const mw_split_t *s);

/* 1 when no range is held any more (every holder released every range handed over). */
int mw__split_released(mw_split_t *s);

/* Stops and joins the threads, frees everything (NULL-safe); with wait, first waits until
 * every range handed over is released (the holders are still running). The threads' CPU
 * seconds and the ranges whose first record the caller had to find again are added to the
 * counters. */
void mw__split_close(
        mw_split_t *s, int wait, double *cpu_s /* IN/OUT */, uint64_t *rewalked /* IN/OUT */);

#endif
