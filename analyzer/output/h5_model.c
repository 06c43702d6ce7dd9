/*
 * h5_model.c - model save/load and reading /flows back. Each table is a
 * compound dataset of scalar members (station ids as fixed strings), rows
 * in the model's canonical order, so two equal models are equal files
 * apart from their sources and creation time.
 */
#include "output/h5_model.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "classify/inventory.h"
#include "classify/roles.h"
#include "core/mw.h"
#include "core/output_path.h"
#include "output/h5_internal.h"

typedef struct {
    char station[MW_MODEL_ID_LEN];
    uint64_t peer_hi, peer_lo;
    uint16_t port, service;
    uint8_t l4_proto, initiator, plane, inner;
    char app[MW_MODEL_APP_LEN];
    mw_tuple_stats_t st;
} tuple_row_t;

typedef struct {
    char id[MW_MODEL_ID_LEN];
    uint8_t type;
    int64_t first_us, last_us;
    uint64_t records;
    mw_series_t s[5]; /* win_flows, win_up, win_down, win_peers, win_ratio */
    uint32_t dns_max_name, dns_max_label;
} station_row_t;

typedef struct {
    char station[MW_MODEL_ID_LEN];
    uint16_t hour;
    uint64_t flows, up;
} hour_row_t;

typedef struct {
    char station[MW_MODEL_ID_LEN];
    uint16_t service;
    mw_series_t up, flows;
} service_row_t;

static void insert_series(hid_t t, const char *prefix, size_t base)
{
    char name[64];
    snprintf(name, sizeof(name), "%s_n", prefix);
    H5Tinsert(t, name, base + offsetof(mw_series_t, n), H5T_NATIVE_UINT64);
    snprintf(name, sizeof(name), "%s_sum", prefix);
    H5Tinsert(t, name, base + offsetof(mw_series_t, sum), H5T_NATIVE_DOUBLE);
    snprintf(name, sizeof(name), "%s_sumsq", prefix);
    H5Tinsert(t, name, base + offsetof(mw_series_t, sumsq), H5T_NATIVE_DOUBLE);
    snprintf(name, sizeof(name), "%s_max", prefix);
    H5Tinsert(t, name, base + offsetof(mw_series_t, max), H5T_NATIVE_DOUBLE);
}

static hid_t service_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(service_row_t));
    hid_t id = mw__h5_fixed_string(MW_MODEL_ID_LEN);
    H5Tinsert(t, "station", offsetof(service_row_t, station), id);
    H5Tinsert(t, "service", offsetof(service_row_t, service), H5T_NATIVE_UINT16);
    insert_series(t, "win_up", offsetof(service_row_t, up));
    insert_series(t, "win_flows", offsetof(service_row_t, flows));
    H5Tclose(id);
    return t;
}

static hid_t tuple_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(tuple_row_t));
    hid_t id = mw__h5_fixed_string(MW_MODEL_ID_LEN), app = mw__h5_fixed_string(MW_MODEL_APP_LEN);
#define F(name, member, type) H5Tinsert(t, name, offsetof(tuple_row_t, member), type)
    F("station", station, id);
    F("peer_hi", peer_hi, H5T_NATIVE_UINT64);
    F("peer_lo", peer_lo, H5T_NATIVE_UINT64);
    F("port", port, H5T_NATIVE_UINT16);
    F("service", service, H5T_NATIVE_UINT16);
    F("l4_proto", l4_proto, H5T_NATIVE_UINT8);
    F("initiator", initiator, H5T_NATIVE_UINT8);
    F("plane", plane, H5T_NATIVE_UINT8);
    F("inner", inner, H5T_NATIVE_UINT8);
    F("app", app, app);
    F("flows", st.flows, H5T_NATIVE_UINT64);
    F("bytes_up", st.bytes_up, H5T_NATIVE_UINT64);
    F("bytes_down", st.bytes_down, H5T_NATIVE_UINT64);
    F("first_us", st.first_us, H5T_NATIVE_INT64);
    F("last_us", st.last_us, H5T_NATIVE_INT64);
    F("max_up", st.max_up, H5T_NATIVE_UINT64);
    F("max_down", st.max_down, H5T_NATIVE_UINT64);
    F("max_down_offwin", st.max_down_offwin, H5T_NATIVE_UINT64);
    F("max_duration_us", st.max_duration_us, H5T_NATIVE_INT64);
    F("max_pkt_len", st.max_pkt_len, H5T_NATIVE_UINT32);
    F("hours_mask", st.hours_mask, H5T_NATIVE_UINT32);
    F("risk_mask", st.risk_mask, H5T_NATIVE_UINT64);
    F("max_flows_hour", st.max_flows_hour, H5T_NATIVE_UINT32);
#undef F
    H5Tclose(id);
    H5Tclose(app);
    return t;
}

static hid_t station_type(void)
{
    static const char *const series[5] = { "win_flows", "win_up", "win_down", "win_peers",
        "win_ratio" };
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(station_row_t));
    hid_t id = mw__h5_fixed_string(MW_MODEL_ID_LEN);
    int i;
#define F(name, member, type) H5Tinsert(t, name, offsetof(station_row_t, member), type)
    F("id", id, id);
    F("type", type, H5T_NATIVE_UINT8);
    F("first_us", first_us, H5T_NATIVE_INT64);
    F("last_us", last_us, H5T_NATIVE_INT64);
    F("records", records, H5T_NATIVE_UINT64);
    F("dns_max_name", dns_max_name, H5T_NATIVE_UINT32);
    F("dns_max_label", dns_max_label, H5T_NATIVE_UINT32);
#undef F
    for (i = 0; i < 5; i++)
        insert_series(t, series[i], offsetof(station_row_t, s) + (size_t)i * sizeof(mw_series_t));
    H5Tclose(id);
    return t;
}

