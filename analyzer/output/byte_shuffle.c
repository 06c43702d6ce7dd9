/*
 * byte_shuffle.c - the shuffle as a byte transpose, 16 elements by 16 bytes
 * at a time in SSE2 registers (every x86-64 has them); a byte loop does the
 * edges and other machines. The transpose was a sixth of the deflate
 * thread's time on GTP-heavy runs with the byte loop alone.
 */
#include "output/byte_shuffle.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>

/* Elements i..i+15, bytes j..j+15: four rounds of interleaving turn 16 rows of 16 bytes
 * into 16 columns of 16 bytes. */
static void transpose_16x16(const uint8_t *in, uint8_t *out, size_t elem_size, size_t rows)
{
    __m128i x[16], a[16], b[16];
    int k;

    for (k = 0; k < 16; k++)
        x[k] = _mm_loadu_si128((const __m128i *)(const void *)(in + (size_t)k * elem_size));
    for (k = 0; k < 8; k++) { /* a[2p+h]: rows 2p, 2p+1, bytes 8h..8h+7 */
        a[2 * k] = _mm_unpacklo_epi8(x[2 * k], x[2 * k + 1]);
        a[2 * k + 1] = _mm_unpackhi_epi8(x[2 * k], x[2 * k + 1]);
    }
    for (k = 0; k < 4; k++) { /* b[4q+g]: rows 4q..4q+3, bytes 4g..4g+3 */
        b[4 * k + 0] = _mm_unpacklo_epi16(a[4 * k + 0], a[4 * k + 2]);
        b[4 * k + 1] = _mm_unpackhi_epi16(a[4 * k + 0], a[4 * k + 2]);
        b[4 * k + 2] = _mm_unpacklo_epi16(a[4 * k + 1], a[4 * k + 3]);
        b[4 * k + 3] = _mm_unpackhi_epi16(a[4 * k + 1], a[4 * k + 3]);
    }
    for (k = 0; k < 4; k++) { /* a[8o+2g+h]: rows 8o..8o+7, bytes 4g+2h, 4g+2h+1 */
        a[2 * k] = _mm_unpacklo_epi32(b[k], b[4 + k]);
        a[2 * k + 1] = _mm_unpackhi_epi32(b[k], b[4 + k]);
        a[8 + 2 * k] = _mm_unpacklo_epi32(b[8 + k], b[12 + k]);
        a[8 + 2 * k + 1] = _mm_unpackhi_epi32(b[8 + k], b[12 + k]);
    }
    for (k = 0; k < 8; k++) { /* byte 2k and 2k+1 of all 16 rows */
        _mm_storeu_si128((__m128i *)(void *)(out + (size_t)(2 * k) * rows),
                _mm_unpacklo_epi64(a[k], a[8 + k]));
        _mm_storeu_si128((__m128i *)(void *)(out + (size_t)(2 * k + 1) * rows),
                _mm_unpackhi_epi64(a[k], a[8 + k]));
    }
}
#endif

void mw_byte_shuffle(const uint8_t *in, uint8_t *out, size_t elem_size, size_t rows, size_t n)
{
    size_t i = 0, j, k;

#ifdef __SSE2__
    size_t in_blocks = elem_size & ~(size_t)15; /* an element's bytes in whole 16-byte blocks */

    for (; i + 16 <= n; i += 16)
        for (j = 0; j < in_blocks; j += 16)
            transpose_16x16(in + i * elem_size + j, out + j * rows + i, elem_size, rows);
    /* the bytes past the last block of each element, for the rows done */
    for (j = in_blocks; j < elem_size; j++)
        for (k = 0; k < i; k++)
            out[j * rows + k] = in[k * elem_size + j];
#endif
    for (j = 0; j < elem_size; j++) { /* the rows left, every byte */
        uint8_t *o = out + j * rows;
        for (k = i; k < n; k++)
            o[k] = in[k * elem_size + j];
        if (n < rows)
            memset(o + n, 0, rows - n);
    }
}
