/*
 * h5_writer.c - writes the results file with HDF5; the only file that
 * includes hdf5.h. Every hid_t opened here is closed here.
 *
 * /flows is a chunked, extendible compound dataset whose members are the
 * scalar fields of mw_flow_record_t at their in-memory offsets (nested
 * direction stats are flattened to c2s_* / s2c_*), so the file type equals
 * the memory type and H5Dwrite does no conversion. Chunks are
 * MW_H5_CHUNK_ROWS rows with shuffle + deflate (MW_H5_DEFLATE_LEVEL): the built-in
 * filters every researcher's HDF5 has (no LZF/Blosc plugins).
 *
 * Crash safety: the file is built in two phases. mw_h5_writer_create()
 * writes a skeleton under a temporary name (every table, /meta, the root
 * attributes with complete=0); mw_h5_writer_start() closes it, links it to
 * NAME.partial (link() fails if that name exists: never two runs on one
 * output, never through a symlink) and reopens it in HDF5's SWMR write mode
 * (H5F_ACC_SWMR_WRITE, file format "latest"). In that mode HDF5 orders its
 * writes so that the file on disk is consistent at every moment - for a
 * reader following it live, and so for SIGKILL too: a killed run leaves a
 * .partial holding every row up to the last flush (h5py: swmr=True;
 * `mastwatch recover` turns it into an ordinary file). After the start only
 * SWMR-safe operations happen: appends, in-place rewrites of fixed-size
 * values (int64 attributes, the counters table).
 *
 * SWMR never reuses file space, so rewriting a half-full compressed chunk at
 * every 2 s flush would leave a dead copy each time (gigabytes a day on a
 * busy link). /flows therefore only ever receives whole chunks while the run
 * goes on; the rows of the chunk still open reach the disk at each flush in
 * an append-only side journal, NAME.partial.rows (a header with the row
 * index it starts at, then raw mw_flow_record_t), which `mastwatch recover`
 * replays. The last, partial chunk is written once, at the end.
 */
#include "output/h5_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mw.h"
#include "core/pool.h"
#include "core/output_path.h"
#include "output/h5_chunk.h"
#include "output/h5_internal.h"
#include "detect/anomaly.h"

/* 2048 rows of 504 bytes: a chunk fits HDF5's default 1 MB chunk cache, so a reader
 * picking rows does not inflate a chunk per row; and a run's last, partial chunk, padded
 * with zeros to the whole chunk, costs 2 ms to deflate where 8192 rows cost 9 ms (the GTP
 * bench file: 9.95 MB, 4 % more than with 8192 rows) */
#define MW_H5_CHUNK_ROWS 2048
#define MW_JOURNAL_MAGIC "MWROWS1" /* 8 bytes with its NUL */
#define MW_H5_NAME_LEN   64

/* An extendible table written row by row (anomalies, windows): small volumes. */
typedef struct table {
    hid_t ds, type;
    uint64_t rows;
} table_t;

enum { T_ANOMALIES, T_ANOMALY_FLOWS, T_WINDOWS, T_COVERAGE, T_COUNT };

static const char *const table_names[T_COUNT] = { "anomalies", "anomaly_flows", "windows",
    "coverage" };

struct mw_h5_writer {
    char *path, *partial_path, *tmp_path;
    table_t tables[T_COUNT];
    hid_t file, flows, flow_type, fapl;
    int started; /* the file is NAME.partial, open in SWMR write mode */
    mw_flow_record_t *buf;
    size_t buffered;
    mw_h5_chunker_t *chunker; /* whole /flows chunks, written directly */
    size_t inflight;          /* rows of the chunk the chunker deflates now (after rows) */
    uint64_t rows;            /* rows in the file */
    int failed; /* a write failed: later writes are refused, the file stays .partial */
    /* the rows journal (NAME.partial.rows): flushed rows of the open chunk */
    char *journal_path;
    int jfd;
    size_t journaled; /* rows of buf already in the journal */
};

static int insert(hid_t t, const char *name, size_t off, hid_t type)
{
    return H5Tinsert(t, name, off, type) < 0 ? -1 : 0;
}

static int insert_dir(hid_t t, const char *prefix, size_t base)
{
    static const struct {
        const char *name;
        size_t off;
        int kind; /* 0 u64, 1 float, 2 u8 */
    } fields[] = {
        { "packets", offsetof(mw_dir_stats_t, packets), 0 },
        { "bytes", offsetof(mw_dir_stats_t, bytes), 0 },
        { "len_min", offsetof(mw_dir_stats_t, len_min), 1 },
        { "len_mean", offsetof(mw_dir_stats_t, len_mean), 1 },
        { "len_std", offsetof(mw_dir_stats_t, len_std), 1 },
        { "len_max", offsetof(mw_dir_stats_t, len_max), 1 },
        { "iat_min_ms", offsetof(mw_dir_stats_t, iat_min), 1 },
        { "iat_mean_ms", offsetof(mw_dir_stats_t, iat_mean), 1 },
        { "iat_std_ms", offsetof(mw_dir_stats_t, iat_std), 1 },
        { "iat_max_ms", offsetof(mw_dir_stats_t, iat_max), 1 },
        { "tcp_flags", offsetof(mw_dir_stats_t, tcp_flags), 2 },
    };
    char name[64];
    size_t i;
    int rc = 0;

    for (i = 0; i < MW_ARRAY_LEN(fields); i++) {
        hid_t type = fields[i].kind == 0
                             ? H5T_NATIVE_UINT64
                             : (fields[i].kind == 1 ? H5T_NATIVE_FLOAT : H5T_NATIVE_UINT8);
        snprintf(name, sizeof(name), "%s_%s", prefix, fields[i].name);
        rc |= insert(t, name, base + fields[i].off, type);
    }
    return rc;
}

