/*
 * test_baseline.c - training, merging and every detector on hand-made flow
 * record series: a site of one base station, records built field by field,
 * anomalies read back from the JSON lines. Edge cases: a single window of
 * training, a constant series (zero spread), a day-long gap, timestamps
 * going backwards, regular versus jittery beacons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "baseline/model.h"
#include "classify/classify_ndpi.h"
#include "baseline/trainer.h"
#include "classify/inventory.h"
#include "classify/plane.h"
#include "classify/roles.h"
#include "detect/detect_run.h"
#include "output/anomaly_sinks.h"

#define DAY (86400LL * 1000000)
#define MIN (60LL * 1000000)
#define T0  1794182400000000LL /* 2026-11-09 00:00 UTC, a Monday */

static const char *const names[] = { "Unknown", "TLS", "SSH", "DNS", "NTP", "SNMP", "Telnet",
    "FTP_DATA" };
enum { P_UNKNOWN, P_TLS, P_SSH, P_DNS, P_NTP, P_SNMP, P_TELNET, P_FTP_DATA };

static const char *name_of(void *ctx, unsigned id)
{
    (void)ctx;
    return id < sizeof(names) / sizeof(names[0]) ? names[id] : "";
}

static const char *const site_yaml =
        "site: t\nmaintenance_windows:\n  - days: [sun]\n    start: \"02:00\"\n"
        "    end: \"04:00\"\nbase_stations:\n  - id: enb-1\n    type: enb\n"
        "    prefixes: [10.0.0.1/32]\n%sroles:\n  ems: [10.9.0.1/32]\n"
        "  ntp: [10.9.0.2/32]\n  dns: [10.9.0.3/32]\n  ptp: [10.9.0.4/32]\n";

/* The test site; extra = more base stations (YAML list items). */
static mw_inventory_t *site_with(const char *extra)
{
    char path[] = "/tmp/mw_test_site_XXXXXX";
    int fd = mkstemp(path);
    char yaml[1024];
    char err[256];
    mw_inventory_t *inv;

    snprintf(yaml, sizeof(yaml), site_yaml, extra);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    inv = mw_inventory_load(path, err, sizeof(err));
    unlink(path);
    assert_non_null(inv);
    return inv;
}

static mw_inventory_t *site(void)
{
    return site_with("");
}

static uint64_t v4(int a, int b, int c, int d)
{
    return 0xffff00000000ULL | (uint64_t)a << 24 | (uint64_t)b << 16 | (uint64_t)c << 8 |
           (uint64_t)d;
}

/* A flow opened by the base station (10.0.0.1) unless peer_opens. */
static mw_flow_record_t flow(int64_t t, uint64_t peer, uint16_t port, uint16_t app,
        unsigned service, unsigned plane, unsigned peer_role, int peer_opens, uint64_t up,
        uint64_t down)
{
    mw_flow_record_t r;
    static uint64_t next_id = 2;

    memset(&r, 0, sizeof(r));
    r.flow_id = next_id += 2;
    r.first_us = t;
    r.last_us = t + 1000000;
    r.ip_version = 4;
    r.l4_proto = service == MW_SVC_NTP || service == MW_SVC_DNS || service == MW_SVC_SNMP ? 17 : 6;
    r.bs_index = 1;
    r.plane = (uint8_t)plane;
    r.local_role = MW_ROLE_BASE_STATION;
    r.peer_role = (uint8_t)peer_role;
    r.service = (uint16_t)service;
    r.app_proto = app;
    r.start_seen = 1; /* a whole session, opening seen */
    r.orient = MW_ORIENT_HANDSHAKE;
    if (peer_opens) {
        r.src_lo = peer;
        r.dst_lo = v4(10, 0, 0, 1);
        r.src_port = 40000;
        r.dst_port = port;
        r.initiator = MW_INIT_PEER;
        r.c2s.bytes = down;
        r.s2c.bytes = up;
    } else {
        r.src_lo = v4(10, 0, 0, 1);
        r.dst_lo = peer;
        r.src_port = 50000;
        r.dst_port = port;
        r.initiator = MW_INIT_BASE_STATION;
        r.c2s.bytes = up;
        r.s2c.bytes = down;
    }
    r.c2s.len_max = r.s2c.len_max = 100;
    /* packets both ways when bytes went both ways (a one-way record is made so by a test) */
    r.c2s.packets = r.c2s.bytes ? 1 + r.c2s.bytes / 1400 : 0;
    r.s2c.packets = r.s2c.bytes ? 1 + r.s2c.bytes / 1400 : 0;
    /* nDPI read the payload: data pushed both ways */
    r.confidence = (uint8_t)mw_classifier_confidence_dpi();
    if (r.l4_proto == 6)
        r.c2s.tcp_flags = r.s2c.tcp_flags = 0x18;
    return r;
}

/* The same session as a capture that began with its answer shows it (or one way of a SPAN
 * port): nothing said who opened it, so its first packet's sender stands as src. */
static mw_flow_record_t seen_from_answer(mw_flow_record_t r)
{
    mw_flow_record_swap(&r);
    r.initiator = r.initiator == MW_INIT_PEER ? MW_INIT_BASE_STATION : MW_INIT_PEER;
    r.orient = MW_ORIENT_FIRST_PACKET;
    r.start_seen = 0;
    return r;
}

/* A week of normal OAM: SNMP polls from the EMS every 10 min, PM upload (SSH) every 15 min,
 * NTP every 5 min, one DNS query an hour. Every upload is exactly 5000 bytes (zero spread). */
static void normal_day(mw_flow_record_t *out, size_t *n, int64_t day0)
{
    int64_t t;

    for (t = day0; t < day0 + DAY; t += 5 * MIN) {
        if ((t - day0) % (10 * MIN) == 0)
            out[(*n)++] = flow(t, v4(10, 9, 0, 1), 161, P_SNMP, MW_SVC_SNMP, MW_PLANE_MANAGEMENT,
                    MW_ROLE_EMS, 1, 200, 100);
        if ((t - day0) % (15 * MIN) == 0)
            out[(*n)++] = flow(t + MIN, v4(10, 9, 0, 1), 22, P_SSH, MW_SVC_SSH, MW_PLANE_MANAGEMENT,
                    MW_ROLE_EMS, 0, 5000, 800);
        out[(*n)++] = flow(t + 2 * MIN, v4(10, 9, 0, 2), 123, P_NTP, MW_SVC_NTP, MW_PLANE_SYNC,
                MW_ROLE_NTP, 0, 90, 90);
        if ((t - day0) % (60 * MIN) == 0) {
            mw_flow_record_t d = flow(t + 3 * MIN, v4(10, 9, 0, 3), 53, P_DNS, MW_SVC_DNS,
                    MW_PLANE_MANAGEMENT, MW_ROLE_DNS, 0, 70, 120);
            strcpy(d.host, "ems.oam.example.net");
            out[(*n)++] = d;
        }
    }
}

/* What a test adds to each training day besides normal_day (NULL: nothing). */
typedef void (*extra_day_fn)(mw_flow_record_t *out, size_t *n, int64_t day0);

static mw_model_t *train_with(
        const mw_inventory_t *inv, int days, int64_t start, extra_day_fn extra)
{
    static mw_flow_record_t recs[20000];
    size_t n = 0, i;
    char err[128];
    mw_model_t *m = mw_model_create(5 * MIN, err, sizeof(err));
    mw_trainer_t *t = mw_trainer_create(m, inv, name_of, NULL);

    for (int d = 0; d < days; d++) {
        normal_day(recs, &n, start + d * DAY);
        if (extra != NULL)
            extra(recs, &n, start + d * DAY);
    }
    for (i = 0; i < n; i++)
        mw_trainer_record(t, &recs[i]);
    mw_trainer_finish(t);
    mw_trainer_destroy(t);
    return m;
}

static mw_model_t *train(const mw_inventory_t *inv, int days, int64_t start)
{
    return train_with(inv, days, start, NULL);
}

/* Runs detection on recs; returns the JSON lines (caller frees). */
static char *detect(
        const mw_model_t *m, const mw_inventory_t *inv, const mw_flow_record_t *recs, size_t n)
{
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *json = open_memstream(&buf, &len);
    mw_anomaly_sinks_params_t sp = { .json = json, .inv = inv };
    mw_anomaly_sinks_t *sinks = mw_anomaly_sinks_create(&sp);
    mw_detect_params_t p = { .model = m, .inv = inv, .name = name_of };
    mw_detect_run_t *run;

    assert_non_null(sinks);
    p.sink = mw_anomaly_sinks_detect_sink(sinks);
    run = mw_detect_run_create(&p, err, sizeof(err));
    assert_non_null(run);
    mw_detect_run_records(run, recs, n, MW_WATERMARK_FOLLOW);
    mw_detect_run_finish(run);
    mw_detect_run_destroy(run);
    mw_anomaly_sinks_destroy(sinks); /* closes json: buf is complete */
    return buf;
}

/* A live run fed by feed(run); returns the JSON lines (caller frees). */
static char *detect_live(const mw_model_t *m, const mw_inventory_t *inv,
        void (*feed)(mw_detect_run_t *run, void *ctx), void *ctx)
{
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *json = open_memstream(&buf, &len);
    mw_anomaly_sinks_params_t sp = { .json = json, .inv = inv };
    mw_anomaly_sinks_t *sinks = mw_anomaly_sinks_create(&sp);
    mw_detect_params_t p = { .model = m, .inv = inv, .name = name_of, .live = 1 };
    mw_detect_run_t *run;

    assert_non_null(sinks);
    p.sink = mw_anomaly_sinks_detect_sink(sinks);
    run = mw_detect_run_create(&p, err, sizeof(err));
    assert_non_null(run);
    feed(run, ctx);
    mw_detect_run_finish(run);
    mw_detect_run_destroy(run);
    mw_anomaly_sinks_destroy(sinks);
    return buf;
}

