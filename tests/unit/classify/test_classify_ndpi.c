/*
 * test_classify_ndpi.c - the classifier's waiting packets: a TCP flow's
 * first packets without payload wait outside nDPI's state, and nDPI still
 * names the flow as if it had seen them at once - an HTTP request after its
 * handshake, a scan's lone SYN guessed by its port at the end - while a UDP
 * flow gets nDPI state with its first packet. On every shared capture (when
 * ../shared is there) every flow gets the same labels with and without
 * waiting.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

#include "classify/classify_ndpi.h"
#include "core/mw.h"
#include "decode/decode.h"
#include "flow/flow_key.h"
#include "flow/flow_record.h"

#define CLIENT 0x0a000001u /* 10.0.0.1 */
#define SERVER 0xc0000201u /* 192.0.2.1 */

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* An IPv4/TCP packet (no options) between the client's port 43210 and server_port into
 * buf; returns its length. */
static uint32_t tcp_packet(uint8_t *buf, int from_client, uint16_t server_port, uint8_t flags,
        uint32_t seq, uint32_t ack, const char *payload)
{
    size_t n = payload ? strlen(payload) : 0;
    uint8_t *tcp = buf + 20;

    memset(buf, 0, 40);
    buf[0] = 0x45;
    put16(buf + 2, (uint16_t)(40 + n));
    buf[8] = 64;
    buf[9] = 6;
    put32(buf + 12, from_client ? CLIENT : SERVER);
    put32(buf + 16, from_client ? SERVER : CLIENT);
    put16(tcp, from_client ? 43210 : server_port);
    put16(tcp + 2, from_client ? server_port : 43210);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    memcpy(buf + 40, payload ? payload : "", n);
    return (uint32_t)(40 + n);
}

static int feed_port(mw_classifier_t *c, void **state, uint32_t *seen, mw_flow_record_t *rec,
        uint16_t server_port, int from_client, uint8_t flags, uint32_t seq, uint32_t ack,
        const char *payload)
{
    uint8_t buf[512];
    uint32_t len = tcp_packet(buf, from_client, server_port, flags, seq, ack, payload);

    ++*seen;
    return mw_classifier_process(
            c, state, buf, len, len - 40, 1700000000000000 + *seen * 1000, *seen, rec);
}

static int feed(mw_classifier_t *c, void **state, uint32_t *seen, mw_flow_record_t *rec,
        int from_client, uint8_t flags, uint32_t seq, uint32_t ack, const char *payload)
{
    return feed_port(c, state, seen, rec, 80, from_client, flags, seq, ack, payload);
}

/* A classifier (waiting or not) and an empty record of protocol l4 for its flow. */
static mw_classifier_t *classifier(int waiting, mw_flow_record_t *rec, uint8_t l4)
{
    char err[MW_ERRBUF_SIZE];
    mw_classifier_t *c = mw_classifier_create(err, sizeof(err));

    assert_non_null(c);
    mw_classifier_set_waiting(c, waiting);
    memset(rec, 0, sizeof(*rec));
    rec->l4_proto = l4;
    return c;
}

/* Flows holding nDPI state, and flows whose packets wait. */
static void assert_live(const mw_classifier_t *c, size_t states, size_t waiting)
{
    size_t pending = 0;

    assert_int_equal(mw_classifier_live(c, &pending), states);
    assert_int_equal(pending, waiting);
}

/* The packets that waited reach nDPI before the first one with data, as if at once: it
 * counts all of them, waiting or not. */
