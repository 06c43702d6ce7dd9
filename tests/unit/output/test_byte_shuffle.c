/*
 * test_byte_shuffle.c - the shuffle's transpose against the definition
 * (out[j * rows + i] = in[i * elem + j]) for element sizes and row counts
 * on and off its 16-byte blocks, and the zeros after the last row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output/byte_shuffle.h"

static void check(size_t elem, size_t rows, size_t n)
{
    uint8_t *in = malloc(rows * elem + 1), *out = malloc(rows * elem + 1);
    size_t i, j;

    assert_non_null(in);
    assert_non_null(out);
    for (i = 0; i < n * elem; i++)
        in[i] = (uint8_t)rand();
    memset(out, 0xee, rows * elem + 1);
    mw_byte_shuffle(in, out, elem, rows, n);
    for (j = 0; j < elem; j++)
        for (i = 0; i < rows; i++)
            if (out[j * rows + i] != (i < n ? in[i * elem + j] : 0))
                fail_msg("elem %zu rows %zu n %zu: byte %zu of element %zu wrong", elem, rows, n, j,
                        i);
    assert_int_equal(out[rows * elem], 0xee); /* nothing written past the chunk */
    free(in);
    free(out);
}

static void test_sizes(void **state)
{
    static const size_t elems[] = { 1, 2, 8, 15, 16, 17, 31, 32, 33, 504, 505 };
    static const size_t counts[] = { 0, 1, 15, 16, 17, 100, 255, 256 };
    size_t e, c;
    (void)state;

    srand(11);
    for (e = 0; e < sizeof(elems) / sizeof(elems[0]); e++)
        for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
            check(elems[e], 256, counts[c]);
    check(504, 2048, 2048); /* a /flows chunk */
    check(504, 2048, 1999);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
