/*
 * reader.h - a reader: it decodes each packet once, tracks the GTP-U and
 * IP-in-IP tunnels and the IP fragments it sees, and hands each packet to
 * the worker of its inner flow (inline with one worker, else through that
 * worker's ring for this reader).
 *
 * Reader 0 runs in the run's own thread (engine.c reads for it and does the
 * housekeeping). With `capture --readers N` readers 1..N-1 ("helpers") read
 * their share of the interface - one PACKET_FANOUT group spreads packets by
 * outer host pair, so each tunnel and each datagram's fragments stay on one
 * reader - in threads of their own, and post what the status needs.
 */
#ifndef MW_READER_H
#define MW_READER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "capture/capture.h"
#include "capture/pcap_ring.h"
#include "core/config.h"
#include "engine/engine.h"
#include "engine/worker.h"
#include "flow/flow_table.h"
#include "flow/defrag.h"
#include "flow/dup_table.h"
#include "flow/frag_table.h"

struct mw_inventory;

/* What every reader reads; the run owns it (its only copy of these) and sets it before
 * the readers start. */
typedef struct mw_reader_shared {
    const mw_config_t *cfg;
    mw_worker_t **workers;
    unsigned nworkers, nreaders;
    int threaded; /* workers have threads and rings (else one worker, inline) */
    /* the inventory in force (a reload swaps it) */
    const struct mw_inventory *_Atomic const *inventory;
    uint16_t gtp_id, gtp_u_id, ip_in_ip_id, gre_id; /* nDPI ids the tunnel records carry */
    /* offline: the frame number of each input's first packet (0 = not reached yet); reader
     * 0 writes, the writer thread reads to name an anomaly's source file */
    _Atomic uint64_t *input_first_frame;
    atomic_int *stop_signal; /* the run's stop request (a signal) */
    _Atomic int stop;        /* helpers: end the read loop */
} mw_reader_shared_t;

typedef struct mw_reader {
    mw_reader_shared_t *sh;
    unsigned index;
    mw_capture_t *cap;
    mw_run_summary_t *sum; /* reader 0: the run's; helpers: own_sum, added at the end */
    mw_run_summary_t own_sum;
    mw_flow_table_t *tunnels;
    mw_frag_table_t *frags;
    mw_defrag_t *defrag;       /* fragmented datagrams put back together */
    int overlap_warned;        /* said that fragments overlapped with different bytes */
    struct mw_ftp_expect *ftp; /* FTP data endpoints announced on control sessions */
    mw_record_batch_t tunnel_batch;
    int64_t last_packet_tick_us;
    int64_t prev_ts_us; /* the packet before: clock jumps are counted */
    uint32_t prev_file;
    int order_warned;
    mw_dup_table_t *dups; /* copies of packets (a SPAN port mirroring both sides) */
    int dups_warned;
    unsigned encap_noted; /* bit per enum mw_encap: said which ends deliver its frames */
    int kept_warned;      /* said that a base station's own delivery is analyzed as sent */
    struct {              /* the last delivery looked up: is a base station one end? */
        const struct mw_inventory *inventory;
        uint8_t src[16], dst[16];
        int station;
    } delivery;
    _Atomic int64_t progress_us; /* tunnel records come from the reader */
    /* helpers: their thread, and what reader 0 reads of them while they run */
    pthread_t thread;
    int running;
    int64_t last_tick_ms;
    _Atomic uint64_t live_packets, live_bytes, live_tunnels, live_tunnels_evicted;
    _Atomic uint64_t stat_received, stat_dropped, stat_if_dropped;
    double cpu_s; /* a helper's thread CPU time, once it ended */
} mw_reader_t;

/* What the threads reading a file (analyze --readers N) work out for the reader: the
 * decoding and the keys and hashes of the packet's tunnel and flow, which depend on the
 * packet's bytes alone. Its time, frame number and tunnel state stay the reader's. */
typedef struct mw_prepared_packet {
    mw_packet_t p;
    int32_t rc;          /* mw_decode_frame() */
    uint8_t have_tunnel; /* tunnel is set: an outer tunnel flow, or a later fragment's */
    uint8_t have_flow;   /* flow is set: the flow it is dispatched to */
    uint8_t pad_[2];
    uint64_t tunnel_ctx; /* with flow: the inner flow's tunnel part of its key */
    uint64_t copy_hash;  /* mw_dup_hash() of an IP packet, else 0 */
    mw_flow_ref_t tunnel;
    mw_flow_ref_t flow;
} mw_prepared_packet_t;

/* The end of the input: the fragments still waiting for the rest of their datagram are
 * analyzed one by one (before the workers finish). */
void mw_reader_release_fragments(mw_reader_t *rd);

/* Live, on a stop signal: reads what the kernel ring already holds (no waiting for more,
 * at most STOP_DRAIN_MS), each packet also to ring when not NULL. */
void mw_reader_drain(mw_reader_t *rd, mw_pcap_ring_t *ring);

/* An mw_capture_prepare_fn (ctx: the run's const mw_config_t, or NULL for its defaults):
 * fills an mw_prepared_packet_t. The reader then works on it in place (numbers the
 * packet, joins fragments). */
void mw_reader_prepare(void *ctx, const mw_raw_packet_t *raw, void *out);

/* The capture's range_done (mw_capture_params_t) for reader rd (ctx): a fence to every
 * worker, which releases the range once it has done every packet before it. */
void mw_reader_range_done(void *ctx, void (*release)(void *arg), void *arg);

/* The tunnel and fragment tables; tunnel_flows caps the tunnel table. 0 or MW_ENOMEM. */
int mw_reader_open_tables(
        mw_reader_t *rd, mw_flow_sink_t *sink, uint32_t tunnel_flows, char *errbuf, size_t errlen);
void mw_reader_close_tables(mw_reader_t *rd); /* NULL-safe parts */

/* One packet read. */
void mw_reader_packet(mw_reader_t *rd, const mw_raw_packet_t *raw);
/* A second of packet (or wall) time: idle flows out in every worker and the tunnel table. */
void mw_reader_tick(mw_reader_t *rd, int64_t now_us);
/* Hands every worker what this reader queued (a quiet link, the end). */
void mw_reader_publish(mw_reader_t *rd);
/* Emits every tunnel record with reason (after the workers ended). */
void mw_reader_flush(mw_reader_t *rd, enum mw_end_reason reason);

/* Helpers: the capture (as root, before privileges go) into reader 0's fanout group, the
 * thread, and its end (sh->stop set first; the thread hands over what it holds). */
int mw_reader_open_helper(mw_reader_t *rd, const mw_capture_params_t *params, unsigned fanout_group,
        char *errbuf, size_t errlen);
int mw_reader_start(mw_reader_t *rd, char *errbuf, size_t errlen);
void mw_reader_join(mw_reader_t *rd);

#endif
