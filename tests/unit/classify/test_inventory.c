/*
 * test_inventory.c - the site inventory loader: the demo file loads and
 * answers lookups, every error class gives its exact one-line
 * "FILE:LINE: " message, and maintenance windows follow the site's time zone
 * (including a daylight-saving jump) without disturbing the process's TZ.
 *
 * Error fixtures are written to a temporary directory by the test and loaded
 * as "site.yaml" from there, so the expected messages read exactly as an
 * engineer would see them; each case keeps its YAML next to its message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classify/inventory.h"
#include "classify/prefix_tree.h"
#include "core/mw.h"

#define DEMO MW_SOURCE_DIR "/tests/data/inventory/demo-site.yaml"

static char tmpdir[64];
static char olddir[4096];

static int setup_tmp(void **state)
{
    MW_UNUSED(state);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/mw-inv-XXXXXX");
    if (mkdtemp(tmpdir) == NULL || getcwd(olddir, sizeof(olddir)) == NULL || chdir(tmpdir) != 0)
        return -1;
    return 0;
}

static int teardown_tmp(void **state)
{
    MW_UNUSED(state);
    unlink("site.yaml");
    if (chdir(olddir) != 0)
        return -1;
    rmdir(tmpdir);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void lookup(
        const mw_inventory_t *inv, const char *addr_text, unsigned role, unsigned bs_index)
{
    uint8_t a[16];
    unsigned bits;
    mw_inventory_match_t m;

    assert_int_equal(mw_prefix_parse(addr_text, a, &bits), MW_OK);
    mw_inventory_lookup(inv, a, &m);
    if (m.role != role || m.bs_index != bs_index)
        fail_msg("%s: role %s bs %u, want %s bs %u", addr_text, mw_role_name(m.role), m.bs_index,
                mw_role_name(role), bs_index);
}

static void test_demo_site(void **state)
{
    char err[MW_ERRBUF_SIZE] = "";
    mw_inventory_t *inv = mw_inventory_load(DEMO, err, sizeof(err));
    mw_maint_window_t w;
    mw_inventory_prefix_t p;
    mw_inventory_match_t m;
    const char *text;
    size_t len;

    MW_UNUSED(state);
    if (inv == NULL)
        fail_msg("%s", err);
    assert_string_equal(mw_inventory_site(inv), "demo-site");
    assert_string_equal(mw_inventory_timezone(inv), "Europe/Paris");
    assert_int_equal(mw_inventory_bs_count(inv), 3);
    assert_string_equal(mw_inventory_bs_id(inv, 1), "enb-001");
    assert_string_equal(mw_inventory_bs_id(inv, 2), "gnb-002");
    assert_null(mw_inventory_bs_id(inv, 0));
    assert_null(mw_inventory_bs_id(inv, 4));
    assert_int_equal(mw_inventory_bs_type(inv, 1), MW_BS_ENB);
    assert_int_equal(mw_inventory_bs_type(inv, 2), MW_BS_GNB);
    assert_string_equal(mw_bs_type_name(MW_BS_GNB), "gnb");
    assert_int_equal(mw_inventory_bs_find(inv, "enb-003"), 3);
    assert_int_equal(mw_inventory_bs_find(inv, "enb-004"), 0);

    assert_int_equal(mw_inventory_window_count(inv), 2);
    assert_int_equal(mw_inventory_window(inv, 0, &w), MW_OK);
    assert_int_equal(w.days, MW_DAY_SUN);
    assert_int_equal(w.start_min, 120);
    assert_int_equal(w.end_min, 240);
    assert_int_equal(mw_inventory_window(inv, 1, &w), MW_OK);
    assert_int_equal(w.days, 0x0c); /* wed | thu */
    assert_int_equal(mw_inventory_window(inv, 2, &w), MW_EINVAL);

    lookup(inv, "10.10.1.11", MW_ROLE_BASE_STATION, 1);
    lookup(inv, "10.10.1.12", MW_ROLE_BASE_STATION, 2);
    lookup(inv, "2001:db8:10::12", MW_ROLE_BASE_STATION, 2);
    lookup(inv, "10.10.2.9", MW_ROLE_BASE_STATION, 3);
    lookup(inv, "10.10.2.16", MW_ROLE_UNKNOWN, 0);
    lookup(inv, "10.20.0.10", MW_ROLE_EMS, 0); /* /32 inside oam_peer's /16 */
    lookup(inv, "10.20.0.11", MW_ROLE_OAM_PEER, 0);
    lookup(inv, "10.20.0.30", MW_ROLE_SYSLOG, 0);
    lookup(inv, "10.50.0.2", MW_ROLE_NTP, 0);
    lookup(inv, "2001:db8:40:1::7", MW_ROLE_UPF, 0);
    lookup(inv, "192.0.2.1", MW_ROLE_UNKNOWN, 0);
    lookup(inv, "2001:db8:99::1", MW_ROLE_UNKNOWN, 0);
    /* The flow record's uint64 halves: ::ffff:10.10.1.11 */
    assert_int_equal(mw_inventory_lookup_u64(inv, 0, 0x0000ffff0a0a010bULL, &m), 1);
    assert_int_equal(m.role, MW_ROLE_BASE_STATION);
    assert_int_equal(m.bs_index, 1);
    assert_int_equal(m.prefix_bits, 128);

    assert_int_equal(mw_inventory_prefix_count(inv), 17);
    assert_int_equal(mw_inventory_prefix(inv, 0, &p), MW_OK);
    assert_int_equal(p.role, MW_ROLE_BASE_STATION);
    assert_int_equal(p.bs_index, 1);
    assert_int_equal(p.line, 15);

    text = mw_inventory_yaml_text(inv, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "# the EMS/NMS above are more specific and win"));
    mw_inventory_destroy(inv);
    mw_inventory_destroy(NULL);
}