static int count(const char *json, const char *detector)
{
    char key[64];
    int n = 0;
    const char *p = json;

    snprintf(key, sizeof(key), "\"detector\":\"%s\"", detector);
    while ((p = strstr(p, key)) != NULL) {
        n++;
        p += strlen(key);
    }
    return n;
}

/* Anomalies of detector whose JSON line also holds text. */
static int count_with(const char *json, const char *detector, const char *text)
{
    char key[64];
    int n = 0;
    const char *line = json;

    snprintf(key, sizeof(key), "\"detector\":\"%s\"", detector);
    while (line != NULL && *line != '\0') {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *k = strstr(line, key), *t = strstr(line, text);
        n += k != NULL && t != NULL && (size_t)(k - line) < len && (size_t)(t - line) < len;
        line = end ? end + 1 : NULL;
    }
    return n;
}

typedef struct {
    uint64_t dropped, passed;
    int interface;
    int reply; /* one-way case: packets back per TCP record */
} health_case_t;

static void feed_drops(mw_detect_run_t *run, void *ctx)
{
    const health_case_t *h = ctx;
    mw_detect_run_capture_drops(run, T0, T0 + MIN, h->dropped, h->passed, h->interface);
}

static void feed_tcp(mw_detect_run_t *run, void *ctx)
{
    const health_case_t *h = ctx;
    static mw_flow_record_t recs[60];
    size_t i;

    for (i = 0; i < 60; i++) {
        recs[i] = flow(T0 + (int64_t)i * 5000000, v4(192, 0, 2, 7), 443, 1, MW_SVC_NONE,
                MW_PLANE_MANAGEMENT, MW_ROLE_UNKNOWN, 0, 300, 0);
        recs[i].c2s.packets = 3;
        recs[i].s2c.packets = (uint64_t)h->reply;
    }
    mw_detect_run_records(run, recs, 60, MW_WATERMARK_FOLLOW);
    mw_detect_run_tick(run, T0 + 3 * 3600 * 1000000LL);
}

/* Live capture health: drops past 0.1 % (and 100 packets) and a capture that sees one
 * direction only are anomalies of the capture; below the limits nothing. */
static void test_capture_health(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    health_case_t few = { .dropped = 50, .passed = 1000000 };
    health_case_t thin = { .dropped = 900, .passed = 1000000 };
    health_case_t some = { .dropped = 5000, .passed = 1000000 };
    health_case_t many = { .dropped = 100000, .passed = 1000000, .interface = 1 };
    health_case_t one_way = { .reply = 0 }, both_ways = { .reply = 2 };
    char *json;
    (void)state;

    json = detect_live(m, inv, feed_drops, &few);
    assert_int_equal(count(json, "capture_health"), 0);
    free(json);
    json = detect_live(m, inv, feed_drops, &thin);
    assert_int_equal(count(json, "capture_health"), 0);
    free(json);
    json = detect_live(m, inv, feed_drops, &some);
    assert_true(count(json, "capture_health") >= 1);
    assert_non_null(strstr(json, "the kernel dropped 5000 packets"));
    assert_non_null(strstr(json, "\"severity\":\"medium\""));
    free(json);
    json = detect_live(m, inv, feed_drops, &many);
    assert_non_null(strstr(json, "the interface dropped 100000 packets"));
    assert_non_null(strstr(json, "\"severity\":\"high\""));
    free(json);
    json = detect_live(m, inv, feed_tcp, &one_way);
    assert_true(count(json, "capture_health") >= 1);
    assert_non_null(strstr(json, "one direction only"));
    free(json);
    json = detect_live(m, inv, feed_tcp, &both_ways);
    assert_int_equal(count(json, "capture_health"), 0);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

static void test_clean_day_is_quiet(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    static mw_flow_record_t recs[4000];
    size_t n = 0, i;
    char *json;
    (void)state;

    normal_day(recs, &n, T0);
    json = detect(m, inv, recs, n);
    assert_string_equal(json, "");
    free(json);
    /* the same day as captures that begin mid-session show it: every session seen from its
     * answer, opener unknown, still the sessions training knows */
    for (i = 0; i < n; i++)
        recs[i] = seen_from_answer(recs[i]);
    json = detect(m, inv, recs, n);
    assert_string_equal(json, "");
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* An unnamed vendor protocol (port 47123, nDPI "Unknown") the station opens to the EMS
 * every hour: known by its port, which only the opener's view names. */
static mw_flow_record_t vendor_session(int64_t t)
{
    return flow(t, v4(10, 9, 0, 1), 47123, P_UNKNOWN, MW_SVC_NONE, MW_PLANE_MANAGEMENT, MW_ROLE_EMS,
            0, 400, 300);
}

static void vendor_day(mw_flow_record_t *out, size_t *n, int64_t day0)
{
    for (int64_t h = day0; h < day0 + DAY; h += 60 * MIN)
        out[(*n)++] = vendor_session(h + 7 * MIN);
}

static void test_guessed_opener_matches_training(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train_with(inv, 7, T0 - 7 * DAY, vendor_day);
    static mw_flow_record_t recs[64];
    size_t n = 0;
    int64_t h;
    char *json;
    (void)state;

    /* a day of it seen from the EMS's answers (mid-session starts, one way of a SPAN
     * port): the first packet's sender, the EMS, stands as opener and its port 47123 is
     * the station's ephemeral 50000; read the other way round it is the known session */
    n = 0;
    for (h = T0; h < T0 + DAY; h += 60 * MIN)
        recs[n++] = seen_from_answer(vendor_session(h + 7 * MIN));
    json = detect(m, inv, recs, n);
    assert_string_equal(json, "");
    free(json);
    /* the same opener guess on a port training never saw is still new */
    recs[0].src_port = 47999;
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "new_service"), 1);
    assert_non_null(strstr(json, "\"opened_by\":\"unknown\""));
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

static void test_novelty_detectors(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    mw_flow_record_t recs[8];
    char *json;
    (void)state;

    /* the base station opens TLS to an outside host, twice: one new_peer + one direction */
    recs[0] = flow(T0 + 10 * MIN, v4(203, 0, 113, 9), 443, P_TLS, MW_SVC_HTTPS, MW_PLANE_UNKNOWN,
            MW_ROLE_UNKNOWN, 0, 3000, 2000);
    recs[1] = flow(T0 + 12 * MIN, v4(203, 0, 113, 9), 443, P_TLS, MW_SVC_HTTPS, MW_PLANE_UNKNOWN,
            MW_ROLE_UNKNOWN, 0, 3000, 2000);
    /* Telnet from the EMS: a known peer, a new management protocol, cleartext */
    recs[2] = flow(T0 + 20 * MIN, v4(10, 9, 0, 1), 23, P_TELNET, MW_SVC_TELNET, MW_PLANE_MANAGEMENT,
            MW_ROLE_EMS, 1, 500, 500);
    /* NTP from a new server */
    recs[3] = flow(T0 + 30 * MIN, v4(198, 51, 100, 7), 123, P_NTP, MW_SVC_NTP, MW_PLANE_SYNC,
            MW_ROLE_UNKNOWN, 0, 90, 90);
    /* a DNS query with a 45-character label */
    recs[4] = flow(T0 + 40 * MIN, v4(10, 9, 0, 3), 53, P_DNS, MW_SVC_DNS, MW_PLANE_MANAGEMENT,
            MW_ROLE_DNS, 0, 120, 120);
    strcpy(recs[4].host, "aGVsbG8gd29ybGQgdGhpcyBpcyBhIHR1bm5lbGxlZCBw.x.example");
    /* SSH to the EMS inside a subscriber's GTP-U tunnel */
    recs[5] = flow(T0 + 50 * MIN, v4(10, 9, 0, 1), 22, P_SSH, MW_SVC_SSH, MW_PLANE_USER,
            MW_ROLE_UNKNOWN, 0, 900, 900);
    recs[5].kind = MW_FLOW_INNER;
    recs[5].src_lo = v4(10, 100, 0, 5);
    /* a port scan's bare SYN to 23 from a new host: nDPI says "Telnet" from the port alone,
     * with its unsafe-protocol risk; no byte of Telnet went anywhere */
    recs[6] = flow(T0 + 55 * MIN, v4(198, 51, 100, 66), 23, P_TELNET, MW_SVC_TELNET,
            MW_PLANE_MANAGEMENT, MW_ROLE_UNKNOWN, 1, 0, 60);
    recs[6].confidence = (uint8_t)mw_classifier_confidence_port();
    recs[6].risk = mw_classifier_risk_mask(MW_RISK_CLEARTEXT);
    recs[6].c2s.tcp_flags = 0x02;
    recs[6].s2c.tcp_flags = 0x14;
    json = detect(m, inv, recs, 7);
    assert_int_equal(count(json, "new_peer"), 2); /* the TLS host and the scanner (the NTP
                                                   * server is time_source) */
    assert_int_equal(count(json, "direction"), 1);
    assert_int_equal(count(json, "new_service"), 2); /* the EMS's Telnet; the scan's try */
    assert_non_null(strstr(json, "connection attempts to Telnet by port")); /* a guess, said */
    assert_int_equal(count(json, "cleartext"), 1); /* the EMS's Telnet, not the scan */
    assert_int_equal(count(json, "time_source"), 1);
    assert_int_equal(count(json, "dns"), 1);
    assert_int_equal(count(json, "leakage"), 1);
    assert_non_null(strstr(json, "\"n_flows\":2")); /* the two TLS flows aggregate */
    assert_non_null(strstr(json, "never seen in 7.0 days of training"));
    assert_non_null(strstr(json, "the base station (10.0.0.1) -> 198.51.100.7, port 123"));
    free(json);
    /* the long label also called DGA by nDPI: still judged against the learned limit, the
     * longest label of training (7, "example") + 12, or 29 when that is less, and says so */
    recs[0] = recs[4];
    recs[0].risk = mw_classifier_risk_mask(MW_RISK_DNS);
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "dns"), 1);
    assert_non_null(strstr(json, "\"limit\":29.0"));
    assert_non_null(strstr(json, "above the limit of 29"));
    free(json);
    /* an ordinary first query, the long labels in later ones of the same record (one source
     * port, as iodine keeps): found from the record's dns_max_label, and the text does not
     * offer the ordinary name as the example */
    recs[0] = recs[4];
    memset(recs[0].host, 0, sizeof(recs[0].host));
    strcpy(recs[0].host, "ems.oam.example");
    recs[0].dns_max_label = 45;
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "dns"), 1);
    assert_non_null(strstr(json, "(first query ems.oam.example): labels of 45 characters"));
    free(json);
    recs[0].dns_max_label = 29; /* at the limit: quiet */
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "dns"), 0);
    free(json);
    recs[0].dns_max_label = 30;
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "dns"), 1);
    assert_non_null(strstr(json, "queries in 1 flow records"));
    free(json);
    /* the new time source's answer seen first, nothing saying who asked: the alert does
     * not claim an opener, and names both ends' ports */
    recs[0] = seen_from_answer(recs[3]);
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "time_source"), 1);
    assert_non_null(strstr(json, "\"opened_by\":\"unknown\""));
    assert_non_null(strstr(json, "the base station (10.0.0.1) port 50000 <-> 198.51.100.7 port 123 "
                                 "(which side opened it is not known)"));
    free(json);
    /* a later exchange with that server seen from its request: the incident says who asked */
    recs[1] = recs[3];
    recs[1].first_us = recs[1].last_us = recs[0].first_us + 5 * MIN;
    json = detect(m, inv, recs, 2);
    assert_int_equal(count(json, "time_source"), 1);
    assert_non_null(strstr(json, "\"opened_by\":\"base_station\""));
    assert_non_null(strstr(json, "the base station (10.0.0.1) -> 198.51.100.7, port 123"));
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* Uploads of many known-sized flows in one window: volume only once the station is ready. */
static void burst(mw_flow_record_t *recs, size_t *n, int64_t t, int flows)
{
    for (int i = 0; i < flows; i++)
        recs[(*n)++] = flow(t + i * 1000000, v4(10, 9, 0, 1), 22, P_SSH, MW_SVC_SSH,
                MW_PLANE_MANAGEMENT, MW_ROLE_EMS, 0, 5000, 800);
}