#define MW_FIELD(t, name, type) insert(t, #name, offsetof(mw_flow_record_t, name), type)

hid_t mw__h5_flow_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(mw_flow_record_t));
    hid_t host = mw__h5_fixed_string(MW_HOST_LEN);
    int rc = 0;

    if (t < 0 || host < 0)
        goto fail;
    rc |= MW_FIELD(t, flow_id, H5T_NATIVE_UINT64);
    rc |= MW_FIELD(t, tunnel_flow_id, H5T_NATIVE_UINT64);
    rc |= MW_FIELD(t, last_tunnel_flow_id, H5T_NATIVE_UINT64);
    rc |= MW_FIELD(t, first_us, H5T_NATIVE_INT64);
    rc |= MW_FIELD(t, last_us, H5T_NATIVE_INT64);
    rc |= MW_FIELD(t, src_hi, H5T_NATIVE_UINT64);
    rc |= MW_FIELD(t, src_lo, H5T_NATIVE_UINT64);
    rc |= MW_FIELD(t, dst_hi, H5T_NATIVE_UINT64);
    rc |= MW_FIELD(t, dst_lo, H5T_NATIVE_UINT64);
    rc |= MW_FIELD(t, src_port, H5T_NATIVE_UINT16);
    rc |= MW_FIELD(t, dst_port, H5T_NATIVE_UINT16);
    rc |= MW_FIELD(t, ip_version, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, l4_proto, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, kind, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, end_reason, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, vlan_outer, H5T_NATIVE_UINT16);
    rc |= MW_FIELD(t, vlan_inner, H5T_NATIVE_UINT16);
    rc |= MW_FIELD(t, mpls_label, H5T_NATIVE_UINT32);
    rc |= MW_FIELD(t, teid_c2s, H5T_NATIVE_UINT32);
    rc |= MW_FIELD(t, teid_s2c, H5T_NATIVE_UINT32);
    rc |= MW_FIELD(t, sctp_ppid, H5T_NATIVE_UINT32);
    rc |= insert_dir(t, "c2s", offsetof(mw_flow_record_t, c2s));
    rc |= insert_dir(t, "s2c", offsetof(mw_flow_record_t, s2c));
    rc |= MW_FIELD(t, master_proto, H5T_NATIVE_UINT16);
    rc |= MW_FIELD(t, app_proto, H5T_NATIVE_UINT16);
    rc |= MW_FIELD(t, category, H5T_NATIVE_UINT16);
    rc |= MW_FIELD(t, confidence, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, ndpi_done, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, risk, H5T_NATIVE_UINT64);
    rc |= MW_FIELD(t, bs_index, H5T_NATIVE_UINT16);
    rc |= MW_FIELD(t, plane, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, local_role, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, peer_role, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, initiator, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, service, H5T_NATIVE_UINT16);
    rc |= MW_FIELD(t, start_seen, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, orient, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, continued, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, subscriber, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, tunnels, H5T_NATIVE_UINT16);
    rc |= MW_FIELD(t, dns_max_label, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, refused_by, H5T_NATIVE_UINT8);
    rc |= MW_FIELD(t, host, host);
    H5Tclose(host);
    if (rc != 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
fail:
    if (t >= 0)
        H5Tclose(t);
    if (host >= 0)
        H5Tclose(host);
    return -1;
}

static hid_t chunked_dcpl(hsize_t chunk_rows)
{
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);

    if (dcpl < 0)
        return -1;
    /* every row is written: filling a new chunk with fill values first is wasted work */
    if (H5Pset_chunk(dcpl, 1, &chunk_rows) < 0 || H5Pset_shuffle(dcpl) < 0 ||
            H5Pset_deflate(dcpl, MW_H5_DEFLATE_LEVEL) < 0 ||
            H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0) {
        H5Pclose(dcpl);
        return -1;
    }
    return dcpl;
}

/* cache two chunks (the writer rereads the open chunk when a flush wrote its first rows) */
static hid_t chunk_cache_dapl(hid_t type, hsize_t chunk_rows)
{
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);

    if (dapl >= 0 && H5Pset_chunk_cache(
                             dapl, 521, 2 * chunk_rows * H5Tget_size(type) + (1 << 20), 1.0) < 0) {
        H5Pclose(dapl);
        return -1;
    }
    return dapl;
}

static hid_t create_extendible(hid_t loc, const char *name, hid_t type, hsize_t chunk_rows)
{
    hsize_t dims = 0, maxdims = H5S_UNLIMITED;
    hid_t space = H5Screate_simple(1, &dims, &maxdims);
    hid_t dcpl = chunked_dcpl(chunk_rows);
    hid_t dapl = chunk_cache_dapl(type, chunk_rows);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t ds = -1;

    if (space >= 0 && dcpl >= 0 && dapl >= 0 && lcpl >= 0 &&
            H5Pset_create_intermediate_group(lcpl, 1) >= 0)
        ds = H5Dcreate2(loc, name, type, space, lcpl, dcpl, dapl);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (dapl >= 0)
        H5Pclose(dapl);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    return ds;
}

