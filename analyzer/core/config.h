/*
 * config.h - the run configuration, filled from the command line by
 * mw_config_parse(). Pure data: no module reads argv itself.
 */
#ifndef MW_CONFIG_H
#define MW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/config_file.h"

enum mw_command {
    MW_CMD_NONE = 0,
    MW_CMD_HELP,
    MW_CMD_VERSION,
    MW_CMD_ANALYZE,
    MW_CMD_CAPTURE,
    MW_CMD_INVENTORY_CHECK,
    MW_CMD_TRAIN,
    MW_CMD_MODEL_SHOW,
    MW_CMD_MODEL_MERGE,
    MW_CMD_RECOVER,
    MW_CMD_BATCH, /* argv goes to mw_batch_main() as it is */
    MW_CMD_EXTRACT,
};

typedef struct mw_config {
    enum mw_command command;
    enum mw_command help_for; /* with MW_CMD_HELP: which command's options */
    const char *const *files; /* analyze inputs (points into argv) */
    size_t nfiles;
    const char *iface;        /* capture -i */
    const char *output;       /* -o FILE.h5, NULL = no file */
    const char *filter;       /* -f BPF */
    const char *inventory;    /* --inventory FILE */
    const char *drop_user;    /* -Z USER */
    const char *model;        /* --model FILE (analyze/capture), model show FILE */
    const char *recover;      /* recover FILE.h5.partial */
    const char *anomalies;    /* --anomalies FILE or - (JSON lines) */
    const char *suppress;     /* --suppress FILE */
    int syslog;               /* --syslog */
    unsigned status_s;        /* --status SEC: a status line every SEC (0 = only on SIGUSR1) */
    const char *prometheus;   /* --prometheus FILE: node-exporter textfile, with each status */
    int64_t window_us;        /* --window (train) */
    int active_timeout_set;   /* --active-timeout given (else = window with a model) */
    unsigned threads;         /* workers */
    unsigned deflate_threads; /* --deflate-threads (0: 1 + 1 per 8 usable cores, at most 4) */
    int extra_dissection;     /* 0: nDPI stops at a flow's application (--no-extra-dissection) */
    int vlan_tracking;        /* 0: the VLAN id is no part of a flow's key (--no-vlan-tracking) */
    int dedup;                /* --dedup: copies of a packet seen just before are dropped */
    unsigned readers;  /* capture: reader threads in one PACKET_FANOUT group; analyze: threads
                        * reading each plain pcap file ahead (0: libpcap, inline) */
    int readers_given; /* --readers was given (analyze's default depends on the usable CPUs) */
    uint32_t max_flows;
    uint64_t memcap; /* --memcap bytes: every growing structure's part (core/memcap.h) */
    int64_t idle_timeout_us, active_timeout_us;
    /* records cut at multiples of the active timeout in packet time, not that long after
     * their start: set by the engine when the timeout is the baseline's window */
    int active_aligned;
    int64_t tcp_idle_timeout_us; /* open TCP connections (no FIN/RST yet) */
    int snaplen, buffer_mb, promisc;
    uint64_t max_packets; /* -c, 0 = no limit */
    int64_t duration_us;  /* -d, 0 = no limit */
    int quiet;
    int progress;                 /* show progress when stderr is a terminal */
    char command_line[1024];      /* as typed, for the output file */
    char output_name[4096];       /* capture: -o with strftime(3) patterns expanded at start */
    const char *output_pattern;   /* capture: -o as given (strftime patterns), for -G */
    mw_config_args_t config_args; /* --config FILE's settings as options */
    char **config_argv;           /* the argument vector with them (cfg points into it) */
    unsigned rotate_s;            /* capture -G SEC: a new results file every SEC (0 = one) */
    const char *pcap_ring;        /* capture --pcap-ring DIR: rolling pcap store */
    uint64_t pcap_ring_size;      /* --pcap-ring-size bytes */
    int64_t pcap_ring_age_s;      /* --pcap-ring-age, 0 = no age limit */
    int argc;                     /* extract: its own arguments (after the command name) */
    char **argv;
    /* this program, run as a fresh process to probe a file while the run's threads work
     * (h5_model.h); main.c sets it, NULL forks the probe (a process of one thread only) */
    const char *self_exe;
} mw_config_t;

/*
 * Parses argv. Returns 0, or MW_EINVAL with a one-line message (usage
 * errors). For --help/--version sets command and returns 0.
 */
int mw_config_parse(mw_config_t *cfg, int argc, char **argv, char *errbuf, size_t errlen);

/* Frees what --config allocated (cfg's strings may point into it). */
void mw_config_free(mw_config_t *cfg);

/* The command's name as typed ("analyze", "model" for model show/merge). */
const char *mw_command_name(enum mw_command command);

/* Help text for a command (MW_CMD_NONE = overview). */
const char *mw_config_usage(enum mw_command command);

#endif
