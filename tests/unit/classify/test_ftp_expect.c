/*
 * test_ftp_expect.c - FTP data endpoints from control sessions: the four
 * announcements (227, 229, PORT, EPRT) and their malformed kin, a match
 * only between the announced endpoint and the control session's other end,
 * in either direction, until the announcement expires; a table full of live
 * announcements counts what it could not keep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "classify/ftp_expect.h"

#define SEC 1000000LL

static void v4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    memset(out, 0, 16);
    out[10] = out[11] = 0xff;
    out[12] = a;
    out[13] = b;
    out[14] = c;
    out[15] = d;
}

/* A TCP packet src:sport -> dst:dport whose payload is text (frame = payload here). */
static mw_l3_t tcp(const uint8_t src[16], uint16_t sport, const uint8_t dst[16], uint16_t dport,
        const char *text)
{
    mw_l3_t l3;

    memset(&l3, 0, sizeof(l3));
    l3.ip_version = 4;
    l3.l4_proto = 6;
    memcpy(l3.src, src, 16);
    memcpy(l3.dst, dst, 16);
    l3.sport = sport;
    l3.dport = dport;
    l3.payload_off = 0;
    l3.payload_len = text ? (uint32_t)strlen(text) : 0;
    return l3;
}

static int packet(mw_ftp_expect_t *t, const mw_l3_t *l3, const char *text, int64_t ts)
{
    return mw_ftp_expect_packet(t, l3, (const uint8_t *)(text ? text : ""), ts);
}

static void test_parsers(void **state)
{
    uint8_t addr[16], want[16];
    uint16_t port = 0;
    const char *s;
    (void)state;

    v4(want, 90, 130, 70, 73);
    s = "227 Entering Passive Mode (90,130,70,73,100,85).";
    assert_true(mw_ftp_parse_227(s, strlen(s), addr, &port));
    assert_memory_equal(addr, want, 16);
    assert_int_equal(port, 100 * 256 + 85);
    s = "227 =90,130,70,73,0,21"; /* no parentheses (RFC 1123) */
    assert_true(mw_ftp_parse_227(s, strlen(s), addr, &port));
    assert_int_equal(port, 21);
    s = "227 Entering Passive Mode v2 (90,130,70,73,0,22)"; /* digits in the text */
    assert_true(mw_ftp_parse_227(s, strlen(s), addr, &port));
    assert_int_equal(port, 22);
    s = "227 Entering Passive Mode (90,130,70,256,1,1)."; /* a byte over 255 */
    assert_false(mw_ftp_parse_227(s, strlen(s), addr, &port));
    s = "227 Entering Passive Mode (90,130,70,73,1"; /* cut */
    assert_false(mw_ftp_parse_227(s, strlen(s), addr, &port));
    s = "227 Entering Passive Mode (90,130,70,73,0,0)."; /* port 0 */
    assert_false(mw_ftp_parse_227(s, strlen(s), addr, &port));

    s = "229 Entering Extended Passive Mode (|||57086|)";
    assert_true(mw_ftp_parse_229(s, strlen(s), &port));
    assert_int_equal(port, 57086);
    s = "229 Entering Extended Passive Mode (!!!6446!)"; /* another delimiter */
    assert_true(mw_ftp_parse_229(s, strlen(s), &port));
    assert_int_equal(port, 6446);
    s = "229 Entering Extended Passive Mode (|||70000|)";
    assert_false(mw_ftp_parse_229(s, strlen(s), &port));
    s = "229 Entering Extended Passive Mode (||57086|)";
    assert_false(mw_ftp_parse_229(s, strlen(s), &port));

    s = "PORT 10,10,1,11,195,80";
    assert_true(mw_ftp_parse_port(s, strlen(s), addr, &port));
    v4(want, 10, 10, 1, 11);
    assert_memory_equal(addr, want, 16);
    assert_int_equal(port, 195 * 256 + 80);
    s = "port 10,10,1,11,195,80"; /* commands are case-insensitive */
    assert_true(mw_ftp_parse_port(s, strlen(s), addr, &port));
    s = "PORTS 10,10,1,11,195,80";
    assert_false(mw_ftp_parse_port(s, strlen(s), addr, &port));

    s = "EPRT |2|2001:470:1f11:81f:c999:d94:aa7c:2e3e|49189|";
    assert_true(mw_ftp_parse_eprt(s, strlen(s), addr, &port));
    assert_int_equal(port, 49189);
    assert_int_equal(addr[0], 0x20);
    assert_int_equal(addr[15], 0x3e);
    s = "EPRT |1|132.235.1.2|6275|";
    assert_true(mw_ftp_parse_eprt(s, strlen(s), addr, &port));
    v4(want, 132, 235, 1, 2);
    assert_memory_equal(addr, want, 16);
    s = "EPRT |1|132.235.1.2|6275"; /* no closing delimiter */
    assert_false(mw_ftp_parse_eprt(s, strlen(s), addr, &port));
    s = "EPRT |3|132.235.1.2|6275|"; /* no such protocol */
    assert_false(mw_ftp_parse_eprt(s, strlen(s), addr, &port));
    s = "EPRT |1|132.235.1|6275|";
    assert_false(mw_ftp_parse_eprt(s, strlen(s), addr, &port));
}