void mw_h5_quiet(void)
{
    /* HDF5's atexit cleanup crashes on a file whose close failed (disk full):
     * we close everything ourselves, so it has nothing to do. */
    H5dont_atexit();
    /* Errors are reported by us, in one line. The error stack settings are
     * per thread in a thread-safe HDF5 (Debian's): every thread that calls
     * HDF5 must set them, so each entry point of this file does. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static char *concat(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);

    if (s != NULL)
        snprintf(s, n, "%s%s", a, b);
    return s;
}

static int table_open(mw_h5_writer_t *w, int which);
static int journal_open(mw_h5_writer_t *w, char *errbuf, size_t errlen);

mw_h5_writer_t *mw_h5_writer_create(const char *path, int detection_tables,
        unsigned deflate_threads, char *errbuf, size_t errlen)
{
    mw_h5_writer_t *w = calloc(1, sizeof(*w));
    char suffix[48];
    int fd;

    mw_h5_quiet();
    if (w == NULL)
        goto fail_alloc;
    w->file = w->flows = w->flow_type = w->fapl = -1;
    w->jfd = -1;
    snprintf(suffix, sizeof(suffix), ".partial.%ld.new", (long)getpid());
    w->path = strdup(path);
    w->partial_path = concat(path, ".partial");
    w->tmp_path = concat(path, suffix);
    w->buf = mw_buffer_alloc(MW_H5_CHUNK_ROWS * sizeof(*w->buf));
    w->chunker = mw_h5_chunker_create(sizeof(*w->buf), MW_H5_CHUNK_ROWS, deflate_threads);
    if (w->path == NULL || w->partial_path == NULL || w->tmp_path == NULL || w->buf == NULL ||
            w->chunker == NULL)
        goto fail_alloc;
    /* Probe with open() first: its errno gives a clearer message than HDF5's stack.
     * O_EXCL never follows a symlink; HDF5 then creates the file exclusively too. */
    fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot write %s", w->partial_path);
        goto fail;
    }
    close(fd);
    unlink(w->tmp_path);
    w->fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* SWMR needs the 1.10 file format (superblock 3): readers need HDF5 >= 1.10 */
    if (w->fapl < 0 || H5Pset_libver_bounds(w->fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0) {
        mw_fmt_err(errbuf, errlen, "HDF5: cannot set up file access");
        goto fail;
    }
    w->file = H5Fcreate(w->tmp_path, H5F_ACC_EXCL, H5P_DEFAULT, w->fapl);
    if (w->file < 0) {
        mw_fmt_err(errbuf, errlen, "cannot create HDF5 file %s", w->tmp_path);
        goto fail;
    }
    w->flow_type = mw__h5_flow_type();
    if (w->flow_type < 0) {
        mw_fmt_err(errbuf, errlen, "HDF5: cannot build the flow record type");
        goto fail;
    }
    w->flows = create_extendible(w->file, "flows", w->flow_type, MW_H5_CHUNK_ROWS);
    if (w->flows < 0) {
        mw_fmt_err(errbuf, errlen, "HDF5: cannot create /flows in %s (disk full?)", w->tmp_path);
        goto fail;
    }
    for (int i = 0; detection_tables && i < T_COUNT; i++) {
        if (table_open(w, i) != 0) {
            mw_fmt_err(errbuf, errlen, "HDF5: cannot create /%s in %s (disk full?)", table_names[i],
                    w->tmp_path);
            goto fail;
        }
    }
    return w;

fail_alloc:
    mw_fmt_err(errbuf, errlen, "out of memory opening %s", path);
fail:
    if (w != NULL)
        mw_h5_writer_close(w, 0, NULL, 0);
    return NULL;
}

static void close_datasets(mw_h5_writer_t *w)
{
    if (w->flows >= 0)
        H5Dclose(w->flows);
    w->flows = -1;
    for (int i = 0; i < T_COUNT; i++) {
        if (w->tables[i].ds > 0)
            H5Dclose(w->tables[i].ds);
        w->tables[i].ds = 0;
    }
}

static hid_t open_extendible(hid_t file, const char *name, hid_t type, hsize_t chunk_rows)
{
    hid_t dapl = chunk_cache_dapl(type, chunk_rows);
    hid_t ds = dapl >= 0 ? H5Dopen2(file, name, dapl) : -1;

    if (dapl >= 0)
        H5Pclose(dapl);
    return ds;
}

