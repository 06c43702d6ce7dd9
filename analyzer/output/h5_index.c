/*
 * h5_index.c - the night index of `mastwatch batch`. Rows are not copied:
 * /flows and /anomalies are HDF5 virtual datasets (1.10) whose mappings
 * point at the per-capture results files by relative name, so
 * h5py.File("index.h5")["flows"][:] reads the whole night as one table and
 * the night directory can be moved or copied as a whole. The member types
 * are taken from the results files themselves and must be equal in all of
 * them (one schema per night). /captures is an ordinary compound table.
 * Also reads the few numbers the batch needs from a results file.
 */
#include "output/h5_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mw.h"
#include "flow/flow_record.h"
#include "output/h5_internal.h"

#define MW_IDX_PATH_LEN   1024
#define MW_IDX_SITE_LEN   72
#define MW_IDX_STATUS_LEN 16
#define MW_IDX_ERROR_LEN  512

typedef struct index_row {
    uint32_t capture_id;
    int32_t exit_code;
    uint64_t flows, first_flow_row, anomalies, first_anomaly_row;
    int8_t complete;
    char status[MW_IDX_STATUS_LEN];
    char site[MW_IDX_SITE_LEN];
    char path[MW_IDX_PATH_LEN];
    char results[MW_IDX_PATH_LEN];
    char error[MW_IDX_ERROR_LEN];
} index_row_t;

static int read_int_attr(hid_t f, const char *name, long long *out)
{
    hid_t a;
    int rc;

    if (H5Aexists(f, name) <= 0)
        return -1;
    a = H5Aopen(f, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    rc = H5Aread(a, H5T_NATIVE_LLONG, out) < 0 ? -1 : 0;
    H5Aclose(a);
    return rc;
}

static int rows_of(hid_t f, const char *name, uint64_t *rows)
{
    hsize_t dims[1] = { 0 };
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT), s;
    int rc = -1;

    if (d < 0)
        return -1;
    s = H5Dget_space(d);
    if (s >= 0 && H5Sget_simple_extent_ndims(s) == 1 &&
            H5Sget_simple_extent_dims(s, dims, NULL) == 1) {
        *rows = (uint64_t)dims[0];
        rc = 0;
    }
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
    return rc;
}

/* Highest severity in /anomalies, read member by member in slices. */
static int max_severity(hid_t f, uint64_t rows, int *out)
{
    enum { SLICE = 4096 };
    hid_t d = H5Dopen2(f, "anomalies", H5P_DEFAULT);
    hid_t mt = H5Tcreate(H5T_COMPOUND, 1), fs = -1, ms = -1;
    uint8_t *buf = malloc(SLICE);
    uint64_t at;
    int rc = -1;

    *out = 0;
    if (d < 0 || mt < 0 || buf == NULL || H5Tinsert(mt, "severity", 0, H5T_NATIVE_UINT8) < 0)
        goto out;
    fs = H5Dget_space(d);
    if (fs < 0)
        goto out;
    for (at = 0; at < rows; at += SLICE) {
        hsize_t start[1] = { at }, count[1] = { MW_MIN(SLICE, rows - at) };
        hsize_t i;
        ms = H5Screate_simple(1, count, NULL);
        if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
                H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf) < 0)
            goto out;
        H5Sclose(ms);
        ms = -1;
        for (i = 0; i < count[0]; i++)
            if (buf[i] > *out)
                *out = buf[i];
    }
    rc = 0;
out:
    free(buf);
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    if (mt >= 0)
        H5Tclose(mt);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

int mw_h5_results_info(const char *path, mw_results_info_t *out, char *errbuf, size_t errlen)
{
    hid_t f;
    long long v = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        mw_fmt_err(errbuf, errlen, "%s: not a readable HDF5 results file", path);
        return MW_EFORMAT;
    }
    if (rows_of(f, "flows", &out->flows) != 0) {
        mw_fmt_err(errbuf, errlen, "%s: no /flows table", path);
        rc = MW_EFORMAT;
        goto out;
    }
    if (read_int_attr(f, "complete", &v) == 0)
        out->complete = v != 0;
    if (H5Lexists(f, "anomalies", H5P_DEFAULT) > 0) {
        out->has_anomalies = 1;
        if (rows_of(f, "anomalies", &out->anomalies) != 0 ||
                max_severity(f, out->anomalies, &out->max_severity) != 0) {
            mw_fmt_err(errbuf, errlen, "%s: unreadable /anomalies table", path);
            rc = MW_EFORMAT;
        }
    }
out:
    if (H5Fclose(f) < 0 && rc == 0) {
        mw_fmt_err(errbuf, errlen, "%s: cannot close", path);
        rc = MW_EIO;
    }
    return rc;
}

