/*
 * extract.c - mastwatch extract: resolves what to take (flow records of a
 * results file, extract_match.c) and where from (capture files, the run's
 * `sources`, or a pcap ring directory, chosen by the files' first packet
 * times), reads them with the capture module at nanosecond precision and
 * writes the chosen packets, bytes and timestamps unchanged, to OUT.pcap.
 * The output is built under OUT.PID.part and moved into place only when
 * complete: a failed extract leaves no file.
 */
#include "engine/extract.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "capture/pcap_file.h"
#include "capture/ring_dir.h"
#include "core/mw.h"
#include "engine/extract_match.h"
#include "output/h5_evidence.h"
#include "output/h5_model.h"

#define OUT_BUFFER (4u << 20)

typedef struct job {
    const mw_extract_opts_t *o;
    int64_t from_us, to_us;
    mw_match_t *match;
    char **files; /* owned strings */
    size_t nfiles;
    char *sources_attr;
    mw_ring_file_t *ring;
    size_t nring;
} job_t;

static const mw_flow_record_t *find_flow(const mw_h5_flows_t *f, uint64_t id)
{
    size_t i;

    for (i = 0; i < f->n; i++)
        if (f->recs[i].flow_id == id)
            return &f->recs[i];
    return NULL;
}

static int add_flow(job_t *j, const mw_h5_flows_t *f, uint64_t id, char *errbuf, size_t errlen)
{
    const mw_flow_record_t *rec = find_flow(f, id);
    const mw_flow_record_t *tun = NULL;

    if (rec == NULL) {
        mw_fmt_err(errbuf, errlen, "%s: no flow %llu in /flows", j->o->results,
                (unsigned long long)id);
        return MW_EINVAL;
    }
    if (rec->kind == MW_FLOW_INNER && rec->tunnel_flow_id != 0)
        tun = find_flow(f, rec->tunnel_flow_id);
    if (mw_match_add_flow(j->match, rec, tun) != 0) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    return 0;
}

/* The window and the flows to match, from the results file. */
static int resolve_targets(job_t *j, char *errbuf, size_t errlen)
{
    const mw_extract_opts_t *o = j->o;
    mw_h5_flows_t flows;
    mw_h5_anomaly_span_t span;
    const mw_flow_record_t *rec = NULL;
    size_t i;
    int rc;

    if (o->anomaly_id == 0 && o->flow_id == 0) {
        j->from_us = o->from_us;
        j->to_us = o->to_us;
        j->match = mw_match_create(j->from_us, j->to_us);
        return j->match ? 0 : MW_ENOMEM;
    }
    rc = mw_h5_flows_read(o->results, &flows, errbuf, errlen);
    if (rc != 0)
        return rc;
    if (o->anomaly_id != 0) {
        rc = mw_h5_anomaly_span_read(o->results, o->anomaly_id, &span, errbuf, errlen);
        if (rc != 0)
            goto out;
        j->from_us = span.start_us - MW_EXTRACT_MARGIN_US;
        j->to_us = span.end_us + MW_EXTRACT_MARGIN_US;
    } else {
        rec = find_flow(&flows, o->flow_id);
        if (rec == NULL) {
            mw_fmt_err(errbuf, errlen, "%s: no flow %llu in /flows", o->results,
                    (unsigned long long)o->flow_id);
            rc = MW_EINVAL;
            goto out;
        }
        j->from_us = rec->first_us; /* exactly the record's packets */
        j->to_us = rec->last_us;
    }
    if (o->have_from && o->from_us > j->from_us)
        j->from_us = o->from_us;
    if (o->have_to && o->to_us < j->to_us)
        j->to_us = o->to_us;
    j->match = mw_match_create(j->from_us, j->to_us);
    if (j->match == NULL) {
        rc = MW_ENOMEM;
        mw_fmt_err(errbuf, errlen, "out of memory");
    } else if (o->anomaly_id != 0) {
        for (i = 0; rc == 0 && i < span.nflows; i++)
            rc = add_flow(j, &flows, span.flow_ids[i], errbuf, errlen);
    } else {
        rc = add_flow(j, &flows, o->flow_id, errbuf, errlen);
    }
    if (o->anomaly_id != 0)
        mw_h5_anomaly_span_free(&span);
out:
    mw_h5_flows_free(&flows);
    return rc;
}

