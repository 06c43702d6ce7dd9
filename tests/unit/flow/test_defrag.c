/*
 * test_defrag.c - IP reassembly: IPv4 and IPv6 datagrams put back together
 * in any arrival order, byte for byte; overlaps keep the first bytes and are
 * counted when they differ; what cannot be put together (a lost fragment,
 * the memory cap, last fragments that disagree) is handed back frame by frame
 * in offset order; what is not a fragment, or cannot be held, is left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "flow/defrag.h"

#define ETH_LEN 14
#define MAX_FR  16

typedef struct frame {
    uint8_t b[4096];
    uint32_t len;
} frame_t;

typedef struct released {
    unsigned n;
    uint64_t frames[64];
    uint32_t caplen[64];
} released_t;

static void on_release(void *ctx, const mw_defrag_frame_t *f)
{
    released_t *r = ctx;
    if (r->n < 64) {
        r->frames[r->n] = f->frame;
        r->caplen[r->n] = f->caplen;
    }
    r->n++;
}

static mw_defrag_t *table(size_t bytes, released_t *r)
{
    mw_defrag_params_t p = { .max_bytes = bytes, .timeout_us = 5000000, .max_fragments = 64 };
    mw_defrag_t *t = mw_defrag_create(&p, on_release, r, NULL, 0);
    assert_non_null(t);
    return t;
}

static void eth(uint8_t *b, uint16_t type)
{
    memset(b, 0x02, 12);
    b[12] = (uint8_t)(type >> 8);
    b[13] = (uint8_t)type;
}

/* The UDP datagram every test cuts: 40000 -> 9000, len payload bytes of a pattern. */
static uint32_t udp_datagram(uint8_t *out, uint32_t len, uint8_t seed)
{
    uint32_t i;
    out[0] = 0x9c;
    out[1] = 0x40;
    out[2] = 0x23;
    out[3] = 0x28;
    out[4] = (uint8_t)((len + 8) >> 8);
    out[5] = (uint8_t)(len + 8);
    out[6] = out[7] = 0;
    for (i = 0; i < len; i++)
        out[8 + i] = (uint8_t)(i * 7 + seed);
    return len + 8;
}

/* IPv4 fragment of l4[off, off + n) of datagram id, 10.0.0.1 -> 10.0.0.2. */
static void frag4(frame_t *f, const uint8_t *l4, uint32_t off, uint32_t n, int more, uint16_t id)
{
    uint8_t *ip = f->b + ETH_LEN;
    eth(f->b, 0x0800);
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + n) >> 8);
    ip[3] = (uint8_t)(20 + n);
    ip[4] = (uint8_t)(id >> 8);
    ip[5] = (uint8_t)id;
    ip[6] = (uint8_t)(((off / 8) >> 8) | (more ? 0x20 : 0));
    ip[7] = (uint8_t)(off / 8);
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = ip[16] = 10;
    ip[15] = 1;
    ip[19] = 2;
    memcpy(ip + 20, l4 + (off < 4096 ? off : 0), n); /* past the datagram: any bytes */
    f->len = ETH_LEN + 20 + n;
}

/* IPv6 fragment with a hop-by-hop header before the fragment header. */
static void frag6(frame_t *f, const uint8_t *l4, uint32_t off, uint32_t n, int more, uint32_t id)
{
    uint8_t *ip = f->b + ETH_LEN;
    uint32_t plen = 8 + 8 + n;
    eth(f->b, 0x86dd);
    memset(ip, 0, 56);
    ip[0] = 0x60;
    ip[4] = (uint8_t)(plen >> 8);
    ip[5] = (uint8_t)plen;
    ip[6] = 0; /* hop-by-hop */
    ip[7] = 64;
    ip[8] = 0x20;
    ip[23] = 1;
    ip[24] = 0x20;
    ip[39] = 2;
    ip[40] = 44; /* hop-by-hop: next is the fragment header, 8 bytes of padding options */
    ip[42] = 1;
    ip[43] = 4;
    ip[48] = 17;
    ip[50] = (uint8_t)(off >> 8);
    ip[51] = (uint8_t)((off & 0xf8) | (more ? 1 : 0));
    ip[52] = (uint8_t)(id >> 24);
    ip[53] = (uint8_t)(id >> 16);
    ip[54] = (uint8_t)(id >> 8);
    ip[55] = (uint8_t)id;
    memcpy(ip + 56, l4 + off, n);
    f->len = ETH_LEN + 56 + n;
}

