/*
 * batch_mpi_train.c - --train across ranks. A model is sums, minima, maxima
 * and ORs of what each results file adds (`mastwatch train` folds file
 * after file into one model), so each rank trains the files it analyzed
 * itself and the models are reduced up a binomial tree to rank 0 with
 * `mastwatch model merge` (lower rank first), model files travelling as MPI
 * messages. Rank 0 then merges the result into the site's model exactly as
 * the single-process batch does (batch_train.c). Only the order in which
 * floating-point sums are added differs from one `train` over every file;
 * see docs/BATCH.md.
 */
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch/batch_exec.h"

#include "batch/batch_mpi_ctx.h"
#include "batch/batch_mpi_msg.h"
#include "batch/batch_train.h"
#include "batch/batch_util.h"

/* A `mastwatch model merge -o out a b` child, stderr to log. */
static int merge(const char *exe, const char *out, const char *a, const char *b, const char *log)
{
    char *argv[] = { (char *)"mastwatch", (char *)"model", (char *)"merge", (char *)"-o",
        (char *)out, (char *)a, (char *)b, NULL };
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    int st = mw__batch_exec_wait(exe, argv, fd);

    if (fd >= 0)
        close(fd);
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/*
 * Every rank: trains its files into mine (NULL: this rank cannot, its part
 * counts as failed), then takes part in the reduction.
 * On rank 0 returns 0 when mine holds the reduced model; elsewhere 0 once
 * its part is sent. -1 on failure (an MPI failure ends the job).
 */
static int reduce(mw_batch_mpi_t *m, mw_batch_site_t *site, char *const *files, size_t n,
        const char *mine, const char *log)
{
    char err[MW_ERRBUF_SIZE];
    char *recv = mine != NULL ? mw__batch_printf("%s.from.tmp.h5", mine) : NULL;
    char *merged = mine != NULL ? mw__batch_printf("%s.merge.tmp.h5", mine) : NULL;
    int have = 0, ok = recv != NULL && merged != NULL, step;

    if (ok && n > 0) {
        ok = mw__batch_train_local(NULL, m->exe, site, files, n, mine, log) == 0;
        have = ok;
    }
    for (step = 1; step < m->size; step <<= 1) {
        int got = 0;
        if (m->rank % (2 * step) == step) {
            if (mw__batch_msg_send_file(
                        have ? mine : NULL, !ok, m->rank - step, err, sizeof(err)) != 0)
                goto broken;
            break;
        }
        if (m->rank + step >= m->size)
            continue;
        if (mw__batch_msg_recv_file(ok ? recv : NULL, m->rank + step, &got, err, sizeof(err)) != 0)
            goto broken;
        if (got < 0)
            ok = 0;
        else if (got == 1 && ok && !have)
            have = ok = rename(recv, mine) == 0;
        else if (got == 1 && ok)
            ok = merge(m->exe, merged, mine, recv, log) == 0 && rename(merged, mine) == 0;
        if (recv != NULL)
            (void)unlink(recv);
        if (merged != NULL)
            (void)unlink(merged);
    }
    if (m->rank != 0 && mine != NULL)
        (void)unlink(mine);
    free(recv);
    free(merged);
    return ok && (m->rank != 0 || have) ? 0 : -1;
broken:
    fprintf(stderr, "mastwatch: batch: rank %d: %s\n", m->rank, err);
    MPI_Abort(MPI_COMM_WORLD, 3);
    return -1;
}

/* Which rank made this results file this run (0 for earlier runs' files). */
static int owner_of(const mw_batch_mpi_t *m, const char *results)
{
    size_t i;

    for (i = 0; m->pool != NULL && i < m->pool->njobs; i++)
        if (m->pool->jobs[i].results != NULL && strcmp(m->pool->jobs[i].results, results) == 0)
            return m->owner[i] > 0 && m->owner[i] < m->size ? m->owner[i] : 0;
    return 0;
}

int mw__batch_mpi_train(void *ctx, const char *exe, const mw_batch_site_t *site, char *const *fresh,
        size_t nfresh, const char *out, const char *log)
{
    mw_batch_mpi_t *m = ctx;
    char **mine = calloc(nfresh + 1, sizeof(*mine));
    char err[MW_ERRBUF_SIZE];
    size_t i, n0 = 0;
    int r, rc;

    (void)exe;
    if (mine == NULL)
        return -1;
    for (r = 1; r < m->size; r++) {
        mw_batch_msg_t msg = { 0 };
        char *part =
                mw__batch_printf("%s/train-%s.rank%d.tmp.h5", m->pool->nightdir, site->name, r);
        char *plog = mw__batch_printf("%s/train-%s.rank%d.log", m->pool->nightdir, site->name, r);
        size_t k = 0;
        for (i = 0; i < nfresh; i++)
            k += owner_of(m, fresh[i]) == r;
        mw__batch_msg_str(&msg, site->name);
        mw__batch_msg_str(&msg, site->inventory);
        mw__batch_msg_str(&msg, part);
        mw__batch_msg_str(&msg, plog);
        mw__batch_msg_u64(&msg, k);
        for (i = 0; i < nfresh; i++)
            if (owner_of(m, fresh[i]) == r)
                mw__batch_msg_str(&msg, fresh[i]);
        rc = part != NULL && plog != NULL
                     ? mw__batch_msg_send(&msg, r, MW_TAG_TRAIN, err, sizeof(err))
                     : -1;
        mw__batch_msg_free(&msg);
        free(part);
        free(plog);
        if (rc != 0) {
            fprintf(stderr, "mastwatch: batch: %s\n", err);
            MPI_Abort(MPI_COMM_WORLD, 3);
            free(mine);
            return -1;
        }
    }
    for (i = 0; i < nfresh; i++)
        if (owner_of(m, fresh[i]) == 0)
            mine[n0++] = fresh[i];
    rc = reduce(m, (mw_batch_site_t *)site, mine, n0, out, log);
    free(mine);
    return rc;
}

int mw__batch_mpi_train_part(mw_batch_mpi_t *m, void *msgp)
{
    mw_batch_msg_t *msg = msgp;
    mw_batch_site_t site;
    char *part, *log, **files;
    size_t n, i;
    int rc;

    memset(&site, 0, sizeof(site));
    site.name = mw__batch_msg_get_str(msg);
    site.inventory = mw__batch_msg_get_str(msg);
    part = mw__batch_msg_get_str(msg);
    log = mw__batch_msg_get_str(msg);
    n = (size_t)mw__batch_msg_get_u64(msg);
    files = !msg->bad && n <= msg->len ? calloc(n + 1, sizeof(*files)) : NULL;
    for (i = 0; files != NULL && i < n; i++)
        files[i] = mw__batch_msg_get_str(msg);
    if (files == NULL || msg->bad || part == NULL || log == NULL || site.inventory == NULL) {
        /* cannot train, but the reduction still needs this rank's message */
        (void)reduce(m, &site, NULL, 0, NULL, NULL);
        rc = -1;
    } else {
        rc = reduce(m, &site, files, n, part, log);
    }
    for (i = 0; files != NULL && i < n; i++)
        free(files[i]);
    free(files);
    free(site.name);
    free(site.inventory);
    free(part);
    free(log);
    return rc;
}