static void test_volume_needs_learning_and_constant_series(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *one_window = train(inv, 0, T0);
    mw_model_t *week = train(inv, 7, T0 - 7 * DAY);
    static mw_flow_record_t recs[400];
    size_t n = 0;
    uint32_t st;
    char *json;
    (void)state;

    /* a model with only one window of training: still learning, no volume verdict */
    {
        mw_flow_record_t r = flow(T0 - DAY, v4(10, 9, 0, 1), 22, P_SSH, MW_SVC_SSH,
                MW_PLANE_MANAGEMENT, MW_ROLE_EMS, 0, 5000, 800);
        mw_trainer_t *t = mw_trainer_create(one_window, inv, name_of, NULL);
        mw_trainer_record(t, &r);
        mw_trainer_finish(t);
        mw_trainer_destroy(t);
    }
    assert_non_null(mw_model_find_station(week, "enb-1", &st));
    /* constant series: every training window uploaded the same, the spread is 0 */
    assert_true(mw_series_stddev(&mw_model_station_at(week, st)->win_up) >= 0.0);
    burst(recs, &n, T0 + 5 * MIN, 200); /* 200 x 5000 B = 1 MB in one window */
    json = detect(one_window, inv, recs, n);
    assert_int_equal(count(json, "volume"), 0);
    free(json);
    json = detect(week, inv, recs, n);
    /* the station's window band and the SSH band both trip: two volume anomalies */
    assert_int_equal(count(json, "volume"), 2);
    assert_non_null(strstr(json, "above the learned limit"));
    assert_non_null(strstr(json, "SSH uploaded"));
    free(json);
    /* uploads of equal size to one peer on two ports: the window's finding names the same
     * port whichever came first (the smaller), not the first in file order */
    for (int first = 0; first < 2; first++) {
        n = 0;
        burst(recs, &n, T0 + 5 * MIN, 200);
        recs[first ? 199 : 0].dst_port = 2222;
        json = detect(week, inv, recs, n);
        assert_int_equal(count(json, "volume"), 2);
        assert_int_equal(count_with(json, "volume", "\"service_port\":22,"), 2);
        free(json);
    }
    /* 150 small uploads to one peer (750 kB) and one of 300 kB to another: the window's
     * finding names where most of the bytes went, not the largest single upload's peer */
    n = 0;
    burst(recs, &n, T0 + 5 * MIN, 150);
    recs[n] = recs[0];
    recs[n].flow_id += 100000;
    recs[n].dst_lo = v4(10, 9, 0, 7);
    recs[n].dst_port = 830;
    recs[n++].c2s.bytes = 300000;
    json = detect(week, inv, recs, n);
    assert_int_equal(count_with(json, "volume", "\"peer\":\"10.9.0.1\""), 2);
    assert_int_equal(count_with(json, "volume", "most of it to ems 10.9.0.1"), 2);
    free(json);
    /* more (peer, protocol) pairs than a window sums: the peer of the largest single
     * upload, whatever order the records come in (-t N changes it) */
    for (int reversed = 0; reversed < 2; reversed++) {
        n = 0;
        for (int i = 0; i < 80; i++) {
            int k = reversed ? 79 - i : i;
            recs[n] = flow(T0 + 5 * MIN + k * 1000000LL, v4(10, 9, 1, k), 22, P_SSH, MW_SVC_SSH,
                    MW_PLANE_MANAGEMENT, MW_ROLE_EMS, 0, k == 3 ? 400000 : 5000, 800);
            n++;
        }
        json = detect(week, inv, recs, n);
        assert_true(count(json, "volume") >= 1);
        assert_int_equal(
                count(json, "volume"), count_with(json, "volume", "\"peer\":\"10.9.1.3\""));
        free(json);
    }
    /* the same upload as in training: nothing, despite a zero spread */
    n = 0;
    burst(recs, &n, T0 + 5 * MIN, 1);
    json = detect(week, inv, recs, n);
    assert_int_equal(count(json, "volume"), 0);
    free(json);
    mw_model_destroy(one_window);
    mw_model_destroy(week);
    mw_inventory_destroy(inv);
}

/* Two slices of two hours two days apart span two days, but are not 20 h of training: the
 * window statistics wait (the station is still learning), where they scored before. */
