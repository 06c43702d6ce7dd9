/*
 * config.c - command line parsing (getopt_long) into mw_config_t, with a
 * one-line message for every mistake and defaults chosen for a long
 * running capture point: 120 s idle (30 min for open TCP connections),
 * 30 min active timeout, 1M flows.
 */
#include "core/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config_file.h"
#include "core/memcap.h"
#include "core/mw.h"

#define MW_MAX_THREADS         64
#define MW_MAX_DEFLATE_THREADS 16

enum {
    OPT_MAX_FLOWS = 256,
    OPT_IDLE,
    OPT_TCP_IDLE,
    OPT_ACTIVE,
    OPT_INVENTORY,
    OPT_NO_PROGRESS,
    OPT_NO_EXTRA_DISSECTION,
    OPT_NO_VLAN_TRACKING,
    OPT_DEDUP,
    OPT_DEFLATE_THREADS,
    OPT_NO_PROMISC,
    OPT_MODEL,
    OPT_ANOMALIES,
    OPT_SUPPRESS,
    OPT_SYSLOG,
    OPT_WINDOW,
    OPT_MEMCAP,
    OPT_STATUS,
    OPT_PROMETHEUS,
    OPT_CONFIG,
    OPT_PCAP_RING,
    OPT_PCAP_RING_SIZE,
    OPT_PCAP_RING_AGE,
    OPT_READERS,
};

static const char usage_overview[] =
        "usage: mastwatch COMMAND [options]\n"
        "\n"
        "commands:\n"
        "  analyze [options] FILE...     read pcap/pcapng files in order\n"
        "  capture -i IFACE [options]    capture live from an interface\n"
        "  inventory check FILE          validate a site inventory\n"
        "  train --inventory SITE -o MODEL.h5 INPUT...\n"
        "                                learn the baseline from clean captures or results files\n"
        "  model show MODEL.h5           summarise a model\n"
        "  model merge -o OUT.h5 MODEL.h5...  merge models (sums, as if trained together)\n"
        "  recover FILE.h5.partial       complete the results of a run that was killed\n"
        "  batch --config B.yaml -o OUTDIR SPOOL...\n"
        "                                nightly run over a spool of captures (per-site\n"
        "                                inventory/model, resumable, parallel, one index)\n"
        "  extract --results RUN.h5 --anomaly ID -o OUT.pcap [SOURCE...]\n"
        "                                write the packets of an anomaly, a flow or a time range\n"
        "\n"
        "  mastwatch help COMMAND        options of one command (or COMMAND --help)\n"
        "Options may come before or after file names; `--` ends them.\n"
        "  mastwatch --version           versions of mastwatch, nDPI, libpcap\n";

static const char usage_common[] =
        "  -o, --output FILE.h5     write flows and statistics to HDF5 (FILE.h5.partial until "
        "done)\n"
        "  -t, --threads N          worker threads, each with its own flow table and nDPI (default "
        "1)\n"
        "      --deflate-threads N  threads that compress /flows chunks, one chunk in flight "
        "each\n"
        "                           (default: 1, and one more per 8 cores up to 4)\n"
        "  -f, --filter EXPR        BPF filter\n"
        "      --inventory FILE     site inventory (YAML): base stations, roles, planes\n"
        "      --max-flows N        flow table cap; the least recently used flow is evicted "
        "(default 1000000)\n"
        "      --memcap SIZE        memory cap in bytes (K/M/G suffixes; default 2G): flows, "
        "tunnels,\n"
        "                           detection state; what would pass it is shed and counted\n"
        "      --idle-timeout SEC   end a flow after SEC without packets (default 120)\n"
        "      --tcp-idle-timeout SEC  the same for TCP connections not closed by FIN/RST\n"
        "                           (default 1800: management sessions idle between file "
        "transfers)\n"
        "      --active-timeout SEC split a flow's record every SEC (default 1800)\n"
        "      --no-extra-dissection  stop nDPI at a flow's application: faster, but the risks\n"
        "                           nDPI finds later (TLS certificate and cipher, SSH server,\n"
        "                           DNS answers) are not found (README, Performance)\n"
        "      --no-vlan-tracking   a flow is its addresses and ports in any VLAN: for a\n"
        "                           SPAN port that tags each direction with its own VLAN\n"
        "      --dedup              drop a copy of an IP packet seen within 2 ms (a SPAN port\n"
        "                           mirroring both sides of a link); copies are counted anyway\n"
        "      --model MODEL.h5     score traffic against a learned baseline (needs --inventory)\n"
        "      --anomalies FILE     also write anomalies as JSON lines (- = stdout)\n"
        "      --syslog             also send each anomaly to syslog\n"
        "      --suppress FILE      known-good: lines 'DETECTOR BASE-STATION PEER' (* = any)\n"
        "      --status SEC         a status line on stderr every SEC (also on SIGUSR1): "
        "packets/s,\n"
        "                           drops, malformed, flows in memory, anomalies, detection lag\n"
        "      --prometheus FILE    write the same as a Prometheus textfile (node-exporter) "
        "with\n"
        "                           each status (every 15 s without --status)\n"
        "      --config FILE        settings from YAML (long option: value); the command line "
        "wins\n"
        "  -q, --quiet              no progress, no summary\n"
        "      --no-progress        no progress line\n"
        "  -h, --help               this help\n";