static hid_t hour_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(hour_row_t));
    hid_t id = mw__h5_fixed_string(MW_MODEL_ID_LEN);
    H5Tinsert(t, "station", offsetof(hour_row_t, station), id);
    H5Tinsert(t, "hour_of_week", offsetof(hour_row_t, hour), H5T_NATIVE_UINT16);
    H5Tinsert(t, "flows", offsetof(hour_row_t, flows), H5T_NATIVE_UINT64);
    H5Tinsert(t, "bytes_up", offsetof(hour_row_t, up), H5T_NATIVE_UINT64);
    H5Tclose(id);
    return t;
}

static int write_table(hid_t file, const char *name, hid_t type, const void *rows, size_t n)
{
    hsize_t dims = n, chunk = 4096, maxdims = H5S_UNLIMITED;
    hid_t space = H5Screate_simple(1, &dims, &maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = -1;
    int rc = -1;

    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0 &&
            H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, 1) >= 0)
        ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds >= 0 && (n == 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0))
        rc = 0;
    if (ds >= 0)
        H5Dclose(ds);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

typedef struct {
    const mw_model_t *m;
    tuple_row_t *rows;
    size_t n;
} collect_t;

static void collect_tuple(void *ctx, const mw_tuple_key_t *k, const mw_tuple_stats_t *st)
{
    collect_t *c = ctx;
    tuple_row_t *r = &c->rows[c->n++];

    memset(r, 0, sizeof(*r));
    memcpy(r->station, mw_model_station_at(c->m, k->station)->id, MW_MODEL_ID_LEN);
    mw_addr_split(k->peer, &r->peer_hi, &r->peer_lo);
    r->port = k->port;
    r->service = k->service;
    r->l4_proto = k->l4_proto;
    r->initiator = k->initiator;
    r->plane = k->plane;
    r->inner = k->inner;
    memcpy(r->app, k->app, MW_MODEL_APP_LEN);
    r->st = *st;
}

static int cmp_station_row(const void *a, const void *b)
{
    return strcmp(((const station_row_t *)a)->id, ((const station_row_t *)b)->id);
}

/*
 * Written to PATH.PID.tmp beside PATH (created exclusively: never through a
 * symlink, never over another writer's), fsync'd, then renamed over PATH:
 * PATH is always either the old model or the whole new one.
 */
int mw_h5_model_save(
        const mw_model_t *m, const char *path, const char *sources, char *errbuf, size_t errlen)
{
    size_t ns = mw_model_station_count(m), nt = mw_model_tuple_count(m), i, nh = 0;
    station_row_t *srows = calloc(ns ? ns : 1, sizeof(*srows));
    hour_row_t *hrows = calloc(ns ? ns * MW_HOURS_OF_WEEK : 1, sizeof(*hrows));
    service_row_t *vrows = calloc(ns ? ns * MW_SVC_COUNT : 1, sizeof(*vrows));
    size_t nv = 0;
    collect_t c = { m, calloc(nt ? nt : 1, sizeof(tuple_row_t)), 0 };
    const mw_model_meta_t *meta = mw_model_meta_const(m);
    char partial[4200], created[32];
    hid_t file = -1, tt = -1, st = -1, ht = -1, vt = -1;
    time_t now = time(NULL);
    struct tm tm;
    int rc = MW_EIO, created_file = 0;

    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (srows == NULL || hrows == NULL || vrows == NULL || c.rows == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory saving the model");
        rc = MW_ENOMEM;
        goto out;
    }
    for (i = 0; i < ns; i++) {
        const mw_station_t *s = mw_model_station_at(m, i);
        station_row_t *r = &srows[i];
        memcpy(r->id, s->id, MW_MODEL_ID_LEN);
        r->type = s->type;
        r->first_us = s->first_us;
        r->last_us = s->last_us;
        r->records = s->records;
        r->s[0] = s->win_flows;
        r->s[1] = s->win_up;
        r->s[2] = s->win_down;
        r->s[3] = s->win_peers;
        r->s[4] = s->win_ratio;
        r->dns_max_name = s->dns_max_name;
        r->dns_max_label = s->dns_max_label;
    }
    qsort(srows, ns, sizeof(*srows), cmp_station_row);
    for (i = 0; i < ns; i++) {
        uint32_t idx;
        const mw_station_t *s = mw_model_find_station(m, srows[i].id, &idx);
        for (int h = 0; h < MW_HOURS_OF_WEEK; h++) {
            if (s->how_flows[h] == 0 && s->how_up[h] == 0)
                continue;
            memcpy(hrows[nh].station, s->id, MW_MODEL_ID_LEN);
            hrows[nh].hour = (uint16_t)h;
            hrows[nh].flows = s->how_flows[h];
            hrows[nh].up = s->how_up[h];
            nh++;
        }
        for (int v = 0; v < MW_SVC_COUNT; v++) {
            if (s->svc_up[v].n == 0)
                continue;
            memcpy(vrows[nv].station, s->id, MW_MODEL_ID_LEN);
            vrows[nv].service = (uint16_t)v;
            vrows[nv].up = s->svc_up[v];
            vrows[nv].flows = s->svc_flows[v];
            nv++;
        }
    }
    if (mw_model_foreach_tuple(m, collect_tuple, &c) != 0) {
        mw_fmt_err(errbuf, errlen, "out of memory saving the model");
        goto out;
    }
    snprintf(partial, sizeof(partial), "%s.%ld.tmp", path, (long)getpid());
    {
        /* the probe gives errno's reason; O_EXCL never follows a symlink */
        int fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            mw_fmt_errno(errbuf, errlen, errno, "cannot write model %s", path);
            goto out;
        }
        close(fd);
        unlink(partial);
    }
    /* ours from here (the name has our pid and did not exist): HDF5 may leave an empty file
     * when it cannot write the superblock (a full disk), and it goes too */
    created_file = 1;
    file = H5Fcreate(partial, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        mw_fmt_err(errbuf, errlen, "cannot create model file %s", partial);
        goto out;
    }
    tt = tuple_type();
    st = station_type();
    ht = hour_type();
    vt = service_type();
    gmtime_r(&now, &tm);
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (write_table(file, "stations", st, srows, ns) ||
            write_table(file, "tuples", tt, c.rows, c.n) ||
            write_table(file, "hours", ht, hrows, nh) ||
            write_table(file, "services", vt, vrows, nv) ||
            mw__h5_attr_int64(file, "model_version", MW_MODEL_VERSION) ||
            mw__h5_attr_int64(file, "window_s", meta->window_us / 1000000) ||
            mw__h5_attr_int64(file, "first_us", meta->first_us) ||
            mw__h5_attr_int64(file, "last_us", meta->last_us) ||
            mw__h5_attr_fixed_string(file, "ndpi_version", meta->ndpi_version) ||
            mw__h5_attr_fixed_string(file, "site", meta->site) ||
            mw__h5_attr_fixed_string(file, "sources", sources ? sources : "") ||
            mw__h5_attr_fixed_string(file, "created_utc", created)) {
        mw_fmt_err(errbuf, errlen, "writing model %s failed (disk full?)", partial);
        goto out;
    }
    rc = 0;