static void test_two_hours_are_not_two_days(void **state)
{
    mw_inventory_t *inv = site();
    static mw_flow_record_t day[2000], recs[400];
    size_t n = 0, i, k = 0;
    char err[128], *json;
    mw_model_t *m = mw_model_create(5 * MIN, err, sizeof(err));
    mw_trainer_t *t = mw_trainer_create(m, inv, name_of, NULL);
    uint32_t st;
    (void)state;

    normal_day(day, &n, T0 - 3 * DAY);
    normal_day(day, &n, T0 - DAY);
    for (i = 0; i < n; i++) { /* 10:00-12:00 of the first day, 09:00-11:00 of the other */
        int64_t at = day[i].first_us - T0 + 3 * DAY;
        if ((at >= 10 * 60 * MIN && at < 12 * 60 * MIN) ||
                (at >= 2 * DAY + 9 * 60 * MIN && at < 2 * DAY + 11 * 60 * MIN)) {
            mw_trainer_record(t, &day[i]);
            k++;
        }
    }
    mw_trainer_finish(t);
    mw_trainer_destroy(t);
    assert_true(k > 20);
    assert_non_null(mw_model_find_station(m, "enb-1", &st));
    assert_true(mw_model_station_at(m, st)->win_up.n >= 24); /* the windows were there */
    assert_false(mw_station_learned(mw_model_station_at(m, st)));
    n = 0;
    burst(recs, &n, T0 + 5 * MIN, 200); /* 1 MB in one window */
    json = detect(m, inv, recs, n);
    assert_int_equal(count(json, "volume"), 0);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* Twice a day a PM bulk exchange (80 kB up, 60 kB down) teaches the up/down ratio; then a
 * window sends 70 kB up and gets almost nothing back: normal size, abnormal ratio. */
static void test_ratio(void **state)
{
    mw_inventory_t *inv = site();
    static mw_flow_record_t recs[20000];
    size_t n = 0, i;
    char err[128], *json;
    mw_model_t *m = mw_model_create(5 * MIN, err, sizeof(err));
    mw_trainer_t *t = mw_trainer_create(m, inv, name_of, NULL);
    (void)state;

    for (int d = 0; d < 7; d++) {
        normal_day(recs, &n, T0 - 7 * DAY + d * DAY);
        for (int k = 0; k < 2; k++)
            recs[n++] = flow(T0 - 7 * DAY + d * DAY + (6 + 12 * k) * 60 * MIN + 30 * 1000000,
                    v4(10, 9, 0, 1), 22, P_SSH, MW_SVC_SSH, MW_PLANE_MANAGEMENT, MW_ROLE_EMS, 0,
                    80000, 60000);
    }
    for (i = 0; i < n; i++)
        mw_trainer_record(t, &recs[i]);
    mw_trainer_finish(t);
    mw_trainer_destroy(t);

    n = 0;
    recs[n++] = flow(T0 + MIN, v4(10, 9, 0, 1), 22, P_SSH, MW_SVC_SSH, MW_PLANE_MANAGEMENT,
            MW_ROLE_EMS, 0, 70000, 500);
    json = detect(m, inv, recs, n);
    assert_int_equal(count(json, "volume"), 1);
    assert_non_null(strstr(json, "up/down ratio"));
    free(json);
    /* the learned exchange itself: quiet */
    recs[0].s2c.bytes = 60000;
    json = detect(m, inv, recs, n);
    assert_int_equal(count(json, "volume"), 0);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

static void beacon_series(mw_flow_record_t *recs, size_t *n, int64_t period, int jitter_pct)
{
    srand(7);
    for (int i = 0; i < 40; i++) {
        int64_t jitter =
                jitter_pct ? (rand() % (2 * jitter_pct + 1) - jitter_pct) * period / 100 : 0;
        recs[(*n)++] = flow(T0 + i * period + jitter, v4(203, 0, 113, 50), 443, P_TLS, MW_SVC_HTTPS,
                MW_PLANE_UNKNOWN, MW_ROLE_UNKNOWN, 0, 1100, 2700);
    }
}

static void test_beacon_regular_vs_jittery_and_order(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    static mw_flow_record_t recs[64], reversed[64];
    size_t n = 0, i;
    char *a, *b;
    (void)state;

    beacon_series(recs, &n, 5 * MIN, 3);
    a = detect(m, inv, recs, n);
    assert_int_equal(count(a, "beacon"), 1);
    assert_non_null(strstr(a, "\"n_flows\":40"));
    /* the clock going backwards (records in reverse time order): the same verdict */
    for (i = 0; i < n; i++)
        reversed[i] = recs[n - 1 - i];
    b = detect(m, inv, reversed, n);
    assert_int_equal(count(b, "beacon"), 1);
    assert_non_null(strstr(b, "\"n_flows\":40"));
    free(a);
    free(b);
    /* +-60% jitter is not a beacon */
    n = 0;
    beacon_series(recs, &n, 5 * MIN, 60);
    a = detect(m, inv, recs, n);
    assert_int_equal(count(a, "beacon"), 0);
    free(a);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* A beacon all day (more starts than a series keeps) is one finding with every session, from
 * the first: judged on the latest starts, it stands for the earlier ones too. */
static void test_beacon_all_day(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    static mw_flow_record_t recs[720];
    char *json, first[64];
    (void)state;

    for (int i = 0; i < 720; i++)
        recs[i] = flow(T0 + 10 * 1000000LL + i * 2 * MIN, v4(203, 0, 113, 50), 443, P_TLS,
                MW_SVC_HTTPS, MW_PLANE_UNKNOWN, MW_ROLE_UNKNOWN, 0, 1100, 2700);
    json = detect(m, inv, recs, 720);
    assert_int_equal(count(json, "beacon"), 1);
    assert_int_equal(count_with(json, "beacon", "\"n_flows\":720"), 1);
    assert_int_equal(count_with(json, "beacon", "720 sessions"), 1);
    snprintf(first, sizeof(first), "\"start_us\":%lld", (long long)(T0 + 10 * 1000000LL));
    assert_int_equal(count_with(json, "beacon", first), 1);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* A capture point that sees each session twice - each direction in a VLAN of its own (two
 * one-way halves), or every packet in two VLANs (duplicates) - gives two records a start:
 * still one beacon of 40 sessions, its bytes not doubled, described by the half that
 * starts first (with the host name), in any record order. Each start counted twice made
 * every other gap ~0 s and hid the beacon. */
static void test_beacon_twin_records(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    static mw_flow_record_t recs[120], reversed[120];
    size_t n = 0, i;
    char *a, *b;
    (void)state;

    for (int k = 0; k < 40; k++) {
        mw_flow_record_t up = flow(T0 + k * 5 * MIN, v4(203, 0, 113, 50), 443, P_TLS, MW_SVC_HTTPS,
                MW_PLANE_UNKNOWN, MW_ROLE_UNKNOWN, 0, 1100, 2700);
        mw_flow_record_t down;
        snprintf(up.host, sizeof(up.host), "c2.example"); /* the client hello's SNI */
        down = up;
        memset(down.host, 0, sizeof(down.host));
        up.s2c = (mw_dir_stats_t){ 0 }; /* the uplink half: the station's packets only */
        down.c2s = (mw_dir_stats_t){ 0 };
        down.flow_id = up.flow_id + 1;
        down.first_us += 300000; /* the SYN-ACK's record starts a little later */
        recs[n++] = up;
        recs[n++] = down;
        recs[n] = up; /* and the uplink half again, from another VLAN */
        recs[n++].flow_id = up.flow_id + 100001;
    }
    a = detect(m, inv, recs, n);
    assert_int_equal(count(a, "beacon"), 1);
    assert_int_equal(count_with(a, "beacon", "40 sessions"), 1);
    assert_int_equal(count_with(a, "beacon", "\"n_flows\":40"), 1);
    assert_int_equal(count_with(a, "beacon", "\"bytes_up\":44000,"), 1);
    assert_int_equal(count_with(a, "beacon", "\"bytes_down\":108000,"), 1);
    assert_int_equal(count_with(a, "beacon", "\"host\":\"c2.example\""), 1); /* the named half */
    for (i = 0; i < n; i++)
        reversed[i] = recs[n - 1 - i];
    b = detect(m, inv, reversed, n);
    assert_string_equal(a, b);
    free(a);
    free(b);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* A UDP session that repeats every 60 s from one port is one flow (cut into 5-minute
 * records): its beacon is in the gaps between the station's datagrams. Irregular gaps, a
 * known tuple, gaps under 10 s, the peer's datagrams and the sync plane are none; the
 * records in any order give the same finding. */
static void test_beacon_in_one_flow(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    mw_flow_record_t recs[6], reversed[6];
    char *a, *b;
    int i;
    (void)state;

    for (i = 0; i < 6; i++) {
        recs[i] = flow(T0 + i * 5 * MIN, v4(203, 0, 113, 60), 514, P_UNKNOWN, MW_SVC_SYSLOG,
                MW_PLANE_MANAGEMENT, MW_ROLE_UNKNOWN, 0, 500, 0);
        recs[i].l4_proto = 17;
        recs[i].src_port = 514;
        recs[i].continued = i > 0;
        recs[i].start_seen = i == 0;
        recs[i].last_us = recs[i].first_us + 4 * MIN;
        recs[i].c2s.packets = 5;
        recs[i].c2s.iat_mean = 60000.0f;
        recs[i].c2s.iat_std = 900.0f;
    }
    a = detect(m, inv, recs, 6);
    assert_int_equal(count(a, "beacon"), 1);
    assert_int_equal(count_with(a, "beacon", "\"kind\":1"), 1);
    assert_non_null(strstr(a, "sent 30 datagrams of"));
    assert_non_null(strstr(a, "every 60 s (mean gap; sd 0.9 s) in 6 records"));
    for (i = 0; i < 6; i++)
        reversed[i] = recs[5 - i];
    b = detect(m, inv, reversed, 6);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* the station's datagrams were refusals (port unreachables to the peer's probes) */
    for (i = 0; i < 6; i++)
        recs[i].refused_by = MW_SIDE_SRC;
    a = detect(m, inv, recs, 6);
    assert_int_equal(count(a, "beacon"), 0);
    free(a);
    for (i = 0; i < 6; i++)
        recs[i].refused_by = MW_SIDE_NONE;
    /* irregular: sd 20 s of 60 */
    for (i = 0; i < 6; i++)
        recs[i].c2s.iat_std = 20000.0f;
    a = detect(m, inv, recs, 6);
    assert_int_equal(count(a, "beacon"), 0);
    free(a);
    /* every 5 s: no beacon period */
    for (i = 0; i < 6; i++) {
        recs[i].c2s.iat_mean = 5000.0f;
        recs[i].c2s.iat_std = 100.0f;
    }
    a = detect(m, inv, recs, 6);
    assert_int_equal(count(a, "beacon"), 0);
    free(a);
    /* the same gaps in what the peer sent, the station silent */
    for (i = 0; i < 6; i++) {
        recs[i].s2c = recs[i].c2s;
        recs[i].s2c.iat_mean = 60000.0f;
        memset(&recs[i].c2s, 0, sizeof(recs[i].c2s));
    }
    a = detect(m, inv, recs, 6);
    assert_int_equal(count(a, "beacon"), 0);
    free(a);
    /* NTP polls every 64 s (sync plane): periodic by design */
    for (i = 0; i < 6; i++) {
        recs[i].c2s = recs[i].s2c;
        recs[i].c2s.iat_mean = 64000.0f;
        recs[i].c2s.iat_std = 10.0f;
        recs[i].plane = MW_PLANE_SYNC;
        recs[i].service = MW_SVC_NTP;
    }
    a = detect(m, inv, recs, 6);
    assert_int_equal(count(a, "beacon"), 0);
    free(a);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

static void test_gap_and_off_hours(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    static mw_flow_record_t recs[4000];
    size_t n = 0;
    char *json;
    (void)state;

    /* a day-long gap in the input, then a normal day: still quiet */
    normal_day(recs, &n, T0 + 2 * DAY);
    /* a 2 MB download from the EMS on a Wednesday 14:00 (outside the Sunday window) */
    recs[n++] = flow(T0 + 2 * DAY + 14 * 60 * MIN, v4(10, 9, 0, 1), 22, P_SSH, MW_SVC_SSH,
            MW_PLANE_MANAGEMENT, MW_ROLE_EMS, 0, 20000, 2000000);
    json = detect(m, inv, recs, n);
    assert_int_equal(count(json, "off_hours"), 1);
    assert_int_equal(count(json, "new_peer") + count(json, "volume") + count(json, "beacon"), 0);
    free(json);
    /* the same download on Sunday 03:00, inside the maintenance window: fine */
    n = 0;
    recs[n++] = flow(T0 + 6 * DAY + 3 * 60 * MIN, v4(10, 9, 0, 1), 22, P_SSH, MW_SVC_SSH,
            MW_PLANE_MANAGEMENT, MW_ROLE_EMS, 0, 20000, 2000000);
    json = detect(m, inv, recs, n);
    assert_int_equal(count(json, "off_hours"), 0);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

typedef struct {
    mw_tuple_key_t k[2000];
    mw_tuple_stats_t s[2000];
    size_t n;
    const mw_model_t *m;
    char ids[2000][MW_MODEL_ID_LEN];
} dump_t;

static void dump_tuple(void *ctx, const mw_tuple_key_t *k, const mw_tuple_stats_t *s)
{
    dump_t *d = ctx;
    d->k[d->n] = *k;
    d->k[d->n].station = 0; /* stations compared by id */
    memcpy(d->ids[d->n], mw_model_station_at(d->m, k->station)->id, MW_MODEL_ID_LEN);
    d->s[d->n++] = *s;
}

static void test_merge_equals_joint(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *monday = train(inv, 1, T0);
    mw_model_t *tuesday = train(inv, 1, T0 + DAY);
    mw_model_t *both = train(inv, 2, T0);
    static dump_t a, b;
    uint32_t sa, sb;
    char err[128];
    (void)state;

    assert_int_equal(mw_model_merge(monday, tuesday, err, sizeof(err)), 0);
    a.m = monday;
    b.m = both;
    mw_model_foreach_tuple(monday, dump_tuple, &a);
    mw_model_foreach_tuple(both, dump_tuple, &b);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.k, b.k, a.n * sizeof(a.k[0]));
    assert_memory_equal(a.s, b.s, a.n * sizeof(a.s[0]));
    assert_memory_equal(a.ids, b.ids, sizeof(a.ids[0]) * a.n);
    assert_non_null(mw_model_find_station(monday, "enb-1", &sa));
    assert_non_null(mw_model_find_station(both, "enb-1", &sb));
    assert_memory_equal(
            mw_model_station_at(monday, sa), mw_model_station_at(both, sb), sizeof(mw_station_t));
    mw_model_destroy(monday);
    mw_model_destroy(tuesday);
    mw_model_destroy(both);
    mw_inventory_destroy(inv);
}

/* A base station added after training is scored against its role group. */
static void test_new_station_uses_group(void **state)
{
    mw_inventory_t *inv = site();
    mw_inventory_t *grown =
            site_with("  - id: enb-2\n    type: enb\n    prefixes: [10.0.0.2/32]\n");
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    static mw_flow_record_t recs[4000];
    size_t n = 0, i;
    char *json;
    uint32_t st;
    (void)state;

    assert_non_null(mw_model_find_station(m, "group:enb", &st));
    normal_day(recs, &n, T0);
    for (i = 0; i < n; i++) { /* the same normal day, from the new station */
        recs[i].bs_index = 2;
        if (recs[i].src_lo == v4(10, 0, 0, 1))
            recs[i].src_lo = v4(10, 0, 0, 2);
        else
            recs[i].dst_lo = v4(10, 0, 0, 2);
    }
    recs[n] = flow(T0 + 10 * MIN, v4(203, 0, 113, 9), 443, P_TLS, MW_SVC_HTTPS, MW_PLANE_UNKNOWN,
            MW_ROLE_UNKNOWN, 0, 3000, 2000);
    recs[n].bs_index = 2;
    recs[n++].src_lo = v4(10, 0, 0, 2);
    json = detect(m, grown, recs, n);
    assert_int_equal(count(json, "new_peer"), 1); /* only the outside host */
    assert_non_null(strstr(json, "\"bs\":\"enb-2\""));
    assert_int_equal(count(json, "volume") + count(json, "new_service") + count(json, "beacon"), 0);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(grown);
    mw_inventory_destroy(inv);
}

/* FTP as a RAN upgrade uses it: the EMS logs in to the station's port 21 and the station,
 * the server, connects back from port 20 to the EMS's port of the day (active mode). */
static void ftp_transfer(mw_flow_record_t *out, size_t *n, int64_t t, uint16_t eprt)
{
    out[(*n)++] = flow(t, v4(10, 9, 0, 1), 21, P_UNKNOWN, MW_SVC_FTP, MW_PLANE_MANAGEMENT,
            MW_ROLE_EMS, 1, 900, 300);
    out[*n] = flow(t + 5000000, v4(10, 9, 0, 1), eprt, P_UNKNOWN, MW_SVC_FTP, MW_PLANE_MANAGEMENT,
            MW_ROLE_EMS, 0, 2000000, 1000);
    out[(*n)++].src_port = 20;
}

static void ftp_day(mw_flow_record_t *out, size_t *n, int64_t day0)
{
    ftp_transfer(out, n, day0 + 300 * MIN, (uint16_t)(49000 + (day0 / DAY) % 1000));
}

static void test_ftp_data_connections(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train_with(inv, 7, T0 - 7 * DAY, ftp_day);
    static mw_flow_record_t recs[16];
    size_t n = 0;
    char *json;
    (void)state;

    /* the next transfer, on a port no transfer used before: the same sessions, and the
     * station connecting from 20 is not "the base station opened FTP itself" */
    n = 0;
    ftp_transfer(recs, &n, T0 + 300 * MIN, 51234);
    json = detect(m, inv, recs, n);
    assert_string_equal(json, "");
    free(json);
    /* the station connecting from port 20 to the EMS's Telnet port is no transfer: it opened
     * Telnet itself */
    {
        mw_flow_record_t ssh = flow(T0 + 400 * MIN, v4(10, 9, 0, 1), 23, P_TELNET, MW_SVC_TELNET,
                MW_PLANE_MANAGEMENT, MW_ROLE_EMS, 0, 5000, 3000);
        ssh.src_port = 20;
        json = detect(m, inv, &ssh, 1);
        assert_int_equal(count(json, "direction"), 1);
        free(json);
    }
    mw_model_destroy(m);
    /* with a model that never saw FTP: FTP is news, its data connection no "direction" */
    m = train(inv, 7, T0 - 7 * DAY);
    json = detect(m, inv, recs, n);
    assert_true(count(json, "new_service") >= 1);
    assert_int_equal(count(json, "direction"), 0);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* Passive mode, as a station fetching software uses it: the station logs in to the EMS's
 * port 21 and connects to the port the EMS's 227 reply named (the reader marks it FTP-data). */
static void ftp_passive_transfer(
        mw_flow_record_t *out, size_t *n, int64_t t, uint16_t pasv, uint16_t label, int data)
{
    out[(*n)++] = flow(t, v4(10, 9, 0, 1), 21, P_UNKNOWN, MW_SVC_FTP, MW_PLANE_MANAGEMENT,
            MW_ROLE_EMS, 0, 300, 900);
    if (data)
        out[(*n)++] = flow(t + 5000000, v4(10, 9, 0, 1), pasv, label, MW_SVC_FTP_DATA,
                MW_PLANE_MANAGEMENT, MW_ROLE_EMS, 0, 1000, 2000000);
}

static void ftp_passive_day(mw_flow_record_t *out, size_t *n, int64_t day0)
{
    ftp_passive_transfer(
            out, n, day0 + 300 * MIN, (uint16_t)(50000 + (day0 / DAY) % 1000), P_UNKNOWN, 1);
}

static void ftp_control_only_day(mw_flow_record_t *out, size_t *n, int64_t day0)
{
    ftp_passive_transfer(out, n, day0 + 300 * MIN, 0, P_UNKNOWN, 0);
}

static void test_ftp_passive_data_connections(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train_with(inv, 7, T0 - 7 * DAY, ftp_passive_day);
    static mw_flow_record_t recs[16];
    size_t n = 0;
    char *json;
    (void)state;

    /* a new port of the day, and nDPI naming this file's 2 MB FTP_DATA by its content where
     * training's were Unknown: one tuple whatever the label, so its learned download size
     * holds (no off_hours) */
    ftp_passive_transfer(recs, &n, T0 + 300 * MIN, 61234, P_FTP_DATA, 1);
    json = detect(m, inv, recs, n);
    assert_string_equal(json, "");
    free(json);
    mw_model_destroy(m);
    /* training saw the station's FTP logins but no transfer: a transfer is no news (a
     * 2 MB one outside the windows is off_hours': see above for the same with transfers) */
    recs[1].s2c.bytes = 60000;
    m = train_with(inv, 7, T0 - 7 * DAY, ftp_control_only_day);
    json = detect(m, inv, recs, n);
    assert_string_equal(json, "");
    free(json);
    mw_model_destroy(m);
    /* a model that never saw FTP: news */
    m = train(inv, 7, T0 - 7 * DAY);
    recs[1].app_proto = P_UNKNOWN;
    json = detect(m, inv, recs, n);
    assert_int_equal(count(json, "new_service"), 1); /* one incident: the login and the data */
    assert_non_null(strstr(json, "2 ports (first 21); 2 flows"));
    assert_int_equal(count(json, "direction"), 1); /* the login, not the data connection */
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* A session of a service the station knows, picked up mid-stream, where nDPI's label is a
 * guess ("TLS" for NETCONF's SSH from its middle): no "new management protocol". */
static void test_mid_stream_label_is_no_news(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    mw_flow_record_t r;
    char *json;
    (void)state;

    /* the station knows SSH from the EMS (normal_day); from another EMS-side port now */
    r = flow(T0 + 10 * MIN, v4(10, 9, 0, 1), 22, P_TLS, MW_SVC_SSH, MW_PLANE_MANAGEMENT,
            MW_ROLE_EMS, 1, 800, 5000);
    r.start_seen = 0;
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "new_service"), 0);
    free(json);
    r.start_seen = 1; /* seen from its opening, labelled TLS on SSH's port: news */
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "new_service"), 1);
    free(json);
    /* the station's own SSH to the EMS, seen from its opening but one way only (the EMS's
     * half, on a SPAN port): nDPI's "TLS" from half a dialogue is no news, and the station
     * opening it is what training saw (no direction) */
    r = flow(T0 + 20 * MIN, v4(10, 9, 0, 1), 22, P_TLS, MW_SVC_SSH, MW_PLANE_MANAGEMENT,
            MW_ROLE_EMS, 0, 0, 5000);
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "new_service") + count(json, "direction"), 0);
    free(json);
    /* both ways, but the label only nDPI's guess from the port: no news either */
    r = flow(T0 + 30 * MIN, v4(10, 9, 0, 1), 22, P_TLS, MW_SVC_SSH, MW_PLANE_MANAGEMENT,
            MW_ROLE_EMS, 0, 800, 5000);
    r.confidence = (uint8_t)mw_classifier_confidence_port();
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "new_service") + count(json, "direction"), 0);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* A GTP-C path echo between the station and its gateway 10.9.0.9 (2123 both ways). */
static mw_flow_record_t gtpc_echo(
        int64_t t, int gateway_asks, uint16_t gateway_port, float station_len, float gateway_len)
{
    mw_flow_record_t r = flow(t, v4(10, 9, 0, 9), 2123, P_UNKNOWN, MW_SVC_GTPC, MW_PLANE_CONTROL,
            MW_ROLE_UNKNOWN, gateway_asks, 56, 56);

    r.l4_proto = 17;
    r.orient = MW_ORIENT_PORT; /* as 2123 <-> 2123 is oriented: by the roles */
    if (gateway_asks) {
        r.src_port = gateway_port;
        r.c2s.len_max = gateway_len;
        r.s2c.len_max = station_len;
    } else {
        r.src_port = 2123;
        r.dst_port = gateway_port;
        r.c2s.len_max = station_len;
        r.s2c.len_max = gateway_len;
    }
    return r;
}

static void gtpc_day(mw_flow_record_t *out, size_t *n, int64_t day0)
{
    for (int64_t t = day0; t < day0 + DAY; t += 60 * MIN)
        out[(*n)++] = gtpc_echo(t + 9 * MIN, 0, 2123, 56, 56);
}

static void test_gtpc_paths(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train_with(inv, 7, T0 - 7 * DAY, gtpc_day);
    mw_flow_record_t r;
    char *json;
    (void)state;

    /* the gateway asks from a port of its own (TS 29.274): the same path, no new peer */
    r = gtpc_echo(T0 + 10 * MIN, 1, 40000, 56, 56);
    json = detect(m, inv, &r, 1);
    assert_string_equal(json, "");
    free(json);
    /* an oversized echo the gateway sent: said to be the gateway's, no opener claimed */
    r = gtpc_echo(T0 + 10 * MIN, 0, 2123, 55, 259);
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "leakage"), 1);
    assert_non_null(strstr(json, "\"kind\":5"));
    assert_non_null(strstr(json, "\"opened_by\":\"unknown\""));
    assert_non_null(strstr(json, "GTP-C message of 259 bytes sent by 10.9.0.9"));
    free(json);
    r = gtpc_echo(T0 + 10 * MIN, 0, 2123, 259, 55);
    json = detect(m, inv, &r, 1);
    assert_non_null(strstr(json, "GTP-C message of 259 bytes sent by the base station"));
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* A subscriber's plain HTTP inside GTP-U is the subscriber's business, not a cleartext
 * management protocol of the station's. */
