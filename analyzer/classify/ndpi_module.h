/*
 * ndpi_module.h - an nDPI detection module's life: built with its tables
 * in an arena of their own, copied (sharing them), freed.
 */
#ifndef MW_NDPI_MODULE_H
#define MW_NDPI_MODULE_H

#include <stddef.h>
#include <stdint.h>

struct ndpi_detection_module_struct;
typedef struct mw_dpi_module mw_dpi_module_t;

/* A module with every protocol on, as ndpiReader builds one; NULL when it cannot be built. */
mw_dpi_module_t *mw_dpi_module_build(void);

/*
 * A copy of a built module that has not dissected anything yet, as if built anew: its own
 * module struct (the packet being dissected, its caches) reading the tables of pristine,
 * which must outlive its use (not its free). Made in a fraction of a build's time, without
 * touching nDPI's process-wide state (so copies may be made on several threads at once).
 * NULL when this module cannot be copied: its tables are not all in its arena, or this nDPI
 * version's module image has not been checked (tests/unit/classify/test_ndpi_module.c); the
 * caller then builds one.
 */
mw_dpi_module_t *mw_dpi_module_copy(const mw_dpi_module_t *pristine);

/* NULL-safe. With MW_CHECK_TABLES set when a module was built, freeing it aborts if its
 * tables changed since (nDPI wrote into what its copies share): a test's check. */
void mw_dpi_module_free(mw_dpi_module_t *m);

/* A hash of a built, copyable module's tables (its arena but its struct), 0 for others. */
uint64_t mw_dpi_module_tables_hash(const mw_dpi_module_t *m);

struct ndpi_detection_module_struct *mw_dpi_module_ndpi(const mw_dpi_module_t *m);

/* The module's own memory: a built one's arena (NULL, 0 bytes: all came from malloc), a
 * copy's struct. */
const void *mw_dpi_module_image(const mw_dpi_module_t *m, size_t *bytes /* OUT */);

#endif
