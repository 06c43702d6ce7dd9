/*
 * h5_model.c - model save/load and reading /flows back. Each table is a
 * compound dataset of scalar members (station ids as fixed strings), rows
 * in the model's canonical order, so two equal models are equal files
 * apart from their sources and creation time.
 */
#include "output/h5_model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/mw.h"
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
    hid_t ds;
    int rc = -1;

    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 1);
    ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds >= 0 && (n == 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0))
        rc = 0;
    if (ds >= 0)
        H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
    return rc;
}

static void split_addr(const uint8_t a[16], uint64_t *hi, uint64_t *lo)
{
    int i;
    *hi = *lo = 0;
    for (i = 0; i < 8; i++) {
        *hi = (*hi << 8) | a[i];
        *lo = (*lo << 8) | a[i + 8];
    }
}

static void join_addr(uint8_t a[16], uint64_t hi, uint64_t lo)
{
    int i;
    for (i = 0; i < 8; i++) {
        a[i] = (uint8_t)(hi >> (56 - 8 * i));
        a[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
    }
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
    split_addr(k->peer, &r->peer_hi, &r->peer_lo);
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

/* fsync a file; with dir set, (best effort) the directory holding it, so a rename is durable. */
static int sync_path(const char *path, int dir)
{
    char name[4300];
    const char *slash = strrchr(path, '/');
    int fd, rc;

    if (!dir)
        snprintf(name, sizeof(name), "%s", path);
    else if (slash == NULL)
        snprintf(name, sizeof(name), ".");
    else
        snprintf(name, sizeof(name), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    fd = open(name, (dir ? O_DIRECTORY : O_NOFOLLOW) | O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dir ? 0 : -1;
    rc = fsync(fd);
    close(fd);
    return dir ? 0 : rc;
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
    file = H5Fcreate(partial, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        mw_fmt_err(errbuf, errlen, "cannot create model file %s", partial);
        goto out;
    }
    created_file = 1;
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
            mw__h5_attr_string(file, "ndpi_version", meta->ndpi_version) ||
            mw__h5_attr_string(file, "site", meta->site) ||
            mw__h5_attr_string(file, "sources", sources ? sources : "") ||
            mw__h5_attr_string(file, "created_utc", created)) {
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
    if (rc == 0 && sync_path(partial, 0) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot sync model %s", partial);
        rc = MW_EIO;
    }
    if (rc == 0 && rename(partial, path) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot rename %s to %s", partial, path);
        rc = MW_EIO;
    }
    if (rc == 0)
        sync_path(path, 1);
    if (rc != 0 && created_file)
        unlink(partial); /* never a half model left behind */
    free(srows);
    free(hrows);
    free(vrows);
    free(c.rows);
    return rc;
}

static void *read_table(hid_t file, const char *name, hid_t type, size_t row, size_t *n)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT), space;
    hsize_t dims = 0;
    void *rows = NULL;

    *n = 0;
    if (ds < 0)
        return NULL;
    space = H5Dget_space(ds);
    H5Sget_simple_extent_dims(space, &dims, NULL);
    rows = calloc(dims ? dims : 1, row);
    if (rows != NULL && dims > 0 && H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) {
        free(rows);
        rows = NULL;
    }
    if (rows != NULL)
        *n = (size_t)dims;
    H5Sclose(space);
    H5Dclose(ds);
    return rows;
}

static int read_attr_i64(hid_t loc, const char *name, int64_t *v)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    int rc = -1;
    if (a >= 0) {
        rc = H5Aread(a, H5T_NATIVE_INT64, v) >= 0 ? 0 : -1;
        H5Aclose(a);
    }
    return rc;
}

static void read_attr_str(hid_t loc, const char *name, char *out, size_t len)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    out[0] = '\0';
    if (a >= 0) {
        hid_t t = H5Tcopy(H5T_C_S1);
        char *v = NULL;
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5T_CSET_UTF8);
        if (H5Aread(a, t, &v) >= 0 && v != NULL) {
            snprintf(out, len, "%s", v);
            H5free_memory(v);
        }
        H5Tclose(t);
        H5Aclose(a);
    }
}

int mw_h5_is_hdf5(const char *path)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return H5Fis_hdf5(path) > 0;
}