static const char usage_analyze_head[] =
        "usage: mastwatch analyze [options] FILE...\n"
        "Reads pcap and pcapng files in the given order as one capture.\n\n"
        "      --readers N          N threads read each plain pcap file ahead, byte ranges\n"
        "                           each; one thread puts the packets back in file order, so\n"
        "                           the results are libpcap's alone (default 1, or 0 when\n"
        "                           the process may use one CPU only; 0: libpcap reads on\n"
        "                           the analysing thread; pcapng, compressed files and stdin\n"
        "                           are always read that way)\n";

static const char usage_capture_head[] =
        "usage: mastwatch capture -i IFACE [options]\n"
        "Captures live; SIGINT/SIGTERM stop cleanly with everything written, SIGHUP reopens\n"
        "the --anomalies feed (after logrotate), SIGUSR1 prints a status line.\n\n"
        "  -i, --interface IFACE    interface to capture on\n"
        "  -s, --snaplen N          bytes kept per packet (default 262144)\n"
        "  -B, --buffer-size MB     kernel ring buffer (default 64)\n"
        "  -d, --duration SEC       stop after SEC seconds\n"
        "  -c, --count N            stop after N packets\n"
        "  -Z, --user USER          drop root privileges to USER once the interface is open\n"
        "                           (before any file is read or written: -o, --anomalies,\n"
        "                           --prometheus must be in directories USER can write)\n"
        "  -o NAME-%Y%m%d-%H%M%S.h5  names the file by the start time (strftime)\n"
        "  -G, --rotate SEC         a new results file every SEC (name from the -o pattern);\n"
        "                           each is complete when the next starts\n"
        "      --readers N          N reader threads share the interface (PACKET_FANOUT by\n"
        "                           flow); GTP-U still spreads over the workers by the inner\n"
        "                           flow (default 1)\n"
        "      --no-promisc         do not put the interface in promiscuous mode\n"
        "      --pcap-ring DIR      also keep every packet read in a rolling pcap store in DIR:\n"
        "                           ring-YYYYmmdd-HHMMSS.pcap (UTC start), nanosecond pcap,\n"
        "                           for 'mastwatch extract --ring DIR'\n"
        "      --pcap-ring-size SIZE  total size of the store (K/M/G; at least 1M): files of\n"
        "                           SIZE/16 (64 MB at most), the oldest deleted first\n"
        "      --pcap-ring-age DURATION  also delete files older than DURATION (s, m, h, d)\n";

static const char usage_extract[] =
        "usage: mastwatch extract --results RUN.h5 --anomaly ID -o OUT.pcap [SOURCE...]\n"
        "       mastwatch extract --results RUN.h5 --flow FLOW_ID -o OUT.pcap [SOURCE...]\n"
        "       mastwatch extract --from TIME --to TIME [--filter BPF] -o OUT.pcap SOURCE...\n"
        "Writes the packets of an anomaly (every packet of the flows it links, both\n"
        "directions, from 1 s before its start to 1 s after its end), of one flow record,\n"
        "or of a time range to a pcap file (nanosecond timestamps) for Wireshark. Flows in\n"
        "GTP-U are matched on their inner 5-tuple: the tunnel packets are written.\n"
        "SOURCE: the capture files of the run (default: the results' `sources` when they\n"
        "still exist), or --ring DIR, the --pcap-ring store of a live capture.\n\n"
        "      --results RUN.h5     results file of analyze or capture\n"
        "      --anomaly ID         anomaly_id in /anomalies\n"
        "      --flow FLOW_ID       flow_id in /flows\n"
        "      --from TIME          start of a time range: epoch seconds (1794187802.5) or UTC\n"
        "      --to TIME            ISO 8601 (2026-11-09T01:30:02Z, fractions allowed)\n"
        "  -f, --filter BPF         only packets this BPF filter passes\n"
        "      --ring DIR           read the pcap ring in DIR instead of capture files\n"
        "  -o, --output OUT.pcap    output; an existing file is refused without --force\n"
        "      --force              overwrite OUT.pcap\n"
        "  -q, --quiet              no summary lines\n"
        "Exit status: 0 written, 1 failed (no such anomaly, sources missing, nothing\n"
        "matched, ...), 2 usage.\n";