static void test_subscriber_http_is_not_cleartext(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    mw_flow_record_t r = flow(T0 + 10 * MIN, v4(172, 217, 16, 67), 80, P_UNKNOWN, MW_SVC_HTTP,
            MW_PLANE_USER, MW_ROLE_UNKNOWN, 0, 600, 900);
    char *json;
    (void)state;

    r.kind = MW_FLOW_INNER;
    r.src_lo = v4(192, 168, 100, 6);
    r.local_role = MW_ROLE_UNKNOWN; /* the subscriber */
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "cleartext"), 0);
    assert_int_equal(count(json, "leakage"), 0);
    free(json);
    /* a UE pool inside a catch-all OAM prefix (oam_peer 10.0.0.0/8 and open5gs' 10.45.0.0/16):
     * the subscriber's address is no inventory address of its own, every new destination of
     * it no leakage */
    r.local_role = MW_ROLE_OAM_PEER;
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "leakage"), 0);
    free(json);
    /* a base station's own address as the tunnel's inner source is; the text says which */
    r.src_lo = v4(10, 0, 0, 1);
    r.local_role = MW_ROLE_BASE_STATION;
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "leakage"), 1);
    assert_non_null(
            strstr(json, "the tunnel's inner address 10.0.0.1 is the inventory's base_station"));
    free(json);
    r.src_lo = v4(192, 168, 100, 6);
    r.local_role = MW_ROLE_UNKNOWN;
    r.dst_lo = v4(10, 9, 0, 1); /* to the EMS inside the tunnel: leakage, and in clear */
    r.peer_role = MW_ROLE_EMS;
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "cleartext"), 1);
    assert_int_equal(count(json, "leakage"), 1);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* The record as base station idx would have it, its side from address hi:lo (IPv4: hi 0)
 * instead of 10.0.0.1. */
