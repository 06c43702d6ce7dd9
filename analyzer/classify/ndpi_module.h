/*
 * ndpi_module.h - an nDPI detection module's life: built with its tables
 * in an arena of their own, copied, freed.
 */
#ifndef MW_NDPI_MODULE_H
#define MW_NDPI_MODULE_H

#include <stddef.h>

struct ndpi_detection_module_struct;
typedef struct mw_dpi_module mw_dpi_module_t;

/* A module with every protocol on, as ndpiReader builds one; NULL when it cannot be built. */
mw_dpi_module_t *mw_dpi_module_build(void);

/*
 * A copy of a module that has not dissected anything yet, as if built anew, made in a
 * fraction of the time and without touching nDPI's process-wide state (so copies may be
 * made on several threads at once). NULL when this module cannot be copied: its tables are
 * not all in its arena, or this nDPI version's module image has not been checked
 * (tests/unit/classify/test_ndpi_module.c); the caller then builds one.
 */
mw_dpi_module_t *mw_dpi_module_copy(const mw_dpi_module_t *pristine);

void mw_dpi_module_free(mw_dpi_module_t *m); /* NULL-safe */

struct ndpi_detection_module_struct *mw_dpi_module_ndpi(const mw_dpi_module_t *m);

/* The module's tables in its arena (NULL, 0 bytes: all came from malloc). */
const void *mw_dpi_module_image(const mw_dpi_module_t *m, size_t *bytes /* OUT */);

#endif
