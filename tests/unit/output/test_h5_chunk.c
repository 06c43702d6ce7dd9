/*
 * test_h5_chunk.c - chunks written directly (shuffled and deflated by
 * ISA-L's igzip) read back through HDF5's own filter pipeline exactly: whole
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

/* A results-like file: rows records of ELEM bytes, each row its number; every third chunk,
 * the second first, random bytes that do not shrink (and deflate slower than the others). */
typedef struct {
    char path[32];
    size_t rows;
    uint8_t *in, *out;
    hid_t type, file, ds;
} chunk_file_t;

static void file_create(chunk_file_t *f, size_t rows)
{
    int fd;
    size_t i;

    snprintf(f->path, sizeof(f->path), "/tmp/mw-test-chunk-XXXXXX");
    fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
    f->rows = rows;
    f->in = malloc(rows * ELEM);
    f->out = malloc(rows * ELEM);
    f->type = H5Tcreate(H5T_OPAQUE, ELEM);
    assert_true(f->in != NULL && f->out != NULL && f->type >= 0);
    assert_true(H5Tset_tag(f->type, "record") >= 0);
    srand(7);
    for (i = 0; i < rows * ELEM; i++) {
        size_t row = i / ELEM;
        f->in[i] = (row / ROWS) % 3 == 1 ? (uint8_t)rand()
                   : i % ELEM < 8        ? (uint8_t)(row >> (8 * (i % ELEM)))
                                         : 0;
    }
    f->file = H5Fcreate(f->path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f->file >= 0);
    f->ds = make_dataset(f->file, f->type);
}

/* The rows from row on. */
static const uint8_t *rows_at(const chunk_file_t *f, size_t row)
{
    return f->in + row * ELEM;
}

/* Closes the file, opens it again and reads every row back through HDF5's filters. */
static void file_reread(chunk_file_t *f)
{
    H5Dclose(f->ds);
    H5Fclose(f->file);
    f->file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    f->ds = H5Dopen2(f->file, "t", H5P_DEFAULT);
    assert_true(f->file >= 0 && f->ds >= 0);
    assert_true(H5Dread(f->ds, f->type, H5S_ALL, H5S_ALL, H5P_DEFAULT, f->out) >= 0);
    assert_memory_equal(f->in, f->out, f->rows * ELEM);
}

static void file_remove(chunk_file_t *f)
{
    H5Dclose(f->ds);
    H5Fclose(f->file);
    H5Tclose(f->type);
    free(f->in);
    free(f->out);
    unlink(f->path);
}

static hsize_t extent(hid_t ds)
{
    hsize_t size = 0;
    hid_t space = H5Dget_space(ds);

    assert_true(H5Sget_simple_extent_dims(space, &size, NULL) == 1);
    H5Sclose(space);
    return size;
}