out:
    if (tt >= 0)
        H5Tclose(tt);
    if (st >= 0)
        H5Tclose(st);
    if (ht >= 0)
        H5Tclose(ht);
    if (vt >= 0)
        H5Tclose(vt);
    if (file >= 0 && H5Fclose(file) < 0 && rc == 0) {
        mw_fmt_err(errbuf, errlen, "closing model %s failed (disk full?)", partial);
        rc = MW_EIO;
    }
    if (rc == 0 && mw_fsync_path(partial, 0) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot sync model %s", partial);
        rc = MW_EIO;
    }
    if (rc == 0 && rename(partial, path) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot rename %s to %s", partial, path);
        rc = MW_EIO;
    }
    if (rc == 0)
        mw_fsync_path(path, 1);
    if (rc != 0 && created_file)
        unlink(partial); /* never a half model left behind */
    free(srows);
    free(hrows);
    free(vrows);
    free(c.rows);
    return rc;
}

/*
 * Reading files mastwatch did not necessarily write. A model or results
 * file is input like a packet: it may be truncated, mutated or crafted, and
 * `capture` may load it on a sensor. So nothing is read before its shape is
 * known to be ours:
 *   - every object is reached through hard links only (no external or soft
 *     link makes us open another file), and datasets keep their raw data in
 *     the file (contiguous, chunked or compact; no external storage, no
 *     virtual datasets) with no filter but shuffle and deflate;
 *   - a table is 1-D and its row type equal (H5Tequal: member names,
 *     offsets, types, sizes) to the memory type we read it with. libhdf5
 *     then converts nothing: its compound conversion (H5T__conv_struct_opt,
 *     a use-after-free on crafted member lists in 1.10.8) never runs;
 *   - a table cannot claim more rows than the file can hold: rows x row size
 *     <= file size, or <= 1032 x file size when deflated (deflate's largest
 *     ratio), and chunks are at most 16 MiB, so memory follows the file;
 *   - attributes are scalars of the expected class: 64-bit integers, or
 *     fixed-length strings that fit the field they fill, read with their own
 *     type; variable-length data is never read, because reading it goes
 *     through libhdf5's global heap (H5HG_read spins forever on a crafted
 *     heap in 1.10.8). Models therefore store their strings fixed-length
 *     (model version 5), and results files their inventory text;
 *   - the values read are checked too (enums in range, station ids
 *     terminated, every row naming a station of /stations, finite series).
 * libhdf5 prints no error stack (H5Eset_auto): each failure is one line,
 * "FILE: what is wrong".
 */
#define MAX_CHUNK_BYTES   ((hsize_t)16 << 20)
#define DEFLATE_MAX_RATIO 1032u
#define MAX_STATIONS      1000000u
#define MAX_TEXT_BYTES    ((hsize_t)16 << 20)

/*
 * libhdf5 allocates what a file's metadata claims (H5C_protect) and
 * zero-fills reads past the end of the file, so four mutated bytes can cost
 * gigabytes before any check of ours runs. While a file is read the
 * process's data size (RLIMIT_DATA) is capped at what it uses plus 256 MiB
 * plus twice the most the file's tables may expand to (rows up to 1032 x
 * the file, station rows into in-memory stations); libhdf5 then fails
 * an oversized allocation like a corrupt file. Sanitizer builds map their
 * shadow memory as data, so there max_allocation_size_mb does the same job
 * (and libhdf5's own leaks on corrupt files are not reported as ours).
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MW_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MW_SANITIZED 1
#endif
#ifdef MW_SANITIZED
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1:max_allocation_size_mb=1024";
}
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libhdf5\n";
}
/* the suppressed libhdf5 leaks (a failed close on a full disk) must not add lines to stderr */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}
#endif

typedef struct data_cap {
    struct rlimit old;
    int set;
} data_cap_t;

static void data_cap_begin(data_cap_t *c, hsize_t file_size)
{
#ifndef MW_SANITIZED
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    unsigned long long kb = 0, budget, extra;
    struct rlimit lim;

    c->set = 0;
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmData: %llu kB", &kb) == 1)
            break;
    fclose(f);
    if (kb == 0 || getrlimit(RLIMIT_DATA, &c->old) != 0)
        return;
    if (file_size > (1ULL << 30))
        return; /* a file that large may legitimately need any memory */
    /* rows may expand DEFLATE_MAX_RATIO times, and each station row to a station */
    extra = 2 * file_size * DEFLATE_MAX_RATIO +
            2 * (file_size * DEFLATE_MAX_RATIO / sizeof(station_row_t) + 1) * sizeof(mw_station_t);
    budget = kb * 1024 + (256ULL << 20) + extra;
    if (c->old.rlim_cur != RLIM_INFINITY && c->old.rlim_cur <= budget)
        return;
    if (c->old.rlim_max != RLIM_INFINITY && c->old.rlim_max < budget)
        return;
    lim.rlim_cur = (rlim_t)budget;
    lim.rlim_max = c->old.rlim_max;
    c->set = setrlimit(RLIMIT_DATA, &lim) == 0;
#else
    (void)file_size;
    c->set = 0;
#endif
}

