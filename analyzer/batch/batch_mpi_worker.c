/*
 * batch_mpi_worker.c - a rank other than 0: asks rank 0 for a capture
 * whenever one of its --jobs slots is free, analyzes it with the same child
 * and the same commit as the single-process batch (batch_job.c), and sends
 * the record back; rank 0 alone writes the state. The results must be on a
 * file system every rank sees (rank 0 builds the index from them); they are
 * fsynced here, on the host that wrote them, before the record is sent.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_exec.h"
#include "batch/batch_job.h"
#include "batch/batch_mpi_ctx.h"
#include "batch/batch_mpi_msg.h"

typedef struct wjob {
    mw_batch_job_t j;
    uint64_t id; /* rank 0's job index */
    char *path, *site, *inventory, *model;
} wjob_t;

typedef struct worker {
    mw_batch_mpi_t *m;
    wjob_t **v; /* every job this rank got, by local index */
    size_t n, cap;
    int have_pending; /* v[n - 1] is assigned but not started */
    int asked, nomore, end;
    int broken; /* an MPI call failed */
    char err[MW_ERRBUF_SIZE];
} worker_t;

static void wjob_free(wjob_t *w)
{
    if (w == NULL)
        return;
    mw__batch_job_free(&w->j);
    free(w->path);
    free(w->site);
    free(w->inventory);
    free(w->model);
    free(w);
}

static int take_assign(worker_t *w, mw_batch_msg_t *msg)
{
    wjob_t *j = calloc(1, sizeof(*j));
    char *base;

    if (j == NULL)
        return -1;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        wjob_t **v = realloc(w->v, cap * sizeof(*v));
        if (v == NULL) {
            free(j);
            return -1;
        }
        w->v = v;
        w->cap = cap;
    }
    j->id = mw__batch_msg_get_u64(msg);
    j->j.size = mw__batch_msg_get_u64(msg);
    j->j.mtime_ns = (int64_t)mw__batch_msg_get_u64(msg);
    j->path = mw__batch_msg_get_str(msg);
    j->site = mw__batch_msg_get_str(msg);
    j->inventory = mw__batch_msg_get_str(msg);
    j->model = mw__batch_msg_get_str(msg);
    j->j.no_vlan_tracking = mw__batch_msg_get_u64(msg) != 0;
    j->j.dedup = mw__batch_msg_get_u64(msg) != 0;
    base = mw__batch_msg_get_str(msg);
    j->j.path = j->path;
    j->j.site = j->site;
    j->j.inventory = j->inventory;
    j->j.model = j->model;
    w->v[w->n++] = j; /* freed with the worker even when broken */
    if (msg->bad || j->path == NULL || j->site == NULL || j->inventory == NULL ||
            mw__batch_job_name(&j->j, base, w->m->nightdir) != 0)
        return -1;
    w->have_pending = 1;
    return 0;
}

static int send_result(
        worker_t *w, const wjob_t *j, int kind, const mw_batch_record_t *rec, const char *error)
{
    mw_batch_msg_t msg = { 0 };
    int rc;

    mw__batch_msg_u64(&msg, j->id);
    mw__batch_msg_u64(&msg, (uint64_t)kind);
    if (kind == MW_RES_RECORD) {
        mw__batch_msg_u64(&msg, (uint64_t)rec->status);
        mw__batch_msg_u64(&msg, (uint64_t)(int64_t)rec->exit_code);
        mw__batch_msg_str(&msg, rec->started_utc);
        mw__batch_msg_str(&msg, rec->finished_utc);
        mw__batch_msg_str(&msg, rec->results);
        mw__batch_msg_str(&msg, rec->anomalies);
        mw__batch_msg_str(&msg, rec->log);
        mw__batch_msg_str(&msg, rec->error);
    } else if (kind == MW_RES_ERROR) {
        mw__batch_msg_str(&msg, error);
    }
    rc = mw__batch_msg_send(&msg, 0, MW_TAG_RESULT, w->err, sizeof(w->err));
    mw__batch_msg_free(&msg);
    if (rc != 0)
        w->broken = 1;
    return rc;
}

/* Messages from rank 0 while analyzing: a capture, no more, or the end. */
static int poll0(void *ctx)
{
    worker_t *w = ctx;

    while (!w->broken && !w->end) {
        mw_batch_msg_t msg = { 0 };
        int tag = 0,
            got = mw__batch_msg_recv(&msg, 0, MPI_ANY_TAG, 0, NULL, &tag, w->err, sizeof(w->err));
        if (got == 1)
            break;
        if (got < 0)
            w->broken = 1;
        else if (tag == MW_TAG_ASSIGN) {
            w->asked = 0;
            if (take_assign(w, &msg) != 0) {
                snprintf(w->err, sizeof(w->err), "garbled or unaffordable capture from rank 0");
                w->broken = 1;
            }
        } else if (tag == MW_TAG_NOMORE) {
            w->asked = 0;
            w->nomore = 1;
        } else if (tag == MW_TAG_END) {
            w->end = 1; /* rank 0 is done without us: stop */
        }
        mw__batch_msg_free(&msg);
    }
    return w->broken || w->end ? -1 : 0;
}

