/*
 * capture_pcap.c - libpcap behind mw_capture_t; with pcap_split.c the only
 * files that call libpcap. Offline inputs are opened one after the other
 * with microsecond timestamps (pcap and pcapng alike, plain or gzip/zstd
 * compressed: capture_decomp.c; with read_threads a plain pcap file is read
 * by pcap_split.c, libpcap taking over wherever it would not pass a record
 * through unchanged); a file that fails to open or breaks mid-way is
 * reported and the next file follows. Live capture uses
 * pcap_create/activate so the kernel ring size (TPACKET_V3) can be set;
 * immediate mode is left off because it forces the slower TPACKET_V2. With
 * TPACKET_V3 a quiet link never returns from the read, so the engine wakes
 * it with mw_capture_break() (pcap_breakloop) from a timer and on signals.
 */
#include "capture/capture.h"

#include <net/if.h>
#include <poll.h>
#include <unistd.h>

#include "capture/capture_decomp.h"
#include "capture/fanout.h"
#include "capture/pcap_split.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/mw.h"

#define MW_DEFAULT_SNAPLEN 262144
#define MW_FILE_IOBUF      (256 * 1024)
#define DRAIN_MS           400 /* > the ring block timeout: its last block is retired and read */
#define MW_LIVE_TIMEOUT_MS 100 /* how often a quiet live read returns to check for stop */

/* What a file's range readers prepare its records with: that file's, fixed, and their own
 * copy - the capture's fields move on (libpcap takes over mid-file, the next file opens)
 * while the threads of a split may still prepare ranges nobody will take. */
typedef struct split_file {
    const mw_capture_params_t *params;
    int dlt, nano;
    uint32_t file_index;
} split_file_t;

struct mw_capture {
    mw_capture_params_t params;
    pcap_t *pcap;
    size_t next_file; /* index of the next file to open */
    size_t cur_file;
    int dlt;
    uint64_t total_bytes, done_bytes, cur_size;
    int live;
    int nano; /* the handle gives nanoseconds in tv_usec */
    /* live: the counters of handles closed when the interface went away, so the run's
     * numbers keep growing across a reopen */
    mw_capture_stats_t closed;
    int perm_denied;       /* the last activation failed for lack of privileges */
    int64_t failing_ms;    /* live: when reads began to fail (0: they do not) */
    int break_pending;     /* live: a break came with a packet; the next read reports it */
    char *iobuf;           /* offline: the stdio buffer of the file being read */
    int fanout_joined;     /* live, fanout: the group below is joined */
    unsigned fanout_group; /* its id (0 is an id too) */
    mw_split_t *split;     /* offline, --readers N: the file read by N threads */
    mw_split_t *retired;   /* the file before, while its holders still hold ranges of it */
    /* their files: split and retired use one each (the split before the retired one is
     * closed before a new one opens), taken in turn */
    split_file_t split_files[2];
    unsigned split_turn;
    double split_cpu_s; /* their CPU time, files done */
    uint64_t split_rewalked;
};

