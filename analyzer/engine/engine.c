/*
 * engine.c - runs one analyze or capture job.
 *
 * The reader (this thread) reads and decodes every packet once. Tunnel
 * flows (GTP-U, IP-in-IP) are tracked here, in the reader's own table, because the
 * packets of one tunnel are spread over all workers (dispatch hashes the
 * INNER 5-tuple so subscriber traffic balances); every inner packet is then
 * sent with the id of its tunnel flow. Everything else goes to the worker
 * chosen by the symmetric flow hash, so each flow lives in one worker and
 * the flows and labels are the same for any thread count. Later IP
 * fragments get the ports of their first fragment here too (frag_table),
 * so they go to the worker, and flow, of their datagram.
 *
 * Shutdown is the same for every cause (end of input, signal, limit):
 * stop reading, let workers flush their tables, drain the writer, then
 * write metadata and rename the output into place.
 */
#include "engine/engine.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "capture/capture.h"
#include "capture/pcap_ring.h"
#include "classify/classify_ndpi.h"
#include "classify/ftp_expect.h"
#include "classify/inventory.h"
#include "classify/plane.h"
#include "core/log.h"
#include "core/mw.h"
#include "core/output_path.h"
#include "engine/progress.h"
#include "engine/reader.h"
#include "engine/run_meta.h"
#include "engine/status.h"
#include "core/service.h"
#include "engine/worker.h"
#include "baseline/trainer.h"
#include "detect/detect_run.h"
#include "output/anomaly_sinks.h"
#include "output/coverage_text.h"
#include "output/h5_model.h"
#include "flow/flow_table.h"
#include "flow/frag_table.h"
#include "flow/vlan_split.h"
#include "output/flow_sink.h"

/* a handler may touch only lock-free atomics (C11 7.14.1.1) */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_POINTER_LOCK_FREE == 2,
        "signal flags need lock-free atomics");
atomic_int mw_engine_stop_signal;
atomic_int mw_engine_reopen_requests, mw_engine_status_requests;
atomic_int mw_engine_reload_requests;

void mw_engine_request_reload(void)
{
    mw_engine_reload_requests++;
}

void mw_engine_request_reopen(void)
{
    mw_engine_reopen_requests++;
}

void mw_engine_request_status(void)
{
    mw_engine_status_requests++;
}

/* The capture a signal handler may wake (on any thread); set only while a run reads. */
static _Atomic(mw_capture_t *) live_capture;

void mw_engine_request_stop(int sig)
{
    mw_engine_stop_signal = sig;
    mw_capture_break(live_capture);
}

/* SIGALRM every second: wakes a read blocked on a quiet link (ticks, -d). */
static void on_live_timer(int sig)
{
    (void)sig;
    mw_capture_break(live_capture);
}

static void live_timer(int on)
{
    struct itimerval it = { { on, 0 }, { on, 0 } };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on ? on_live_timer : SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
}

#define LIVE_TICK_MS      1000
#define CHECKPOINT_MS     1000
#define PROMETHEUS_MS     15000      /* --prometheus without --status */
#define LIVE_SINK_RECORDS (1u << 16) /* 8 chunks; pages are touched only when a burst fills it */

typedef struct engine {
    const mw_config_t *cfg;
    mw_run_summary_t *sum;
    mw_capture_t *cap;
    mw_pcap_ring_t *ring; /* --pcap-ring: every packet read is also stored */
    mw_flow_sink_t *sink;
    mw_inventory_t *inventory; /* the one in force: the writer thread swaps it on SIGUSR2 */
    /* what the reader and the workers read, swapped with inventory */
    const mw_inventory_t *_Atomic inventory_live;
    mw_inventory_t **retired; /* replaced inventories: records in flight may still use them */
    size_t nretired;
    int reload_served;            /* the SIGUSR2 request last served (writer thread) */
    uint64_t anomalies_before[4]; /* of detection runs a reload ended, by severity */
    /* live drops: the reader adds each minute's, the writer thread judges them */
    _Atomic uint64_t drops_kernel, drops_if, drops_passed;
    _Atomic int64_t drops_until_us;
    int64_t drops_from_us; /* writer thread: start of the drops not judged yet */
    int64_t last_drop_check_ms;
    mw_capture_stats_t drop_base; /* reader: the counters at the last check */
    /* the interface went away (reader sets; status and the writer thread read) */
    _Atomic int capture_down;
    _Atomic int64_t lost_from_us, lost_until_us; /* the last loss, for capture_health */
    int64_t lost_served_us;                      /* writer thread: the loss last reported */
    int64_t last_link_check_ms, link_down_ms, link_down_wall_us; /* reader: check_link() */
    int link_waiting; /* reader: wait_for_interface() runs (the handle is gone) */
    uint64_t reloads;
    pthread_mutex_t dpi_create_lock; /* workers' threads create their nDPI modules in turn */
    int dpi_create_lock_ready;
    mw_reader_t *readers; /* [0] is this thread's (its capture is cap) */
    /* what the readers share, and the one copy of the workers, their count, whether they
     * have threads, the readers' count and each input's first frame */
    mw_reader_shared_t rs;
    mw_progress_t progress;
    int64_t start_ms, last_tick_ms, last_checkpoint_ms;
    int64_t last_status_ms;       /* 0: none yet */
    uint64_t last_status_packets; /* for packets/s */
    int status_served;            /* the SIGUSR1 request last answered */
    int prometheus_warned;
    int64_t last_watchdog_ms;
    /* -G: the file being written now (the writer thread's, read after it ends) */
    char current_output[4096];
    unsigned rotated;
    mw_run_counter_names_t counter_names; /* the checkpoints' names point here */
    mw_config_t cfg_eff;                  /* cfg with the model's window applied */
    mw_memcap_t mem;                      /* --memcap and its parts */
    mw_model_t *model;                    /* --model (analyze/capture) or the one being trained */
    mw_trainer_t *trainer;
    mw_detect_run_t *detect;
    mw_anomaly_sinks_t *sinks;
    FILE *json;
    mw_vlan_split_t *vlan_split; /* writer thread: sessions split over two VLANs */
    int vlan_split_warned;
} engine_t;

/*
 * The writer thread's watermark: the slowest producer's packet time. Every
 * record still to come ends after roughly this time minus the idle and
 * active timeouts, which the baseline's 2 h lateness covers.
 */
static int64_t producers_progress(engine_t *e)
{
    int64_t min = e->readers ? atomic_load(&e->readers[0].progress_us) : 0;
    unsigned i;

    for (i = 1; e->readers != NULL && i < e->rs.nreaders; i++) {
        int64_t p = atomic_load(&e->readers[i].progress_us);
        if (p < min)
            min = p;
    }
    for (i = 0; e->rs.workers != NULL && i < e->rs.nworkers; i++) {
        int64_t p = e->rs.workers[i] ? mw_worker_progress(e->rs.workers[i]) : 0;
        if (p < min)
            min = p;
    }
    return min;
}

/* nDPI names for the baseline, from worker 0's module (read-only tables). */
static const char *proto_name(void *ctx, unsigned id)
{
    engine_t *e = ctx;
    return e->rs.workers && e->rs.workers[0]
                   ? mw_classifier_protocol_name(mw_worker_classifier(e->rs.workers[0]), id)
                   : "";
}

static int64_t watermark_of(void *ctx)
{
    return producers_progress(ctx);
}

static void warn_vlan_splits(const mw_vlan_split_stats_t *st, const char *when)
{
    mw_log_warn("%llu session%s seen one way in VLAN %u and the other way in VLAN %u%s: the "
                "capture tags each direction with its own VLAN, so each is two one-way flows; "
                "run with --no-vlan-tracking",
            (unsigned long long)st->pairs, st->pairs == 1 ? "" : "s", st->first_vlan[0],
            st->first_vlan[1], when);
}

/* Writer thread: sessions whose directions come in two VLANs. Live, the first one found is
 * said at once (the run may last weeks); offline the run says how many at its end. */
static void note_vlan_splits(engine_t *e, const mw_flow_record_t *recs, size_t n)
{
    mw_vlan_split_stats_t st;
    size_t i;

    if (e->vlan_split == NULL)
        return;
    for (i = 0; i < n; i++)
        mw_vlan_split_record(e->vlan_split, &recs[i]);
    st = mw_vlan_split_stats(e->vlan_split);
    if (e->cfg->command != MW_CMD_CAPTURE || e->vlan_split_warned || st.pairs == 0)
        return;
    e->vlan_split_warned = 1;
    warn_vlan_splits(&st, " (so far)");
}

