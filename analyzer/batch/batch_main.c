/*
 * batch_main.c - `mastwatch batch`, the nightly run: lock the output tree,
 * find the captures not yet done, analyze them N at a time (each in its own
 * `mastwatch analyze` child, batch_exec.c), record each one once its
 * results are durable (batch_state.c), then rebuild the night's index and
 * summary (batch_night.c) and optionally fold a clean night into the models
 * (batch_train.c). Layout and formats: docs/BATCH.md.
 */
#include "batch/batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch/batch_config.h"
#include "batch/batch_exec.h"
#include "batch/batch_job.h"
#include "batch/batch_night.h"
#include "batch/batch_mpi.h"
#include "batch/batch_opts.h"
#include "batch/batch_run.h"
#include "batch/batch_spool.h"
#include "batch/batch_state.h"
#include "batch/batch_train.h"
#include "batch/batch_util.h"
#include "core/mw.h"

static const char batch_usage[] =
        "usage: mastwatch batch --config BATCH.yaml -o OUTDIR [options] SPOOL...\n"
        "Analyzes the captures of SPOOL directories (recursively) and globs that are not done\n"
        "yet, each in its own process, into OUTDIR/NIGHT/captures/SITE/NAME.h5, then rebuilds\n"
        "OUTDIR/NIGHT/index.h5 (the night as one table), anomalies.jsonl and night.json.\n"
        "Captures may be pcap or pcapng, plain, gzip or zstd. See docs/BATCH.md.\n\n"
        "  -c, --config FILE        sites: name, match patterns, inventory, model,\n"
        "                           vlan_tracking, dedup (YAML)\n"
        "  -o, --output OUTDIR      output tree (state in OUTDIR/state, locked while running)\n"
        "  -j, --jobs N             captures analyzed at once (default: online CPUs)\n"
        "      --night YYYY-MM-DD   the night to file results under (default: today, local)\n"
        "      --min-age SEC        leave files modified less than SEC ago (default 60)\n"
        "      --retry-failed       analyze again captures that failed before\n"
        "      --train              fold a night without high/critical anomalies into the\n"
        "                           site's model (previous model kept as MODEL.prev)\n"
        "  -q, --quiet              no progress lines\n"
        "  -h, --help               this help\n\n"
        "exit status: 0 nothing found; 1 anomalies found; 2 usage or configuration error;\n"
        "3 something could not be analyzed (a capture failed or matched no site, another\n"
        "batch holds OUTDIR, output not writable) - 3 wins over 1; 128+N stopped by signal N.\n";

const char *mw_batch_usage(void)
{
    return batch_usage;
}

typedef struct run {
    const mw_batch_opts_t *opts;
    mw_batch_config_t *cfg;
    mw_batch_state_t *st;
    char *nightdir; /* absolute */
    char exe[PATH_MAX];
    mw_batch_files_t files;
    mw_batch_job_t *jobs;
    size_t njobs, ndone;
    mw_batch_record_t *extra; /* this run's not-matched and too-young captures */
    size_t nextra;
    char error[MW_ERRBUF_SIZE]; /* what stopped the run */
} run_t;

/* ---- names --------------------------------------------------------------- */

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);

    return a > b && strcmp(s + a - b, suf) == 0;
}

/* The capture's base name without .gz/.zst and .pcap/.pcapng/.cap. */
static char *stem_of(const char *path)
{
    static const char *const comp[] = { ".gz", ".zst" }, *const ext[] = { ".pcapng", ".pcap",
        ".cap" };
    const char *slash = strrchr(path, '/');
    char *s = strdup(slash != NULL ? slash + 1 : path);
    size_t i;

    if (s == NULL)
        return NULL;
    for (i = 0; i < MW_ARRAY_LEN(comp); i++)
        if (has_suffix(s, comp[i]))
            s[strlen(s) - strlen(comp[i])] = '\0';
    for (i = 0; i < MW_ARRAY_LEN(ext); i++)
        if (has_suffix(s, ext[i])) {
            s[strlen(s) - strlen(ext[i])] = '\0';
            break;
        }
    return s;
}

