/*
 * test_hostname.c - the host name readers on hand-made messages: DNS names
 * with compression pointers (backwards only, loops refused), names longer
 * than nDPI keeps, TLS ClientHello server_name, HTTP Host, and every
 * truncation of each message read without going past its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "classify/hostname.h"
#include "flow/flow_record.h"

typedef struct {
    uint8_t b[2048];
    uint32_t n;
} buf_t;

static void put(buf_t *m, const void *p, uint32_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void put8(buf_t *m, uint8_t v)
{
    put(m, &v, 1);
}

static void put16(buf_t *m, uint16_t v)
{
    put8(m, (uint8_t)(v >> 8));
    put8(m, (uint8_t)v);
}

/* DNS header: id 0x1234, RD, qdcount 1 */
static void dns_header(buf_t *m)
{
    static const uint8_t h[12] = { 0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
    put(m, h, 12);
}

/* "dotted.name" as DNS labels, without the final 0 */
static void labels(buf_t *m, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t n = dot ? (size_t)(dot - name) : strlen(name);
        put8(m, (uint8_t)n);
        put(m, name, (uint32_t)n);
        name += n + (dot ? 1 : 0);
    }
}

/* aaa...(60).bbb...(60).ccc...(60).tunnel.Example.COM: 201 characters, past nDPI's 79 */
static const char *long_name(void)
{
    static char s[300];
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        memset(s + n, 'a' + i, 60);
        n += 60;
        s[n++] = '.';
    }
    strcpy(s + n, "tunnel.Example.COM");
    return s; /* 3 * 61 + 18 = 201 characters */
}