static int push_file(job_t *j, const char *path)
{
    char **nv = realloc(j->files, (j->nfiles + 1) * sizeof(*nv));

    if (nv == NULL)
        return MW_ENOMEM;
    j->files = nv;
    j->files[j->nfiles] = strdup(path);
    if (j->files[j->nfiles] == NULL)
        return MW_ENOMEM;
    j->nfiles++;
    return 0;
}

/* Ring files whose packets may fall in the window: file i holds [first_i, first_i+1). */
static int resolve_ring(job_t *j, char *errbuf, size_t errlen)
{
    size_t i, taken = 0;
    int rc = mw_ring_dir_list(j->o->ring, &j->ring, &j->nring, errbuf, errlen);

    if (rc != 0)
        return rc;
    for (i = 0; i < j->nring; i++) {
        const mw_ring_file_t *f = &j->ring[i];
        if (!f->valid) {
            mw_fmt_err(errbuf, errlen, "%s: not a pcap file (corrupt ring file: move it away)",
                    f->path);
            return MW_EFORMAT;
        }
    }
    for (i = 0; i < j->nring; i++) {
        const mw_ring_file_t *f = &j->ring[i];
        int64_t next = i + 1 < j->nring ? j->ring[i + 1].first_ns : INT64_MAX;
        if (f->first_ns == INT64_MAX)
            continue; /* no packet yet */
        if (f->first_ns / 1000 > j->to_us || (next != INT64_MAX && next / 1000 < j->from_us))
            continue;
        if (push_file(j, f->path) != 0) {
            mw_fmt_err(errbuf, errlen, "out of memory");
            return MW_ENOMEM;
        }
        taken++;
    }
    if (j->nring == 0) {
        mw_fmt_err(errbuf, errlen, "%s: no ring files (ring-*.pcap)", j->o->ring);
        return MW_EIO;
    }
    if (taken == 0) {
        time_t t = (time_t)(j->ring[0].first_ns / 1000000000);
        struct tm tm;
        char since[32] = "?";
        if (j->ring[0].first_ns != INT64_MAX && gmtime_r(&t, &tm) != NULL)
            strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
        mw_fmt_err(errbuf, errlen,
                "%s: no ring file holds that time (the ring's oldest packet is from %s)",
                j->o->ring, since);
        return MW_EIO;
    }
    return 0;
}