static uint32_t fnv1a(const char *s, uint64_t size, int64_t mtime)
{
    uint32_t h = 2166136261u;
    char num[64];

    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    snprintf(num, sizeof(num), "|%llu|%lld", (unsigned long long)size, (long long)mtime);
    for (s = num; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* Is results name (base + ".h5") taken by another capture of the night? */
static int name_taken(const run_t *r, const char *base, size_t upto)
{
    char *res = mw__batch_printf("%s.h5", base);
    size_t i;
    int taken = res == NULL;

    for (i = 0; !taken && i < mw__batch_state_count(r->st); i++) {
        const mw_batch_record_t *rec = mw__batch_state_get(r->st, i);
        taken = strcmp(rec->night, r->opts->night) == 0 && rec->results != NULL &&
                strcmp(rec->results, res) == 0;
    }
    for (i = 0; !taken && i < upto; i++)
        taken = strcmp(r->jobs[i].base, base) == 0;
    free(res);
    return taken;
}

static int name_job(run_t *r, size_t k)
{
    mw_batch_job_t *j = &r->jobs[k];
    char *stem = stem_of(j->path), *base;

    if (stem == NULL)
        return MW_ENOMEM;
    base = mw__batch_printf("captures/%s/%s", j->site, stem[0] ? stem : "capture");
    if (base != NULL && name_taken(r, base, k)) {
        free(base);
        base = mw__batch_printf("captures/%s/%s-%08x", j->site, stem[0] ? stem : "capture",
                fnv1a(j->path, j->size, j->mtime_ns));
    }
    free(stem);
    return mw__batch_job_name(j, base, r->nightdir);
}

/* ---- stale files --------------------------------------------------------- */

/* Removes what an interrupted run left: *.partial*, *.tmp.* (no batch runs: we hold the lock). */
static void sweep(const char *dir, int depth)
{
    DIR *d = depth < 8 ? opendir(dir) : NULL;
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        char *p;
        if (e->d_name[0] == '.' || (depth == 0 && strcmp(e->d_name, "state") == 0))
            continue;
        p = mw__batch_printf("%s/%s", dir, e->d_name);
        if (p == NULL)
            break;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            sweep(p, depth + 1);
        else if (strstr(e->d_name, ".partial") != NULL || strstr(e->d_name, ".tmp.") != NULL)
            (void)unlink(p);
        free(p);
    }
    closedir(d);
}

/* ---- one capture --------------------------------------------------------- */

static int job_prepare(void *ctx, size_t i, char *const **argv, int *log_fd)
{
    run_t *r = ctx;

    return mw__batch_job_prepare(&r->jobs[i], argv, log_fd);
}

/* Appends a finished capture to the state (one writer: this process). */
static int record_job(void *ctx, size_t i, const mw_batch_record_t *rec)
{
    run_t *r = ctx;
    char err[MW_ERRBUF_SIZE];
    int ok = rec->status == MW_BS_DONE;

    if (mw__batch_state_append(r->st, rec, err, sizeof(err)) != 0) {
        snprintf(r->error, sizeof(r->error), "%s", err);
        fprintf(stderr, "mastwatch: batch: %s\n", err);
        return -1;
    }
    r->ndone++;
    if (!r->opts->quiet || !ok)
        fprintf(stderr, "mastwatch: batch: [%zu/%zu] %s %s%s%s\n", r->ndone, r->njobs,
                ok ? "done" : "FAILED", r->jobs[i].path, rec->error ? ": " : "",
                rec->error ? rec->error : "");
    return 0;
}

static int job_finished(void *ctx, size_t i, int wstatus, int errno_value, int stopping)
{
    run_t *r = ctx;
    mw_batch_record_t rec;
    char err[MW_ERRBUF_SIZE];
    int rc = mw__batch_job_finish(
            &r->jobs[i], r->opts->night, wstatus, errno_value, stopping, &rec, err, sizeof(err));

    if (rc == 1) {
        if (!r->opts->quiet)
            fprintf(stderr, "mastwatch: batch: %s: interrupted, left for the next run\n",
                    r->jobs[i].path);
        return 0;
    }
    if (rc != 0) {
        snprintf(r->error, sizeof(r->error), "%s", err);
        fprintf(stderr, "mastwatch: batch: %s\n", err);
        return -1;
    }
    rc = record_job(r, i, &rec);
    mw__batch_job_record_free(&rec);
    return rc;
}

/* ---- the run ------------------------------------------------------------- */

static int add_extra(run_t *r, const mw_batch_file_t *f, enum mw_batch_status s)
{
    mw_batch_record_t *rec;

    rec = &r->extra[r->nextra];
    memset(rec, 0, sizeof(*rec));
    memcpy(rec->night, r->opts->night, sizeof(rec->night));
    rec->status = s;
    rec->exit_code = -1;
    rec->size = f->size;
    rec->mtime_ns = f->mtime_ns;
    rec->path = f->path; /* borrowed from r->files */
    r->nextra++;
    return 0;
}

/* Sorts out the spool: done before, too young, no site, to do. */
static int plan(run_t *r, char *errbuf, size_t errlen)
{
    int64_t now = mw__batch_now();
    size_t i;

    r->jobs = calloc(r->files.n + 1, sizeof(*r->jobs));
    r->extra = calloc(r->files.n + 1, sizeof(*r->extra));
    if (r->jobs == NULL || r->extra == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    for (i = 0; i < r->files.n; i++) {
        const mw_batch_file_t *f = &r->files.v[i];
        const mw_batch_record_t *done = mw__batch_state_find(r->st, f->path, f->size, f->mtime_ns);
        int site;
        if (done != NULL && (done->status == MW_BS_DONE || !r->opts->retry_failed))
            continue;
        if (now - f->mtime_ns / 1000000000LL < r->opts->min_age_s) {
            add_extra(r, f, MW_BS_YOUNG);
            continue;
        }
        site = mw__batch_config_match(r->cfg, f->path);
        if (site < 0) {
            fprintf(stderr, "mastwatch: batch: %s: matches no site of %s, not analyzed\n", f->path,
                    r->opts->config);
            add_extra(r, f, MW_BS_NOT_MATCHED);
            continue;
        }
        {
            const mw_batch_site_t *st = mw__batch_config_site(r->cfg, (size_t)site);
            mw_batch_job_t *j = &r->jobs[r->njobs];
            j->path = f->path;
            j->size = f->size;
            j->mtime_ns = f->mtime_ns;
            j->site = st->name;
            j->inventory = st->inventory;
            j->model = st->model;
            j->no_vlan_tracking = st->no_vlan_tracking;
            j->dedup = st->dedup;
        }
        if (name_job(r, r->njobs) != 0) {
            r->njobs++;
            mw_fmt_err(errbuf, errlen, "out of memory");
            return MW_ENOMEM;
        }
        r->njobs++;
    }
    return 0;
}

static int by_key(const void *a, const void *b)
{
    const mw_batch_record_t *x = ((const mw_batch_night_capture_t *)a)->rec;
    const mw_batch_record_t *y = ((const mw_batch_night_capture_t *)b)->rec;
    int c = strcmp(x->path, y->path);

    if (c != 0)
        return c;
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns < y->mtime_ns ? -1 : 1;
    return x->size < y->size ? -1 : x->size > y->size;
}

/* The night's captures: its latest state record per capture, plus this run's extras. */
static int collect_night(run_t *r, mw_batch_night_t *nt)
{
    size_t n = mw__batch_state_count(r->st), i, k;

    nt->caps = calloc(n + r->nextra + 1, sizeof(*nt->caps));
    if (nt->caps == NULL)
        return MW_ENOMEM;
    for (i = 0; i < n; i++) {
        const mw_batch_record_t *rec = mw__batch_state_get(r->st, i);
        if (strcmp(rec->night, r->opts->night) != 0 ||
                mw__batch_state_find(r->st, rec->path, rec->size, rec->mtime_ns) != rec)
            continue;
        nt->caps[nt->n++].rec = rec;
    }
    for (k = 0; k < r->nextra; k++)
        nt->caps[nt->n++].rec = &r->extra[k];
    qsort(nt->caps, nt->n, sizeof(*nt->caps), by_key);
    return 0;
}

static void free_run(run_t *r)
{
    size_t i;

    for (i = 0; r->jobs != NULL && i < r->njobs; i++)
        mw__batch_job_free(&r->jobs[i]);
    free(r->jobs);
    free(r->extra);
    mw__batch_spool_free(&r->files);
    mw__batch_state_close(r->st);
    mw__batch_config_destroy(r->cfg);
    free(r->nightdir);
}

static int finish_night(run_t *r, int stop, const char *started, const mw_batch_driver_t *drv)
{
    mw_batch_night_t nt;
    char err[MW_ERRBUF_SIZE] = "";
    int code, train_failed = 0;

    memset(&nt, 0, sizeof(nt));
    nt.night = r->opts->night;
    nt.dir = r->nightdir;
    nt.config = r->cfg;
    snprintf(nt.started_utc, sizeof(nt.started_utc), "%s", started);
    if (stop != 0 && r->error[0] == '\0')
        snprintf(r->error, sizeof(r->error), "stopped by signal %d", stop);
    nt.run_error = r->error[0] != '\0' ? r->error : NULL;
    if (collect_night(r, &nt) != 0) {
        fprintf(stderr, "mastwatch: batch: out of memory\n");
        return 3;
    }
    if (mw__batch_night_write(&nt, err, sizeof(err)) != 0) {
        fprintf(stderr, "mastwatch: batch: %s\n", err);
        free(nt.caps);
        return stop ? 128 + stop : 3;
    }
    if (r->opts->train && stop == 0 && r->error[0] == '\0')
        train_failed = mw__batch_train(r->exe, &nt, r->st,
                drv != NULL ? drv->train : mw__batch_train_local, drv != NULL ? drv->ctx : NULL);
    if (train_failed) { /* the night's report must say the model was not updated */
        char why[160];
        snprintf(why, sizeof(why),
                "training failed for %d site(s): the model was not updated (train-SITE.log)",
                train_failed);
        nt.train_error = why;
        if (mw__batch_night_rewrite_json(&nt, err, sizeof(err)) != 0)
            fprintf(stderr, "mastwatch: batch: %s\n", err);
        nt.train_error = NULL;
    }
    if (!r->opts->quiet || nt.failed || nt.not_matched)
        fprintf(stderr,
                "mastwatch: batch %s: %zu captures: %zu done, %zu failed, %zu not matched, %zu "
                "left for later; %llu flows, %llu anomalies -> %s/night.json\n",
                nt.night, nt.n, nt.done, nt.failed, nt.not_matched, nt.young,
                (unsigned long long)nt.flows, (unsigned long long)nt.anomalies, r->nightdir);
    if (stop != 0)
        code = 128 + stop;
    else if (r->error[0] != '\0' || nt.failed || nt.not_matched || train_failed)
        code = 3;
    else
        code = nt.anomalies > 0 ? 1 : 0;
    free(nt.caps);
    return code;
}

/* This process analyzes everything itself, --jobs children at a time. */
static int analyze_local(void *ctx, const mw_batch_pool_t *pool)
{
    (void)ctx;
    return mw__batch_exec_run(pool->exe, pool->njobs, pool->opts->jobs, &pool->local);
}

static const mw_batch_driver_t local_driver = { NULL, NULL, analyze_local, mw__batch_train_local };

/* Config, spool, lock, sweep, plan. 0, or the exit status (message printed). */
static int setup(run_t *r)
{
    const mw_batch_opts_t *opts = r->opts;
    char err[MW_ERRBUF_SIZE] = "";
    char *outdir = NULL;
    ssize_t n;
    size_t i;
    int busy = 0;

    r->cfg = mw__batch_config_load(opts->config, err, sizeof(err));
    if (r->cfg == NULL) {
        fprintf(stderr, "mastwatch: %s\n", err);
        return 2;
    }
    for (i = 0; i < opts->nspool; i++)
        if (mw__batch_spool_add(&r->files, opts->spool[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "mastwatch: batch: %s\n", err);
            return 2;
        }
    mw__batch_spool_finish(&r->files);
    n = readlink("/proc/self/exe", r->exe, sizeof(r->exe) - 1);
    if (n <= 0) {
        fprintf(stderr, "mastwatch: batch: cannot find this program (/proc/self/exe)\n");
        return 3;
    }
    r->exe[n] = '\0';
    if (mw__batch_exec_block_signals() != 0 ||
            mw__batch_mkdirs(opts->outdir, err, sizeof(err)) != 0 ||
            (outdir = mw__batch_abspath(opts->outdir)) == NULL ||
            (r->st = mw__batch_state_open(outdir, &busy, err, sizeof(err))) == NULL) {
        fprintf(stderr, "mastwatch: batch: %s\n", err[0] ? err : "cannot set up");
        free(outdir);
        return 3;
    }
    r->nightdir = mw__batch_printf("%s/%s", outdir, opts->night);
    sweep(outdir, 0);
    free(outdir);
    if (r->nightdir == NULL || mw__batch_mkdirs(r->nightdir, err, sizeof(err)) != 0 ||
            plan(r, err, sizeof(err)) != 0) {
        fprintf(stderr, "mastwatch: batch: %s\n", err[0] ? err : "out of memory");
        return 3;
    }
    return 0;
}

int mw__batch_run(const mw_batch_opts_t *opts, const mw_batch_driver_t *drv)
{
    run_t r;
    mw_batch_pool_t pool;
    char started[MW_BATCH_UTC_LEN];
    int stop, code;

    memset(&pool, 0, sizeof(pool));
    if (drv == NULL)
        drv = &local_driver;
    memset(&r, 0, sizeof(r));
    mw__batch_utc(mw__batch_now(), started);
    r.opts = opts;
    code = setup(&r);
    if (drv->setup_done != NULL)
        drv->setup_done(drv->ctx, code, code == 0 ? r.nightdir : NULL);
    if (code != 0) {
        free_run(&r);
        return code;
    }
    if (!opts->quiet)
        fprintf(stderr, "mastwatch: batch %s: %zu captures to analyze, %u at a time\n", opts->night,
                r.njobs, opts->jobs);
    /* the driver may still look at the jobs while training: pool lives until the end */
    pool.exe = r.exe;
    pool.nightdir = r.nightdir;
    pool.opts = opts;
    pool.jobs = r.jobs;
    pool.njobs = r.njobs;
    pool.local.ctx = &r;
    pool.local.prepare = job_prepare;
    pool.local.finished = job_finished;
    pool.record = record_job;
    pool.ctx = &r;
    stop = mw__batch_exec_pending_stop();
    if (stop == 0)
        stop = drv->analyze(drv->ctx, &pool);
    if (stop < 0) {
        if (r.error[0] == '\0')
            snprintf(r.error, sizeof(r.error), "cannot run the analysis processes");
        stop = 0;
    }
    code = finish_night(&r, stop, started, drv);
    stop = mw__batch_exec_pending_stop();
    if (stop != 0 && code < 128)
        code = 128 + stop;
    free_run(&r);
    return code;
}

int mw_batch_main(int argc, char **argv)
{
    mw_batch_opts_t opts;
    char err[MW_ERRBUF_SIZE] = "";

#ifdef MW_HAVE_MPI
    /* started by mpirun: the ranks share the run (batch_mpi.c) */
    if (mw__batch_mpi_launched())
        return mw__batch_mpi_main(argc, argv);
#endif
    if (mw__batch_opts_parse(&opts, argc, argv, mw__batch_now(), err, sizeof(err)) != 0) {
        fprintf(stderr, "mastwatch: %s\n", err);
        return 2;
    }
    if (opts.help) {
        fputs(batch_usage, stdout);
        return 0;
    }
    return mw__batch_run(&opts, NULL);
}