static void test_passive_needs_the_right_peer(void **state)
{
    mw_ftp_expect_t *t = mw_ftp_expect_create();
    uint8_t client[16], server[16], other[16];
    mw_l3_t l3;
    const char *reply = "150 ok\r\n227 Entering Passive Mode (90,130,70,73,95,203).\r\n";
    (void)state;

    v4(client, 10, 10, 1, 11);
    v4(server, 90, 130, 70, 73);
    v4(other, 198, 51, 100, 9);
    /* nothing announced: nothing matches */
    l3 = tcp(client, 50696, server, 24523, NULL);
    assert_int_equal(packet(t, &l3, NULL, 1 * SEC), MW_FTP_DATA_NONE);
    /* the reply is the second line of its segment */
    l3 = tcp(server, 21, client, 50694, reply);
    assert_int_equal(packet(t, &l3, reply, 2 * SEC), MW_FTP_DATA_NONE);
    assert_int_equal(mw_ftp_expect_noted(t), 1);
    l3 = tcp(client, 50696, server, 95 * 256 + 203, NULL);
    assert_int_equal(packet(t, &l3, NULL, 3 * SEC), MW_FTP_DATA_DST_LISTENS);
    l3 = tcp(server, 95 * 256 + 203, client, 50696, NULL); /* the answer, or a one-way copy */
    assert_int_equal(packet(t, &l3, NULL, 3 * SEC), MW_FTP_DATA_SRC_LISTENS);
    /* another host on the announced port is not the transfer */
    l3 = tcp(other, 40000, server, 95 * 256 + 203, NULL);
    assert_int_equal(packet(t, &l3, NULL, 3 * SEC), MW_FTP_DATA_NONE);
    /* nor another port of the server, nor UDP */
    l3 = tcp(client, 50697, server, 95 * 256 + 204, NULL);
    assert_int_equal(packet(t, &l3, NULL, 3 * SEC), MW_FTP_DATA_NONE);
    l3 = tcp(client, 50696, server, 95 * 256 + 203, NULL);
    l3.l4_proto = 17;
    assert_int_equal(packet(t, &l3, NULL, 3 * SEC), MW_FTP_DATA_NONE);
    /* two minutes on, the announcement is gone */
    l3 = tcp(client, 50696, server, 95 * 256 + 203, NULL);
    assert_int_equal(packet(t, &l3, NULL, 2 * SEC + 121 * SEC), MW_FTP_DATA_NONE);
    /* a client's 227-looking command is not a reply */
    l3 = tcp(client, 50694, server, 21, "227 Entering Passive Mode (90,130,70,73,9,9)\r\n");
    packet(t, &l3, "227 Entering Passive Mode (90,130,70,73,9,9)\r\n", 200 * SEC);
    l3 = tcp(client, 50698, server, 9 * 256 + 9, NULL);
    assert_int_equal(packet(t, &l3, NULL, 201 * SEC), MW_FTP_DATA_NONE);
    assert_int_equal(mw_ftp_expect_dropped(t), 0);
    mw_ftp_expect_destroy(t);
}

static void test_active_and_extended(void **state)
{
    mw_ftp_expect_t *t = mw_ftp_expect_create();
    uint8_t client[16], server[16];
    mw_l3_t l3;
    const char *port_cmd = "PORT 10,10,1,11,195,80\r\n", *epsv = "229 Extended (|||6446|)\r\n";
    (void)state;

    v4(client, 10, 10, 1, 11);
    v4(server, 10, 20, 0, 10);
    l3 = tcp(client, 40000, server, 21, port_cmd);
    packet(t, &l3, port_cmd, 10 * SEC);
    /* the server connects from a port of its own (not 20) to the client's */
    l3 = tcp(server, 55785, client, 195 * 256 + 80, NULL);
    assert_int_equal(packet(t, &l3, NULL, 11 * SEC), MW_FTP_DATA_DST_LISTENS);
    /* the client's own connection elsewhere from that port is not it */
    l3 = tcp(client, 195 * 256 + 80, client, 9999, NULL);
    assert_int_equal(packet(t, &l3, NULL, 11 * SEC), MW_FTP_DATA_NONE);
    /* 229 names the control session's server address */
    l3 = tcp(server, 21, client, 40000, epsv);
    packet(t, &l3, epsv, 12 * SEC);
    l3 = tcp(client, 40001, server, 6446, NULL);
    assert_int_equal(packet(t, &l3, NULL, 13 * SEC), MW_FTP_DATA_DST_LISTENS);
    mw_ftp_expect_destroy(t);
}

