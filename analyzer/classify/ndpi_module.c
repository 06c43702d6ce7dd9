/*
 * ndpi_module.c - nDPI detection modules. Building one is mostly nDPI
 * inserting its IP lists into trees: about 100,000 small allocations
 * (5.3 MB with nDPI 4.2) that are freed only with the module. They come
 * from an arena of the module's own (huge pages, no malloc per node,
 * given back whole), which makes a module an image whose parts are known:
 * the module struct (240 kB with nDPI 4.2: the packet being dissected,
 * counters, caches made on first use) and the tables it points to, which
 * dissecting only reads. A worker's module is a copy of the first one's
 * struct, its pointers into itself moved, sharing the first one's tables:
 * no build of its own, and one set of tables in the caches for all.
 */
#include "classify/ndpi_module.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>
#include <xxhash.h>

#include "classify/ndpi_compat.h"
#include "core/bump_arena.h"

#define TABLES_RESERVE (32u << 20) /* address space; nDPI 4.2 takes 5.3 MB */

/* The versions whose module image test_ndpi_module.c has checked: every 8-byte word is
 * a pointer into the arena or the same in every build, and nothing outside the arena. */
#define IMAGE_CHECKED (NDPI_MAJOR == 4 && NDPI_MINOR == 2)

struct mw_dpi_module {
    struct ndpi_detection_module_struct *ndpi;
    mw_bump_arena_t *tables; /* built: its own (NULL: nDPI's allocations went to malloc) */
    size_t struct_bytes;     /* the module struct, 0 unknown */
    int copyable;
    uint64_t tables_hash; /* MW_CHECK_TABLES: its tables' hash when built (0: not checked) */
    /* a copy: its struct is its own, its tables are those of the module it was copied from */
    uintptr_t shared_base;
    size_t shared_bytes;
};

/*
 * nDPI's allocation hooks are process-wide and carry no context, so the arena that takes
 * nDPI's allocations is named per thread, and only while this thread builds or frees a
 * module: what nDPI allocates while it dissects goes to malloc as before, since it frees
 * that flow by flow. nDPI frees a module's tables only in ndpi_exit_detection_module.
 */
static _Thread_local mw_bump_arena_t *building;
static _Thread_local unsigned spilled; /* allocations of a build the arena could not take */
static _Thread_local void *largest;    /* a build's largest allocation: the module struct */
static _Thread_local size_t largest_bytes;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void *module_malloc(size_t bytes)
{
    void *p = building != NULL ? mw_bump_arena_alloc(building, bytes) : NULL;

    if (p != NULL) {
        if (bytes > largest_bytes) {
            largest = p;
            largest_bytes = bytes;
        }
        return p;
    }
    if (building != NULL)
        spilled++;
    return malloc(bytes);
}

static void module_free(void *p)
{
    if (building == NULL || !mw_bump_arena_owns(building, p))
        free(p); /* arena memory goes back with the arena */
}

static void install_hooks(void)
{
    set_ndpi_malloc(module_malloc);
    set_ndpi_free(module_free);
}

mw_dpi_module_t *mw_dpi_module_build(void)
{
    mw_dpi_module_t *m;

    if (pthread_once(&hooks_once, install_hooks) != 0)
        return NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->tables = mw_bump_arena_create(TABLES_RESERVE); /* none: all from malloc */
    building = m->tables;
    spilled = 0;
    largest = NULL;
    largest_bytes = 0;
    m->ndpi = mw_ndpi_module_new();
    building = NULL;
    if (m->ndpi == NULL) {
        mw_bump_arena_destroy(m->tables);
        free(m);
        return NULL;
    }
    m->struct_bytes = largest == (void *)m->ndpi ? largest_bytes : 0;
    m->copyable = IMAGE_CHECKED && m->tables != NULL && spilled == 0 && m->struct_bytes > 0 &&
                  mw_bump_arena_owns(m->tables, m->ndpi);
    if (m->copyable && getenv("MW_CHECK_TABLES") != NULL)
        m->tables_hash = mw_dpi_module_tables_hash(m) | 1;
    return m;
}