static void test_waiting_packets_reach_ndpi(void **unused)
{
    mw_classifier_t *c[2];
    mw_flow_record_t rec[2];
    void *state[2] = { NULL, NULL };
    uint32_t seen[2] = { 0, 0 };
    int i;
    (void)unused;

    for (i = 0; i < 2; i++) {
        c[i] = classifier(i == 0, &rec[i], 6);
        feed_port(c[i], &state[i], &seen[i], &rec[i], 40001, 1, SYN, 1000, 0, NULL);
        feed_port(c[i], &state[i], &seen[i], &rec[i], 40001, 0, SYN | ACK, 5000, 1001, NULL);
    }
    assert_int_equal(mw_classifier_flow_packets(state[0]), 0); /* waiting */
    assert_int_equal(mw_classifier_flow_packets(state[1]), 2);
    for (i = 0; i < 2; i++) /* bytes nDPI cannot name: it wants more */
        assert_int_equal(feed_port(c[i], &state[i], &seen[i], &rec[i], 40001, 1, PSH | ACK, 1001,
                                 5001, "\x17\x42\x99 not a protocol \x01\x02"),
                0);
    assert_int_equal(mw_classifier_flow_packets(state[0]), 3);
    assert_int_equal(mw_classifier_flow_packets(state[1]), 3);
    for (i = 0; i < 2; i++) {
        mw_classifier_finish(c[i], &state[i], &rec[i]);
        assert_null(state[i]);
    }
    assert_int_equal(rec[0].app_proto, rec[1].app_proto);
    mw_classifier_destroy(c[0]);
    mw_classifier_destroy(c[1]);
}

/* An HTTP request and its answer into c, for a flow that has seen its handshake: the
 * detection's result (1 over), state freed. No cmocka assert: it runs on other threads. */
static int http_exchange(mw_classifier_t *c, void **state, uint32_t *seen, mw_flow_record_t *rec)
{
    int rc = feed(c, state, seen, rec, 1, PSH | ACK, 1001, 5001,
            "GET /index.html HTTP/1.1\r\nHost: oam.example.net\r\nUser-Agent: curl/8\r\n"
            "Accept: */*\r\n\r\n");

    if (rc == 0)
        rc = feed(c, state, seen, rec, 0, PSH | ACK, 5001, 1081,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok");
    if (rc == 0)
        mw_classifier_finish(c, state, rec);
    return *state == NULL;
}

static void test_handshake_waits_and_request_is_named(void **unused)
{
    mw_flow_record_t rec;
    mw_classifier_t *c = classifier(1, &rec, 6);
    void *state = NULL;
    uint32_t seen = 0;
    (void)unused;

    assert_int_equal(feed(c, &state, &seen, &rec, 1, SYN, 1000, 0, NULL), 0);
    assert_int_equal(feed(c, &state, &seen, &rec, 0, SYN | ACK, 5000, 1001, NULL), 0);
    /* two header-only packets wait: no nDPI state yet */
    assert_live(c, 0, 1);
    /* the ACK does not fit any more: nDPI gets the flow's state and all three packets */
    assert_int_equal(feed(c, &state, &seen, &rec, 1, ACK, 1001, 5001, NULL), 0);
    assert_live(c, 1, 0);
    assert_true(http_exchange(c, &state, &seen, &rec));
    assert_null(state);
    assert_string_equal(mw_classifier_protocol_name(c, rec.app_proto), "HTTP");
    assert_string_equal(rec.host, "oam.example.net");
    assert_live(c, 0, 0);
    mw_classifier_destroy(c);
}

typedef struct {
    mw_classifier_t *c;
    const mw_classifier_t *pristine; /* non-NULL: c is a copy of it */
    mw_flow_record_t rec;
    int named;
} thread_job_t;

static void *build_on_thread(void *arg)
{
    thread_job_t *job = arg;
    char err[MW_ERRBUF_SIZE];

    job->c = job->pristine != NULL ? mw_classifier_copy(job->pristine, err, sizeof(err))
                                   : mw_classifier_create(err, sizeof(err));
    return NULL;
}

static void *detect_on_thread(void *arg)
{
    thread_job_t *job = arg;
    void *state = NULL;
    uint32_t seen = 0;

    memset(&job->rec, 0, sizeof(job->rec));
    job->rec.l4_proto = 6;
    feed(job->c, &state, &seen, &job->rec, 1, SYN, 1000, 0, NULL);
    feed(job->c, &state, &seen, &job->rec, 0, SYN | ACK, 5000, 1001, NULL);
    feed(job->c, &state, &seen, &job->rec, 1, ACK, 1001, 5001, NULL);
    job->named = http_exchange(job->c, &state, &seen, &job->rec);
    return NULL;
}

/* A module's tables come from an arena that nDPI's allocation hooks name per thread while
 * it is built or freed; the engine builds the first worker's module on one thread, detects
 * on another and frees it on a third (ASan: nothing of the arena reaches free()), and the
 * other workers' modules are copies of it, reading its tables. A module and its copy detect
 * at once (TSan), and the tables they share are as built afterwards (MW_CHECK_TABLES: the
 * first module's free aborts otherwise); a module that has dissected is no longer copied. */
static void test_module_tables_across_threads(void **unused)
{
    thread_job_t job[2] = { { 0 }, { 0 } };
    pthread_t t[2];
    char err[MW_ERRBUF_SIZE] = "";
    int i;
    (void)unused;

    assert_int_equal(setenv("MW_CHECK_TABLES", "1", 1), 0);
    for (i = 0; i < 2; i++) { /* one after the other: the copy needs the first */
        job[i].pristine = i == 1 ? job[0].c : NULL;
        assert_int_equal(pthread_create(&t[i], NULL, build_on_thread, &job[i]), 0);
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_non_null(job[i].c);
        /* nDPI 4.2 puts about 5 MB of IP lists and host names there; a copy holds its
         * module struct only (240 kB), reading the first one's */
        if (i == 0)
            assert_true(mw_classifier_module_bytes(job[i].c) > (1u << 20));
        else
            assert_true(mw_classifier_module_bytes(job[i].c) < (1u << 20));
    }
    for (i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, detect_on_thread, &job[i]), 0);
    for (i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_true(job[i].named);
        assert_string_equal(mw_classifier_protocol_name(job[i].c, job[i].rec.app_proto), "HTTP");
        assert_string_equal(job[i].rec.host, "oam.example.net");
    }
    assert_null(mw_classifier_copy(job[0].c, err, sizeof(err)));
    assert_string_equal(err, "nDPI: this detection module cannot be copied");
    for (i = 0; i < 2; i++)
        mw_classifier_destroy(job[i].c);
}

