/*
 * byte_shuffle_cost.c - the /flows shuffle (output/byte_shuffle.c) against the
 * byte loop it replaced, on CHUNKS chunks of 2,048 rows of 504 bytes (a GTP
 * run's worth): prints "loop_ms X sse2_ms Y", medians of 5. Built and run by
 * scripts/bench-engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "output/byte_shuffle.h"

#define ELEM 504
#define ROWS 2048

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The former shuffle: 64 elements per pass, a byte at a time. */
static void byte_loop(const uint8_t *in, uint8_t *out, size_t n)
{
    for (size_t i0 = 0; i0 < n; i0 += 64) {
        size_t end = n - i0 < 64 ? n : i0 + 64;
        for (size_t j = 0; j < ELEM; j++)
            for (size_t i = i0; i < end; i++)
                out[j * ROWS + i] = in[i * ELEM + j];
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int chunks = argc > 1 ? atoi(argv[1]) : 70;
    uint8_t *in = malloc((size_t)ELEM * ROWS), *out = malloc((size_t)ELEM * ROWS);
    double loop[5], sse2[5];

    if (in == NULL || out == NULL || chunks <= 0)
        return 1;
    for (size_t i = 0; i < (size_t)ELEM * ROWS; i++)
        in[i] = (uint8_t)rand();
    for (int r = 0; r < 5; r++) {
        double t0 = now_ms();
        for (int c = 0; c < chunks; c++)
            byte_loop(in, out, ROWS);
        double t1 = now_ms();
        for (int c = 0; c < chunks; c++)
            mw_byte_shuffle(in, out, ELEM, ROWS, ROWS);
        loop[r] = t1 - t0;
        sse2[r] = now_ms() - t1;
    }
    qsort(loop, 5, sizeof(double), cmp);
    qsort(sse2, 5, sizeof(double), cmp);
    printf("loop_ms %.1f sse2_ms %.1f\n", loop[2], sse2[2]);
    free(in);
    free(out);
    return 0;
}
