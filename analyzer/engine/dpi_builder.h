/*
 * dpi_builder.h - the first worker's nDPI module, built on a thread of its
 * own while the run loads its inventory, model and output (the others are
 * copies of it, made later: classify/ndpi_module.c).
 */
#ifndef MW_DPI_BUILDER_H
#define MW_DPI_BUILDER_H

#include <stddef.h>

struct mw_classifier;
typedef struct mw_dpi_builder mw_dpi_builder_t;

/* Starts the build; NULL when no thread can be had (the caller builds the module itself). */
mw_dpi_builder_t *mw_dpi_builder_start(void);

/* Waits for the module and hands it over (the builder is gone): NULL with errbuf when it
 * could not be built. */
struct mw_classifier *mw_dpi_builder_take(mw_dpi_builder_t *b, char *errbuf, size_t errlen);

/* Waits for the build and throws the module away (an error before the workers): NULL-safe. */
void mw_dpi_builder_cancel(mw_dpi_builder_t *b);

#endif