static void test_lone_syn_is_guessed_at_the_end(void **unused)
{
    mw_flow_record_t rec;
    mw_classifier_t *c = classifier(1, &rec, 6);
    void *state = NULL;
    uint32_t seen = 0;
    (void)unused;

    assert_int_equal(feed(c, &state, &seen, &rec, 1, SYN, 1000, 0, NULL), 0);
    assert_int_equal(feed(c, &state, &seen, &rec, 0, RST | ACK, 0, 1001, NULL), 0);
    assert_live(c, 0, 1);
    /* the end: nDPI sees the SYN and the RST, then guesses by the port */
    mw_classifier_finish(c, &state, &rec);
    assert_null(state);
    assert_string_equal(mw_classifier_protocol_name(c, rec.app_proto), "HTTP");
    assert_int_equal(rec.ndpi_done, 0);
    assert_live(c, 0, 0);
    mw_classifier_destroy(c);
}

/* An HTTP request never answered: once nDPI has named it and its extra function for the
 * answer has given up, later packets can change nothing nDPI reports. The state goes then
 * (nDPI 4.2 would still say "extra dissection possible" up to the 80-packet limit), and the
 * flow counts as detected, not guessed. */
static void test_finished_flow_leaves_ndpi(void **unused)
{
    mw_flow_record_t rec;
    mw_classifier_t *c = classifier(0, &rec, 6);
    void *state = NULL;
    uint32_t seen = 0;
    int rc;
    (void)unused;

    assert_int_equal(feed(c, &state, &seen, &rec, 1, SYN, 1000, 0, NULL), 0);
    assert_int_equal(feed(c, &state, &seen, &rec, 0, SYN | ACK, 5000, 1001, NULL), 0);
    assert_int_equal(feed(c, &state, &seen, &rec, 1, ACK, 1001, 5001, NULL), 0);
    rc = feed(c, &state, &seen, &rec, 1, PSH | ACK, 1001, 5001,
            "GET /a HTTP/1.1\r\nHost: oam.example.net\r\nUser-Agent: curl/8\r\n\r\n");
    while (rc == 0 && seen < MW_DPI_MAX_TCP_PACKETS - 1) /* the server's bare ACKs */
        rc = feed(c, &state, &seen, &rec, 0, ACK, 5001, 1067, NULL);
    assert_int_equal(rc, 1);
    assert_true(seen < 20);
    assert_null(state);
    assert_live(c, 0, 0);
    assert_string_equal(mw_classifier_protocol_name(c, rec.app_proto), "HTTP");
    assert_string_equal(rec.host, "oam.example.net");
    assert_int_equal(rec.ndpi_done, 1);
    mw_classifier_destroy(c);
}

