/*
 * h5_evidence.c - reads an anomaly's span and links, and the run's sources,
 * from a results file (docs/SCHEMA.md). Only the members needed are read:
 * the memory types name them and HDF5 picks them out of the compound rows.
 */
#include "output/h5_evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mw.h"
#include "output/h5_internal.h"
#include "output/h5_writer.h"

#define MAX_ANOMALY_ROWS (64u << 20)

typedef struct span_row {
    uint64_t anomaly_id;
    int64_t start_us, end_us;
    uint64_t first_flow_id, last_flow_id;
} span_row_t;

typedef struct link_row {
    uint64_t anomaly_id, flow_id;
} link_row_t;

static hid_t open_file(const char *path, char *errbuf, size_t errlen)
{
    hid_t f;

    mw_h5_quiet();
    if (H5Fis_hdf5(path) <= 0) {
        mw_fmt_err(errbuf, errlen, "%s: not a results file (not HDF5, or unreadable)", path);
        return -1;
    }
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        mw_fmt_err(errbuf, errlen, "%s: cannot open (corrupt or truncated HDF5)", path);
    return f;
}

/* Reads a whole 1-D table into rows of mtype; NULL with a message, *missing when absent. */
static void *read_rows(hid_t file, const char *path, const char *name, hid_t mtype, size_t *n,
        int *missing, char *errbuf, size_t errlen)
{
    hid_t ds, space = -1;
    hsize_t dims = 0;
    void *rows = NULL;

    *n = 0;
    *missing = 0;
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
        *missing = 1;
        return NULL;
    }
    ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0)
        goto bad;
    space = H5Dget_space(ds);
    if (space < 0 || H5Sget_simple_extent_ndims(space) != 1 ||
            H5Sget_simple_extent_dims(space, &dims, NULL) != 1 || dims > MAX_ANOMALY_ROWS)
        goto bad;
    rows = calloc(dims ? (size_t)dims : 1, H5Tget_size(mtype));
    if (rows == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        goto out;
    }
    if (dims > 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) {
        free(rows);
        rows = NULL;
        goto bad;
    }
    *n = (size_t)dims;
    goto out;
bad:
    mw_fmt_err(errbuf, errlen, "%s: /%s unreadable (corrupt, or not a mastwatch results file)",
            path, name);
out:
    if (space >= 0)
        H5Sclose(space);
    if (ds >= 0)
        H5Dclose(ds);
    return rows;
}

int mw_h5_anomaly_span_read(
        const char *path, uint64_t id, mw_h5_anomaly_span_t *out, char *errbuf, size_t errlen)
{
    hid_t file, st = -1, lt = -1;
    span_row_t *rows = NULL;
    link_row_t *links = NULL;
    size_t n = 0, nl = 0, i, found = SIZE_MAX;
    int missing = 0, rc = MW_EFORMAT;

    memset(out, 0, sizeof(*out));
    file = open_file(path, errbuf, errlen);
    if (file < 0)
        return MW_EFORMAT;
    st = H5Tcreate(H5T_COMPOUND, sizeof(span_row_t));
    lt = H5Tcreate(H5T_COMPOUND, sizeof(link_row_t));
    if (st < 0 || lt < 0 ||
            H5Tinsert(st, "anomaly_id", HOFFSET(span_row_t, anomaly_id), H5T_NATIVE_UINT64) < 0 ||
            H5Tinsert(st, "start_us", HOFFSET(span_row_t, start_us), H5T_NATIVE_INT64) < 0 ||
            H5Tinsert(st, "end_us", HOFFSET(span_row_t, end_us), H5T_NATIVE_INT64) < 0 ||
            H5Tinsert(st, "first_flow_id", HOFFSET(span_row_t, first_flow_id), H5T_NATIVE_UINT64) <
                    0 ||
            H5Tinsert(st, "last_flow_id", HOFFSET(span_row_t, last_flow_id), H5T_NATIVE_UINT64) <
                    0 ||
            H5Tinsert(lt, "anomaly_id", HOFFSET(link_row_t, anomaly_id), H5T_NATIVE_UINT64) < 0 ||
            H5Tinsert(lt, "flow_id", HOFFSET(link_row_t, flow_id), H5T_NATIVE_UINT64) < 0) {
        mw_fmt_err(errbuf, errlen, "HDF5: cannot build the row types");
        goto out;
    }
    rows = read_rows(file, path, "anomalies", st, &n, &missing, errbuf, errlen);
    if (rows == NULL) {
        if (missing) {
            mw_fmt_err(errbuf, errlen, "%s has no anomalies (a run without --model)", path);
            rc = MW_EINVAL;
        }
        goto out;
    }
    for (i = 0; i < n; i++)
        if (rows[i].anomaly_id == id)
            found = i;
    if (found == SIZE_MAX) {
        mw_fmt_err(errbuf, errlen, "%s: no anomaly %llu (%zu anomalies in the file)", path,
                (unsigned long long)id, n);
        rc = MW_EINVAL;
        goto out;
    }
    out->start_us = rows[found].start_us;
    out->end_us = rows[found].end_us;
    out->first_flow_id = rows[found].first_flow_id;
    out->last_flow_id = rows[found].last_flow_id;
    links = read_rows(file, path, "anomaly_flows", lt, &nl, &missing, errbuf, errlen);
    if (links == NULL && !missing)
        goto out;
    out->flow_ids = calloc(nl + 2, sizeof(*out->flow_ids));
    if (out->flow_ids == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        rc = MW_ENOMEM;
        goto out;
    }
    for (i = 0; i < nl; i++)
        if (links[i].anomaly_id == id)
            out->flow_ids[out->nflows++] = links[i].flow_id;
    if (out->nflows == 0) { /* no link rows: its first and last flow still are */
        out->flow_ids[out->nflows++] = out->first_flow_id;
        if (out->last_flow_id != out->first_flow_id)
            out->flow_ids[out->nflows++] = out->last_flow_id;
    }
    rc = 0;
out:
    free(rows);
    free(links);
    if (st >= 0)
        H5Tclose(st);
    if (lt >= 0)
        H5Tclose(lt);
    H5Fclose(file);
    if (rc != 0)
        mw_h5_anomaly_span_free(out);
    return rc;
}

