/*
 * extract_cli.c - `mastwatch extract` arguments (getopt_long, options may
 * follow the source files), its messages and exit status: 0 written,
 * 1 failed, 2 usage. The work is extract.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mw.h"
#include "engine/extract.h"

enum { OPT_RESULTS = 256, OPT_ANOMALY, OPT_FLOW, OPT_FROM, OPT_TO, OPT_RING, OPT_FORCE };

static int parse_id(const char *opt, const char *s, uint64_t *out, char *errbuf, size_t errlen)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
    if (errno != 0 || v == 0 || *end != '\0') {
        mw_fmt_err(errbuf, errlen, "%s: expected a positive whole number, got '%s'", opt, s);
        return MW_EINVAL;
    }
    *out = v;
    return 0;
}

/* "1794187802.926213" (epoch seconds) or "2026-11-09T01:30:02[.926213][Z]" (UTC). */
static int parse_time(const char *opt, const char *s, int64_t *out, char *errbuf, size_t errlen)
{
    struct tm tm;
    const char *frac = NULL, *p;
    int64_t secs, us = 0;
    int digits = 0;

    memset(&tm, 0, sizeof(tm));
    p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (p == NULL)
        p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
    if (p != NULL) {
        secs = (int64_t)timegm(&tm);
    } else {
        char *end;
        long long v;
        errno = 0;
        v = s[0] >= '0' && s[0] <= '9' ? strtoll(s, &end, 10) : -1;
        if (errno != 0 || v < 0 || v > 100LL * 365 * 86400 * 100)
            goto bad;
        secs = v;
        p = end;
    }
    if (*p == '.') {
        frac = ++p;
        while (*p >= '0' && *p <= '9') {
            if (digits < 6) {
                us = us * 10 + (*p - '0');
                digits++;
            }
            p++;
        }
        if (p == frac)
            goto bad;
        while (digits < 6) {
            us *= 10;
            digits++;
        }
    }
    if (*p == 'Z')
        p++;
    if (*p != '\0')
        goto bad;
    *out = secs * 1000000 + us;
    return 0;
bad:
    mw_fmt_err(errbuf, errlen,
            "%s: expected epoch seconds (1794187802.5) or UTC 2026-11-09T01:30:02Z, got '%s'", opt,
            s);
    return MW_EINVAL;
}

/* 0, 1 for --help, or MW_EINVAL with a message. */
static int parse_args(mw_extract_opts_t *o, int argc, char **argv, char *errbuf, size_t errlen)
{
    static const struct option longopts[] = {
        { "results", required_argument, NULL, OPT_RESULTS },
        { "anomaly", required_argument, NULL, OPT_ANOMALY },
        { "flow", required_argument, NULL, OPT_FLOW },
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "filter", required_argument, NULL, 'f' },
        { "ring", required_argument, NULL, OPT_RING },
        { "output", required_argument, NULL, 'o' },
        { "force", no_argument, NULL, OPT_FORCE },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c, rc = 0;

    memset(o, 0, sizeof(*o));
    optind = 0;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":o:f:qh", longopts, NULL)) != -1) {
        switch (c) {
            case OPT_RESULTS:
                o->results = optarg;
                break;
            case OPT_ANOMALY:
                rc = parse_id("--anomaly", optarg, &o->anomaly_id, errbuf, errlen);
                break;
            case OPT_FLOW:
                rc = parse_id("--flow", optarg, &o->flow_id, errbuf, errlen);
                break;
            case OPT_FROM:
                rc = parse_time("--from", optarg, &o->from_us, errbuf, errlen);
                o->have_from = 1;
                break;
            case OPT_TO:
                rc = parse_time("--to", optarg, &o->to_us, errbuf, errlen);
                o->have_to = 1;
                break;
            case 'f':
                o->filter = optarg;
                break;
            case OPT_RING:
                o->ring = optarg;
                break;
            case 'o':
                o->output = optarg;
                break;
            case OPT_FORCE:
                o->force = 1;
                break;
            case 'q':
                o->quiet = 1;
                break;
            case 'h':
                return 1;
            case ':':
                mw_fmt_err(errbuf, errlen, "option %s needs a value", argv[optind - 1]);
                return MW_EINVAL;
            default:
                mw_fmt_err(errbuf, errlen, "unknown option '%s' (see 'mastwatch help extract')",
                        argv[optind - 1]);
                return MW_EINVAL;
        }
    }
    if (rc != 0)
        return rc;
    o->sources = (const char *const *)(argv + optind);
    o->nsources = (size_t)(argc - optind);
    if (o->output == NULL) {
        mw_fmt_err(errbuf, errlen, "extract: -o OUT.pcap is required");
        return MW_EINVAL;
    }
    if ((o->anomaly_id != 0) + (o->flow_id != 0) + (o->have_from && o->have_to) != 1 ||
            (o->anomaly_id == 0 && o->flow_id == 0 && (o->have_from != o->have_to))) {
        mw_fmt_err(errbuf, errlen,
                "extract: give one of --anomaly ID, --flow FLOW_ID or --from TIME --to TIME");
        return MW_EINVAL;
    }
    if ((o->anomaly_id != 0 || o->flow_id != 0) && o->results == NULL) {
        mw_fmt_err(errbuf, errlen, "extract: --anomaly and --flow need --results RUN.h5");
        return MW_EINVAL;
    }
    if (o->ring != NULL && o->nsources > 0) {
        mw_fmt_err(errbuf, errlen, "extract: give capture files or --ring DIR, not both");
        return MW_EINVAL;
    }
    if (o->results == NULL && o->ring == NULL && o->nsources == 0) {
        mw_fmt_err(errbuf, errlen, "extract: no source: give capture files or --ring DIR");
        return MW_EINVAL;
    }
    if (o->have_from && o->have_to && o->to_us < o->from_us) {
        mw_fmt_err(errbuf, errlen, "extract: --to is before --from");
        return MW_EINVAL;
    }
    return 0;
}

/* The output name quoted for a POSIX shell. */
static void print_quoted(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    }
    fputc('\'', out);
}

int mw_extract_main(int argc, char **argv)
{
    mw_extract_opts_t o;
    mw_extract_result_t res;
    char err[MW_ERRBUF_SIZE] = "";
    int rc = parse_args(&o, argc, argv, err, sizeof(err));

    if (rc != 0) {
        mw_log_error("%s", err);
        return 2;
    }
    rc = mw_extract_run(&o, &res, err, sizeof(err));
    if (rc != 0) {
        mw_log_error("%s", err);
        return 1;
    }
    if (!o.quiet) {
        printf("extracted %llu packets (of %llu read from %zu file%s) to %s\n",
                (unsigned long long)res.packets_written, (unsigned long long)res.packets_read,
                res.files_read, res.files_read == 1 ? "" : "s", o.output);
        fputs("open: wireshark -r ", stdout);
        print_quoted(stdout, o.output);
        fputc('\n', stdout);
    }
    return 0;
}