static void test_dns_long_name_and_case(void **state)
{
    buf_t m = { .n = 0 };
    char out[MW_HOST_LEN];
    char want[300];
    (void)state;
    dns_header(&m);
    labels(&m, long_name());
    put8(&m, 0);
    put16(&m, 16); /* TXT */
    put16(&m, 1);
    assert_int_equal(mw_hostname_dns(m.b, m.n, out, sizeof(out)), 201);
    strcpy(want, long_name());
    for (char *c = want; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    assert_string_equal(out, want);
    /* the same over UDP port 53; over TCP from the stream, message by message (a segment
     * may begin inside a message: the raw payload reader leaves TCP DNS alone) */
    assert_int_equal(mw_hostname_from_payload(17, 40000, 53, m.b, m.n, out, sizeof(out)), 201);
    {
        buf_t t = { .n = 0 };
        mw_dns_tcp_t s;
        char name[MW_HOST_LEN] = "";
        memset(&s, 0, sizeof(s));
        put16(&t, (uint16_t)m.n);
        assert_int_equal(mw_hostname_from_payload(6, 40000, 53, t.b, t.n, out, sizeof(out)), 0);
        /* the length alone in its segment, the message in the next: its name is read */
        mw_dns_tcp_segment(&s, 100, t.b, t.n, name, sizeof(name));
        assert_string_equal(name, "");
        assert_int_equal(mw_dns_tcp_segment(&s, 102, m.b, m.n, name, sizeof(name)), 60);
        assert_string_equal(name, want);
    }
    /* every truncation: no name, no read past the end (ASan) */
    for (uint32_t n = 0; n < m.n; n++) {
        uint8_t *cut = test_malloc(n ? n : 1);
        memcpy(cut, m.b, n);
        assert_true(mw_hostname_dns(cut, n, out, sizeof(out)) == 0 || n > 12 + 201);
        test_free(cut);
    }
}

static void test_dns_pointers(void **state)
{
    buf_t m = { .n = 0 };
    char out[MW_HOST_LEN];
    (void)state;
    /* plain question */
    dns_header(&m);
    labels(&m, "example.com");
    put8(&m, 0);
    assert_int_equal(mw_hostname_dns(m.b, m.n, out, sizeof(out)), 11);
    assert_string_equal(out, "example.com");

    /* "www" + a pointer back to offset 6 (the header's ancount, 0x00: the root) */
    m.n = 0;
    dns_header(&m);
    labels(&m, "www");
    put16(&m, 0xc006); /* pointer to offset 6: a 0 byte, the end */
    assert_int_equal(mw_hostname_dns(m.b, m.n, out, sizeof(out)), 3);
    assert_string_equal(out, "www");

    /* a pointer to itself or forwards: refused (no loop) */
    m.n = 0;
    dns_header(&m);
    put16(&m, 0xc00c);
    assert_int_equal(mw_hostname_dns(m.b, m.n, out, sizeof(out)), 0);
    m.n = 0;
    dns_header(&m);
    put16(&m, 0xc00e);
    put8(&m, 0);
    assert_int_equal(mw_hostname_dns(m.b, m.n, out, sizeof(out)), 0);
    /* "a" "b" then a pointer back to "a": a.b.a.b... ends at the pointer or length cap */
    m.n = 0;
    dns_header(&m);
    labels(&m, "a.b");
    put16(&m, 0xc00c);
    assert_int_equal(mw_hostname_dns(m.b, m.n, out, sizeof(out)), 0);

    /* reserved label type 0x40, no question, over-long name */
    m.n = 0;
    dns_header(&m);
    put8(&m, 0x41);
    put8(&m, 'a');
    put8(&m, 0);
    assert_int_equal(mw_hostname_dns(m.b, m.n, out, sizeof(out)), 0);
    m.b[5] = 0;
    assert_int_equal(mw_hostname_dns(m.b, m.n, out, sizeof(out)), 0);
    m.n = 0;
    dns_header(&m);
    for (int i = 0; i < 5; i++) {
        uint8_t label[64];
        memset(label, 'x', sizeof(label));
        label[0] = 63;
        put(&m, label, 64); /* 5 * 64 = 320 wire bytes > 255 */
    }
    put8(&m, 0);
    assert_int_equal(mw_hostname_dns(m.b, m.n, out, sizeof(out)), 0);
}

/* TLS 1.2 record + ClientHello with a session id, 2 cipher suites and SNI */
static void client_hello(buf_t *m, const char *sni)
{
    uint16_t sni_len = (uint16_t)strlen(sni);
    uint16_t ext_len = (uint16_t)(4 + 2 + 3 + sni_len + 4); /* SNI + an empty ext before */
    uint32_t body = 2 + 32 + 1 + 4 + 2 + 4 + 1 + 1 + 2 + ext_len;
    uint8_t random[32] = { 0 };

    put8(m, 22);
    put16(m, 0x0301);
    put16(m, (uint16_t)(4 + body));
    put8(m, 1);
    put8(m, 0);
    put16(m, (uint16_t)body);
    put16(m, 0x0303);
    put(m, random, 32);
    put8(m, 4);
    put(m, "sess", 4);
    put16(m, 4);
    put16(m, 0x1301);
    put16(m, 0xc02f);
    put8(m, 1);
    put8(m, 0);
    put16(m, ext_len);
    put16(m, 0x0017); /* extended master secret, empty */
    put16(m, 0);
    put16(m, 0); /* server_name */
    put16(m, (uint16_t)(2 + 3 + sni_len));
    put16(m, (uint16_t)(3 + sni_len));
    put8(m, 0);
    put16(m, sni_len);
    put(m, sni, sni_len);
}

static void test_tls_sni(void **state)
{
    buf_t m = { .n = 0 };
    char out[MW_HOST_LEN];
    (void)state;
    client_hello(&m, long_name());
    assert_int_equal(mw_hostname_tls_sni(m.b, m.n, out, sizeof(out)), 201);
    assert_int_equal(mw_hostname_from_payload(6, 50000, 443, m.b, m.n, out, sizeof(out)), 201);
    assert_non_null(strstr(out, "tunnel.example.com"));
    /* a small output keeps the tail: the registered domain */
    assert_int_equal(mw_hostname_tls_sni(m.b, m.n, out, 19), 18);
    assert_string_equal(out, "tunnel.example.com");
    /* cut anywhere before the end of the name: nothing, and no read past the cut */
    for (uint32_t n = 0; n < m.n; n++) {
        uint8_t *cut = test_malloc(n ? n : 1);
        memcpy(cut, m.b, n);
        assert_int_equal(mw_hostname_tls_sni(cut, n, out, sizeof(out)), 0);
        test_free(cut);
    }
    /* not a ClientHello (ServerHello type 2) */
    m.b[5] = 2;
    assert_int_equal(mw_hostname_tls_sni(m.b, m.n, out, sizeof(out)), 0);
}

static void test_http_host(void **state)
{
    const char *req = "GET /x HTTP/1.1\r\nUser-Agent: t\r\nHOST:  Portal.Example.net:8080 \r\n\r\n";
    const char *no_host = "POST / HTTP/1.1\r\nA: b\r\n\r\nHost: body.example\r\n";
    char out[MW_HOST_LEN];
    (void)state;
    assert_int_equal(
            mw_hostname_http((const uint8_t *)req, (uint32_t)strlen(req), out, sizeof(out)),
            strlen("portal.example.net:8080"));
    assert_string_equal(out, "portal.example.net:8080");
    assert_int_equal(
            mw_hostname_http((const uint8_t *)no_host, (uint32_t)strlen(no_host), out, sizeof(out)),
            0);
    assert_int_equal(mw_hostname_http((const uint8_t *)"SSH-2.0-x\r\n", 11, out, sizeof(out)), 0);
}

static void test_extends(void **state)
{
    (void)state;
    /* nDPI 4.2 keeps the last 79 bytes: our full name extends its cut */
    assert_true(mw_hostname_extends("aaaa.tunnel.example.com", "a.tunnel.example.com"));
    assert_true(mw_hostname_extends("www.Example.com", "example.com"));
    assert_false(mw_hostname_extends("example.com", "example.com"));
    assert_false(mw_hostname_extends("example.com", "other.com"));
    assert_false(mw_hostname_extends("example.com", ""));
}

/* Every question counts, pointers included; a cut message gives no more than it holds. */
static void test_dns_longest_label(void **state)
{
    buf_t m = { .n = 0 };
    uint32_t first_end, second;
    (void)state;
    dns_header(&m);
    m.b[5] = 2; /* qdcount 2: an ordinary name, then a tunnel's */
    labels(&m, "ems.oam.example");
    put8(&m, 0);
    first_end = m.n;
    put16(&m, 1);
    put16(&m, 1);
    second = m.n;
    labels(&m, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); /* 55 */
    put16(&m, 0xc010); /* then "oam.example" by a pointer back into the first question */
    put16(&m, 10);     /* NULL */
    put16(&m, 1);
    assert_int_equal(mw_dns_longest_label(m.b, m.n), 55);
    assert_int_equal(mw_dns_udp_longest_label(40000, 53, m.b, m.n), 55);
    assert_int_equal(mw_dns_udp_longest_label(40000, 80, m.b, m.n), 0); /* not DNS */
    /* the first question alone (qdcount 1): its longest label, "example" */
    m.b[5] = 1;
    assert_int_equal(mw_dns_longest_label(m.b, m.n), 7);
    m.b[5] = 2;
    /* every cut: the labels whole in it (ASan: no read past the end) */
    for (uint32_t n = 0; n < m.n; n++) {
        uint8_t *cut = test_malloc(n ? n : 1);
        uint8_t got;
        memcpy(cut, m.b, n);
        got = mw_dns_longest_label(cut, n);
        /* the second name's label ends at second + 56 (a cut name's labels count) */
        /* "ems" is whole from byte 16 on, "example" from first_end - 1 (before its 0) */
        assert_int_equal(got, n >= second + 56 ? 55 : n >= first_end - 1 ? 7 : n >= 16 ? 3 : 0);
        test_free(cut);
    }
    /* a forward pointer after the second question's label: refused, the label still counts */
    m.b[second + 56] = 0xc0;
    m.b[second + 57] = 0xff;
    assert_int_equal(mw_dns_longest_label(m.b, m.n), 55);
}

/* A query for name (qdcount 1, type A) into m. */
static void query(buf_t *m, const char *name)
{
    m->n = 0;
    dns_header(m);
    labels(m, name);
    put8(m, 0);
    put16(m, 1);
    put16(m, 1);
}

/* DNS over TCP: messages are read from their starts only, wherever the segments cut them. */
static void test_dns_tcp_stream(void **state)
{
    static const char long_label[] =
            "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.t.example.com";
    buf_t q1, q2, seg = { .n = 0 };
    mw_dns_tcp_t s;
    uint32_t seq = 1000;
    (void)state;

    query(&q1, "www.example.com");
    query(&q2, long_label); /* a 50-byte label */
    /* the length alone in its segment, the message in the next */
    memset(&s, 0, sizeof(s));
    put16(&seg, (uint16_t)q2.n);
    assert_int_equal(mw_dns_tcp_segment(&s, seq, seg.b, seg.n, NULL, 0), 0);
    assert_int_equal(mw_dns_tcp_segment(&s, seq + 2, q2.b, q2.n, NULL, 0), 50);
    /* ... then the same segment again (a retransmission): nothing read twice, no loss */
    assert_int_equal(mw_dns_tcp_segment(&s, seq + 2, q2.b, q2.n, NULL, 0), 0);
    seg.n = 0;
    put16(&seg, (uint16_t)q1.n);
    put(&seg, q1.b, q1.n);
    assert_int_equal(mw_dns_tcp_segment(&s, seq + 2 + q2.n, seg.b, seg.n, NULL, 0), 7);
    /* two queries in one segment (RFC 7766 pipelining): the second is read too */
    memset(&s, 0, sizeof(s));
    seg.n = 0;
    put16(&seg, (uint16_t)q1.n);
    put(&seg, q1.b, q1.n);
    put16(&seg, (uint16_t)q2.n);
    put(&seg, q2.b, q2.n);
    assert_int_equal(mw_dns_tcp_segment(&s, seq, seg.b, seg.n, NULL, 0), 50);
    /* a message cut across segments: its continuation is not read as a message */
    memset(&s, 0, sizeof(s));
    seg.n = 0;
    put16(&seg, (uint16_t)(q1.n + 200)); /* longer than what follows in this segment */
    put(&seg, q1.b, q1.n);
    assert_int_equal(mw_dns_tcp_segment(&s, seq, seg.b, seg.n, NULL, 0), 7);
    {
        uint8_t rest[200];
        memset(rest, 50, sizeof(rest)); /* bytes that would read as a 50-byte label */
        assert_int_equal(mw_dns_tcp_segment(&s, seq + seg.n, rest, sizeof(rest), NULL, 0), 0);
    }
    seg.n = 0;
    put16(&seg, (uint16_t)q2.n);
    put(&seg, q2.b, q2.n);
    assert_int_equal(mw_dns_tcp_segment(&s, seq + (q1.n + 202), seg.b, seg.n, NULL, 0), 50);
    /* a gap (a segment never seen): no more reading on this connection */
    assert_int_equal(mw_dns_tcp_segment(&s, seq + 5000, seg.b, seg.n, NULL, 0), 0);
    assert_int_equal(mw_dns_tcp_segment(&s, seq + 5000 + seg.n, seg.b, seg.n, NULL, 0), 0);
    /* picked up mid-message: what it took for a start is no query, so it stops */
    memset(&s, 0, sizeof(s));
    {
        uint8_t junk[64];
        memset(junk, 'A', sizeof(junk));
        assert_int_equal(mw_dns_tcp_segment(&s, seq, junk, sizeof(junk), NULL, 0), 0);
    }
    assert_int_equal(mw_dns_tcp_segment(&s, seq + 64, seg.b, seg.n, NULL, 0), 0);
    /* sequence numbers wrap */
    memset(&s, 0, sizeof(s));
    seg.n = 0;
    put16(&seg, (uint16_t)q1.n);
    put(&seg, q1.b, q1.n);
    assert_int_equal(mw_dns_tcp_segment(&s, 0xffffffffu - 5, seg.b, seg.n, NULL, 0), 7);
    assert_int_equal(mw_dns_tcp_segment(&s, 0xffffffffu - 5 + seg.n, seg.b, seg.n, NULL, 0), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_long_name_and_case),
        cmocka_unit_test(test_dns_pointers),
        cmocka_unit_test(test_dns_longest_label),
        cmocka_unit_test(test_dns_tcp_stream),
        cmocka_unit_test(test_tls_sni),
        cmocka_unit_test(test_http_host),
        cmocka_unit_test(test_extends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
