/*
 * worker.c - per-thread flow tracking and classification.
 *
 * Each flow gets nDPI state on its first packet; the classifier frees it
 * as soon as detection ends, so most long flows carry only their record.
 * Idle flows are swept at most once per second of packet time, which
 * keeps expiry off the per-packet path.
 */
#include "engine/worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify_ndpi.h"
#include "classify/hostname.h"
#include "classify/plane.h"
#include "core/mw.h"
#include "decode/decode.h"

#define SWEEP_INTERVAL_US 1000000
#define HOST_TRIES        4          /* the name is in the first payload packet or two of a flow */
#define RING_SIZE         (4u << 20) /* thousands of packets: enough to batch wake-ups */

struct mw_worker {
    mw_worker_params_t params;
    mw_flow_table_t *flows;
    mw_classifier_t *dpi;
    mw_ring_bell_t *bell; /* the worker sleeps here for any of its rings */
    mw_ring_t **rings;    /* one per reader */
    unsigned nrings;
    pthread_t thread;
    int running;
    int64_t last_sweep_us;
    uint64_t packets, alloc_failures;
    double cpu_s;                /* threaded: the thread's CPU time, once it ended */
    _Atomic int64_t progress_us; /* read by the writer thread for its watermark */
    /* for status lines, refreshed at each sweep (any thread may read them) */
    _Atomic uint64_t live_flows, live_evicted;
    _Atomic int failed;       /* the thread could not create its nDPI module */
    char err[MW_ERRBUF_SIZE]; /* why, once failed is set */
    mw_record_batch_t batch;
};

static void publish_live(mw_worker_t *w)
{
    mw_flow_table_stats_t st;

    mw_flow_table_get_stats(w->flows, &st);
    atomic_store_explicit(&w->live_flows, st.active, memory_order_relaxed);
    atomic_store_explicit(&w->live_evicted, st.evicted, memory_order_relaxed);
}

void mw_record_batch_add(mw_record_batch_t *b, const mw_flow_record_t *rec)
{
    b->recs[b->n] = *rec;
    if (b->hook)
        b->hook(b->hook_ctx, &b->recs[b->n]);
    if (++b->n == MW_RECORD_BATCH)
        mw_record_batch_flush(b);
}

void mw_record_batch_flush(mw_record_batch_t *b)
{
    if (b->n > 0 && b->sink != NULL)
        mw_flow_sink_push(b->sink, b->recs, b->n);
    b->n = 0;
}

/* Plane and roles: the last step before a record leaves the worker. */
static void assign_plane(void *ctx, mw_flow_record_t *rec)
{
    mw_worker_t *w = ctx;
    mw_plane_hint_t hint = { .master_name = mw_classifier_protocol_name(w->dpi, rec->master_proto),
        .app_name = mw_classifier_protocol_name(w->dpi, rec->app_proto) };

    mw_plane_assign(atomic_load_explicit(w->params.inventory, memory_order_acquire), rec, &hint);
}

static void on_emit(void *ctx, mw_flow_t *f, enum mw_end_reason reason)
{
    mw_worker_t *w = ctx;

    if (reason == MW_END_ACTIVE)
        mw_classifier_peek(w->dpi, &f->user, &f->rec);
    else if (f->user != NULL)
        mw_classifier_finish(w->dpi, &f->user, &f->rec);
    mw_record_batch_add(&w->batch, &f->rec);
}

/*
 * The full host name from the flow's first DNS message, ClientHello or HTTP
 * request; nDPI's name, when it comes, is kept only if it is not a cut of it.
 */
static void find_host(mw_flow_t *f, const mw_l3_t *l3, const uint8_t *frame)
{
    char name[MW_HOST_LEN];

    f->host_tries++;
    if (mw_hostname_from_payload(l3->l4_proto, l3->sport, l3->dport, frame + l3->payload_off,
                l3->payload_len, name, sizeof(name)) == 0)
        return;
    f->host_tries = HOST_TRIES;
    if (f->rec.host[0] == '\0' || mw_hostname_extends(name, f->rec.host)) {
        memset(f->rec.host, 0, sizeof(f->rec.host));
        memcpy(f->rec.host, name, strlen(name));
    }
}

/* DNS over TCP, the queries' direction: labels, and the first name, from each message read
 * from its start (a raw segment may begin inside one). */