int mw_h5_writer_start(mw_h5_writer_t *w, char *errbuf, size_t errlen)
{
    int rc;

    mw_h5_quiet();
    close_datasets(w);
    rc = H5Fclose(w->file);
    w->file = -1;
    if (rc < 0) {
        mw_fmt_err(errbuf, errlen, "HDF5: writing %s failed (disk full?)", w->tmp_path);
        return MW_EIO;
    }
    /* link() creates the name only if it does not exist, and never follows a symlink there */
    rc = link(w->tmp_path, w->partial_path);
    if (rc != 0 && errno == EEXIST)
        mw_fmt_err(errbuf, errlen,
                "another run writes %s (or a crashed one left %s: run mastwatch recover %s)",
                w->path, w->partial_path, w->partial_path);
    else if (rc != 0)
        mw_fmt_errno(errbuf, errlen, errno, "cannot create %s", w->partial_path);
    unlink(w->tmp_path);
    if (rc != 0)
        return MW_EIO;
    w->file = H5Fopen(w->partial_path, H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE, w->fapl);
    if (w->file < 0) {
        mw_fmt_err(errbuf, errlen, "HDF5: cannot reopen %s for writing", w->partial_path);
        unlink(w->partial_path); /* ours, and still empty of rows */
        return MW_EIO;
    }
    w->started = 1;
    if (journal_open(w, errbuf, errlen) != 0) {
        w->failed = 1;
        return MW_EIO;
    }
    w->flows = open_extendible(w->file, "flows", w->flow_type, MW_H5_CHUNK_ROWS);
    for (int i = 0; i < T_COUNT; i++)
        if (w->tables[i].type > 0)
            w->tables[i].ds = open_extendible(w->file, table_names[i], w->tables[i].type, 1024);
    if (w->flows < 0) {
        mw_fmt_err(errbuf, errlen, "HDF5: cannot reopen /flows in %s", w->partial_path);
        w->failed = 1;
        return MW_EIO;
    }
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Empties the journal: from now on it holds rows from index w->rows on. */
static int journal_reset(mw_h5_writer_t *w)
{
    mw_journal_header_t h;

    memset(&h, 0, sizeof(h));
    memcpy(h.magic, MW_JOURNAL_MAGIC, sizeof(h.magic));
    h.record_size = (uint32_t)sizeof(mw_flow_record_t);
    h.schema_version = MW_SCHEMA_VERSION;
    h.start_row = w->rows;
    w->journaled = 0;
    if (ftruncate(w->jfd, 0) != 0 || lseek(w->jfd, 0, SEEK_SET) != 0)
        return -1;
    return write_all(w->jfd, &h, sizeof(h));
}

static int journal_open(mw_h5_writer_t *w, char *errbuf, size_t errlen)
{
    w->journal_path = concat(w->partial_path, ".rows");
    if (w->journal_path == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    /* we own NAME.partial now: a journal under that name is a leftover of a recovered run */
    unlink(w->journal_path);
    w->jfd = open(w->journal_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (w->jfd < 0 || journal_reset(w) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot write %s", w->journal_path);
        return MW_EIO;
    }
    return 0;
}

int mw__h5_write_rows(hid_t ds, hid_t type, uint64_t at, uint64_t count, const void *rows)
{
    hsize_t start = at, n = count, size = at + count;
    hid_t fspace = -1, mspace = -1;
    int rc = -1;

    if (H5Dset_extent(ds, &size) >= 0 && (fspace = H5Dget_space(ds)) >= 0 &&
            (mspace = H5Screate_simple(1, &n, NULL)) >= 0 &&
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &n, NULL) >= 0 &&
            H5Dwrite(ds, type, mspace, fspace, H5P_DEFAULT, rows) >= 0)
        rc = 0;
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    return rc;
}

/* rows of /flows could not be written: later writes are refused, the file stays .partial */
static int rows_failed(mw_h5_writer_t *w, size_t rows, char *errbuf, size_t errlen)
{
    w->failed = 1;
    mw_fmt_err(errbuf, errlen, "HDF5: writing %zu flow rows to %s failed (disk full?)", rows,
            w->partial_path);
    return MW_EIO;
}

/*
 * The chunk the chunker deflated in the background goes into the file; once it is there
 * (flushed: durable) the journal forgets its rows. Then, and only then, the journal is
 * empty: the open chunk's rows are journaled only at a flush, and a flush collects first.
 * Closing does not flush here: the final attributes (complete=1) are already written, and
 * must not reach the disk before the file has its final name.
 */
/* The n rows just written reach the disk, and the journal starts again after them. */
static int rows_durable(mw_h5_writer_t *w, size_t n, char *errbuf, size_t errlen)
{
    if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0 || (w->jfd >= 0 && journal_reset(w) != 0))
        return rows_failed(w, n, errbuf, errlen);
    return 0;
}

static int collect_chunk(mw_h5_writer_t *w, int durable, char *errbuf, size_t errlen)
{
    size_t n = w->inflight;

    if (n == 0)
        return 0;
    if (mw_h5_chunker_collect(w->chunker, w->flows) < 0)
        return rows_failed(w, n, errbuf, errlen);
    w->rows += n;
    w->inflight = 0;
    return durable ? rows_durable(w, n, errbuf, errlen) : 0;
}

/*
 * With several deflating threads, the oldest chunk in flight, once every thread has one.
 * The journal holds rows of that chunk only (a flush collects every chunk first, and the
 * chunks submitted since never reached the journal: rows after the last flush), so once it
 * is in the file the journal starts again at the next chunk's first row.
 */
static int collect_oldest_chunk(mw_h5_writer_t *w, char *errbuf, size_t errlen)
{
    size_t n = 0;
    int rc = mw_h5_chunker_collect_one(w->chunker, w->flows, &n);

    if (rc < 0)
        return rows_failed(w, w->inflight, errbuf, errlen);
    if (rc == 0)
        return 0;
    w->rows += n;
    w->inflight -= n;
    return rows_durable(w, n, errbuf, errlen);
}

/* A chunk's worth from a chunk boundary goes straight to the file; anything else (the
 * first rows after a flush without a journal) through H5Dwrite. */
static int write_flow_rows(mw_h5_writer_t *w)
{
    if (w->rows % MW_H5_CHUNK_ROWS != 0)
        return mw__h5_write_rows(w->flows, w->flow_type, w->rows, w->buffered, w->buf);
    return mw_h5_chunker_write(w->chunker, w->flows, w->rows, w->buf, w->buffered);
}

static int write_buffered(mw_h5_writer_t *w, char *errbuf, size_t errlen)
{
    if (w->failed)
        return MW_EIO;
    if (collect_chunk(w, 1, errbuf, errlen) != 0)
        return MW_EIO;
    if (w->buffered == 0)
        return 0;
    if (write_flow_rows(w) != 0)
        return rows_failed(w, w->buffered, errbuf, errlen);
    w->rows += w->buffered;
    w->buffered = 0;
    return 0;
}

int mw_h5_writer_append_flows(
        mw_h5_writer_t *w, const mw_flow_record_t *recs, size_t n, char *errbuf, size_t errlen)
{
    mw_h5_quiet();
    while (n > 0) {
        size_t take = MW_MIN(n, (size_t)MW_H5_CHUNK_ROWS - w->buffered);
        memcpy(w->buf + w->buffered, recs, take * sizeof(*recs));
        w->buffered += take;
        recs += take;
        n -= take;
        if (w->buffered == MW_H5_CHUNK_ROWS && w->jfd >= 0 && w->rows % MW_H5_CHUNK_ROWS == 0) {
            /* deflated in the background while records keep coming; its rows stay in the
             * journal (or in no file at all, as any row after the last flush) until the
             * chunk is in the file */
            if (w->failed)
                return MW_EIO;
            while (mw_h5_chunker_full(w->chunker))
                if (collect_oldest_chunk(w, errbuf, errlen) != 0)
                    return MW_EIO;
            if (mw_h5_chunker_submit(
                        w->chunker, w->flows, w->rows + w->inflight, w->buf, w->buffered) != 0)
                return rows_failed(w, w->buffered, errbuf, errlen);
            w->inflight += w->buffered;
            w->buffered = 0;
            w->journaled = 0;
        } else if (w->buffered == MW_H5_CHUNK_ROWS) {
            int rc = write_buffered(w, errbuf, errlen);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int mw_h5_writer_flush(mw_h5_writer_t *w, char *errbuf, size_t errlen)
{
    int rc = 0;

    mw_h5_quiet();
    if (collect_chunk(w, 1, errbuf, errlen) != 0)
        return MW_EIO;
    if (w->jfd >= 0) {
        /* the open chunk's new rows go to the journal, not into a rewritten chunk */
        if (w->buffered > w->journaled &&
                write_all(w->jfd, w->buf + w->journaled,
                        (w->buffered - w->journaled) * sizeof(*w->buf)) != 0) {
            w->failed = 1;
            mw_fmt_errno(errbuf, errlen, errno, "writing %s failed", w->journal_path);
            return MW_EIO;
        }
        w->journaled = w->buffered;
    } else {
        rc = write_buffered(w, errbuf, errlen);
    }

    if (rc != 0)
        return rc;
    if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0) {
        w->failed = 1;
        mw_fmt_err(errbuf, errlen, "HDF5: flushing %s failed (disk full?)", w->partial_path);
        return MW_EIO;
    }
    return 0;
}

hid_t mw__h5_fixed_string(size_t n)
{
    hid_t s = H5Tcopy(H5T_C_S1);
    if (s >= 0 && (H5Tset_size(s, n) < 0 || H5Tset_strpad(s, H5T_STR_NULLPAD) < 0)) {
        H5Tclose(s);
        return -1;
    }
    return s;
}

/* Writes a small contiguous 1-D dataset in one call (lcpl creates groups). */
static int write_small(hid_t file, const char *name, hid_t type, size_t count, const void *data)
{
    hsize_t dims = count;
    hid_t space = H5Screate_simple(1, &dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t ds = -1;
    int rc = -1;

    if (space >= 0 && lcpl >= 0 && H5Pset_create_intermediate_group(lcpl, 1) >= 0) {
        ds = H5Dcreate2(file, name, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if (ds >= 0 && (count == 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0))
            rc = 0;
    }
    if (ds >= 0)
        H5Dclose(ds);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

typedef struct {
    uint32_t id;
    char name[MW_H5_NAME_LEN];
} name_row_t;

int mw_h5_writer_name_table(mw_h5_writer_t *w, const char *name, const char *const *names,
        size_t count, char *errbuf, size_t errlen)
{
    hid_t str = mw__h5_fixed_string(MW_H5_NAME_LEN);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(name_row_t));
    name_row_t *rows = calloc(count ? count : 1, sizeof(*rows));
    char path[128];
    size_t i;
    int rc = MW_EIO;

    mw_h5_quiet();
    if (str < 0 || t < 0 || rows == NULL || w->started)
        goto out;
    if (insert(t, "id", offsetof(name_row_t, id), H5T_NATIVE_UINT32) != 0 ||
            insert(t, "name", offsetof(name_row_t, name), str) != 0)
        goto out;
    for (i = 0; i < count; i++) {
        rows[i].id = (uint32_t)i;
        strncpy(rows[i].name, names[i] ? names[i] : "", MW_H5_NAME_LEN - 1);
    }
    snprintf(path, sizeof(path), "meta/%s", name);
    if (write_small(w->file, path, t, count, rows) == 0)
        rc = 0;
out:
    if (rc != 0)
        mw_fmt_err(errbuf, errlen, "HDF5: cannot write /meta/%s", name);
    free(rows);
    if (t >= 0)
        H5Tclose(t);
    if (str >= 0)
        H5Tclose(str);
    return rc;
}

typedef struct {
    char name[MW_H5_NAME_LEN];
    uint64_t value;
} counter_row_t;

/* Rewrites all count rows of an existing dataset in place (its size must match). */
static int overwrite_small(hid_t file, const char *name, hid_t type, size_t count, const void *data)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t space = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t dims = 0;
    int rc = MW_EIO;

    if (space >= 0 && H5Sget_simple_extent_dims(space, &dims, NULL) == 1 && dims == count &&
            (count == 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0))
        rc = 0;
    if (space >= 0)
        H5Sclose(space);
    if (ds >= 0)
        H5Dclose(ds);
    return rc;
}

int mw_h5_writer_counters(mw_h5_writer_t *w, const char *name, const char *const *names,
        const uint64_t *values, size_t count, char *errbuf, size_t errlen)
{
    hid_t str = mw__h5_fixed_string(MW_H5_NAME_LEN);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(counter_row_t));
    counter_row_t *rows = calloc(count ? count : 1, sizeof(*rows));
    char path[128];
    size_t i;
    int rc = MW_EIO;

    if (str < 0 || t < 0 || rows == NULL)
        goto out;
    if (insert(t, "name", offsetof(counter_row_t, name), str) != 0 ||
            insert(t, "value", offsetof(counter_row_t, value), H5T_NATIVE_UINT64) != 0)
        goto out;
    for (i = 0; i < count; i++) {
        strncpy(rows[i].name, names[i], MW_H5_NAME_LEN - 1);
        rows[i].value = values[i];
    }
    snprintf(path, sizeof(path), "stats/%s", name);
    if (w->started)
        rc = overwrite_small(w->file, path, t, count, rows); /* same size: SWMR-safe */
    else if (write_small(w->file, path, t, count, rows) == 0)
        rc = 0;
out:
    if (rc != 0)
        mw_fmt_err(errbuf, errlen, "HDF5: cannot write /stats/%s", name);
    free(rows);
    if (t >= 0)
        H5Tclose(t);
    if (str >= 0)
        H5Tclose(str);
    return rc;
}

static int write_attr(hid_t loc, const char *name, hid_t type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = -1;
    int rc = -1;

    if (space >= 0) {
        if (H5Aexists(loc, name) > 0)
            H5Adelete(loc, name);
        a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0 && H5Awrite(a, type, value) >= 0)
            rc = 0;
    }
    if (a >= 0)
        H5Aclose(a);
    if (space >= 0)
        H5Sclose(space);
    return rc;
}

static hid_t vlen_utf8(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

int mw__h5_attr_string(hid_t loc, const char *name, const char *value)
{
    hid_t t = vlen_utf8();
    int rc;

    if (t < 0)
        return MW_EIO;
    rc = write_attr(loc, name, t, &value) == 0 ? 0 : MW_EIO;
    H5Tclose(t);
    return rc;
}

/* value's bytes and a NUL, as a fixed-length UTF-8 string (no global heap). */
static hid_t fixed_utf8(const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, strlen(value) + 1) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0 ||
                          H5Tset_strpad(t, H5T_STR_NULLTERM) < 0)) {
        H5Tclose(t);
        t = -1;
    }
    return t;
}

