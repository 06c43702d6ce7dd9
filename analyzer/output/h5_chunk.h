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

/* The deflate level chunked datasets declare and the chunker writes: ISA-L's igzip level 1
 * (its level 0 is as fast and 13-21 % larger). Shuffling and deflating the /flows chunks of
 * the GTP bench takes it 61 ms for 10.8 MB where libdeflate's fastest level, 2, took 206 ms
 * for 9.9 MB (nDPI-mix: 13 ms for 1.17 MB against 40 ms for 1.07 MB);
 * scripts/bench/chunk_deflate_cost.c measures both. */
#define MW_H5_DEFLATE_LEVEL 1

/* For chunks of rows elements of elem_size bytes, deflated on up to threads threads of its
 * own (0 = 1), one chunk in flight on each; NULL when out of memory. */
mw_h5_chunker_t *mw_h5_chunker_create(size_t elem_size, size_t rows, unsigned threads);
void mw_h5_chunker_destroy(mw_h5_chunker_t *c); /* NULL-safe */

/*
 * Writes the chunk that starts at row at (a multiple of the chunk rows) from
 * n <= rows elements, growing the dataset to at + n rows (after writing the
 * chunks in flight, if any). 0 or -1.
 */
int mw_h5_chunker_write(mw_h5_chunker_t *c, hid_t ds, uint64_t at, const void *rows, size_t n);

/*
 * The same, deflated on the chunker's threads: rows may be reused on return,
 * the chunk reaches the file at a later collect (or write, or a submit that
 * finds every thread's chunk in flight: it writes the oldest first). 0 or -1
 * (the chunk before it could not be written).
 */
int mw_h5_chunker_submit(mw_h5_chunker_t *c, hid_t ds, uint64_t at, const void *rows, size_t n);

/* 1 when every thread has a chunk in flight: a submit would write the oldest first. */
int mw_h5_chunker_full(mw_h5_chunker_t *c);

/* Writes the oldest chunk in flight, waiting for its deflate: 1 written (*rows: its rows;
 * rows may be NULL), 0 none in flight, -1 failed. */
int mw_h5_chunker_collect_one(mw_h5_chunker_t *c, hid_t ds, size_t *rows /* OUT */);

/* Writes every chunk in flight, in the order submitted: how many, or -1 (one failed). */
int mw_h5_chunker_collect(mw_h5_chunker_t *c, hid_t ds);

/* 1 with the oldest chunk in flight's first row and rows, 0 when none is. */
int mw_h5_chunker_pending(mw_h5_chunker_t *c, uint64_t *at /* OUT */, size_t *n /* OUT */);

/* CPU seconds the deflating threads have used, once the chunks in flight are deflated (0
 * without a thread). */
double mw_h5_chunker_cpu_s(mw_h5_chunker_t *c);

#endif
