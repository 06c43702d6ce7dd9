/*
 * batch_opts.c - the batch command line, kept apart from core/config.c
 * (which only routes "batch" here): its options are its own.
 */
#include "batch/batch_opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mw.h"

enum { OPT_NIGHT = 256, OPT_MIN_AGE, OPT_TRAIN, OPT_RETRY };

static int parse_night(const char *s, char out[11])
{
    struct tm tm;
    const char *end;
    char back[11];

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%d", &tm);
    if (end == NULL || *end != '\0' || strlen(s) != 10)
        return -1;
    tm.tm_isdst = -1;
    tm.tm_hour = 12;
    if (mktime(&tm) == (time_t)-1 || strftime(back, sizeof(back), "%Y-%m-%d", &tm) != 10 ||
            strcmp(back, s) != 0)
        return -1; /* 2026-02-30 and the like */
    memcpy(out, s, 11);
    return 0;
}

static int parse_num(const char *opt, const char *s, long long min, long long max, long long *out,
        char *errbuf, size_t errlen)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        mw_fmt_err(errbuf, errlen, "batch: %s wants a number from %lld to %lld, not '%s'", opt, min,
                max, s);
        return MW_EINVAL;
    }
    *out = v;
    return 0;
}

int mw__batch_opts_parse(
        mw_batch_opts_t *o, int argc, char **argv, int64_t now, char *errbuf, size_t errlen)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "output", required_argument, NULL, 'o' },
        { "jobs", required_argument, NULL, 'j' },
        { "night", required_argument, NULL, OPT_NIGHT },
        { "min-age", required_argument, NULL, OPT_MIN_AGE },
        { "train", no_argument, NULL, OPT_TRAIN },
        { "retry-failed", no_argument, NULL, OPT_RETRY },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    time_t t = (time_t)now;
    struct tm tm;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long long v;
    int c;

    memset(o, 0, sizeof(*o));
    o->jobs = cpus > 0 ? (unsigned)MW_MIN(cpus, 256) : 1;
    o->min_age_s = 60;
    if (localtime_r(&t, &tm) == NULL || strftime(o->night, sizeof(o->night), "%Y-%m-%d", &tm) != 10)
        snprintf(o->night, sizeof(o->night), "1970-01-01");
    optind = 0; /* glibc: start afresh */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:o:j:qh", longopts, NULL)) != -1) {
        switch (c) {
            case 'c':
                o->config = optarg;
                break;
            case 'o':
                o->outdir = optarg;
                break;
            case 'j':
                if (parse_num("--jobs", optarg, 1, 256, &v, errbuf, errlen) != 0)
                    return MW_EINVAL;
                o->jobs = (unsigned)v;
                o->jobs_set = 1;
                break;
            case OPT_NIGHT:
                if (parse_night(optarg, o->night) != 0) {
                    mw_fmt_err(errbuf, errlen, "batch: --night wants a date YYYY-MM-DD, not '%s'",
                            optarg);
                    return MW_EINVAL;
                }
                break;
            case OPT_MIN_AGE:
                if (parse_num("--min-age", optarg, 0, 365LL * 86400, &v, errbuf, errlen) != 0)
                    return MW_EINVAL;
                o->min_age_s = v;
                break;
            case OPT_TRAIN:
                o->train = 1;
                break;
            case OPT_RETRY:
                o->retry_failed = 1;
                break;
            case 'q':
                o->quiet = 1;
                break;
            case 'h':
                o->help = 1;
                return 0;
            case ':':
                mw_fmt_err(errbuf, errlen, "batch: %s needs a value", argv[optind - 1]);
                return MW_EINVAL;
            default:
                mw_fmt_err(errbuf, errlen,
                        "batch: unknown option '%s' (try 'mastwatch batch --help')",
                        argv[optind - 1]);
                return MW_EINVAL;
        }
    }
    o->spool = (const char *const *)(argv + optind);
    o->nspool = (size_t)(argc - optind);
    if (o->config == NULL || o->outdir == NULL || o->nspool == 0) {
        mw_fmt_err(errbuf, errlen, "batch: needs --config FILE, -o OUTDIR and at least one SPOOL");
        return MW_EINVAL;
    }
    return 0;
}