static void data_cap_end(data_cap_t *c)
{
    if (c->set)
        setrlimit(RLIMIT_DATA, &c->old);
    c->set = 0;
}

typedef struct reader {
    hid_t file;
    const char *path;
    hsize_t file_size;
    data_cap_t cap;
    char *errbuf;
    size_t errlen;
} reader_t;

/* errbuf and MW_EFORMAT: "FILE: what is wrong" */
static int bad(reader_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(reader_t *r, const char *fmt, ...)
{
    char what[MW_ERRBUF_SIZE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    mw_fmt_err(r->errbuf, r->errlen, "%s: %s", r->path, what);
    return MW_EFORMAT;
}

static void quiet_hdf5(void)
{
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static int reader_open(reader_t *r, const char *path, const char *what, char *errbuf, size_t errlen)
{
    struct stat st;
    hid_t fapl;

    memset(r, 0, sizeof(*r));
    r->file = -1;
    r->path = path;
    r->errbuf = errbuf;
    r->errlen = errlen;
    quiet_hdf5();
    if (stat(path, &st) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "%s", path);
        return MW_EIO;
    }
    if (!S_ISREG(st.st_mode))
        return bad(r, "not a regular file");
    r->file_size = (hsize_t)st.st_size;
    data_cap_begin(&r->cap, r->file_size);
    if (H5Fis_hdf5(path) <= 0)
        return bad(r, "not %s (not HDF5, or unreadable)", what);
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return bad(r, "out of memory");
    /* closing the file closes whatever an error path left open */
    /* tables are read whole in one call: no chunk cache or sieve buffer to fill */
    if (H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 || H5Pset_cache(fapl, 0, 0, 0, 0.0) < 0 ||
            H5Pset_sieve_buf_size(fapl, 0) < 0) {
        H5Pclose(fapl);
        return bad(r, "HDF5: cannot set up file access");
    }
    r->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (r->file < 0)
        return bad(r, "cannot open (corrupt or truncated HDF5)");
    return 0;
}

static void reader_close(reader_t *r)
{
    if (r->file >= 0)
        H5Fclose(r->file);
    r->file = -1;
    data_cap_end(&r->cap);
}

/* 1 when every link on path is a hard link, 0 when one is missing, -1 otherwise. */
static int hard_links(hid_t file, const char *path)
{
    char part[128];
    size_t n = 0;

    for (;;) {
        const char *slash = strchr(path + n, '/');
        H5L_info_t li;
        htri_t ex;

        n = slash ? (size_t)(slash - path) : strlen(path);
        if (n >= sizeof(part))
            return -1;
        memcpy(part, path, n);
        part[n] = '\0';
        ex = H5Lexists(file, part, H5P_DEFAULT);
        if (ex <= 0)
            return ex == 0 ? 0 : -1;
        if (H5Lget_info(file, part, &li, H5P_DEFAULT) < 0 || li.type != H5L_TYPE_HARD)
            return -1;
        if (slash == NULL)
            return 1;
        n++;
    }
}

/* Raw data in this file, filters we write (shuffle of this row size, deflate), bounded chunks. */
static int check_storage(reader_t *r, const char *name, hid_t dcpl, size_t row, int *deflated)
{
    H5D_layout_t layout = H5Pget_layout(dcpl);
    int nf = H5Pget_nfilters(dcpl), i;

    *deflated = 0;
    /* compact data is refused too: mastwatch never writes it, and libhdf5 1.10.8 reads
     * past a compact buffer shorter than the dataspace says (found by fuzz_model) */
    if (layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED)
        return bad(r,
                "/%s: not stored as mastwatch stores tables (compact, virtual or unknown "
                "layout)",
                name);
    if (H5Pget_external_count(dcpl) != 0)
        return bad(r, "/%s: raw data in external files", name);
    if (nf < 0 || nf > 4)
        return bad(r, "/%s: unexpected filters", name);
    for (i = 0; i < nf; i++) {
        unsigned flags = 0, cd[4] = { 0 };
        size_t ncd = 4;
        H5Z_filter_t f = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, 0, NULL, NULL);
        if (f == H5Z_FILTER_DEFLATE && ncd == 1 && cd[0] <= 9)
            *deflated = 1;
        else if (!(f == H5Z_FILTER_SHUFFLE && ncd == 1 && cd[0] == row))
            return bad(r, "/%s: filter %d is not one mastwatch writes", name, (int)f);
    }
    if (layout == H5D_CHUNKED) {
        hsize_t chunk = 0;
        if (H5Pget_chunk(dcpl, 1, &chunk) != 1 || chunk == 0 || chunk > MAX_CHUNK_BYTES / row)
            return bad(r, "/%s: chunks not 1-D or larger than 16 MiB", name);
    } else if (nf != 0) {
        return bad(r, "/%s: filters on an unchunked dataset", name);
    }
    return 0;
}

/* Opens dataset name after checking the links that lead to it. */
static hid_t open_dataset(reader_t *r, const char *name, int *missing)
{
    int hl = hard_links(r->file, name);
    hid_t ds;

    *missing = hl == 0;
    if (hl <= 0) {
        if (hl < 0)
            bad(r, "/%s: not a plain dataset of this file (soft or external link)", name);
        return -1;
    }
    ds = H5Dopen2(r->file, name, H5P_DEFAULT);
    if (ds < 0)
        bad(r, "/%s: not a dataset, or corrupt", name);
    return ds;
}

/*
 * A 1-D table of rows of exactly mtype, at most max_rows of them. Returns
 * the rows (caller frees; never NULL on success, even for 0 rows) or NULL
 * with errbuf set.
 */
static void *read_table(
        reader_t *r, const char *name, hid_t mtype, hsize_t max_rows, size_t *n /* OUT */)
{
    size_t row = H5Tget_size(mtype);
    hid_t ds, ft = -1, space = -1, dcpl = -1;
    hsize_t dims = 0, cap;
    int deflated = 0, missing = 0;
    void *rows = NULL;

    *n = 0;
    ds = open_dataset(r, name, &missing);
    if (ds < 0) {
        if (missing)
            bad(r, "/%s missing (not a mastwatch file, or truncated)", name);
        return NULL;
    }
    ft = H5Dget_type(ds);
    if (ft < 0 || H5Tequal(ft, mtype) <= 0) {
        bad(r, "/%s: row type is not mastwatch's (wrong dtype, or another version)", name);
        goto out;
    }
    space = H5Dget_space(ds);
    if (space < 0 || H5Sget_simple_extent_type(space) != H5S_SIMPLE ||
            H5Sget_simple_extent_ndims(space) != 1 ||
            H5Sget_simple_extent_dims(space, &dims, NULL) != 1) {
        bad(r, "/%s: not a 1-D table", name);
        goto out;
    }
    if (dims > max_rows) {
        bad(r, "/%s: %llu rows, more than %llu", name, (unsigned long long)dims,
                (unsigned long long)max_rows);
        goto out;
    }
    dcpl = H5Dget_create_plist(ds);
    if (dcpl < 0 || check_storage(r, name, dcpl, row, &deflated) != 0) {
        if (dcpl < 0)
            bad(r, "/%s: unreadable storage properties", name);
        goto out;
    }
    cap = r->file_size * (deflated ? DEFLATE_MAX_RATIO : 1u);
    if (dims > cap / row) {
        bad(r, "/%s: %llu rows of %zu bytes cannot be in a file of %llu bytes", name,
                (unsigned long long)dims, row, (unsigned long long)r->file_size);
        goto out;
    }
    rows = calloc(dims ? (size_t)dims : 1, row);
    if (rows == NULL) {
        mw_fmt_err(r->errbuf, r->errlen, "%s: out of memory reading /%s", r->path, name);
        goto out;
    }
    if (dims > 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) {
        bad(r, "/%s: unreadable (truncated or corrupt)", name);
        free(rows);
        rows = NULL;
        goto out;
    }
    *n = (size_t)dims;
out:
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (ft >= 0)
        H5Tclose(ft);
    H5Dclose(ds);
    return rows;
}

/* A scalar attribute, open; 0 when missing (with *a < 0), else 0/MW_EFORMAT. */
static int open_attr(reader_t *r, const char *name, hid_t *a /* OUT */, hid_t *t /* OUT */)
{
    htri_t ex = H5Aexists(r->file, name);
    hid_t space;
    int scalar;

    *a = *t = -1;
    if (ex == 0)
        return 0;
    *a = ex > 0 ? H5Aopen(r->file, name, H5P_DEFAULT) : -1;
    if (*a < 0)
        return bad(r, "attribute %s unreadable", name);
    space = H5Aget_space(*a);
    scalar = space >= 0 && H5Sget_simple_extent_type(space) == H5S_SCALAR;
    if (space >= 0)
        H5Sclose(space);
    *t = H5Aget_type(*a);
    if (!scalar || *t < 0) {
        H5Aclose(*a);
        *a = -1;
        return bad(r, "attribute %s is not a scalar", name);
    }
    return 0;
}

static void close_attr(hid_t a, hid_t t)
{
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
}

/* A scalar 64-bit integer; *found says whether it is there (NULL: required). */
static int read_attr_i64(reader_t *r, const char *name, int64_t *v, int *found)
{
    hid_t a, t;
    int rc = open_attr(r, name, &a, &t);

    if (found)
        *found = a >= 0;
    if (rc != 0)
        return rc;
    if (a < 0)
        return found ? 0 : bad(r, "attribute %s missing (not a mastwatch file?)", name);
    if (H5Tequal(t, H5T_NATIVE_INT64) <= 0)
        rc = bad(r, "attribute %s is not a 64-bit integer", name);
    else if (H5Aread(a, H5T_NATIVE_INT64, v) < 0)
        rc = bad(r, "attribute %s unreadable", name);
    close_attr(a, t);
    return rc;
}

/* A required scalar fixed-length string that fits out[len] with its NUL. */
static int read_attr_str(reader_t *r, const char *name, char *out, size_t len)
{
    char buf[256];
    hid_t a, t, mt = -1;
    size_t size;
    int rc = open_attr(r, name, &a, &t);

    out[0] = '\0';
    if (rc != 0)
        return rc;
    if (a < 0)
        return bad(r, "attribute %s missing (not a mastwatch model?)", name);
    if (H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) != 0) {
        rc = bad(r,
                "attribute %s is not a fixed-length string (variable-length strings are "
                "not read)",
                name);
        goto out;
    }
    size = H5Tget_size(t);
    if (size == 0 || size > len || len > sizeof(buf)) {
        rc = bad(r, "attribute %s longer than %zu bytes", name, len - 1);
        goto out;
    }
    memset(buf, 0, sizeof(buf));
    mt = H5Tcopy(t); /* the file's own type: no conversion */
    if (mt < 0 || H5Aread(a, mt, buf) < 0) {
        rc = bad(r, "attribute %s unreadable", name);
        goto out;
    }
    if (strnlen(buf, size) >= len) {
        rc = bad(r, "attribute %s is not terminated", name);
        goto out;
    }
    memcpy(out, buf, len - 1);
    out[len - 1] = '\0';
out:
    if (mt >= 0)
        H5Tclose(mt);
    close_attr(a, t);
    return rc;
}