/* Offers f; a datagram put together is settled whole. */
static int add(mw_defrag_t *t, const frame_t *f, uint64_t no, int64_t ts, mw_defrag_datagram_t *dg)
{
    mw_defrag_frame_t fr = { .data = f->b,
        .caplen = f->len,
        .wirelen = f->len,
        .ts_us = ts,
        .frame = no,
        .dlt = DLT_EN10MB };
    int rc = mw_defrag_add(t, &fr, ETH_LEN, f->len, dg);
    if (rc == MW_DEFRAG_COMPLETE)
        mw_defrag_settle(t, 1);
    return rc;
}

static uint16_t be16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t csum_of(const uint8_t *ip)
{
    uint32_t sum = 0, k;
    for (k = 0; k < 20; k += 2)
        sum += be16(ip + k);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

static void assert_ipv4_whole(const mw_defrag_datagram_t *dg, const uint8_t *l4, uint32_t l4_len)
{
    const uint8_t *ip = dg->frame + ETH_LEN;
    assert_int_equal(dg->ip_off, ETH_LEN);
    assert_int_equal(dg->len, ETH_LEN + 20 + l4_len);
    assert_int_equal(be16(ip + 2), 20 + l4_len);
    assert_int_equal(be16(ip + 6) & 0x3fff, 0); /* no MF, no offset */
    assert_int_equal(csum_of(ip), 0xffff);      /* the header checksum holds */
    assert_memory_equal(ip + 20, l4, l4_len);
}

static void test_ipv4_in_order_and_reversed(void **state)
{
    released_t r = { 0 };
    mw_defrag_t *t = table(1 << 20, &r);
    uint8_t l4[3000];
    uint32_t n = udp_datagram(l4, 2992, 1); /* 3000 bytes: 1480 + 1480 + 40 */
    frame_t f[3];
    mw_defrag_datagram_t dg;
    mw_defrag_stats_t st;
    (void)state;

    frag4(&f[0], l4, 0, 1480, 1, 7);
    frag4(&f[1], l4, 1480, 1480, 1, 7);
    frag4(&f[2], l4, 2960, n - 2960, 0, 7);
    assert_int_equal(add(t, &f[0], 1, 100, &dg), MW_DEFRAG_HELD);
    assert_int_equal(add(t, &f[1], 2, 200, &dg), MW_DEFRAG_HELD);
    assert_int_equal(add(t, &f[2], 3, 300, &dg), MW_DEFRAG_COMPLETE);
    assert_ipv4_whole(&dg, l4, n);
    assert_int_equal(dg.fragments, 3);
    assert_int_equal(dg.count_len, f[0].len + f[1].len + f[2].len);
    assert_int_equal(dg.conflict, 0);
    /* the same datagram again (a new identification), last fragment first */
    frag4(&f[0], l4, 0, 1480, 1, 8);
    frag4(&f[1], l4, 1480, 1480, 1, 8);
    frag4(&f[2], l4, 2960, n - 2960, 0, 8);
    assert_int_equal(add(t, &f[2], 4, 400, &dg), MW_DEFRAG_HELD);
    assert_int_equal(add(t, &f[1], 5, 500, &dg), MW_DEFRAG_HELD);
    assert_int_equal(add(t, &f[0], 6, 600, &dg), MW_DEFRAG_COMPLETE);
    assert_ipv4_whole(&dg, l4, n);
    mw_defrag_mark_fragmented(&dg); /* MF again, the checksum still right */
    assert_int_equal(be16(dg.frame + ETH_LEN + 6) & 0x3fff, 0x2000);
    assert_int_equal(csum_of(dg.frame + ETH_LEN), 0xffff);
    mw_defrag_get_stats(t, &st);
    assert_int_equal(st.datagrams, 2);
    assert_int_equal(st.fragments, 6);
    assert_int_equal(st.released, 0);
    assert_int_equal(r.n, 0);
    mw_defrag_destroy(t);
}

static void test_overlap_keeps_first_bytes(void **state)
{
    released_t r = { 0 };
    mw_defrag_t *t = table(1 << 20, &r);
    uint8_t l4[1200], other[1200];
    uint32_t n = udp_datagram(l4, 1192, 1);
    frame_t a, b, c;
    mw_defrag_datagram_t dg;
    mw_defrag_stats_t st;
    (void)state;

    udp_datagram(other, 1192, 99); /* the same header, other payload bytes */
    frag4(&a, l4, 0, 800, 1, 9);
    frag4(&b, other, 400, 800, 0, 9); /* overlaps 400..800 with other bytes */
    assert_int_equal(add(t, &a, 1, 1, &dg), MW_DEFRAG_HELD);
    assert_int_equal(add(t, &b, 2, 2, &dg), MW_DEFRAG_COMPLETE);
    assert_int_equal(dg.conflict, 1);
    assert_memory_equal(dg.frame + ETH_LEN + 20, l4, 800);                /* a's, first */
    assert_memory_equal(dg.frame + ETH_LEN + 20 + 800, other + 800, 400); /* b's own */
    /* an exact copy of a fragment is no conflict, and counts as a frame */
    frag4(&a, l4, 0, 800, 1, 10);
    frag4(&c, l4, 800, n - 800, 0, 10);
    assert_int_equal(add(t, &a, 3, 3, &dg), MW_DEFRAG_HELD);
    assert_int_equal(add(t, &a, 4, 4, &dg), MW_DEFRAG_HELD);
    assert_int_equal(add(t, &c, 5, 5, &dg), MW_DEFRAG_COMPLETE);
    assert_int_equal(dg.conflict, 0);
    assert_int_equal(dg.fragments, 3);
    assert_ipv4_whole(&dg, l4, n);
    mw_defrag_get_stats(t, &st);
    assert_int_equal(st.conflicts, 1);
    mw_defrag_destroy(t);
}

static void test_lost_fragment_released_in_offset_order(void **state)
{
    released_t r = { 0 };
    mw_defrag_t *t = table(1 << 20, &r);
    uint8_t l4[3000];
    uint32_t n = udp_datagram(l4, 2992, 1);
    frame_t f[3];
    mw_defrag_datagram_t dg;
    mw_defrag_stats_t st;
    (void)state;

    frag4(&f[0], l4, 0, 1480, 1, 11);
    frag4(&f[2], l4, 2960, n - 2960, 0, 11); /* the middle one is lost */
    assert_int_equal(add(t, &f[2], 10, 1000000, &dg), MW_DEFRAG_HELD);
    assert_int_equal(add(t, &f[0], 11, 1000100, &dg), MW_DEFRAG_HELD);
    mw_defrag_expire(t, 5000000);
    assert_int_equal(r.n, 0); /* not yet: 4 s */
    mw_defrag_expire(t, 6000001);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.frames[0], 11); /* the first fragment, with the ports, first */
    assert_int_equal(r.frames[1], 10);
    assert_int_equal(r.caplen[0], f[0].len);
    mw_defrag_get_stats(t, &st);
    assert_int_equal(st.released, 2);
    assert_int_equal(st.datagrams, 0);
    /* the end of the input hands back what still waits */
    assert_int_equal(add(t, &f[0], 12, 7000000, &dg), MW_DEFRAG_HELD);
    mw_defrag_flush(t);
    assert_int_equal(r.n, 3);
    mw_defrag_destroy(t);
}

