/*
 * test_prefix_tree.c - longest-prefix match over nDPI's Patricia tree:
 * nesting, the /0 and host-length edges, IPv4-mapped routing, duplicate
 * detection, prefix text parsing, and concurrent readers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "classify/prefix_tree.h"
#include "core/addr.h"
#include "core/mw.h"

static void parse_ok(const char *text, uint8_t addr[16], unsigned *bits)
{
    int rc = mw_prefix_parse(text, addr, bits);

    if (rc != MW_OK)
        fail_msg("mw_prefix_parse(%s) = %d", text, rc);
}

static void add(mw_prefix_tree_t *t, const char *text, uint64_t value)
{
    uint8_t a[16];
    unsigned bits;

    parse_ok(text, a, &bits);
    assert_int_equal(mw_prefix_tree_insert(t, a, bits, value, NULL), MW_OK);
}

/* Value found for an address, or -1 when nothing covers it. */
static long find(const mw_prefix_tree_t *t, const char *addr_text, unsigned *bits)
{
    uint8_t a[16];
    unsigned b;
    uint64_t v;

    parse_ok(addr_text, a, &b);
    assert_true(b == 128);
    if (!mw_prefix_tree_lookup(t, a, &v, bits))
        return -1;
    return (long)v;
}

static void test_parse(void **state)
{
    uint8_t a[16];
    unsigned bits;
    char buf[64];

    MW_UNUSED(state);
    parse_ok("10.10.1.11/32", a, &bits);
    assert_int_equal(bits, 128);
    assert_true(mw_addr_is_v4mapped(a));
    assert_int_equal(a[12], 10);
    assert_int_equal(a[15], 11);
    parse_ok("10.0.0.0/8", a, &bits);
    assert_int_equal(bits, 104);
    mw_prefix_format(a, bits, buf, sizeof(buf));
    assert_string_equal(buf, "10.0.0.0/8");
    parse_ok("2001:db8:10::12/128", a, &bits);
    assert_int_equal(bits, 128);
    assert_false(mw_addr_is_v4mapped(a));
    mw_prefix_format(a, bits, buf, sizeof(buf));
    assert_string_equal(buf, "2001:db8:10::12/128");
    parse_ok("192.0.2.7", a, &bits); /* a bare address is a host prefix */
    assert_int_equal(bits, 128);
    parse_ok("0.0.0.0/0", a, &bits);
    assert_int_equal(bits, 96);
    parse_ok("::/0", a, &bits);
    assert_int_equal(bits, 0);

    assert_int_equal(mw_prefix_parse("10.10.1.300/32", a, &bits), MW_EINVAL);
    assert_int_equal(mw_prefix_parse("10.10.1.1/33", a, &bits), MW_EINVAL);
    assert_int_equal(mw_prefix_parse("10.10.1.1/", a, &bits), MW_EINVAL);
    assert_int_equal(mw_prefix_parse("10.10.1.1/+8", a, &bits), MW_EINVAL);
    assert_int_equal(mw_prefix_parse("10.10.1/24", a, &bits), MW_EINVAL);
    assert_int_equal(mw_prefix_parse("2001:db8::/129", a, &bits), MW_EINVAL);
    assert_int_equal(mw_prefix_parse("/8", a, &bits), MW_EINVAL);
    assert_int_equal(mw_prefix_parse("host.example", a, &bits), MW_EINVAL);
    /* Host bits set: reported, with the network address left in addr. */
    assert_int_equal(mw_prefix_parse("10.10.1.11/24", a, &bits), MW_EFORMAT);
    mw_prefix_format(a, bits, buf, sizeof(buf));
    assert_string_equal(buf, "10.10.1.0/24");
}

