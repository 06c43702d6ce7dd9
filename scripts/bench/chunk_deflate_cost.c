/*
 * chunk_deflate_cost.c - what deflating a file's /flows chunks costs with
 * the compressor mastwatch uses (ISA-L's igzip, level 1: output/h5_chunk.c)
 * and the ones it could use: igzip level 0, zlib level 1 (HDF5's own
 * deflate filter) and, when built with -DWITH_LIBDEFLATE, libdeflate level
 * 2 (mastwatch's compressor before). Each chunk of 2,048 rows is shuffled
 * as the writer does and checked to inflate back exactly. Prints
 * "NAME_ms X NAME_bytes Y ..." (medians of 5). Built and run by
 * scripts/bench-engine.
 *
 * usage: chunk_deflate_cost FILE.h5
 */
#include <hdf5.h>
#include <isa-l/igzip_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#ifdef WITH_LIBDEFLATE
#include <libdeflate.h>
#endif

#include "output/byte_shuffle.h"

#define ROWS 2048
#define RUNS 5

enum { IGZIP1, IGZIP0, ZLIB1, LIBDEFLATE2, NCODECS };
static const char *const names[NCODECS] = { "igzip1", "igzip0", "zlib1", "libdeflate2" };

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Deflates in (n bytes) into out (cap bytes) as a zlib stream: its length, 0 if it failed. */
static size_t deflate_with(
        int codec, const uint8_t *in, size_t n, uint8_t *out, size_t cap, uint8_t *level_buf)
{
    switch (codec) {
        case IGZIP1:
        case IGZIP0: {
            static struct isal_zstream z; /* 86 kB: not on the stack; static: zeroed */
            isal_deflate_stateless_init(&z);
            z.level = codec == IGZIP1 ? 1 : 0;
            z.level_buf = level_buf;
            z.level_buf_size = codec == IGZIP1 ? ISAL_DEF_LVL1_DEFAULT : ISAL_DEF_LVL0_DEFAULT;
            z.gzip_flag = IGZIP_ZLIB;
            z.end_of_stream = 1;
            z.flush = NO_FLUSH;
            z.next_in = (uint8_t *)in;
            z.avail_in = (uint32_t)n;
            z.next_out = out;
            z.avail_out = (uint32_t)cap;
            return isal_deflate_stateless(&z) == COMP_OK ? z.total_out : 0;
        }
        case ZLIB1: {
            uLongf len = cap;
            return compress2(out, &len, in, n, 1) == Z_OK ? len : 0;
        }
        default: {
#ifdef WITH_LIBDEFLATE
            static struct libdeflate_compressor *c;
            if (c == NULL && (c = libdeflate_alloc_compressor(2)) == NULL)
                return 0;
            return libdeflate_zlib_compress(c, in, n, out, cap);
#else
            return 0;
#endif
        }
    }
}

int main(int argc, char **argv)
{
    hid_t f, ds, type, space;
    size_t elem, rows, cap;
    uint8_t *all, *shuffled, *out, *back, *level_buf;

    if (argc != 2) {
        fprintf(stderr, "usage: chunk_deflate_cost FILE.h5\n");
        return 2;
    }
    if ((f = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT)) < 0 ||
            (ds = H5Dopen2(f, "/flows", H5P_DEFAULT)) < 0 || (type = H5Dget_type(ds)) < 0 ||
            (space = H5Dget_space(ds)) < 0) {
        fprintf(stderr, "chunk_deflate_cost: cannot read /flows of %s\n", argv[1]);
        return 1;
    }
    elem = H5Tget_size(type);
    rows = (size_t)H5Sget_simple_extent_npoints(space);
    cap = elem * ROWS + 4096;
    all = malloc(elem * (rows + ROWS));
    shuffled = malloc(elem * ROWS);
    out = malloc(cap);
    back = malloc(elem * ROWS);
    level_buf = malloc(ISAL_DEF_LVL1_DEFAULT);
    if (elem == 0 || rows == 0 || all == NULL || shuffled == NULL || out == NULL || back == NULL ||
            level_buf == NULL || H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) < 0) {
        fprintf(stderr, "chunk_deflate_cost: cannot read /flows of %s\n", argv[1]);
        return 1;
    }
    memset(all + elem * rows, 0, elem * ROWS); /* the last chunk padded, as the writer does */
    for (int codec = 0; codec < NCODECS; codec++) {
        double ms[RUNS];
        size_t bytes = 0;
#ifndef WITH_LIBDEFLATE
        if (codec == LIBDEFLATE2)
            continue;
#endif
        for (int r = 0; r < RUNS; r++) {
            double t0 = now_ms();
            bytes = 0;
            for (size_t at = 0; at < rows; at += ROWS) {
                size_t n = rows - at < ROWS ? rows - at : ROWS, len;
                mw_byte_shuffle(all + at * elem, shuffled, elem, ROWS, n);
                len = deflate_with(codec, shuffled, elem * ROWS, out, cap, level_buf);
                if (len == 0) {
                    fprintf(stderr, "chunk_deflate_cost: %s failed\n", names[codec]);
                    return 1;
                }
                if (r == 0) { /* a zlib stream HDF5's filter inflates to the chunk */
                    uLongf back_len = elem * ROWS;
                    if (uncompress(back, &back_len, out, len) != Z_OK || back_len != elem * ROWS ||
                            memcmp(back, shuffled, back_len) != 0) {
                        fprintf(stderr, "chunk_deflate_cost: %s does not inflate back\n",
                                names[codec]);
                        return 1;
                    }
                }
                bytes += len;
            }
            ms[r] = now_ms() - t0;
        }
        qsort(ms, RUNS, sizeof(double), cmp);
        printf("%s%s_ms %.1f %s_bytes %zu", codec > 0 ? " " : "", names[codec], ms[RUNS / 2],
                names[codec], bytes);
    }
    printf(" chunks %zu\n", (rows + ROWS - 1) / ROWS);
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(ds);
    H5Fclose(f);
    return 0;
}