int mw_h5_is_hdf5(const char *path)
{
    quiet_hdf5();
    return H5Fis_hdf5(path) > 0;
}

static int terminated(const char *s, size_t len)
{
    return memchr(s, '\0', len) != NULL;
}

static int finite_series(const mw_series_t *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!isfinite(s[i].sum) || !isfinite(s[i].sumsq) || !isfinite(s[i].max))
            return 0;
    return 1;
}

/* The station of a table row: it must be in /stations. */
static mw_station_t *row_station(
        reader_t *r, mw_model_t *m, const char *table, size_t i, const char *id, uint32_t *index)
{
    const mw_station_t *s;

    if (!terminated(id, MW_MODEL_ID_LEN)) {
        bad(r, "/%s row %zu: station id not terminated", table, i);
        return NULL;
    }
    s = mw_model_find_station(m, id, index);
    if (s == NULL)
        bad(r, "/%s row %zu: station '%s' is not in /stations", table, i, id);
    return (mw_station_t *)s;
}

static int load_stations(reader_t *r, mw_model_t *m, const station_row_t *rows, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        mw_station_t *s;
        if (!terminated(rows[i].id, MW_MODEL_ID_LEN) || rows[i].id[0] == '\0')
            return bad(r, "/stations row %zu: empty or unterminated station id", i);
        if (rows[i].type >= MW_BS_COUNT || !finite_series(rows[i].s, 5))
            return bad(r, "/stations row %zu: type or series out of range", i);
        if (mw_model_find_station(m, rows[i].id, NULL) != NULL)
            return bad(r, "/stations row %zu: station '%s' twice", i, rows[i].id);
        s = mw_model_station(m, rows[i].id, NULL);
        if (s == NULL)
            return MW_ENOMEM;
        s->type = rows[i].type;
        s->first_us = rows[i].first_us;
        s->last_us = rows[i].last_us;
        s->records = rows[i].records;
        s->win_flows = rows[i].s[0];
        s->win_up = rows[i].s[1];
        s->win_down = rows[i].s[2];
        s->win_peers = rows[i].s[3];
        s->win_ratio = rows[i].s[4];
        s->dns_max_name = rows[i].dns_max_name;
        s->dns_max_label = rows[i].dns_max_label;
    }
    return 0;
}

