/*
 * scengen_main.c - mw-scengen, the scenario generator's command line. It
 * turns flags (and an optional scenario file with one "flag value" per
 * line) into a site, a schedule of injections and output paths, then runs
 * the slice loop: normal traffic, injections, flush frames older than the
 * slice end. No analysis logic lives here.
 */
#include "core/mw.h"
#include "inject.h"
#include "inventory_out.h"
#include "normal_traffic.h"
#include "pcap_out.h"
#include "pkt_queue.h"
#include "sg.h"
#include "timeparse.h"
#include "truth.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SPECS 64
#define SLICE_S   60

typedef struct {
    uint64_t seed, start;
    double days, scale;
    int nbs, pcapng, quiet;
    const char *out, *truth, *inventory, *site;
    char *specs[MAX_SPECS];
    int nspecs;
    char *owned[256]; /* strings read from a scenario file */
    int nowned;
} opts_t;

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: mw-scengen -o OUT.pcap [options]\n"
            "Generates synthetic backhaul traffic of a site of LTE/5G base stations, with\n"
            "optional injected anomalies and a ground-truth file. Deterministic per seed.\n\n"
            "  -o, --output FILE        pcap to write (required)\n"
            "      --pcapng             write pcapng instead of pcap\n"
            "      --truth FILE         ground truth JSON (list of injected anomalies)\n"
            "      --inventory FILE     site inventory YAML for the analyzer\n"
            "      --seed N             PRNG seed (default 1)\n"
            "      --start ISO8601      scenario start, UTC (default 2026-11-02T00:00:00Z)\n"
            "      --days D             simulated days, may be fractional (default 1)\n"
            "      --base-stations K    number of base stations, 1..%d (default 4)\n"
            "      --scale X            multiply the subscriber session rate (default 1)\n"
            "      --site NAME          site name in the inventory (default demo-site)\n"
            "      --inject SPEC        TYPE[:bs=ID,day=N,start=T,end=T,peer=IP,port=N,\n"
            "                           period=D,jitter=D,bytes=B,rate=BPS,count=N,proto=P]\n"
            "                           repeatable; T is ISO8601, HH:MM on day N, or +1d2h\n"
            "      --scenario FILE      read more options, one 'flag value' per line\n"
            "  -q, --quiet              no summary on stderr\n"
            "  -h, --help               this text\n\n"
            "injection types:\n",
            MW_SG_MAX_BS);
    mw_inject_help(fp);
}

static int fail(const char *msg)
{
    fprintf(stderr, "mw-scengen: %s\n", msg);
    return 2;
}

/* Applies one option by long name; 0 or a message in err. */
static int apply(opts_t *o, const char *name, const char *val, char *err, size_t errlen)
{
    char *end;
    if (strcmp(name, "output") == 0 || strcmp(name, "o") == 0) {
        o->out = val;
    } else if (strcmp(name, "truth") == 0) {
        o->truth = val;
    } else if (strcmp(name, "inventory") == 0) {
        o->inventory = val;
    } else if (strcmp(name, "site") == 0) {
        if (strlen(val) == 0 || strlen(val) > 31 || strpbrk(val, " :#\"'") != NULL) {
            snprintf(err, errlen, "bad --site '%s' (1..31 chars, no spaces or quotes)", val);
            return MW_EINVAL;
        }
        o->site = val;
    } else if (strcmp(name, "seed") == 0) {
        errno = 0;
        o->seed = strtoull(val, &end, 0);
        if (errno || *end || *val == '-' || *val == '\0') {
            snprintf(err, errlen, "bad --seed '%s' (unsigned integer)", val);
            return MW_EINVAL;
        }
    } else if (strcmp(name, "start") == 0) {
        if (mw_parse_iso(val, &o->start)) {
            snprintf(err, errlen, "bad --start '%s' (e.g. 2026-11-02T00:00:00Z)", val);
            return MW_EINVAL;
        }
    } else if (strcmp(name, "days") == 0) {
        o->days = strtod(val, &end);
        if (*end || !(o->days > 0) || o->days > 366) {
            snprintf(err, errlen, "bad --days '%s' (0 < D <= 366)", val);
            return MW_EINVAL;
        }
    } else if (strcmp(name, "base-stations") == 0) {
        long k = strtol(val, &end, 10);
        if (*end || k < 1 || k > MW_SG_MAX_BS) {
            snprintf(err, errlen, "bad --base-stations '%s' (1..%d)", val, MW_SG_MAX_BS);
            return MW_EINVAL;
        }
        o->nbs = (int)k;
    } else if (strcmp(name, "scale") == 0) {
        o->scale = strtod(val, &end);
        if (*end || !(o->scale > 0) || o->scale > 1e6) {
            snprintf(err, errlen, "bad --scale '%s' (0 < X <= 1e6)", val);
            return MW_EINVAL;
        }
    } else if (strcmp(name, "inject") == 0) {
        if (o->nspecs >= MAX_SPECS) {
            snprintf(err, errlen, "too many --inject (max %d)", MAX_SPECS);
            return MW_EINVAL;
        }
        o->specs[o->nspecs++] = (char *)val;
    } else if (strcmp(name, "pcapng") == 0) {
        o->pcapng = 1;
    } else if (strcmp(name, "quiet") == 0) {
        o->quiet = 1;
    } else {
        snprintf(err, errlen, "unknown option '%s'", name);
        return MW_EINVAL;
    }
    return MW_OK;
}