static mw_flow_record_t from_host(mw_flow_record_t r, uint16_t idx, uint64_t hi, uint64_t lo)
{
    r.bs_index = idx;
    r.ip_version = hi == 0 ? 4 : 6;
    if (r.src_lo == v4(10, 0, 0, 1)) {
        r.src_hi = hi;
        r.src_lo = lo;
    } else {
        r.dst_hi = hi;
        r.dst_lo = lo;
    }
    return r;
}

/* The record as base station 10.0.0.<last> (bs_index idx) would have it. */
static mw_flow_record_t at_station(mw_flow_record_t r, uint16_t idx, int last)
{
    return from_host(r, idx, 0, v4(10, 0, 0, last));
}

/* Two stations added after training are both scored against group:enb, yet each keeps its
 * own beacon series and its own session starts per hour: neither is named for the other's
 * sessions, and their sessions together make no beacon or rate neither has. */
static void test_group_scored_stations_stay_apart(void **state)
{
    mw_inventory_t *inv = site();
    mw_inventory_t *grown =
            site_with("  - id: enb-2\n    type: enb\n    prefixes: [10.0.0.2/32]\n"
                      "  - id: enb-3\n    type: enb\n    prefixes: [10.0.0.3/32]\n");
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    static mw_flow_record_t recs[128];
    size_t n = 0;
    char *json;
    int i;
    (void)state;

    /* the same outside peer and port every 2 min from both, a minute apart */
    for (i = 0; i < 30; i++) {
        mw_flow_record_t r = flow(T0 + i * 2 * MIN, v4(203, 0, 113, 50), 443, P_TLS, MW_SVC_HTTPS,
                MW_PLANE_UNKNOWN, MW_ROLE_UNKNOWN, 0, 1100, 2700);
        recs[n++] = at_station(r, 2, 2);
        r.first_us += MIN;
        r.last_us += MIN;
        r.flow_id++;
        recs[n++] = at_station(r, 3, 3);
    }
    json = detect(m, grown, recs, n);
    assert_int_equal(count(json, "beacon"), 2);
    assert_int_equal(count_with(json, "beacon", "\"bs\":\"enb-2\""), 1);
    assert_int_equal(count_with(json, "beacon", "\"bs\":\"enb-3\""), 1);
    assert_int_equal(count_with(json, "beacon", "\"n_flows\":30"), 2);
    assert_int_equal(count_with(json, "beacon", "every 120 s"), 2);
    free(json);
    /* periods of 120 s and 97 s: each its own beacon, not one irregular series */
    for (i = 0; i < 30; i++) {
        recs[2 * i + 1].first_us = T0 + 37 * 1000000LL + i * 97 * 1000000LL;
        recs[2 * i + 1].last_us = recs[2 * i + 1].first_us + 1000000;
    }
    json = detect(m, grown, recs, n);
    assert_int_equal(count_with(json, "beacon", "\"bs\":\"enb-2\""), 1);
    assert_int_equal(count_with(json, "beacon", "\"bs\":\"enb-3\""), 1);
    free(json);
    /* the PM upload trained at 4 an hour (limit 12): 8 in one hour from each is no rate */
    n = 0;
    for (i = 0; i < 8; i++) {
        mw_flow_record_t r = flow(T0 + 10 * 60 * MIN + i * 7 * MIN, v4(10, 9, 0, 1), 22, P_SSH,
                MW_SVC_SSH, MW_PLANE_MANAGEMENT, MW_ROLE_EMS, 0, 5000, 800);
        recs[n++] = at_station(r, 2, 2);
        r.first_us += 3 * MIN;
        r.last_us += 3 * MIN;
        r.flow_id++;
        recs[n++] = at_station(r, 3, 3);
    }
    json = detect(m, grown, recs, n);
    assert_int_equal(count(json, "rate"), 0);
    free(json);
    /* 14 from one of them is */
    for (i = 0; i < 6; i++) {
        recs[n] = recs[2 * i];
        recs[n].first_us += 2 * MIN;
        recs[n].last_us += 2 * MIN;
        recs[n++].flow_id += 1000;
    }
    json = detect(m, grown, recs, n);
    assert_true(count(json, "rate") >= 1);
    assert_int_equal(count_with(json, "rate", "\"bs\":\"enb-3\""), 0);
    assert_non_null(strstr(json, "started 14 times in one hour"));
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(grown);
    mw_inventory_destroy(inv);
}

