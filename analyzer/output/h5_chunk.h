/*
 * h5_chunk.h - whole chunks of a shuffle+deflate dataset written with
 * H5Dwrite_chunk from buffers kept for the run (output/h5_*.c only).
 */
#ifndef MW_H5_CHUNK_H
#define MW_H5_CHUNK_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mw_h5_chunker mw_h5_chunker_t;

/* For chunks of rows elements of elem_size bytes; NULL when out of memory. */
mw_h5_chunker_t *mw_h5_chunker_create(size_t elem_size, size_t rows);
void mw_h5_chunker_destroy(mw_h5_chunker_t *c); /* NULL-safe */

/*
 * Writes the chunk that starts at row at (a multiple of the chunk rows) from
 * n <= rows elements; the caller sets the dataset's extent. 0 or -1.
 */
int mw_h5_chunker_write(mw_h5_chunker_t *c, hid_t ds, uint64_t at, const void *rows, size_t n);

#endif