static void test_print_summary(void **state)
{
    char err[MW_ERRBUF_SIZE] = "", *text = NULL;
    size_t len = 0;
    mw_inventory_t *inv = mw_inventory_load(DEMO, err, sizeof(err));
    FILE *out;

    MW_UNUSED(state);
    if (inv == NULL)
        fail_msg("%s", err);
    out = open_memstream(&text, &len);
    assert_non_null(out);
    mw_inventory_print_summary(inv, out);
    mw_inventory_print_summary(NULL, out);
    fclose(out);
    assert_string_equal(text, "site: demo-site\n"
                              "timezone: Europe/Paris\n"
                              "base stations: 3 (2 enb, 1 gnb)\n"
                              "prefixes: 17\n"
                              "  base_station: 4\n"
                              "  ems: 1\n"
                              "  nms: 1\n"
                              "  segw: 1\n"
                              "  mme: 1\n"
                              "  amf: 1\n"
                              "  sgw: 1\n"
                              "  upf: 1\n"
                              "  ntp: 2\n"
                              "  ptp: 1\n"
                              "  dns: 1\n"
                              "  syslog: 1\n"
                              "  oam_peer: 1\n"
                              "maintenance windows: 2\n"
                              "  sun 02:00-04:00\n"
                              "  wed,thu 23:30-00:30 (next day)\n"
                              "bs 1 enb-001 (enb): 10.10.1.11/32\n"
                              "bs 2 gnb-002 (gnb): 10.10.1.12/32 2001:db8:10::12/128\n"
                              "bs 3 enb-003 (enb): 10.10.2.0/28\n");
    free(text);
    mw_inventory_destroy(inv);
}

/* ---- error classes -------------------------------------------------------- */

typedef struct err_case {
    const char *name;
    const char *yaml;
    const char *message;
} err_case_t;

