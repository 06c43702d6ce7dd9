/*
 * pcap_ring.c - rotation and deletion policy of the --pcap-ring store; the
 * file format is pcap_file.c, the directory listing ring_dir.c.
 *
 * Only the reader thread calls in, so there is no locking. The total is
 * kept in memory (closed files + the current one) and checked before each
 * packet, so the directory never holds more than the ring size (a single
 * packet larger than the ring aside). Closed files are fdatasync()ed.
 */
#include "capture/pcap_ring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/pcap_file.h"
#include "capture/ring_dir.h"
#include "core/log.h"
#include "core/mw.h"

#define RING_FILE_CAP   (64ull << 20)
#define RING_BUFFER_CAP (4u << 20)
#define FLUSH_MS        1000
#define RETRY_MS        1000

typedef struct closed_file {
    char *path;
    uint64_t size;
    int64_t end_s; /* wall time of its last write */
} closed_file_t;

struct mw_pcap_ring {
    mw_pcap_ring_params_t p;
    char *dir;
    uint64_t file_max;
    closed_file_t *files; /* oldest first */
    size_t nfiles, cap;
    uint64_t closed_bytes;
    mw_pcap_file_t *cur;
    char *cur_path;
    int64_t cur_open_s; /* wall time the current file was created */
    int64_t last_flush_ms, last_fail_ms;
    uint64_t dropped;
    int warned;
    char last_stamp[32]; /* names within one second: -2, -3, ... in order */
    unsigned same_stamp;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_s(void)
{
    return (int64_t)time(NULL);
}

uint64_t mw_pcap_ring_file_max(uint64_t max_bytes)
{
    uint64_t m = max_bytes / 16;

    return m < RING_FILE_CAP ? m : RING_FILE_CAP;
}

/* One warning per run; the counter tells the rest. */
static void warn(mw_pcap_ring_t *r, int err, const char *what, const char *path)
{
    if (r->warned)
        return;
    r->warned = 1;
    mw_log_warn("--pcap-ring: cannot %s %s: %s; packets the ring cannot store are counted "
                "(pcap_ring_dropped), the analysis goes on",
            what, path, strerror(err));
}

static int push_closed(mw_pcap_ring_t *r, char *path, uint64_t size, int64_t end_s)
{
    if (mw_grow((void **)&r->files, &r->cap, r->nfiles + 1, sizeof(*r->files)) != 0)
        return MW_ENOMEM;
    r->files[r->nfiles++] = (closed_file_t){ .path = path, .size = size, .end_s = end_s };
    r->closed_bytes += size;
    return 0;
}

static void delete_oldest(mw_pcap_ring_t *r)
{
    closed_file_t *f = &r->files[0];

    if (unlink(f->path) != 0 && errno != ENOENT)
        warn(r, errno, "delete", f->path);
    r->closed_bytes -= f->size;
    free(f->path);
    memmove(r->files, r->files + 1, (r->nfiles - 1) * sizeof(*r->files));
    r->nfiles--;
}

static void expire(mw_pcap_ring_t *r)
{
    int64_t now = wall_s();

    while (r->p.max_age_s > 0 && r->nfiles > 0 && r->files[0].end_s < now - r->p.max_age_s)
        delete_oldest(r);
}

static void close_current(mw_pcap_ring_t *r)
{
    uint64_t size;
    struct stat st;
    int rc;

    if (r->cur == NULL)
        return;
    size = mw_pcap_file_size(r->cur);
    rc = mw_pcap_file_close(r->cur, 1, &r->dropped);
    r->cur = NULL;
    if (rc != 0)
        warn(r, -rc, "write", r->cur_path);
    if (stat(r->cur_path, &st) == 0)
        size = (uint64_t)st.st_size;
    if (push_closed(r, r->cur_path, size, wall_s()) != 0) {
        /* cannot track it: better delete it than let the ring grow unseen */
        unlink(r->cur_path);
        free(r->cur_path);
    }
    r->cur_path = NULL;
}

/* Creates ring-YYYYmmdd-HHMMSS[-N].pcap named by the first packet's UTC time. */
static int open_current(mw_pcap_ring_t *r, int64_t ts_us)
{
    char name[64], stamp[32];
    time_t t = (time_t)(ts_us / 1000000);
    struct tm tm;
    size_t len;
    unsigned i;

    if (r->last_fail_ms != 0 && now_ms() - r->last_fail_ms < RETRY_MS)
        return MW_EIO;
    if (gmtime_r(&t, &tm) == NULL || strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) == 0)
        snprintf(stamp, sizeof(stamp), "%lld", (long long)t);
    len = strlen(r->dir) + sizeof(name) + 2;
    r->cur_path = malloc(len);
    if (r->cur_path == NULL) {
        r->last_fail_ms = now_ms();
        warn(r, ENOMEM, "create a file in", r->dir);
        return MW_ENOMEM;
    }
    if (strcmp(stamp, r->last_stamp) == 0) {
        r->same_stamp++;
    } else {
        snprintf(r->last_stamp, sizeof(r->last_stamp), "%s", stamp);
        r->same_stamp = 1;
    }
    for (i = r->same_stamp; i < r->same_stamp + 1000; i++) {
        if (i == 1)
            snprintf(name, sizeof(name), MW_RING_PREFIX "%s" MW_RING_SUFFIX, stamp);
        else
            snprintf(name, sizeof(name), MW_RING_PREFIX "%s-%u" MW_RING_SUFFIX, stamp, i);
        snprintf(r->cur_path, len, "%s/%s", r->dir, name);
        r->cur = mw_pcap_file_create(r->cur_path, r->p.dlt, r->p.snaplen,
                (size_t)MW_MIN((uint64_t)RING_BUFFER_CAP, r->file_max));
        if (r->cur != NULL || errno != EEXIST)
            break;
    }
    r->same_stamp = i;
    if (r->cur == NULL) {
        warn(r, errno, "create", r->cur_path);
        free(r->cur_path);
        r->cur_path = NULL;
        r->last_fail_ms = now_ms();
        return MW_EIO;
    }
    r->last_fail_ms = 0;
    r->cur_open_s = wall_s();
    r->last_flush_ms = now_ms();
    return 0;
}