const char *mw_config_usage(enum mw_command command)
{
    static char buf[8192];

    switch (command) {
        case MW_CMD_ANALYZE:
            snprintf(buf, sizeof(buf), "%s%s", usage_analyze_head, usage_common);
            return buf;
        case MW_CMD_CAPTURE:
            snprintf(buf, sizeof(buf), "%s%s", usage_capture_head, usage_common);
            return buf;
        case MW_CMD_INVENTORY_CHECK:
            return "usage: mastwatch inventory check FILE\n"
                   "Validates a site inventory and prints a summary.\n";
        case MW_CMD_TRAIN:
            return "usage: mastwatch train --inventory SITE.yaml -o MODEL.h5 [options] INPUT...\n"
                   "Learns each base station's normal traffic from clean inputs: pcap/pcapng\n"
                   "captures, or mastwatch results files (.h5, no packets re-read).\n\n"
                   "      --window SEC         feature window (default 300)\n"
                   "  -t, --threads N          workers when reading captures\n"
                   "  -q, --quiet              no progress, no summary\n";
        case MW_CMD_RECOVER:
            return "usage: mastwatch recover [-q] FILE.h5.partial\n"
                   "Completes the .partial a killed, crashed or failed run left into FILE.h5\n"
                   "(complete=0, recovered=1): every flow row up to the run's last flush.\n"
                   "The .partial is removed once FILE.h5 is in place; an existing FILE.h5 is\n"
                   "never replaced.\n";
        case MW_CMD_EXTRACT:
            return usage_extract;
        case MW_CMD_MODEL_SHOW:
        case MW_CMD_MODEL_MERGE:
            return "usage: mastwatch model show MODEL.h5\n"
                   "       mastwatch model merge -o OUT.h5 MODEL.h5 MODEL.h5...\n";
        default:
            return usage_overview;
    }
}

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out,
        char *errbuf, size_t errlen)
{
    char *end;
    unsigned long long v;

    errno = 0;
    if (s == NULL || *s == '\0' || *s == '-')
        goto bad;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        goto bad;
    *out = v;
    return 0;
bad:
    mw_fmt_err(errbuf, errlen, "%s: expected a whole number from %llu to %llu, got '%s'", opt,
            (unsigned long long)min, (unsigned long long)max, s ? s : "");
    return MW_EINVAL;
}

/* "512M", "2G", "1048576": bytes, suffixes in powers of 1024. */
static int parse_bytes(
        const char *opt, const char *s, uint64_t min, uint64_t *out, char *errbuf, size_t errlen)
{
    char *end;
    unsigned long long v;
    uint64_t mult = 1;

    errno = 0;
    if (s == NULL || *s < '0' || *s > '9')
        goto bad;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        goto bad;
    if (*end == 'K' || *end == 'k')
        mult = 1ULL << 10;
    else if (*end == 'M' || *end == 'm')
        mult = 1ULL << 20;
    else if (*end == 'G' || *end == 'g')
        mult = 1ULL << 30;
    else if (*end == 'T' || *end == 't')
        mult = 1ULL << 40;
    if (mult != 1)
        end++;
    if (*end != '\0' || v > UINT64_MAX / mult || v * mult < min)
        goto bad;
    *out = v * mult;
    return 0;
bad:
    mw_fmt_err(errbuf, errlen, "%s: expected a size of at least %llu MB (e.g. 512M, 2G), got '%s'",
            opt, (unsigned long long)(min >> 20), s ? s : "");
    return MW_EINVAL;
}

/* "90", "90s", "30m", "24h", "7d": seconds. */
static int parse_duration(const char *opt, const char *s, int64_t *out, char *errbuf, size_t errlen)
{
    char *end;
    unsigned long long v;
    int64_t mult = 1;

    errno = 0;
    if (s == NULL || *s < '0' || *s > '9')
        goto bad;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        goto bad;
    if (*end == 'm')
        mult = 60;
    else if (*end == 'h')
        mult = 3600;
    else if (*end == 'd')
        mult = 86400;
    if (*end == 's' || mult != 1)
        end++;
    if (*end != '\0' || v == 0 || v > (unsigned long long)(100LL * 365 * 86400) / (uint64_t)mult)
        goto bad;
    *out = (int64_t)v * mult;
    return 0;
bad:
    mw_fmt_err(errbuf, errlen, "%s: expected a duration (e.g. 3600, 90m, 24h, 7d), got '%s'", opt,
            s ? s : "");
    return MW_EINVAL;
}