static const err_case_t err_cases[] = {
    { "unknown key in base station",
            "site: s\n"
            "base_stations:\n"
            "  - id: enb-001\n"
            "    type: enb\n"
            "    prefixs: [10.10.1.11/32]\n",
            "site.yaml:5: unknown key 'prefixs' in base station (expected id, type, prefixes)" },
    { "unknown top-level key",
            "site: s\n"
            "base_station: []\n",
            "site.yaml:2: unknown key 'base_station' at top level (expected site, timezone, "
            "maintenance_windows, base_stations, roles)" },
    { "unknown role",
            "site: s\n"
            "roles:\n"
            "  ems: []\n"
            "  ntp_server: [10.0.0.1/32]\n",
            "site.yaml:4: unknown key 'ntp_server' in roles (expected ems, nms, oss, segw, mme, "
            "amf, sgw, upf, smf, ntp, ptp, dns, syslog, oam_peer)" },
    { "unknown key in window",
            "site: s\n"
            "maintenance_windows:\n"
            "  - days: [sun]\n"
            "    start: \"02:00\"\n"
            "    stop: \"04:00\"\n",
            "site.yaml:5: unknown key 'stop' in maintenance window (expected days, start, end)" },
    { "duplicate key",
            "site: s\n"
            "timezone: UTC\n"
            "site: t\n",
            "site.yaml:3: duplicate key 'site' at top level (first at line 1)" },
    { "bad prefix",
            "site: s\n"
            "base_stations:\n"
            "  - id: enb-001\n"
            "    type: enb\n"
            "    prefixes: [10.10.1.11/32,\n"
            "               10.10.1.300/32]\n",
            "site.yaml:6: bad prefix '10.10.1.300/32'" },
    { "bad prefix length",
            "site: s\n"
            "roles:\n"
            "  ems: [\"2001:db8::/129\"]\n",
            "site.yaml:3: bad prefix '2001:db8::/129'" },
    { "host bits set",
            "site: s\n"
            "roles:\n"
            "  ems: [10.10.1.11/24]\n",
            "site.yaml:3: bad prefix '10.10.1.11/24' (host bits set; did you mean 10.10.1.0/24?)" },
    { "control characters are quoted safely",
            "site: s\n"
            "roles:\n"
            "  ems: [\"10.0.0.1\\n/32\"]\n",
            "site.yaml:3: bad prefix '10.0.0.1?/32'" },
    { "prefix with two roles",
            "site: s\n"
            "roles:\n"
            "  oam_peer: [10.20.0.0/16]\n"
            "  ems: [10.20.0.10/32]\n"
            "  nms: [10.20.0.11/32,\n"
            "        10.20.0.10/32]\n",
            "site.yaml:6: prefix 10.20.0.10/32 is both 'ems' and 'nms'" },
    { "same prefix in both address forms",
            "site: s\n"
            "roles:\n"
            "  ems: [10.20.0.10/32]\n"
            "  nms: [\"::ffff:10.20.0.10/128\"]\n",
            "site.yaml:4: prefix ::ffff:10.20.0.10/128 is both 'ems' and 'nms'" },
    { "base station prefix equal to a role prefix",
            "site: s\n"
            "roles:\n"
            "  ems: [10.10.1.11/32]\n"
            "base_stations:\n"
            "  - id: enb-001\n"
            "    type: enb\n"
            "    prefixes: [10.10.1.11/32]\n",
            "site.yaml:3: prefix 10.10.1.11/32 is both base station 'enb-001' and 'ems'" },
    { "two base stations with one prefix",
            "site: s\n"
            "base_stations:\n"
            "  - {id: enb-001, type: enb, prefixes: [10.10.1.0/28]}\n"
            "  - {id: enb-002, type: enb, prefixes: [10.10.1.0/28]}\n",
            "site.yaml:4: prefix 10.10.1.0/28 is both base station 'enb-001' and base station "
            "'enb-002'" },
    { "prefix listed twice for one role",
            "site: s\n"
            "roles:\n"
            "  ntp: [10.50.0.1/32, 10.50.0.2/32,\n"
            "        10.50.0.1/32]\n",
            "site.yaml:4: prefix 10.50.0.1/32 is listed twice for 'ntp' (first at line 3)" },
    { "duplicate base station id",
            "site: s\n"
            "base_stations:\n"
            "  - id: enb-001\n"
            "    type: enb\n"
            "    prefixes: [10.10.1.11/32]\n"
            "  - id: enb-002\n"
            "    type: enb\n"
            "    prefixes: [10.10.1.12/32]\n"
            "  - id: enb-001\n"
            "    type: enb\n"
            "    prefixes: [10.10.1.13/32]\n",
            "site.yaml:9: duplicate base station id 'enb-001' (first at line 3)" },
    { "bad base station type",
            "site: s\n"
            "base_stations:\n"
            "  - id: enb-001\n"
            "    type: lte\n"
            "    prefixes: [10.10.1.11/32]\n",
            "site.yaml:4: bad base station type 'lte' (expected enb or gnb)" },
    { "base station without type",
            "site: s\n"
            "base_stations:\n"
            "  - id: enb-001\n"
            "    prefixes: [10.10.1.11/32]\n",
            "site.yaml:3: base station is missing 'type'" },
    { "base station without prefixes",
            "site: s\n"
            "base_stations:\n"
            "  - id: enb-001\n"
            "    type: enb\n"
            "    prefixes: []\n",
            "site.yaml:5: base station 'enb-001' has no prefixes" },
    { "role value is not a list",
            "site: s\n"
            "roles:\n"
            "  ems: 10.20.0.10/32\n",
            "site.yaml:3: 'ems' must be a list" },
    { "window start 25:00",
            "site: s\n"
            "maintenance_windows:\n"
            "  - days: [sun]\n"
            "    start: \"25:00\"\n"
            "    end: \"04:00\"\n",
            "site.yaml:4: bad maintenance window: start '25:00' (expected HH:MM, 00:00 to 23:59)" },
    { "window end 24:01",
            "site: s\n"
            "maintenance_windows:\n"
            "  - days: [sun]\n"
            "    start: \"02:00\"\n"
            "    end: \"24:01\"\n",
            "site.yaml:5: bad maintenance window: end '24:01' (expected HH:MM, 00:00 to 24:00)" },
    { "window minutes 2:7",
            "site: s\n"
            "maintenance_windows:\n"
            "  - days: [sun]\n"
            "    start: \"2:7\"\n"
            "    end: \"04:00\"\n",
            "site.yaml:4: bad maintenance window: start '2:7' (expected HH:MM, 00:00 to 23:59)" },
    { "window of zero length",
            "site: s\n"
            "maintenance_windows:\n"
            "  - days: [sun]\n"
            "    start: \"00:00\"\n"
            "    end: \"24:00\"\n",
            "site.yaml:5: bad maintenance window: start and end are the same time" },
    { "unknown day",
            "site: s\n"
            "maintenance_windows:\n"
            "  - days: [sat,\n"
            "           sunday]\n"
            "    start: \"02:00\"\n"
            "    end: \"04:00\"\n",
            "site.yaml:4: bad maintenance window: unknown day 'sunday' (expected mon, tue, wed, "
            "thu, fri, sat, sun)" },
    { "window without end",
            "site: s\n"
            "maintenance_windows:\n"
            "  - days: [sun]\n"
            "    start: \"02:00\"\n",
            "site.yaml:3: bad maintenance window: missing 'end'" },
    { "unknown timezone",
            "site: s\n"
            "timezone: Europe/Berln\n",
            "site.yaml:2: unknown timezone 'Europe/Berln' (not a zone under /usr/share/zoneinfo)" },
    { "timezone outside zoneinfo",
            "site: s\n"
            "timezone: ../../../etc/passwd\n",
            "site.yaml:2: unknown timezone '../../../etc/passwd' (not a zone under "
            "/usr/share/zoneinfo)" },
    { "missing site",
            "timezone: UTC\n"
            "base_stations: []\n",
            "site.yaml:1: missing key 'site' (the site name)" },
    { "empty site", "site:\n", "site.yaml:1: 'site' must be a name" },
    { "not YAML",
            "site: s\n"
            "roles: [ems: [10.0.0.1/32]\n",
            "site.yaml:3: not valid YAML: did not find expected ',' or ']'" },
    { "not a mapping",
            "- site\n"
            "- s\n",
            "site.yaml:1: the file must be a mapping with site, timezone, maintenance_windows, "
            "base_stations, roles" },
    { "empty file", "# nothing here\n",
            "site.yaml:1: empty file (expected site, base_stations, roles, ...)" },
    { "two documents",
            "site: s\n"
            "---\n"
            "site: t\n",
            "site.yaml:2: more than one YAML document (remove the second '---')" },
};

