/*
 * bump_arena.c - a reserved range and a bump pointer. Building an nDPI
 * module makes about 100,000 small allocations (its IP lists' trees) that
 * are freed only with the module: through malloc they cost a fresh 4 kB
 * page fault every few dozen, and as many frees at the end. The range is
 * core/pool.c's huge-page memory: backed only where it is touched.
 */
#include "core/bump_arena.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/pool.h"

#define HUGE_PAGE (2u << 20) /* mw_huge_alloc's unit */

struct mw_bump_arena {
    uint8_t *base, *bump, *end;
};

mw_bump_arena_t *mw_bump_arena_create(size_t reserve)
{
    mw_bump_arena_t *a = malloc(sizeof(*a));

    if (a == NULL)
        return NULL;
    reserve = reserve == 0 ? HUGE_PAGE : (reserve + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    a->base = a->bump = mw_huge_alloc(reserve);
    if (a->base == NULL) {
        free(a);
        return NULL;
    }
    a->end = a->base + reserve;
    return a;
}

void mw_bump_arena_destroy(mw_bump_arena_t *a)
{
    if (a == NULL)
        return;
    free(a->base);
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
