/*
 * test_bump_arena.c - the bump arena: aligned, distinct, writable memory
 * until the reserved range is used up (then NULL, for the caller's malloc),
 * and it knows its own pointers from anybody else's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/bump_arena.h"

static void test_aligned_distinct_until_full(void **state)
{
    /* 2 MB: the reserve is rounded up to whole huge pages */
    mw_bump_arena_t *a = mw_bump_arena_create(1);
    uint8_t *prev = NULL, *p;
    size_t n = 0, sizes[] = { 1, 0, 17, 40, 100, 4096 };
    void *outside = malloc(32);
    (void)state;

    assert_non_null(a);
    assert_non_null(outside);
    assert_int_equal(mw_bump_arena_used(a), 0);
    while ((p = mw_bump_arena_alloc(a, sizes[n % 6])) != NULL) {
        assert_int_equal((uintptr_t)p % 16, 0);
        assert_true(mw_bump_arena_owns(a, p));
        if (prev != NULL)
            assert_true(p > prev); /* never the same memory twice */
        memset(p, 0xab, sizes[n % 6]);
        prev = p;
        n++;
    }
    /* 4 kB no longer fit: 2 MB in rounds of 16 + 0->16 + 32 + 48 + 112 + 4096 = 4320 bytes */
    assert_int_equal(n / 6, (2u << 20) / 4320);
    assert_true(mw_bump_arena_used(a) > (2u << 20) - 4096);
    while (mw_bump_arena_alloc(a, 16) != NULL) /* what is left, to the last byte */
        ;
    assert_int_equal(mw_bump_arena_used(a), 2u << 20);
    assert_null(mw_bump_arena_alloc(a, 1));
    assert_null(mw_bump_arena_alloc(a, SIZE_MAX)); /* no wrap-around */
    assert_false(mw_bump_arena_owns(a, outside));
    assert_false(mw_bump_arena_owns(a, NULL));
    free(outside);
    mw_bump_arena_destroy(a);
    mw_bump_arena_destroy(NULL); /* NULL-safe */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aligned_distinct_until_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