static void set_defaults(mw_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->threads = 1;
    cfg->readers = 1;
    cfg->extra_dissection = 1;
    cfg->vlan_tracking = 1;
    cfg->max_flows = 1000000;
    cfg->memcap = MW_MEMCAP_DEFAULT;
    cfg->idle_timeout_us = 120LL * 1000000;
    cfg->tcp_idle_timeout_us = 1800LL * 1000000;
    cfg->active_timeout_us = 1800LL * 1000000;
    cfg->promisc = 1;
    cfg->progress = 1;
    cfg->window_us = 300LL * 1000000;
}

static void record_command_line(mw_config_t *cfg, int argc, char **argv)
{
    size_t used = 0;
    int i;

    for (i = 0; i < argc && used + 1 < sizeof(cfg->command_line); i++) {
        int n = snprintf(cfg->command_line + used, sizeof(cfg->command_line) - used, "%s%s",
                i ? " " : "", argv[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static const struct option longopts[] = {
    { "output", required_argument, NULL, 'o' },
    { "rotate", required_argument, NULL, 'G' },
    { "config", required_argument, NULL, OPT_CONFIG },
    { "pcap-ring", required_argument, NULL, OPT_PCAP_RING },
    { "pcap-ring-size", required_argument, NULL, OPT_PCAP_RING_SIZE },
    { "pcap-ring-age", required_argument, NULL, OPT_PCAP_RING_AGE },
    { "threads", required_argument, NULL, 't' },
    { "deflate-threads", required_argument, NULL, OPT_DEFLATE_THREADS },
    { "readers", required_argument, NULL, OPT_READERS },
    { "filter", required_argument, NULL, 'f' },
    { "interface", required_argument, NULL, 'i' },
    { "snaplen", required_argument, NULL, 's' },
    { "buffer-size", required_argument, NULL, 'B' },
    { "duration", required_argument, NULL, 'd' },
    { "count", required_argument, NULL, 'c' },
    { "user", required_argument, NULL, 'Z' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
    { "memcap", required_argument, NULL, OPT_MEMCAP },
    { "idle-timeout", required_argument, NULL, OPT_IDLE },
    { "tcp-idle-timeout", required_argument, NULL, OPT_TCP_IDLE },
    { "active-timeout", required_argument, NULL, OPT_ACTIVE },
    { "inventory", required_argument, NULL, OPT_INVENTORY },
    { "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
    { "no-extra-dissection", no_argument, NULL, OPT_NO_EXTRA_DISSECTION },
    { "no-vlan-tracking", no_argument, NULL, OPT_NO_VLAN_TRACKING },
    { "dedup", no_argument, NULL, OPT_DEDUP },
    { "no-promisc", no_argument, NULL, OPT_NO_PROMISC },
    { "model", required_argument, NULL, OPT_MODEL },
    { "anomalies", required_argument, NULL, OPT_ANOMALIES },
    { "suppress", required_argument, NULL, OPT_SUPPRESS },
    { "syslog", no_argument, NULL, OPT_SYSLOG },
    { "window", required_argument, NULL, OPT_WINDOW },
    { "status", required_argument, NULL, OPT_STATUS },
    { "prometheus", required_argument, NULL, OPT_PROMETHEUS },
    { NULL, 0, NULL, 0 },
};

/* For --config files: 1 the option takes a value, 0 a flag, -1 no such long option. */
static int option_takes_value(const char *name)
{
    size_t i;

    for (i = 0; longopts[i].name != NULL; i++)
        if (strcmp(longopts[i].name, name) == 0)
            return longopts[i].has_arg == required_argument;
    return -1;
}

static int parse_options(mw_config_t *cfg, int argc, char **argv, char *errbuf, size_t errlen)
{
    int live = cfg->command == MW_CMD_CAPTURE;
    uint64_t v = 0;
    int c;

    /* 0, not 1: glibc resets its permutation state, and options may follow file
     * names (GNU permutation; `--` ends the options) */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, live ? "o:t:f:i:s:B:d:c:Z:G:qh" : "o:t:f:qh", longopts,
                    NULL)) != -1) {
        int rc = 0;
        switch (c) {
            case 'o':
                cfg->output = optarg;
                break;
            case 'f':
                cfg->filter = optarg;
                break;
            case 'i':
                cfg->iface = optarg;
                break;
            case 'Z':
                cfg->drop_user = optarg;
                break;
            case 'q':
                cfg->quiet = 1;
                cfg->progress = 0;
                break;
            case 'h':
                return 1;
            case OPT_INVENTORY:
                cfg->inventory = optarg;
                break;
            case OPT_NO_EXTRA_DISSECTION:
                cfg->extra_dissection = 0;
                break;
            case OPT_NO_VLAN_TRACKING:
                cfg->vlan_tracking = 0;
                break;
            case OPT_DEDUP:
                cfg->dedup = 1;
                break;
            case OPT_NO_PROGRESS:
                cfg->progress = 0;
                break;
            case OPT_NO_PROMISC:
                cfg->promisc = 0;
                break;
            case OPT_MODEL:
                cfg->model = optarg;
                break;
            case OPT_ANOMALIES:
                cfg->anomalies = optarg;
                break;
            case OPT_SUPPRESS:
                cfg->suppress = optarg;
                break;
            case OPT_SYSLOG:
                cfg->syslog = 1;
                break;
            case OPT_STATUS:
                rc = parse_u64("--status", optarg, 1, 86400, &v, errbuf, errlen);
                cfg->status_s = (unsigned)v;
                break;
            case OPT_PROMETHEUS:
                cfg->prometheus = optarg;
                break;
            case OPT_CONFIG:
                break; /* read before parsing (with_config_file) */
            case OPT_PCAP_RING:
                cfg->pcap_ring = optarg;
                break;
            case OPT_PCAP_RING_SIZE:
                rc = parse_bytes("--pcap-ring-size", optarg, 1ULL << 20, &cfg->pcap_ring_size,
                        errbuf, errlen);
                break;
            case OPT_PCAP_RING_AGE:
                rc = parse_duration(
                        "--pcap-ring-age", optarg, &cfg->pcap_ring_age_s, errbuf, errlen);
                break;
            case OPT_WINDOW:
                rc = parse_u64("--window", optarg, 10, 86400, &v, errbuf, errlen);
                cfg->window_us = (int64_t)v * 1000000;
                break;
            case 't':
                rc = parse_u64("--threads", optarg, 1, MW_MAX_THREADS, &v, errbuf, errlen);
                cfg->threads = (unsigned)v;
                break;
            case OPT_DEFLATE_THREADS:
                rc = parse_u64(
                        "--deflate-threads", optarg, 1, MW_MAX_DEFLATE_THREADS, &v, errbuf, errlen);
                cfg->deflate_threads = (unsigned)v;
                break;
            case OPT_READERS:
                rc = parse_u64("--readers", optarg, 0, MW_MAX_THREADS, &v, errbuf, errlen);
                cfg->readers = (unsigned)v;
                cfg->readers_given = 1;
                break;
            case 's':
                rc = parse_u64("--snaplen", optarg, 64, 262144, &v, errbuf, errlen);
                cfg->snaplen = (int)v;
                break;
            case 'B':
                /* libpcap takes the size in bytes as an int: 2047 MB at most */
                rc = parse_u64("--buffer-size", optarg, 1, 2047, &v, errbuf, errlen);
                cfg->buffer_mb = (int)v;
                break;
            case 'd':
                rc = parse_u64("--duration", optarg, 1, 100LL * 365 * 86400, &v, errbuf, errlen);
                cfg->duration_us = (int64_t)v * 1000000;
                break;
            case 'c':
                rc = parse_u64("--count", optarg, 1, UINT64_MAX, &v, errbuf, errlen);
                cfg->max_packets = v;
                break;
            case 'G':
                rc = parse_u64("-G", optarg, 1, 7 * 86400, &v, errbuf, errlen);
                cfg->rotate_s = (unsigned)v;
                break;
            case OPT_MAX_FLOWS:
                rc = parse_u64("--max-flows", optarg, 16, 100000000, &v, errbuf, errlen);
                cfg->max_flows = (uint32_t)v;
                break;
            case OPT_MEMCAP:
                rc = parse_bytes("--memcap", optarg, MW_MEMCAP_MIN, &cfg->memcap, errbuf, errlen);
                break;
            case OPT_IDLE:
                rc = parse_u64("--idle-timeout", optarg, 1, 86400, &v, errbuf, errlen);
                cfg->idle_timeout_us = (int64_t)v * 1000000;
                break;
            case OPT_TCP_IDLE:
                rc = parse_u64("--tcp-idle-timeout", optarg, 1, 7 * 86400, &v, errbuf, errlen);
                cfg->tcp_idle_timeout_us = (int64_t)v * 1000000;
                break;
            case OPT_ACTIVE:
                rc = parse_u64("--active-timeout", optarg, 1, 7 * 86400, &v, errbuf, errlen);
                cfg->active_timeout_us = (int64_t)v * 1000000;
                cfg->active_timeout_set = 1;
                break;
            case ':':
                mw_fmt_err(errbuf, errlen, "option %s needs a value", argv[optind - 1]);
                return MW_EINVAL;
            default:
                mw_fmt_err(errbuf, errlen, "unknown option '%s' (see 'mastwatch help %s')",
                        argv[optind - 1], mw_command_name(cfg->command));
                return MW_EINVAL;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

static const struct {
    const char *name, *sub;
    enum mw_command command;
} command_names[] = {
    { "analyze", NULL, MW_CMD_ANALYZE },
    { "capture", NULL, MW_CMD_CAPTURE },
    { "train", NULL, MW_CMD_TRAIN },
    { "inventory", NULL, MW_CMD_INVENTORY_CHECK },
    { "inventory", "check", MW_CMD_INVENTORY_CHECK },
    { "model", NULL, MW_CMD_MODEL_SHOW },
    { "model", "show", MW_CMD_MODEL_SHOW },
    { "model", "merge", MW_CMD_MODEL_MERGE },
    { "recover", NULL, MW_CMD_RECOVER },
    { "batch", NULL, MW_CMD_BATCH },
    { "extract", NULL, MW_CMD_EXTRACT },
};

/* "model merge" -> MW_CMD_MODEL_MERGE; sub may be NULL; MW_CMD_NONE when unknown. */
static enum mw_command command_by_name(const char *name, const char *sub)
{
    enum mw_command found = MW_CMD_NONE;
    size_t i;

    for (i = 0; i < sizeof(command_names) / sizeof(command_names[0]); i++) {
        if (strcmp(command_names[i].name, name) != 0)
            continue;
        if (command_names[i].sub == NULL && found == MW_CMD_NONE)
            found = command_names[i].command;
        else if (sub != NULL && command_names[i].sub != NULL &&
                 strcmp(command_names[i].sub, sub) == 0)
            return command_names[i].command;
    }
    return found;
}

const char *mw_command_name(enum mw_command command)
{
    size_t i;

    for (i = 0; i < sizeof(command_names) / sizeof(command_names[0]); i++)
        if (command_names[i].command == command)
            return command_names[i].name;
    return "";
}

/* -h/--help anywhere among the arguments (before a lone `--`) */
static int asks_help(int argc, char **argv)
{
    int i;

    for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

/*
 * --config FILE: its settings become options placed before the command
 * line's, so what is typed wins. The new argument vector lives in cfg
 * (mw_config_free) because cfg's strings point into it.
 */
static int with_config_file(mw_config_t *cfg, int *argc, char ***argv, char *errbuf, size_t errlen)
{
    const char *path = NULL;
    char **out;
    int i, n = 0, rc;

    for (i = 2; i < *argc && strcmp((*argv)[i], "--") != 0; i++) {
        if (strcmp((*argv)[i], "--config") == 0 && i + 1 < *argc)
            path = (*argv)[i + 1];
        else if (strncmp((*argv)[i], "--config=", 9) == 0)
            path = (*argv)[i] + 9;
    }
    if (path == NULL)
        return 0;
    rc = mw_config_file_load(path, option_takes_value, &cfg->config_args, errbuf, errlen);
    if (rc != 0)
        return rc;
    out = calloc((size_t)*argc + cfg->config_args.argc + 1, sizeof(*out));
    if (out == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    out[n++] = (*argv)[0];
    out[n++] = (*argv)[1];
    for (i = 0; i < (int)cfg->config_args.argc; i++)
        out[n++] = cfg->config_args.argv[i];
    for (i = 2; i < *argc; i++)
        out[n++] = (*argv)[i];
    cfg->config_argv = out;
    *argc = n;
    *argv = out;
    return 0;
}

void mw_config_free(mw_config_t *cfg)
{
    free(cfg->config_argv);
    cfg->config_argv = NULL;
    mw_config_args_free(&cfg->config_args);
}

int mw_config_parse(mw_config_t *cfg, int argc, char **argv, char *errbuf, size_t errlen)
{
    const char *cmd;
    int rc;

    set_defaults(cfg);
    record_command_line(cfg, argc, argv);
    if (argc < 2) {
        mw_fmt_err(errbuf, errlen, "no command given (try 'mastwatch --help')");
        return MW_EINVAL;
    }
    cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        cfg->command = MW_CMD_HELP;
        if (argc >= 3 && strcmp(cmd, "help") == 0) { /* help COMMAND [SUBCOMMAND] */
            cfg->help_for = command_by_name(argv[2], argc >= 4 ? argv[3] : NULL);
            if (cfg->help_for == MW_CMD_NONE) {
                mw_fmt_err(
                        errbuf, errlen, "help: no command '%s' (try 'mastwatch --help')", argv[2]);
                return MW_EINVAL;
            }
        }
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0) {
        cfg->command = MW_CMD_VERSION;
        return 0;
    }
    if (strcmp(cmd, "batch") == 0) { /* own options: analyzer/batch/batch_opts.c */
        cfg->command = MW_CMD_BATCH;
        return 0;
    }
    if (strcmp(cmd, "inventory") == 0) {
        if (asks_help(argc - 2, argv + 2)) {
            cfg->help_for = MW_CMD_INVENTORY_CHECK;
            cfg->command = MW_CMD_HELP;
            return 0;
        }
        if (argc != 4 || strcmp(argv[2], "check") != 0) {
            mw_fmt_err(errbuf, errlen, "usage: mastwatch inventory check FILE");
            return MW_EINVAL;
        }
        cfg->command = MW_CMD_INVENTORY_CHECK;
        cfg->inventory = argv[3];
        return 0;
    }
    if (strcmp(cmd, "recover") == 0) {
        int i, quiet = 0;
        const char *file = NULL;
        for (i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                cfg->help_for = MW_CMD_RECOVER;
                cfg->command = MW_CMD_HELP;
                return 0;
            }
            if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
                quiet = 1;
            else if (file == NULL && (argv[i][0] != '-' || argv[i][1] == '\0'))
                file = argv[i];
            else {
                file = NULL;
                break;
            }
        }
        if (file == NULL || i < argc) {
            mw_fmt_err(errbuf, errlen, "usage: mastwatch recover [-q] FILE.h5.partial");
            return MW_EINVAL;
        }
        cfg->command = MW_CMD_RECOVER;
        cfg->recover = file;
        cfg->quiet = quiet;
        return 0;
    }
    if (strcmp(cmd, "model") == 0) {
        if (asks_help(argc - 2, argv + 2)) {
            cfg->help_for = argc >= 3 && strcmp(argv[2], "merge") == 0 ? MW_CMD_MODEL_MERGE
                                                                       : MW_CMD_MODEL_SHOW;
            cfg->command = MW_CMD_HELP;
            return 0;
        }
        if (argc >= 3 && strcmp(argv[2], "show") == 0 && argc == 4) {
            cfg->command = MW_CMD_MODEL_SHOW;
            cfg->model = argv[3];
            return 0;
        }
        if (argc >= 3 && strcmp(argv[2], "merge") == 0) {
            cfg->command = MW_CMD_MODEL_MERGE;
            rc = parse_options(cfg, argc - 2, argv + 2, errbuf, errlen);
            if (rc != 0)
                return rc < 0 ? rc : MW_EINVAL;
            cfg->files = (const char *const *)(argv + 2 + optind);
            cfg->nfiles = (size_t)(argc - 2 - optind);
            if (cfg->output == NULL || cfg->nfiles < 1) {
                mw_fmt_err(errbuf, errlen, "usage: mastwatch model merge -o OUT.h5 MODEL.h5...");
                return MW_EINVAL;
            }
            return 0;
        }
        mw_fmt_err(errbuf, errlen,
                "usage: mastwatch model show MODEL.h5 | model merge -o OUT.h5 MODEL.h5...");
        return MW_EINVAL;
    }
    if (strcmp(cmd, "extract") == 0) { /* its options: engine/extract_args.c */
        cfg->command = asks_help(argc - 2, argv + 2) ? MW_CMD_HELP : MW_CMD_EXTRACT;
        cfg->help_for = MW_CMD_EXTRACT;
        cfg->argc = argc - 1;
        cfg->argv = argv + 1;
        return 0;
    }
    rc = with_config_file(cfg, &argc, &argv, errbuf, errlen);
    if (rc != 0)
        return rc;
    if (strcmp(cmd, "analyze") == 0)
        cfg->command = MW_CMD_ANALYZE;
    else if (strcmp(cmd, "train") == 0)
        cfg->command = MW_CMD_TRAIN;
    else if (strcmp(cmd, "capture") == 0)
        cfg->command = MW_CMD_CAPTURE;
    else {
        mw_fmt_err(errbuf, errlen, "unknown command '%s' (try 'mastwatch --help')", cmd);
        return MW_EINVAL;
    }

    rc = parse_options(cfg, argc - 1, argv + 1, errbuf, errlen);
    if (rc == 1) { /* --help after a command */
        cfg->help_for = cfg->command;
        cfg->command = MW_CMD_HELP;
        return 0;
    }
    if (rc != 0)
        return rc;
    cfg->files = (const char *const *)(argv + 1 + optind);
    cfg->nfiles = (size_t)(argc - 1 - optind);
    if (cfg->command == MW_CMD_ANALYZE && cfg->nfiles == 0) {
        mw_fmt_err(errbuf, errlen, "analyze: no capture file given");
        return MW_EINVAL;
    }
    if (cfg->command == MW_CMD_TRAIN &&
            (cfg->nfiles == 0 || cfg->output == NULL || cfg->inventory == NULL)) {
        mw_fmt_err(errbuf, errlen, "train: needs --inventory SITE.yaml, -o MODEL.h5 and inputs");
        return MW_EINVAL;
    }
    if (cfg->model != NULL && cfg->inventory == NULL) {
        mw_fmt_err(errbuf, errlen, "--model needs --inventory (the model is per base station)");
        return MW_EINVAL;
    }
    if (cfg->rotate_s && cfg->command != MW_CMD_CAPTURE) {
        mw_fmt_err(errbuf, errlen, "-G/--rotate is for capture (a live run)");
        return MW_EINVAL;
    }
    if (cfg->rotate_s && (cfg->output == NULL || strchr(cfg->output, '%') == NULL)) {
        mw_fmt_err(errbuf, errlen,
                "-G needs -o with a strftime pattern naming each file, e.g. "
                "-o live-%%Y%%m%%d-%%H%%M%%S.h5");
        return MW_EINVAL;
    }
    cfg->output_pattern = cfg->output;
    if (cfg->command == MW_CMD_CAPTURE && cfg->output != NULL && strchr(cfg->output, '%')) {
        /* as tcpdump -w: a service names each start's file by its time (%Y%m%d-%H%M%S) */
        time_t now = time(NULL);
        struct tm tm;
        size_t n = localtime_r(&now, &tm) != NULL
                           ? strftime(cfg->output_name, sizeof(cfg->output_name), cfg->output, &tm)
                           : 0;
        if (n == 0) {
            mw_fmt_err(errbuf, errlen, "-o %s: not a usable strftime pattern", cfg->output);
            return MW_EINVAL;
        }
        cfg->output = cfg->output_name;
    }
    if ((cfg->pcap_ring != NULL || cfg->pcap_ring_size != 0 || cfg->pcap_ring_age_s != 0) &&
            (cfg->command != MW_CMD_CAPTURE || cfg->pcap_ring == NULL ||
                    cfg->pcap_ring_size == 0)) {
        mw_fmt_err(errbuf, errlen,
                "--pcap-ring DIR --pcap-ring-size SIZE [--pcap-ring-age D]: "
                "capture only, DIR and SIZE together");
        return MW_EINVAL;
    }
    if (cfg->readers == 0 && cfg->command != MW_CMD_ANALYZE) {
        mw_fmt_err(errbuf, errlen, "--readers 0: analyze only (a capture needs a reader)");
        return MW_EINVAL;
    }
    if (cfg->readers > 1 && ((cfg->command != MW_CMD_CAPTURE && cfg->command != MW_CMD_ANALYZE) ||
                                    cfg->pcap_ring != NULL)) {
        mw_fmt_err(errbuf, errlen,
                "--readers N: capture and analyze only, and not with --pcap-ring "
                "(the store is written by one reader)");
        return MW_EINVAL;
    }
    if (cfg->command == MW_CMD_CAPTURE) {
        if (cfg->iface == NULL) {
            mw_fmt_err(errbuf, errlen, "capture: -i IFACE is required");
            return MW_EINVAL;
        }
        if (cfg->nfiles != 0) {
            mw_fmt_err(errbuf, errlen, "capture: unexpected argument '%s'", cfg->files[0]);
            return MW_EINVAL;
        }
        cfg->files = NULL;
    }
    return 0;
}