static void flush(mw_pcap_ring_t *r)
{
    int rc;

    r->last_flush_ms = now_ms();
    if (r->cur == NULL)
        return;
    rc = mw_pcap_file_flush(r->cur, &r->dropped);
    if (rc != 0)
        warn(r, -rc, "write", r->cur_path);
    expire(r);
    /* no packet older than the age in a file that stays open */
    if (r->p.max_age_s > 0 && mw_pcap_file_packets(r->cur) > 0 &&
            wall_s() - r->cur_open_s >= MW_MAX(r->p.max_age_s / 16, 1))
        close_current(r);
}

void mw_pcap_ring_write(mw_pcap_ring_t *r, const mw_raw_packet_t *raw)
{
    uint64_t need = MW_PCAP_RECORD_LEN + raw->caplen;
    int rc;

    if (r->cur != NULL && mw_pcap_file_size(r->cur) + need > r->file_max &&
            mw_pcap_file_packets(r->cur) > 0)
        close_current(r);
    if (r->cur == NULL && open_current(r, raw->ts_us) != 0) {
        r->dropped++;
        return;
    }
    while (r->nfiles > 0 && r->closed_bytes + mw_pcap_file_size(r->cur) + need > r->p.max_bytes)
        delete_oldest(r);
    rc = mw_pcap_file_write(r->cur, raw->ts_ns, raw->caplen, raw->wirelen, raw->data, &r->dropped);
    if (rc != 0)
        warn(r, -rc, "write", r->cur_path);
    if (now_ms() - r->last_flush_ms >= FLUSH_MS)
        flush(r);
}

void mw_pcap_ring_tick(mw_pcap_ring_t *r)
{
    if (r != NULL && now_ms() - r->last_flush_ms >= FLUSH_MS)
        flush(r);
}

uint64_t mw_pcap_ring_dropped(const mw_pcap_ring_t *r)
{
    return r != NULL ? r->dropped : 0;
}

/* Files of an earlier run count towards the size and age, oldest (by last write) first. */
static int adopt_existing(mw_pcap_ring_t *r, char *errbuf, size_t errlen)
{
    mw_ring_file_t *v;
    size_t n, i, j;
    int rc = mw_ring_dir_list(r->dir, &v, &n, errbuf, errlen);

    if (rc != 0)
        return rc;
    /* by mtime: insertion sort, the list is already nearly in order */
    for (i = 1; i < n; i++) {
        mw_ring_file_t t = v[i];
        for (j = i; j > 0 && v[j - 1].mtime > t.mtime; j--)
            v[j] = v[j - 1];
        v[j] = t;
    }
    for (i = 0; i < n; i++) {
        /* the ring owns the path once pushed: the listing forgets it */
        if (push_closed(r, v[i].path, v[i].size, (int64_t)v[i].mtime) != 0) {
            mw_ring_dir_free(v, n); /* the paths before i are NULL: the ring frees them */
            mw_fmt_err(errbuf, errlen, "out of memory");
            return MW_ENOMEM;
        }
        v[i].path = NULL; /* the ring owns it now */
    }
    mw_ring_dir_free(v, n);
    return 0;
}

mw_pcap_ring_t *mw_pcap_ring_open(const mw_pcap_ring_params_t *p, char *errbuf, size_t errlen)
{
    mw_pcap_ring_t *r = calloc(1, sizeof(*r));
    struct stat st;

    if (r == NULL || (r->dir = strdup(p->dir)) == NULL) {
        free(r);
        mw_fmt_err(errbuf, errlen, "out of memory");
        return NULL;
    }
    r->p = *p;
    r->p.dir = r->dir;
    r->file_max = mw_pcap_ring_file_max(p->max_bytes);
    if (stat(r->dir, &st) != 0 && errno == ENOENT && mkdir(r->dir, 0750) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "--pcap-ring %s: cannot create", r->dir);
        goto fail;
    }
    if (stat(r->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        mw_fmt_err(errbuf, errlen, "--pcap-ring %s: not a directory", r->dir);
        goto fail;
    }
    if (access(r->dir, W_OK | X_OK) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "--pcap-ring %s: not writable", r->dir);
        goto fail;
    }
    if (adopt_existing(r, errbuf, errlen) != 0)
        goto fail;
    while (r->nfiles > 0 && r->closed_bytes > p->max_bytes)
        delete_oldest(r);
    expire(r);
    r->last_flush_ms = now_ms();
    return r;
fail:
    (void)mw_pcap_ring_close(r);
    return NULL;
}

uint64_t mw_pcap_ring_close(mw_pcap_ring_t *r)
{
    uint64_t dropped;
    size_t i;

    if (r == NULL)
        return 0;
    close_current(r);
    dropped = r->dropped;
    for (i = 0; i < r->nfiles; i++)
        free(r->files[i].path);
    free(r->files);
    free(r->dir);
    free(r);
    return dropped;
}