static void test_error_messages(void **state)
{
    char err[MW_ERRBUF_SIZE];
    size_t i;

    MW_UNUSED(state);
    for (i = 0; i < MW_ARRAY_LEN(err_cases); i++) {
        mw_inventory_t *inv;

        write_file("site.yaml", err_cases[i].yaml);
        strcpy(err, "(untouched)");
        inv = mw_inventory_load("site.yaml", err, sizeof(err));
        if (inv != NULL) {
            mw_inventory_destroy(inv);
            fail_msg("case '%s' loaded without error", err_cases[i].name);
        }
        if (strcmp(err, err_cases[i].message) != 0)
            fail_msg(
                    "case '%s':\n got  %s\n want %s", err_cases[i].name, err, err_cases[i].message);
        assert_null(strchr(err, '\n'));
    }
}

static void test_file_errors(void **state)
{
    char err[MW_ERRBUF_SIZE];

    MW_UNUSED(state);
    assert_null(mw_inventory_load("nope.yaml", err, sizeof(err)));
    assert_string_equal(err, "nope.yaml:0: cannot open: No such file or directory");
    assert_null(mw_inventory_load("/bin/sh", err, sizeof(err)));
    assert_string_equal(err, "/bin/sh:1: not valid YAML: control characters are not allowed");
    assert_null(mw_inventory_load(NULL, err, sizeof(err)));
    /* A NULL error buffer is allowed. */
    assert_null(mw_inventory_load("nope.yaml", NULL, 0));
}

