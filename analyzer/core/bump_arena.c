/*
 * bump_arena.c - a reserved range and a bump pointer. Building an nDPI
 * module makes about 100,000 small allocations (its IP lists' trees) that
 * are freed only with the module: through malloc they cost a fresh 4 kB
 * page fault every few dozen, and as many frees at the end.
 */
#include "core/bump_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE (2u << 20)

struct mw_bump_arena {
    void *map;
    size_t map_len;
    uint8_t *base, *bump, *end;
};

mw_bump_arena_t *mw_bump_arena_create(size_t reserve)
{
    mw_bump_arena_t *a = malloc(sizeof(*a));
    uintptr_t start;

    if (a == NULL)
        return NULL;
    reserve = (reserve + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    a->map_len = reserve + HUGE_PAGE; /* room to start on a huge-page boundary */
    a->map = mmap(NULL, a->map_len, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a->map == MAP_FAILED) {
        free(a);
        return NULL;
    }
    start = ((uintptr_t)a->map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    a->base = a->bump = (uint8_t *)start;
    a->end = a->base + reserve;
    /* a hint: without transparent huge pages the range is faulted in 4 kB pages */
    (void)madvise(a->base, reserve, MADV_HUGEPAGE);
    return a;
}

void mw_bump_arena_destroy(mw_bump_arena_t *a)
{
    if (a == NULL)
        return;
    (void)munmap(a->map, a->map_len); /* fails only for a range we did not map */
    free(a);
}

void *mw_bump_arena_alloc(mw_bump_arena_t *a, size_t bytes)
{
    size_t need = bytes == 0 ? 16u : (bytes + 15u) & ~(size_t)15u;
    void *p;

    if (need < bytes || need > (size_t)(a->end - a->bump))
        return NULL;
    p = a->bump;
    a->bump += need;
    return p;
}

int mw_bump_arena_owns(const mw_bump_arena_t *a, const void *p)
{
    return (const uint8_t *)p >= a->base && (const uint8_t *)p < a->end;
}

void *mw_bump_arena_base(const mw_bump_arena_t *a)
{
    return a->base;
}

size_t mw_bump_arena_used(const mw_bump_arena_t *a)
{
    return (size_t)(a->bump - a->base);
}