mw_model_t *mw_h5_model_load(const char *path, char *errbuf, size_t errlen)
{
    hid_t file, tt, st, ht, vt;
    int64_t version = 0, window_s = 0;
    service_row_t *vrows = NULL;
    size_t nv = 0;
    station_row_t *srows = NULL;
    tuple_row_t *trows = NULL;
    hour_row_t *hrows = NULL;
    size_t ns = 0, nt = 0, nh = 0, i;
    mw_model_t *m = NULL;

    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (!mw_h5_is_hdf5(path)) {
        mw_fmt_err(errbuf, errlen, "%s: not a model file (not HDF5, or missing)", path);
        return NULL;
    }
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        mw_fmt_err(errbuf, errlen, "%s: cannot open", path);
        return NULL;
    }
    if (read_attr_i64(file, "model_version", &version) != 0) {
        mw_fmt_err(errbuf, errlen, "%s: not a mastwatch model (no model_version)", path);
        H5Fclose(file);
        return NULL;
    }
    if (version != MW_MODEL_VERSION) {
        /* older models keyed tuples and counted session starts differently: no silent reuse */
        mw_fmt_err(errbuf, errlen,
                "%s: model version %lld, this mastwatch reads version %d only: retrain it "
                "(mastwatch train) from the same captures or results files",
                path, (long long)version, MW_MODEL_VERSION);
        H5Fclose(file);
        return NULL;
    }
    if (read_attr_i64(file, "window_s", &window_s) != 0 || window_s <= 0) {
        mw_fmt_err(errbuf, errlen, "%s: model without a valid window_s", path);
        H5Fclose(file);
        return NULL;
    }
    tt = tuple_type();
    st = station_type();
    ht = hour_type();
    srows = read_table(file, "stations", st, sizeof(*srows), &ns);
    trows = read_table(file, "tuples", tt, sizeof(*trows), &nt);
    hrows = read_table(file, "hours", ht, sizeof(*hrows), &nh);
    vt = service_type();
    vrows = read_table(file, "services", vt, sizeof(*vrows), &nv);
    m = mw_model_create(window_s * 1000000, errbuf, errlen);
    if (srows == NULL || trows == NULL || hrows == NULL || vrows == NULL || m == NULL) {
        mw_fmt_err(errbuf, errlen, "%s: unreadable model tables", path);
        mw_model_destroy(m);
        m = NULL;
        goto out;
    }
    read_attr_i64(file, "first_us", &mw_model_meta(m)->first_us);
    read_attr_i64(file, "last_us", &mw_model_meta(m)->last_us);
    read_attr_str(file, "ndpi_version", mw_model_meta(m)->ndpi_version,
            sizeof(mw_model_meta(m)->ndpi_version));
    read_attr_str(file, "site", mw_model_meta(m)->site, sizeof(mw_model_meta(m)->site));
    for (i = 0; i < ns; i++) {
        mw_station_t *s;
        srows[i].id[MW_MODEL_ID_LEN - 1] = '\0';
        s = mw_model_station(m, srows[i].id, NULL);
        if (s == NULL)
            goto nomem;
        s->type = srows[i].type;
        s->first_us = srows[i].first_us;
        s->last_us = srows[i].last_us;
        s->records = srows[i].records;
        s->win_flows = srows[i].s[0];
        s->win_up = srows[i].s[1];
        s->win_down = srows[i].s[2];
        s->win_peers = srows[i].s[3];
        s->win_ratio = srows[i].s[4];
        s->dns_max_name = srows[i].dns_max_name;
        s->dns_max_label = srows[i].dns_max_label;
    }
    for (i = 0; i < nh; i++) {
        mw_station_t *s;
        hrows[i].station[MW_MODEL_ID_LEN - 1] = '\0';
        s = mw_model_station(m, hrows[i].station, NULL);
        if (s == NULL || hrows[i].hour >= MW_HOURS_OF_WEEK)
            continue;
        s->how_flows[hrows[i].hour] = hrows[i].flows;
        s->how_up[hrows[i].hour] = hrows[i].up;
    }
    for (i = 0; i < nv; i++) {
        mw_station_t *s;
        vrows[i].station[MW_MODEL_ID_LEN - 1] = '\0';
        s = mw_model_station(m, vrows[i].station, NULL);
        if (s == NULL || vrows[i].service >= MW_SVC_COUNT)
            continue;
        s->svc_up[vrows[i].service] = vrows[i].up;
        s->svc_flows[vrows[i].service] = vrows[i].flows;
    }
    for (i = 0; i < nt; i++) {
        mw_tuple_key_t key;
        mw_tuple_stats_t *ts;
        memset(&key, 0, sizeof(key));
        trows[i].station[MW_MODEL_ID_LEN - 1] = '\0';
        if (mw_model_station(m, trows[i].station, &key.station) == NULL)
            goto nomem;
        join_addr(key.peer, trows[i].peer_hi, trows[i].peer_lo);
        key.port = trows[i].port;
        key.service = trows[i].service;
        key.l4_proto = trows[i].l4_proto;
        key.initiator = trows[i].initiator;
        key.plane = trows[i].plane;
        key.inner = trows[i].inner;
        memcpy(key.app, trows[i].app, MW_MODEL_APP_LEN);
        key.app[MW_MODEL_APP_LEN - 1] = '\0';
        ts = mw_model_tuple(m, &key, 1);
        if (ts == NULL)
            goto nomem;
        *ts = trows[i].st;
    }
    goto out;
