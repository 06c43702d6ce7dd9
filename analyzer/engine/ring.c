/*
 * ring.c - the SPSC ring. head and tail only grow; their difference is the
 * fill level. The producer publishes head in batches and the consumer
 * releases tail per entry, so the shared cache lines move rarely: each side
 * keeps what it last read of the other's counter and reads it again only
 * when that copy says the ring is full (or empty), and what a side writes
 * per packet lives on a cache line of its own - reading a counter that
 * shares a line with the other side's per-packet fields costs a cache miss
 * a packet (about 9 % of `-t 2`'s CPU on GTP). A side
 * that finds nothing to do sleeps on a condition variable with a short
 * timeout. Wake-ups go with hysteresis: the producer wakes a sleeping
 * consumer only once an eighth of the ring is waiting (or when it hands
 * everything over: mw_ring_flush), and the consumer wakes a blocked
 * producer only once half the ring is free - waking per batch made the
 * two threads ping-pong, a futex call and a context switch every few
 * packets, when the workers outnumber the cores. The timeouts bound the
 * cost of a wake-up not given. A consumer that reads several rings (one
 * per reader, --readers) sleeps on one bell they share: any of its
 * producers can wake it.
 */
#include "engine/ring.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "core/mw.h"
#include "core/pool.h"

#define ENTRY_HDR     8u
#define SKIP_MARK     0xffffffffu
#define PUBLISH_BATCH 64

