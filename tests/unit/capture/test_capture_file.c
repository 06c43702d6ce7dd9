/*
 * test_capture_file.c - a pcap file that is still being written when the
 * run opens it: libpcap reads what was appended before it reached the end,
 * and so must the range readers (analyze's default --readers 1, and 2),
 * which cut the file into ranges by its size at open. Each packet carries
 * its index, so a lost, repeated or reordered packet shows.
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

#include "capture/capture.h"
#include "core/mw.h"

#define FIRST    3000 /* records in the file at open: several ranges */
#define APPENDED 700
#define RANGE    65536
#define PKT_LEN  600

static void write_header(FILE *f)
{
    const uint32_t magic = 0xa1b2c3d4u, zone = 0, sigfigs = 0, snaplen = 262144, linktype = 1;
    const uint16_t major = 2, minor = 4;

    assert_int_equal(fwrite(&magic, 4, 1, f), 1);
    assert_int_equal(fwrite(&major, 2, 1, f), 1);
    assert_int_equal(fwrite(&minor, 2, 1, f), 1);
    assert_int_equal(fwrite(&zone, 4, 1, f), 1);
    assert_int_equal(fwrite(&sigfigs, 4, 1, f), 1);
    assert_int_equal(fwrite(&snaplen, 4, 1, f), 1);
    assert_int_equal(fwrite(&linktype, 4, 1, f), 1);
}

/* Record i: a 16-byte header and PKT_LEN bytes that hold i. */
static void fill_record(uint8_t rec[16 + PKT_LEN], uint32_t i)
{
    const uint32_t hdr[4] = { 1700000000u + i / 100, (i * 7919u) % 1000000u, PKT_LEN, PKT_LEN };

    memcpy(rec, hdr, sizeof(hdr));
    memset(rec + 16, (int)(i & 0xff), PKT_LEN);
    memcpy(rec + 16 + 14, &i, sizeof(i)); /* after the Ethernet header */
}

/* Writes bytes [from, to) of record i. */
static void write_record(FILE *f, uint32_t i, size_t from, size_t to)
{
    uint8_t rec[16 + PKT_LEN];

    fill_record(rec, i);
    assert_int_equal(fwrite(rec + from, 1, to - from, f), to - from);
}

/* Writes FIRST records and then the first part bytes of one more (0: none). */
static char *write_start(size_t part)
{
    char *path = strdup("/tmp/mw-test-capture-XXXXXX");
    int fd;
    FILE *f;
    uint32_t i;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "wb");
    assert_non_null(f);
    write_header(f);
    for (i = 0; i < FIRST; i++)
        write_record(f, i, 0, 16 + PKT_LEN);
    if (part > 0)
        write_record(f, FIRST, 0, part);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Appends the rest of the cut record (from byte part) and APPENDED more. */
static void append_rest(const char *path, size_t part)
{
    FILE *f = fopen(path, "ab");
    uint32_t i;

    assert_non_null(f);
    write_record(f, FIRST, part, 16 + PKT_LEN); /* part 0: all of it */
    for (i = FIRST + 1; i < FIRST + 1 + APPENDED; i++)
        write_record(f, i, 0, 16 + PKT_LEN);
    assert_int_equal(fclose(f), 0);
}

/* Reads path with threads range readers (0: libpcap), appending after the tenth packet;
 * checks every packet is the next index and returns how many were read. */
static uint32_t read_growing(const char *path, unsigned threads, size_t part)
{
    const char *files[1] = { path };
    mw_capture_params_t params = {
        .files = files, .nfiles = 1, .read_threads = threads, .read_range_bytes = RANGE
    };
    char err[MW_ERRBUF_SIZE] = "";
    mw_capture_t *cap = mw_capture_open(&params, err, sizeof(err));
    uint32_t n = 0;
    int rc;

    assert_non_null(cap);
    for (;;) {
        mw_raw_packet_t raw;
        uint32_t idx;

        rc = mw_capture_next(cap, &raw, err, sizeof(err));
        if (rc != 1)
            break;
        assert_int_equal(raw.caplen, PKT_LEN);
        memcpy(&idx, raw.data + 14, sizeof(idx));
        assert_int_equal(idx, n);
        if (++n == 10)
            append_rest(path, part);
    }
    assert_int_equal(rc, MW_EEOF);
    if (threads > 0) /* the range readers did read the file (it was not left to libpcap) */
        assert_true(mw_capture_read_threads_cpu_s(cap) > 0);
    mw_capture_close(cap);
    return n;
}

static void check_growing(size_t part)
{
    unsigned threads;

    for (threads = 0; threads <= 2; threads++) {
        char *path = write_start(part);
        uint32_t n = read_growing(path, threads, part);

        /* with part 0 the appended records start at FIRST: FIRST + APPENDED + 1 in all */
        assert_int_equal(n, FIRST + 1 + APPENDED);
        unlink(path);
        free(path);
    }
}

static void test_appended_records_are_read(void **state)
{
    (void)state;
    check_growing(0);
}

static void test_record_cut_at_open_is_read_whole(void **state)
{
    (void)state;
    check_growing(16 + PKT_LEN / 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appended_records_are_read),
        cmocka_unit_test(test_record_cut_at_open_is_read_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
