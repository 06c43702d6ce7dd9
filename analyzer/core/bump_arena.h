/*
 * bump_arena.h - memory for many small objects that live and die together
 * (an nDPI module's tables): handed out by bumping a pointer through one
 * reserved range, given back all at once. One thread at a time.
 */
#ifndef MW_BUMP_ARENA_H
#define MW_BUMP_ARENA_H

#include <stddef.h>

typedef struct mw_bump_arena mw_bump_arena_t;

/* Reserves `reserve` bytes of address space (backed only where touched, huge pages asked
 * for); NULL when it cannot. */
mw_bump_arena_t *mw_bump_arena_create(size_t reserve);
void mw_bump_arena_destroy(mw_bump_arena_t *a); /* NULL-safe */

/* 16-byte aligned memory, NULL when the range is used up. */
void *mw_bump_arena_alloc(mw_bump_arena_t *a, size_t bytes);
int mw_bump_arena_owns(const mw_bump_arena_t *a, const void *p);
/* Where the first allocation went (the range is handed out in order from there). */
void *mw_bump_arena_base(const mw_bump_arena_t *a);
size_t mw_bump_arena_used(const mw_bump_arena_t *a);

#endif