static int next(void *ctx, size_t *i)
{
    worker_t *w = ctx;

    if (w->have_pending) {
        w->have_pending = 0;
        *i = w->n - 1;
        return 1;
    }
    if (w->nomore || w->broken || w->end)
        return -1;
    if (!w->asked) {
        mw_batch_msg_t none = { 0 };
        if (mw__batch_msg_send(&none, 0, MW_TAG_REQ, w->err, sizeof(w->err)) != 0) {
            w->broken = 1;
            return -1;
        }
        w->asked = 1;
    }
    return 0;
}

static int prepare(void *ctx, size_t i, char *const **argv, int *log_fd)
{
    worker_t *w = ctx;

    if (mw__batch_job_prepare(&w->v[i]->j, argv, log_fd) == 0)
        return 0;
    (void)send_result(w, w->v[i], MW_RES_DISCARDED, NULL, NULL); /* stays pending */
    return -1;
}

static int finished(void *ctx, size_t i, int wstatus, int errno_value, int stopping)
{
    worker_t *w = ctx;
    mw_batch_record_t rec;
    char err[MW_ERRBUF_SIZE];
    int rc = mw__batch_job_finish(
            &w->v[i]->j, w->m->opts->night, wstatus, errno_value, stopping, &rec, err, sizeof(err));

    if (rc == 1)
        return send_result(w, w->v[i], MW_RES_DISCARDED, NULL, NULL);
    if (rc != 0) {
        (void)send_result(w, w->v[i], MW_RES_ERROR, NULL, err);
        return -1;
    }
    rc = send_result(w, w->v[i], MW_RES_RECORD, &rec, NULL);
    mw__batch_job_record_free(&rec);
    return rc;
}

/* Rank 0's verdict on the setup, and the night directory. */
static int receive_setup(mw_batch_mpi_t *m)
{
    int buf[2] = { 0, 0 };
    int rc = MPI_Bcast(buf, 2, MPI_INT, 0, MPI_COMM_WORLD);

    if (rc != MPI_SUCCESS || buf[0] != 0)
        return rc != MPI_SUCCESS ? 3 : buf[0];
    m->nightdir = calloc((size_t)buf[1] + 1, 1);
    if (m->nightdir == NULL)
        return 3;
    rc = MPI_Bcast(m->nightdir, buf[1], MPI_CHAR, 0, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : 3;
}

int mw__batch_mpi_worker(mw_batch_mpi_t *m)
{
    worker_t w;
    mw_batch_exec_ops_t ops = { &w, prepare, finished, next, poll0 };
    mw_batch_msg_t bye = { 0 };
    size_t i;
    int code = receive_setup(m), stop;

    if (code != 0)
        return code; /* rank 0 said why */
    memset(&w, 0, sizeof(w));
    w.m = m;
    stop = mw__batch_exec_run(m->exe, SIZE_MAX, m->opts->jobs, &ops);
    for (i = 0; i < w.n; i++)
        wjob_free(w.v[i]);
    free(w.v);
    if (w.broken) {
        fprintf(stderr, "mastwatch: batch: rank %d: %s\n", m->rank, w.err);
        MPI_Abort(MPI_COMM_WORLD, 3);
        return 3;
    }
    if (w.end)
        return stop > 0 ? 128 + stop : 0;
    mw__batch_msg_u64(&bye, (uint64_t)(stop > 0 ? stop : 0));
    if (mw__batch_msg_send(&bye, 0, MW_TAG_BYE, w.err, sizeof(w.err)) != 0) {
        fprintf(stderr, "mastwatch: batch: rank %d: %s\n", m->rank, w.err);
        mw__batch_msg_free(&bye);
        MPI_Abort(MPI_COMM_WORLD, 3);
        return 3;
    }
    mw__batch_msg_free(&bye);
    /* then: training requests until the end */
    for (;;) {
        mw_batch_msg_t msg = { 0 };
        int tag = 0;
        if (mw__batch_msg_recv(&msg, 0, MPI_ANY_TAG, 1, NULL, &tag, w.err, sizeof(w.err)) != 0) {
            fprintf(stderr, "mastwatch: batch: rank %d: %s\n", m->rank, w.err);
            MPI_Abort(MPI_COMM_WORLD, 3);
            return 3;
        }
        if (tag == MW_TAG_TRAIN)
            (void)mw__batch_mpi_train_part(m, &msg);
        mw__batch_msg_free(&msg);
        if (tag == MW_TAG_END)
            break;
    }
    return stop > 0 ? 128 + stop : 0;
}
