/*
 * capture_pcap.c - libpcap behind mw_capture_t; the only file that calls
 * libpcap. Offline inputs are opened one after the other with microsecond
 * timestamps (pcap and pcapng alike, plain or gzip/zstd compressed:
 * capture_decomp.c); a file that fails to open or breaks
 * mid-way is reported and the next file follows. Live capture uses
 * pcap_create/activate so the kernel ring size (TPACKET_V3) can be set;
 * immediate mode is left off because it forces the slower TPACKET_V2. With
 * TPACKET_V3 a quiet link never returns from the read, so the engine wakes
 * it with mw_capture_break() (pcap_breakloop) from a timer and on signals.
 */
#include "capture/capture.h"

#include "capture/capture_decomp.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/mw.h"

#define MW_DEFAULT_SNAPLEN 262144
#define MW_LIVE_TIMEOUT_MS 100 /* how often a quiet live read returns to check for stop */

struct mw_capture {
    mw_capture_params_t params;
    pcap_t *pcap;
    size_t next_file; /* index of the next file to open */
    size_t cur_file;
    int dlt;
    uint64_t total_bytes, done_bytes, cur_size;
    int live;
    int nano; /* the handle gives nanoseconds in tv_usec */
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

/* Opens files[next_file]; on failure the index still advances. */
static int open_next_file(mw_capture_t *cap, char *errbuf, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    const char *name = cap->params.files[cap->next_file];
    struct stat st;
    int rc;

    cap->cur_file = cap->next_file++;
    cap->cur_size = strcmp(name, "-") != 0 && stat(name, &st) == 0 ? (uint64_t)st.st_size : 0;
    perr[0] = '\0';
    cap->nano = cap->params.nano;
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

static mw_capture_t *open_live(mw_capture_t *cap, char *errbuf, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    const mw_capture_params_t *p = &cap->params;
    int rc;

    perr[0] = '\0';
    cap->live = 1;
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
        goto fail;
    }
    if (rc > 0) /* a warning: capture works, but not as asked (e.g. no promiscuous mode) */
        fprintf(stderr, "mastwatch: warning: %s: %s\n", p->iface,
                rc == PCAP_WARNING ? pcap_geterr(cap->pcap) : pcap_statustostr(rc));
    cap->dlt = pcap_datalink(cap->pcap);
    cap->nano = pcap_get_tstamp_precision(cap->pcap) == PCAP_TSTAMP_PRECISION_NANO;
    if (apply_filter(cap, p->iface, errbuf, errlen) != 0)
        goto fail;
    return cap;
fail:
    mw_capture_close(cap);
    return NULL;
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

    for (;;) {
        if (cap->pcap == NULL) {
            if (cap->live || cap->next_file >= cap->params.nfiles)
                return MW_EEOF;
            rc = open_next_file(cap, errbuf, errlen);
            if (rc != 0)
                return rc;
        }
        rc = pcap_next_ex(cap->pcap, &hdr, &data);
        if (rc == 1) {
            out->ts_us = ts_of(hdr, cap->nano);
            out->ts_ns = ts_ns_of(hdr, cap->nano);
            out->caplen = hdr->caplen;
            out->wirelen = hdr->len;
            out->dlt = cap->dlt;
            out->file_index = (uint32_t)cap->cur_file;
            out->data = data;
            return 1;
        }
        if (rc == 0)
            return 0; /* live timeout */
        if (cap->live) {
            if (rc == PCAP_ERROR_BREAK)
                return 0; /* woken by mw_capture_break(): the caller checks why */
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

int mw_capture_get_stats(mw_capture_t *cap, mw_capture_stats_t *out)
{
    struct pcap_stat ps;

    memset(out, 0, sizeof(*out));
    if (!cap->live || cap->pcap == NULL)
        return 0;
    if (pcap_stats(cap->pcap, &ps) != 0)
        return MW_EIO;
    out->received = ps.ps_recv;
    out->dropped = ps.ps_drop;
    out->if_dropped = ps.ps_ifdrop;
    out->have = 1;
    return 0;
}

int mw_capture_datalink(const mw_capture_t *cap)
{
    return cap->pcap != NULL ? cap->dlt : -1;
}

uint64_t mw_capture_total_bytes(const mw_capture_t *cap)
{
    return cap->total_bytes;
}

uint64_t mw_capture_done_bytes(const mw_capture_t *cap)
{
    uint64_t cur = 0;

    if (!cap->live && cap->pcap != NULL) {
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
    if (cap->pcap != NULL)
        pcap_close(cap->pcap);
    free(cap);
}

const char *mw_capture_lib_version(void)
{
    return pcap_lib_version();
}