static int apply_filter(mw_capture_t *cap, const char *name, char *errbuf, size_t errlen)
{
    struct bpf_program prog;

    if (cap->params.filter == NULL || cap->params.filter[0] == '\0')
        return 0;
    if (pcap_compile(cap->pcap, &prog, cap->params.filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        mw_fmt_err(errbuf, errlen, "%s: bad filter '%s': %s", name, cap->params.filter,
                pcap_geterr(cap->pcap));
        return MW_EINVAL;
    }
    if (pcap_setfilter(cap->pcap, &prog) < 0) {
        mw_fmt_err(errbuf, errlen, "%s: cannot set filter: %s", name, pcap_geterr(cap->pcap));
        pcap_freecode(&prog);
        return MW_EINVAL;
    }
    pcap_freecode(&prog);
    return 0;
}

/* Microseconds since the epoch; absurd seconds (a pcapng if_tsresol of 1 s times a
 * large count, a corrupt header) are clamped so the product cannot overflow. With a
 * nanosecond handle tv_usec holds nanoseconds: rounded down, as libpcap's micro does. */
static int64_t ts_of(const struct pcap_pkthdr *hdr, int nano)
{
    const int64_t max_s = INT64_MAX / 2000000; /* ~146,000 years */
    int64_t s = (int64_t)hdr->ts.tv_sec, us = (int64_t)hdr->ts.tv_usec;

    if (s > max_s)
        s = max_s;
    else if (s < -max_s)
        s = -max_s;
    if (nano)
        us = us >= 0 && us <= 999999999 ? us / 1000 : 0;
    if (us < 0 || us > 999999)
        us = 0;
    return s * 1000000 + us;
}

/* The same in nanoseconds (clamped to ~146 years either side of 1970). */
static int64_t ts_ns_of(const struct pcap_pkthdr *hdr, int nano)
{
    const int64_t max_s = INT64_MAX / 2000000000;
    int64_t s = (int64_t)hdr->ts.tv_sec, frac = (int64_t)hdr->ts.tv_usec;

    if (s > max_s)
        s = max_s;
    else if (s < -max_s)
        s = -max_s;
    if (frac < 0 || frac > (nano ? 999999999 : 999999))
        frac = 0;
    return s * 1000000000 + (nano ? frac : frac * 1000);
}

/* Opens files[cur_file] with libpcap. */
static int open_with_libpcap(mw_capture_t *cap, char *errbuf, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    const char *name = cap->params.files[cap->cur_file];
    int rc;

    perr[0] = '\0';
    if (strcmp(name, "-") == 0) {
        cap->pcap = pcap_open_offline_with_tstamp_precision(
                name, cap->nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO, perr);
    } else {
        /* gzip and zstd files are decompressed on the fly (capture_decomp.c) */
        FILE *fp = mw__capture_fopen(name, NULL, errbuf, errlen);
        if (fp == NULL) {
            cap->done_bytes += cap->cur_size;
            return MW_EFORMAT;
        }
        /* stdio reads 4 kB at a time by default: a read() per 4 kB dominates otherwise.
         * One buffer, reused: files are read one after the other. */
        if (cap->iobuf == NULL)
            cap->iobuf = malloc(MW_FILE_IOBUF);
        if (cap->iobuf != NULL)
            (void)setvbuf(fp, cap->iobuf, _IOFBF, MW_FILE_IOBUF);
        /* only the reader thread touches the stream: libpcap's two freads a packet need
         * not take and drop its lock each */
        (void)__fsetlocking(fp, FSETLOCKING_BYCALLER);
        cap->pcap = pcap_fopen_offline_with_tstamp_precision(
                fp, cap->nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO, perr);
        if (cap->pcap == NULL)
            fclose(fp); /* libpcap closes it only once it has taken it */
    }
    if (cap->pcap == NULL) {
        cap->done_bytes += cap->cur_size;
        mw_fmt_err(errbuf, errlen, "%s: cannot read capture: %s", name, perr);
        return MW_EFORMAT;
    }
    cap->dlt = pcap_datalink(cap->pcap);
    rc = apply_filter(cap, name, errbuf, errlen);
    if (rc != 0) {
        pcap_close(cap->pcap);
        cap->pcap = NULL;
        cap->done_bytes += cap->cur_size;
    }
    return rc;
}

static void fill_raw_of(int dlt, int nano, uint32_t file_index, const struct pcap_pkthdr *hdr,
        const u_char *data, mw_raw_packet_t *out)
{
    out->ts_us = ts_of(hdr, nano);
    out->ts_ns = ts_ns_of(hdr, nano);
    out->caplen = hdr->caplen;
    out->wirelen = hdr->len;
    out->dlt = dlt;
    out->file_index = file_index;
    out->data = data;
    out->prepared = NULL;
    out->held = 0;
}

static void fill_raw(const mw_capture_t *cap, const struct pcap_pkthdr *hdr, const u_char *data,
        mw_raw_packet_t *out)
{
    fill_raw_of(cap->dlt, cap->nano, (uint32_t)cap->cur_file, hdr, data, out);
}

/* The range readers' threads: the user's prepare on the packet as mw_capture_next() hands
 * it over, from the split's own copy of its file's fields (ctx: a split_file_t). */
static void prepare_record(void *ctx, const struct pcap_pkthdr *hdr, const uint8_t *data, void *out)
{
    const split_file_t *sf = ctx;
    mw_raw_packet_t raw;

    fill_raw_of(sf->dlt, sf->nano, sf->file_index, hdr, data, &raw);
    sf->params->prepare(sf->params->prepare_ctx, &raw, out);
}

/* Opens files[next_file]: with --readers N (default 1) a plain pcap file is read by N
 * threads (pcap_split.c), anything else by libpcap; on failure the index still advances. */
static int open_next_file(mw_capture_t *cap, char *errbuf, size_t errlen)
{
    const char *name = cap->params.files[cap->next_file];
    struct stat st;
    int regular;

    cap->cur_file = cap->next_file++;
    regular = strcmp(name, "-") != 0 && stat(name, &st) == 0 && S_ISREG(st.st_mode);
    cap->cur_size = regular ? (uint64_t)st.st_size : 0;
    cap->nano = cap->params.nano;
    /* only a regular file: opening a FIFO to look at it would take its writer's one open */
    if (cap->params.read_threads > 0 && regular) {
        split_file_t *sf = &cap->split_files[cap->split_turn];
        const mw_split_params_t sp = { .nthreads = cap->params.read_threads,
            .range_bytes = cap->params.read_range_bytes,
            .nano = cap->nano,
            .filter = cap->params.filter,
            .prepare = cap->params.prepare != NULL ? prepare_record : NULL,
            .prepare_ctx = sf,
            .holders = cap->params.holders,
            .range_done = cap->params.range_done,
            .range_done_ctx = cap->params.range_done_ctx,
            .prepared_size = cap->params.prepared_size };
        *sf = (split_file_t){ .params = &cap->params,
            .dlt = -1,
            .nano = cap->nano,
            .file_index = (uint32_t)cap->cur_file };
        cap->split = mw__split_open(name, &sp, &sf->dlt); /* sets dlt before its threads */
        if (cap->split != NULL) {
            cap->dlt = sf->dlt;
            cap->split_turn ^= 1u;
            return 0;
        }
    }
    return open_with_libpcap(cap, errbuf, errlen);
}

/* The file read by threads is done: it is closed once its holders released it (a file
 * before it that is still held is waited for first). */
static void end_split(mw_capture_t *cap)
{
    mw__split_close(cap->retired, 1, &cap->split_cpu_s, &cap->split_rewalked);
    cap->retired = cap->split;
    cap->split = NULL;
    if (mw__split_released(cap->retired)) {
        mw__split_close(cap->retired, 0, &cap->split_cpu_s, &cap->split_rewalked);
        cap->retired = NULL;
    }
}

/* The rest of the current file from offset on, by libpcap (which reports what stopped
 * the threads there, if anything). */
static int hand_over_to_libpcap(mw_capture_t *cap, uint64_t offset, char *errbuf, size_t errlen)
{
    int rc = open_with_libpcap(cap, errbuf, errlen);

    if (rc != 0)
        return rc;
    if (fseeko(pcap_file(cap->pcap), (off_t)offset, SEEK_SET) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "%s: cannot seek to byte %llu",
                cap->params.files[cap->cur_file], (unsigned long long)offset);
        pcap_close(cap->pcap);
        cap->pcap = NULL;
        cap->done_bytes += cap->cur_size;
        return MW_EIO;
    }
    return 0;
}