static void test_settled_in_pieces(void **state)
{
    released_t r = { 0 };
    mw_defrag_t *t = table(1 << 20, &r);
    uint8_t l4[3000];
    uint32_t n = udp_datagram(l4, 2992, 1);
    frame_t f[2];
    mw_defrag_datagram_t dg;
    mw_defrag_frame_t fr;
    mw_defrag_stats_t st;
    (void)state;

    frag4(&f[0], l4, 0, 1480, 1, 30);
    frag4(&f[1], l4, 1480, n - 1480, 0, 30);
    assert_int_equal(add(t, &f[1], 1, 1, &dg), MW_DEFRAG_HELD);
    fr = (mw_defrag_frame_t){ .data = f[0].b,
        .caplen = f[0].len,
        .wirelen = f[0].len,
        .ts_us = 2,
        .frame = 2,
        .dlt = DLT_EN10MB };
    assert_int_equal(mw_defrag_add(t, &fr, ETH_LEN, f[0].len, &dg), MW_DEFRAG_COMPLETE);
    assert_int_equal(dg.id, 30);
    mw_defrag_settle(t, 0); /* it did not decode: its frames go on one by one */
    assert_int_equal(r.n, 2);
    assert_int_equal(r.frames[0], 2);
    assert_int_equal(r.frames[1], 1);
    mw_defrag_get_stats(t, &st);
    assert_int_equal(st.datagrams, 0);
    assert_int_equal(st.released, 2);
    mw_defrag_destroy(t);
}

