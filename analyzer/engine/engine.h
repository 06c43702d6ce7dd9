/*
 * engine.h - one run: source -> decode -> dispatch -> workers -> sink.
 * mw_engine_run() is all main() calls for analyze and capture.
 */
#ifndef MW_ENGINE_H
#define MW_ENGINE_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/config.h"
#include "core/memcap.h"
#include "decode/decode.h"

typedef struct mw_run_summary {
    uint64_t packets, bytes;
    uint64_t decode_events[MW_DEC_COUNT]; /* packets stopped by each reason */
    uint64_t soft_events[MW_DEC_COUNT];   /* non-fatal events inside tracked packets */
    uint64_t tracked_packets;             /* packets accounted to a flow */
    uint64_t flows_written;
    uint64_t flows_evicted, alloc_failures;
    uint64_t tunnel_packets;
    uint64_t encap_packets[MW_ENCAP_COUNT]; /* frames delivered in each encapsulation */
    uint64_t encap_kept; /* ... whose delivery had a base station at one end: kept whole */
    uint64_t datagrams_reassembled; /* IP datagrams put back together from their fragments */
    uint64_t fragments_reassembled; /* ... the fragment frames they were */
    uint64_t fragments_released;    /* fragment frames analyzed one by one (not put together) */
    uint64_t fragment_conflicts;    /* datagrams whose fragments overlapped with other bytes */
    uint64_t fragments_joined;    /* later IP fragments accounted to their first fragment's flow */
    uint64_t fragments_orphan;    /* later fragments without a first fragment: ports-0 flow */
    uint64_t fragments_expired;   /* of the orphans: first fragment older than the timeout */
    uint64_t frag_table_full;     /* first fragments that pushed out a live one (table full) */
    uint64_t ftp_announced;       /* FTP data endpoints announced on control sessions */
    uint64_t ftp_not_kept;        /* ... that the table, full of live ones, could not keep */
    uint64_t ftp_refused;         /* ... on a port under 1024 or of a known service: ignored */
    uint64_t clock_back;          /* packets more than a second older than the one before */
    uint64_t clock_ahead;         /* packets more than a day newer than the one before */
    uint64_t vlan_split_sessions; /* seen one way in one VLAN, the other way in another */
    uint64_t duplicates;          /* IP packets that were copies of one seen just before */
    uint32_t peak_flows;
    unsigned readers;           /* capture --readers (1 otherwise) */
    unsigned read_threads;      /* analyze --readers: threads reading a file at once (0: none) */
    double cpu_read_threads_s;  /* ... their CPU seconds */
    uint64_t ranges_rewalked;   /* ... ranges whose first record the reader found again */
    uint64_t reader_packets[8]; /* packets each of the first readers read */
    uint64_t kernel_received, kernel_dropped, if_dropped;
    uint64_t pcap_ring_dropped; /* packets --pcap-ring could not store (write errors) */
    int64_t first_us, last_us;
    double elapsed_s;
    /* CPU seconds by thread: the reader (with the worker when -t 1 runs it inline), the
     * worker threads together, the writer thread */
    double cpu_reader_s, cpu_workers_s, cpu_writer_s;
    double cpu_deflate_s;  /* the thread that deflates /flows chunks for the writer */
    unsigned input_errors; /* files that could not be read to the end */
    int stop_signal;       /* signal that stopped the run, 0 if none */
    int output_failed;
    int started;           /* setup succeeded and packets were read */
    uint64_t anomalies[4]; /* written, by severity 1 low .. 3 high */
    uint64_t trained_records;
    uint64_t stations_scored; /* base stations a detection run scored (0: not an all-clear) */
    uint64_t memcap;          /* --memcap in bytes */
    uint64_t flow_cap;        /* flows held at most, from --max-flows and the memory cap */
    uint64_t output_files;    /* results files completed by -G before the last one */
    uint64_t reloads;         /* SIGUSR2 reloads applied */
    uint64_t capture_losses;  /* live: times the interface went down or away */
    uint64_t capture_lost_s;  /* ... and the seconds it was away */
    mw_shed_t shed;           /* what the memory parts shed (flows: flows_evicted) */
} mw_run_summary_t;

/* Set by mw_engine_request_stop(); the engine stops reading and writes everything.
 * These are lock-free atomics, not volatile sig_atomic_t: a signal may be handled on any
 * of the run's threads, and the writer thread reads the reload and reopen counters (C11
 * makes lock-free atomics safe in a handler, and only they between threads). */
extern atomic_int mw_engine_stop_signal;

/* Async-signal-safe: asks a running engine to stop (SIGINT/SIGTERM handlers). */
void mw_engine_request_stop(int sig);

/* Counters the SIGHUP and SIGUSR1 handlers bump: the writer thread reopens the
 * --anomalies feed, the reader prints a status line, when they change. */
extern atomic_int mw_engine_reopen_requests, mw_engine_status_requests;
/* SIGUSR2: the writer thread reloads the inventory, the model and the suppressions. */
extern atomic_int mw_engine_reload_requests;
void mw_engine_request_reload(void); /* async-signal-safe */
void mw_engine_request_reopen(void); /* async-signal-safe */
void mw_engine_request_status(void); /* async-signal-safe */

/*
 * Runs analyze or capture. Returns 0 when every input was read and the
 * output written; a negative MW_E* code with a one-line message otherwise
 * (the summary is filled as far as the run got; output already written is
 * kept and valid).
 */
int mw_engine_run(const mw_config_t *cfg, mw_run_summary_t *summary, char *errbuf, size_t errlen);

#endif
