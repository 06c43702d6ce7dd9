/*
 * batch_opts.h - the batch command's options (batch_opts.c parses argv).
 */
#ifndef MW_BATCH_OPTS_H
#define MW_BATCH_OPTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_batch_opts {
    const char *config;       /* --config batch.yaml */
    const char *outdir;       /* -o OUTDIR */
    unsigned jobs;            /* --jobs N (default: online CPUs) */
    int jobs_set;             /* --jobs was given (MPI ranks default to 1 each) */
    char night[11];           /* --night YYYY-MM-DD (default: local date at start) */
    int64_t min_age_s;        /* --min-age SECONDS (default 60) */
    int train;                /* --train */
    int retry_failed;         /* --retry-failed */
    int quiet;                /* -q */
    int help;                 /* -h/--help: print usage, nothing else */
    const char *const *spool; /* SPOOL... (points into argv) */
    size_t nspool;
} mw_batch_opts_t;

/* Parses argv (argv[0] = "batch"). 0, or MW_EINVAL with a one-line message. */
int mw__batch_opts_parse(
        mw_batch_opts_t *o, int argc, char **argv, int64_t now, char *errbuf, size_t errlen);

#endif