static int activate_live(mw_capture_t *cap, char *errbuf, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    const mw_capture_params_t *p = &cap->params;
    int rc;

    perr[0] = '\0';
    cap->live = 1;
    cap->perm_denied = 0;
    cap->pcap = pcap_create(p->iface, perr);
    if (cap->pcap == NULL) {
        mw_fmt_err(errbuf, errlen, "%s: %s", p->iface, perr);
        goto fail;
    }
    /* the buffer size in bytes is an int: config.c caps --buffer-size at 2047 MB */
    if (pcap_set_snaplen(cap->pcap, p->snaplen > 0 ? p->snaplen : MW_DEFAULT_SNAPLEN) != 0 ||
            pcap_set_promisc(cap->pcap, p->promisc) != 0 ||
            pcap_set_timeout(cap->pcap, MW_LIVE_TIMEOUT_MS) != 0 ||
            pcap_set_buffer_size(cap->pcap,
                    (int)((int64_t)(p->buffer_mb > 0 ? p->buffer_mb : 64) * 1024 * 1024)) != 0) {
        mw_fmt_err(errbuf, errlen, "%s: cannot set the capture options: %s", p->iface,
                pcap_geterr(cap->pcap));
        goto fail;
    }
    /* nanoseconds when the interface offers them (the --pcap-ring files keep them), else
     * microseconds, else libpcap's own precision stays */
    if (pcap_set_tstamp_precision(cap->pcap, PCAP_TSTAMP_PRECISION_NANO) != 0)
        (void)pcap_set_tstamp_precision(cap->pcap, PCAP_TSTAMP_PRECISION_MICRO);
    rc = pcap_activate(cap->pcap);
    if (rc < 0) {
        mw_fmt_err(errbuf, errlen, "%s: cannot capture: %s", p->iface,
                rc == PCAP_ERROR ? pcap_geterr(cap->pcap) : pcap_statustostr(rc));
        cap->perm_denied = rc == PCAP_ERROR_PERM_DENIED;
        goto fail;
    }
    if (rc > 0) /* a warning: capture works, but not as asked (e.g. no promiscuous mode) */
        fprintf(stderr, "mastwatch: warning: %s: %s\n", p->iface,
                rc == PCAP_WARNING ? pcap_geterr(cap->pcap) : pcap_statustostr(rc));
    cap->dlt = pcap_datalink(cap->pcap);
    cap->nano = pcap_get_tstamp_precision(cap->pcap) == PCAP_TSTAMP_PRECISION_NANO;
    if (apply_filter(cap, p->iface, errbuf, errlen) != 0)
        goto fail;
    if (p->nonblock && pcap_setnonblock(cap->pcap, 1, perr) != 0) {
        mw_fmt_err(errbuf, errlen, "%s: cannot read without blocking: %s", p->iface, perr);
        goto fail;
    }
    if (p->fanout && mw__fanout_join(pcap_fileno(cap->pcap), p->iface, &cap->fanout_joined,
                             &cap->fanout_group, errbuf, errlen) != 0)
        goto fail;
    return 0;
fail:
    if (cap->pcap != NULL) {
        pcap_t *h = cap->pcap;
        cap->pcap = NULL;
        pcap_close(h);
    }
    return MW_EIO;
}