static int load_hours_services(reader_t *r, mw_model_t *m, const hour_row_t *h, size_t nh,
        const service_row_t *v, size_t nv)
{
    size_t i;

    for (i = 0; i < nh; i++) {
        mw_station_t *s = row_station(r, m, "hours", i, h[i].station, NULL);
        if (s == NULL)
            return MW_EFORMAT;
        if (h[i].hour >= MW_HOURS_OF_WEEK)
            return bad(r, "/hours row %zu: hour of week %u", i, h[i].hour);
        s->how_flows[h[i].hour] = h[i].flows;
        s->how_up[h[i].hour] = h[i].up;
    }
    for (i = 0; i < nv; i++) {
        mw_station_t *s = row_station(r, m, "services", i, v[i].station, NULL);
        if (s == NULL)
            return MW_EFORMAT;
        if (v[i].service >= MW_SVC_COUNT || !finite_series(&v[i].up, 1) ||
                !finite_series(&v[i].flows, 1))
            return bad(r, "/services row %zu: service or series out of range", i);
        s->svc_up[v[i].service] = v[i].up;
        s->svc_flows[v[i].service] = v[i].flows;
    }
    return 0;
}

static int load_tuples(reader_t *r, mw_model_t *m, const tuple_row_t *t, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        mw_tuple_key_t key;
        mw_tuple_stats_t *ts;
        memset(&key, 0, sizeof(key));
        if (row_station(r, m, "tuples", i, t[i].station, &key.station) == NULL)
            return MW_EFORMAT;
        if (t[i].initiator >= MW_INIT_COUNT || t[i].plane >= MW_PLANE_COUNT ||
                t[i].service >= MW_SVC_COUNT || t[i].inner > 1 ||
                !terminated(t[i].app, MW_MODEL_APP_LEN))
            return bad(r, "/tuples row %zu: a field is out of range", i);
        mw_addr_join(t[i].peer_hi, t[i].peer_lo, key.peer);
        key.port = t[i].port;
        key.service = t[i].service;
        key.l4_proto = t[i].l4_proto;
        key.initiator = t[i].initiator;
        key.plane = t[i].plane;
        key.inner = t[i].inner;
        memcpy(key.app, t[i].app, MW_MODEL_APP_LEN);
        ts = mw_model_tuple(m, &key, 1);
        if (ts == NULL)
            return MW_ENOMEM;
        *ts = t[i].st;
    }
    return 0;
}

static int load_meta(reader_t *r, mw_model_t **m)
{
    int64_t version = 0, window_s = 0;
    mw_model_meta_t *meta;
    int rc = read_attr_i64(r, "model_version", &version, NULL);

    if (rc != 0)
        return rc;
    if (version != MW_MODEL_VERSION) {
        /* older models keyed tuples and counted session starts differently: no silent reuse */
        return bad(r,
                "model version %lld, this mastwatch reads version %d only: retrain it "
                "(mastwatch train) from the same captures or results files",
                (long long)version, MW_MODEL_VERSION);
    }
    rc = read_attr_i64(r, "window_s", &window_s, NULL);
    if (rc != 0)
        return rc;
    if (window_s <= 0 || window_s > 86400)
        return bad(r, "window_s %lld out of range (1..86400)", (long long)window_s);
    *m = mw_model_create(window_s * 1000000, r->errbuf, r->errlen);
    if (*m == NULL)
        return MW_ENOMEM;
    meta = mw_model_meta(*m);
    if ((rc = read_attr_i64(r, "first_us", &meta->first_us, NULL)) != 0 ||
            (rc = read_attr_i64(r, "last_us", &meta->last_us, NULL)) != 0 ||
            (rc = read_attr_str(
                     r, "ndpi_version", meta->ndpi_version, sizeof(meta->ndpi_version))) != 0 ||
            (rc = read_attr_str(r, "site", meta->site, sizeof(meta->site))) != 0)
        return rc;
    return 0;
}

/* Rows a table claims (0 when missing or not 1-D): bounds the tables keyed by station. */
static hsize_t dims_of(reader_t *r, const char *name)
{
    int missing;
    hid_t ds = open_dataset(r, name, &missing), space;
    hsize_t dims = 0;

    if (ds < 0)
        return 0;
    space = H5Dget_space(ds);
    if (space >= 0 && H5Sget_simple_extent_ndims(space) == 1)
        H5Sget_simple_extent_dims(space, &dims, NULL);
    if (space >= 0)
        H5Sclose(space);
    H5Dclose(ds);
    return dims;
}