static void test_udp_gets_state_at_once(void **unused)
{
    mw_flow_record_t rec;
    mw_classifier_t *c = classifier(1, &rec, 17);
    uint8_t buf[64];
    void *state = NULL;
    size_t pending = 0;
    (void)unused;

    memset(buf, 0, sizeof(buf));
    buf[0] = 0x45;
    put16(buf + 2, 28);
    buf[8] = 64;
    buf[9] = 17;
    put32(buf + 12, CLIENT);
    put32(buf + 16, SERVER);
    put16(buf + 20, 40000);
    put16(buf + 22, 5001);
    put16(buf + 24, 8);
    /* an empty datagram goes to nDPI at once (only TCP waits): it holds state or is done */
    if (mw_classifier_process(c, &state, buf, 28, 0, 1700000000000000, 1, &rec) == 0)
        assert_int_equal(mw_classifier_live(c, &pending), 1);
    else
        assert_null(state);
    mw_classifier_live(c, &pending);
    assert_int_equal(pending, 0);
    mw_classifier_finish(c, &state, &rec);
    assert_null(state);
    assert_live(c, 0, 0);
    mw_classifier_destroy(c);
}

/* ---- the shared captures, with and without waiting ---- */

#define MAX_FLOWS (1u << 16) /* per capture; more are not compared */

typedef struct side {
    void *state;
    uint32_t seen;
    mw_flow_record_t rec;
} side_t;

typedef struct cflow {
    mw_flow_key_t key;
    int used;
    side_t side[2]; /* [0] waiting, [1] at once */
} cflow_t;

typedef struct compare {
    mw_classifier_t *c[2];
    cflow_t *flows;
    size_t nflows, differ, compared;
} compare_t;

static cflow_t *find(compare_t *cmp, const mw_flow_key_t *key, uint64_t hash)
{
    size_t i = hash & (MAX_FLOWS - 1), n;

    for (n = 0; n < MAX_FLOWS; n++, i = (i + 1) & (MAX_FLOWS - 1)) {
        cflow_t *f = &cmp->flows[i];
        if (!f->used) {
            if (cmp->nflows >= MAX_FLOWS / 2)
                return NULL;
            f->used = 1;
            f->key = *key;
            f->side[0].rec.l4_proto = f->side[1].rec.l4_proto = key->l4_proto;
            cmp->nflows++;
            return f;
        }
        if (mw_flow_key_equal(&f->key, key))
            return f;
    }
    return NULL;
}

static void one_packet(compare_t *cmp, int dlt, const struct pcap_pkthdr *h, const uint8_t *data)
{
    mw_packet_t p;
    const mw_l3_t *l3;
    mw_flow_key_t key;
    cflow_t *f;
    int a_is_src, s;

    memset(&p, 0, sizeof(p));
    p.ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
    p.wirelen = h->len;
    if (mw_decode_frame(dlt, data, h->caplen, &p) != MW_DEC_OK)
        return;
    l3 = mw_packet_flow_l3(&p);
    if (l3->frag == MW_FRAG_LATER || (l3->l4_proto != 6 && l3->l4_proto != 17))
        return;
    mw_flow_key_make(
            &key, &p, l3, mw_flow_kind_of(&p), p.has_gtp ? mw_flow_tunnel_ctx(&p) : 0, &a_is_src);
    f = find(cmp, &key, mw_flow_key_hash(&key));
    if (f == NULL)
        return;
    for (s = 0; s < 2; s++) {
        side_t *d = &f->side[s];
        if (d->state == NULL && d->seen > 0)
            continue; /* detection over */
        d->seen++;
        if (mw_classifier_process(cmp->c[s], &d->state, data + l3->l3_off, l3->l3_len,
                    l3->payload_len, p.ts_us, d->seen, &d->rec) < 0)
            d->seen--;
    }
}

