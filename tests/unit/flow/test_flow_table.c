/*
 * test_flow_table.c - flow table behaviour on hand-made packets: direction
 * of each packet, idle and active splitting, the max_flows cap with LRU
 * eviction, port reuse after FIN, and that per-flow statistics add up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flow/flow_table.h"

#define MAX_EMITTED 64

typedef struct {
    mw_flow_record_t recs[MAX_EMITTED];
    int n;
} sink_t;

static void on_emit(void *ctx, mw_flow_t *f, enum mw_end_reason reason)
{
    sink_t *s = ctx;
    (void)reason;
    if (s->n < MAX_EMITTED)
        s->recs[s->n++] = f->rec;
}

static mw_flow_table_t *make_table(sink_t *s, uint32_t max_flows)
{
    mw_flow_table_params_t p = { .max_flows = max_flows,
        .idle_timeout_us = 10 * 1000000LL,
        .active_timeout_us = 100 * 1000000LL,
        .emit = on_emit,
        .emit_ctx = s };
    char err[128];
    mw_flow_table_t *t = mw_flow_table_create(&p, err, sizeof(err));
    assert_non_null(t);
    return t;
}

/* A UDP/TCP packet a.b -> c.d at time t (seconds), frame number frame. */
static void packet(mw_packet_t *p, uint8_t src_last, uint16_t sport, uint8_t dst_last,
        uint16_t dport, uint8_t proto, uint8_t flags, double t, uint64_t frame, uint32_t len)
{
    memset(p, 0, sizeof(*p));
    p->ts_us = (int64_t)(t * 1e6);
    p->frame = frame;
    p->wirelen = len;
    p->outer.ip_version = 4;
    p->outer.l4_proto = proto;
    p->outer.src[10] = p->outer.src[11] = p->outer.dst[10] = p->outer.dst[11] = 0xff;
    p->outer.src[12] = 10;
    p->outer.src[15] = src_last;
    p->outer.dst[12] = 10;
    p->outer.dst[15] = dst_last;
    p->outer.sport = sport;
    p->outer.dport = dport;
    p->outer.tcp_flags = flags;
    p->outer.ip_len = len - 14;
}

static mw_flow_t *feed(mw_flow_table_t *t, mw_packet_t *p, int *dir)
{
    return mw_flow_table_account(t, p, &p->outer, MW_FLOW_PLAIN, 0, 0, dir);
}

static void test_directions_and_stats(void **state)
{
    sink_t s = { .n = 0 };
    mw_flow_table_t *t = make_table(&s, 100);
    mw_packet_t p;
    int dir;
    (void)state;

    /* responder (lower address) answers: still one flow, initiator = first sender */
    packet(&p, 9, 40000, 1, 161, 17, 0, 1.0, 1, 100);
    feed(t, &p, &dir);
    assert_int_equal(dir, 0);
    packet(&p, 1, 161, 9, 40000, 17, 0, 1.5, 2, 300);
    feed(t, &p, &dir);
    assert_int_equal(dir, 1);
    packet(&p, 9, 40000, 1, 161, 17, 0, 2.0, 3, 200);
    feed(t, &p, &dir);
    mw_flow_table_flush(t, MW_END_EOF);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.recs[0].flow_id, 2);
    assert_int_equal(s.recs[0].src_port, 40000);
    assert_int_equal(s.recs[0].c2s.packets, 2);
    assert_int_equal(s.recs[0].s2c.packets, 1);
    assert_int_equal(s.recs[0].c2s.bytes, 300);
    assert_true(s.recs[0].c2s.len_mean > 149.9f && s.recs[0].c2s.len_mean < 150.1f);
    assert_true(s.recs[0].c2s.len_std > 49.9f && s.recs[0].c2s.len_std < 50.1f);
    assert_true(s.recs[0].c2s.iat_mean > 999.0f && s.recs[0].c2s.iat_mean < 1001.0f);
    assert_int_equal(s.recs[0].end_reason, MW_END_EOF);
    mw_flow_table_destroy(t);
}