/*
 * libhdf5 1.10.8 still has memory errors where no check of ours can come
 * first: decoding the root group's attribute messages (H5Aexists ->
 * H5O__attr_exists -> H5O__msg_iterate_real reads past its buffer on
 * crafted object headers; found by fuzz_model). So every file is read once
 * in a child process first: when libhdf5 crashes, hangs (an alarm) or runs
 * out of its memory cap there, the run fails with one line instead of
 * crashing. Only a child that completed (loaded or rejected the file) lets
 * the parent read it, with the same code, giving the same result.
 * The child is either a plain fork running the reader, which is only safe
 * while this process has one thread (a lock another thread held at the fork
 * stays held in the child: a thread building nDPI's module during the
 * model's load once hung it under ASan), or, given probe_exe (this program:
 * a SIGUSR2 reload while the run's threads work), a fork that execs
 * `probe_exe __h5-probe KIND PATH` at once, a fresh process that inherits
 * no lock (mw_h5_probe_main).
 */
typedef int (*probe_fn)(const char *path);

static int probe_in_child(const char *path, probe_fn probe, const char *kind, const char *probe_exe,
        char *errbuf, size_t errlen)
{
    struct stat st;
    unsigned secs = 30;
    pid_t pid;
    int status = 0;

    if (stat(path, &st) == 0 && st.st_size > 0)
        secs += (unsigned)MW_MIN((unsigned long long)st.st_size >> 22, 3600ULL);
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        if (probe_exe == NULL)
            return 0; /* cannot fork: read it in this process */
        mw_fmt_err(errbuf, errlen, "%s: cannot start the HDF5 probe: %s", path, strerror(errno));
        return MW_EIO;
    }
    if (pid == 0) {
        /* what a crashing libhdf5 or glibc prints ("malloc(): corrupted top size") is not
         * the user's business: the parent says it in one line. After a fork in a threaded
         * process only async-signal-safe calls until the exec. */
        sigset_t none;
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull >= 0)
            dup2(devnull, STDERR_FILENO);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL); /* the alarm must end it */
        alarm(secs);
        if (probe_exe != NULL) {
            execl(probe_exe, probe_exe, MW_H5_PROBE_COMMAND, kind, path, (char *)NULL);
            _exit(127);
        }
        _exit(probe(path) == 0 ? 0 : 3);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 0;
    if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3))
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && probe_exe != NULL) {
        mw_fmt_err(errbuf, errlen, "%s: cannot run the HDF5 probe (%s %s)", path, probe_exe,
                MW_H5_PROBE_COMMAND);
        return MW_EIO;
    }
    mw_fmt_err(errbuf, errlen, "%s: libhdf5 %s reading it (a corrupt or crafted file)", path,
            WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? "hung" : "failed");
    return MW_EFORMAT;
}

static mw_model_t *model_load(const char *path, char *errbuf, size_t errlen);

static int probe_model(const char *path)
{
    char err[MW_ERRBUF_SIZE];
    mw_model_destroy(model_load(path, err, sizeof(err)));
    return 0;
}

mw_model_t *mw_h5_model_load(const char *path, char *errbuf, size_t errlen)
{
    return mw_h5_model_load_exec(path, NULL, errbuf, errlen);
}

mw_model_t *mw_h5_model_load_exec(
        const char *path, const char *probe_exe, char *errbuf, size_t errlen)
{
    if (probe_in_child(path, probe_model, "model", probe_exe, errbuf, errlen) != 0)
        return NULL;
    return model_load(path, errbuf, errlen);
}

mw_model_t *mw__h5_model_load_unprobed(const char *path, char *errbuf, size_t errlen)
{
    return model_load(path, errbuf, errlen);
}

static mw_model_t *model_load(const char *path, char *errbuf, size_t errlen)
{
    hid_t tt = tuple_type(), st = station_type(), ht = hour_type(), vt = service_type();
    service_row_t *vrows = NULL;
    station_row_t *srows = NULL;
    tuple_row_t *trows = NULL;
    hour_row_t *hrows = NULL;
    size_t ns = 0, nt = 0, nh = 0, nv = 0;
    mw_model_t *m = NULL;
    reader_t r;
    int rc = reader_open(&r, path, "a model file", errbuf, errlen);

    if (rc == 0)
        rc = load_meta(&r, &m);
    if (rc == 0) {
        hsize_t max_s = MW_MIN(dims_of(&r, "stations"), (hsize_t)MAX_STATIONS);
        rc = MW_EFORMAT;
        if ((srows = read_table(&r, "stations", st, MAX_STATIONS, &ns)) != NULL &&
                (hrows = read_table(&r, "hours", ht, max_s * MW_HOURS_OF_WEEK, &nh)) != NULL &&
                (vrows = read_table(&r, "services", vt, max_s * MW_SVC_COUNT, &nv)) != NULL &&
                (trows = read_table(&r, "tuples", tt, MW_MODEL_MAX_TUPLES, &nt)) != NULL)
            rc = 0;
    }
    if (rc == 0)
        rc = load_stations(&r, m, srows, ns);
    if (rc == 0)
        rc = load_hours_services(&r, m, hrows, nh, vrows, nv);
    if (rc == 0)
        rc = load_tuples(&r, m, trows, nt);
    if (rc == MW_ENOMEM)
        mw_fmt_err(errbuf, errlen, "%s: out of memory loading the model", path);
    if (rc != 0) {
        mw_model_destroy(m);
        m = NULL;
    }
    free(srows);
    free(trows);
    free(hrows);
    free(vrows);
    H5Tclose(tt);
    H5Tclose(st);
    H5Tclose(ht);
    H5Tclose(vt);
    reader_close(&r);
    return m;
}

typedef struct {
    uint32_t id;
    char name[64];
} name_row_t;

/*
 * /meta/inventory: a scalar fixed-length string read with its own type.
 * Older results files stored it variable-length: that is not read (global
 * heap, see above), the inventory counts as unknown.
 */
