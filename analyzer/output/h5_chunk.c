/*
 * h5_chunk.c - writes whole /flows chunks straight to the file.
 *
 * Through H5Dwrite a chunk costs a fresh chunk buffer, the shuffle filter's
 * and zlib's buffers (megabytes each, mmap'ed and faulted in again for
 * every chunk) and zlib's deflate: most of the writer thread's time. Here
 * the chunk is shuffled and deflated into buffers kept for the whole run,
 * by libdeflate (the same DEFLATE in a zlib stream, about twice zlib's
 * speed at level 1), and handed to H5Dwrite_chunk with the dataset's own
 * filter pipeline (shuffle, deflate) marked as applied, so any HDF5 reader
 * reads it with the built-in filters. A chunk that would not shrink is
 * stored shuffled only, its deflate bit set in the filter mask, as HDF5
 * itself does for optional filters.
 */
#include "output/h5_chunk.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#define DEFLATE_LEVEL   1    /* as the dataset's pipeline declares (H5Pset_deflate(dcpl, 1)) */
#define MASK_NO_DEFLATE 0x2u /* filter 1 of the pipeline (0 shuffle, 1 deflate) not applied */
#define SHUFFLE_BLOCK   64u  /* elements per pass: their bytes stay in cache while transposed */

struct mw_h5_chunker {
    size_t elem_size, rows, bytes;
    uint8_t *shuffled, *deflated;
    size_t deflated_cap;
    struct libdeflate_compressor *compressor;
};

mw_h5_chunker_t *mw_h5_chunker_create(size_t elem_size, size_t rows)
{
    mw_h5_chunker_t *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->elem_size = elem_size;
    c->rows = rows;
    c->bytes = elem_size * rows;
    c->compressor = libdeflate_alloc_compressor(DEFLATE_LEVEL);
    if (c->compressor != NULL)
        c->deflated_cap = libdeflate_zlib_compress_bound(c->compressor, c->bytes);
    c->shuffled = malloc(c->bytes);
    c->deflated = malloc(c->deflated_cap ? c->deflated_cap : 1);
    if (c->compressor == NULL || c->shuffled == NULL || c->deflated == NULL) {
        mw_h5_chunker_destroy(c);
        return NULL;
    }
    return c;
}

void mw_h5_chunker_destroy(mw_h5_chunker_t *c)
{
    if (c == NULL)
        return;
    if (c->compressor != NULL)
        libdeflate_free_compressor(c->compressor);
    free(c->shuffled);
    free(c->deflated);
    free(c);
}

/* HDF5's shuffle: byte j of element i goes to out[j * rows + i] (whole elements only, as
 * a chunk always is). Elements from n on are zeros: the last chunk of a run, padded, costs
 * what its rows cost, not a whole chunk. */
static void shuffle(const uint8_t *in, uint8_t *out, size_t elem_size, size_t rows, size_t n)
{
    size_t i0, i, j;

    for (i0 = 0; i0 < n; i0 += SHUFFLE_BLOCK) {
        size_t end = n - i0 < SHUFFLE_BLOCK ? n : i0 + SHUFFLE_BLOCK;
        for (j = 0; j < elem_size; j++) {
            uint8_t *o = out + j * rows;
            const uint8_t *src = in + j;
            for (i = i0; i < end; i++)
                o[i] = src[i * elem_size];
        }
    }
    if (n < rows)
        for (j = 0; j < elem_size; j++)
            memset(out + j * rows + n, 0, rows - n);
}

int mw_h5_chunker_write(mw_h5_chunker_t *c, hid_t ds, uint64_t at, const void *rows, size_t n)
{
    hsize_t offset = at;
    uint32_t mask = 0;
    size_t out_len;

    if (n == 0 || n > c->rows || at % c->rows != 0)
        return -1;
    /* the last chunk is padded with zeros: rows past the dataset's extent are never read */
    shuffle(rows, c->shuffled, c->elem_size, c->rows, n);
    out_len = libdeflate_zlib_compress(
            c->compressor, c->shuffled, c->bytes, c->deflated, c->deflated_cap);
    if (out_len == 0 || out_len >= c->bytes)
        mask = MASK_NO_DEFLATE;
    if (H5Dwrite_chunk(ds, H5P_DEFAULT, mask, &offset, mask ? c->bytes : out_len,
                mask ? c->shuffled : c->deflated) < 0)
        return -1;
    return 0;
}
