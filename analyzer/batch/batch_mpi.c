/*
 * batch_mpi.c - `mastwatch batch` under mpirun. Rank 0 is the batch of the
 * single-process path (lock, spool, state, names, night outputs: batch_main.c)
 * and the only writer of the state and of the index; it hands captures out
 * one at a time, largest first, to whichever rank asks (itself included),
 * so one huge capture does not hold up the rest. A rank analyzes a capture
 * with the same child and the same commit (batch_job.c) and reports the
 * record back; rank 0 appends it. The index is then rebuilt from the state
 * exactly as without MPI. Each HDF5 file has one writer process, so the
 * serial HDF5 library is enough.
 */
#include "batch/batch_mpi.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/batch.h"
#include "batch/batch_exec.h"
#include "batch/batch_mpi_ctx.h"
#include "batch/batch_mpi_msg.h"
#include "batch/batch_run.h"

int mw__batch_mpi_launched(void)
{
    static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK" };
    const char *off = getenv("MW_BATCH_MPI");
    size_t i;

    if (off != NULL && strcmp(off, "0") == 0)
        return 0;
    for (i = 0; i < MW_ARRAY_LEN(vars); i++)
        if (getenv(vars[i]) != NULL)
            return 1;
    return 0;
}

/* ---- rank 0: setup ------------------------------------------------------- */

/* Tells every rank whether the run goes on, and where the night is. */
static void setup_done(void *ctx, int code, const char *nightdir)
{
    mw_batch_mpi_t *m = ctx;
    int buf[2] = { code, nightdir != NULL ? (int)strlen(nightdir) + 1 : 0 };
    int rc = MPI_Bcast(buf, 2, MPI_INT, 0, MPI_COMM_WORLD);

    if (rc == MPI_SUCCESS && code == 0)
        rc = MPI_Bcast((void *)nightdir, buf[1], MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
        char err[MW_ERRBUF_SIZE];
        mw__batch_mpi_err(rc, "MPI_Bcast", err, sizeof(err));
        fprintf(stderr, "mastwatch: batch: %s\n", err);
        MPI_Abort(MPI_COMM_WORLD, 3); /* the ranks cannot agree: nothing sane is left */
    }
    (void)m;
}

/* ---- rank 0: handing out ------------------------------------------------- */

typedef struct by_size {
    uint64_t size;
    size_t i;
} by_size_t;