static mw_capture_t *open_live(mw_capture_t *cap, char *errbuf, size_t errlen)
{
    if (activate_live(cap, errbuf, errlen) == 0)
        return cap;
    mw_capture_close(cap);
    return NULL;
}

static int read_sysfs(const char *iface, const char *what, char *text, size_t len)
{
    char path[128];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "/sys/class/net/%s/%s", iface, what);
    f = fopen(path, "re");
    if (f == NULL)
        return 0;
    ok = fgets(text, (int)len, f) != NULL;
    fclose(f);
    return ok;
}

int mw_capture_link_up(const mw_capture_t *cap)
{
    char flags[32], oper[32];
    unsigned long bits;

    if (!cap->live || strchr(cap->params.iface, '/') != NULL || cap->params.iface[0] == '.')
        return -1;
    if (!read_sysfs(cap->params.iface, "flags", flags, sizeof(flags)))
        return access("/sys/class/net", F_OK) == 0 ? 0 : -1; /* gone, or no sysfs */
    if (sscanf(flags, "%lx", &bits) != 1)
        return -1;
    if (!(bits & IFF_UP))
        return 0; /* set down */
    /* the carrier: "up", or "unknown" for interfaces that do not report it (lo) */
    if (read_sysfs(cap->params.iface, "operstate", oper, sizeof(oper)) &&
            (strncmp(oper, "down", 4) == 0 || strncmp(oper, "lowerlayerdown", 14) == 0 ||
                    strncmp(oper, "notpresent", 10) == 0))
        return 0;
    return 1;
}

void mw_capture_suspend(mw_capture_t *cap)
{
    struct pcap_stat ps;
    pcap_t *h = cap->pcap;

    if (!cap->live || h == NULL)
        return;
    if (pcap_stats(h, &ps) == 0) {
        cap->closed.received += ps.ps_recv;
        cap->closed.dropped += ps.ps_drop;
        cap->closed.if_dropped += ps.ps_ifdrop;
    }
    cap->pcap = NULL; /* first: a signal handler's mw_capture_break() sees no handle */
    pcap_close(h);
}

