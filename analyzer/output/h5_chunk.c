/*
 * h5_chunk.c - writes whole /flows chunks straight to the file.
 *
 * Through H5Dwrite a chunk costs a fresh chunk buffer, the shuffle filter's
 * and zlib's buffers (megabytes each, mmap'ed and faulted in again for
 * every chunk) and zlib's deflate: most of the writer thread's time. Here
 * the chunk is shuffled and deflated into buffers kept for the whole run,
 * by ISA-L's igzip (the same DEFLATE in a zlib stream, over 3x libdeflate's
 * speed on these rows: see MW_H5_DEFLATE_LEVEL), and handed to
 * H5Dwrite_chunk with the dataset's own filter
 * pipeline (shuffle, deflate) marked as applied, so any HDF5 reader reads
 * it with the built-in filters. A chunk that would not shrink is stored
 * shuffled only, its deflate bit set in the filter mask, as HDF5 itself
 * does for optional filters.
 *
 * Deflating is most of a chunk's cost, so it can run on threads of the
 * chunker's own while the writer thread goes on taking records
 * (mw_h5_chunker_submit): one chunk in flight per deflating thread, each
 * in a slot of its own (buffers and compressor), so the writer is not the
 * wall of a run with many workers, and one deflating thread is not either
 * where there are cores for more. Chunks reach the file in the order they
 * were submitted; only the writer thread calls HDF5.
 */
#include "output/h5_chunk.h"

#include <isa-l/igzip_lib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/mw.h"
#include "core/pool.h"
#include "output/byte_shuffle.h"

_Static_assert(MW_H5_DEFLATE_LEVEL == 1, "level_buf is sized for igzip's level 1");

#define MASK_NO_DEFLATE 0x2u /* filter 1 of the pipeline (0 shuffle, 1 deflate) not applied */

enum job_state { JOB_NONE, JOB_QUEUED, JOB_BUSY, JOB_DONE };

typedef struct slot {
    uint8_t *shuffled, *deflated;
    struct isal_zstream *stream; /* used by one thread at a time: the slot's; 86 kB */
    uint8_t *level_buf;          /* igzip's hash tables for level 1: 276 kB */
    uint64_t at;                 /* the chunk's first row */
    size_t n;                    /* and its rows */
    size_t out_len;
    uint32_t mask;
    enum job_state state; /* under mu */
} slot_t;

struct mw_h5_chunker {
    size_t elem_size, rows, bytes;
    slot_t *slots;
    unsigned nslots;       /* = deflating threads asked for: chunks in flight at most */
    unsigned oldest, held; /* the submitted chunks, a ring of slots in submission order */
    pthread_t *threads;
    double *thread_cpu_s; /* each thread's CPU time so far (under mu) */
    unsigned nthreads;    /* started (by the first submit) */
    int started, stopping, sync_ready;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* A deflated chunk is kept only when smaller than the chunk: the output buffer is no larger. */
static int slot_init(slot_t *s, size_t bytes)
{
    /* zeroed: isal_deflate_stateless_init() leaves part of the state as it finds it, and
     * igzip reads some of it (valgrind) */
    s->stream = calloc(1, sizeof(*s->stream));
    s->level_buf = calloc(1, ISAL_DEF_LVL1_DEFAULT);
    s->shuffled = mw_buffer_alloc(bytes);
    s->deflated = mw_buffer_alloc(bytes);
    return s->stream != NULL && s->level_buf != NULL && s->shuffled != NULL && s->deflated != NULL
                   ? 0
                   : -1;
}

static void slot_fini(slot_t *s)
{
    free(s->stream);
    free(s->level_buf);
    free(s->shuffled);
    free(s->deflated);
}

mw_h5_chunker_t *mw_h5_chunker_create(size_t elem_size, size_t rows, unsigned threads)
{
    mw_h5_chunker_t *c = calloc(1, sizeof(*c));
    unsigned i;

    if (c == NULL)
        return NULL;
    if (elem_size == 0 || rows == 0 || elem_size > UINT32_MAX / rows) { /* igzip's lengths */
        free(c);
        return NULL;
    }
    c->elem_size = elem_size;
    c->rows = rows;
    c->bytes = elem_size * rows;
    c->nslots = threads > 0 ? threads : 1;
    c->slots = calloc(c->nslots, sizeof(*c->slots));
    c->threads = calloc(c->nslots, sizeof(*c->threads));
    c->thread_cpu_s = calloc(c->nslots, sizeof(*c->thread_cpu_s));
    if (c->slots == NULL || c->threads == NULL || c->thread_cpu_s == NULL)
        goto fail;
    for (i = 0; i < c->nslots; i++)
        if (slot_init(&c->slots[i], c->bytes) != 0)
            goto fail;
    if (pthread_mutex_init(&c->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&c->cv, NULL) != 0) {
        pthread_mutex_destroy(&c->mu);
        goto fail;
    }
    c->sync_ready = 1;
    return c;
fail:
    mw_h5_chunker_destroy(c);
    return NULL;
}

void mw_h5_chunker_destroy(mw_h5_chunker_t *c)
{
    unsigned i;

    if (c == NULL)
        return;
    if (c->nthreads > 0) {
        pthread_mutex_lock(&c->mu);
        c->stopping = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        for (i = 0; i < c->nthreads; i++)
            pthread_join(c->threads[i], NULL);
    }
    if (c->sync_ready) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
    }
    for (i = 0; c->slots != NULL && i < c->nslots; i++)
        slot_fini(&c->slots[i]);
    free(c->slots);
    free(c->threads);
    free(c->thread_cpu_s);
    free(c);
}