static void test_v4_nested(void **state)
{
    mw_prefix_tree_t *t = mw_prefix_tree_create();
    unsigned bits;

    MW_UNUSED(state);
    assert_non_null(t);
    assert_int_equal(find(t, "10.1.2.3", NULL), -1); /* empty tree */
    add(t, "10.0.0.0/8", 8);
    add(t, "10.1.0.0/16", 16);
    add(t, "10.1.2.0/24", 24);
    add(t, "10.1.2.3/32", 32);
    add(t, "10.1.2.128/25", 25);
    assert_int_equal(find(t, "10.1.2.3", &bits), 32);
    assert_int_equal(bits, 128);
    assert_int_equal(find(t, "10.1.2.4", &bits), 24);
    assert_int_equal(bits, 120);
    assert_int_equal(find(t, "10.1.2.200", NULL), 25);
    assert_int_equal(find(t, "10.1.3.1", NULL), 16);
    assert_int_equal(find(t, "10.200.0.1", NULL), 8);
    assert_int_equal(find(t, "11.0.0.1", NULL), -1);
    assert_int_equal(find(t, "9.255.255.255", NULL), -1);
    /* An IPv4 prefix never covers an IPv6 address. */
    assert_int_equal(find(t, "::a01:203", NULL), -1);
    add(t, "0.0.0.0/0", 0);
    assert_int_equal(find(t, "11.0.0.1", &bits), 0);
    assert_int_equal(bits, 96);
    assert_int_equal(find(t, "10.1.2.3", NULL), 32);
    assert_int_equal(find(t, "2001:db8::1", NULL), -1);
    assert_int_equal(mw_prefix_tree_count(t), 6);
    mw_prefix_tree_destroy(t);
}

static void test_v6_nested(void **state)
{
    mw_prefix_tree_t *t = mw_prefix_tree_create();
    unsigned bits;

    MW_UNUSED(state);
    add(t, "2001:db8::/32", 32);
    add(t, "2001:db8:10::/48", 48);
    add(t, "2001:db8:10::12/128", 128);
    add(t, "2001:db8:10:0:8000::/65", 65);
    assert_int_equal(find(t, "2001:db8:10::12", &bits), 128);
    assert_int_equal(bits, 128);
    assert_int_equal(find(t, "2001:db8:10::13", NULL), 48);
    assert_int_equal(find(t, "2001:db8:10:0:8000::1", &bits), 65);
    assert_int_equal(bits, 65);
    assert_int_equal(find(t, "2001:db8:11::1", NULL), 32);
    assert_int_equal(find(t, "2001:db9::1", NULL), -1);
    assert_int_equal(find(t, "10.1.2.3", NULL), -1);
    add(t, "::/0", 0);
    assert_int_equal(find(t, "2001:db9::1", &bits), 0);
    assert_int_equal(bits, 0);
    /* ::/0 is the IPv6 default: IPv4-mapped addresses are IPv4's business. */
    assert_int_equal(find(t, "10.1.2.3", NULL), -1);
    mw_prefix_tree_destroy(t);
}

static void test_v4mapped_forms_are_one_prefix(void **state)
{
    mw_prefix_tree_t *t = mw_prefix_tree_create();
    uint8_t a[16];
    unsigned bits;
    uint64_t existing = 0;

    MW_UNUSED(state);
    add(t, "10.20.0.10/32", 7);
    parse_ok("::ffff:10.20.0.10/128", a, &bits);
    assert_int_equal(mw_prefix_tree_insert(t, a, bits, 9, &existing), MW_EINVAL);
    assert_int_equal(existing, 7);
    add(t, "::ffff:10.30.0.0/112", 30); /* = 10.30.0.0/16 */
    assert_int_equal(find(t, "10.30.4.5", &bits), 30);
    assert_int_equal(bits, 112);
    /* Identical prefix twice: refused, value unchanged. */
    parse_ok("10.30.0.0/16", a, &bits);
    assert_int_equal(mw_prefix_tree_insert(t, a, bits, 99, &existing), MW_EINVAL);
    assert_int_equal(existing, 30);
    assert_int_equal(find(t, "10.30.4.5", NULL), 30);
    /* Host bits in an insert are ignored (masked). */
    parse_ok("10.40.0.0/16", a, &bits);
    a[15] = 5;
    assert_int_equal(mw_prefix_tree_insert(t, a, bits, 40, NULL), MW_OK);
    assert_int_equal(find(t, "10.40.9.9", NULL), 40);
    assert_int_equal(mw_prefix_tree_insert(t, a, 129, 1, NULL), MW_EINVAL);
    assert_int_equal(mw_prefix_tree_count(t), 3);
    mw_prefix_tree_destroy(t);
    mw_prefix_tree_destroy(NULL);
}