static void test_idle_and_active_split(void **state)
{
    sink_t s = { .n = 0 };
    mw_flow_table_t *t = make_table(&s, 100);
    mw_packet_t p;
    int dir;
    (void)state;

    packet(&p, 1, 1000, 2, 2000, 17, 0, 0.0, 1, 60);
    feed(t, &p, &dir);
    /* 11 s gap > 10 s idle: new record on the next packet */
    packet(&p, 1, 1000, 2, 2000, 17, 0, 11.0, 2, 60);
    feed(t, &p, &dir);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.recs[0].end_reason, MW_END_IDLE);
    /* a packet every 5 s for 120 s: active timeout (100 s) splits once */
    for (int i = 1; i <= 24; i++) {
        packet(&p, 1, 1000, 2, 2000, 17, 0, 11.0 + 5.0 * i, (uint64_t)(2 + i), 60);
        feed(t, &p, &dir);
    }
    assert_int_equal(s.n, 2);
    assert_int_equal(s.recs[1].end_reason, MW_END_ACTIVE);
    /* the sweep expires what stayed idle */
    mw_flow_table_expire(t, (int64_t)(500 * 1e6));
    assert_int_equal(s.n, 3);
    assert_int_equal(s.recs[2].end_reason, MW_END_IDLE);
    mw_flow_table_destroy(t);
}

/* Aligned (the timeout is the baseline's window): a record ends where packet time crosses a
 * multiple of the timeout, so a window holds what was sent in it; a packet from an earlier
 * slot (the clock going back) does not cut. Unaligned, the same packets make one record. */
static void test_active_split_at_window_edges(void **state)
{
    const double w = 300.0, t0 = 1794182400.0 + 7 * 3600; /* Mon 07:00 UTC, an edge */
    for (int aligned = 0; aligned < 2; aligned++) {
        sink_t s = { .n = 0 };
        mw_flow_table_params_t prm = { .max_flows = 10,
            .idle_timeout_us = 600 * 1000000LL,
            .active_timeout_us = (int64_t)(w * 1e6),
            .active_aligned = aligned,
            .emit = on_emit,
            .emit_ctx = &s };
        char err[128];
        mw_flow_table_t *t = mw_flow_table_create(&prm, err, sizeof(err));
        const double at[] = { -180, -60, 30, 20, 60 }; /* 06:57, 06:59, 07:00:30, back, 07:01 */
        mw_packet_t p;
        int dir;
        (void)state;

        assert_non_null(t);
        for (int i = 0; i < 5; i++) {
            packet(&p, 1, 40000, 2, 22, 6, 0x10, t0 + at[i], (uint64_t)(i + 1), 1000);
            feed(t, &p, &dir);
        }
        mw_flow_table_flush(t, MW_END_EOF);
        if (!aligned) {
            assert_int_equal(s.n, 1); /* 4 min: under the timeout */
        } else {
            assert_int_equal(s.n, 2);
            assert_int_equal(s.recs[0].end_reason, MW_END_ACTIVE);
            assert_int_equal(s.recs[0].c2s.packets, 2);
            assert_true(s.recs[0].last_us < (int64_t)(t0 * 1e6));
            assert_int_equal(s.recs[1].first_us, (int64_t)((t0 + 30) * 1e6));
            assert_int_equal(s.recs[1].c2s.packets, 3);
        }
        mw_flow_table_destroy(t);
    }
}

static void test_cap_evicts_lru(void **state)
{
    sink_t s = { .n = 0 };
    mw_flow_table_t *t = make_table(&s, 4);
    mw_flow_table_stats_t st;
    mw_packet_t p;
    int dir;
    (void)state;

    for (int i = 0; i < 4; i++) {
        packet(&p, 1, (uint16_t)(1000 + i), 2, 53, 17, 0, 1.0 + i, (uint64_t)(i + 1), 80);
        feed(t, &p, &dir);
    }
    /* touch flow 0 so flow 1 is the least recently used */
    packet(&p, 1, 1000, 2, 53, 17, 0, 5.0, 5, 80);
    feed(t, &p, &dir);
    packet(&p, 1, 2000, 2, 53, 17, 0, 6.0, 6, 80);
    feed(t, &p, &dir);
    mw_flow_table_get_stats(t, &st);
    assert_int_equal(st.evicted, 1);
    assert_int_equal(st.active, 4);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.recs[0].src_port, 1001);
    assert_int_equal(s.recs[0].end_reason, MW_END_EVICTED);
    mw_flow_table_destroy(t);
}

/* 20,000 live flows (the buckets start at 1,024 and double as flows arrive): after the
 * growth every flow is found again by its answer, none is created twice or lost. */
