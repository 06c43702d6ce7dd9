/*
 * test_pool.c - the object pool: objects are distinct, aligned and
 * writable across many blocks, freed objects are handed out again before
 * new memory is taken, and the pool counts what it holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/pool.h"

#define OBJ   816 /* a flow's size today; any size works */
#define COUNT 10000

static void test_objects_distinct_and_aligned(void **state)
{
    mw_pool_t *p = mw_pool_create(OBJ);
    uint8_t **objs = calloc(COUNT, sizeof(*objs));
    int i;
    (void)state;

    assert_non_null(p);
    assert_non_null(objs);
    for (i = 0; i < COUNT; i++) {
        objs[i] = mw_pool_get(p);
        assert_non_null(objs[i]);
        assert_int_equal((uintptr_t)objs[i] % 16, 0);
        memset(objs[i], i & 0xff, OBJ);
    }
    /* no object overlaps another: each still holds its own byte everywhere */
    for (i = 0; i < COUNT; i++) {
        assert_int_equal(objs[i][0], i & 0xff);
        assert_int_equal(objs[i][OBJ - 1], i & 0xff);
    }
    assert_int_equal(mw_pool_live(p), COUNT);
    /* 10,000 objects of 816 bytes: the 256 kB first block holds 321, four 2 MB blocks the rest */
    assert_int_equal(mw_pool_bytes(p), (256u << 10) + (4u << 21));
    free(objs);
    mw_pool_destroy(p);
}

static void test_freed_objects_come_back_first(void **state)
{
    mw_pool_t *p = mw_pool_create(OBJ);
    void *a, *b, *c;
    size_t bytes;
    int i;
    (void)state;

    a = mw_pool_get(p);
    b = mw_pool_get(p);
    mw_pool_put(p, a);
    mw_pool_put(p, b);
    mw_pool_put(p, NULL); /* NULL-safe */
    assert_int_equal(mw_pool_live(p), 0);
    c = mw_pool_get(p);
    assert_ptr_equal(c, b);
    assert_ptr_equal(mw_pool_get(p), a);
    /* a steady churn never takes more memory than its peak */
    bytes = mw_pool_bytes(p);
    for (i = 0; i < 100000; i++) {
        void *o = mw_pool_get(p);
        assert_non_null(o);
        mw_pool_put(p, o);
    }
    assert_int_equal(mw_pool_bytes(p), bytes);
    assert_int_equal(mw_pool_live(p), 2);
    mw_pool_destroy(p);
}

/* A short run's pool holds one small block, not a huge page zeroed whole */
static void test_few_objects_take_a_small_block(void **state)
{
    mw_pool_t *p = mw_pool_create(OBJ);
    int i;
    (void)state;

    assert_non_null(p);
    assert_int_equal(mw_pool_bytes(p), 0);
    for (i = 0; i < 300; i++)
        assert_non_null(mw_pool_get(p));
    assert_int_equal(mw_pool_bytes(p), 256u << 10);
    for (i = 0; i < 100; i++)
        assert_non_null(mw_pool_get(p));
    assert_int_equal(mw_pool_bytes(p), (256u << 10) + (2u << 20));
    mw_pool_destroy(p);
}

static void test_bad_sizes_refused(void **state)
{
    mw_pool_t *p128;
    (void)state;
    assert_null(mw_pool_create(0));
    assert_null(mw_pool_create(1u << 20));
    assert_null(mw_pool_create((128u << 10) + 1));
    assert_non_null(p128 = mw_pool_create(128u << 10));
    assert_non_null(mw_pool_get(p128));
    assert_non_null(mw_pool_get(p128)); /* the second needs the next block */
    mw_pool_destroy(p128);
    mw_pool_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects_distinct_and_aligned),
        cmocka_unit_test(test_freed_objects_come_back_first),
        cmocka_unit_test(test_few_objects_take_a_small_block),
        cmocka_unit_test(test_bad_sizes_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
