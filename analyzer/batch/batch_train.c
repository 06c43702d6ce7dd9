/*
 * batch_train.c - keeps each site's model current from its clean nights.
 * Training and merging run as child processes of this same binary (like the
 * analysis), so the model code is the one `mastwatch train` and `model
 * merge` use. The model is replaced only by rename: a crash leaves the old
 * model or the new one, plus MODEL.prev. state/trained.tsv lists the results
 * files already folded in, so a second run of the same night does not count
 * them twice.
 */
#include "batch/batch_train.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch/batch_exec.h"
#include "batch/batch_util.h"
#include "core/mw.h"

static int run_child(const char *exe, char **argv, const char *log)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    int st = mw__batch_exec_wait(exe, argv, fd);

    if (fd >= 0)
        close(fd);
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Renames merged over model, keeping model as model.prev. */
static int replace_model(const char *model, const char *merged, char *errbuf, size_t errlen)
{
    char *prev = mw__batch_printf("%s.prev", model);
    int rc = MW_EIO;

    if (prev == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    if (mw__batch_fsync_path(merged, errbuf, errlen) != 0)
        goto out;
    if ((unlink(prev) != 0 && errno != ENOENT) || link(model, prev) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot keep %s", prev);
        goto out;
    }
    if (rename(merged, model) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot rename %s to %s", merged, model);
        goto out;
    }
    rc = mw__batch_fsync_parent(model, errbuf, errlen);
out:
    free(prev);
    return rc;
}

int mw__batch_train_local(void *ctx, const char *exe, const mw_batch_site_t *site,
        char *const *fresh, size_t nfresh, const char *out, const char *log)
{
    char **argv = calloc(nfresh + 8, sizeof(char *));
    size_t i, k = 0;
    int rc;

    (void)ctx;
    if (argv == NULL)
        return -1;
    argv[k++] = (char *)"mastwatch";
    argv[k++] = (char *)"train";
    argv[k++] = (char *)"-q";
    argv[k++] = (char *)"--inventory";
    argv[k++] = site->inventory;
    argv[k++] = (char *)"-o";
    argv[k++] = (char *)out;
    for (i = 0; i < nfresh; i++)
        argv[k++] = fresh[i];
    argv[k] = NULL;
    rc = run_child(exe, argv, log);
    free(argv);
    return rc;
}

static int train_site(const char *exe, const mw_batch_night_t *nt, mw_batch_state_t *st,
        const mw_batch_site_t *site, mw_batch_train_fn train_fn, void *ctx)
{
    char **argv = calloc(nt->n + 12, sizeof(char *));
    char **fresh = calloc(nt->n + 1, sizeof(char *));
    char *tmp = mw__batch_printf("%s.night.%ld.h5", site->model, (long)getpid());
    char *merged = mw__batch_printf("%s.merge.%ld.h5", site->model, (long)getpid());
    char *log = mw__batch_printf("%s/train-%s.log", nt->dir, site->name);
    char err[MW_ERRBUF_SIZE] = "";
    size_t i, k = 0, nfresh = 0, high = 0;
    int rc = -1;

    if (argv == NULL || fresh == NULL || tmp == NULL || merged == NULL || log == NULL) {
        fprintf(stderr, "mastwatch: batch: train %s: out of memory\n", site->name);
        goto out;
    }
    for (i = 0; i < nt->n; i++) {
        const mw_batch_night_capture_t *c = &nt->caps[i];
        if (c->rec->site == NULL || strcmp(c->rec->site, site->name) != 0 || !c->have_info)
            continue;
        if (c->info.max_severity >= 3)
            high++;
        if (c->rec->status == MW_BS_DONE && c->info.complete &&
                !mw__batch_state_trained(st, nt->night, c->rec->results))
            fresh[nfresh++] = mw__batch_printf("%s/%s", nt->dir, c->rec->results);
    }
    if (high > 0) {
        fprintf(stderr,
                "mastwatch: batch: train %s: model unchanged: %zu capture(s) with high or "
                "critical anomalies tonight\n",
                site->name, high);
        rc = 0;
        goto out;
    }
    if (nfresh == 0) {
        fprintf(stderr, "mastwatch: batch: train %s: model unchanged: no new complete results\n",
                site->name);
        rc = 0;
        goto out;
    }
    for (i = 0; i < nfresh; i++)
        if (fresh[i] == NULL)
            goto out;
    if (train_fn(ctx, exe, site, fresh, nfresh, tmp, log) != 0) {
        fprintf(stderr, "mastwatch: batch: train %s: training failed (see %s)\n", site->name, log);
        goto out;
    }
    k = 0;
    argv[k++] = (char *)"mastwatch";
    argv[k++] = (char *)"model";
    argv[k++] = (char *)"merge";
    argv[k++] = (char *)"-o";
    argv[k++] = merged;
    argv[k++] = site->model;
    argv[k++] = tmp;
    argv[k] = NULL;
    if (run_child(exe, argv, log) != 0) {
        fprintf(stderr, "mastwatch: batch: train %s: merging into %s failed (see %s)\n", site->name,
                site->model, log);
        goto out;
    }
    if (replace_model(site->model, merged, err, sizeof(err)) != 0) {
        fprintf(stderr, "mastwatch: batch: train %s: %s\n", site->name, err);
        goto out;
    }
    for (i = 0; i < nt->n; i++) {
        const mw_batch_night_capture_t *c = &nt->caps[i];
        if (c->rec->site != NULL && strcmp(c->rec->site, site->name) == 0 && c->have_info &&
                c->rec->status == MW_BS_DONE && c->info.complete &&
                !mw__batch_state_trained(st, nt->night, c->rec->results) &&
                mw__batch_state_mark_trained(
                        st, nt->night, site->name, c->rec->results, err, sizeof(err)) != 0) {
            fprintf(stderr, "mastwatch: batch: train %s: %s\n", site->name, err);
            goto out;
        }
    }
    fprintf(stderr,
            "mastwatch: batch: train %s: folded %zu results file(s) into %s (previous: %s.prev)\n",
            site->name, nfresh, site->model, site->model);
    rc = 0;
out:
    if (tmp != NULL)
        unlink(tmp);
    if (merged != NULL)
        unlink(merged);
    for (i = 0; fresh != NULL && i < nfresh; i++)
        free(fresh[i]);
    free(fresh);
    free(argv);
    free(tmp);
    free(merged);
    free(log);
    return rc;
}

int mw__batch_train(const char *exe, const mw_batch_night_t *nt, mw_batch_state_t *st,
        mw_batch_train_fn train_fn, void *ctx)
{
    size_t i;
    int failed = 0;

    for (i = 0; i < mw__batch_config_nsites(nt->config); i++) {
        const mw_batch_site_t *s = mw__batch_config_site(nt->config, i);
        if (s->model == NULL) {
            fprintf(stderr, "mastwatch: batch: train %s: no model configured\n", s->name);
            continue;
        }
        if (train_site(exe, nt, st, s, train_fn, ctx) != 0)
            failed++;
    }
    return failed;
}