static uint8_t dns_tcp_queries(mw_flow_t *f, const mw_l3_t *l3, const uint8_t *frame)
{
    char name[MW_HOST_LEN] = "";
    uint8_t label = mw_dns_tcp_segment(&f->dns_queries, mw_get_be32(frame + l3->l4_off + 4),
            frame + l3->payload_off, l3->payload_len, f->rec.host[0] == '\0' ? name : NULL,
            sizeof(name));

    if (name[0] != '\0')
        memcpy(f->rec.host, name, strlen(name));
    return label;
}

/* The worker's nDPI module, set up as the run asks: 0, or MW_ENOMEM with errbuf. */
static int create_classifier(mw_worker_t *w, char *errbuf, size_t errlen)
{
    w->dpi = mw_classifier_create(errbuf, errlen);
    if (w->dpi == NULL)
        return MW_ENOMEM;
    mw_classifier_set_extra_dissection(w->dpi, w->params.extra_dissection);
    return 0;
}

/* A copy of the pristine module where one can be had, else a module built now, or later
 * in the worker's thread (dpi_create_lock): 0, or MW_ENOMEM with errbuf. */
static int obtain_classifier(mw_worker_t *w, char *errbuf, size_t errlen)
{
    char why[MW_ERRBUF_SIZE];

    if (w->params.dpi_pristine != NULL) {
        w->dpi = mw_classifier_copy(w->params.dpi_pristine, why, sizeof(why));
        if (w->dpi != NULL) {
            mw_classifier_set_extra_dissection(w->dpi, w->params.extra_dissection);
            return 0;
        }
    }
    return w->params.dpi_create_lock == NULL ? create_classifier(w, errbuf, errlen) : 0;
}

mw_worker_t *mw_worker_create(const mw_worker_params_t *params, char *errbuf, size_t errlen)
{
    mw_worker_t *w = calloc(1, sizeof(*w));
    mw_flow_table_params_t tp;

    if (w == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory for a worker");
        return NULL;
    }
    w->params = *params;
    w->batch.sink = params->sink;
    w->batch.hook = assign_plane;
    w->batch.hook_ctx = w;
    tp = (mw_flow_table_params_t){ .max_flows = params->max_flows,
        .idle_timeout_us = params->idle_timeout_us,
        .tcp_idle_timeout_us = params->tcp_idle_timeout_us,
        .active_timeout_us = params->active_timeout_us,
        .active_aligned = params->active_aligned,
        .emit = on_emit,
        .emit_ctx = w };
    w->flows = mw_flow_table_create(&tp, errbuf, errlen);
    if (w->flows == NULL)
        goto fail;
    if (obtain_classifier(w, errbuf, errlen) != 0)
        goto fail;
    if (params->threaded) {
        unsigned i, n = params->readers ? params->readers : 1;
        w->bell = mw_ring_bell_create(errbuf, errlen);
        w->rings = calloc(n, sizeof(*w->rings));
        if (w->bell == NULL || w->rings == NULL) {
            mw_fmt_err(errbuf, errlen, "out of memory for a worker's rings");
            goto fail;
        }
        w->nrings = n;
        for (i = 0; i < n; i++) {
            w->rings[i] = mw_ring_create(RING_SIZE, w->bell, errbuf, errlen);
            if (w->rings[i] == NULL)
                goto fail;
        }
    }
    return w;
fail:
    mw_worker_destroy(w);
    return NULL;
}