static void end_capture(compare_t *cmp, const char *name)
{
    size_t i;

    for (i = 0; i < MAX_FLOWS; i++) {
        cflow_t *f = &cmp->flows[i];
        const mw_flow_record_t *a = &f->side[0].rec, *b = &f->side[1].rec;
        if (!f->used)
            continue;
        mw_classifier_finish(cmp->c[0], &f->side[0].state, &f->side[0].rec);
        mw_classifier_finish(cmp->c[1], &f->side[1].state, &f->side[1].rec);
        cmp->compared++;
        if (a->master_proto != b->master_proto || a->app_proto != b->app_proto ||
                a->category != b->category || a->confidence != b->confidence ||
                a->risk != b->risk || a->ndpi_done != b->ndpi_done ||
                strcmp(a->host, b->host) != 0) {
            if (cmp->differ++ < 5)
                printf("%s: a flow is %s/%s waiting, %s/%s at once\n", name,
                        mw_classifier_protocol_name(cmp->c[0], a->master_proto),
                        mw_classifier_protocol_name(cmp->c[0], a->app_proto),
                        mw_classifier_protocol_name(cmp->c[1], b->master_proto),
                        mw_classifier_protocol_name(cmp->c[1], b->app_proto));
        }
    }
    memset(cmp->flows, 0, MAX_FLOWS * sizeof(*cmp->flows));
    cmp->nflows = 0;
}

static void test_shared_captures_same_labels(void **unused)
{
    char err[MW_ERRBUF_SIZE], manifest[4096], line[4096], path[8192];
    compare_t cmp = { 0 };
    size_t files = 0;
    FILE *m;
    (void)unused;

    snprintf(manifest, sizeof(manifest), "%s/captures/MANIFEST.tsv", MW_SHARED_DIR);
    m = fopen(manifest, "r");
    if (m == NULL) {
        print_message("%s is absent: the shared captures are not compared\n", manifest);
        skip();
    }
    cmp.c[0] = mw_classifier_create(err, sizeof(err));
    cmp.c[1] = mw_classifier_create(err, sizeof(err));
    cmp.flows = calloc(MAX_FLOWS, sizeof(*cmp.flows));
    assert_non_null(cmp.c[0]);
    assert_non_null(cmp.c[1]);
    assert_non_null(cmp.flows);
    mw_classifier_set_waiting(cmp.c[1], 0);
    /* every capture of the manifest (first column) that libpcap opens */
    while (fgets(line, sizeof(line), m) != NULL) {
        char perr[PCAP_ERRBUF_SIZE];
        struct pcap_pkthdr *h;
        const u_char *data;
        pcap_t *pc;

        line[strcspn(line, "\t\n")] = '\0';
        snprintf(path, sizeof(path), "%s/captures/%s", MW_SHARED_DIR, line);
        pc = pcap_open_offline(path, perr);
        if (pc == NULL)
            continue; /* the header line, compressed captures */
        while (pcap_next_ex(pc, &h, &data) == 1)
            one_packet(&cmp, pcap_datalink(pc), h, data);
        pcap_close(pc);
        end_capture(&cmp, line);
        files++;
    }
    fclose(m);
    printf("%zu flows of %zu captures: %zu with other labels\n", cmp.compared, files, cmp.differ);
    assert_true(files > 200);
    assert_true(cmp.compared > 4000);
    assert_int_equal(cmp.differ, 0);
    assert_live(cmp.c[0], 0, 0);
    free(cmp.flows);
    mw_classifier_destroy(cmp.c[0]);
    mw_classifier_destroy(cmp.c[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_waits_and_request_is_named),
        cmocka_unit_test(test_lone_syn_is_guessed_at_the_end),
        cmocka_unit_test(test_udp_gets_state_at_once),
        cmocka_unit_test(test_finished_flow_leaves_ndpi),
        cmocka_unit_test(test_waiting_packets_reach_ndpi),
        cmocka_unit_test(test_shared_captures_same_labels),
        cmocka_unit_test(test_module_tables_across_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