uint64_t mw_dpi_module_tables_hash(const mw_dpi_module_t *m)
{
    const uint8_t *base, *st;
    size_t used, before;
    XXH3_state_t *h;
    uint64_t sum;

    if (!m->copyable)
        return 0;
    base = mw_bump_arena_base(m->tables);
    used = mw_bump_arena_used(m->tables);
    st = (const uint8_t *)m->ndpi;
    before = (size_t)(st - base);
    h = XXH3_createState();
    if (h == NULL || XXH3_64bits_reset(h) != XXH_OK ||
            XXH3_64bits_update(h, base, before) != XXH_OK ||
            XXH3_64bits_update(h, st + m->struct_bytes, used - before - m->struct_bytes) !=
                    XXH_OK) {
        XXH3_freeState(h);
        return 0;
    }
    sum = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    return sum;
}

/* Sets every word of image that points into [from, from + bytes) to to + its offset, or to
 * NULL when to is 0. */
static void relocate(uint8_t *image, size_t image_bytes, uintptr_t from, size_t bytes, uintptr_t to)
{
    size_t off;

    for (off = 0; off + sizeof(uint64_t) <= image_bytes; off += sizeof(uint64_t)) {
        uint64_t word;
        memcpy(&word, image + off, sizeof(word));
        if (word >= from && word - from < bytes) {
            word = to != 0 ? word - from + to : 0;
            memcpy(image + off, &word, sizeof(word));
        }
    }
}

mw_dpi_module_t *mw_dpi_module_copy(const mw_dpi_module_t *pristine)
{
    mw_dpi_module_t *m;
    uint8_t *copy;

    if (!pristine->copyable)
        return NULL;
    m = calloc(1, sizeof(*m));
    copy = aligned_alloc(64, (pristine->struct_bytes + 63) & ~(size_t)63);
    if (m == NULL || copy == NULL) {
        free(m);
        free(copy);
        return NULL;
    }
    memcpy(copy, pristine->ndpi, pristine->struct_bytes);
    relocate(copy, pristine->struct_bytes, (uintptr_t)pristine->ndpi, pristine->struct_bytes,
            (uintptr_t)copy);
    m->ndpi = (struct ndpi_detection_module_struct *)(void *)copy;
    m->struct_bytes = pristine->struct_bytes;
    m->shared_base = (uintptr_t)mw_bump_arena_base(pristine->tables);
    /* + 1: a pointer one past the last table is a pointer into them too */
    m->shared_bytes = mw_bump_arena_used(pristine->tables) + 1;
    return m;
}

void mw_dpi_module_free(mw_dpi_module_t *m)
{
    if (m == NULL)
        return;
    if (m->shared_bytes > 0) {
        /* a copy: nDPI frees what it made for this module (its caches) and the struct, and
         * must not see the shared tables, which go with the module they came from: every
         * pointer to them is dropped first (nDPI's exit skips what is NULL) */
        relocate((uint8_t *)m->ndpi, m->struct_bytes, m->shared_base, m->shared_bytes, 0);
        ndpi_exit_detection_module(m->ndpi);
        free(m);
        return;
    }
    if (m->tables_hash != 0 && (mw_dpi_module_tables_hash(m) | 1) != m->tables_hash) {
        fprintf(stderr, "mastwatch: nDPI wrote into the tables its module copies share "
                        "(MW_CHECK_TABLES)\n");
        abort();
    }
    building = m->tables;
    ndpi_exit_detection_module(m->ndpi);
    building = NULL;
    mw_bump_arena_destroy(m->tables);
    free(m);
}

struct ndpi_detection_module_struct *mw_dpi_module_ndpi(const mw_dpi_module_t *m)
{
    return m->ndpi;
}

const void *mw_dpi_module_image(const mw_dpi_module_t *m, size_t *bytes)
{
    if (m->shared_bytes > 0) {
        *bytes = m->struct_bytes;
        return m->ndpi;
    }
    *bytes = m->tables != NULL ? mw_bump_arena_used(m->tables) : 0;
    return m->tables != NULL ? mw_bump_arena_base(m->tables) : NULL;
}
