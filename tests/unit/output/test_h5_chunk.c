/*
 * test_h5_chunk.c - chunks written directly (shuffled and deflated by
 * libdeflate) read back through HDF5's own filter pipeline exactly: whole
 * chunks, a last partial chunk, and a chunk of random bytes that does not
 * shrink (stored with its deflate bit set in the filter mask); chunks
 * deflated on the chunker's thread reach the file in order, and the dataset
 * grows only with a chunk written. With three deflating threads, three
 * chunks are in flight and still reach the file in the order submitted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "output/h5_chunk.h"

#define ELEM  504 /* a flow record's size today: odd strides are what shuffle must get right */
#define ROWS  256
#define TOTAL (3 * ROWS + 100)

static hid_t make_dataset(hid_t file, hid_t type)
{
    hsize_t dims = 0, maxdims = H5S_UNLIMITED, chunk = ROWS;
    hid_t space = H5Screate_simple(1, &dims, &maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds;

    assert_true(space >= 0 && dcpl >= 0);
    assert_true(H5Pset_chunk(dcpl, 1, &chunk) >= 0);
    assert_true(H5Pset_shuffle(dcpl) >= 0);
    assert_true(H5Pset_deflate(dcpl, MW_H5_DEFLATE_LEVEL) >= 0);
    ds = H5Dcreate2(file, "t", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(ds >= 0);
    H5Pclose(dcpl);
    H5Sclose(space);
    return ds;
}

static void test_chunks_read_back(void **state)
{
    char path[] = "/tmp/mw-test-chunk-XXXXXX";
    int fd = mkstemp(path);
    uint8_t *in = malloc((size_t)TOTAL * ELEM), *out = malloc((size_t)TOTAL * ELEM);
    hid_t type = H5Tcreate(H5T_OPAQUE, ELEM), file, ds;
    mw_h5_chunker_t *c = mw_h5_chunker_create(ELEM, ROWS, 1);
    hsize_t size;
    size_t i;
    (void)state;

    assert_true(fd >= 0 && in != NULL && out != NULL && type >= 0 && c != NULL);
    close(fd);
    /* chunks 0 and 2: records with a counter and zeros (compressible); chunk 1: random */
    srand(7);
    for (i = 0; i < (size_t)TOTAL * ELEM; i++) {
        size_t row = i / ELEM;
        in[i] = row >= ROWS && row < 2 * ROWS ? (uint8_t)rand()
                : i % ELEM < 8                ? (uint8_t)(row >> (8 * (i % ELEM)))
                                              : 0;
    }
    assert_true(H5Tset_tag(type, "record") >= 0);
    file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(file >= 0);
    ds = make_dataset(file, type);
    /* chunks 0 and 1 deflated on the chunker's thread (submitting 1 writes 0), the last
     * one in this thread after the one in flight; the dataset grows with each chunk */
    assert_int_equal(mw_h5_chunker_submit(c, ds, 0, in, ROWS), 0);
    assert_int_equal(mw_h5_chunker_submit(c, ds, ROWS, in + (size_t)ROWS * ELEM, ROWS), 0);
    {
        uint64_t at = 0;
        size_t n = 0;
        hid_t space = H5Dget_space(ds);
        assert_true(H5Sget_simple_extent_dims(space, &size, NULL) == 1);
        H5Sclose(space);
        assert_int_equal(size, ROWS); /* the chunk in flight is not in the extent yet */
        assert_int_equal(mw_h5_chunker_pending(c, &at, &n), 1);
        assert_int_equal(at, ROWS);
        assert_int_equal(n, ROWS);
    }
    assert_int_equal(mw_h5_chunker_collect(c, ds), 1);
    assert_int_equal(mw_h5_chunker_collect(c, ds), 0);
    assert_int_equal(mw_h5_chunker_submit(c, ds, 2 * ROWS, in + 2 * (size_t)ROWS * ELEM, ROWS), 0);
    assert_int_equal(
            mw_h5_chunker_write(c, ds, 3 * ROWS, in + 3 * (size_t)ROWS * ELEM, TOTAL - 3 * ROWS),
            0);
    /* only whole chunks from a chunk boundary */
    assert_int_equal(mw_h5_chunker_write(c, ds, 10, in, 5), -1);
    assert_int_equal(mw_h5_chunker_write(c, ds, 0, in, ROWS + 1), -1);
    H5Dclose(ds);
    H5Fclose(file);

    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ds = H5Dopen2(file, "t", H5P_DEFAULT);
    assert_true(file >= 0 && ds >= 0);
    assert_true(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0);
    assert_memory_equal(in, out, (size_t)TOTAL * ELEM);
    {
        /* the random chunk is stored without deflate, the others deflated */
        hsize_t off = ROWS;
        uint32_t mask = 0;
        hsize_t bytes = 0;
        assert_true(H5Dget_chunk_storage_size(ds, &off, &bytes) >= 0);
        assert_true(H5Dread_chunk(ds, H5P_DEFAULT, &off, &mask, out) >= 0);
        assert_int_equal(mask, 0x2);
        off = 0;
        assert_true(H5Dget_chunk_storage_size(ds, &off, &bytes) >= 0);
        assert_true(bytes < (hsize_t)ROWS * ELEM / 4);
    }
    H5Dclose(ds);
    H5Fclose(file);
    H5Tclose(type);
    mw_h5_chunker_destroy(c);
    free(in);
    free(out);
    unlink(path);
}

static hsize_t extent(hid_t ds)
{
    hsize_t size = 0;
    hid_t space = H5Dget_space(ds);

    assert_true(H5Sget_simple_extent_dims(space, &size, NULL) == 1);
    H5Sclose(space);
    return size;
}

#define MANY (7 * ROWS + 50)

static void test_three_threads_in_order(void **state)
{
    char path[] = "/tmp/mw-test-chunk3-XXXXXX";
    int fd = mkstemp(path);
    uint8_t *in = malloc((size_t)MANY * ELEM), *out = malloc((size_t)MANY * ELEM);
    hid_t type = H5Tcreate(H5T_OPAQUE, ELEM), file, ds;
    mw_h5_chunker_t *c = mw_h5_chunker_create(ELEM, ROWS, 3);
    uint64_t at = 0;
    size_t i, n = 0;
    (void)state;

    assert_true(fd >= 0 && in != NULL && out != NULL && type >= 0 && c != NULL);
    close(fd);
    /* each row its number, every third chunk random: chunks deflate in unequal times */
    srand(11);
    for (i = 0; i < (size_t)MANY * ELEM; i++) {
        size_t row = i / ELEM;
        in[i] = (row / ROWS) % 3 == 1 ? (uint8_t)rand()
                : i % ELEM < 8        ? (uint8_t)(row >> (8 * (i % ELEM)))
                                      : 0;
    }
    assert_true(H5Tset_tag(type, "record") >= 0);
    file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(file >= 0);
    ds = make_dataset(file, type);
    for (i = 0; i < 3; i++) /* three in flight, none in the file */
        assert_int_equal(
                mw_h5_chunker_submit(c, ds, i * ROWS, in + i * ROWS * (size_t)ELEM, ROWS), 0);
    assert_int_equal(extent(ds), 0);
    assert_int_equal(mw_h5_chunker_full(c), 1);
    assert_int_equal(mw_h5_chunker_pending(c, &at, &n), 1);
    assert_int_equal(at, 0);
    /* a fourth: the oldest goes to the file first */
    assert_int_equal(mw_h5_chunker_submit(c, ds, 3 * ROWS, in + 3 * ROWS * (size_t)ELEM, ROWS), 0);
    assert_int_equal(extent(ds), ROWS);
    assert_int_equal(mw_h5_chunker_collect_one(c, ds, &n), 1);
    assert_int_equal(n, ROWS);
    assert_int_equal(extent(ds), 2 * ROWS);
    assert_int_equal(mw_h5_chunker_full(c), 0);
    for (i = 4; i < 6; i++)
        assert_int_equal(
                mw_h5_chunker_submit(c, ds, i * ROWS, in + i * ROWS * (size_t)ELEM, ROWS), 0);
    assert_int_equal(extent(ds), 3 * ROWS); /* the sixth wrote the third */
    assert_int_equal(mw_h5_chunker_collect(c, ds), 3);
    assert_int_equal(mw_h5_chunker_collect(c, ds), 0);
    assert_int_equal(extent(ds), 6 * ROWS);
    assert_true(mw_h5_chunker_cpu_s(c) > 0);
    assert_int_equal(mw_h5_chunker_submit(c, ds, 6 * ROWS, in + 6 * ROWS * (size_t)ELEM, ROWS), 0);
    /* a write after a submit: the chunk in flight first */
    assert_int_equal(
            mw_h5_chunker_write(c, ds, 7 * ROWS, in + 7 * ROWS * (size_t)ELEM, MANY - 7 * ROWS), 0);
    assert_int_equal(extent(ds), MANY);
    H5Dclose(ds);
    H5Fclose(file);

    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ds = H5Dopen2(file, "t", H5P_DEFAULT);
    assert_true(file >= 0 && ds >= 0);
    assert_true(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0);
    assert_memory_equal(in, out, (size_t)MANY * ELEM);
    H5Dclose(ds);
    H5Fclose(file);
    H5Tclose(type);
    mw_h5_chunker_destroy(c);
    free(in);
    free(out);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_read_back),
        cmocka_unit_test(test_three_threads_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