/* Compares the tree with a brute-force scan on random nested prefixes. */
static int brute(const uint32_t *net, const unsigned *len, size_t n, uint32_t ip)
{
    int best = -1;
    size_t i;

    for (i = 0; i < n; i++) {
        uint32_t mask = len[i] ? 0xffffffffu << (32 - len[i]) : 0;

        if ((ip & mask) == net[i] && (best < 0 || len[i] > len[best]))
            best = (int)i;
    }
    return best;
}

static void v4_addr(uint32_t ip, uint8_t a[16])
{
    memset(a, 0, 16);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)(ip >> 24);
    a[13] = (uint8_t)(ip >> 16);
    a[14] = (uint8_t)(ip >> 8);
    a[15] = (uint8_t)ip;
}

#define RAND_N 500
static uint32_t r_net[RAND_N];
static unsigned r_len[RAND_N];

static void test_random_against_scan(void **state)
{
    mw_prefix_tree_t *t = mw_prefix_tree_create();
    unsigned seed = 12345, i, n = 0;
    uint8_t a[16];
    uint64_t v;

    MW_UNUSED(state);
    while (n < RAND_N) {
        /* Concentrated in 10.0.0.0/12 so that prefixes nest often. */
        uint32_t ip = 0x0a000000u | ((uint32_t)rand_r(&seed) & 0x000fffffu);
        unsigned len = 12 + (unsigned)rand_r(&seed) % 21;
        uint32_t mask = 0xffffffffu << (32 - len);

        v4_addr(ip & mask, a);
        if (mw_prefix_tree_insert(t, a, 96 + len, n, NULL) != MW_OK)
            continue; /* same prefix drawn twice */
        r_net[n] = ip & mask;
        r_len[n] = len;
        n++;
    }
    for (i = 0; i < 20000; i++) {
        uint32_t ip = 0x0a000000u | ((uint32_t)rand_r(&seed) & 0x001fffffu);
        int want = brute(r_net, r_len, RAND_N, ip);
        int got;

        v4_addr(ip, a);
        got = mw_prefix_tree_lookup(t, a, &v, NULL) ? (int)v : -1;
        if (got != want)
            fail_msg("ip %08x: tree %d, scan %d", ip, got, want);
    }
    mw_prefix_tree_destroy(t);
}

typedef struct reader_arg {
    const mw_prefix_tree_t *tree;
    int errors;
} reader_arg_t;

static void *reader(void *p)
{
    reader_arg_t *arg = p;
    uint8_t a[16];
    uint64_t v;
    unsigned i, seed = (unsigned)(uintptr_t)p;

    for (i = 0; i < 200000; i++) {
        uint32_t ip = 0x0a000000u | ((uint32_t)rand_r(&seed) & 0x001fffffu);
        int want = brute(r_net, r_len, 16, ip); /* first 16 prefixes only: cheap */
        int got;

        v4_addr(ip, a);
        got = mw_prefix_tree_lookup(arg->tree, a, &v, NULL) ? (int)v : -1;
        if (got != want)
            arg->errors++;
    }
    return NULL;
}

static void test_concurrent_readers(void **state)
{
    mw_prefix_tree_t *t = mw_prefix_tree_create();
    reader_arg_t args[4];
    pthread_t th[4];
    uint8_t a[16];
    int i;

    MW_UNUSED(state);
    for (i = 0; i < 16; i++) {
        v4_addr(r_net[i], a);
        assert_int_equal(mw_prefix_tree_insert(t, a, 96 + r_len[i], (uint64_t)i, NULL), MW_OK);
    }
    for (i = 0; i < 4; i++) {
        args[i].tree = t;
        args[i].errors = 0;
        assert_int_equal(pthread_create(&th[i], NULL, reader, &args[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].errors, 0);
    }
    mw_prefix_tree_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_v4_nested),
        cmocka_unit_test(test_v6_nested),
        cmocka_unit_test(test_v4mapped_forms_are_one_prefix),
        cmocka_unit_test(test_random_against_scan),
        cmocka_unit_test(test_concurrent_readers),
    };

    return cmocka_run_group_tests_name("classify/prefix_tree", tests, NULL, NULL);
}