/* A capture's results file, opened read-only; -1 when it has none or it cannot be opened. */
static hid_t open_results(const char *dir, const mw_index_capture_t *c)
{
    char *p;
    hid_t f;

    if (c->results == NULL || asprintf(&p, "%s/%s", dir, c->results) < 0)
        return -1;
    f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    free(p);
    return f;
}

/* The type of dataset name in the first results file that has it; -1 when none. */
static hid_t source_type(
        const char *dir, const mw_index_capture_t *caps, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        hid_t f = open_results(dir, &caps[i]), d, t = -1;
        if (f < 0)
            continue;
        if (H5Lexists(f, name, H5P_DEFAULT) > 0 && (d = H5Dopen2(f, name, H5P_DEFAULT)) >= 0) {
            t = H5Dget_type(d);
            H5Dclose(d);
        }
        H5Fclose(f);
        if (t >= 0)
            return t;
    }
    return -1;
}

/* The schema version of the night's results (the first file that says one), which the
 * index's row types are: a night of older files re-indexed is still labelled theirs. */
static int64_t source_schema(const char *dir, const mw_index_capture_t *caps, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        hid_t f = open_results(dir, &caps[i]);
        long long v;
        int rc;
        if (f < 0)
            continue;
        rc = read_int_attr(f, "schema_version", &v);
        H5Fclose(f);
        if (rc == 0)
            return v;
    }
    return MW_SCHEMA_VERSION;
}

/* The type of dataset name in one file, compared with want: 1 equal, 0 not, -1 error. */
static int same_type(const char *file, const char *name, hid_t want)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT), d = -1, t = -1;
    int rc = -1;

    if (f >= 0 && (d = H5Dopen2(f, name, H5P_DEFAULT)) >= 0 && (t = H5Dget_type(d)) >= 0)
        rc = H5Tequal(t, want) > 0 ? 1 : 0;
    if (t >= 0)
        H5Tclose(t);
    if (d >= 0)
        H5Dclose(d);
    if (f >= 0)
        H5Fclose(f);
    return rc;
}

/* One virtual (or, without rows, empty) 1-D dataset over the captures' tables. */
static int write_virtual(hid_t file, const char *dir, const char *name, hid_t type,
        const mw_index_capture_t *caps, size_t n, int anomalies, char *errbuf, size_t errlen)
{
    hsize_t total = 0;
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), vspace = -1, d = -1;
    size_t i;
    int rc = MW_EIO;

    for (i = 0; i < n; i++)
        total += anomalies ? caps[i].anomalies : caps[i].flows;
    vspace = H5Screate_simple(1, &total, NULL);
    if (dcpl < 0 || vspace < 0)
        goto out;
    for (i = 0; i < n && total > 0; i++) {
        hsize_t start = anomalies ? caps[i].first_anomaly_row : caps[i].first_flow_row;
        hsize_t count = anomalies ? caps[i].anomalies : caps[i].flows;
        hid_t src;
        char *p;
        int same;
        if (count == 0 || caps[i].results == NULL)
            continue;
        if (asprintf(&p, "%s/%s", dir, caps[i].results) < 0)
            goto out;
        same = same_type(p, name, type);
        free(p);
        if (same != 1) {
            mw_fmt_err(errbuf, errlen, "%s: /%s %s", caps[i].results, name,
                    same == 0 ? "has another row type than the night's other files"
                              : "cannot be read");
            rc = MW_EFORMAT;
            goto out;
        }
        src = H5Screate_simple(1, &count, NULL);
        if (src < 0 ||
                H5Sselect_hyperslab(vspace, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
                H5Pset_virtual(dcpl, vspace, caps[i].results, name, src) < 0) {
            if (src >= 0)
                H5Sclose(src);
            goto out;
        }
        H5Sclose(src);
    }
    if (H5Sselect_all(vspace) < 0)
        goto out;
    d = H5Dcreate2(
            file, name, type, vspace, H5P_DEFAULT, total > 0 ? dcpl : H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0)
        goto out;
    rc = H5Dclose(d) < 0 ? MW_EIO : 0;
out:
    if (rc == MW_EIO)
        mw_fmt_err(errbuf, errlen, "cannot write the virtual dataset /%s", name);
    if (vspace >= 0)
        H5Sclose(vspace);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return rc;
}

static hid_t captures_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(index_row_t));
    hid_t st = mw__h5_fixed_string(MW_IDX_STATUS_LEN), si = mw__h5_fixed_string(MW_IDX_SITE_LEN);
    hid_t pa = mw__h5_fixed_string(MW_IDX_PATH_LEN), er = mw__h5_fixed_string(MW_IDX_ERROR_LEN);
    int bad = t < 0 || st < 0 || si < 0 || pa < 0 || er < 0;

