/*
 * test_frag_table.c - the first-fragment port cache: later fragments find
 * their ports, orphans and expired entries are counted, a full bucket
 * pushes out its oldest entry (counted), and the tunnel context and IP
 * identification keep datagrams apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flow/frag_table.h"

/* 10.0.0.1 -> 10.0.0.2 (IPv4-mapped), UDP, identification id, ports 40000 -> 9000 */
static mw_l3_t datagram(uint32_t id, uint8_t frag)
{
    mw_l3_t l3;
    memset(&l3, 0, sizeof(l3));
    l3.ip_version = 4;
    l3.l4_proto = 17;
    l3.frag = frag;
    l3.frag_id = id;
    l3.src[10] = l3.src[11] = l3.dst[10] = l3.dst[11] = 0xff;
    l3.src[12] = l3.dst[12] = 10;
    l3.src[15] = 1;
    l3.dst[15] = 2;
    if (frag == MW_FRAG_FIRST) {
        l3.sport = 40000;
        l3.dport = 9000;
    }
    return l3;
}

static mw_frag_table_t *table(size_t bytes)
{
    mw_frag_table_params_t p = { .max_bytes = bytes, .timeout_us = 5000000 };
    mw_frag_table_t *t = mw_frag_table_create(&p, NULL, 0);
    assert_non_null(t);
    return t;
}

static void test_join_and_orphan(void **state)
{
    mw_frag_table_t *t = table(1 << 16);
    mw_frag_table_stats_t st;
    mw_l3_t first = datagram(7, MW_FRAG_FIRST), later = datagram(7, MW_FRAG_LATER);
    uint8_t tag = 0;
    (void)state;

    /* a later fragment before its first: orphan, ports stay 0 */
    assert_int_equal(mw_frag_table_join(t, &later, 0, 1000, &tag), 0);
    assert_int_equal(later.sport, 0);
    mw_frag_table_remember(t, &first, 0, 1, 2000);
    assert_int_equal(mw_frag_table_join(t, &later, 0, 3000, &tag), 1);
    assert_int_equal(later.sport, 40000);
    assert_int_equal(later.dport, 9000);
    assert_int_equal(tag, 1);
    /* every later fragment of the datagram joins, not just the next one */
    later = datagram(7, MW_FRAG_LATER);
    assert_int_equal(mw_frag_table_join(t, &later, 0, 4000, &tag), 1);
    /* another identification, another tunnel context: not this datagram */
    later = datagram(8, MW_FRAG_LATER);
    assert_int_equal(mw_frag_table_join(t, &later, 0, 4000, &tag), 0);
    later = datagram(7, MW_FRAG_LATER);
    assert_int_equal(mw_frag_table_join(t, &later, 99, 4000, &tag), 0);
    /* too late: expired, counted as such */
    assert_int_equal(mw_frag_table_join(t, &later, 0, 2000 + 5000001, &tag), 0);
    mw_frag_table_get_stats(t, &st);
    assert_int_equal(st.remembered, 1);
    assert_int_equal(st.joined, 2);
    assert_int_equal(st.orphans, 4);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.full, 0);
    mw_frag_table_destroy(t);
}

static void test_full_pushes_out_oldest(void **state)
{
    /* a byte cap below one bucket still keeps one bucket of 4 ways */
    mw_frag_table_t *t = table(1);
    mw_frag_table_stats_t st;
    uint8_t tag;
    uint32_t id;
    (void)state;

    for (id = 1; id <= 5; id++) {
        mw_l3_t first = datagram(id, MW_FRAG_FIRST);
        mw_frag_table_remember(t, &first, 0, 0, (int64_t)id * 1000);
    }
    mw_frag_table_get_stats(t, &st);
    assert_int_equal(st.full, 1);
    for (id = 1; id <= 5; id++) {
        mw_l3_t later = datagram(id, MW_FRAG_LATER);
        /* the oldest (id 1) was pushed out, the newest four are there */
        assert_int_equal(mw_frag_table_join(t, &later, 0, 6000, &tag), id == 1 ? 0 : 1);
    }
    mw_frag_table_destroy(t);
    mw_frag_table_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_and_orphan),
        cmocka_unit_test(test_full_pushes_out_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