/* Whoever writes on a control session names only a port of its own end: not a third host
 * (FXP, an FTP bounce), not a port a known service listens on. */
static void test_announcements_cannot_name_other_sessions(void **state)
{
    mw_ftp_expect_t *t = mw_ftp_expect_create();
    uint8_t station[16], ems[16], mme[16];
    mw_l3_t l3;
    const char *to_mme = "227 Entering Passive Mode (10,30,0,1,195,80)\r\n";
    const char *bounce = "PORT 10,30,0,1,195,81\r\n";
    const char *ssh = "227 Entering Passive Mode (10,20,0,10,0,22)\r\n";
    const char *https = "229 Entering Extended Passive Mode (|||8443|)\r\n";
    (void)state;

    v4(station, 10, 10, 1, 11);
    v4(ems, 10, 20, 0, 10);
    v4(mme, 10, 30, 0, 1);
    /* the EMS's reply names the MME: the station's connection to the MME is not a transfer;
     * one to the EMS's own address on that port is (a server behind NAT names another) */
    l3 = tcp(ems, 21, station, 40000, to_mme);
    packet(t, &l3, to_mme, 1 * SEC);
    l3 = tcp(station, 40001, mme, 50000, NULL);
    assert_int_equal(packet(t, &l3, NULL, 2 * SEC), MW_FTP_DATA_NONE);
    l3 = tcp(station, 40001, ems, 50000, NULL);
    assert_int_equal(packet(t, &l3, NULL, 2 * SEC), MW_FTP_DATA_DST_LISTENS);
    /* the EMS, client of the station's FTP server, names the MME in PORT (a bounce) */
    l3 = tcp(ems, 40100, station, 21, bounce);
    packet(t, &l3, bounce, 3 * SEC);
    l3 = tcp(station, 55555, mme, 50001, NULL);
    assert_int_equal(packet(t, &l3, NULL, 4 * SEC), MW_FTP_DATA_NONE);
    /* a reply naming the EMS's SSH port or an HTTPS port: refused, and counted */
    l3 = tcp(ems, 21, station, 40000, ssh);
    packet(t, &l3, ssh, 5 * SEC);
    l3 = tcp(ems, 21, station, 40000, https);
    packet(t, &l3, https, 5 * SEC);
    l3 = tcp(station, 40002, ems, 22, NULL);
    assert_int_equal(packet(t, &l3, NULL, 6 * SEC), MW_FTP_DATA_NONE);
    l3 = tcp(station, 40003, ems, 8443, NULL);
    assert_int_equal(packet(t, &l3, NULL, 6 * SEC), MW_FTP_DATA_NONE);
    assert_int_equal(mw_ftp_expect_noted(t), 4);
    assert_int_equal(mw_ftp_expect_refused(t), 2);
    mw_ftp_expect_destroy(t);
}

/* More live announcements than the table keeps: counted, and the kept ones still match. */
static void test_full_table_counts(void **state)
{
    mw_ftp_expect_t *t = mw_ftp_expect_create();
    uint8_t client[16], server[16];
    char reply[96];
    mw_l3_t l3;
    unsigned i, kept = 0;
    (void)state;

    v4(server, 10, 20, 0, 10);
    for (i = 0; i < 1000; i++) {
        v4(client, 10, 10, (uint8_t)(i >> 8), (uint8_t)i);
        snprintf(reply, sizeof(reply), "227 Entering Passive Mode (10,20,0,10,%u,%u)\r\n",
                (i + 2000) >> 8, (i + 2000) & 255);
        l3 = tcp(server, 21, client, 40000, reply);
        packet(t, &l3, reply, 1 * SEC);
    }
    assert_int_equal(mw_ftp_expect_noted(t), 1000);
    assert_true(mw_ftp_expect_dropped(t) > 0);
    for (i = 0; i < 1000; i++) {
        v4(client, 10, 10, (uint8_t)(i >> 8), (uint8_t)i);
        l3 = tcp(client, 40001, server, (uint16_t)(i + 2000), NULL);
        kept += packet(t, &l3, NULL, 2 * SEC) == MW_FTP_DATA_DST_LISTENS;
    }
    assert_int_equal(kept + mw_ftp_expect_dropped(t), 1000);
    /* once they expired, new ones are kept again */
    l3 = tcp(server, 21, client, 40000, "227 Entering Passive Mode (10,20,0,10,39,16)\r\n");
    packet(t, &l3, "227 Entering Passive Mode (10,20,0,10,39,16)\r\n", 500 * SEC);
    l3 = tcp(client, 40001, server, 10000, NULL);
    assert_int_equal(packet(t, &l3, NULL, 501 * SEC), MW_FTP_DATA_DST_LISTENS);
    mw_ftp_expect_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_passive_needs_the_right_peer),
        cmocka_unit_test(test_active_and_extended),
        cmocka_unit_test(test_announcements_cannot_name_other_sessions),
        cmocka_unit_test(test_full_table_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