static void test_chunks_read_back(void **state)
{
    chunk_file_t f;
    mw_h5_chunker_t *c = mw_h5_chunker_create(ELEM, ROWS, 1);
    uint64_t at = 0;
    size_t n = 0;
    (void)state;

    assert_non_null(c);
    file_create(&f, TOTAL); /* chunks 0 and 2 compressible, chunk 1 random */
    /* chunks 0 and 1 deflated on the chunker's thread (submitting 1 writes 0), the last
     * one in this thread after the one in flight; the dataset grows with each chunk */
    assert_int_equal(mw_h5_chunker_submit(c, f.ds, 0, rows_at(&f, 0), ROWS), 0);
    assert_int_equal(mw_h5_chunker_submit(c, f.ds, ROWS, rows_at(&f, ROWS), ROWS), 0);
    assert_int_equal(extent(f.ds), ROWS); /* the chunk in flight is not in the extent yet */
    assert_int_equal(mw_h5_chunker_pending(c, &at, &n), 1);
    assert_int_equal(at, ROWS);
    assert_int_equal(n, ROWS);
    assert_int_equal(mw_h5_chunker_collect(c, f.ds), 1);
    assert_int_equal(mw_h5_chunker_collect(c, f.ds), 0);
    assert_int_equal(mw_h5_chunker_submit(c, f.ds, 2 * ROWS, rows_at(&f, 2 * ROWS), ROWS), 0);
    assert_int_equal(
            mw_h5_chunker_write(c, f.ds, 3 * ROWS, rows_at(&f, 3 * ROWS), TOTAL - 3 * ROWS), 0);
    /* only whole chunks from a chunk boundary */
    assert_int_equal(mw_h5_chunker_write(c, f.ds, 10, rows_at(&f, 0), 5), -1);
    assert_int_equal(mw_h5_chunker_write(c, f.ds, 0, rows_at(&f, 0), ROWS + 1), -1);
    file_reread(&f);
    {
        /* the random chunk is stored without deflate, the others deflated */
        hsize_t off = ROWS;
        uint32_t mask = 0;
        hsize_t bytes = 0;
        assert_true(H5Dget_chunk_storage_size(f.ds, &off, &bytes) >= 0);
        assert_true(H5Dread_chunk(f.ds, H5P_DEFAULT, &off, &mask, f.out) >= 0);
        assert_int_equal(mask, 0x2);
        off = 0;
        assert_true(H5Dget_chunk_storage_size(f.ds, &off, &bytes) >= 0);
        assert_true(bytes < (hsize_t)ROWS * ELEM / 4);
    }
    mw_h5_chunker_destroy(c);
    file_remove(&f);
}

#define MANY (7 * ROWS + 50)

static void test_three_threads_in_order(void **state)
{
    chunk_file_t f;
    mw_h5_chunker_t *c = mw_h5_chunker_create(ELEM, ROWS, 3);
    uint64_t at = 0;
    size_t i, n = 0;
    (void)state;

    assert_non_null(c);
    file_create(&f, MANY);  /* chunks 1 and 4 random: chunks deflate in unequal times */
    for (i = 0; i < 3; i++) /* three in flight, none in the file */
        assert_int_equal(mw_h5_chunker_submit(c, f.ds, i * ROWS, rows_at(&f, i * ROWS), ROWS), 0);
    assert_int_equal(extent(f.ds), 0);
    assert_int_equal(mw_h5_chunker_full(c), 1);
    assert_int_equal(mw_h5_chunker_pending(c, &at, &n), 1);
    assert_int_equal(at, 0);
    /* a fourth: the oldest goes to the file first */
    assert_int_equal(mw_h5_chunker_submit(c, f.ds, 3 * ROWS, rows_at(&f, 3 * ROWS), ROWS), 0);
    assert_int_equal(extent(f.ds), ROWS);
    assert_int_equal(mw_h5_chunker_collect_one(c, f.ds, &n), 1);
    assert_int_equal(n, ROWS);
    assert_int_equal(extent(f.ds), 2 * ROWS);
    assert_int_equal(mw_h5_chunker_full(c), 0);
    for (i = 4; i < 6; i++)
        assert_int_equal(mw_h5_chunker_submit(c, f.ds, i * ROWS, rows_at(&f, i * ROWS), ROWS), 0);
    assert_int_equal(extent(f.ds), 3 * ROWS); /* the sixth wrote the third */
    assert_int_equal(mw_h5_chunker_collect(c, f.ds), 3);
    assert_int_equal(mw_h5_chunker_collect(c, f.ds), 0);
    assert_int_equal(extent(f.ds), 6 * ROWS);
    assert_true(mw_h5_chunker_cpu_s(c) > 0);
    assert_int_equal(mw_h5_chunker_submit(c, f.ds, 6 * ROWS, rows_at(&f, 6 * ROWS), ROWS), 0);
    /* a write after a submit: the chunk in flight first */
    assert_int_equal(
            mw_h5_chunker_write(c, f.ds, 7 * ROWS, rows_at(&f, 7 * ROWS), MANY - 7 * ROWS), 0);
    assert_int_equal(extent(f.ds), MANY);
    file_reread(&f);
    mw_h5_chunker_destroy(c);
    file_remove(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_read_back),
        cmocka_unit_test(test_three_threads_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