/* Two base stations talking anything but X2/Xn and GTP-U is lateral movement. */
static void test_lateral_between_stations(void **state)
{
    mw_inventory_t *inv = site_with("  - id: enb-2\n    type: enb\n    prefixes: [10.0.0.2/32]\n");
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    mw_flow_record_t recs[2];
    char *json;
    (void)state;

    /* enb-1 opens an unnamed protocol on port 1935 to enb-2 */
    recs[0] = flow(T0 + 10 * MIN, v4(10, 0, 0, 2), 1935, P_UNKNOWN, MW_SVC_NONE, MW_PLANE_UNKNOWN,
            MW_ROLE_BASE_STATION, 0, 4000, 4000);
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "new_service"), 1);
    assert_non_null(strstr(json, "\"severity\":\"high\""));
    assert_non_null(strstr(json, "\"kind\":3"));
    assert_non_null(strstr(json, "base station to base station over Unknown"));
    free(json);
    /* the same pair on the control plane (X2AP over SCTP) is not this detector's */
    recs[0].plane = MW_PLANE_CONTROL;
    recs[0].l4_proto = 132;
    recs[0].dst_port = 36422;
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "new_service"), 0);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* X2 between enb-1 and enb-2, opened by `from` (1 or 2) at t: a record of the opener's. */
static mw_flow_record_t x2(int64_t t, int from)
{
    mw_flow_record_t r = flow(t, v4(10, 0, 0, 2), 36422, P_UNKNOWN, MW_SVC_X2AP, MW_PLANE_CONTROL,
            MW_ROLE_BASE_STATION, 0, 3000, 1000);

    r.l4_proto = 132;
    r.initiator = MW_INIT_UNKNOWN; /* both ends are base stations */
    if (from == 2) {
        r = at_station(r, 2, 2);
        r.dst_lo = v4(10, 0, 0, 1);
    }
    return r;
}

/* enb-1 opens X2 to enb-2 every hour; enb-3 has a day like enb-1's, without X2. */
static void enb1_opens_x2_hourly(mw_flow_record_t *out, size_t *n, int64_t day0)
{
    size_t i, from = *n;
    int64_t t;

    normal_day(out, n, day0);
    for (i = from; i < *n; i++)
        out[i] = at_station(out[i], 3, 3);
    for (t = day0; t < day0 + DAY; t += 60 * MIN)
        out[(*n)++] = x2(t + 7 * MIN, 1);
}

/* Either eNB may set up their X2: training saw enb-1 open it; enb-2 opening it is the
 * same association, not signalling with a peer it never had. enb-3, which never signalled
 * with enb-2, still is. */
static void test_x2_opened_by_the_other_station(void **state)
{
    mw_inventory_t *inv = site_with("  - id: enb-2\n    type: enb\n    prefixes: [10.0.0.2/32]\n"
                                    "  - id: enb-3\n    type: enb\n    prefixes: [10.0.0.3/32]\n");
    mw_model_t *m = train_with(inv, 7, T0 - 7 * DAY, enb1_opens_x2_hourly);
    mw_flow_record_t recs[2];
    char *json;
    (void)state;

    recs[0] = x2(T0 + 10 * MIN, 2);
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "leakage"), 0);
    free(json);
    /* judged as enb-1's session, a finding on it is enb-1's: its station, its address, what
     * it sent (here 100x its largest X2 upload of training) */
    recs[0].s2c.bytes = 300000;
    recs[0].s2c.packets = 250;
    json = detect(m, inv, recs, 1);
    assert_true(count(json, "volume") >= 1);
    assert_int_equal(count_with(json, "volume", "\"bs\":\"enb-1\",\"local\":\"10.0.0.1\""),
            count(json, "volume"));
    assert_int_equal(count_with(json, "volume", "\"peer\":\"10.0.0.2\""), count(json, "volume"));
    assert_int_equal(count_with(json, "volume", "\"bytes_up\":300000"), count(json, "volume"));
    free(json);
    recs[0] = x2(T0 + 10 * MIN, 2);
    recs[1] = at_station(x2(T0 + 20 * MIN, 1), 3, 3); /* enb-3 -> enb-2 */
    json = detect(m, inv, recs, 2);
    assert_int_equal(count(json, "leakage"), 1);
    assert_int_equal(count_with(json, "leakage", "\"bs\":\"enb-3\""), 1);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

static void enb2_day_from_host3(mw_flow_record_t *out, size_t *n, int64_t day0)
{
    size_t i, from = *n;

    normal_day(out, n, day0);
    for (i = from; i < *n; i++)
        out[i] = from_host(out[i], 2, 0, v4(10, 0, 1, 3));
}

/* A station's window findings name the address its bytes went from, of that family: not
 * its first prefix's network address, and a Wireshark filter that can match. */
static void test_window_finding_names_the_hosts_address(void **state)
{
    mw_inventory_t *inv = site_with(
            "  - id: enb-2\n    type: enb\n    prefixes: [10.0.1.0/29, \"2001:db8:1::/64\"]\n");
    mw_model_t *m = train_with(inv, 7, T0 - 7 * DAY, enb2_day_from_host3);
    static mw_flow_record_t recs[400];
    const uint64_t net6 = 0x20010db800010000ULL;
    size_t n = 0, i;
    char *json;
    (void)state;

    burst(recs, &n, T0 + 5 * MIN, 200); /* 1 MB in one window, from 10.0.1.3 */
    for (i = 0; i < n; i++)
        recs[i] = from_host(recs[i], 2, 0, v4(10, 0, 1, 3));
    json = detect(m, inv, recs, n);
    assert_int_equal(count(json, "volume"), 2);
    assert_int_equal(count_with(json, "volume", "\"local\":\"10.0.1.3\""), 2);
    assert_int_equal(count_with(json, "volume", "ip.addr==10.0.1.3 && ip.addr==10.9.0.1"), 2);
    free(json);
    /* the same over IPv6, to the EMS's IPv6 address */
    n = 0;
    burst(recs, &n, T0 + 5 * MIN, 200);
    for (i = 0; i < n; i++) {
        recs[i] = from_host(recs[i], 2, net6, 5);
        recs[i].dst_hi = 0x20010db800090000ULL;
        recs[i].dst_lo = 1;
    }
    json = detect(m, inv, recs, n);
    assert_true(count(json, "volume") >= 1);
    assert_int_equal(
            count_with(json, "volume", "\"local\":\"2001:db8:1::5\""), count(json, "volume"));
    assert_int_equal(
            count_with(json, "volume", "ipv6.addr==2001:db8:1::5 && ipv6.addr==2001:db8:9::1"),
            count(json, "volume"));
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* PTP's default profile: the grandmaster's general messages (Announce, Follow_Up,
 * Delay_Resp, port 320) go to a multicast group, a record of no base station. From the
 * inventory's PTP source they are the site's clock, from any other address a rogue one,
 * reported for the site; a slave's Delay_Req (port 319), the peer-delay group every P2P port
 * uses, and NTP (whose records do not tell a server's mode) are not judged. */
static void test_multicast_time_source(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    mw_flow_record_t r;
    char *json;
    (void)state;

    memset(&r, 0, sizeof(r));
    r.flow_id = 7;
    r.first_us = T0 + 10 * MIN;
    r.last_us = r.first_us + 64000000;
    r.ip_version = 4;
    r.l4_proto = 17;
    r.src_lo = v4(10, 9, 0, 4);
    r.dst_lo = v4(224, 0, 1, 129);
    r.src_port = r.dst_port = 320;
    r.service = MW_SVC_PTP;
    r.plane = MW_PLANE_SYNC;
    r.peer_role = MW_ROLE_PTP;
    r.c2s.packets = 64;
    r.c2s.bytes = 5400;
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "time_source"), 0);
    free(json);
    r.src_lo = v4(198, 51, 100, 9);
    r.peer_role = MW_ROLE_UNKNOWN;
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "time_source"), 1);
    assert_int_equal(
            count_with(json, "time_source",
                    "\"bs\":\"\",\"local\":\"224.0.1.129\",\"local_kind\":\"multicast_group\""),
            1);
    assert_non_null(
            strstr(json, "PTP master messages to the multicast group 224.0.1.129 (port 320) "
                         "from 198.51.100.9, which the inventory does not list"));
    free(json);
    r.src_port = r.dst_port = 319; /* a Delay_Req: any slave sends those */
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "time_source"), 0);
    free(json);
    r.src_port = r.dst_port = 320;
    r.dst_lo = v4(224, 0, 0, 107); /* the peer-delay group */
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "time_source"), 0);
    free(json);
    r.dst_lo = v4(224, 0, 1, 1);
    r.src_port = r.dst_port = 123;
    r.service = MW_SVC_NTP;
    json = detect(m, inv, &r, 1);
    assert_int_equal(count(json, "time_source"), 0);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* A scanner's probes that the station refused (its RST, ABORT or port unreachable:
 * refused_by its side) exchanged nothing: no signalling with a new peer (GTP-C, S1AP), no
 * cleartext TFTP, and the refusals' bytes are no upload - only the scanner is news. A
 * station answering an outsider's NTP requests serves time: no new time source of it, a
 * new peer. Each record also runs unrefused to show what the flag changes. */