static void deflate_chunk(mw_h5_chunker_t *c, slot_t *s)
{
    struct isal_zstream *z = s->stream;

    isal_deflate_stateless_init(z);
    z->level = MW_H5_DEFLATE_LEVEL;
    z->level_buf = s->level_buf;
    z->level_buf_size = ISAL_DEF_LVL1_DEFAULT;
    z->gzip_flag = IGZIP_ZLIB; /* the zlib stream HDF5's deflate filter inflates */
    z->end_of_stream = 1;
    z->flush = NO_FLUSH;
    z->next_in = s->shuffled;
    z->avail_in = (uint32_t)c->bytes;
    z->next_out = s->deflated;
    z->avail_out = (uint32_t)c->bytes;
    /* STATELESS_OVERFLOW: it would not shrink, so it is stored shuffled only */
    s->out_len = isal_deflate_stateless(z) == COMP_OK ? z->total_out : 0;
    s->mask = (s->out_len == 0 || s->out_len >= c->bytes) ? MASK_NO_DEFLATE : 0;
}

/* The dataset grows to the chunk's last row only now, with the chunk: a reader following
 * the file (SWMR) or a crash never sees rows whose chunk is not written. */
static int write_chunk(mw_h5_chunker_t *c, const slot_t *s, hid_t ds)
{
    hsize_t offset = s->at, size = s->at + s->n;

    if (H5Dset_extent(ds, &size) < 0)
        return -1;
    return H5Dwrite_chunk(ds, H5P_DEFAULT, s->mask, &offset, s->mask ? c->bytes : s->out_len,
                   s->mask ? s->shuffled : s->deflated) < 0
                   ? -1
                   : 0;
}

static int job_fits(const mw_h5_chunker_t *c, uint64_t at, size_t n)
{
    return n > 0 && n <= c->rows && at % c->rows == 0;
}

int mw_h5_chunker_write(mw_h5_chunker_t *c, hid_t ds, uint64_t at, const void *rows, size_t n)
{
    slot_t *s = &c->slots[0];

    if (!job_fits(c, at, n) || mw_h5_chunker_collect(c, ds) < 0)
        return -1;
    /* nothing in flight: slot 0 is free. The last chunk is padded with zeros: rows past
     * the dataset's extent are never read */
    mw_byte_shuffle(rows, s->shuffled, c->elem_size, c->rows, n);
    deflate_chunk(c, s);
    s->at = at;
    s->n = n;
    return write_chunk(c, s, ds);
}

typedef struct {
    mw_h5_chunker_t *c;
    unsigned index;
} thread_arg_t;

/* A queued slot, oldest first (under mu), or NULL. */
static slot_t *queued_slot(mw_h5_chunker_t *c)
{
    unsigned k;

    for (k = 0; k < c->held; k++) {
        slot_t *s = &c->slots[(c->oldest + k) % c->nslots];
        if (s->state == JOB_QUEUED)
            return s;
    }
    return NULL;
}