static void test_optional_sections(void **state)
{
    char err[MW_ERRBUF_SIZE] = "";
    mw_inventory_t *inv;

    MW_UNUSED(state);
    write_file("site.yaml", "site: minimal\n"
                            "maintenance_windows:\n"
                            "base_stations:\n"
                            "  - id: gnb-9\n"
                            "    type: GNB\n"
                            "    prefixes:\n"
                            "      - 2001:db8:9::/64\n"
                            "roles:\n"
                            "  ems:\n");
    inv = mw_inventory_load("site.yaml", err, sizeof(err));
    if (inv == NULL)
        fail_msg("%s", err);
    assert_string_equal(mw_inventory_timezone(inv), "UTC");
    assert_int_equal(mw_inventory_window_count(inv), 0);
    assert_int_equal(mw_inventory_in_maintenance(inv, 0), 0);
    assert_int_equal(mw_inventory_bs_type(inv, 1), MW_BS_GNB);
    lookup(inv, "2001:db8:9::abcd", MW_ROLE_BASE_STATION, 1);
    mw_inventory_destroy(inv);
}

/* ---- maintenance windows and time zones ----------------------------------- */

static int64_t utc_us(int y, int mon, int d, int h, int min, int s)
{
    struct tm tm = { 0 };

    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = min;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm) * 1000000;
}

static void test_maintenance_paris(void **state)
{
    char err[MW_ERRBUF_SIZE] = "";
    mw_inventory_t *inv;
    const char *tz;

    MW_UNUSED(state);
    /* The loader switches TZ for a moment; it must put the caller's back. */
    setenv("TZ", "America/New_York", 1);
    inv = mw_inventory_load(DEMO, err, sizeof(err));
    if (inv == NULL)
        fail_msg("%s", err);
    tz = getenv("TZ");
    assert_non_null(tz);
    assert_string_equal(tz, "America/New_York");
    unsetenv("TZ");

    assert_int_equal(mw_inventory_utc_offset(inv, utc_us(2024, 1, 7, 12, 0, 0) / 1000000), 3600);
    assert_int_equal(mw_inventory_utc_offset(inv, utc_us(2024, 7, 7, 12, 0, 0) / 1000000), 7200);
    /* Summer (CEST, UTC+2), Sunday 2024-07-07: window 02:00-04:00 local. */
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 7, 6, 23, 59, 59)), 0);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 7, 7, 0, 0, 0)), 1);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 7, 7, 1, 59, 59)), 1);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 7, 7, 2, 0, 0)), 0);
    /* Winter (CET, UTC+1), Sunday 2024-01-07. */
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 7, 0, 30, 0)), 0);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 7, 1, 30, 0)), 1);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 7, 2, 59, 0)), 1);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 7, 3, 0, 0)), 0);
    /* 2024-03-31 (Sunday): 02:00 CET jumps to 03:00 CEST at 01:00 UTC. */
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 3, 31, 0, 59, 59)), 0);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 3, 31, 1, 0, 0)), 1);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 3, 31, 1, 59, 59)), 1);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 3, 31, 2, 0, 0)), 0);
    /* The wed/thu window 23:30-00:30 crosses midnight into thu/fri.
     * 2024-01-10 is a Wednesday: 23:45 CET = 22:45 UTC. */
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 10, 22, 45, 0)), 1);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 10, 23, 15, 0)), 1);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 10, 23, 30, 0)), 0);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 11, 23, 15, 0)), 1);
    /* Friday 00:15 CET belongs to Thursday's window; Saturday's would be Friday's: none. */
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 12, 23, 15, 0)), 0);
    /* Tuesday evening: no window starts on Tuesday. */
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 9, 22, 45, 0)), 0);
    mw_inventory_destroy(inv);
}