int mw__h5_attr_fixed_string(hid_t loc, const char *name, const char *value)
{
    hid_t t = fixed_utf8(value);
    int rc;

    if (t < 0)
        return MW_EIO;
    rc = write_attr(loc, name, t, value) == 0 ? 0 : MW_EIO;
    H5Tclose(t);
    return rc;
}

int mw__h5_attr_int64(hid_t loc, const char *name, int64_t value)
{
    return write_attr(loc, name, H5T_NATIVE_INT64, &value) == 0 ? 0 : MW_EIO;
}

int mw_h5_writer_attr_string(mw_h5_writer_t *w, const char *name, const char *value)
{
    mw_h5_quiet();
    if (w->started)
        return MW_EINVAL; /* a new variable-length value: not SWMR-safe */
    return mw__h5_attr_string(w->file, name, value);
}

int mw_h5_writer_progress(mw_h5_writer_t *w, const char *const *names, const uint64_t *values,
        size_t count, int64_t first_us, int64_t last_us, char *errbuf, size_t errlen)
{
    if (mw_h5_writer_counters(w, "counters", names, values, count, errbuf, errlen) != 0)
        return MW_EIO;
    if (mw_h5_writer_attr_int64(w, "first_us", first_us) != 0 ||
            mw_h5_writer_attr_int64(w, "last_us", last_us) != 0) {
        mw_fmt_err(errbuf, errlen, "HDF5: cannot write the file attributes (disk full?)");
        return MW_EIO;
    }
    return 0;
}