/* The run's own inputs: the `sources` attribute, when those files still exist. */
static int resolve_run_sources(job_t *j, char *errbuf, size_t errlen)
{
    char command[32];
    char *s, *line, *save = NULL;
    int rc = mw_h5_run_sources(
            j->o->results, &j->sources_attr, command, sizeof(command), errbuf, errlen);

    if (rc != 0)
        return rc;
    if (strcmp(command, "capture") == 0) {
        mw_fmt_err(errbuf, errlen,
                "%s is a live capture on %s: give its pcap ring (--ring DIR) or capture files",
                j->o->results, j->sources_attr);
        return MW_EINVAL;
    }
    s = j->sources_attr;
    for (line = strtok_r(s, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (access(line, R_OK) != 0) {
            mw_fmt_errno(errbuf, errlen, errno,
                    "sources of %s missing: %s (give the capture files or --ring DIR)",
                    j->o->results, line);
            return MW_EIO;
        }
        if (push_file(j, line) != 0) {
            mw_fmt_err(errbuf, errlen, "out of memory");
            return MW_ENOMEM;
        }
    }
    if (j->nfiles == 0) {
        mw_fmt_err(errbuf, errlen, "%s names no sources: give the capture files", j->o->results);
        return MW_EINVAL;
    }
    return 0;
}

static int resolve_sources(job_t *j, char *errbuf, size_t errlen)
{
    size_t i;

    if (j->o->ring != NULL)
        return resolve_ring(j, errbuf, errlen);
    if (j->o->nsources == 0)
        return resolve_run_sources(j, errbuf, errlen);
    for (i = 0; i < j->o->nsources; i++) {
        if (access(j->o->sources[i], R_OK) != 0) {
            mw_fmt_errno(errbuf, errlen, errno, "%s", j->o->sources[i]);
            return MW_EIO;
        }
        if (push_file(j, j->o->sources[i]) != 0) {
            mw_fmt_err(errbuf, errlen, "out of memory");
            return MW_ENOMEM;
        }
    }
    return 0;
}

/* Reads the sources into tmp; 0 or an error (the caller removes tmp). */
static int copy_packets(
        job_t *j, const char *tmp, mw_extract_result_t *res, char *errbuf, size_t errlen)
{
    mw_capture_params_t cp = { .files = (const char *const *)j->files,
        .nfiles = j->nfiles,
        .filter = j->o->filter,
        .nano = 1 };
    mw_capture_t *cap = mw_capture_open(&cp, errbuf, errlen);
    mw_pcap_file_t *out = NULL;
    uint64_t lost = 0;
    int dlt = -1, rc = 0;

    if (cap == NULL)
        return MW_EIO;
    for (;;) {
        mw_raw_packet_t raw;
        rc = mw_capture_next(cap, &raw, errbuf, errlen);
        if (rc == MW_EEOF) {
            rc = 0;
            break;
        }
        if (rc < 0)
            break; /* unreadable or corrupt input: the message names the file */
        if (rc == 0)
            continue;
        res->packets_read++;
        if (!mw_match_packet(j->match, &raw))
            continue;
        if (out == NULL) {
            dlt = raw.dlt;
            out = mw_pcap_file_create(tmp, dlt, 262144, OUT_BUFFER);
            if (out == NULL) {
                mw_fmt_errno(errbuf, errlen, errno, "cannot write %s", tmp);
                rc = MW_EIO;
                break;
            }
        } else if (raw.dlt != dlt) {
            mw_fmt_err(errbuf, errlen,
                    "the sources mix link types (%d, %d): extract from one kind at a time", dlt,
                    raw.dlt);
            rc = MW_EINVAL;
            break;
        }
        rc = mw_pcap_file_write(out, raw.ts_ns, raw.caplen, raw.wirelen, raw.data, &lost);
        if (rc != 0) {
            mw_fmt_errno(errbuf, errlen, -rc, "writing %s", j->o->output);
            rc = MW_EIO;
            break;
        }
        res->packets_written++;
    }
    mw_capture_close(cap);
    if (out != NULL) {
        int crc = mw_pcap_file_close(out, 1, &lost);
        if (rc == 0 && crc != 0) {
            mw_fmt_errno(errbuf, errlen, -crc, "writing %s", j->o->output);
            rc = MW_EIO;
        }
    }
    if (rc == 0 && res->packets_written == 0) {
        mw_fmt_err(errbuf, errlen,
                "no packet matched in %zu file(s), %llu packets read (are these the run's "
                "captures?)",
                j->nfiles, (unsigned long long)res->packets_read);
        rc = MW_EIO;
    }
    res->files_read = j->nfiles;
    return rc;
}

/* tmp -> output: rename with --force, else link (which refuses an existing file). */
static int put_in_place(const char *tmp, const char *output, int force, char *errbuf, size_t errlen)
{
    if (force) {
        if (rename(tmp, output) != 0) {
            mw_fmt_errno(errbuf, errlen, errno, "cannot write %s", output);
            return MW_EIO;
        }
        return 0;
    }
    if (link(tmp, output) != 0) {
        if (errno == EEXIST)
            mw_fmt_err(
                    errbuf, errlen, "%s exists: not overwritten (--force to replace it)", output);
        else
            mw_fmt_errno(errbuf, errlen, errno, "cannot write %s", output);
        return MW_EIO;
    }
    unlink(tmp);
    return 0;
}

int mw_extract_run(
        const mw_extract_opts_t *o, mw_extract_result_t *res, char *errbuf, size_t errlen)
{
    job_t j = { .o = o };
    struct stat st;
    char *tmp = NULL;
    size_t i, len;
    int rc;

    memset(res, 0, sizeof(*res));
    if (!o->force && lstat(o->output, &st) == 0) {
        mw_fmt_err(errbuf, errlen, "%s exists: not overwritten (--force to replace it)", o->output);
        return MW_EIO;
    }
    rc = resolve_targets(&j, errbuf, errlen);
    if (rc == 0)
        rc = resolve_sources(&j, errbuf, errlen);
    if (rc == 0) {
        len = strlen(o->output) + 32;
        tmp = malloc(len);
        if (tmp == NULL) {
            mw_fmt_err(errbuf, errlen, "out of memory");
            rc = MW_ENOMEM;
        } else {
            snprintf(tmp, len, "%s.%ld.part", o->output, (long)getpid());
            rc = copy_packets(&j, tmp, res, errbuf, errlen);
            if (rc == 0)
                rc = put_in_place(tmp, o->output, o->force, errbuf, errlen);
            if (rc != 0)
                unlink(tmp);
        }
    }
    free(tmp);
    for (i = 0; i < j.nfiles; i++)
        free(j.files[i]);
    free(j.files);
    free(j.sources_attr);
    mw_ring_dir_free(j.ring, j.nring);
    mw_match_destroy(j.match);
    return rc;
}