static void test_memory_cap_gives_up_oldest(void **state)
{
    released_t r = { 0 };
    /* room for about two fragment frames */
    mw_defrag_t *t = table(2 * (1600 + 256), &r);
    uint8_t l4[3000];
    udp_datagram(l4, 2992, 1);
    frame_t f;
    mw_defrag_datagram_t dg;
    mw_defrag_stats_t st;
    uint16_t id;
    (void)state;

    for (id = 1; id <= 4; id++) {
        frag4(&f, l4, 0, 1480, 1, id);
        assert_int_equal(add(t, &f, id, id, &dg), MW_DEFRAG_HELD);
    }
    mw_defrag_get_stats(t, &st);
    assert_true(st.released >= 2);
    assert_int_equal(r.frames[0], 1); /* the oldest went first */
    assert_true(st.held_bytes_max <= 2 * (1600 + 256));
    mw_defrag_flush(t);
    assert_int_equal(r.n, 4);
    mw_defrag_destroy(t);
}

static void test_ipv6_extension_header_kept(void **state)
{
    released_t r = { 0 };
    mw_defrag_t *t = table(1 << 20, &r);
    uint8_t l4[2000];
    uint32_t n = udp_datagram(l4, 1992, 3);
    frame_t a, b;
    mw_defrag_datagram_t dg;
    const uint8_t *ip;
    (void)state;

    frag6(&a, l4, 0, 1224, 1, 0x10001);
    frag6(&b, l4, 1224, n - 1224, 0, 0x10001);
    assert_int_equal(add(t, &b, 1, 1, &dg), MW_DEFRAG_HELD);
    assert_int_equal(add(t, &a, 2, 2, &dg), MW_DEFRAG_COMPLETE);
    ip = dg.frame + ETH_LEN;
    assert_int_equal(dg.len, ETH_LEN + 48 + n);
    assert_int_equal(be16(ip + 4), 8 + n); /* hop-by-hop + the datagram */
    assert_int_equal(ip[6], 0);            /* still hop-by-hop first */
    assert_int_equal(ip[40], 17);          /* which now names UDP: no fragment header */
    assert_memory_equal(ip + 48, l4, n);
    mw_defrag_destroy(t);
}

static void test_left_alone(void **state)
{
    released_t r = { 0 };
    mw_defrag_t *t = table(1 << 20, &r);
    uint8_t l4[3000];
    uint32_t n = udp_datagram(l4, 2992, 1);
    frame_t f, g;
    mw_defrag_datagram_t dg;
    mw_defrag_frame_t cut;
    (void)state;

    frag4(&f, l4, 0, n, 0, 20); /* offset 0 and no MF: a whole packet */
    assert_int_equal(add(t, &f, 1, 1, &dg), MW_DEFRAG_NOT_FRAGMENT);
    frag6(&f, l4, 0, 100, 0, 21); /* an atomic fragment (RFC 6946) */
    assert_int_equal(add(t, &f, 2, 2, &dg), MW_DEFRAG_NOT_FRAGMENT);
    frag4(&f, l4, 0, 1000, 1, 22);
    cut = (mw_defrag_frame_t){ .data = f.b, .caplen = 96, .wirelen = f.len, .dlt = DLT_EN10MB };
    assert_int_equal(mw_defrag_add(t, &cut, ETH_LEN, f.len, &dg), MW_DEFRAG_PASS); /* snaplen */
    frag4(&f, l4, 0, 1001, 1, 23); /* a fragment that is not the last holds 8 x k bytes */
    assert_int_equal(add(t, &f, 3, 3, &dg), MW_DEFRAG_PASS);
    frag4(&f, l4, 65528, 16, 0, 24); /* past 65,535 bytes: the ping of death */
    assert_int_equal(add(t, &f, 4, 4, &dg), MW_DEFRAG_PASS);
    /* two last fragments that disagree on the end: handed back at once */
    frag4(&f, l4, 800, 200, 0, 25);
    frag4(&g, l4, 800, 400, 0, 25);
    assert_int_equal(add(t, &f, 5, 5, &dg), MW_DEFRAG_HELD);
    assert_int_equal(add(t, &g, 6, 6, &dg), MW_DEFRAG_HELD);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.frames[0], 5);
    mw_defrag_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_in_order_and_reversed),
        cmocka_unit_test(test_overlap_keeps_first_bytes),
        cmocka_unit_test(test_lost_fragment_released_in_offset_order),
        cmocka_unit_test(test_settled_in_pieces),
        cmocka_unit_test(test_memory_cap_gives_up_oldest),
        cmocka_unit_test(test_ipv6_extension_header_kept),
        cmocka_unit_test(test_left_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