static void observe_plain(
        void *ctx, const mw_flow_record_t *recs, size_t n, mw_h5_writer_t *w, int64_t watermark)
{
    (void)w;
    (void)watermark;
    note_vlan_splits(ctx, recs, n);
}

static void observe_train(
        void *ctx, const mw_flow_record_t *recs, size_t n, mw_h5_writer_t *w, int64_t watermark)
{
    engine_t *e = ctx;
    size_t i;
    (void)w;
    note_vlan_splits(e, recs, n);
    for (i = 0; i < n; i++)
        mw_trainer_record(e->trainer, &recs[i]);
    mw_trainer_advance(e->trainer, watermark);
}

static void finish_train(void *ctx, mw_h5_writer_t *w)
{
    engine_t *e = ctx;
    (void)w;
    mw_trainer_finish(e->trainer);
}

static void observe_detect(
        void *ctx, const mw_flow_record_t *recs, size_t n, mw_h5_writer_t *w, int64_t watermark)
{
    engine_t *e = ctx;
    note_vlan_splits(e, recs, n);
    mw_anomaly_sinks_set_writer(e->sinks, w);
    mw_detect_run_records(e->detect, recs, n, watermark);
    mw_anomaly_sinks_set_writer(e->sinks, NULL);
}

static void tick_detect(void *ctx, int64_t now_us, mw_h5_writer_t *w)
{
    engine_t *e = ctx;
    mw_anomaly_sinks_check_reopen(e->sinks);
    mw_anomaly_sinks_set_writer(e->sinks, w);
    mw_detect_run_tick(e->detect, now_us);
    mw_anomaly_sinks_set_writer(e->sinks, NULL);
}

static void finish_detect(void *ctx, mw_h5_writer_t *w)
{
    engine_t *e = ctx;
    const mw_coverage_record_t *rows;
    size_t n;

    mw_anomaly_sinks_set_writer(e->sinks, w);
    mw_detect_run_finish(e->detect);
    rows = mw_detect_run_coverage(e->detect, &n);
    mw_anomaly_sinks_coverage(e->sinks, rows, n);
    if (w != NULL)
        mw_h5_writer_detection_tables(w);
    mw_anomaly_sinks_set_writer(e->sinks, NULL);
}

static int limits_reached(engine_t *e)
{
    const mw_config_t *cfg = e->cfg;

    if (cfg->max_packets && e->sum->packets >= cfg->max_packets)
        return 1;
    if (cfg->duration_us && (mw_monotonic_ms() - e->start_ms) * 1000 >= cfg->duration_us)
        return 1;
    return 0;
}

#define DROP_CHECK_MS 60000

/* The interface's counters: reader 0's handle and what the helpers posted of theirs. */
static int live_stats(engine_t *e, mw_capture_stats_t *cs)
{
    unsigned i;

    if (mw_capture_get_stats(e->cap, cs) != 0)
        return MW_EIO;
    for (i = 1; e->readers != NULL && i < e->rs.nreaders; i++) {
        cs->received += atomic_load(&e->readers[i].stat_received);
        cs->dropped += atomic_load(&e->readers[i].stat_dropped);
        cs->if_dropped += atomic_load(&e->readers[i].stat_if_dropped);
    }
    return 0;
}

/* Live, once a minute (reader): the capture's drop counters since the last check. */
static void post_drops(engine_t *e)
{
    mw_capture_stats_t cs;

    e->last_drop_check_ms = mw_monotonic_ms();
    if (live_stats(e, &cs) != 0 || !cs.have)
        return;
    /* the kernel's counters are 32-bit on some paths: a wrap restarts the base */
    if (cs.received >= e->drop_base.received && cs.dropped >= e->drop_base.dropped &&
            cs.if_dropped >= e->drop_base.if_dropped) {
        atomic_fetch_add(&e->drops_kernel, cs.dropped - e->drop_base.dropped);
        atomic_fetch_add(&e->drops_if, cs.if_dropped - e->drop_base.if_dropped);
        atomic_fetch_add(&e->drops_passed, cs.received - e->drop_base.received);
        atomic_store(&e->drops_until_us, mw_wall_us());
    }
    e->drop_base = cs;
}

/* Writer thread: what the reader posted, judged by the capture_health detector. */
static void judge_drops(engine_t *e)
{
    int64_t until = atomic_load(&e->drops_until_us);
    uint64_t kernel, iface, passed;

    if (e->detect == NULL || until == 0 || until == e->drops_from_us)
        return;
    kernel = atomic_exchange(&e->drops_kernel, 0);
    iface = atomic_exchange(&e->drops_if, 0);
    passed = atomic_exchange(&e->drops_passed, 0);
    if (e->drops_from_us == 0)
        e->drops_from_us = until - DROP_CHECK_MS * 1000LL;
    mw_detect_run_capture_drops(e->detect, e->drops_from_us, until, kernel, passed, 0);
    mw_detect_run_capture_drops(e->detect, e->drops_from_us, until, iface, passed, 1);
    e->drops_from_us = until;
}

static int status_due(engine_t *e)
{
    int64_t every_ms = e->cfg->status_s ? (int64_t)e->cfg->status_s * 1000
                                        : (e->cfg->prometheus ? PROMETHEUS_MS : 0);

    if (mw_engine_status_requests != e->status_served)
        return 1;
    if (e->last_status_ms == 0) { /* the first interval starts now */
        e->last_status_ms = mw_monotonic_ms();
        return 0;
    }
    return every_ms > 0 && mw_monotonic_ms() - e->last_status_ms >= every_ms;
}

/* The health of the run now: a status line and/or the Prometheus textfile. */
static void emit_status(engine_t *e)
{
    mw_status_t s = { .lag_us = -1 };
    int64_t now_ms = mw_monotonic_ms();
    int asked = mw_engine_status_requests != e->status_served;
    mw_capture_stats_t cs;
    mw_flow_table_stats_t ts;
    unsigned i;

    e->status_served = mw_engine_status_requests;
    s.wall_us = mw_wall_us();
    s.interval_s = e->last_status_ms ? (double)(now_ms - e->last_status_ms) / 1000.0 : 0.0;
    s.packets = e->sum->packets;
    s.bytes = e->sum->bytes;
    if (live_stats(e, &cs) == 0 && cs.have) {
        s.have_kernel = 1;
        s.kernel_received = cs.received;
        s.kernel_dropped = cs.dropped;
        s.if_dropped = cs.if_dropped;
    }
    memcpy(s.malformed, e->sum->decode_events, sizeof(s.malformed));
    for (i = 0; e->rs.workers != NULL && i < e->rs.nworkers; i++) {
        uint64_t flows, evicted;
        mw_worker_live(e->rs.workers[i], &flows, &evicted);
        s.flows_in_memory += flows;
        s.flows_evicted += evicted;
    }
    if (e->readers != NULL && e->readers[0].tunnels != NULL) {
        mw_flow_table_get_stats(e->readers[0].tunnels, &ts);
        s.flows_in_memory += ts.active;
        s.flows_evicted += ts.evicted;
    }
    for (i = 1; e->readers != NULL && i < e->rs.nreaders; i++) {
        s.packets += atomic_load(&e->readers[i].live_packets);
        s.bytes += atomic_load(&e->readers[i].live_bytes);
        s.flows_in_memory += atomic_load(&e->readers[i].live_tunnels);
        s.flows_evicted += atomic_load(&e->readers[i].live_tunnels_evicted);
    }
    s.packets_delta = s.packets - e->last_status_packets;
    s.anomalies = e->sinks ? mw_anomaly_sinks_count(e->sinks) : 0;
    s.capture_down = atomic_load(&e->capture_down);
    if (e->cfg->command == MW_CMD_CAPTURE)
        s.lag_us = MW_MAX(0, s.wall_us - producers_progress(e));
    if (e->cfg->status_s || asked || e->cfg->prometheus == NULL) {
        char line[512];
        mw_status_format_line(&s, line, sizeof(line));
        mw_log_error("%s", line); /* asked for: shown even with -q */
        mw_service_status(line);
    }
    if (e->cfg->prometheus != NULL && mw_status_write_prometheus(&s, e->cfg->prometheus) != 0 &&
            !e->prometheus_warned) {
        mw_log_warn(
                "cannot write %s (the Prometheus textfile); the run goes on", e->cfg->prometheus);
        e->prometheus_warned = 1;
    }
    e->last_status_ms = now_ms;
    e->last_status_packets = s.packets;
}