int mw_h5_writer_attr_int64(mw_h5_writer_t *w, const char *name, int64_t value)
{
    hid_t a;
    int rc;

    mw_h5_quiet();
    if (!w->started)
        return mw__h5_attr_int64(w->file, name, value);
    /* in place: an attribute created before the start, same type and size */
    a = H5Aopen(w->file, name, H5P_DEFAULT);
    if (a < 0)
        return MW_EIO;
    rc = H5Awrite(a, H5T_NATIVE_INT64, &value) < 0 ? MW_EIO : 0;
    H5Aclose(a);
    return rc;
}

int mw_h5_writer_text(
        mw_h5_writer_t *w, const char *path, const char *text, char *errbuf, size_t errlen)
{
    hid_t t = fixed_utf8(text); /* fixed-length: mastwatch never reads variable-length data */
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t ds = -1;
    int rc = MW_EIO;

    mw_h5_quiet();
    if (t >= 0 && space >= 0 && lcpl >= 0 && !w->started &&
            H5Pset_create_intermediate_group(lcpl, 1) >= 0) {
        ds = H5Dcreate2(w->file, path, t, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if (ds >= 0 && H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, text) >= 0)
            rc = 0;
    }
    if (rc != 0)
        mw_fmt_err(errbuf, errlen, "HDF5: cannot write %s", path);
    if (ds >= 0)
        H5Dclose(ds);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (space >= 0)
        H5Sclose(space);
    if (t >= 0)
        H5Tclose(t);
    return rc;
}

