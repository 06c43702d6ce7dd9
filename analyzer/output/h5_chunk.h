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

/* The deflate level chunked datasets declare and the chunker writes. libdeflate's level 2
 * is both faster and smaller than its level 1 on shuffled flow rows (GTP bench: 0.23 s and
 * 9.9 MB against 0.24 s and 10.2 MB; nDPI-mix 0.046 s against 0.068 s). */
#define MW_H5_DEFLATE_LEVEL 2

/* For chunks of rows elements of elem_size bytes; NULL when out of memory. */
mw_h5_chunker_t *mw_h5_chunker_create(size_t elem_size, size_t rows);
void mw_h5_chunker_destroy(mw_h5_chunker_t *c); /* NULL-safe */

/*
 * Writes the chunk that starts at row at (a multiple of the chunk rows) from
 * n <= rows elements, growing the dataset to at + n rows (after writing the
 * chunk in flight, if any). 0 or -1.
 */
int mw_h5_chunker_write(mw_h5_chunker_t *c, hid_t ds, uint64_t at, const void *rows, size_t n);

/*
 * The same, deflated on the chunker's own thread: rows may be reused on
 * return, the chunk reaches the file at the next collect (or write, or
 * submit: one chunk at most is in flight). 0 or -1 (the chunk before it
 * could not be written).
 */
int mw_h5_chunker_submit(mw_h5_chunker_t *c, hid_t ds, uint64_t at, const void *rows, size_t n);

/* Writes the chunk in flight, waiting for its deflate: 1 written, 0 none, -1 failed. */
int mw_h5_chunker_collect(mw_h5_chunker_t *c, hid_t ds);

/* 1 with the chunk in flight's first row and rows, 0 when none is. */
int mw_h5_chunker_pending(mw_h5_chunker_t *c, uint64_t *at /* OUT */, size_t *n /* OUT */);

/* CPU seconds the deflating thread has used, once the chunk in flight is deflated (0
 * without a thread). */
double mw_h5_chunker_cpu_s(mw_h5_chunker_t *c);

#endif