static void test_refused_probes_and_served_time(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    const uint64_t scanner = v4(203, 0, 113, 20);
    mw_flow_record_t recs[5];
    char *json;
    int i;
    (void)state;

    recs[0] = flow(T0 + 10 * MIN, scanner, 2123, P_UNKNOWN, MW_SVC_GTPC, MW_PLANE_CONTROL,
            MW_ROLE_UNKNOWN, 1, 70, 42);
    recs[0].l4_proto = 17;
    recs[1] = flow(T0 + 11 * MIN, scanner, 36412, P_UNKNOWN, MW_SVC_S1AP, MW_PLANE_CONTROL,
            MW_ROLE_UNKNOWN, 1, 74, 82);
    recs[1].l4_proto = 132;
    recs[2] = flow(T0 + 12 * MIN, scanner, 69, P_UNKNOWN, MW_SVC_TFTP, MW_PLANE_MANAGEMENT,
            MW_ROLE_UNKNOWN, 1, 70, 42);
    recs[2].l4_proto = 17;
    recs[2].risk = mw_classifier_risk_mask(MW_RISK_CLEARTEXT);
    /* 20,000 probes of one port, each answered by a port unreachable of 70 bytes: 1.4 MB of
     * ICMP from the station */
    recs[3] = flow(T0 + 13 * MIN, scanner, 7, P_UNKNOWN, MW_SVC_NONE, MW_PLANE_UNKNOWN,
            MW_ROLE_UNKNOWN, 1, 1400000, 840000);
    recs[3].l4_proto = 17;
    recs[3].c2s.packets = recs[3].s2c.packets = 20000;
    json = detect(m, inv, recs, 4);
    assert_int_equal(count(json, "leakage"), 2);
    assert_int_equal(count(json, "cleartext"), 1);
    assert_true(count(json, "volume") >= 1);
    free(json);
    for (i = 0; i < 4; i++)
        recs[i].refused_by = MW_SIDE_DST; /* the station, which the scanner's packets reached */
    json = detect(m, inv, recs, 4);
    assert_int_equal(count(json, "leakage"), 0);
    assert_int_equal(count(json, "cleartext"), 0);
    assert_int_equal(count(json, "volume"), 0);
    assert_int_equal(count_with(json, "new_peer", "\"peer\":\"203.0.113.20\""), 1);
    assert_non_null(strstr(json, "0 B up"));
    assert_non_null(strstr(json, "connection attempts to Unknown (TFTP)"));
    assert_non_null(strstr(json, "4 flows, 0 B up"));
    free(json);
    /* the scanner refused the station's datagrams: what the station sent still went up */
    recs[0] = recs[3];
    recs[0].refused_by = MW_SIDE_SRC;
    json = detect(m, inv, recs, 1);
    assert_non_null(strstr(json, "1.4 MB up"));
    free(json);
    /* "refusals" of 1,470 bytes each (forged errors quoting a made-up packet and carrying
     * an upload): what they hold beyond a bare refusal is sent data */
    recs[0] = recs[3];
    recs[0].s2c.packets = 3000;
    recs[0].s2c.bytes = 3000 * 1470;
    recs[0].refused_by = MW_SIDE_DST;
    json = detect(m, inv, recs, 1);
    assert_true(count(json, "volume") >= 1);
    assert_non_null(strstr(json, "4.0 MB up"));
    free(json);
    /* the station sends 2,000 TFTP datagrams to a new peer, one port unreachable comes back:
     * refused_by the peer, but the station's data went - clear text */
    recs[0] = flow(T0 + 14 * MIN, scanner, 69, P_UNKNOWN, MW_SVC_TFTP, MW_PLANE_MANAGEMENT,
            MW_ROLE_UNKNOWN, 0, 2100000, 70);
    recs[0].l4_proto = 17;
    recs[0].c2s.packets = 2000;
    recs[0].refused_by = MW_SIDE_DST;
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "cleartext"), 1);
    free(json);

    /* an NTP client 203.0.113.40 asks the station (port 123) */
    recs[0] = flow(T0 + 20 * MIN, v4(203, 0, 113, 40), 123, P_NTP, MW_SVC_NTP, MW_PLANE_SYNC,
            MW_ROLE_UNKNOWN, 1, 90, 90);
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "time_source"), 0);
    assert_int_equal(count_with(json, "new_peer", "\"peer\":\"203.0.113.40\""), 1);
    free(json);
    /* both on port 123 (symmetric mode): the one who asked takes time */
    recs[0].src_port = 123;
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "time_source"), 0);
    free(json);
    recs[0] = flow(T0 + 20 * MIN, v4(203, 0, 113, 40), 123, P_NTP, MW_SVC_NTP, MW_PLANE_SYNC,
            MW_ROLE_UNKNOWN, 0, 90, 90);
    recs[0].src_port = 123;
    json = detect(m, inv, recs, 1);
    assert_int_equal(count(json, "time_source"), 1);
    assert_int_equal(count(json, "new_peer"), 0);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

/* IPsec with a peer the inventory does not list is news at once, however few bytes it
 * moved (other traffic off the management plane counts from 64 kB): IKE the station opened
 * or answered, ESP it sent - not an outsider's probe of port 500 that the station never
 * answered or refused, nor ESP only the peer sent. */
static void test_ipsec_key_exchange_with_unlisted_peer(void **state)
{
    mw_inventory_t *inv = site();
    mw_model_t *m = train(inv, 7, T0 - 7 * DAY);
    const uint64_t gateway = v4(203, 0, 113, 50);
    mw_flow_record_t rec;
    char *json;
    (void)state;

    /* the station opens an IKE exchange: 3 kB, then ESP of 20 kB */
    rec = flow(T0 + 10 * MIN, gateway, 500, P_UNKNOWN, MW_SVC_IKE, MW_PLANE_TRANSPORT,
            MW_ROLE_UNKNOWN, 0, 1800, 1200);
    rec.l4_proto = 17;
    json = detect(m, inv, &rec, 1);
    assert_int_equal(count_with(json, "new_peer", "\"peer\":\"203.0.113.50\""), 1);
    assert_non_null(strstr(json, "IPsec with a peer that is none of"));
    assert_non_null(strstr(json, "\"kind\":2"));
    free(json);
    /* the peer opened it and the station answered: the same */
    rec = flow(T0 + 10 * MIN, gateway, 500, P_UNKNOWN, MW_SVC_IKE, MW_PLANE_TRANSPORT,
            MW_ROLE_UNKNOWN, 1, 1200, 1800);
    rec.l4_proto = 17;
    json = detect(m, inv, &rec, 1);
    assert_int_equal(count_with(json, "new_peer", "\"kind\":2"), 1);
    free(json);
    /* an outsider's probe the station did not answer, then one it refused: 64 kB or nothing */
    rec.s2c.bytes = 0;
    json = detect(m, inv, &rec, 1);
    assert_int_equal(count(json, "new_peer"), 0);
    free(json);
    rec.s2c.bytes = 70;
    rec.refused_by = MW_SIDE_DST;
    json = detect(m, inv, &rec, 1);
    assert_int_equal(count(json, "new_peer"), 0);
    free(json);
    /* ESP the station sends, its key exchange before the capture began: the same */
    rec = flow(T0 + 10 * MIN, gateway, 0, P_UNKNOWN, MW_SVC_ESP, MW_PLANE_TRANSPORT,
            MW_ROLE_UNKNOWN, 0, 900, 950);
    rec.l4_proto = 50;
    rec.orient = MW_ORIENT_FIRST_PACKET;
    rec.src_port = rec.dst_port = 0;
    json = detect(m, inv, &rec, 1);
    assert_int_equal(count_with(json, "new_peer", "\"kind\":2"), 1);
    free(json);
    /* ESP only from the peer (the station holds no association): 64 kB or nothing */
    rec.c2s.bytes = 0;
    json = detect(m, inv, &rec, 1);
    assert_int_equal(count(json, "new_peer"), 0);
    free(json);
    /* the inventory's security gateway: no news */
    rec = flow(T0 + 10 * MIN, gateway, 500, P_UNKNOWN, MW_SVC_IKE, MW_PLANE_TRANSPORT, MW_ROLE_SEGW,
            0, 1800, 1200);
    rec.l4_proto = 17;
    json = detect(m, inv, &rec, 1);
    assert_int_equal(count(json, "new_peer"), 0);
    free(json);
    mw_model_destroy(m);
    mw_inventory_destroy(inv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_day_is_quiet),
        cmocka_unit_test(test_capture_health),
        cmocka_unit_test(test_novelty_detectors),
        cmocka_unit_test(test_ipsec_key_exchange_with_unlisted_peer),
        cmocka_unit_test(test_guessed_opener_matches_training),
        cmocka_unit_test(test_volume_needs_learning_and_constant_series),
        cmocka_unit_test(test_beacon_regular_vs_jittery_and_order),
        cmocka_unit_test(test_beacon_all_day),
        cmocka_unit_test(test_beacon_in_one_flow),
        cmocka_unit_test(test_beacon_twin_records),
        cmocka_unit_test(test_gap_and_off_hours),
        cmocka_unit_test(test_merge_equals_joint),
        cmocka_unit_test(test_new_station_uses_group),
        cmocka_unit_test(test_group_scored_stations_stay_apart),
        cmocka_unit_test(test_two_hours_are_not_two_days),
        cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_lateral_between_stations),
        cmocka_unit_test(test_x2_opened_by_the_other_station),
        cmocka_unit_test(test_window_finding_names_the_hosts_address),
        cmocka_unit_test(test_multicast_time_source),
        cmocka_unit_test(test_ftp_data_connections),
        cmocka_unit_test(test_ftp_passive_data_connections),
        cmocka_unit_test(test_mid_stream_label_is_no_news),
        cmocka_unit_test(test_gtpc_paths),
        cmocka_unit_test(test_subscriber_http_is_not_cleartext),
        cmocka_unit_test(test_refused_probes_and_served_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
