/*
 * pool.c - fixed-size object pools for the per-packet path.
 *
 * A malloc per flow costs twice: the allocator's own work, and the first
 * touch of every fresh 4 kB page, which the kernel must fault in and zero
 * (the larger cost on the VMs we measured). A pool takes 2 MB blocks, asks
 * for transparent huge pages on them (one fault per block where the system
 * allows), hands objects out with a bump pointer and recycles freed ones
 * through a free list. Its first block is small and left to 4 kB pages,
 * faulted in as objects are handed out: a huge page is zeroed whole at its
 * first touch (1.5 ms each here), which a short run with a handful of
 * flows would pay for every pool of every worker. Blocks go back only when
 * the pool is destroyed: memory follows the peak of what is live, never a
 * cap chosen up front.
 * A pool belongs to one thread; nothing here is locked.
 */
#include "core/pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/mw.h"

/* ASan builds still catch a use of a flow after it went back to its pool */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(obj, n)   ASAN_POISON_MEMORY_REGION(obj, n)
#define UNPOISON(obj, n) ASAN_UNPOISON_MEMORY_REGION(obj, n)
#else
#define POISON(obj, n)   ((void)(obj), (void)(n))
#define UNPOISON(obj, n) ((void)(obj), (void)(n))
#endif

#define BLOCK_BYTES (2u << 20) /* one huge page on x86-64 and arm64 (4 kB base pages) */
/* 64 base pages: at most 64 faults more than one huge page */
#define FIRST_BLOCK_BYTES (256u << 10)

typedef struct block {
    struct block *next;
    size_t bytes;
} block_t;

typedef struct free_obj {
    struct free_obj *next;
} free_obj_t;

struct mw_pool {
    size_t obj_size;
    block_t *blocks;
    uint8_t *bump, *bump_end; /* the newest block's untouched part */
    free_obj_t *free_list;
    size_t bytes, live; /* bytes: of all blocks */
};

mw_pool_t *mw_pool_create(size_t obj_size)
{
    mw_pool_t *p;

    if (obj_size == 0 || obj_size > FIRST_BLOCK_BYTES / 2)
        return NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    /* 16-byte alignment, as malloc gives: nDPI's state holds 128-bit fields */
    p->obj_size = (MW_MAX(obj_size, sizeof(free_obj_t)) + 15u) & ~(size_t)15u;
    return p;
}

void *mw_huge_alloc(size_t bytes)
{
    int huge = bytes >= BLOCK_BYTES && bytes % BLOCK_BYTES == 0;
    void *m = aligned_alloc(huge ? BLOCK_BYTES : 4096, bytes);

    /* a hint: without THP (or with it off) the memory is faulted in 4 kB pages */
    if (m != NULL && huge)
        (void)madvise(m, bytes, MADV_HUGEPAGE);
    return m;
}

void *mw_buffer_alloc(size_t bytes)
{
    if (bytes < BLOCK_BYTES / 4 || bytes > SIZE_MAX - BLOCK_BYTES)
        return malloc(bytes);
    return mw_huge_alloc((bytes + BLOCK_BYTES - 1) / BLOCK_BYTES * BLOCK_BYTES);
}

static int add_block(mw_pool_t *p)
{
    size_t bytes = p->blocks == NULL ? FIRST_BLOCK_BYTES : BLOCK_BYTES;
    block_t *b = mw_huge_alloc(bytes);

    if (b == NULL)
        return MW_ENOMEM;
    b->next = p->blocks;
    b->bytes = bytes;
    p->blocks = b;
    p->bytes += bytes;
    p->bump = (uint8_t *)b + ((sizeof(*b) + 15u) & ~(size_t)15u);
    p->bump_end = (uint8_t *)b + bytes;
    POISON(p->bump, (size_t)(p->bump_end - p->bump));
    return 0;
}

void *mw_pool_get(mw_pool_t *p)
{
    void *obj;

    if (p->free_list != NULL) {
        obj = p->free_list;
        UNPOISON(obj, p->obj_size);
        p->free_list = p->free_list->next;
    } else {
        if ((size_t)(p->bump_end - p->bump) < p->obj_size && add_block(p) != 0)
            return NULL;
        obj = p->bump;
        p->bump += p->obj_size;
        UNPOISON(obj, p->obj_size);
    }
    p->live++;
    return obj;
}

void mw_pool_put(mw_pool_t *p, void *obj)
{
    free_obj_t *f = obj;

    if (obj == NULL)
        return;
    f->next = p->free_list;
    p->free_list = f;
    p->live--;
    POISON((uint8_t *)obj + sizeof(*f), p->obj_size - sizeof(*f));
}

size_t mw_pool_bytes(const mw_pool_t *p)
{
    return p->bytes;
}

size_t mw_pool_live(const mw_pool_t *p)
{
    return p->live;
}

void mw_pool_destroy(mw_pool_t *p)
{
    if (p == NULL)
        return;
    while (p->blocks != NULL) {
        block_t *next = p->blocks->next;
        UNPOISON(p->blocks, p->blocks->bytes);
        free(p->blocks);
        p->blocks = next;
    }
    free(p);
}
