/*
 * h5_recover.c - `mastwatch recover FILE.h5.partial`: turns the .partial a
 * killed or failed run left into an ordinary results file under the final
 * name, marked complete=0 and recovered=1 with the reason.
 *
 * The partial is only read, never changed: it is opened for SWMR reading
 * (a writer killed in SWMR mode leaves the "open for writing" flags set,
 * which a plain open refuses; the SWMR reader does not need them cleared),
 * or plainly for a partial that was closed (a run that failed on a full
 * disk). Every object is copied into a new file beside it; /flows and the
 * other row tables are copied block by block up to the first block that
 * cannot be read, so a damaged end loses only that end. The copy is
 * fsync'd and renamed to the final name, then the partial is removed.
 * The rows of the chunk the run still had open are in NAME.partial.rows
 * (h5_writer.c); those the file does not have yet are appended from it.
 */
#include "output/h5_recover.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/mw.h"
#include "core/output_path.h"
#include "flow/flow_record.h"
#include "output/h5_internal.h"
#include "output/h5_writer.h"

#define COPY_BLOCK_ROWS 8192

typedef struct recover {
    hid_t src, dst;
    uint64_t flow_rows;
    int damaged; /* some rows or objects could not be read */
    char damage[256];
} recover_t;

static hid_t open_partial(const char *path)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t f = -1;

    if (fapl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) >= 0)
        f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (f < 0)
        f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); /* closed cleanly, or not SWMR */
    return f;
}