void mw_worker_packet(mw_worker_t *w, const mw_packet_t *p, const uint8_t *frame,
        const mw_tunnel_ref_t *tunnel, const mw_flow_ref_t *flow)
{
    const mw_l3_t *l3 = mw_packet_flow_l3(p);
    /* GTP-U carries subscribers (inner flows); IP-in-IP carries plain flows with a tunnel link */
    uint8_t kind = mw_flow_kind_of(p);
    mw_flow_t *f;
    int dir;

    w->packets++;
    /* either way: after a packet from the future, time going back must still sweep */
    if (p->ts_us - w->last_sweep_us >= SWEEP_INTERVAL_US ||
            w->last_sweep_us - p->ts_us >= SWEEP_INTERVAL_US) {
        mw_flow_table_expire(w->flows, p->ts_us);
        w->last_sweep_us = p->ts_us;
        /* what expired is emitted now, so publish progress only after it */
        mw_record_batch_flush(&w->batch);
        atomic_store_explicit(&w->progress_us, p->ts_us, memory_order_release);
        publish_live(w);
    }
    f = flow != NULL
                ? mw_flow_table_account_key(w->flows, p, l3, &flow->key, flow->hash, flow->a_is_src,
                          tunnel->flow_id, &dir)
                : mw_flow_table_account(w->flows, p, l3, kind, tunnel->ctx, tunnel->flow_id, &dir);
    if (f == NULL) {
        w->alloc_failures++;
        return;
    }
    if (tunnel->flow_id != 0)
        mw_flow_note_tunnel(f, tunnel->key, tunnel->flow_id);
    if (kind == MW_FLOW_INNER && f->rec.bs_index == 0)
        f->rec.bs_index = tunnel->bs_index; /* subscriber addresses are not in the inventory */
    if (kind == MW_FLOW_INNER && f->rec.subscriber == MW_SUB_NONE && tunnel->uplink != 0)
        /* uplink: the sender is the subscriber; downlink: the receiver is */
        f->rec.subscriber =
                (uint8_t)((dir == 0) == (tunnel->uplink == 1) ? MW_SUB_SRC : MW_SUB_DST);
    if (p->ftp_data)
        f->rec.service = MW_SVC_FTP_DATA; /* kept by the plane assignment */
    if (l3->frag == MW_FRAG_LATER || l3->refusal == MW_REFUSAL_ICMP || l3->l4_cut)
        return; /* no whole transport header, or an ICMP error's: nothing for nDPI */
    if (l3->payload_len > 0) {
        uint8_t label;
        if (f->host_tries < HOST_TRIES)
            find_host(f, l3, frame);
        /* every question counts: a tunnel's long labels may follow an ordinary first query */
        if (l3->l4_proto == 17)
            label = mw_dns_udp_longest_label(
                    l3->sport, l3->dport, frame + l3->payload_off, l3->payload_len);
        else if (l3->l4_proto == 6 && mw_dns_port(l3->dport) && !mw_dns_port(l3->sport))
            label = dns_tcp_queries(f, l3, frame);
        else
            label = 0;
        if (label > f->rec.dns_max_label)
            f->rec.dns_max_label = label;
    }
    /* nDPI state comes with the flow's first packet and goes when detection ends */
    if (f->user != NULL || f->user_packets == 0) {
        f->user_packets++;
        if (mw_classifier_process(w->dpi, &f->user, frame + l3->l3_off, l3->l3_len, l3->payload_len,
                    p->ts_us, f->user_packets, &f->rec) < 0) {
            f->user_packets--; /* the next packet tries again */
            w->alloc_failures++;
        }
    }
}

void mw_worker_tick(mw_worker_t *w, int64_t now_us)
{
    mw_flow_table_expire(w->flows, now_us);
    w->last_sweep_us = now_us;
    mw_record_batch_flush(&w->batch);
    atomic_store_explicit(&w->progress_us, now_us, memory_order_release);
    publish_live(w);
}

#define ITEMS_PER_TURN 256 /* items from one reader's ring before the next one's */

/* One item of ring r: 0 when the ring is empty, 1 when handled, -(reason + 1) for END. */
static int take_item(mw_worker_t *w, mw_ring_t *r)
{
    size_t len;
    mw_work_item_t *item = mw_ring_peek(r, &len, 0);
    int rc = 1;

    if (item == NULL)
        return 0;
    if ((item->type == MW_WORK_PACKET || item->type == MW_WORK_PACKET_REF) && w->dpi == NULL)
        w->packets++; /* no module: the run fails, the packets are only counted */
    else if (item->type == MW_WORK_PACKET)
        mw_worker_packet(w, &item->pkt, (const uint8_t *)(item + 1), &item->tunnel, &item->flow);
    else if (item->type == MW_WORK_PACKET_REF)
        mw_worker_packet(w, item->pkt_ref, item->frame_ref, &item->tunnel, &item->flow);
    else if (item->type == MW_WORK_FENCE)
        item->release(item->release_arg); /* every item before it is done */
    else if (item->type == MW_WORK_TICK)
        mw_worker_tick(w, item->pkt.ts_us);
    else
        rc = -(int)item->frame_len - 1;
    mw_ring_release(r);
    return rc;
}