/*
 * The reader's counters into the file at the writer's next flush, so a
 * killed run's partial has them (per-worker totals come at the end only).
 */
static void checkpoint(engine_t *e)
{
    const char *names[MW_RUN_MAX_COUNTERS];
    uint64_t values[MW_RUN_MAX_COUNTERS];
    size_t n = mw_run_counters(e->sum, &e->counter_names, names, values, MW_RUN_MAX_COUNTERS);

    mw_flow_sink_checkpoint(e->sink, names, values, n, e->sum->first_us, e->sum->last_us);
    e->last_checkpoint_ms = mw_monotonic_ms();
}

/* The read loop. Returns 0, or the last input error. */
#define REOPEN_MS 2000

#define LINK_CHECK_MS 1000

/*
 * An interface that is set down (or loses its carrier) keeps its capture
 * handle but delivers nothing: the loop notices from the link flags, says
 * so, and reports the time it was down once it is back.
 */
static void check_link(engine_t *e)
{
    int up = mw_capture_link_up(e->cap);

    e->last_link_check_ms = mw_monotonic_ms();
    if (up < 0 || atomic_load(&e->capture_down) == 1 - up || e->link_waiting)
        return; /* unknown, no change, or wait_for_interface() owns the state */
    if (!up) {
        mw_log_warn("%s: the link is down; capturing resumes when it is up again", e->cfg->iface);
        atomic_store(&e->capture_down, 1);
        e->link_down_wall_us = mw_wall_us();
        e->link_down_ms = mw_monotonic_ms();
        e->sum->capture_losses++;
    } else if (atomic_load(&e->capture_down)) {
        uint64_t secs = (uint64_t)((mw_monotonic_ms() - e->link_down_ms) / 1000);
        mw_log_warn(
                "%s: the link is up again after %llu s", e->cfg->iface, (unsigned long long)secs);
        atomic_store(&e->capture_down, 0);
        atomic_store(&e->lost_from_us, e->link_down_wall_us);
        atomic_store(&e->lost_until_us, mw_wall_us());
        e->sum->capture_lost_s += secs;
    }
}

/* A worker without its nDPI module drops its packets: the run must stop, not go on. */
static int workers_failed(engine_t *e, char *errbuf, size_t errlen)
{
    unsigned i;

    for (i = 0; i < e->rs.nworkers; i++)
        if (e->rs.workers[i] != NULL && mw_worker_failed(e->rs.workers[i], errbuf, errlen))
            return 1;
    return 0;
}

/* What the loop does on every check, also while the interface is away. */
static int housekeeping(engine_t *e, int live, char *errbuf, size_t errlen)
{
    mw_pcap_ring_tick(e->ring);
    if (live && mw_monotonic_ms() - e->last_tick_ms >= LIVE_TICK_MS) {
        mw_reader_publish(&e->readers[0]);
        mw_reader_tick(&e->readers[0], mw_wall_us());
        e->last_tick_ms = mw_monotonic_ms();
    }
    if (mw_flow_sink_failed(e->sink, errbuf, errlen) || workers_failed(e, errbuf, errlen)) {
        e->sum->output_failed = 1;
        return MW_EIO;
    }
    if (mw_monotonic_ms() - e->last_checkpoint_ms >= CHECKPOINT_MS)
        checkpoint(e);
    if (status_due(e))
        emit_status(e);
    if (live) {
        mw_service_watchdog(mw_monotonic_ms(), &e->last_watchdog_ms);
        if (mw_monotonic_ms() - e->last_drop_check_ms >= DROP_CHECK_MS)
            post_drops(e);
        if (mw_monotonic_ms() - e->last_link_check_ms >= LINK_CHECK_MS)
            check_link(e);
    }
    return 0;
}

/*
 * The interface went down or was deleted: flows in memory stay, time keeps
 * moving (idle flows are still written, the status and watchdog go on) and
 * the interface is opened again every REOPEN_MS until it is back or the run
 * is stopped. 0 when capturing again (or stopped), MW_EIO when it cannot
 * come back (no privileges left after -Z), or the output failed.
 */
static int wait_for_interface(engine_t *e, const char *why, char *errbuf, size_t errlen)
{
    int64_t lost_wall = mw_wall_us(), lost_ms = mw_monotonic_ms(), tried_ms = lost_ms;
    const char *iface = e->cfg->iface;
    char err[MW_ERRBUF_SIZE] = "";
    int permanent = 0, rc;

    mw_log_warn("%s: the capture was lost; flows in memory are kept, the interface is opened "
                "again every %d s",
            why[0] ? why : iface, REOPEN_MS / 1000);
    if (atomic_load(&e->capture_down)) { /* check_link() saw it go down first */
        lost_wall = e->link_down_wall_us;
        lost_ms = e->link_down_ms;
    } else {
        e->sum->capture_losses++;
    }
    e->link_waiting = 1;
    live_capture = NULL;
    mw_capture_suspend(e->cap);
    atomic_store(&e->capture_down, 1);
    while (!mw_engine_stop_signal) {
        struct timespec pause = { 0, 200 * 1000000L };
        nanosleep(&pause, NULL);
        rc = housekeeping(e, 1, errbuf, errlen);
        if (rc != 0)
            return rc;
        if (mw_monotonic_ms() - tried_ms < REOPEN_MS)
            continue;
        tried_ms = mw_monotonic_ms();
        if (mw_capture_reopen(e->cap, &permanent, err, sizeof(err)) == 0) {
            live_capture = e->cap;
            e->link_waiting = 0;
            atomic_store(&e->capture_down, 0);
            atomic_store(&e->lost_from_us, lost_wall);
            atomic_store(&e->lost_until_us, mw_wall_us());
            e->sum->capture_lost_s += (uint64_t)((mw_monotonic_ms() - lost_ms) / 1000);
            mw_log_warn("%s: capturing again after %.0f s", iface,
                    (double)(mw_monotonic_ms() - lost_ms) / 1000.0);
            return 0;
        }
        if (permanent) {
            mw_fmt_err(errbuf, errlen,
                    "%s: cannot open the interface again (%s): without root or CAP_NET_RAW "
                    "(-Z gave them up) a lost interface cannot be reopened - run it as the "
                    "systemd unit (capabilities) instead; everything until the loss is written",
                    iface, err);
            e->sum->input_errors++;
            e->link_waiting = 0;
            return MW_EIO;
        }
    }
    e->link_waiting = 0;
    e->sum->capture_lost_s += (uint64_t)((mw_monotonic_ms() - lost_ms) / 1000);
    return 0;
}

static int read_loop(engine_t *e, char *errbuf, size_t errlen)
{
    int live = e->cfg->command == MW_CMD_CAPTURE;
    int result = 0;
    unsigned since_check = 0;

    while (!mw_engine_stop_signal) {
        mw_raw_packet_t raw;
        char err[MW_ERRBUF_SIZE] = "";
        int rc = mw_capture_next(e->cap, &raw, err, sizeof(err));

        if (rc == 1) {
            if (e->ring != NULL)
                mw_pcap_ring_write(e->ring, &raw);
            mw_reader_packet(&e->readers[0], &raw);
            if (e->cfg->max_packets && e->sum->packets >= e->cfg->max_packets)
                break;
        } else if (rc == MW_EEOF) {
            break;
        } else if (rc < 0) {
            if (mw_engine_stop_signal)
                break; /* the signal interrupted the read: a stop, not a broken input */
            if (live) {
                /* the interface went down or away: keep everything, wait for it */
                int wrc = wait_for_interface(e, err, errbuf, errlen);
                if (wrc == 0)
                    continue;
                result = wrc;
                break;
            }
            e->sum->input_errors++;
            if (!live && e->cfg->nfiles == 1) { /* the run's one line is the file's own */
                mw_fmt_err(errbuf, errlen, "%s", err);
            } else {
                mw_log_error("%s", err); /* now, so it is next to the file's progress */
                mw_fmt_err(errbuf, errlen, "%u of %zu inputs could not be read completely",
                        e->sum->input_errors, live ? (size_t)1 : e->cfg->nfiles);
            }
            result = rc;
            if (live)
                break;
            continue;
        }
        if (rc == 0 || ++since_check >= 1024) {
            since_check = 0;
            if (limits_reached(e))
                break;
            if (rc == 0)
                mw_reader_publish(&e->readers[0]); /* quiet link: hand over what is queued */
            if (housekeeping(e, live, errbuf, errlen) != 0)
                return MW_EIO;
            mw_progress_update(&e->progress, e->sum->packets, mw_capture_done_bytes(e->cap),
                    mw_capture_total_bytes(e->cap), live);
        }
    }
    if (live && mw_engine_stop_signal && result == 0)
        mw_reader_drain(&e->readers[0], e->ring); /* what was captured before the stop */
    mw_reader_publish(&e->readers[0]);
    if (e->cfg->prometheus != NULL)
        emit_status(e); /* the textfile ends with the run's last numbers */
    return result;
}