/* Copies a 1-D chunked table row block by row block, up to the first unreadable block. */
static int copy_rows(recover_t *r, const char *name, uint64_t *rows_out)
{
    hid_t src = H5Dopen2(r->src, name, H5P_DEFAULT);
    hid_t type = -1, dcpl = -1, space = -1, dst = -1;
    hsize_t dims = 0, zero = 0, unlimited = H5S_UNLIMITED, done = 0;
    void *buf = NULL;
    int rc = -1;

    if (src < 0)
        return -1;
    type = H5Dget_type(src);
    dcpl = H5Dget_create_plist(src);
    space = H5Dget_space(src);
    if (type < 0 || dcpl < 0 || space < 0 || H5Sget_simple_extent_ndims(space) != 1)
        goto out;
    H5Sget_simple_extent_dims(space, &dims, NULL);
    H5Sclose(space);
    space = H5Screate_simple(1, &zero, &unlimited);
    dst = H5Dcreate2(r->dst, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    buf = malloc(COPY_BLOCK_ROWS * H5Tget_size(type));
    if (dst < 0 || buf == NULL)
        goto out;
    while (done < dims) {
        hsize_t count = MW_MIN(dims - done, (hsize_t)COPY_BLOCK_ROWS);
        hid_t sf = H5Dget_space(src), mspace = H5Screate_simple(1, &count, NULL);
        int ok = sf >= 0 && mspace >= 0 &&
                 H5Sselect_hyperslab(sf, H5S_SELECT_SET, &done, NULL, &count, NULL) >= 0 &&
                 H5Dread(src, type, mspace, sf, H5P_DEFAULT, buf) >= 0;

        if (sf >= 0)
            H5Sclose(sf);
        if (mspace >= 0)
            H5Sclose(mspace);
        if (!ok) {
            r->damaged = 1;
            snprintf(r->damage, sizeof(r->damage), "; /%s rows from %llu of %llu unreadable", name,
                    (unsigned long long)done, (unsigned long long)dims);
            break;
        }
        if (mw__h5_write_rows(dst, type, done, count, buf) != 0)
            goto out;
        done += count;
    }
    *rows_out = done;
    rc = 0;
out:
    free(buf);
    if (dst >= 0)
        H5Dclose(dst);
    if (space >= 0)
        H5Sclose(space);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (type >= 0)
        H5Tclose(type);
    H5Dclose(src);
    return rc;
}

static herr_t copy_attr(hid_t loc, const char *name, const H5A_info_t *info, void *ctx)
{
    recover_t *r = ctx;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t type = a >= 0 ? H5Aget_type(a) : -1;
    hid_t space = a >= 0 ? H5Aget_space(a) : -1;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    void *buf = NULL;
    hid_t out = -1;
    int ok = 0;

    (void)info;
    if (strcmp(name, "complete") != 0 && type >= 0 && n >= 0) {
        buf = calloc((size_t)(n ? n : 1), H5Tget_size(type));
        if (buf != NULL && H5Aread(a, type, buf) >= 0) {
            out = H5Acreate2(r->dst, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
            ok = out >= 0 && H5Awrite(out, type, buf) >= 0;
            H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf);
        }
        if (!ok) {
            r->damaged = 1;
            snprintf(r->damage, sizeof(r->damage), "; attribute %s unreadable", name);
        }
    }
    free(buf);
    if (out >= 0)
        H5Aclose(out);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (a >= 0)
        H5Aclose(a);
    return 0;
}

static herr_t copy_object(hid_t loc, const char *name, const H5L_info_t *info, void *ctx)
{
    recover_t *r = ctx;
    H5O_info_t oi;
    uint64_t rows = 0;
    int chunked = 0;

    (void)info;
    if (H5Oget_info_by_name(loc, name, &oi, H5P_DEFAULT) < 0)
        goto damaged;
    if (oi.type == H5O_TYPE_DATASET) {
        hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
        hid_t dcpl = ds >= 0 ? H5Dget_create_plist(ds) : -1;
        chunked = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED;
        if (dcpl >= 0)
            H5Pclose(dcpl);
        if (ds >= 0)
            H5Dclose(ds);
    }
    if (chunked) {
        if (copy_rows(r, name, &rows) != 0)
            goto damaged;
        if (strcmp(name, "flows") == 0)
            r->flow_rows = rows;
        return 0;
    }
    if (H5Ocopy(loc, name, r->dst, name, H5P_DEFAULT, H5P_DEFAULT) >= 0)
        return 0;
damaged:
    r->damaged = 1;
    snprintf(r->damage, sizeof(r->damage), "; /%s unreadable", name);
    return 0;
}

/* Appends the journal's rows the copied /flows lacks; -1 when the journal is unusable, -2
 * when another schema version wrote it (*schema). */
static int replay_journal(recover_t *r, const char *journal, uint32_t *schema)
{
    int fd = open(journal, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    mw_journal_header_t h;
    mw_flow_record_t *recs = NULL;
    struct stat st;
    hid_t ds = -1, type = -1;
    uint64_t n, skip;
    int rc = -1;

    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    if (fstat(fd, &st) != 0 || read(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
            memcmp(h.magic, "MWROWS1", 8) != 0)
        goto out;
    if (h.schema_version != MW_SCHEMA_VERSION) {
        *schema = h.schema_version;
        rc = -2;
        goto out;
    }
    if (h.record_size != sizeof(mw_flow_record_t) || h.start_row > r->flow_rows)
        goto out;
    n = ((uint64_t)st.st_size - sizeof(h)) / sizeof(mw_flow_record_t); /* whole records only */
    skip = r->flow_rows - h.start_row;                                 /* already in the file */
    if (n <= skip) {
        rc = 0;
        goto out;
    }
    recs = malloc((size_t)(n - skip) * sizeof(*recs));
    if (recs == NULL ||
            lseek(fd, (off_t)(sizeof(h) + skip * sizeof(*recs)), SEEK_SET) == (off_t)-1 ||
            read(fd, recs, (size_t)(n - skip) * sizeof(*recs)) !=
                    (ssize_t)((n - skip) * sizeof(*recs)))
        goto out;
    ds = H5Dopen2(r->dst, "flows", H5P_DEFAULT);
    type = mw__h5_flow_type();
    if (ds < 0 || type < 0 || mw__h5_write_rows(ds, type, r->flow_rows, n - skip, recs) != 0)
        goto out;
    r->flow_rows += n - skip;
    rc = 0;
out:
    if (type >= 0)
        H5Tclose(type);
    if (ds >= 0)
        H5Dclose(ds);
    free(recs);
    close(fd);
    return rc;
}

typedef struct {
    int64_t first_us, last_us;
} span_row_t;

/* The packet-time span of the copied rows, for a run killed before its first checkpoint. */
static void span_from_rows(recover_t *r, int64_t *first_us, int64_t *last_us)
{
    hid_t ds = H5Dopen2(r->dst, "flows", H5P_DEFAULT);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(span_row_t));
    hid_t space = -1, mem = -1;
    span_row_t *rows = malloc(COPY_BLOCK_ROWS * sizeof(*rows));
    hsize_t done, count;
    size_t i;

    *first_us = *last_us = 0;
    if (ds < 0 || t < 0 || rows == NULL ||
            H5Tinsert(t, "first_us", offsetof(span_row_t, first_us), H5T_NATIVE_INT64) < 0 ||
            H5Tinsert(t, "last_us", offsetof(span_row_t, last_us), H5T_NATIVE_INT64) < 0)
        goto out;
    for (done = 0; done < r->flow_rows; done += count) {
        count = MW_MIN((hsize_t)COPY_BLOCK_ROWS, r->flow_rows - done);
        space = H5Dget_space(ds);
        mem = H5Screate_simple(1, &count, NULL);
        if (space < 0 || mem < 0 ||
                H5Sselect_hyperslab(space, H5S_SELECT_SET, &done, NULL, &count, NULL) < 0 ||
                H5Dread(ds, t, mem, space, H5P_DEFAULT, rows) < 0)
            goto out;
        H5Sclose(space);
        H5Sclose(mem);
        space = mem = -1;
        for (i = 0; i < count; i++) {
            if (rows[i].first_us > 0 && (*first_us == 0 || rows[i].first_us < *first_us))
                *first_us = rows[i].first_us;
            if (rows[i].last_us > *last_us)
                *last_us = rows[i].last_us;
        }
    }
out:
    if (space >= 0)
        H5Sclose(space);
    if (mem >= 0)
        H5Sclose(mem);
    if (t >= 0)
        H5Tclose(t);
    if (ds >= 0)
        H5Dclose(ds);
    free(rows);
}

static int64_t read_int64_attr(hid_t loc, const char *name)
{
    int64_t v = 0;
    hid_t a = H5Aexists(loc, name) > 0 ? H5Aopen(loc, name, H5P_DEFAULT) : -1;

    if (a >= 0) {
        if (H5Aread(a, H5T_NATIVE_INT64, &v) < 0)
            v = 0;
        H5Aclose(a);
    }
    return v;
}

/* first_us/last_us stay those of the run's last checkpoint; 0 means it came
 * before any, and the rows' span is the best there is. */
static int fill_span(recover_t *r)
{
    int64_t first_us, last_us;
    int rc = 0;

    if (read_int64_attr(r->dst, "first_us") != 0)
        return 0;
    span_from_rows(r, &first_us, &last_us);
    if (H5Aexists(r->dst, "first_us") > 0)
        rc |= H5Adelete(r->dst, "first_us") < 0;
    if (H5Aexists(r->dst, "last_us") > 0)
        rc |= H5Adelete(r->dst, "last_us") < 0;
    rc |= mw__h5_attr_int64(r->dst, "first_us", first_us);
    rc |= mw__h5_attr_int64(r->dst, "last_us", last_us);
    return rc ? MW_EIO : 0;
}

static int finish_attrs(recover_t *r, const char *partial)
{
    char reason[4600], created[32];
    time_t now = time(NULL);
    struct tm tm;
    int rc = 0;

    gmtime_r(&now, &tm);
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(reason, sizeof(reason),
            "recovered from %s: the run did not finish (killed, crashed or failed); rows up to "
            "its last flush; /stats/counters as of its last checkpoint (per-worker totals such "
            "as flows_evicted and peak_flows are only written at the end)%s",
            partial, r->damage);
    rc |= fill_span(r);
    rc |= mw__h5_attr_int64(r->dst, "complete", 0);
    rc |= mw__h5_attr_int64(r->dst, "recovered", 1);
    rc |= mw__h5_attr_string(r->dst, "recovery_reason", reason);
    rc |= mw__h5_attr_string(r->dst, "recovered_utc", created);
    return rc;
}

int mw_h5_recover(const char *partial, uint64_t *rows, char *errbuf, size_t errlen)
{
    static const char suffix[] = ".partial";
    size_t n = strlen(partial);
    recover_t r = { .src = -1, .dst = -1 };
    char final[4096], tmp[4200], journal[4200];
    struct stat st;
    hid_t fapl = -1;
    int rc = MW_EIO, created = 0, jrc;
    uint32_t journal_schema = 0;

    mw_h5_quiet();
    *rows = 0;
    if (n <= strlen(suffix) || strcmp(partial + n - strlen(suffix), suffix) != 0 ||
            n - strlen(suffix) >= sizeof(final)) {
        mw_fmt_err(errbuf, errlen, "recover: %s is not a FILE.h5.partial", partial);
        return MW_EINVAL;
    }
    snprintf(final, sizeof(final), "%.*s", (int)(n - strlen(suffix)), partial);
    snprintf(tmp, sizeof(tmp), "%s.%ld.recovering", partial, (long)getpid());
    if (lstat(partial, &st) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "recover: %s", partial);
        return MW_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        mw_fmt_err(errbuf, errlen, "recover: %s is not a regular file", partial);
        return MW_EIO;
    }
    if (st.st_size == 0) {
        mw_fmt_err(errbuf, errlen,
                "recover: %s is empty: the run was stopped before it wrote "
                "anything; nothing to recover",
                partial);
        return MW_EIO;
    }
    if (lstat(final, &st) == 0) {
        mw_fmt_err(errbuf, errlen, "recover: %s exists; move it away first (it is not replaced)",
                final);
        return MW_EIO;
    }
    r.src = open_partial(partial);
    if (r.src < 0) {
        mw_fmt_err(errbuf, errlen,
                "recover: %s cannot be opened by HDF5: not a results file, or "
                "damaged beyond recovery",
                partial);
        return MW_EIO;
    }
    if (H5Lexists(r.src, "flows", H5P_DEFAULT) <= 0) {
        mw_fmt_err(
                errbuf, errlen, "recover: %s has no /flows: not a mastwatch results file", partial);
        goto out;
    }
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0)
        goto out;
    r.dst = H5Fcreate(tmp, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    if (r.dst < 0) {
        mw_fmt_err(errbuf, errlen, "recover: cannot create %s", tmp);
        goto out;
    }
    created = 1;
    H5Literate(r.src, H5_INDEX_NAME, H5_ITER_INC, NULL, copy_object, &r);
    H5Aiterate2(r.src, H5_INDEX_NAME, H5_ITER_INC, NULL, copy_attr, &r);
    snprintf(journal, sizeof(journal), "%s.rows", partial);
    jrc = replay_journal(&r, journal, &journal_schema);
    if (jrc != 0) {
        r.damaged = 1;
        if (jrc == -2)
            snprintf(r.damage, sizeof(r.damage),
                    "; its rows journal (.rows) is of results schema %u, not this mastwatch's "
                    "%d: its rows were not replayed (the mastwatch that wrote it can)",
                    (unsigned)journal_schema, MW_SCHEMA_VERSION);
        else
            snprintf(r.damage, sizeof(r.damage), "; its rows journal (.rows) was unusable");
    }
    if (finish_attrs(&r, partial) != 0) {
        mw_fmt_err(errbuf, errlen, "recover: writing %s failed (disk full?)", tmp);
        goto out;
    }
    rc = H5Fclose(r.dst) < 0 ? MW_EIO : 0;
    r.dst = -1;
    if (rc != 0 || mw_fsync_path(tmp, 0) != 0) {
        mw_fmt_err(errbuf, errlen, "recover: writing %s failed (disk full?)", tmp);
        rc = MW_EIO;
        goto out;
    }
    /* link, not rename: a final file that appeared meanwhile is not replaced */
    if (link(tmp, final) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "recover: cannot create %s", final);
        rc = MW_EIO;
        goto out;
    }
    unlink(tmp);
    H5Fclose(r.src);
    r.src = -1;
    unlink(journal);
    unlink(partial);
    *rows = r.flow_rows;
    return 0;
out:
    if (r.dst >= 0)
        H5Fclose(r.dst);
    if (created)
        unlink(tmp);
    if (r.src >= 0)
        H5Fclose(r.src);
    if (fapl >= 0)
        H5Pclose(fapl);
    return rc ? rc : MW_EIO;
}
