/*
 * worker.h - a worker owns one flow table and one nDPI module and turns
 * decoded packets into finished flow records for the sink. It runs either
 * on its own thread, fed by an SPSC ring, or inline in the reader thread
 * (one worker: no queue, no copy).
 */
#ifndef MW_WORKER_H
#define MW_WORKER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/packet.h"
#include "engine/ring.h"
#include "flow/flow_key.h"
#include "flow/flow_table.h"
#include "output/flow_sink.h"

typedef struct mw_worker mw_worker_t;

/* Called on every finished record before it goes to the sink (planes, ...). */
typedef void (*mw_record_hook_fn)(void *ctx, mw_flow_record_t *rec);

struct mw_inventory;

typedef struct mw_worker_params {
    unsigned index;
    /* the inventory in force (NULL: planes from ports and nDPI only); a reload (SIGUSR2)
     * swaps it, the worker reads it for each record */
    const struct mw_inventory *_Atomic const *inventory;
    uint32_t max_flows;
    int64_t idle_timeout_us, active_timeout_us, tcp_idle_timeout_us;
    int active_aligned;
    mw_flow_sink_t *sink;
    int threaded;         /* 1: own thread fed by rings */
    int extra_dissection; /* mw_classifier_set_extra_dissection() */
    unsigned readers;     /* threaded: one ring per reader thread (0 = 1) */
    /* the nDPI module: a copy of this pristine classifier's (the first worker's) where it
     * can be copied (classify/ndpi_module.c), made by mw_worker_create */
    const struct mw_classifier *dpi_pristine;
    /* else threaded workers but the first build theirs in their own thread, while the
     * reader already reads, one at a time under this lock (nDPI's build is not
     * thread-safe); NULL: built by mw_worker_create */
    pthread_mutex_t *dpi_create_lock;
} mw_worker_params_t;

typedef struct mw_worker_stats {
    uint64_t packets;
    double cpu_s; /* the worker thread's CPU time (0 inline: the reader's) */
    uint64_t alloc_failures;
    mw_flow_table_stats_t flows;
} mw_worker_stats_t;

/* The tunnel that carried a packet (all 0 for a packet in no tunnel). */
typedef struct mw_tunnel_ref {
    uint64_t flow_id;  /* the tunnel's current record */
    uint64_t ctx;      /* part of the inner flow's key (GTP-U: hash of the outer endpoints) */
    uint64_t key;      /* the tunnel flow's key hash: the same for all its records */
    uint16_t bs_index; /* base station of the tunnel, for inner flows */
    uint8_t uplink;    /* GTP-U: 1 sent by the base station, 2 sent to it, 0 unknown */
    uint8_t pad_[5];
} mw_tunnel_ref_t;

/* The flow a packet belongs to, as the dispatcher computed it to choose the worker. */
typedef struct mw_flow_ref {
    mw_flow_key_t key;
    uint64_t hash;
    int32_t a_is_src;
    uint32_t pad_;
} mw_flow_ref_t;

/* Work item in the ring. PACKET: the frame bytes follow it. PACKET_REF (analyze
 * --readers N): the packet and its frame stay in the reader's input buffers, which a
 * FENCE after them hands back (release(release_arg)); these items end at the union's
 * member they use. */
typedef struct mw_work_item {
    uint32_t type; /* MW_WORK_* */
    uint32_t frame_len;
    mw_tunnel_ref_t tunnel;
    mw_flow_ref_t flow;
    union {
        mw_packet_t pkt; /* PACKET; TICK: pkt.ts_us */
        struct {
            const mw_packet_t *pkt_ref;
            const uint8_t *frame_ref;
        };
        struct {
            void (*release)(void *arg);
            void *release_arg;
        };
    };
} mw_work_item_t;

enum { MW_WORK_PACKET = 1, MW_WORK_TICK, MW_WORK_END, MW_WORK_PACKET_REF, MW_WORK_FENCE };

/* Bytes of a PACKET_REF or FENCE item. */
#define MW_WORK_SMALL_ITEM (offsetof(mw_work_item_t, pkt) + 2 * sizeof(void *))

mw_worker_t *mw_worker_create(const mw_worker_params_t *params, char *errbuf, size_t errlen);

/* Threaded workers: start the thread; finish sends END(reason) on ring 0 and joins - once
 * every other reader has stopped and flushed its rings. */
int mw_worker_start(mw_worker_t *w, char *errbuf, size_t errlen);
mw_ring_t *mw_worker_ring(mw_worker_t *w, unsigned reader); /* the ring reader fills */

/* Inline use (or from the worker thread). */
/* flow: the packet's key and hash when the dispatcher has them, NULL to compute them here */
void mw_worker_packet(mw_worker_t *w, const mw_packet_t *p, const uint8_t *frame,
        const mw_tunnel_ref_t *tunnel, const mw_flow_ref_t *flow);
void mw_worker_tick(mw_worker_t *w, int64_t now_us);

/* Flushes every flow with reason, drains, stops the thread if any. */
void mw_worker_finish(mw_worker_t *w, enum mw_end_reason reason);
/* A threaded worker still running: finished as at a shutdown and joined (NULL-safe). */
void mw_worker_stop(mw_worker_t *w);

/* 1 when the worker's thread could not create its nDPI module (errbuf says why): it
 * dropped its packets, and the run must fail. */
int mw_worker_failed(mw_worker_t *w, char *errbuf, size_t errlen);

/* The worker's nDPI module, for name tables once the run is over. */
struct mw_classifier *mw_worker_classifier(mw_worker_t *w);

/* Flows in memory and evicted as of the last sweep (any thread may read them). */
void mw_worker_live(const mw_worker_t *w, uint64_t *flows, uint64_t *evicted);

/* Packet time the worker has reached (any thread may read it). */
int64_t mw_worker_progress(const mw_worker_t *w);

void mw_worker_get_stats(const mw_worker_t *w, mw_worker_stats_t *out /* OUT */);
void mw_worker_destroy(mw_worker_t *w); /* NULL-safe */

/* Batches records on their way to the sink (one lock per batch). */
#define MW_RECORD_BATCH 256
typedef struct mw_record_batch {
    mw_flow_sink_t *sink;
    mw_record_hook_fn hook;
    void *hook_ctx;
    size_t n;
    mw_flow_record_t recs[MW_RECORD_BATCH];
} mw_record_batch_t;

void mw_record_batch_add(mw_record_batch_t *b, const mw_flow_record_t *rec);
void mw_record_batch_flush(mw_record_batch_t *b);

#endif