static int create_workers(engine_t *e, char *errbuf, size_t errlen)
{
    const mw_config_t *cfg = e->cfg;
    unsigned i;

    e->rs.nworkers = cfg->threads ? cfg->threads : 1;
    e->rs.threaded =
            e->rs.nworkers > 1 || e->rs.nreaders > 1; /* no inline worker for two readers */
    e->rs.workers = calloc(e->rs.nworkers, sizeof(*e->rs.workers));
    if (e->rs.workers == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    /* the flows' part of the memory cap: a record, nDPI's state, two bucket slots and some
     * slack for what nDPI allocates inside its state (TLS reassembly); scripts/bench-flowmem
     * measures 1.52 kB per flow held in detection, 0.83 kB once nDPI's state is freed */
    {
        uint64_t per_flow =
                (sizeof(mw_flow_t) + mw_classifier_flow_bytes() + 2 * sizeof(void *)) * 9 / 8 + 64;
        uint64_t by_bytes = e->mem.flows / per_flow;
        e->sum->flow_cap = by_bytes < cfg->max_flows ? by_bytes : cfg->max_flows;
        if (e->sum->flow_cap < 16u * e->rs.nworkers)
            e->sum->flow_cap = 16u * e->rs.nworkers;
    }
    /* The first nDPI module is built here (the writer thread reads its name tables); the
     * others are copies of it, made before any worker starts (the first must still be
     * pristine). Where a module cannot be copied the worker builds its own in its thread,
     * one at a time under a lock (nDPI's build is not thread-safe), while the reader
     * already reads. */
    if (e->rs.threaded) {
        if (pthread_mutex_init(&e->dpi_create_lock, NULL) != 0) {
            mw_fmt_err(errbuf, errlen, "cannot create a lock");
            return MW_ENOMEM;
        }
        e->dpi_create_lock_ready = 1;
    }
    for (i = 0; i < e->rs.nworkers; i++) {
        mw_worker_params_t wp = { .index = i,
            .max_flows = (uint32_t)(e->sum->flow_cap / e->rs.nworkers),
            .idle_timeout_us = cfg->idle_timeout_us,
            .tcp_idle_timeout_us = cfg->tcp_idle_timeout_us,
            .active_timeout_us = cfg->active_timeout_us,
            .active_aligned = cfg->active_aligned,
            .sink = e->sink,
            .inventory = &e->inventory_live,
            .threaded = e->rs.threaded,
            .extra_dissection = cfg->extra_dissection,
            .readers = e->rs.nreaders,
            .dpi_pristine = i > 0 ? mw_worker_classifier(e->rs.workers[0]) : NULL,
            .dpi_create_lock = e->rs.threaded && i > 0 ? &e->dpi_create_lock : NULL };
        e->rs.workers[i] = mw_worker_create(&wp, errbuf, errlen);
        if (e->rs.workers[i] == NULL)
            return MW_ENOMEM;
    }
    for (i = 0; e->rs.threaded && i < e->rs.nworkers; i++)
        if (mw_worker_start(e->rs.workers[i], errbuf, errlen) != 0)
            return MW_ENOMEM;
    return 0;
}

/* Each reader's tunnel and fragment tables; the tunnel table's cap is shared out. */
static int create_reader_tables(engine_t *e, char *errbuf, size_t errlen)
{
    uint64_t by_bytes = e->mem.tunnels / (sizeof(mw_flow_t) + 2 * sizeof(void *)) / e->rs.nreaders;
    uint32_t cap =
            (uint32_t)MW_MAX(MW_MIN(e->cfg->max_flows / 8 / e->rs.nreaders, by_bytes), 1024u);
    unsigned i;

    e->rs.cfg = e->cfg; /* with the model's window applied */
    e->rs.gtp_id = mw_classifier_gtp_id();
    e->rs.gtp_u_id = mw_classifier_gtp_u_id();
    e->rs.ip_in_ip_id = mw_classifier_ip_in_ip_id();
    e->rs.gre_id = mw_classifier_gre_id();
    for (i = 0; i < e->rs.nreaders; i++)
        if (mw_reader_open_tables(&e->readers[i], e->sink, cap, errbuf, errlen) != 0)
            return MW_ENOMEM;
    return 0;
}

/* Live --readers N: the helpers' captures, opened (as root) into reader 0's fanout group. */
static int open_helpers(engine_t *e, const mw_capture_params_t *cp, char *errbuf, size_t errlen)
{
    unsigned i;

    for (i = 1; i < e->rs.nreaders; i++)
        if (mw_reader_open_helper(
                    &e->readers[i], cp, mw_capture_fanout_group(e->cap), errbuf, errlen) != 0)
            return MW_EIO;
    return 0;
}

static int start_helpers(engine_t *e, char *errbuf, size_t errlen)
{
    unsigned i;

    for (i = 1; i < e->rs.nreaders; i++)
        if (mw_reader_start(&e->readers[i], errbuf, errlen) != 0)
            return MW_ENOMEM;
    return 0;
}

/* A helper's counters into the run's summary, once its thread has ended. */
static void add_reader_counts(mw_run_summary_t *sum, const mw_run_summary_t *r)
{
    unsigned k;

    sum->packets += r->packets;
    sum->bytes += r->bytes;
    for (k = 0; k < MW_DEC_COUNT; k++) {
        sum->decode_events[k] += r->decode_events[k];
        sum->soft_events[k] += r->soft_events[k];
    }
    for (k = 0; k < MW_ENCAP_COUNT; k++)
        sum->encap_packets[k] += r->encap_packets[k];
    sum->encap_kept += r->encap_kept;
    sum->tracked_packets += r->tracked_packets;
    sum->tunnel_packets += r->tunnel_packets;
    sum->alloc_failures += r->alloc_failures;
    sum->clock_back += r->clock_back;
    sum->clock_ahead += r->clock_ahead;
    sum->duplicates += r->duplicates;
    if (r->first_us != 0 && (sum->first_us == 0 || r->first_us < sum->first_us))
        sum->first_us = r->first_us;
    if (r->last_us > sum->last_us)
        sum->last_us = r->last_us;
}

static void collect_stats(engine_t *e)
{
    mw_capture_stats_t cs;
    unsigned i;

    for (i = 0; i < e->rs.nworkers; i++) {
        mw_worker_stats_t ws;
        if (e->rs.workers[i] == NULL)
            continue;
        mw_worker_get_stats(e->rs.workers[i], &ws);
        e->sum->flows_evicted += ws.flows.evicted;
        e->sum->alloc_failures += ws.alloc_failures;
        e->sum->peak_flows += ws.flows.peak;
        e->sum->cpu_workers_s += ws.cpu_s;
    }
    for (i = 0; e->readers != NULL && i < e->rs.nreaders; i++) {
        mw_reader_t *rd = &e->readers[i];
        if (i > 0) {
            add_reader_counts(e->sum, &rd->own_sum);
            e->sum->cpu_reader_s += rd->cpu_s;
        }
        if (i < MW_ARRAY_LEN(e->sum->reader_packets))
            e->sum->reader_packets[i] = rd->sum->packets;
        if (rd->tunnels) {
            mw_flow_table_stats_t ts;
            mw_flow_table_get_stats(rd->tunnels, &ts);
            e->sum->flows_evicted += ts.evicted;
            e->sum->peak_flows += ts.peak;
        }
        if (rd->defrag) {
            mw_defrag_stats_t ds;
            mw_defrag_get_stats(rd->defrag, &ds);
            e->sum->datagrams_reassembled += ds.datagrams;
            e->sum->fragments_reassembled += ds.fragments;
            e->sum->fragments_released += ds.released;
            e->sum->fragment_conflicts += ds.conflicts;
        }
        if (rd->frags) {
            mw_frag_table_stats_t fs;
            mw_frag_table_get_stats(rd->frags, &fs);
            e->sum->fragments_joined += fs.joined;
            e->sum->fragments_orphan += fs.orphans;
            e->sum->fragments_expired += fs.expired;
            e->sum->frag_table_full += fs.full;
        }
        e->sum->ftp_announced += mw_ftp_expect_noted(rd->ftp);
        e->sum->ftp_not_kept += mw_ftp_expect_dropped(rd->ftp);
        e->sum->ftp_refused += mw_ftp_expect_refused(rd->ftp);
        if (rd->cap && mw_capture_get_stats(rd->cap, &cs) == 0 && cs.have) {
            e->sum->kernel_received += cs.received;
            e->sum->kernel_dropped += cs.dropped;
            e->sum->if_dropped += cs.if_dropped;
        }
    }
    e->sum->readers = e->rs.nreaders;
    if (e->cap != NULL) {
        e->sum->cpu_read_threads_s = mw_capture_read_threads_cpu_s(e->cap);
        e->sum->ranges_rewalked = mw_capture_read_threads_rewalked(e->cap);
    }
}

/* Helpers end their loops, hand over what they hold and are joined. */
static void stop_readers(engine_t *e)
{
    unsigned i;

    atomic_store(&e->rs.stop, 1);
    for (i = 1; e->readers != NULL && i < e->rs.nreaders; i++)
        mw_reader_join(&e->readers[i]);
}

/* Stops readers, workers and the sink; returns the writer for the metadata. */
static mw_h5_writer_t *drain(engine_t *e, enum mw_end_reason reason, char *errbuf, size_t errlen)
{
    mw_h5_writer_t *w = NULL;
    int failed = 0;
    unsigned i;

    stop_readers(e);
    /* fragments still waiting for the rest of their datagram go to the workers first */
    for (i = 0; e->readers != NULL && i < e->rs.nreaders; i++)
        mw_reader_release_fragments(&e->readers[i]);
    for (i = 0; i < e->rs.nworkers; i++)
        if (e->rs.workers[i] != NULL)
            mw_worker_finish(e->rs.workers[i], reason);
    for (i = 0; e->readers != NULL && i < e->rs.nreaders; i++)
        mw_reader_flush(&e->readers[i], reason);
    e->sum->cpu_reader_s = mw_thread_cpu_s(); /* with an inline worker, its time too */
    if (workers_failed(e, errbuf, errlen))
        e->sum->output_failed = 1;
    collect_stats(e);
    if (e->sink != NULL) {
        e->sum->flows_written = mw_flow_sink_count(e->sink);
        w = mw_flow_sink_finish(e->sink, &failed, &e->sum->cpu_writer_s, errbuf, errlen);
        if (e->vlan_split != NULL)
            e->sum->vlan_split_sessions = mw_vlan_split_stats(e->vlan_split).pairs;
        e->sum->cpu_deflate_s += mw_h5_writer_deflate_cpu_s(w);
        e->sink = NULL;
        if (failed)
            e->sum->output_failed = 1;
    }
    return w;
}

static void destroy(engine_t *e)
{
    unsigned i;

    stop_readers(e); /* an error path may come here with helpers still reading */
    /* every worker stopped before any goes: the others' nDPI modules read the first one's
     * tables, so it goes last (its flows flushed, theirs too, need them) */
    for (i = 0; i < e->rs.nworkers && e->rs.workers; i++)
        mw_worker_stop(e->rs.workers[i]);
    for (i = e->rs.nworkers; i-- > 0 && e->rs.workers;)
        mw_worker_destroy(e->rs.workers[i]);
    free(e->rs.workers);
    if (e->dpi_create_lock_ready)
        pthread_mutex_destroy(&e->dpi_create_lock);
    for (i = 0; e->readers != NULL && i < e->rs.nreaders; i++) {
        mw_reader_close_tables(&e->readers[i]);
        if (i > 0)
            mw_capture_close(e->readers[i].cap);
    }
    free(e->readers);
    if (e->ring != NULL)
        e->sum->pcap_ring_dropped = mw_pcap_ring_close(e->ring);
    mw_capture_close(e->cap);
    mw_detect_run_destroy(e->detect);
    mw_anomaly_sinks_destroy(e->sinks); /* closes the JSON feed */
    mw_trainer_destroy(e->trainer);
    mw_model_destroy(e->model);
    mw_inventory_destroy(e->inventory);
    for (size_t k = 0; k < e->nretired; k++)
        mw_inventory_destroy(e->retired[k]);
    free(e->retired);
    free((void *)e->rs.input_first_frame);
    mw_vlan_split_destroy(e->vlan_split);
}

/* The input file holding a frame, and the frame's number in it (offline runs). */
static const char *source_of(void *ctx, uint64_t frame, uint64_t *frame_in_file)
{
    engine_t *e = ctx;
    size_t i, best = SIZE_MAX;

    for (i = 0; e->rs.input_first_frame != NULL && i < e->cfg->nfiles; i++) {
        uint64_t first = atomic_load(&e->rs.input_first_frame[i]);
        if (first != 0 && first <= frame)
            best = i;
    }
    if (best == SIZE_MAX)
        return NULL;
    *frame_in_file = frame - atomic_load(&e->rs.input_first_frame[best]) + 1;
    return e->cfg->files[best];
}

/* Model, trainer or detection run, before any thread starts. */
static int open_baseline(engine_t *e, char *errbuf, size_t errlen)
{
    const mw_config_t *cfg = e->cfg;

    if (cfg->command == MW_CMD_TRAIN) {
        e->model = mw_model_create(cfg->window_us, errbuf, errlen);
        if (e->model == NULL)
            return MW_ENOMEM;
        snprintf(mw_model_meta(e->model)->ndpi_version,
                sizeof(mw_model_meta(e->model)->ndpi_version), "%s", mw_classifier_ndpi_version());
        snprintf(mw_model_meta(e->model)->site, sizeof(mw_model_meta(e->model)->site), "%s",
                mw_inventory_site(e->inventory));
        e->trainer = mw_trainer_create(e->model, e->inventory, proto_name, e);
        if (e->trainer == NULL)
            return MW_ENOMEM;
        mw_trainer_set_memcap(e->trainer, &e->mem);
        return 0;
    }
    if (cfg->model == NULL)
        return 0;
    e->model = mw_h5_model_load(cfg->model, errbuf, errlen);
    return e->model ? 0 : MW_EFORMAT; /* a missing or corrupt model is failed input: exit 1 */
}

/*
 * With -Z, the inventory and the model are read after root is given up, so
 * a crafted file is parsed by an unprivileged process; a file only root can
 * read is then a clear error instead of a silent privilege.
 */
static int readable_as_user(const mw_config_t *cfg, const char *path, char *errbuf, size_t errlen)
{
    if (cfg->drop_user == NULL || path == NULL || access(path, R_OK) == 0)
        return 0;
    mw_fmt_errno(errbuf, errlen, errno,
            "%s: not readable as -Z %s (the inventory and the model are loaded after privileges "
            "are dropped)",
            path, cfg->drop_user);
    return MW_EIO;
}

/* Inventory, then model or trainer; after the capture is open and privileges are dropped. */
static int load_inputs(engine_t *e, char *errbuf, size_t errlen)
{
    const mw_config_t *cfg = e->cfg;
    int rc;

    if ((rc = readable_as_user(cfg, cfg->inventory, errbuf, errlen)) != 0 ||
            (rc = readable_as_user(cfg, cfg->model, errbuf, errlen)) != 0)
        return rc;
    if (cfg->inventory != NULL) {
        /* before any thread starts: the loader switches TZ while it runs */
        e->inventory = mw_inventory_load(cfg->inventory, errbuf, errlen);
        if (e->inventory == NULL)
            return MW_EINVAL;
        atomic_store_explicit(&e->inventory_live, e->inventory, memory_order_release);
    }
    return open_baseline(e, errbuf, errlen);
}

static int model_fits_site(engine_t *e, const mw_model_t *model, const mw_inventory_t *inv,
        char *errbuf, size_t errlen);

/* A model of another site, or one that knows none of this inventory's stations, is refused. */
static int check_model_site(engine_t *e, char *errbuf, size_t errlen)
{
    return model_fits_site(e, e->model, e->inventory, errbuf, errlen);
}

static int model_fits_site(engine_t *e, const mw_model_t *model, const mw_inventory_t *inv,
        char *errbuf, size_t errlen)
{
    const mw_model_meta_t *meta = mw_model_meta_const(model);
    const char *site = mw_inventory_site(inv);
    size_t i, known = 0;

    if (site != NULL && meta->site[0] != '\0' && strcmp(site, meta->site) != 0) {
        mw_fmt_err(errbuf, errlen,
                "model %s was trained for site '%s', the inventory %s is site '%s': use that "
                "site's model (or train one)",
                e->cfg->model, meta->site, e->cfg->inventory, site);
        return MW_EINVAL;
    }
    for (i = 0; i < mw_model_station_count(model); i++) {
        const mw_station_t *st = mw_model_station_at(model, i);
        if (strncmp(st->id, MW_GROUP_PREFIX, strlen(MW_GROUP_PREFIX)) == 0)
            known++; /* a role group scores any station of its type */
        else if (mw_inventory_bs_find(inv, st->id) != 0)
            known++;
        else
            mw_log_warn("model station %s is not in the inventory %s", st->id, e->cfg->inventory);
    }
    if (known == 0) {
        mw_fmt_err(errbuf, errlen, "model %s knows no base station of the inventory %s",
                e->cfg->model, e->cfg->inventory);
        return MW_EINVAL;
    }
    return 0;
}

static int open_detection(engine_t *e, char *errbuf, size_t errlen)
{
    mw_detect_params_t dp = { .model = e->model,
        .inv = e->inventory,
        .name = proto_name,
        .name_ctx = e,
        .suppress_path = e->cfg->suppress,
        .live = e->cfg->command == MW_CMD_CAPTURE,
        .memcap = &e->mem };
    mw_anomaly_sinks_params_t sp = { .syslog = e->cfg->syslog,
        .inv = e->inventory,
        .source_of = e->cfg->nfiles > 0 ? source_of : NULL,
        .source_ctx = e };
    int rc = check_model_site(e, errbuf, errlen);

    if (rc != 0)
        return rc;
    if (e->cfg->anomalies != NULL) {
        if (strcmp(e->cfg->anomalies, "-") == 0) {
            e->json = stdout;
        } else {
            /* a live capture is a service: a restart must not wipe the feed a SIEM reads;
             * an offline run writes its own result anew. Either way every write appends
             * (O_APPEND), so logrotate's copytruncate leaves no hole of NUL bytes. */
            int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
                        (e->cfg->command == MW_CMD_CAPTURE ? 0 : O_TRUNC);
            int fd = open(e->cfg->anomalies, flags, 0644);
            e->json = fd >= 0 ? fdopen(fd, "a") : NULL;
            if (e->json == NULL && fd >= 0)
                close(fd);
            if (e->json == NULL) {
                mw_fmt_errno(errbuf, errlen, errno, "cannot write %s", e->cfg->anomalies);
                return MW_EIO;
            }
        }
    }
    sp.json = e->json;
    if (e->json != NULL && e->json != stdout) {
        sp.json_path = e->cfg->anomalies;
        sp.reopen_requests = &mw_engine_reopen_requests;
    }
    e->sinks = mw_anomaly_sinks_create(&sp);
    if (e->sinks == NULL) {
        if (e->json != stdout)
            fclose(e->json);
        e->json = NULL;
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    dp.sink = mw_anomaly_sinks_detect_sink(e->sinks);
    e->detect = mw_detect_run_create(&dp, errbuf, errlen);
    return e->detect ? 0 : MW_EINVAL;
}

/* The CPUs this process may run on (1 when it cannot tell). */
static unsigned usable_cpus(void)
{
    cpu_set_t set;

    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    return 1;
}

/* --deflate-threads, else by the cores this process may use: deflating /flows is about a
 * fifth of a run's CPU (Performance), so one thread is the wall once 5 or so cores work. */
static unsigned deflate_threads(const mw_config_t *cfg)
{
    if (cfg->deflate_threads > 0)
        return cfg->deflate_threads;
    return MW_MIN(1 + usable_cpus() / 8, 4u);
}

/* analyze --readers, else one file reader thread where a second CPU can run it: on one CPU
 * it only adds hand-offs (there, libpcap on the analysing thread took 0.93x the wall on
 * nDPI-mix and 0.94x on GTP, README Performance). */
static unsigned file_read_threads(const mw_config_t *cfg)
{
    if (cfg->command != MW_CMD_ANALYZE)
        return 0;
    if (cfg->readers_given)
        return cfg->readers;
    return usable_cpus() > 1 ? 1 : 0;
}

/* The results file: skeleton with every table and attribute, then NAME.partial in SWMR mode. */
static mw_h5_writer_t *start_writer(engine_t *e, const char *path, char *errbuf, size_t errlen)
{
    mw_h5_writer_t *w =
            mw_h5_writer_create(path, e->detect != NULL, deflate_threads(e->cfg), errbuf, errlen);
    int rc;

    if (w == NULL)
        return NULL;
    rc = mw_run_meta_start(w, e->cfg, e->rs.workers[0], e->inventory, errbuf, errlen);
    if (rc == 0)
        rc = mw_h5_writer_start(w, errbuf, errlen);
    if (rc != 0) {
        mw_h5_writer_close(w, 0, NULL, 0);
        return NULL;
    }
    return w;
}

static int open_writer(engine_t *e, char *errbuf, size_t errlen)
{
    mw_h5_writer_t *w;

    if (e->cfg->output == NULL || e->cfg->command == MW_CMD_TRAIN)
        return 0;
    w = start_writer(e, e->cfg->output, errbuf, errlen);
    if (w == NULL)
        return MW_EIO;
    snprintf(e->current_output, sizeof(e->current_output), "%s", e->cfg->output);
    mw_flow_sink_set_writer(e->sink, w);
    return 0;
}

/*
 * -G (writer thread): the next file starts first, so a failure to start it
 * keeps the rows going to the current one; then the current file gets its
 * counters (the run's totals up to now) and span, and its final name.
 */
static mw_h5_writer_t *rotate_output(void *ctx, mw_h5_writer_t *old, const char *const *names,
        const uint64_t *values, size_t n, int64_t first_us, int64_t last_us)
{
    engine_t *e = ctx;
    char name[sizeof(e->current_output)], err[MW_ERRBUF_SIZE] = "";
    time_t now = time(NULL);
    struct tm tm;
    mw_h5_writer_t *next;
    int rc = 0;

    if (localtime_r(&now, &tm) == NULL ||
            strftime(name, sizeof(name), e->cfg->output_pattern, &tm) == 0 ||
            strcmp(name, e->current_output) == 0) {
        mw_log_warn("-G: the pattern %s gives no new name now; %s goes on", e->cfg->output_pattern,
                e->current_output);
        return NULL;
    }
    next = start_writer(e, name, err, sizeof(err));
    if (next == NULL) {
        mw_log_warn("-G: cannot start %s (%s); %s goes on", name, err, e->current_output);
        return NULL;
    }
    if (n > 0)
        rc |= mw_h5_writer_progress(old, names, values, n, first_us, last_us, err, sizeof(err));
    rc |= mw_h5_writer_attr_int64(old, "complete", 1); /* its period is whole */
    if (e->detect != NULL)
        rc |= mw_h5_writer_detection_tables(old);
    e->sum->cpu_deflate_s += mw_h5_writer_deflate_cpu_s(old); /* writer thread: read at the end */
    rc |= mw_h5_writer_close(old, 1, err, sizeof(err));
    if (rc != 0)
        mw_log_warn("-G: completing %s failed (%s); it stays as %s.partial for recover",
                e->current_output, err[0] ? err : "disk full?", e->current_output);
    e->rotated++;
    snprintf(e->current_output, sizeof(e->current_output), "%s", name);
    return next;
}

/* The same base stations in the same order: the results' bs_index keeps its meaning. */
static int same_stations(const mw_inventory_t *a, const mw_inventory_t *b)
{
    size_t i, n = mw_inventory_bs_count(a);

    if (n != mw_inventory_bs_count(b))
        return 0;
    for (i = 1; i <= n; i++)
        if (strcmp(mw_inventory_bs_id(a, i), mw_inventory_bs_id(b, i)) != 0)
            return 0;
    return 1;
}

/*
 * SIGUSR2, in the writer thread (the only one that reads HDF5 and switches
 * TZ while an inventory loads): everything new is loaded and checked first,
 * so any failure leaves the run as it was. Then the detection run in force
 * ends (its open incidents and windows are written as they stand) and a new
 * one starts with the new model, inventory and suppressions; the workers
 * pick the new inventory up for the records they finish next. Flows in
 * memory are untouched.
 */
static void reload(engine_t *e, mw_h5_writer_t *w)
{
    const mw_config_t *cfg = e->cfg;
    char err[MW_ERRBUF_SIZE] = "";
    mw_inventory_t *inv = e->inventory, *fresh = NULL;
    mw_model_t *model = NULL;
    mw_detect_run_t *detect = NULL;
    mw_inventory_t **grown;
    uint64_t counts[4];
    unsigned k;

    if (cfg->inventory != NULL) {
        fresh = mw_inventory_load(cfg->inventory, err, sizeof(err));
        if (fresh == NULL)
            goto refused;
        if (!same_stations(fresh, e->inventory)) {
            snprintf(err, sizeof(err),
                    "%s: its base stations changed (names or order): restart to apply it",
                    cfg->inventory);
            goto refused;
        }
        inv = fresh;
    }
    if (e->detect != NULL) {
        mw_detect_params_t dp = { .inv = inv,
            .name = proto_name,
            .name_ctx = e,
            .suppress_path = cfg->suppress,
            .live = cfg->command == MW_CMD_CAPTURE,
            .memcap = &e->mem,
            .sink = mw_anomaly_sinks_detect_sink(e->sinks) };
        model = mw_h5_model_load_exec(cfg->model, cfg->self_exe, err, sizeof(err));
        if (model == NULL || model_fits_site(e, model, inv, err, sizeof(err)) != 0)
            goto refused;
        dp.model = model;
        detect = mw_detect_run_create(&dp, err, sizeof(err));
        if (detect == NULL)
            goto refused;
        mw_anomaly_sinks_set_writer(e->sinks, w);
        mw_detect_run_finish(e->detect);
        mw_anomaly_sinks_set_writer(e->sinks, NULL);
        mw_detect_run_counts(e->detect, counts);
        for (k = 0; k < 4; k++)
            e->anomalies_before[k] += counts[k];
        mw_detect_run_destroy(e->detect);
        mw_model_destroy(e->model);
        e->detect = detect;
        e->model = model;
        mw_anomaly_sinks_set_inventory(e->sinks, inv);
    }
    if (fresh != NULL) {
        grown = realloc(e->retired, (e->nretired + 1) * sizeof(*grown));
        if (grown == NULL) { /* the old one cannot be kept for records in flight: keep it */
            snprintf(err, sizeof(err), "out of memory");
            if (e->detect != NULL)
                mw_anomaly_sinks_set_inventory(e->sinks, e->inventory);
            mw_inventory_destroy(fresh);
            fresh = NULL;
            goto refused;
        }
        e->retired = grown;
        e->retired[e->nretired++] = e->inventory;
        e->inventory = fresh;
        atomic_store_explicit(&e->inventory_live, fresh, memory_order_release);
    }
    e->reloads++;
    mw_log_warn("reloaded (SIGUSR2):%s%s%s%s%s%s", cfg->inventory ? " inventory " : "",
            cfg->inventory ? cfg->inventory : "", cfg->model ? ", model " : "",
            cfg->model ? cfg->model : "", cfg->suppress ? ", suppressions " : "",
            cfg->suppress ? cfg->suppress : "");
    return;
refused:
    mw_log_warn("reload (SIGUSR2) refused, nothing changed: %s", err[0] ? err : "error");
    mw_detect_run_destroy(detect);
    mw_model_destroy(model);
    mw_inventory_destroy(fresh);
}

static void maintain(void *ctx, mw_h5_writer_t *w)
{
    engine_t *e = ctx;

    if (e->detect != NULL && e->cfg->command == MW_CMD_CAPTURE) {
        int64_t until = atomic_load(&e->lost_until_us);
        mw_anomaly_sinks_set_writer(e->sinks, w);
        judge_drops(e);
        if (until != 0 && until != e->lost_served_us) {
            mw_detect_run_capture_lost(e->detect, atomic_load(&e->lost_from_us), until);
            e->lost_served_us = until;
        }
        mw_anomaly_sinks_set_writer(e->sinks, NULL);
    }
    if (mw_engine_reload_requests == e->reload_served)
        return;
    e->reload_served = mw_engine_reload_requests;
    reload(e, w);
}

static int open_output(engine_t *e, char *errbuf, size_t errlen)
{
    mw_flow_sink_params_t sp = { 0 };

    /* with the VLAN id in the flow key (the default), a capture that tags each direction
     * differently splits sessions: the run says so */
    if (e->cfg->vlan_tracking) {
        e->vlan_split = mw_vlan_split_create();
        if (e->vlan_split == NULL) {
            mw_fmt_err(errbuf, errlen, "out of memory");
            return MW_ENOMEM;
        }
    }
    if (e->trainer != NULL) {
        sp.observer = (mw_flow_observer_t){
            .observe = observe_train, .watermark = watermark_of, .finish = finish_train, .ctx = e
        };
    } else if (e->model != NULL) {
        int rc = open_detection(e, errbuf, errlen);
        if (rc != 0)
            return rc;
        sp.observer = (mw_flow_observer_t){ .observe = observe_detect,
            .watermark = watermark_of,
            .finish = finish_detect,
            .tick = e->cfg->command == MW_CMD_CAPTURE ? tick_detect : NULL,
            .maintain = maintain,
            .ctx = e };
    } else {
        sp.observer =
                (mw_flow_observer_t){ .observe = observe_plain, .maintain = maintain, .ctx = e };
    }
    if (e->cfg->rotate_s && e->cfg->output != NULL)
        sp.rotation = (mw_flow_rotation_t){
            .interval_ms = (int64_t)e->cfg->rotate_s * 1000, .rotate = rotate_output, .ctx = e
        };
    /* live, a slow flush (a busy disk) must not stall the workers and then the kernel ring:
     * the writer's queue absorbs 8 chunks; offline its back-pressure costs nothing */
    if (e->cfg->command == MW_CMD_CAPTURE)
        sp.max_queued = LIVE_SINK_RECORDS;
    /* the writer comes later (open_writer): its tables need a worker's nDPI names */
    e->sink = mw_flow_sink_create(&sp, errbuf, errlen);
    return e->sink ? 0 : MW_ENOMEM;
}

int mw_engine_run(const mw_config_t *cfg_in, mw_run_summary_t *sum, char *errbuf, size_t errlen)
{
    engine_t e = { .cfg = cfg_in, .sum = sum };
    const mw_config_t *cfg = cfg_in;
    mw_capture_params_t cp = { .files = cfg->files,
        .nfiles = cfg->nfiles,
        .iface = cfg->iface,
        .filter = cfg->filter,
        .snaplen = cfg->snaplen,
        .buffer_mb = cfg->buffer_mb,
        .promisc = cfg->promisc,
        .read_threads = file_read_threads(cfg),
        .prepare = mw_reader_prepare,
        .prepare_ctx = (void *)cfg_in, /* read only */
        .prepared_size = sizeof(mw_prepared_packet_t),
        /* workers on threads read packets where the capture holds them */
        .holders = cfg->threads > 1 ? cfg->threads : 0,
        .range_done = mw_reader_range_done };
    mw_h5_writer_t *writer = NULL;
    char err2[MW_ERRBUF_SIZE] = "";
    int rc, input_rc, json_failed = 0;

    memset(sum, 0, sizeof(*sum));
    sum->memcap = cfg->memcap;
    sum->read_threads = cp.read_threads;
    mw_memcap_split(&e.mem, cfg->memcap);
    e.start_ms = e.last_tick_ms = mw_monotonic_ms();
    rc = mw_config_check_outputs(cfg, errbuf, errlen);
    if (rc != 0)
        return rc;
    e.rs.nreaders = cfg->command == MW_CMD_CAPTURE && cfg->readers > 1 ? cfg->readers : 1;
    e.readers = calloc(e.rs.nreaders, sizeof(*e.readers));
    if (e.readers == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    e.rs.inventory = &e.inventory_live;
    e.rs.stop_signal = &mw_engine_stop_signal;
    atomic_init(&e.rs.stop, 0);
    for (unsigned i = 0; i < e.rs.nreaders; i++) {
        e.readers[i].sh = &e.rs;
        e.readers[i].index = i;
        e.readers[i].sum = i == 0 ? sum : &e.readers[i].own_sum;
    }
    /* the capture opens (as root when live) and root is given up before any file is parsed */
    cp.fanout = e.rs.nreaders > 1;
    cp.range_done_ctx = &e.readers[0];
    e.cap = e.readers[0].cap = mw_capture_open(&cp, errbuf, errlen);
    if (e.cap == NULL || open_helpers(&e, &cp, errbuf, errlen) != 0) {
        destroy(&e);
        return MW_EIO; /* missing input is a failed run (exit 1), not a usage error */
    }
    if (cfg->drop_user != NULL) {
        rc = mw_drop_privileges(cfg->drop_user, errbuf, errlen);
        if (rc != 0)
            goto out;
    }
    rc = load_inputs(&e, errbuf, errlen);
    if (rc != 0)
        goto out;
    if (cfg->pcap_ring != NULL) { /* after -Z: the store is written as the user */
        mw_pcap_ring_params_t rp = { .dir = cfg->pcap_ring,
            .max_bytes = cfg->pcap_ring_size,
            .max_age_s = cfg->pcap_ring_age_s,
            .dlt = mw_capture_datalink(e.cap),
            .snaplen = cfg->snaplen > 0 ? (uint32_t)cfg->snaplen : 262144 };
        e.ring = mw_pcap_ring_open(&rp, errbuf, errlen);
        if (e.ring == NULL) {
            rc = MW_EIO;
            goto out;
        }
    }
    /* With a baseline, records are cut at every window's edge so windows see bytes when they
     * happen; so are a run's whose --active-timeout is the window (results to train from). */
    e.cfg_eff = *cfg_in;
    if (e.model != NULL && !cfg_in->active_timeout_set)
        e.cfg_eff.active_timeout_us = mw_model_meta(e.model)->window_us;
    e.cfg_eff.active_aligned =
            e.cfg_eff.active_timeout_us ==
            (e.model != NULL ? mw_model_meta(e.model)->window_us : cfg_in->window_us);
    if (e.model != NULL && !e.cfg_eff.active_aligned)
        mw_log_note("--active-timeout %lld s with %lld-s baseline windows: a record's bytes "
                    "count in the window it began in, so window volumes can be wrong (leave "
                    "--active-timeout out to cut records at the windows' edges)",
                (long long)(e.cfg_eff.active_timeout_us / 1000000),
                (long long)(mw_model_meta(e.model)->window_us / 1000000));
    e.cfg = cfg = &e.cfg_eff;
    if (cfg->nfiles > 0) {
        e.rs.input_first_frame = calloc(cfg->nfiles, sizeof(*e.rs.input_first_frame));
        if (e.rs.input_first_frame == NULL) {
            mw_fmt_err(errbuf, errlen, "out of memory");
            rc = MW_ENOMEM;
            goto out;
        }
    }
    rc = open_output(&e, errbuf, errlen);
    if (rc != 0)
        goto out;
    rc = create_workers(&e, errbuf, errlen);
    if (rc == 0)
        rc = create_reader_tables(&e, errbuf, errlen);
    if (rc == 0)
        rc = open_writer(&e, errbuf, errlen);
    if (rc != 0) {
        writer = drain(&e, MW_END_SHUTDOWN, err2, sizeof(err2));
        mw_h5_writer_close(writer, 0, NULL, 0);
        goto out;
    }

    if (start_helpers(&e, errbuf, errlen) != 0) {
        writer = drain(&e, MW_END_SHUTDOWN, err2, sizeof(err2));
        mw_h5_writer_close(writer, 0, NULL, 0);
        rc = MW_ENOMEM;
        goto out;
    }
    sum->started = 1;
    mw_progress_init(&e.progress, cfg->progress && !cfg->quiet);
    live_capture = e.cap;
    if (cfg->command == MW_CMD_CAPTURE) {
        live_timer(1);
        mw_service_ready(); /* interface open, privileges dropped, output in place */
    }
    input_rc = read_loop(&e, errbuf, errlen);
    sum->pcap_ring_dropped = mw_pcap_ring_close(e.ring); /* complete and synced */
    e.ring = NULL;
    if (cfg->command == MW_CMD_CAPTURE) {
        live_timer(0);
        mw_service_stopping();
    }
    live_capture = NULL;
    mw_progress_clear(&e.progress);
    sum->stop_signal = mw_engine_stop_signal;
    sum->elapsed_s = (double)(mw_monotonic_ms() - e.start_ms) / 1000.0;

    writer = drain(&e, (sum->stop_signal || limits_reached(&e)) ? MW_END_SHUTDOWN : MW_END_EOF,
            err2, sizeof(err2));
    if (e.vlan_split != NULL && cfg->command != MW_CMD_CAPTURE && sum->vlan_split_sessions > 0) {
        mw_vlan_split_stats_t st = mw_vlan_split_stats(e.vlan_split);
        warn_vlan_splits(&st, "");
    }
    sum->elapsed_s = (double)(mw_monotonic_ms() - e.start_ms) / 1000.0;
    if (sum->output_failed) {
        if (err2[0])
            mw_fmt_err(errbuf, errlen, "%s", err2);
        mw_h5_writer_close(writer, 0, NULL, 0);
        rc = MW_EIO;
        goto out;
    }
    if (e.detect != NULL) {
        const mw_coverage_record_t *rows;
        size_t nrows;
        mw_detect_run_counts(e.detect, sum->anomalies);
        for (unsigned k = 0; k < 4; k++)
            sum->anomalies[k] += e.anomalies_before[k];
        rows = mw_detect_run_coverage(e.detect, &nrows);
        sum->stations_scored = (uint64_t)mw_coverage_print(stderr, e.inventory, rows, nrows);
        mw_detect_run_shed(e.detect, &sum->shed);
        if (mw_anomaly_sinks_failed(e.sinks) & MW_SINK_FAILED_H5) {
            sum->output_failed = 1;
            mw_fmt_err(errbuf, errlen, "writing the anomaly tables of %s failed: disk full?",
                    cfg->output);
            mw_h5_writer_close(writer, 0, NULL, 0);
            rc = MW_EIO;
            goto out;
        }
        /* a failed JSON file fails the run, after the results file is completed */
        json_failed = mw_anomaly_sinks_failed(e.sinks) & MW_SINK_FAILED_JSON;
    }
    if (e.trainer != NULL)
        mw_trainer_shed(e.trainer, &sum->shed);
    if (sum->shed.windows + sum->shed.hours + sum->shed.evidence + sum->shed.beacon > 0)
        mw_log_warn("the memory cap (--memcap %llu MB) shed: %llu flows from windows, %llu session "
                    "starts from hour counts, %llu pieces of evidence, %llu beacon starts",
                (unsigned long long)(cfg->memcap >> 20), (unsigned long long)sum->shed.windows,
                (unsigned long long)sum->shed.hours, (unsigned long long)sum->shed.evidence,
                (unsigned long long)sum->shed.beacon);
    if (e.trainer != NULL && mw_trainer_records(e.trainer) == 0) {
        mw_fmt_err(errbuf, errlen,
                "nothing learned: no flow of the inventory's base stations in the input (check "
                "the inventory's prefixes against the capture)");
        mw_h5_writer_close(writer, 0, NULL, 0);
        rc = MW_EINVAL;
        goto out;
    }
    if (e.trainer != NULL) {
        sum->trained_records = mw_trainer_records(e.trainer);
        rc = mw_h5_model_save(e.model, cfg->output, cfg->command_line, err2, sizeof(err2));
        if (rc != 0) {
            sum->output_failed = 1;
            mw_fmt_err(errbuf, errlen, "%s", err2);
            goto out;
        }
    }
    rc = mw_run_meta_finish(writer, sum, err2, sizeof(err2));
    if (rc == 0)
        rc = mw_h5_writer_close(writer, 1, err2, sizeof(err2));
    else
        mw_h5_writer_close(writer, 0, NULL, 0);
    if (rc != 0) {
        sum->output_failed = 1;
        mw_fmt_err(errbuf, errlen, "%s", err2[0] ? err2 : "cannot finish the output file");
        goto out;
    }
    rc = input_rc;
    sum->output_files = e.rotated;
    sum->reloads = e.reloads;
    if (json_failed) {
        sum->output_failed = 1;
        mw_fmt_err(errbuf, errlen,
                "writing the anomalies to %s failed (disk full?); %s is complete", cfg->anomalies,
                cfg->output ? cfg->output : "no results file");
        rc = MW_EIO;
    }
out:
    destroy(&e);
    return rc;
}