static int larger_first(const void *a, const void *b)
{
    const by_size_t *x = a, *y = b;

    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int send_job(mw_batch_mpi_t *m, size_t i, int rank, char *err, size_t errlen)
{
    const mw_batch_job_t *j = &m->pool->jobs[i];
    mw_batch_msg_t msg = { 0 };
    int rc;

    mw__batch_msg_u64(&msg, i);
    mw__batch_msg_u64(&msg, j->size);
    mw__batch_msg_u64(&msg, (uint64_t)j->mtime_ns);
    mw__batch_msg_str(&msg, j->path);
    mw__batch_msg_str(&msg, j->site);
    mw__batch_msg_str(&msg, j->inventory);
    mw__batch_msg_str(&msg, j->model);
    mw__batch_msg_u64(&msg, (uint64_t)j->no_vlan_tracking);
    mw__batch_msg_u64(&msg, (uint64_t)j->dedup);
    mw__batch_msg_str(&msg, j->base);
    rc = mw__batch_msg_send(&msg, rank, MW_TAG_ASSIGN, err, errlen);
    mw__batch_msg_free(&msg);
    return rc;
}

/* A rank's RESULT: the record goes into the state like a local child's. */
static int take_result(mw_batch_mpi_t *m, mw_batch_msg_t *msg, int from)
{
    size_t i = (size_t)mw__batch_msg_get_u64(msg);
    int kind = (int)mw__batch_msg_get_u64(msg);
    mw_batch_record_t rec;
    char *started, *finished;
    int rc = 0;

    if (msg->bad || i >= m->pool->njobs) {
        fprintf(stderr, "mastwatch: batch: rank %d sent a garbled result\n", from);
        return -1;
    }
    if (kind == MW_RES_DISCARDED)
        return 0;
    if (kind != MW_RES_RECORD) {
        char *e = mw__batch_msg_get_str(msg);
        fprintf(stderr, "mastwatch: batch: rank %d: %s: %s\n", from, m->pool->jobs[i].path,
                e ? e : "failed");
        free(e);
        return -1;
    }
    memset(&rec, 0, sizeof(rec));
    snprintf(rec.night, sizeof(rec.night), "%s", m->opts->night);
    rec.path = (char *)m->pool->jobs[i].path;
    rec.site = (char *)m->pool->jobs[i].site;
    rec.size = m->pool->jobs[i].size;
    rec.mtime_ns = m->pool->jobs[i].mtime_ns;
    rec.status = (enum mw_batch_status)mw__batch_msg_get_u64(msg);
    rec.exit_code = (int)(int64_t)mw__batch_msg_get_u64(msg);
    started = mw__batch_msg_get_str(msg);
    finished = mw__batch_msg_get_str(msg);
    rec.results = mw__batch_msg_get_str(msg);
    rec.anomalies = mw__batch_msg_get_str(msg);
    rec.log = mw__batch_msg_get_str(msg);
    rec.error = mw__batch_msg_get_str(msg);
    snprintf(rec.started_utc, sizeof(rec.started_utc), "%s", started ? started : "");
    snprintf(rec.finished_utc, sizeof(rec.finished_utc), "%s", finished ? finished : "");
    if (msg->bad || (rec.status != MW_BS_DONE && rec.status != MW_BS_FAILED)) {
        fprintf(stderr, "mastwatch: batch: rank %d sent a garbled result\n", from);
        rc = -1;
    } else {
        m->owner[i] = from;
        rc = m->pool->record(m->pool->ctx, i, &rec);
    }
    free(started);
    free(finished);
    mw__batch_job_record_free(&rec);
    return rc;
}

/* Serves every message waiting from the other ranks. */
static int serve(void *ctx)
{
    mw_batch_mpi_t *m = ctx;
    char err[MW_ERRBUF_SIZE];
    int rc = 0;

    for (;;) {
        mw_batch_msg_t msg = { 0 };
        int from = -1, tag = 0, got;
        got = mw__batch_msg_recv(
                &msg, MPI_ANY_SOURCE, MPI_ANY_TAG, 0, &from, &tag, err, sizeof(err));
        if (got != 0) {
            if (got < 0) {
                fprintf(stderr, "mastwatch: batch: %s\n", err);
                rc = -1;
            }
            mw__batch_msg_free(&msg);
            break;
        }
        if (tag == MW_TAG_REQ) {
            int s;
            if (!m->failed && m->next < m->pool->njobs) {
                size_t i = m->order[m->next++];
                m->owner[i] = from;
                s = send_job(m, i, from, err, sizeof(err));
            } else {
                mw_batch_msg_t none = { 0 };
                s = mw__batch_msg_send(&none, from, MW_TAG_NOMORE, err, sizeof(err));
            }
            if (s != 0) {
                fprintf(stderr, "mastwatch: batch: %s\n", err);
                rc = -1;
            }
        } else if (tag == MW_TAG_RESULT) {
            if (take_result(m, &msg, from) != 0)
                rc = -1;
        } else if (tag == MW_TAG_BYE && from > 0 && from < m->size && !m->gone[from]) {
            m->gone[from] = 1;
            m->ngone++;
        }
        mw__batch_msg_free(&msg);
    }
    if (rc != 0)
        m->failed = 1;
    return rc;
}

/* rank 0's own children take from the same queue as everyone else. */
static int next_local(void *ctx, size_t *i)
{
    mw_batch_mpi_t *m = ctx;

    if (!m->failed && m->next < m->pool->njobs) {
        *i = m->order[m->next++];
        m->owner[*i] = 0;
        return 1;
    }
    return m->ngone == m->size - 1 ? -1 : 0; /* the last results may still come */
}

static int prepare0(void *ctx, size_t i, char *const **argv, int *log_fd)
{
    const mw_batch_mpi_t *m = ctx;
    return m->pool->local.prepare(m->pool->local.ctx, i, argv, log_fd);
}

static int finished0(void *ctx, size_t i, int wstatus, int errno_value, int stopping)
{
    const mw_batch_mpi_t *m = ctx;
    return m->pool->local.finished(m->pool->local.ctx, i, wstatus, errno_value, stopping);
}

static int analyze(void *ctx, const mw_batch_pool_t *pool)
{
    mw_batch_mpi_t *m = ctx;
    mw_batch_exec_ops_t ops = { m, prepare0, finished0, next_local, serve };
    by_size_t *v = calloc(pool->njobs + 1, sizeof(*v));
    size_t i;

    m->pool = pool;
    m->order = calloc(pool->njobs + 1, sizeof(*m->order));
    m->owner = malloc((pool->njobs + 1) * sizeof(*m->owner));
    if (v == NULL || m->order == NULL || m->owner == NULL) {
        free(v);
        return -1;
    }
    for (i = 0; i < pool->njobs; i++) {
        v[i].size = pool->jobs[i].size;
        v[i].i = i;
        m->owner[i] = -1;
    }
    qsort(v, pool->njobs, sizeof(*v), larger_first);
    for (i = 0; i < pool->njobs; i++)
        m->order[i] = v[i].i;
    free(v);
    return mw__batch_exec_run(pool->exe, SIZE_MAX, pool->opts->jobs, &ops);
}

/* ---- every rank ---------------------------------------------------------- */

static int finish_rank0(mw_batch_mpi_t *m, int code)
{
    char err[MW_ERRBUF_SIZE];
    int r;

    if (m->ngone != m->size - 1) {
        /* some rank may still be analyzing: end the job rather than wait for it */
        fprintf(stderr, "mastwatch: batch: ending the MPI job (exit %d)\n", code);
        MPI_Abort(MPI_COMM_WORLD, code);
        return code;
    }
    for (r = 1; r < m->size; r++) {
        mw_batch_msg_t none = { 0 };
        if (mw__batch_msg_send(&none, r, MW_TAG_END, err, sizeof(err)) != 0) {
            fprintf(stderr, "mastwatch: batch: %s\n", err);
            MPI_Abort(MPI_COMM_WORLD, 3);
        }
    }
    return code;
}

int mw__batch_mpi_main(int argc, char **argv)
{
    mw_batch_opts_t opts;
    mw_batch_mpi_t m;
    char err[MW_ERRBUF_SIZE] = "";
    int code, rc;
    ssize_t n;

    memset(&m, 0, sizeof(m));
    /* before MPI_Init: MPI's own threads must not take SIGCHLD or the stop signals */
    if (mw__batch_exec_block_signals() != 0) {
        fprintf(stderr, "mastwatch: batch: cannot block signals\n");
        return 3;
    }
    rc = MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "mastwatch: batch: MPI_Init failed (%d)\n", rc);
        return 3;
    }
    /* return codes instead of aborting, so every call can be checked and reported */
    if (MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN) != MPI_SUCCESS ||
            MPI_Comm_rank(MPI_COMM_WORLD, &m.rank) != MPI_SUCCESS ||
            MPI_Comm_size(MPI_COMM_WORLD, &m.size) != MPI_SUCCESS) {
        fprintf(stderr, "mastwatch: batch: cannot set up MPI\n");
        MPI_Abort(MPI_COMM_WORLD, 3);
        return 3;
    }
    m.opts = &opts;
    n = readlink("/proc/self/exe", m.exe, sizeof(m.exe) - 1);
    m.exe[n > 0 ? n : 0] = '\0';
    if (mw__batch_opts_parse(&opts, argc, argv, mw__batch_now(), err, sizeof(err)) != 0) {
        if (m.rank == 0)
            fprintf(stderr, "mastwatch: %s\n", err);
        code = 2;
    } else if (opts.help) {
        if (m.rank == 0)
            fputs(mw_batch_usage(), stdout);
        code = 0;
    } else {
        /* ranks are the parallelism: one child each unless --jobs says otherwise */
        if (!opts.jobs_set)
            opts.jobs = 1;
        m.gone = calloc((size_t)m.size, sizeof(*m.gone));
        if (m.gone == NULL) {
            MPI_Abort(MPI_COMM_WORLD, 3);
            return 3;
        }
        if (m.rank == 0) {
            mw_batch_driver_t drv = { &m, setup_done, analyze, mw__batch_mpi_train };
            code = finish_rank0(&m, mw__batch_run(&opts, &drv));
        } else {
            code = mw__batch_mpi_worker(&m);
        }
    }
    free(m.order);
    free(m.owner);
    free(m.gone);
    free(m.nightdir);
    rc = MPI_Finalize();
    if (rc != MPI_SUCCESS && code == 0)
        code = 3;
    return code;
}