static void *worker_main(void *arg)
{
    mw_worker_t *w = arg;
    char name[16];

    snprintf(name, sizeof(name), "mw-worker%u", w->params.index % 1000u);
    pthread_setname_np(pthread_self(), name); /* top -H, perf: which thread is busy */
    if (w->dpi == NULL) {
        char err[MW_ERRBUF_SIZE];
        int rc;
        pthread_mutex_lock(w->params.dpi_create_lock);
        rc = create_classifier(w, err, sizeof(err));
        pthread_mutex_unlock(w->params.dpi_create_lock);
        if (rc != 0) {
            memcpy(w->err, err, sizeof(err));
            atomic_store(&w->failed, 1);
        }
    }

    for (;;) {
        int any = 0, end = -1;
        unsigned i, k;
        for (i = 0; i < w->nrings && end < 0; i++)
            for (k = 0; k < ITEMS_PER_TURN && end < 0; k++) {
                int rc = take_item(w, w->rings[i]);
                if (rc == 0)
                    break;
                any = 1;
                if (rc < 0)
                    end = -rc - 1;
            }
        if (end >= 0) {
            /* the END comes on ring 0 once every reader has stopped: what the others
             * left is in their rings already */
            for (i = 1; i < w->nrings; i++)
                while (take_item(w, w->rings[i]) > 0)
                    ;
            mw_flow_table_flush(w->flows, (enum mw_end_reason)end);
            mw_record_batch_flush(&w->batch);
            break;
        }
        if (!any) {
            mw_record_batch_flush(&w->batch); /* idle: let records reach the file */
            mw_ring_wait_any(w->rings, w->nrings, 50);
        }
    }
    w->cpu_s = mw_thread_cpu_s();
    return NULL;
}

int mw_worker_start(mw_worker_t *w, char *errbuf, size_t errlen)
{
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        mw_fmt_err(errbuf, errlen, "cannot start worker thread %u", w->params.index);
        return MW_ENOMEM;
    }
    w->running = 1;
    return 0;
}

mw_ring_t *mw_worker_ring(mw_worker_t *w, unsigned reader)
{
    return w->rings[reader];
}

void mw_worker_finish(mw_worker_t *w, enum mw_end_reason reason)
{
    mw_work_item_t *item = w->running ? mw_ring_reserve(w->rings[0], sizeof(*item)) : NULL;

    if (item != NULL) { /* NULL only for items over half the ring: never this one */
        memset(item, 0, sizeof(*item));
        item->type = MW_WORK_END;
        item->frame_len = (uint32_t)reason;
        mw_ring_commit(w->rings[0]);
        mw_ring_flush(w->rings[0]);
        pthread_join(w->thread, NULL);
        w->running = 0;
        return;
    }
    mw_flow_table_flush(w->flows, reason);
    mw_record_batch_flush(&w->batch);
}

void mw_worker_stop(mw_worker_t *w)
{
    if (w != NULL && w->running)
        mw_worker_finish(w, MW_END_SHUTDOWN);
}

int mw_worker_failed(mw_worker_t *w, char *errbuf, size_t errlen)
{
    if (!atomic_load(&w->failed))
        return 0;
    mw_fmt_err(errbuf, errlen, "%s", w->err);
    return 1;
}

void mw_worker_live(const mw_worker_t *w, uint64_t *flows, uint64_t *evicted)
{
    mw_worker_t *m = (mw_worker_t *)w; /* atomics: loads need a non-const object */
    *flows = atomic_load_explicit(&m->live_flows, memory_order_relaxed);
    *evicted = atomic_load_explicit(&m->live_evicted, memory_order_relaxed);
}

int64_t mw_worker_progress(const mw_worker_t *w)
{
    return atomic_load_explicit(&((mw_worker_t *)w)->progress_us, memory_order_acquire);
}

struct mw_classifier *mw_worker_classifier(mw_worker_t *w)
{
    return w->dpi;
}

void mw_worker_get_stats(const mw_worker_t *w, mw_worker_stats_t *out)
{
    out->packets = w->packets;
    out->cpu_s = w->cpu_s;
    out->alloc_failures = w->alloc_failures;
    mw_flow_table_get_stats(w->flows, &out->flows);
}

void mw_worker_destroy(mw_worker_t *w)
{
    if (w == NULL)
        return;
    if (w->running)
        mw_worker_finish(w, MW_END_SHUTDOWN);
    if (w->flows != NULL && w->dpi != NULL) {
        w->batch.sink = NULL; /* error path: release nDPI state, drop the records */
        mw_flow_table_flush(w->flows, MW_END_SHUTDOWN);
    }
    mw_flow_table_destroy(w->flows);
    mw_classifier_destroy(w->dpi);
    for (unsigned i = 0; i < w->nrings; i++)
        mw_ring_destroy(w->rings[i]);
    free(w->rings);
    mw_ring_bell_destroy(w->bell);
    free(w);
}
