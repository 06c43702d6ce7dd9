/*
 * test_fanout.c - capture --readers N puts its packet sockets in one
 * PACKET_FANOUT group: the first creates it (the kernel picks the id), the
 * others join that id. The kernel's first id after boot is 0: a group with
 * id 0 must be joined like any other, not taken for "no group yet" (which
 * made each reader a group of its own, every packet read N times, on the
 * first capture after boot). Needs CAP_NET_RAW (skips without it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture/fanout.h"
#include "core/mw.h"

/* A packet socket bound to lo, or -1 without the right to open one. */
static int lo_socket(void)
{
    struct sockaddr_ll sll;
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

    if (fd < 0)
        return -1;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)if_nametoindex("lo");
    assert_true(sll.sll_ifindex > 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
    return fd;
}

/* The id of the group fd is in (a socket in none reads 0: the mode says it is in one). */
static unsigned group_of(int fd)
{
    int arg = 0;
    socklen_t len = sizeof(arg);

    assert_int_equal(getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, &len), 0);
    assert_int_equal(((unsigned)arg >> 16) & 0xffu, PACKET_FANOUT_CBPF);
    return (unsigned)arg & 0xffffu;
}

static void test_new_group_then_joined(void **unused)
{
    char err[MW_ERRBUF_SIZE];
    int a = lo_socket(), b, have = 0;
    unsigned group = 12345;
    (void)unused;

    if (a < 0)
        skip();
    b = lo_socket();
    assert_int_equal(mw__fanout_join(a, "lo", &have, &group, err, sizeof(err)), 0);
    assert_int_equal(have, 1);
    assert_int_equal(group, group_of(a));
    assert_int_equal(mw__fanout_join(b, "lo", &have, &group, err, sizeof(err)), 0);
    assert_int_equal(group_of(b), group_of(a));
    close(a);
    close(b);
}

static void test_group_zero_is_joined(void **unused)
{
    char err[MW_ERRBUF_SIZE];
    int a = lo_socket(), b, have = 1;
    unsigned group = 0;
    (void)unused;

    if (a < 0)
        skip();
    /* the first reader's group as the kernel numbers it after boot; another process may
     * hold an id-0 group of its own kind already (then there is nothing to check here) */
    if (mw__fanout_join(a, "lo", &have, &group, err, sizeof(err)) != 0) {
        close(a);
        skip();
    }
    assert_int_equal(group_of(a), 0);
    b = lo_socket();
    assert_int_equal(mw__fanout_join(b, "lo", &have, &group, err, sizeof(err)), 0);
    assert_int_equal(group, 0);
    assert_int_equal(group_of(b), 0); /* the same group, not a new one */
    close(a);
    close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_group_then_joined),
        cmocka_unit_test(test_group_zero_is_joined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