static int read_scenario(opts_t *o, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char line[1024];
    int ln = 0;
    if (fp == NULL) {
        snprintf(err, errlen, "cannot read scenario %s: %s", path, strerror(errno));
        return MW_EIO;
    }
    while (fgets(line, sizeof(line), fp)) {
        ln++;
        char *p = line + strspn(line, " \t");
        p[strcspn(p, "\r\n")] = '\0';
        if (*p == '#' || *p == '\0')
            continue;
        if (p[0] == '-' && p[1] == '-')
            p += 2;
        char *val = p + strcspn(p, " \t=");
        if (*val) {
            *val++ = '\0';
            val += strspn(val, " \t=");
        }
        if (o->nowned >= (int)MW_ARRAY_LEN(o->owned)) {
            snprintf(err, errlen, "%s:%d: too many lines", path, ln);
            fclose(fp);
            return MW_EINVAL;
        }
        char *copy = strdup(val);
        if (copy == NULL) {
            fclose(fp);
            return MW_ENOMEM;
        }
        o->owned[o->nowned++] = copy;
        char sub[256];
        if (apply(o, p, copy, sub, sizeof(sub)) != MW_OK) {
            snprintf(err, errlen, "%s:%d: %s", path, ln, sub);
            fclose(fp);
            return MW_EINVAL;
        }
    }
    fclose(fp);
    return MW_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run(opts_t *o)
{
    char err[512];
    int rc = 0;
    mw_sg_t *sg = calloc(1, sizeof(*sg));
    mw_pcap_out_t *w = NULL;
    mw_normal_t *normal = NULL;
    mw_inject_t *inj = NULL;
    uint64_t written = 0;
    double t_begin = now_s();

    if (sg == NULL)
        return fail("out of memory");
    mw_sg_site_init(&sg->site, o->site, o->nbs);
    sg->seed = o->seed;
    sg->scale = o->scale;
    sg->start_s = o->start;
    sg->end_s = o->start + (uint64_t)(o->days * 86400.0 + 0.5);
    sg->cur_anomaly = -1;
    sg->q = mw_pkt_queue_create((size_t)4 << 30);
    sg->truth = mw_truth_create();
    inj = mw_inject_create(sg);
    if (sg->q == NULL || sg->truth == NULL || inj == NULL) {
        rc = fail("out of memory");
        goto out;
    }
    for (int i = 0; i < o->nspecs; i++) {
        if (mw_inject_add(inj, o->specs[i], err, sizeof(err)) != MW_OK) {
            rc = fail(err);
            goto out;
        }
    }
    if (o->nspecs > 0 && o->truth == NULL)
        fprintf(stderr, "mw-scengen: warning: --inject without --truth, no ground truth written\n");
    /* Fail on unwritable outputs before spending time generating. */
    if (o->inventory && mw_inventory_write(&sg->site, o->inventory, err, sizeof(err)) != MW_OK) {
        rc = fail(err);
        goto out;
    }
    if (o->truth) {
        FILE *fp = fopen(o->truth, "w");
        if (fp == NULL) {
            snprintf(err, sizeof(err), "cannot write %s: %s", o->truth, strerror(errno));
            rc = fail(err);
            goto out;
        }
        fclose(fp);
    }
    w = mw_pcap_out_open(o->out, o->pcapng, err, sizeof(err));
    if (w == NULL) {
        rc = fail(err);
        goto out;
    }
    if (mw_inject_prepare(inj) != MW_OK) {
        rc = fail("cannot register injections");
        goto out;
    }
    normal = mw_normal_create(sg);
    if (normal == NULL) {
        rc = fail("out of memory");
        goto out;
    }
    for (uint64_t t = sg->start_s; t < sg->end_s && sg->err == 0; t += SLICE_S) {
        uint64_t t1 = t + SLICE_S < sg->end_s ? t + SLICE_S : sg->end_s;
        mw_normal_slice(normal, t, t1);
        mw_inject_slice(inj, t, t1);
        int e = mw_pkt_queue_flush(sg->q, t1 * MW_SG_US, w, &written);
        if (e != MW_OK && sg->err == 0)
            sg->err = e;
    }
    if (sg->err == 0) {
        int e = mw_pkt_queue_flush(sg->q, UINT64_MAX, w, &written);
        if (e != MW_OK)
            sg->err = e;
    }
    if (sg->err != 0) {
        snprintf(err, sizeof(err), "generation failed (%s)",
                sg->err == MW_EIO     ? "write error on output"
                : sg->err == MW_EFULL ? "frame queue full"
                                      : "internal error");
        rc = fail(err);
        goto out;
    }
    if (mw_pcap_out_close(w) != MW_OK) {
        w = NULL;
        snprintf(err, sizeof(err), "write error on %s", o->out);
        rc = fail(err);
        goto out;
    }
    w = NULL;
    if (mw_truth_dropped(sg->truth) > 0)
        fprintf(stderr,
                "mw-scengen: warning: ground truth is capped; %llu injected flows are in the "
                "pcap but not in %s\n",
                (unsigned long long)mw_truth_dropped(sg->truth), o->truth ? o->truth : "the truth");
    if (o->truth && mw_truth_write(sg->truth, o->truth, err, sizeof(err)) != MW_OK) {
        rc = fail(err);
        goto out;
    }
    if (!o->quiet) {
        double el = now_s() - t_begin;
        fprintf(stderr, "mw-scengen: %llu frames, %llu bytes in %.3f s (%.0f frames/s)\n",
                (unsigned long long)written, (unsigned long long)sg->bytes, el,
                el > 0 ? (double)written / el : 0.0);
    }
out:
    mw_pcap_out_close(w);
    mw_normal_destroy(normal);
    mw_inject_destroy(inj);
    mw_truth_destroy(sg->truth);
    mw_pkt_queue_destroy(sg->q);
    free(sg);
    return rc;
}

/* Parses argv into o: 0 to run, 1 after --help, 2 on a bad argument (message printed). */
static int parse_args(opts_t *o, int argc, char **argv, const struct option *longopts)
{
    char err[512];
    int c, idx, rc;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, &idx)) != -1) {
        const char *name;
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        if (c == '?') {
            if (optopt)
                snprintf(err, sizeof(err), "option -%c: unknown or missing its value", optopt);
            else
                snprintf(err, sizeof(err), "unknown option or missing value: %s", argv[optind - 1]);
            fprintf(stderr, "mw-scengen: %s (try --help)\n", err);
            return 2;
        }
        name = c == 'o' ? "output" : c == 'q' ? "quiet" : longopts[idx].name;
        if (c == 0 && strcmp(name, "scenario") == 0)
            rc = read_scenario(o, optarg, err, sizeof(err));
        else
            rc = apply(o, name, optarg ? optarg : "", err, sizeof(err));
        if (rc != MW_OK) {
            fprintf(stderr, "mw-scengen: %s\n", err);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mw-scengen: unexpected argument '%s' (try --help)\n", argv[optind]);
        return 2;
    }
    if (o->out == NULL) {
        fprintf(stderr, "mw-scengen: -o OUT.pcap is required (try --help)\n");
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "truth", required_argument, NULL, 0 },
        { "inventory", required_argument, NULL, 0 },
        { "seed", required_argument, NULL, 0 },
        { "start", required_argument, NULL, 0 },
        { "days", required_argument, NULL, 0 },
        { "base-stations", required_argument, NULL, 0 },
        { "scale", required_argument, NULL, 0 },
        { "site", required_argument, NULL, 0 },
        { "inject", required_argument, NULL, 0 },
        { "scenario", required_argument, NULL, 0 },
        { "pcapng", no_argument, NULL, 0 },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    opts_t o;
    int rc;

    memset(&o, 0, sizeof(o));
    o.seed = 1;
    o.days = 1;
    o.scale = 1;
    o.nbs = 4;
    o.site = "demo-site";
    mw_parse_iso("2026-11-02T00:00:00Z", &o.start);

    rc = parse_args(&o, argc, argv, longopts);
    if (rc == 0)
        rc = run(&o);
    else if (rc == 1)
        rc = 0; /* --help */
    for (int i = 0; i < o.nowned; i++)
        free(o.owned[i]);
    return rc;
}