hid_t mw__h5_anomaly_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(mw_anomaly_record_t));
    hid_t app = mw__h5_fixed_string(MW_ANOMALY_APP_LEN);
    hid_t host = mw__h5_fixed_string(MW_HOST_LEN);
    hid_t cid = mw__h5_fixed_string(MW_COMMUNITY_ID_LEN);
    hid_t filt = mw__h5_fixed_string(MW_WIRESHARK_FILTER_LEN);
    hid_t ex = mw__h5_fixed_string(MW_EXPLANATION_LEN);
    int rc = t < 0 || app < 0 || host < 0 || cid < 0 || filt < 0 || ex < 0;
#define A(name, type) rc |= insert(t, #name, offsetof(mw_anomaly_record_t, name), type)
    if (!rc) {
        A(anomaly_id, H5T_NATIVE_UINT64);
        A(incident_id, H5T_NATIVE_UINT64);
        A(start_us, H5T_NATIVE_INT64);
        A(end_us, H5T_NATIVE_INT64);
        A(local_hi, H5T_NATIVE_UINT64);
        A(local_lo, H5T_NATIVE_UINT64);
        A(peer_hi, H5T_NATIVE_UINT64);
        A(peer_lo, H5T_NATIVE_UINT64);
        A(first_flow_id, H5T_NATIVE_UINT64);
        A(last_flow_id, H5T_NATIVE_UINT64);
        A(bytes_up, H5T_NATIVE_UINT64);
        A(bytes_down, H5T_NATIVE_UINT64);
        A(packets_up, H5T_NATIVE_UINT64);
        A(packets_down, H5T_NATIVE_UINT64);
        A(value, H5T_NATIVE_DOUBLE);
        A(limit, H5T_NATIVE_DOUBLE);
        A(n_flows, H5T_NATIVE_UINT32);
        A(n_sessions, H5T_NATIVE_UINT32);
        A(n_ports, H5T_NATIVE_UINT32);
        A(teid_up, H5T_NATIVE_UINT32);
        A(teid_down, H5T_NATIVE_UINT32);
        A(score, H5T_NATIVE_FLOAT);
        A(bs_index, H5T_NATIVE_UINT16);
        A(peer_port, H5T_NATIVE_UINT16);
        A(local_port, H5T_NATIVE_UINT16);
        A(service_port, H5T_NATIVE_UINT16);
        A(service, H5T_NATIVE_UINT16);
        A(detector, H5T_NATIVE_UINT8);
        A(severity, H5T_NATIVE_UINT8);
        A(plane, H5T_NATIVE_UINT8);
        A(initiator, H5T_NATIVE_UINT8);
        A(l4_proto, H5T_NATIVE_UINT8);
        A(kind, H5T_NATIVE_UINT8);
        A(inner, H5T_NATIVE_UINT8);
        A(app, app);
        A(host, host);
        A(community_id, cid);
        A(wireshark, filt);
        A(explanation, ex);
    }
#undef A
    if (app >= 0)
        H5Tclose(app);
    if (host >= 0)
        H5Tclose(host);
    if (cid >= 0)
        H5Tclose(cid);
    if (filt >= 0)
        H5Tclose(filt);
    if (ex >= 0)
        H5Tclose(ex);
    if (rc && t >= 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static hid_t coverage_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(mw_coverage_record_t));
    int rc = t < 0;
#define C(name, type) rc |= insert(t, #name, offsetof(mw_coverage_record_t, name), type)
    if (!rc) {
        C(flows, H5T_NATIVE_UINT64);
        C(start_seen, H5T_NATIVE_UINT64);
        C(mid_session, H5T_NATIVE_UINT64);
        C(continued, H5T_NATIVE_UINT64);
        C(one_way, H5T_NATIVE_UINT64);
        C(anomalies, H5T_NATIVE_UINT64);
        C(first_us, H5T_NATIVE_INT64);
        C(last_us, H5T_NATIVE_INT64);
        C(silent_hours, H5T_NATIVE_UINT32);
        C(bs_index, H5T_NATIVE_UINT16);
        C(status, H5T_NATIVE_UINT8);
    }
#undef C
    if (rc && t >= 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* Closes t and returns -1 when building it failed (rc != 0), else t. */
static hid_t built(hid_t t, int rc)
{
    if (t >= 0 && rc != 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static hid_t anomaly_flow_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(mw_anomaly_flow_t));
    int rc = t < 0;

    rc = rc || insert(t, "anomaly_id", offsetof(mw_anomaly_flow_t, anomaly_id), H5T_NATIVE_UINT64);
    rc = rc || insert(t, "flow_id", offsetof(mw_anomaly_flow_t, flow_id), H5T_NATIVE_UINT64);
    return built(t, rc);
}

static hid_t window_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(mw_window_record_t));
    int rc = t < 0;