void mw_h5_anomaly_span_free(mw_h5_anomaly_span_t *a)
{
    free(a->flow_ids);
    a->flow_ids = NULL;
    a->nflows = 0;
}

/* A scalar string attribute (variable- or fixed-length), newly allocated; NULL if absent. */
static char *read_string_attr(hid_t file, const char *name)
{
    hid_t a = -1, t = -1, mt = -1, space = -1;
    char *value = NULL;

    if (H5Aexists(file, name) <= 0)
        return NULL;
    a = H5Aopen(file, name, H5P_DEFAULT);
    if (a < 0 || (t = H5Aget_type(a)) < 0 || H5Tget_class(t) != H5T_STRING ||
            (space = H5Aget_space(a)) < 0 || H5Sget_simple_extent_type(space) != H5S_SCALAR)
        goto out;
    if (H5Tis_variable_str(t) > 0) {
        char *v = NULL;
        mt = H5Tcopy(H5T_C_S1);
        if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Tset_cset(mt, H5Tget_cset(t)) < 0 ||
                H5Aread(a, mt, &v) < 0 || v == NULL)
            goto out;
        value = strdup(v);
        H5free_memory(v);
    } else {
        size_t size = H5Tget_size(t);
        if (size == 0 || size > (1u << 20) || (value = calloc(1, size + 1)) == NULL)
            goto out;
        mt = H5Tcopy(t);
        if (mt < 0 || H5Aread(a, mt, value) < 0) {
            free(value);
            value = NULL;
        }
    }
out:
    if (mt >= 0)
        H5Tclose(mt);
    if (space >= 0)
        H5Sclose(space);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return value;
}

int mw_h5_run_sources(const char *path, char **sources, char *command, size_t command_len,
        char *errbuf, size_t errlen)
{
    hid_t file = open_file(path, errbuf, errlen);
    char *cmd;

    *sources = NULL;
    if (command_len > 0)
        command[0] = '\0';
    if (file < 0)
        return MW_EFORMAT;
    *sources = read_string_attr(file, "sources");
    cmd = read_string_attr(file, "command");
    if (cmd != NULL && command_len > 0)
        snprintf(command, command_len, "%s", cmd);
    free(cmd);
    H5Fclose(file);
    if (*sources == NULL) {
        mw_fmt_err(errbuf, errlen, "%s: no `sources` attribute: give the capture files", path);
        return MW_EFORMAT;
    }
    return 0;
}