/* Where a side sleeps: the producer on its ring's own, the consumer on its bell. */
struct mw_ring_bell {
    _Alignas(64) atomic_int sleeping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

struct mw_ring {
    uint8_t *buf;
    size_t size, mask;
    size_t wake_bytes;              /* wake a sleeping consumer from this fill */
    _Alignas(64) size_t head_local; /* producer: committed, maybe unpublished */
    size_t tail_seen;               /* producer: tail when last read */
    size_t reserved_len;
    unsigned unpublished;
    _Alignas(64) atomic_size_t head;      /* published by producer */
    _Alignas(64) size_t cur_len;          /* consumer: entry being read */
    size_t head_seen;                     /* consumer: head when last read */
    _Alignas(64) atomic_size_t tail;      /* released by consumer */
    _Alignas(64) mw_ring_bell_t producer; /* the producer waits here while the ring is full */
    mw_ring_bell_t own_bell;              /* the consumer's, unless it shares one */
    mw_ring_bell_t *bell;
};

static int bell_init(mw_ring_bell_t *b)
{
    atomic_init(&b->sleeping, 0);
    if (pthread_mutex_init(&b->mu, NULL) != 0)
        return MW_ENOMEM;
    if (pthread_cond_init(&b->cv, NULL) != 0) {
        pthread_mutex_destroy(&b->mu);
        return MW_ENOMEM;
    }
    return 0;
}

static void bell_fini(mw_ring_bell_t *b)
{
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
}

mw_ring_bell_t *mw_ring_bell_create(char *errbuf, size_t errlen)
{
    mw_ring_bell_t *b = aligned_alloc(64, sizeof(*b));

    if (b == NULL || bell_init(b) != 0) {
        free(b);
        mw_fmt_err(errbuf, errlen, "out of memory for a ring's bell");
        return NULL;
    }
    return b;
}

void mw_ring_bell_destroy(mw_ring_bell_t *b)
{
    if (b == NULL)
        return;
    bell_fini(b);
    free(b);
}

mw_ring_t *mw_ring_create(size_t size, mw_ring_bell_t *bell, char *errbuf, size_t errlen)
{
    mw_ring_t *r;

    if (size < 4096 || (size & (size - 1)) != 0) {
        mw_fmt_err(errbuf, errlen, "ring size must be a power of two >= 4096");
        return NULL;
    }
    r = aligned_alloc(64, sizeof(*r));
    if (r == NULL)
        goto fail;
    *r = (mw_ring_t){ 0 };
    r->buf = mw_huge_alloc(size); /* the whole ring is touched within seconds */
    if (r->buf == NULL) {
        free(r);
        goto fail;
    }
    r->size = size;
    r->mask = size - 1;
    r->wake_bytes = size / 8;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    if (bell_init(&r->producer) != 0) {
        free(r->buf);
        free(r);
        goto fail;
    }
    if (bell_init(&r->own_bell) != 0) {
        bell_fini(&r->producer);
        free(r->buf);
        free(r);
        goto fail;
    }
    r->bell = bell != NULL ? bell : &r->own_bell;
    return r;
fail:
    mw_fmt_err(errbuf, errlen, "out of memory for a %zu-byte packet ring", size);
    return NULL;
}

void mw_ring_destroy(mw_ring_t *r)
{
    if (r == NULL)
        return;
    bell_fini(&r->own_bell);
    bell_fini(&r->producer);
    free(r->buf);
    free(r);
}

static void sleep_on(mw_ring_bell_t *b, int (*ready)(mw_ring_t *const *, unsigned),
        mw_ring_t *const *rings, unsigned n, int wait_ms)
{
    struct timespec ts;

    mw_deadline_in(&ts, wait_ms);
    pthread_mutex_lock(&b->mu);
    atomic_store(&b->sleeping, 1);
    if (!ready(rings, n))
        pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    atomic_store(&b->sleeping, 0);
    pthread_mutex_unlock(&b->mu);
}

static void wake(mw_ring_bell_t *b)
{
    if (atomic_load(&b->sleeping)) {
        pthread_mutex_lock(&b->mu);
        pthread_cond_signal(&b->cv);
        pthread_mutex_unlock(&b->mu);
    }
}

static size_t entry_size(size_t len)
{
    return (ENTRY_HDR + len + 7u) & ~(size_t)7u;
}

static int producer_ready(mw_ring_t *const *rings, unsigned n)
{
    mw_ring_t *r = rings[0];

    (void)n;
    return r->size - (r->head_local - atomic_load(&r->tail)) >= r->reserved_len;
}

void *mw_ring_reserve(mw_ring_t *r, size_t len)
{
    size_t need = entry_size(len), pos, pad;
    uint8_t *e;

    if (need > r->size / 2)
        return NULL;
    pos = r->head_local & r->mask;
    pad = (r->size - pos < need) ? r->size - pos : 0;
    r->reserved_len = pad + need;
    if (r->size - (r->head_local - r->tail_seen) < pad + need) {
        r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
        while (r->size - (r->head_local - r->tail_seen) < pad + need) {
            mw_ring_flush(r); /* the consumer may be waiting for what we hold */
            sleep_on(&r->producer, producer_ready, &r, 1, 1);
            r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
        }
    }
    if (pad) {
        *(uint32_t *)(r->buf + pos) = SKIP_MARK;
        r->head_local += pad;
        pos = 0;
    }
    e = r->buf + pos;
    *(uint32_t *)e = (uint32_t)len;
    r->reserved_len = need;
    return e + ENTRY_HDR;
}

void mw_ring_commit(mw_ring_t *r)
{
    r->head_local += r->reserved_len;
    if (++r->unpublished >= PUBLISH_BATCH)
        mw_ring_publish(r);
}

void mw_ring_publish(mw_ring_t *r)
{
    r->unpublished = 0;
    atomic_store_explicit(&r->head, r->head_local, memory_order_release);
    if (r->head_local - atomic_load_explicit(&r->tail, memory_order_relaxed) >= r->wake_bytes)
        wake(r->bell);
}

void mw_ring_flush(mw_ring_t *r)
{
    r->unpublished = 0;
    atomic_store_explicit(&r->head, r->head_local, memory_order_release);
    wake(r->bell);
}

static int consumer_ready(mw_ring_t *const *rings, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++)
        if (atomic_load(&rings[i]->head) != atomic_load(&rings[i]->tail))
            return 1;
    return 0;
}

int mw_ring_wait_any(mw_ring_t *const *rings, unsigned n, int wait_ms)
{
    if (n == 0)
        return 0;
    if (!consumer_ready(rings, n))
        sleep_on(rings[0]->bell, consumer_ready, rings, n, wait_ms);
    return consumer_ready(rings, n);
}

void *mw_ring_peek(mw_ring_t *r, size_t *len, int wait_ms)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint8_t *e;

    if (r->head_seen == tail) {
        r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
        if (r->head_seen == tail) {
            if (wait_ms <= 0)
                return NULL;
            sleep_on(r->bell, consumer_ready, &r, 1, wait_ms);
            r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
            if (r->head_seen == tail)
                return NULL;
        }
    }
    e = r->buf + (tail & r->mask);
    if (*(uint32_t *)e == SKIP_MARK) {
        tail += r->size - (tail & r->mask);
        atomic_store_explicit(&r->tail, tail, memory_order_release);
        e = r->buf;
    }
    *len = *(uint32_t *)e;
    r->cur_len = entry_size(*len);
    return e + ENTRY_HDR;
}

void mw_ring_release(mw_ring_t *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

    tail += r->cur_len;
    atomic_store_explicit(&r->tail, tail, memory_order_release);
    if (r->head_seen - tail <= r->size / 2)
        wake(&r->producer);
}