int mw_capture_reopen(mw_capture_t *cap, int *permanent, char *errbuf, size_t errlen)
{
    int rc;

    mw_capture_suspend(cap);
    rc = activate_live(cap, errbuf, errlen);
    *permanent = rc != 0 && cap->perm_denied;
    return rc;
}

mw_capture_t *mw_capture_open(const mw_capture_params_t *params, char *errbuf, size_t errlen)
{
    mw_capture_t *cap = calloc(1, sizeof(*cap));
    struct stat st;
    size_t i;

    if (cap == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return NULL;
    }
    cap->params = *params;
    cap->fanout_joined = params->fanout_join;
    cap->fanout_group = params->fanout_group;
    if (params->iface != NULL)
        return open_live(cap, errbuf, errlen);
    if (params->nfiles == 0) {
        mw_fmt_err(errbuf, errlen, "no capture file given");
        goto fail;
    }
    /* Fail before any work when a named file does not exist. "-" is standard input
     * (libpcap reads it), once, with no size for the progress line. */
    for (i = 0; i < params->nfiles; i++) {
        if (strcmp(params->files[i], "-") == 0) {
            size_t j;
            for (j = 0; j < i; j++)
                if (strcmp(params->files[j], "-") == 0)
                    break;
            if (j < i) {
                mw_fmt_err(errbuf, errlen, "standard input ('-') given twice");
                goto fail;
            }
            continue;
        }
        if (stat(params->files[i], &st) != 0) {
            mw_fmt_errno(errbuf, errlen, errno, "%s", params->files[i]);
            goto fail;
        }
        if (S_ISDIR(st.st_mode)) {
            mw_fmt_err(errbuf, errlen, "%s: is a directory, not a capture file", params->files[i]);
            goto fail;
        }
        cap->total_bytes += (uint64_t)st.st_size;
    }
    return cap;
fail:
    free(cap);
    return NULL;
}

int mw_capture_next(mw_capture_t *cap, mw_raw_packet_t *out, char *errbuf, size_t errlen)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc;

    if (cap->break_pending) {
        cap->break_pending = 0;
        return 0; /* woken by mw_capture_break(): the caller checks why */
    }
    for (;;) {
        if (cap->split != NULL) {
            struct pcap_pkthdr split_hdr;
            const uint8_t *split_data;
            void *prepared;
            uint64_t resume;

            rc = mw__split_next(cap->split, &split_hdr, &split_data, &prepared, &resume);
            if (rc == 1) {
                fill_raw(cap, &split_hdr, split_data, out);
                out->prepared = prepared;
                out->held = cap->params.holders > 0;
                return 1;
            }
            end_split(cap);
            if (rc == 0) {
                cap->done_bytes += cap->cur_size;
                continue;
            }
            rc = hand_over_to_libpcap(cap, resume, errbuf, errlen);
            if (rc != 0)
                return rc;
        }
        if (cap->pcap == NULL) {
            if (cap->live || cap->next_file >= cap->params.nfiles)
                return MW_EEOF;
            rc = open_next_file(cap, errbuf, errlen);
            if (rc != 0)
                return rc;
            continue;
        }
        data = NULL;
        rc = pcap_next_ex(cap->pcap, &hdr, &data);
        /* libpcap 1.10's TPACKET_V3 reader reports a break that came while it handed over a
         * packet (already copied to its one-shot buffer) as the break alone: that packet
         * would be lost mid-stream. It is returned, and the break on the next call. */
        if (rc == PCAP_ERROR_BREAK && data != NULL && cap->live) {
            cap->break_pending = 1;
            rc = 1;
        }
        if (rc == 1) {
            cap->failing_ms = 0;
            fill_raw(cap, hdr, data, out);
            return 1;
        }
        if (rc == 0)
            return 0; /* live timeout */
        if (cap->live) {
            struct timespec pause = { 0, 10 * 1000000L };
            if (rc == PCAP_ERROR_BREAK)
                return 0; /* woken by mw_capture_break(): the caller checks why */
            /* the interface went away: the kernel still hands over the ring block it was
             * filling once that block's timeout retires it - read it before giving up */
            if (cap->failing_ms == 0)
                cap->failing_ms = mw_monotonic_ms();
            if (mw_monotonic_ms() - cap->failing_ms < DRAIN_MS) {
                nanosleep(&pause, NULL);
                continue;
            }
            cap->failing_ms = 0;
            mw_fmt_err(errbuf, errlen, "%s: %s", cap->params.iface, pcap_geterr(cap->pcap));
            return MW_EIO;
        }
        /* End of this file (-2) or an error in it (-1): move on either way. */
        if (rc == PCAP_ERROR)
            mw_fmt_err(errbuf, errlen, "%s: corrupt or truncated capture: %s",
                    cap->params.files[cap->cur_file], pcap_geterr(cap->pcap));
        pcap_close(cap->pcap);
        cap->pcap = NULL;
        cap->done_bytes += cap->cur_size;
        if (rc == PCAP_ERROR)
            return MW_EFORMAT;
    }
}

