/*
 * batch_job.c - one capture, one `mastwatch analyze` child. The child
 * writes X.h5.partial and renames it; only then, and after the results and
 * anomalies are fsynced and renamed into place, is the capture reported to
 * whoever keeps the state: a record never points at something a crash can
 * still take away.
 */
#include "batch/batch_job.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/mw.h"

int mw__batch_job_name(mw_batch_job_t *j, char *base, const char *nightdir)
{
    j->base = base;
    if (base == NULL)
        return MW_ENOMEM;
    j->results = mw__batch_printf("%s/%s.h5", nightdir, base);
    j->anom = mw__batch_printf("%s/%s.anomalies.jsonl", nightdir, base);
    j->anom_tmp = mw__batch_printf("%s/%s.anomalies.jsonl.partial", nightdir, base);
    j->log = mw__batch_printf("%s/%s.log", nightdir, base);
    return j->results && j->anom && j->anom_tmp && j->log ? 0 : MW_ENOMEM;
}

int mw__batch_job_prepare(mw_batch_job_t *j, char *const **argv, int *log_fd)
{
    char err[MW_ERRBUF_SIZE];
    char *dir = mw__batch_dirname(j->results);
    size_t k = 0;

    if (dir == NULL || mw__batch_mkdirs(dir, err, sizeof(err)) != 0) {
        free(dir);
        return -1; /* finished() is not called: the capture stays pending */
    }
    free(dir);
    (void)unlink(j->results);
    (void)unlink(j->anom);
    (void)unlink(j->anom_tmp);
    *log_fd = open(j->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    mw__batch_utc(mw__batch_now(), j->started);
    j->argv[k++] = (char *)"mastwatch";
    j->argv[k++] = (char *)"analyze";
    j->argv[k++] = (char *)"-q";
    j->argv[k++] = (char *)"--inventory";
    j->argv[k++] = (char *)j->inventory;
    if (j->model != NULL) {
        j->argv[k++] = (char *)"--model";
        j->argv[k++] = (char *)j->model;
        j->argv[k++] = (char *)"--anomalies";
        j->argv[k++] = j->anom_tmp;
    }
    if (j->no_vlan_tracking)
        j->argv[k++] = (char *)"--no-vlan-tracking";
    if (j->dedup)
        j->argv[k++] = (char *)"--dedup";
    j->argv[k++] = (char *)"-o";
    j->argv[k++] = j->results;
    j->argv[k++] = (char *)"--";
    j->argv[k++] = (char *)j->path;
    j->argv[k] = NULL;
    *argv = j->argv;
    return 0;
}

/* analyze's first "mastwatch: " line in the log, without the prefix. */
static char *error_from_log(const char *log)
{
    FILE *f = fopen(log, "r");
    char *line = NULL, *out = NULL;
    size_t cap = 0;

    if (f == NULL)
        return NULL;
    while (out == NULL && getline(&line, &cap, f) > 0) {
        if (strncmp(line, "mastwatch: ", 11) != 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        out = strdup(line + 11);
    }
    free(line);
    fclose(f);
    return out;
}

void mw__batch_job_record_free(mw_batch_record_t *rec)
{
    free(rec->error);
    free(rec->log);
    free(rec->results);
    free(rec->anomalies);
    rec->error = rec->log = rec->results = rec->anomalies = NULL;
}

int mw__batch_job_finish(mw_batch_job_t *j, const char *night, int wstatus, int errno_value,
        int stopping, mw_batch_record_t *rec, char *errbuf, size_t errlen)
{
    struct stat st;
    int ok = wstatus >= 0 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;

    memset(rec, 0, sizeof(*rec));
    if (stopping && !ok) {
        /* stopped by us: not a result; done again next run */
        (void)unlink(j->results);
        (void)unlink(j->anom_tmp);
        return 1;
    }
    snprintf(rec->night, sizeof(rec->night), "%s", night);
    rec->size = j->size;
    rec->mtime_ns = j->mtime_ns;
    memcpy(rec->started_utc, j->started, sizeof(rec->started_utc));
    mw__batch_utc(mw__batch_now(), rec->finished_utc);
    rec->path = (char *)j->path;
    rec->site = (char *)j->site;
    rec->status = ok ? MW_BS_DONE : MW_BS_FAILED;
    rec->exit_code = wstatus < 0          ? -1
                     : WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
                                          : 128 + WTERMSIG(wstatus);
    if (wstatus < 0)
        rec->error = mw__batch_printf("cannot start analyze: %s", strerror(errno_value));
    else if (WIFSIGNALED(wstatus))
        rec->error = mw__batch_printf("analyze was killed by signal %d", WTERMSIG(wstatus));
    else if (!ok)
        rec->error = error_from_log(j->log);
    rec->log = mw__batch_printf("%s.log", j->base);
    /* only a results file analyze finished (renamed from .partial) counts */
    if (stat(j->results, &st) == 0) {
        if (mw__batch_fsync_path(j->results, errbuf, errlen) != 0)
            goto fail;
        rec->results = mw__batch_printf("%s.h5", j->base);
        if (stat(j->anom_tmp, &st) == 0) {
            if (mw__batch_commit(j->anom_tmp, j->anom, errbuf, errlen) != 0)
                goto fail;
            rec->anomalies = mw__batch_printf("%s.anomalies.jsonl", j->base);
        }
    }
    if (mw__batch_fsync_parent(j->results, errbuf, errlen) != 0)
        goto fail;
    return 0;
fail:
    mw__batch_job_record_free(rec);
    return MW_EIO;
}

void mw__batch_job_free(mw_batch_job_t *j)
{
    free(j->base);
    free(j->results);
    free(j->anom);
    free(j->anom_tmp);
    free(j->log);
    j->base = j->results = j->anom = j->anom_tmp = j->log = NULL;
}