#define W(name, type) rc = rc || insert(t, #name, offsetof(mw_window_record_t, name), type)
    W(start_us, H5T_NATIVE_INT64);
    W(flows, H5T_NATIVE_UINT64);
    W(bytes_up, H5T_NATIVE_UINT64);
    W(bytes_down, H5T_NATIVE_UINT64);
    W(peers, H5T_NATIVE_UINT32);
    W(z_up, H5T_NATIVE_FLOAT);
    W(bs_index, H5T_NATIVE_UINT16);
#undef W
    return built(t, rc);
}

static int table_open(mw_h5_writer_t *w, int which)
{
    table_t *t = &w->tables[which];

    if (t->ds > 0)
        return 0;
    if (w->started)
        return MW_EIO; /* tables are made before the start (SWMR creates no objects) */
    t->type = which == T_ANOMALIES       ? mw__h5_anomaly_type()
              : which == T_ANOMALY_FLOWS ? anomaly_flow_type()
              : which == T_COVERAGE      ? coverage_type()
                                         : window_type();
    if (t->type < 0)
        return MW_EIO;
    t->ds = create_extendible(w->file, table_names[which], t->type, 1024);
    return t->ds >= 0 ? 0 : MW_EIO;
}

static int table_append(mw_h5_writer_t *w, int which, const void *rows, size_t n)
{
    table_t *t = &w->tables[which];

    mw_h5_quiet();
    if (w->failed || table_open(w, which) != 0) {
        w->failed = 1;
        return MW_EIO;
    }
    if (n == 0)
        return 0;
    if (mw__h5_write_rows(t->ds, t->type, t->rows, n, rows) == 0) {
        t->rows += n;
        return 0;
    }
    w->failed = 1;
    return MW_EIO;
}

int mw_h5_writer_append_anomalies(mw_h5_writer_t *w, const mw_anomaly_record_t *a, size_t n,
        const mw_anomaly_flow_t *links, size_t nlinks)
{
    int rc = table_append(w, T_ANOMALIES, a, n);
    return rc ? rc : table_append(w, T_ANOMALY_FLOWS, links, nlinks);
}

int mw_h5_writer_append_windows(mw_h5_writer_t *w, const mw_window_record_t *rows, size_t n)
{
    return table_append(w, T_WINDOWS, rows, n);
}

int mw_h5_writer_append_coverage(mw_h5_writer_t *w, const mw_coverage_record_t *rows, size_t n)
{
    return table_append(w, T_COVERAGE, rows, n);
}

int mw_h5_writer_detection_tables(mw_h5_writer_t *w)
{
    int i, rc = 0;

    mw_h5_quiet();
    for (i = 0; i < T_COUNT; i++)
        rc |= table_open(w, i);
    return rc ? MW_EIO : 0;
}

double mw_h5_writer_deflate_cpu_s(mw_h5_writer_t *w)
{
    return w != NULL ? mw_h5_chunker_cpu_s(w->chunker) : 0.0;
}

int mw_h5_writer_close(mw_h5_writer_t *w, int finalize, char *errbuf, size_t errlen)
{
    int rc = 0, had_file;

    if (w == NULL)
        return 0;
    mw_h5_quiet();
    had_file = w->file >= 0;
    if (had_file && !w->failed && collect_chunk(w, 0, errbuf, errlen) != 0)
        rc = MW_EIO;
    if (had_file && !w->failed)
        rc = write_buffered(w, errbuf, errlen);
    if (w->flows >= 0 && H5Dclose(w->flows) < 0)
        rc = MW_EIO;
    w->flows = -1;
    close_datasets(w);
    for (int i = 0; i < T_COUNT; i++) {
        if (w->tables[i].type > 0)
            H5Tclose(w->tables[i].type);
    }
    if (w->flow_type >= 0)
        H5Tclose(w->flow_type);
    if (had_file && H5Fclose(w->file) < 0 && rc == 0) {
        rc = MW_EIO;
        mw_fmt_err(errbuf, errlen, "HDF5: closing %s failed (disk full?)", w->partial_path);
    }
    if (w->fapl >= 0)
        H5Pclose(w->fapl);
    if (!w->started) {
        if (had_file)
            unlink(w->tmp_path); /* never became NAME.partial: leave nothing */
    } else if (finalize && rc == 0 && !w->failed) {
        if (mw_fsync_path(w->partial_path, 0) != 0 /* before the final name points at it */) {
            rc = MW_EIO;
            mw_fmt_errno(errbuf, errlen, errno, "cannot sync %s", w->partial_path);
        } else if (rename(w->partial_path, w->path) != 0) {
            rc = MW_EIO;
            mw_fmt_errno(errbuf, errlen, errno, "cannot rename %s to %s", w->partial_path, w->path);
        }
    }
    if (w->jfd >= 0)
        close(w->jfd);
    /* a finished file has all its rows: the journal is only for a partial left behind */
    if (w->journal_path != NULL && w->started && finalize && rc == 0 && !w->failed)
        unlink(w->journal_path);
    if (w->failed && rc == 0)
        rc = MW_EIO;
    if (rc != 0 && errbuf != NULL && errlen > 0 && errbuf[0] == '\0')
        mw_fmt_err(errbuf, errlen, "HDF5: writing %s failed (disk full?)", w->partial_path);
    free(w->buf);
    mw_h5_chunker_destroy(w->chunker);
    free(w->journal_path);
    free(w->tmp_path);
    free(w->partial_path);
    free(w->path);
    free(w);
    return rc;
}