void mw_capture_break(mw_capture_t *cap)
{
    if (cap != NULL && cap->pcap != NULL)
        pcap_breakloop(cap->pcap);
}

int mw_capture_set_nonblock(mw_capture_t *cap)
{
    char perr[PCAP_ERRBUF_SIZE];

    if (cap == NULL || cap->pcap == NULL || !cap->live)
        return -1;
    return pcap_setnonblock(cap->pcap, 1, perr) == 0 ? 0 : -1;
}

int mw_capture_wait(mw_capture_t *cap, int ms)
{
    struct pollfd pfd = { .events = POLLIN };

    if (cap->pcap == NULL || (pfd.fd = pcap_get_selectable_fd(cap->pcap)) < 0) {
        struct timespec pause = { ms / 1000, (long)(ms % 1000) * 1000000L };
        nanosleep(&pause, NULL);
        return 0;
    }
    return poll(&pfd, 1, ms) > 0;
}

unsigned mw_capture_fanout_group(const mw_capture_t *cap)
{
    return cap->fanout_group;
}

int mw_capture_get_stats(mw_capture_t *cap, mw_capture_stats_t *out)
{
    struct pcap_stat ps;

    memset(out, 0, sizeof(*out));
    if (!cap->live)
        return 0;
    *out = cap->closed;
    out->have = 1;
    if (cap->pcap == NULL) /* the interface is away: what the closed handles counted */
        return 0;
    if (pcap_stats(cap->pcap, &ps) != 0)
        return MW_EIO;
    out->received += ps.ps_recv;
    out->dropped += ps.ps_drop;
    out->if_dropped += ps.ps_ifdrop;
    return 0;
}

int mw_capture_datalink(const mw_capture_t *cap)
{
    return cap->pcap != NULL || cap->split != NULL ? cap->dlt : -1;
}

double mw_capture_read_threads_cpu_s(const mw_capture_t *cap)
{
    return cap->split_cpu_s + mw__split_cpu_s(cap->split) + mw__split_cpu_s(cap->retired);
}

uint64_t mw_capture_read_threads_rewalked(const mw_capture_t *cap)
{
    return cap->split_rewalked + mw__split_rewalked(cap->split) + mw__split_rewalked(cap->retired);
}

uint64_t mw_capture_total_bytes(const mw_capture_t *cap)
{
    return cap->total_bytes;
}

uint64_t mw_capture_done_bytes(const mw_capture_t *cap)
{
    uint64_t cur = 0;

    if (cap->split != NULL)
        cur = mw__split_done_bytes(cap->split);
    else if (!cap->live && cap->pcap != NULL) {
        FILE *f = pcap_file(cap->pcap);
        long pos = f && f != stdin ? ftell(f) : -1;
        if (pos > 0)
            cur = (uint64_t)pos;
    }
    return cap->done_bytes + cur;
}

void mw_capture_close(mw_capture_t *cap)
{
    if (cap == NULL)
        return;
    /* the holders are gone by now: nothing to wait for */
    mw__split_close(cap->retired, 0, &cap->split_cpu_s, &cap->split_rewalked);
    mw__split_close(cap->split, 0, &cap->split_cpu_s, &cap->split_rewalked);
    if (cap->pcap != NULL)
        pcap_close(cap->pcap); /* closes the FILE that uses iobuf */
    free(cap->iobuf);
    free(cap);
}

const char *mw_capture_lib_version(void)
{
    return pcap_lib_version();
}