static void test_maintenance_tokyo_before_epoch_and_sub_second(void **state)
{
    char err[MW_ERRBUF_SIZE] = "";
    mw_inventory_t *inv;

    MW_UNUSED(state);
    write_file("site.yaml", "site: tokyo\n"
                            "timezone: Asia/Tokyo\n"
                            "maintenance_windows:\n"
                            "  - days: [fri]\n"
                            "    start: \"22:00\"\n"
                            "    end: \"06:00\"\n"
                            "  - days: [mon, tue, wed, thu, fri, sat, sun]\n"
                            "    start: \"12:00\"\n"
                            "    end: \"12:01\"\n");
    inv = mw_inventory_load("site.yaml", err, sizeof(err));
    if (inv == NULL)
        fail_msg("%s", err);
    assert_int_equal(mw_inventory_utc_offset(inv, 1700000000), 9 * 3600);
    /* 2024-01-12 is a Friday: 23:00 JST = 14:00 UTC. */
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 12, 14, 0, 0)), 1);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 12, 20, 59, 59)), 1);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 12, 21, 0, 0)), 0);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 13, 14, 0, 0)), 0);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 11, 14, 0, 0)), 0);
    /* Daily 12:00-12:01 JST = 03:00 UTC, to the microsecond. */
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 9, 3, 0, 0) - 1), 0);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 9, 3, 0, 0)), 1);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(2024, 1, 9, 3, 1, 0) - 1), 1);
    /* Before 1970 (negative times round down, not towards zero):
     * 1969-12-31 was a Wednesday; 03:00:00 UTC = 12:00 JST. */
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(1969, 12, 31, 3, 0, 0)), 1);
    assert_int_equal(mw_inventory_in_maintenance(inv, utc_us(1969, 12, 31, 3, 0, 0) - 1), 0);
    mw_inventory_destroy(inv);
}

/* ---- concurrent readers ---------------------------------------------------- */

typedef struct reader_arg {
    const mw_inventory_t *inv;
    int errors;
} reader_arg_t;

static void *reader(void *p)
{
    reader_arg_t *arg = p;
    int64_t in = utc_us(2024, 7, 7, 1, 0, 0), out = utc_us(2024, 7, 7, 3, 0, 0);
    mw_inventory_match_t m;
    int i;

    for (i = 0; i < 100000; i++) {
        if (mw_inventory_in_maintenance(arg->inv, in) != 1 ||
                mw_inventory_in_maintenance(arg->inv, out) != 0)
            arg->errors++;
        mw_inventory_lookup_u64(arg->inv, 0, 0x0000ffff0a14000aULL, &m); /* 10.20.0.10 */
        if (m.role != MW_ROLE_EMS)
            arg->errors++;
    }
    return NULL;
}

static void test_concurrent_readers(void **state)
{
    char err[MW_ERRBUF_SIZE] = "";
    mw_inventory_t *inv = mw_inventory_load(DEMO, err, sizeof(err));
    reader_arg_t args[4];
    pthread_t th[4];
    int i;

    MW_UNUSED(state);
    if (inv == NULL)
        fail_msg("%s", err);
    for (i = 0; i < 4; i++) {
        args[i].inv = inv;
        args[i].errors = 0;
        assert_int_equal(pthread_create(&th[i], NULL, reader, &args[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].errors, 0);
    }
    mw_inventory_destroy(inv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_site),
        cmocka_unit_test(test_print_summary),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_optional_sections),
        cmocka_unit_test(test_maintenance_paris),
        cmocka_unit_test(test_maintenance_tokyo_before_epoch_and_sub_second),
        cmocka_unit_test(test_concurrent_readers),
    };

    return cmocka_run_group_tests_name("classify/inventory", tests, setup_tmp, teardown_tmp);
}