static void test_buckets_grow_with_live_flows(void **state)
{
    sink_t s = { .n = 0 };
    mw_flow_table_t *t = make_table(&s, 100000);
    mw_flow_table_stats_t st;
    mw_packet_t p;
    int dir, i;
    (void)state;

    for (i = 0; i < 20000; i++) {
        packet(&p, (uint8_t)(1 + i % 200), (uint16_t)(1024 + i / 200), 2, 53, 17, 0, 1.0,
                (uint64_t)(i + 1), 80);
        assert_non_null(feed(t, &p, &dir));
        assert_int_equal(dir, 0);
    }
    for (i = 0; i < 20000; i++) {
        mw_flow_t *f;
        packet(&p, 2, 53, (uint8_t)(1 + i % 200), (uint16_t)(1024 + i / 200), 17, 0, 2.0,
                (uint64_t)(20001 + i), 120);
        f = feed(t, &p, &dir);
        assert_non_null(f);
        assert_int_equal(dir, 1); /* the answer of the flow made above, not a new one */
        assert_int_equal(f->rec.flow_id, (uint64_t)(i + 1) * 2);
    }
    mw_flow_table_get_stats(t, &st);
    assert_int_equal(st.created, 20000);
    assert_int_equal(st.active, 20000);
    assert_int_equal(st.evicted, 0);
    mw_flow_table_flush(t, MW_END_EOF);
    mw_flow_table_get_stats(t, &st);
    assert_int_equal(st.emitted, 20000);
    assert_int_equal(st.active, 0);
    mw_flow_table_destroy(t);
}

/* An open TCP connection survives a gap that ends a UDP flow; a closed one does not. */
static void test_tcp_idle_class(void **state)
{
    sink_t s = { .n = 0 };
    mw_flow_table_params_t params = { .max_flows = 10,
        .idle_timeout_us = 10 * 1000000LL,
        .tcp_idle_timeout_us = 60 * 1000000LL,
        .active_timeout_us = 1000 * 1000000LL,
        .emit = on_emit,
        .emit_ctx = &s };
    char err[128];
    mw_flow_table_t *t = mw_flow_table_create(&params, err, sizeof(err));
    mw_packet_t p;
    int dir;
    (void)state;

    packet(&p, 1, 5000, 2, 22, 6, 0x02, 0.0, 1, 60); /* TCP, open */
    feed(t, &p, &dir);
    packet(&p, 1, 6000, 2, 161, 17, 0, 0.0, 2, 60); /* UDP */
    feed(t, &p, &dir);
    mw_flow_table_expire(t, (int64_t)(30 * 1e6));
    assert_int_equal(s.n, 1);
    assert_int_equal(s.recs[0].l4_proto, 17);
    packet(&p, 1, 5000, 2, 22, 6, 0x10, 40.0, 3, 60); /* 40 s later: same record */
    feed(t, &p, &dir);
    assert_int_equal(s.n, 1);
    packet(&p, 1, 5000, 2, 22, 6, 0x11, 41.0, 4, 60); /* FIN: short timeout from now on */
    feed(t, &p, &dir);
    mw_flow_table_expire(t, (int64_t)(52 * 1e6));
    assert_int_equal(s.n, 2);
    assert_int_equal(s.recs[1].c2s.packets, 3);
    mw_flow_table_destroy(t);
}

static void test_port_reuse_after_fin(void **state)
{
    sink_t s = { .n = 0 };
    mw_flow_table_t *t = make_table(&s, 10);
    mw_packet_t p;
    int dir;
    (void)state;

    packet(&p, 1, 5000, 2, 22, 6, 0x02, 1.0, 1, 60);
    feed(t, &p, &dir);
    packet(&p, 1, 5000, 2, 22, 6, 0x11, 2.0, 2, 60);
    feed(t, &p, &dir);
    packet(&p, 2, 22, 1, 5000, 6, 0x11, 2.1, 3, 60);
    feed(t, &p, &dir);
    assert_int_equal(s.n, 0);
    /* a new SYN on the closed connection starts a new flow */
    packet(&p, 1, 5000, 2, 22, 6, 0x02, 3.0, 4, 60);
    feed(t, &p, &dir);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.recs[0].end_reason, MW_END_TCP_CLOSE);
    assert_int_equal(s.recs[0].c2s.tcp_flags, 0x13);
    mw_flow_table_destroy(t);
}

/* What the first packet says of the opening: a request or a SYN (-ACK) is the session's
 * start, an answer of a connectionless exchange is not (its request was missed). */
