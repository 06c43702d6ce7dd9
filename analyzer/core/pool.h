/*
 * pool.h - fixed-size object pools (flows, nDPI flow state): huge-page
 * backed blocks, no malloc per object, one pool per thread.
 */
#ifndef MW_POOL_H
#define MW_POOL_H

#include <stddef.h>

typedef struct mw_pool mw_pool_t;

/* NULL when out of memory or obj_size is 0 or over 128 kB. */
mw_pool_t *mw_pool_create(size_t obj_size);
void mw_pool_destroy(mw_pool_t *pool); /* NULL-safe; frees every object at once */

/* An object (contents undefined, 16-byte aligned), NULL when out of memory. */
void *mw_pool_get(mw_pool_t *pool);
void mw_pool_put(mw_pool_t *pool, void *obj); /* NULL-safe */

size_t mw_pool_bytes(const mw_pool_t *pool); /* memory taken from the system */
size_t mw_pool_live(const mw_pool_t *pool);  /* objects handed out and not put back */

/* Memory for a large buffer soon touched all over (a pool's block, a packet ring): whole
 * 2 MB multiples come 2 MB-aligned with transparent huge pages asked for, one page fault
 * per 2 MB instead of 512; other sizes (multiples of 4 kB) as they are. free() it. */
void *mw_huge_alloc(size_t bytes);
/* A buffer of 512 kB or more reused for the whole run (a record queue, a chunk being
 * built): rounded up to whole 2 MB pages and given by mw_huge_alloc - a 4 kB fault costs
 * a trap each, and on a paravirtualised guest the trap, not the zeroing, is the cost.
 * Smaller ones by malloc. free() it. */
void *mw_buffer_alloc(size_t bytes);

#endif