static int read_inventory_text(reader_t *r, char **text /* OUT */)
{
    int missing = 0, deflated = 0, rc = 0;
    hid_t ds = open_dataset(r, "meta/inventory", &missing), t = -1, space = -1, dcpl = -1;
    size_t size;

    *text = NULL;
    if (ds < 0)
        return missing ? 0 : MW_EFORMAT;
    t = H5Dget_type(ds);
    space = H5Dget_space(ds);
    dcpl = H5Dget_create_plist(ds);
    if (t < 0 || space < 0 || dcpl < 0 || H5Tget_class(t) != H5T_STRING ||
            H5Sget_simple_extent_type(space) != H5S_SCALAR) {
        rc = bad(r, "/meta/inventory: not a scalar string");
        goto out;
    }
    if (H5Tis_variable_str(t) != 0)
        goto out; /* older file: not read */
    size = H5Tget_size(t);
    if (check_storage(r, "meta/inventory", dcpl, size, &deflated) != 0) {
        rc = MW_EFORMAT;
        goto out;
    }
    if (size == 0 || size > MAX_TEXT_BYTES || size > r->file_size) {
        rc = bad(r, "/meta/inventory: %zu bytes cannot be in this file", size);
        goto out;
    }
    *text = calloc(1, size + 1);
    if (*text == NULL) {
        rc = MW_ENOMEM;
        goto out;
    }
    if (H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, *text) < 0) {
        free(*text);
        *text = NULL;
        rc = bad(r, "/meta/inventory: unreadable (truncated or corrupt)");
    }
out:
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (t >= 0)
        H5Tclose(t);
    H5Dclose(ds);
    return rc;
}

static int flows_read(const char *path, mw_h5_flows_t *out, char *errbuf, size_t errlen);

static int probe_flows(const char *path)
{
    char err[MW_ERRBUF_SIZE];
    mw_h5_flows_t f;
    if (flows_read(path, &f, err, sizeof(err)) == 0)
        mw_h5_flows_free(&f);
    return 0;
}

int mw_h5_flows_read(const char *path, mw_h5_flows_t *out, char *errbuf, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (probe_in_child(path, probe_flows, "flows", NULL, errbuf, errlen) != 0)
        return MW_EFORMAT;
    return flows_read(path, out, errbuf, errlen);
}

int mw__h5_flows_read_unprobed(const char *path, mw_h5_flows_t *out, char *errbuf, size_t errlen)
{
    return flows_read(path, out, errbuf, errlen);
}

static int flows_read(const char *path, mw_h5_flows_t *out, char *errbuf, size_t errlen)
{
    hid_t ft = mw__h5_flow_type(), nt = H5Tcreate(H5T_COMPOUND, sizeof(name_row_t));
    hid_t s64 = mw__h5_fixed_string(64);
    name_row_t *names = NULL;
    size_t nn = 0, i;
    int64_t schema = 0;
    int found = 0;
    reader_t r;
    int rc = reader_open(&r, path, "a results file", errbuf, errlen);

    memset(out, 0, sizeof(*out));
    if (rc == 0 && (ft < 0 || nt < 0 || s64 < 0 ||
                           H5Tinsert(nt, "id", offsetof(name_row_t, id), H5T_NATIVE_UINT32) < 0 ||
                           H5Tinsert(nt, "name", offsetof(name_row_t, name), s64) < 0))
        rc = bad(&r, "HDF5: cannot build the record types");
    if (rc == 0)
        rc = read_attr_i64(&r, "schema_version", &schema, &found);
    if (rc == 0 && found && schema != MW_SCHEMA_VERSION) {
        /* older records have no orientation or start fields: no silent misreading */
        rc = bad(&r,
                "results schema version %lld, this mastwatch reads version %d: analyze the "
                "captures again",
                (long long)schema, MW_SCHEMA_VERSION);
    }
    if (rc != 0)
        goto out;
    rc = MW_EFORMAT;
    out->recs = read_table(&r, "flows", ft, (hsize_t)SIZE_MAX / sizeof(mw_flow_record_t), &out->n);
    if (out->recs == NULL)
        goto out;
    names = read_table(&r, "meta/protocols", nt, 65536, &nn);
    if (names == NULL)
        goto out;
    out->proto_names = calloc(nn ? nn : 1, sizeof(char *));
    if (out->proto_names == NULL) {
        rc = MW_ENOMEM;
        goto out;
    }
    for (i = 0; i < nn; i++) {
        names[i].name[63] = '\0';
        out->proto_names[i] = strdup(names[i].name);
        if (out->proto_names[i] == NULL) {
            rc = MW_ENOMEM;
            goto out;
        }
        out->nproto = i + 1;
    }
    rc = read_attr_i64(&r, "active_timeout_s", &out->active_timeout_s, &found);
    if (rc == 0 && (out->active_timeout_s < 0 || out->active_timeout_s > 1000000000))
        rc = bad(&r, "active_timeout_s out of range");
    if (rc == 0)
        rc = read_inventory_text(&r, &out->inventory_yaml);
out:
    if (rc == MW_ENOMEM)
        mw_fmt_err(errbuf, errlen, "%s: out of memory", path);
    free(names);
    H5Tclose(s64);
    H5Tclose(nt);
    H5Tclose(ft);
    reader_close(&r);
    if (rc != 0)
        mw_h5_flows_free(out);
    return rc;
}

void mw_h5_flows_free(mw_h5_flows_t *f)
{
    size_t i;

    free(f->recs);
    for (i = 0; i < f->nproto; i++)
        free(f->proto_names[i]);
    free(f->proto_names);
    free(f->inventory_yaml);
    memset(f, 0, sizeof(*f));
}

int mw_h5_probe_main(const char *kind, const char *path)
{
    if (strcmp(kind, "model") == 0)
        return probe_model(path) == 0 ? 0 : 3;
    if (strcmp(kind, "flows") == 0)
        return probe_flows(path) == 0 ? 0 : 3;
    return 2;
}
