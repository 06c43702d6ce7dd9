/*
 * test_vlan_split.c - the halves of a session split over two VLANs meet: one
 * way each, sent by the two ends, in two VLANs, at the same time, in either
 * order; the same sender, the same VLAN, records far apart in time, records
 * seen both ways, continued records and flows inside a tunnel are no pair.
 * And dup_table: a copy is the same packet within the window whatever its
 * TTL and checksum; another packet, a later one or a clock going back is not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flow/dup_table.h"
#include "flow/vlan_split.h"

#define SEC 1000000LL

/* A one-way half of 10.0.0.1:40000 <-> 192.0.2.9:443 in vlan: from the opener (up) or
 * from the responder, starting at t. */
static mw_flow_record_t half(uint16_t vlan, int from_opener, int64_t t)
{
    mw_flow_record_t r;

    memset(&r, 0, sizeof(r));
    r.src_lo = 0x0a000001;
    r.dst_lo = 0xc0000209;
    r.src_port = 40000;
    r.dst_port = 443;
    r.l4_proto = 6;
    r.vlan_outer = vlan;
    r.first_us = t;
    r.last_us = t + 5 * SEC;
    if (from_opener)
        r.c2s.packets = 5;
    else
        r.s2c.packets = 4;
    return r;
}

static void test_halves_meet(void **state)
{
    mw_vlan_split_t *s = mw_vlan_split_create();
    mw_flow_record_t up = half(101, 1, 100 * SEC), down = half(102, 0, 100 * SEC + 20000);
    mw_vlan_split_stats_t st;
    (void)state;

    assert_non_null(s);
    assert_int_equal(mw_vlan_split_record(s, &up), 0);
    assert_int_equal(mw_vlan_split_record(s, &down), 1);
    st = mw_vlan_split_stats(s);
    assert_int_equal(st.pairs, 1);
    assert_int_equal(st.first_vlan[0], 101);
    assert_int_equal(st.first_vlan[1], 102);
    /* the other order, and the halves oriented the other way round (src swapped) */
    down.first_us += 3600 * SEC;
    down.last_us += 3600 * SEC;
    up.first_us += 3600 * SEC;
    up.last_us += 3600 * SEC;
    assert_int_equal(mw_vlan_split_record(s, &down), 0);
    mw_flow_record_swap(&up);
    assert_int_equal(mw_vlan_split_record(s, &up), 1);
    assert_int_equal(mw_vlan_split_stats(s).pairs, 2);
    mw_vlan_split_destroy(s);
}

static void test_no_pair(void **state)
{
    mw_vlan_split_t *s = mw_vlan_split_create();
    mw_flow_record_t a = half(101, 1, 10 * SEC), b;
    (void)state;

    assert_int_equal(mw_vlan_split_record(s, &a), 0);
    b = half(102, 1, 10 * SEC); /* the same sender in another VLAN: a route, no split */
    assert_int_equal(mw_vlan_split_record(s, &b), 0);
    b = half(101, 0, 10 * SEC); /* the other sender in the same VLAN: a one-way copy */
    assert_int_equal(mw_vlan_split_record(s, &a), 0);
    assert_int_equal(mw_vlan_split_record(s, &b), 0);
    a = half(101, 1, 1000 * SEC);
    b = half(102, 0, 1100 * SEC); /* the same tuple 100 s later: another session */
    assert_int_equal(mw_vlan_split_record(s, &a), 0);
    assert_int_equal(mw_vlan_split_record(s, &b), 0);
    a = half(101, 1, 2000 * SEC);
    b = half(102, 0, 2000 * SEC);
    a.s2c.packets = 1; /* seen both ways in its own VLAN */
    assert_int_equal(mw_vlan_split_record(s, &a), 0);
    assert_int_equal(mw_vlan_split_record(s, &b), 0);
    a = half(101, 1, 3000 * SEC);
    b = half(102, 0, 3000 * SEC);
    b.continued = 1; /* the session was looked at in its first record */
    assert_int_equal(mw_vlan_split_record(s, &a), 0);
    assert_int_equal(mw_vlan_split_record(s, &b), 0);
    a = half(101, 1, 4000 * SEC);
    b = half(102, 0, 4000 * SEC);
    a.kind = b.kind = MW_FLOW_INNER; /* its tunnel's halves stand for it */
    assert_int_equal(mw_vlan_split_record(s, &a), 0);
    assert_int_equal(mw_vlan_split_record(s, &b), 0);
    assert_int_equal(mw_vlan_split_stats(s).pairs, 0);
    mw_vlan_split_destroy(s);
}

/* IPv4 10.0.0.1 -> 10.0.0.2, UDP, with TTL ttl and identification id, at frame + 14 */
static void ipv4_udp(uint8_t *frame, uint8_t ttl, uint16_t id, mw_l3_t *l3)
{
    uint8_t *ip = frame + 14;

    memset(frame, 0, 14 + 60);
    ip[0] = 0x45;
    ip[3] = 60;
    ip[4] = (uint8_t)(id >> 8);
    ip[5] = (uint8_t)id;
    ip[8] = ttl;
    ip[9] = 17;
    ip[10] = ttl; /* a checksum that changes with the TTL */
    ip[12] = ip[16] = 10;
    ip[15] = 1;
    ip[19] = 2;
    memset(ip + 28, 0x5a, 32);
    memset(l3, 0, sizeof(*l3));
    l3->ip_version = 4;
    l3->l3_off = 14;
    l3->ip_len = l3->l3_len = 60;
}

static void test_copies(void **state)
{
    mw_dup_table_t *t = mw_dup_table_create(2000);
    uint8_t frame[14 + 60];
    mw_l3_t l3;
    (void)state;

    assert_non_null(t);
    ipv4_udp(frame, 64, 7, &l3);
    assert_int_equal(mw_dup_table_seen(t, mw_dup_hash(frame, &l3), 1000000), 0);
    ipv4_udp(frame, 63, 7, &l3); /* forwarded by a router: a copy */
    assert_int_equal(mw_dup_table_seen(t, mw_dup_hash(frame, &l3), 1000020), 1);
    assert_int_equal(mw_dup_table_seen(t, mw_dup_hash(frame, &l3), 1002000), 1); /* 2 ms */
    ipv4_udp(frame, 64, 8, &l3); /* the next datagram: another identification */
    assert_int_equal(mw_dup_table_seen(t, mw_dup_hash(frame, &l3), 1000040), 0);
    ipv4_udp(frame, 64, 7, &l3);
    assert_int_equal(mw_dup_table_seen(t, mw_dup_hash(frame, &l3), 1002001), 0); /* too late */
    assert_int_equal(mw_dup_table_seen(t, mw_dup_hash(frame, &l3), 1000000), 0); /* earlier */
    frame[14 + 40] ^= 1; /* a byte of the payload differs */
    assert_int_equal(mw_dup_table_seen(t, mw_dup_hash(frame, &l3), 1000010), 0);
    mw_dup_table_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halves_meet),
        cmocka_unit_test(test_no_pair),
        cmocka_unit_test(test_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