#define F(m, ty) bad |= H5Tinsert(t, #m, offsetof(index_row_t, m), ty) < 0
    if (!bad) {
        F(capture_id, H5T_NATIVE_UINT32);
        F(path, pa);
        F(site, si);
        F(status, st);
        F(exit_code, H5T_NATIVE_INT32);
        F(error, er);
        F(results, pa);
        F(flows, H5T_NATIVE_UINT64);
        F(first_flow_row, H5T_NATIVE_UINT64);
        F(anomalies, H5T_NATIVE_UINT64);
        F(first_anomaly_row, H5T_NATIVE_UINT64);
        F(complete, H5T_NATIVE_INT8);
    }
#undef F
    if (st >= 0)
        H5Tclose(st);
    if (si >= 0)
        H5Tclose(si);
    if (pa >= 0)
        H5Tclose(pa);
    if (er >= 0)
        H5Tclose(er);
    if (bad && t >= 0) {
        H5Tclose(t);
        t = -1;
    }
    return t;
}

static void put(char *dst, size_t len, const char *src)
{
    memset(dst, 0, len);
    if (src != NULL)
        strncpy(dst, src, len - 1);
}

static int write_captures(hid_t file, const mw_index_capture_t *caps, size_t n)
{
    hsize_t dims = n;
    hid_t t = captures_type(), s = H5Screate_simple(1, &dims, NULL), d = -1;
    index_row_t *rows = calloc(n > 0 ? n : 1, sizeof(*rows));
    size_t i;
    int rc = -1;

    if (t < 0 || s < 0 || rows == NULL)
        goto out;
    for (i = 0; i < n; i++) {
        index_row_t *r = &rows[i];
        r->capture_id = caps[i].capture_id;
        r->exit_code = caps[i].exit_code;
        r->flows = caps[i].flows;
        r->first_flow_row = caps[i].first_flow_row;
        r->anomalies = caps[i].anomalies;
        r->first_anomaly_row = caps[i].first_anomaly_row;
        r->complete = caps[i].complete;
        put(r->status, sizeof(r->status), caps[i].status);
        put(r->site, sizeof(r->site), caps[i].site);
        put(r->path, sizeof(r->path), caps[i].path);
        put(r->results, sizeof(r->results), caps[i].results);
        put(r->error, sizeof(r->error), caps[i].error);
    }
    d = H5Dcreate2(file, "captures", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0 || (n > 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0))
        goto out;
    rc = 0;
out:
    free(rows);
    if (d >= 0 && H5Dclose(d) < 0)
        rc = -1;
    if (s >= 0)
        H5Sclose(s);
    if (t >= 0)
        H5Tclose(t);
    return rc;
}

int mw_h5_index_write(const char *path, const char *dir, const char *night,
        const mw_index_capture_t *caps, size_t n, char *errbuf, size_t errlen)
{
    hid_t fapl, file, ft = -1, at = -1;
    int rc = MW_EIO;

    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        mw_fmt_err(errbuf, errlen, "%s: cannot set up HDF5", path);
        return MW_EIO;
    }
    file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (file < 0) {
        mw_fmt_err(errbuf, errlen, "%s: cannot create", path);
        return MW_EIO;
    }
    ft = source_type(dir, caps, n, "flows");
    if (ft < 0)
        ft = mw__h5_flow_type();
    at = source_type(dir, caps, n, "anomalies");
    if (at < 0)
        at = mw__h5_anomaly_type();
    if (ft < 0 || at < 0) {
        mw_fmt_err(errbuf, errlen, "%s: cannot build the row types", path);
        goto out;
    }
    rc = write_virtual(file, dir, "flows", ft, caps, n, 0, errbuf, errlen);
    if (rc == 0)
        rc = write_virtual(file, dir, "anomalies", at, caps, n, 1, errbuf, errlen);
    if (rc == 0 && write_captures(file, caps, n) != 0) {
        mw_fmt_err(errbuf, errlen, "%s: cannot write /captures", path);
        rc = MW_EIO;
    }
    if (rc == 0 &&
            (mw__h5_attr_string(file, "night", night) < 0 ||
                    mw__h5_attr_int64(file, "index_version", 1) < 0 ||
                    mw__h5_attr_int64(file, "schema_version", source_schema(dir, caps, n)) < 0 ||
                    mw__h5_attr_int64(file, "captures", (int64_t)n) < 0 ||
                    mw__h5_attr_string(file, "mastwatch_version", MW_VERSION) < 0)) {
        mw_fmt_err(errbuf, errlen, "%s: cannot write the attributes", path);
        rc = MW_EIO;
    }
out:
    if (ft >= 0)
        H5Tclose(ft);
    if (at >= 0)
        H5Tclose(at);
    if (H5Fclose(file) < 0 && rc == 0) {
        mw_fmt_err(errbuf, errlen, "%s: cannot close", path);
        rc = MW_EIO;
    }
    return rc;
}
