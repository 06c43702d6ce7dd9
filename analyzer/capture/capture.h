/*
 * capture.h - packet sources: a list of capture files read in order, or a
 * live interface. The only module that talks to libpcap.
 */
#ifndef MW_CAPTURE_H
#define MW_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_capture mw_capture_t;

struct mw_raw_packet;

/* Work done on a packet by the threads that read the file (read_threads), ahead of the
 * reader: out holds prepared_size bytes, handed over with the packet (the reader may
 * change them). Must depend on the packet alone. */
typedef void (*mw_capture_prepare_fn)(void *ctx, const struct mw_raw_packet *raw, void *out);

typedef struct mw_capture_params {
    const char *const *files; /* offline: read in this order */
    size_t nfiles;
    const char *iface;  /* live: interface name (files must be NULL) */
    const char *filter; /* BPF expression or NULL */
    int snaplen;        /* bytes per packet, 0 = 262144 */
    int buffer_mb;      /* live kernel ring size, 0 = 64 MB */
    int promisc;        /* live: promiscuous mode */
    int nano;           /* offline: read nanosecond timestamps (ts_ns exact); live always tries */
    /* live, several readers of one interface (--readers): the socket joins a PACKET_FANOUT
     * group that spreads packets over the readers by a symmetric hash of the outer IP
     * addresses (capture/fanout.c), so a tunnel and a datagram's fragments stay together.
     * fanout 0: no group; fanout set: fanout_group when fanout_join, else a new group (its
     * id is then in mw_capture_fanout_group(); 0 is a valid id) */
    int fanout;
    int fanout_join;
    unsigned fanout_group;
    int nonblock; /* live: reads return 0 at once when nothing waits (mw_capture_wait) */
    /* offline, 1 or more: a plain pcap file is read ahead by this many threads, byte ranges
     * each, its records handed over in file order (capture/pcap_split.h); 0: libpcap reads
     * every file in mw_capture_next() */
    unsigned read_threads;
    uint32_t read_range_bytes;     /* the byte ranges they read, 0 = 1.5 MB (tests: smaller) */
    mw_capture_prepare_fn prepare; /* NULL: nothing prepared */
    void *prepare_ctx;
    size_t prepared_size;
    /* read_threads, holders > 0: a packet's data and prepared bytes stay valid after
     * mw_capture_next() (raw.held) until released. When the caller has taken every
     * packet of a byte range, mw_capture_next() calls range_done(ctx, release, arg): each
     * of the holders must then call release(arg) once (from any thread) after its last
     * use of them. */
    unsigned holders;
    void (*range_done)(void *ctx, void (*release)(void *arg), void *arg);
    void *range_done_ctx;
} mw_capture_params_t;

typedef struct mw_raw_packet {
    int64_t ts_us;
    int64_t ts_ns; /* the same time in nanoseconds, as precise as the source gives it */
    uint32_t caplen, wirelen;
    int dlt;
    uint32_t file_index; /* offline: which of params.files it came from */
    const uint8_t *data; /* valid until the next mw_capture_next() */
    void *prepared;      /* params.prepare's work on it, as long as data; NULL: not done */
    int held;            /* data and prepared stay until released (params.holders) */
} mw_raw_packet_t;

typedef struct mw_capture_stats {
    uint64_t received; /* live: pcap_stats ps_recv */
    uint64_t dropped;  /* live: kernel drops (ps_drop) */
    uint64_t if_dropped;
    int have; /* 1 when the numbers come from a live handle */
} mw_capture_stats_t;

/* Opens the first file (checking that every file exists) or the interface. */
mw_capture_t *mw_capture_open(const mw_capture_params_t *params, char *errbuf, size_t errlen);

/*
 * Reads the next packet. Returns 1 with *out filled, 0 when a live capture
 * timed out with nothing to read, MW_EEOF when every file is done, or a
 * negative error with a message when the current file is unreadable or
 * corrupt: the caller may report it and call again to go on with the next
 * file.
 */
int mw_capture_next(mw_capture_t *cap, mw_raw_packet_t *out, char *errbuf, size_t errlen);

/* Async-signal-safe: makes a blocked read return soon. */
void mw_capture_break(mw_capture_t *cap);

/* Live: reads return 0 at once when nothing waits from now on (a stop drains the ring
 * without waiting for more). 0, or -1 when it cannot be set. */
int mw_capture_set_nonblock(mw_capture_t *cap);

/* Live, nonblock: waits up to ms for packets to read. 1 when there may be some, 0 not. */
int mw_capture_wait(mw_capture_t *cap, int ms);

/* Live, fanout: the group's id (to open the next reader of the same interface into it). */
unsigned mw_capture_fanout_group(const mw_capture_t *cap);

/* Live: 1 the interface is up and running, 0 down or gone, -1 unknown (not Linux sysfs). */
int mw_capture_link_up(const mw_capture_t *cap);
/* Live: closes the handle (its counters are kept) after the interface went down or away. */
void mw_capture_suspend(mw_capture_t *cap);
/* Live: opens the interface again with the same settings. 0, or MW_E* with the reason;
 * *permanent is set when trying again cannot help (no privileges: -Z gave them up). */
int mw_capture_reopen(mw_capture_t *cap, int *permanent, char *errbuf, size_t errlen);

int mw_capture_get_stats(mw_capture_t *cap, mw_capture_stats_t *out /* OUT */);

/* The link type (DLT_*) of the live handle or of the file being read, -1 before any. */
int mw_capture_datalink(const mw_capture_t *cap);

/* Offline, read_threads: their CPU seconds and the ranges whose first record had to be found
 * again (a payload looked like record headers), for the files done. */
double mw_capture_read_threads_cpu_s(const mw_capture_t *cap);
uint64_t mw_capture_read_threads_rewalked(const mw_capture_t *cap);

/* Offline progress: bytes of all files, and bytes consumed so far. */
uint64_t mw_capture_total_bytes(const mw_capture_t *cap);
uint64_t mw_capture_done_bytes(const mw_capture_t *cap);

void mw_capture_close(mw_capture_t *cap); /* NULL-safe */

/* Gives up root for user after the handle is open (tcpdump's -Z). */
int mw_drop_privileges(const char *user, char *errbuf, size_t errlen);

/* The libpcap version string, for the output file. */
const char *mw_capture_lib_version(void);

#endif