static void test_start_seen_from_first_packet(void **state)
{
    static const struct {
        uint8_t proto, handshake, flags, want_start;
        const char *what;
    } cases[] = {
        { 17, MW_HS_NONE, 0, 1, "a datagram saying nothing" },
        { 17, MW_HS_OPEN, 0, 1, "a DNS query" },
        { 17, MW_HS_ACCEPT, 0, 0, "a DNS answer, its query missed" },
        { 1, MW_HS_ACCEPT, 0, 0, "an echo reply" },
        { 6, MW_HS_OPEN, 0x02, 1, "a SYN" },
        { 6, MW_HS_ACCEPT, 0x12, 1, "a SYN-ACK, a packet late" },
        { 6, MW_HS_NONE, 0x10, 0, "an ACK mid-session" },
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sink_t s = { .n = 0 };
        mw_flow_table_t *t = make_table(&s, 100);
        mw_packet_t p;
        int dir;

        packet(&p, 1, 53, 9, 40000, cases[i].proto, cases[i].flags, 1.0, 1, 100);
        p.outer.handshake = cases[i].handshake;
        feed(t, &p, &dir);
        mw_flow_table_flush(t, MW_END_EOF);
        assert_int_equal(s.n, 1);
        if (s.recs[0].start_seen != cases[i].want_start)
            fail_msg("%s: start_seen %u, want %u", cases[i].what, s.recs[0].start_seen,
                    cases[i].want_start);
        mw_flow_table_destroy(t);
    }
}

/* refused_by names the side all of whose packets refused: a closed port's RST, a UDP
 * probe's port unreachable (the decoder hands it over as the flow's own answer); a side that
 * sent anything else took part. */
static void test_refused_by(void **state)
{
    static const struct {
        uint8_t proto, flags1, refusal1, flags2, refusal2, want;
        const char *what;
    } cases[] = {
        { 6, 0x14, MW_REFUSAL_RESET, 0, 0, MW_SIDE_DST, "a SYN and its RST" },
        { 17, 0, MW_REFUSAL_ICMP, 0, 0, MW_SIDE_DST, "a datagram and its port unreachable" },
        { 6, 0x12, 0, 0x14, MW_REFUSAL_RESET, MW_SIDE_NONE, "SYN-ACK, then a RST" },
        { 17, 0, 0, 0, MW_REFUSAL_ICMP, MW_SIDE_NONE, "an answer, then an unreachable" },
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sink_t s = { .n = 0 };
        mw_flow_table_t *t = make_table(&s, 100);
        mw_packet_t p;
        int dir;

        packet(&p, 9, 40000, 1, 161, cases[i].proto, cases[i].proto == 6 ? 0x02 : 0, 1.0, 1, 60);
        feed(t, &p, &dir);
        packet(&p, 1, 161, 9, 40000, cases[i].proto, cases[i].flags1, 1.1, 2, 70);
        p.outer.refusal = cases[i].refusal1;
        feed(t, &p, &dir);
        if (cases[i].flags2 != 0 || cases[i].refusal2 != 0) {
            packet(&p, 1, 161, 9, 40000, cases[i].proto, cases[i].flags2, 1.2, 3, 70);
            p.outer.refusal = cases[i].refusal2;
            feed(t, &p, &dir);
        }
        mw_flow_table_flush(t, MW_END_EOF);
        assert_int_equal(s.n, 1);
        if (s.recs[0].refused_by != cases[i].want)
            fail_msg("%s: refused_by %u, want %u", cases[i].what, s.recs[0].refused_by,
                    cases[i].want);
        /* swapped sides swap it */
        mw_flow_record_swap(&s.recs[0]);
        assert_int_equal(
                s.recs[0].refused_by, cases[i].want == MW_SIDE_DST ? MW_SIDE_SRC : MW_SIDE_NONE);
        mw_flow_table_destroy(t);
    }
    /* a refusal with nothing before it from the other side (one way of a SPAN port) refuses
     * nothing seen, and says only that its receiver had sent something: the receiver stands
     * as the opener, a guess, no session start */
    {
        sink_t s = { .n = 0 };
        mw_flow_table_t *t = make_table(&s, 100);
        mw_packet_t p;
        int dir;

        packet(&p, 1, 161, 9, 40000, 17, 0, 1.0, 1, 70);
        p.outer.refusal = MW_REFUSAL_ICMP;
        feed(t, &p, &dir);
        mw_flow_table_flush(t, MW_END_EOF);
        assert_int_equal(s.n, 1);
        assert_int_equal(s.recs[0].refused_by, MW_SIDE_NONE);
        assert_int_equal(s.recs[0].src_port, 40000);
        assert_int_equal(s.recs[0].start_seen, 0);
        assert_int_equal(s.recs[0].orient, MW_ORIENT_FIRST_PACKET);
        mw_flow_table_destroy(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directions_and_stats),
        cmocka_unit_test(test_idle_and_active_split),
        cmocka_unit_test(test_active_split_at_window_edges),
        cmocka_unit_test(test_cap_evicts_lru),
        cmocka_unit_test(test_buckets_grow_with_live_flows),
        cmocka_unit_test(test_tcp_idle_class),
        cmocka_unit_test(test_port_reuse_after_fin),
        cmocka_unit_test(test_start_seen_from_first_packet),
        cmocka_unit_test(test_refused_by),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