static void *deflate_main(void *arg)
{
    thread_arg_t *ta = arg;
    mw_h5_chunker_t *c = ta->c;
    unsigned index = ta->index;

    free(ta);
    pthread_setname_np(pthread_self(), "mw-deflate");
    pthread_mutex_lock(&c->mu);
    for (;;) {
        slot_t *s;
        while ((s = queued_slot(c)) == NULL && !c->stopping)
            pthread_cond_wait(&c->cv, &c->mu);
        if (s == NULL)
            break;
        s->state = JOB_BUSY;
        pthread_mutex_unlock(&c->mu);
        deflate_chunk(c, s);
        pthread_mutex_lock(&c->mu);
        c->thread_cpu_s[index] = mw_thread_cpu_s();
        s->state = JOB_DONE;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Starts the deflating threads; 0 when not even one could be started. */
static unsigned start_threads(mw_h5_chunker_t *c)
{
    unsigned i;

    for (i = 0; i < c->nslots; i++) {
        thread_arg_t *ta = malloc(sizeof(*ta));
        if (ta == NULL)
            break;
        *ta = (thread_arg_t){ .c = c, .index = i };
        if (pthread_create(&c->threads[i], NULL, deflate_main, ta) != 0) {
            free(ta);
            break;
        }
    }
    return i; /* fewer than asked: the others deflate what is queued */
}

int mw_h5_chunker_full(mw_h5_chunker_t *c)
{
    int full;

    pthread_mutex_lock(&c->mu);
    full = c->held == c->nslots;
    pthread_mutex_unlock(&c->mu);
    return full;
}

int mw_h5_chunker_submit(mw_h5_chunker_t *c, hid_t ds, uint64_t at, const void *rows, size_t n)
{
    slot_t *s;

    if (!job_fits(c, at, n))
        return -1;
    if (mw_h5_chunker_full(c) && mw_h5_chunker_collect_one(c, ds, NULL) < 0)
        return -1;
    s = &c->slots[(c->oldest + c->held) % c->nslots]; /* free: only this thread fills slots */
    mw_byte_shuffle(rows, s->shuffled, c->elem_size, c->rows, n);
    s->at = at;
    s->n = n;
    if (!c->started) {
        c->started = 1;
        c->nthreads = start_threads(c);
    }
    pthread_mutex_lock(&c->mu);
    c->held++;
    if (c->nthreads == 0) {
        pthread_mutex_unlock(&c->mu);
        deflate_chunk(c, s); /* no thread: deflated here, written at the next collect */
        pthread_mutex_lock(&c->mu);
        s->state = JOB_DONE;
    } else {
        s->state = JOB_QUEUED;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int mw_h5_chunker_pending(mw_h5_chunker_t *c, uint64_t *at, size_t *n)
{
    int pending;
    const slot_t *s;

    pthread_mutex_lock(&c->mu);
    pending = c->held > 0;
    s = &c->slots[c->oldest];
    pthread_mutex_unlock(&c->mu);
    if (pending) {
        *at = s->at;
        *n = s->n;
    }
    return pending;
}

int mw_h5_chunker_collect_one(mw_h5_chunker_t *c, hid_t ds, size_t *rows)
{
    slot_t *s;

    pthread_mutex_lock(&c->mu);
    if (c->held == 0) {
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    s = &c->slots[c->oldest];
    while (s->state != JOB_DONE)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    if (write_chunk(c, s, ds) < 0)
        return -1; /* stays in flight: the run fails, its rows are counted as lost */
    if (rows != NULL)
        *rows = s->n;
    pthread_mutex_lock(&c->mu);
    s->state = JOB_NONE;
    c->oldest = (c->oldest + 1) % c->nslots;
    c->held--;
    pthread_mutex_unlock(&c->mu);
    return 1;
}

int mw_h5_chunker_collect(mw_h5_chunker_t *c, hid_t ds)
{
    int written = 0, rc;

    while ((rc = mw_h5_chunker_collect_one(c, ds, NULL)) > 0)
        written++;
    return rc < 0 ? -1 : written;
}

double mw_h5_chunker_cpu_s(mw_h5_chunker_t *c)
{
    double v = 0;
    unsigned i;

    pthread_mutex_lock(&c->mu);
    for (;;) { /* the chunks in flight count too */
        int busy = 0;
        for (i = 0; i < c->held; i++) {
            enum job_state st = c->slots[(c->oldest + i) % c->nslots].state;
            busy |= st == JOB_QUEUED || st == JOB_BUSY;
        }
        if (!busy || c->nthreads == 0)
            break;
        pthread_cond_wait(&c->cv, &c->mu);
    }
    for (i = 0; i < c->nthreads; i++)
        v += c->thread_cpu_s[i];
    pthread_mutex_unlock(&c->mu);
    return v;
}
