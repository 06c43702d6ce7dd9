/*
 * h5_chunk.c - writes whole /flows chunks straight to the file.
 *
 * Through H5Dwrite a chunk costs a fresh chunk buffer, the shuffle filter's
 * and zlib's buffers (megabytes each, mmap'ed and faulted in again for
 * every chunk) and zlib's deflate: most of the writer thread's time. Here
 * the chunk is shuffled and deflated into buffers kept for the whole run,
 * by libdeflate (the same DEFLATE in a zlib stream, faster than zlib at
 * level 1), and handed to H5Dwrite_chunk with the dataset's own filter
 * pipeline (shuffle, deflate) marked as applied, so any HDF5 reader reads
 * it with the built-in filters. A chunk that would not shrink is stored
 * shuffled only, its deflate bit set in the filter mask, as HDF5 itself
 * does for optional filters.
 *
 * Deflating is most of a chunk's cost, so it can run on a thread of the
 * chunker's own while the writer thread goes on taking records
 * (mw_h5_chunker_submit): the writer is then not the wall of a run with
 * many workers. One chunk at most is in flight; only the writer thread
 * calls HDF5 (mw_h5_chunker_collect).
 */
#include "output/h5_chunk.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/mw.h"
#include "output/byte_shuffle.h"

#define MASK_NO_DEFLATE 0x2u /* filter 1 of the pipeline (0 shuffle, 1 deflate) not applied */

enum job_state { JOB_NONE, JOB_QUEUED, JOB_DONE };

struct mw_h5_chunker {
    size_t elem_size, rows, bytes;
    uint8_t *shuffled, *deflated;
    size_t deflated_cap;
    struct libdeflate_compressor *compressor;
    /* the chunk in flight: its first row and rows, and the deflated result */
    uint64_t job_at;
    size_t job_n;
    size_t out_len;
    uint32_t mask;
    /* the deflating thread (started by the first submit) */
    pthread_t thread;
    int thread_started, stopping, sync_ready;
    enum job_state state;
    double cpu_s; /* the deflating thread's CPU time so far (under mu) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

mw_h5_chunker_t *mw_h5_chunker_create(size_t elem_size, size_t rows)
{
    mw_h5_chunker_t *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->elem_size = elem_size;
    c->rows = rows;
    c->bytes = elem_size * rows;
    c->compressor = libdeflate_alloc_compressor(MW_H5_DEFLATE_LEVEL);
    if (c->compressor != NULL)
        c->deflated_cap = libdeflate_zlib_compress_bound(c->compressor, c->bytes);
    c->shuffled = malloc(c->bytes);
    c->deflated = malloc(c->deflated_cap ? c->deflated_cap : 1);
    if (c->compressor != NULL && c->shuffled != NULL && c->deflated != NULL &&
            pthread_mutex_init(&c->mu, NULL) == 0) {
        if (pthread_cond_init(&c->cv, NULL) == 0) {
            c->sync_ready = 1;
            return c;
        }
        pthread_mutex_destroy(&c->mu);
    }
    mw_h5_chunker_destroy(c);
    return NULL;
}

void mw_h5_chunker_destroy(mw_h5_chunker_t *c)
{
    if (c == NULL)
        return;
    if (c->thread_started) {
        pthread_mutex_lock(&c->mu);
        c->stopping = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
    }
    if (c->sync_ready) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
    }
    if (c->compressor != NULL)
        libdeflate_free_compressor(c->compressor);
    free(c->shuffled);
    free(c->deflated);
    free(c);
}

static void deflate_chunk(mw_h5_chunker_t *c)
{
    c->out_len = libdeflate_zlib_compress(
            c->compressor, c->shuffled, c->bytes, c->deflated, c->deflated_cap);
    c->mask = (c->out_len == 0 || c->out_len >= c->bytes) ? MASK_NO_DEFLATE : 0;
}

/* The dataset grows to the chunk's last row only now, with the chunk: a reader following
 * the file (SWMR) or a crash never sees rows whose chunk is not written. */
static int write_chunk(mw_h5_chunker_t *c, hid_t ds)
{
    hsize_t offset = c->job_at, size = c->job_at + c->job_n;

    if (H5Dset_extent(ds, &size) < 0)
        return -1;
    return H5Dwrite_chunk(ds, H5P_DEFAULT, c->mask, &offset, c->mask ? c->bytes : c->out_len,
                   c->mask ? c->shuffled : c->deflated) < 0
                   ? -1
                   : 0;
}

static int job_fits(const mw_h5_chunker_t *c, uint64_t at, size_t n)
{
    return n > 0 && n <= c->rows && at % c->rows == 0;
}

int mw_h5_chunker_write(mw_h5_chunker_t *c, hid_t ds, uint64_t at, const void *rows, size_t n)
{
    if (!job_fits(c, at, n) || mw_h5_chunker_collect(c, ds) < 0)
        return -1;
    /* the last chunk is padded with zeros: rows past the dataset's extent are never read */
    mw_byte_shuffle(rows, c->shuffled, c->elem_size, c->rows, n);
    deflate_chunk(c);
    c->job_at = at;
    c->job_n = n;
    return write_chunk(c, ds);
}

static void *deflate_main(void *arg)
{
    mw_h5_chunker_t *c = arg;

    pthread_setname_np(pthread_self(), "mw-deflate");
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (c->state != JOB_QUEUED && !c->stopping)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->state != JOB_QUEUED)
            break;
        pthread_mutex_unlock(&c->mu);
        deflate_chunk(c);
        pthread_mutex_lock(&c->mu);
        c->cpu_s = mw_thread_cpu_s();
        c->state = JOB_DONE;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int mw_h5_chunker_submit(mw_h5_chunker_t *c, hid_t ds, uint64_t at, const void *rows, size_t n)
{
    if (!job_fits(c, at, n) || mw_h5_chunker_collect(c, ds) < 0)
        return -1;
    mw_byte_shuffle(rows, c->shuffled, c->elem_size, c->rows, n);
    c->job_at = at;
    c->job_n = n;
    if (!c->thread_started) {
        if (pthread_create(&c->thread, NULL, deflate_main, c) != 0) {
            deflate_chunk(c); /* no thread: deflated here, written at the next collect */
            c->state = JOB_DONE;
            return 0;
        }
        c->thread_started = 1;
    }
    pthread_mutex_lock(&c->mu);
    c->state = JOB_QUEUED;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int mw_h5_chunker_pending(mw_h5_chunker_t *c, uint64_t *at, size_t *n)
{
    int pending;

    pthread_mutex_lock(&c->mu);
    pending = c->state != JOB_NONE;
    pthread_mutex_unlock(&c->mu);
    if (pending) {
        *at = c->job_at;
        *n = c->job_n;
    }
    return pending;
}

int mw_h5_chunker_collect(mw_h5_chunker_t *c, hid_t ds)
{
    int rc;

    pthread_mutex_lock(&c->mu);
    if (c->state == JOB_NONE) {
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    while (c->state != JOB_DONE)
        pthread_cond_wait(&c->cv, &c->mu);
    c->state = JOB_NONE;
    pthread_mutex_unlock(&c->mu);
    rc = write_chunk(c, ds);
    return rc < 0 ? -1 : 1;
}

double mw_h5_chunker_cpu_s(mw_h5_chunker_t *c)
{
    double v;

    pthread_mutex_lock(&c->mu);
    while (c->state == JOB_QUEUED) /* the chunk in flight counts too */
        pthread_cond_wait(&c->cv, &c->mu);
    v = c->cpu_s;
    pthread_mutex_unlock(&c->mu);
    return v;
}
