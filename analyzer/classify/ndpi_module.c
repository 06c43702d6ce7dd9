/*
 * ndpi_module.c - nDPI detection modules. Building one is mostly nDPI
 * inserting its IP lists into trees: about 100,000 small allocations
 * (5.3 MB with nDPI 4.2) that are freed only with the module. They come
 * from an arena of the module's own (huge pages, no malloc per node,
 * given back whole), and the arena makes a module an image that can be
 * copied: a worker's module is a copy of the first one, its pointers
 * moved to the copy's address, instead of a build of its own.
 */
#include "classify/ndpi_module.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/ndpi_compat.h"
#include "core/bump_arena.h"

#define TABLES_RESERVE (32u << 20) /* address space; nDPI 4.2 takes 5.3 MB */

/* The versions whose module image test_ndpi_module.c has checked: every 8-byte word is
 * a pointer into the arena or the same in every build, and nothing outside the arena. */
#define IMAGE_CHECKED (NDPI_MAJOR == 4 && NDPI_MINOR == 2)

struct mw_dpi_module {
    struct ndpi_detection_module_struct *ndpi;
    mw_bump_arena_t *tables; /* NULL: nDPI's allocations went to malloc */
    int copyable;
};

/*
 * nDPI's allocation hooks are process-wide and carry no context, so the arena that takes
 * nDPI's allocations is named per thread, and only while this thread builds or frees a
 * module: what nDPI allocates while it dissects goes to malloc as before, since it frees
 * that flow by flow. nDPI frees a module's tables only in ndpi_exit_detection_module.
 */
static _Thread_local mw_bump_arena_t *building;
static _Thread_local unsigned spilled; /* allocations of a build the arena could not take */
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void *module_malloc(size_t bytes)
{
    void *p = building != NULL ? mw_bump_arena_alloc(building, bytes) : NULL;

    if (p != NULL)
        return p;
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
    m->ndpi = mw_ndpi_module_new();
    building = NULL;
    if (m->ndpi == NULL) {
        mw_bump_arena_destroy(m->tables);
        free(m);
        return NULL;
    }
    m->copyable = IMAGE_CHECKED && m->tables != NULL && spilled == 0 &&
                  mw_bump_arena_owns(m->tables, m->ndpi);
    return m;
}

/* Moves every word of image that points into [from, from + bytes] by to - from. */
static void relocate(uint8_t *image, size_t bytes, uintptr_t from, uintptr_t to)
{
    size_t off;

    for (off = 0; off + sizeof(uint64_t) <= bytes; off += sizeof(uint64_t)) {
        uint64_t word;
        memcpy(&word, image + off, sizeof(word));
        if (word >= from && word <= from + bytes) { /* one past the end is a pointer too */
            word = word - from + to;
            memcpy(image + off, &word, sizeof(word));
        }
    }
}

mw_dpi_module_t *mw_dpi_module_copy(const mw_dpi_module_t *pristine)
{
    size_t bytes;
    uint8_t *from, *to;
    mw_dpi_module_t *m;

    if (!pristine->copyable)
        return NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->tables = mw_bump_arena_create(TABLES_RESERVE);
    bytes = mw_bump_arena_used(pristine->tables);
    from = mw_bump_arena_base(pristine->tables);
    to = m->tables != NULL ? mw_bump_arena_alloc(m->tables, bytes) : NULL;
    if (to == NULL) {
        mw_bump_arena_destroy(m->tables);
        free(m);
        return NULL;
    }
    memcpy(to, from, bytes);
    relocate(to, bytes, (uintptr_t)from, (uintptr_t)to);
    m->ndpi = (struct ndpi_detection_module_struct *)(to + ((uint8_t *)pristine->ndpi - from));
    m->copyable = 1;
    return m;
}

void mw_dpi_module_free(mw_dpi_module_t *m)
{
    if (m == NULL)
        return;
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
    *bytes = m->tables != NULL ? mw_bump_arena_used(m->tables) : 0;
    return m->tables != NULL ? mw_bump_arena_base(m->tables) : NULL;
}
