/*
 * byte_shuffle.h - HDF5's shuffle filter done in place of it: byte j of
 * every element goes together, so deflate sees runs of like bytes.
 */
#ifndef MW_BYTE_SHUFFLE_H
#define MW_BYTE_SHUFFLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * n elements of elem_size bytes from in into a chunk of rows elements (n <= rows):
 * out[j * rows + i] = in[i * elem_size + j]; the rows past n are zeros.
 */
void mw_byte_shuffle(const uint8_t *in, uint8_t *out, size_t elem_size, size_t rows, size_t n);

#endif