nomem:
    mw_fmt_err(errbuf, errlen, "%s: out of memory loading the model", path);
    mw_model_destroy(m);
    m = NULL;
out:
    free(srows);
    free(trows);
    free(hrows);
    free(vrows);
    H5Tclose(tt);
    H5Tclose(st);
    H5Tclose(ht);
    H5Tclose(vt);
    H5Fclose(file);
    return m;
}

typedef struct {
    uint32_t id;
    char name[64];
} name_row_t;

int mw_h5_flows_read(const char *path, mw_h5_flows_t *out, char *errbuf, size_t errlen)
{
    hid_t file, ft, nt, s64;
    name_row_t *names = NULL;
    size_t nn = 0, i;
    int rc = MW_EFORMAT;

    memset(out, 0, sizeof(*out));
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        size_t n = strlen(path);
        mw_fmt_err(errbuf, errlen, "%s: cannot open HDF5 file%s", path,
                n > 8 && strcmp(path + n - 8, ".partial") == 0
                        ? " (a run's partial file: run mastwatch recover on it first)"
                        : "");
        return MW_EIO;
    }
    {
        int64_t schema = 0;
        if (read_attr_i64(file, "schema_version", &schema) == 0 && schema != MW_SCHEMA_VERSION) {
            /* older records have no orientation or start fields: no silent misreading */
            mw_fmt_err(errbuf, errlen,
                    "%s: results schema version %lld, this mastwatch reads version %d: analyze "
                    "the captures again",
                    path, (long long)schema, MW_SCHEMA_VERSION);
            H5Fclose(file);
            return MW_EFORMAT;
        }
    }
    ft = mw__h5_flow_type();
    out->recs = read_table(file, "flows", ft, sizeof(mw_flow_record_t), &out->n);
    nt = H5Tcreate(H5T_COMPOUND, sizeof(name_row_t));
    s64 = mw__h5_fixed_string(64);
    H5Tinsert(nt, "id", offsetof(name_row_t, id), H5T_NATIVE_UINT32);
    H5Tinsert(nt, "name", offsetof(name_row_t, name), s64);
    names = read_table(file, "meta/protocols", nt, sizeof(*names), &nn);
    if (out->recs == NULL || names == NULL) {
        mw_fmt_err(errbuf, errlen,
                "%s: not a mastwatch results file (no /flows or /meta/protocols)", path);
        goto out;
    }
    out->proto_names = calloc(nn ? nn : 1, sizeof(char *));
    if (out->proto_names == NULL)
        goto out;
    for (i = 0; i < nn; i++) {
        names[i].name[63] = '\0';
        out->proto_names[i] = strdup(names[i].name);
    }
    out->nproto = nn;
    read_attr_i64(file, "active_timeout_s", &out->active_timeout_s);
    if (H5Lexists(file, "meta/inventory", H5P_DEFAULT) > 0) {
        hid_t ds = H5Dopen2(file, "meta/inventory", H5P_DEFAULT);
        hid_t t = H5Tcopy(H5T_C_S1);
        char *text = NULL;
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5T_CSET_UTF8);
        if (ds >= 0 && H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) >= 0 && text) {
            out->inventory_yaml = strdup(text);
            H5free_memory(text);
        }
        H5Tclose(t);
        if (ds >= 0)
            H5Dclose(ds);
    }
    rc = 0;
out:
    free(names);
    H5Tclose(s64);
    H5Tclose(nt);
    H5Tclose(ft);
    H5Fclose(file);
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
