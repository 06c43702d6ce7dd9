/*
 * batch_state.c - the batch's memory between runs, in OUTDIR/state/:
 *
 *   lock         flock(LOCK_EX|LOCK_NB) for the whole run; holds the pid
 *   done.tsv     v1 TAB night TAB status TAB exit TAB size TAB mtime_ns TAB
 *                started TAB finished TAB site TAB results TAB anomalies TAB
 *                log TAB error TAB path   (\t \n \\ escaped, "" = none)
 *   trained.tsv  night TAB site TAB results
 *
 * A capture is identified by path + size + mtime, so a file replaced or
 * grown under the same name is analyzed again. Lines are appended with one
 * write() each and fsynced; a line is only written once what it points at is
 * durable, so after a SIGKILL or a power cut the file names exactly the
 * captures whose results exist. A line cut by a crash has no newline and is
 * dropped (and cut off the file) when the state is next opened.
 */
#include "batch/batch_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mw.h"

#define MW_STATE_FIELDS   14
#define MW_STATE_MAX_LINE (64 * 1024)

struct mw_batch_state {
    int lock_fd;
    char *done_path, *trained_path;
    mw_batch_record_t *v;
    size_t n, cap;
    char **trained; /* "night\tresults" */
    size_t ntrained, trained_cap;
};

const char *mw__batch_status_name(enum mw_batch_status s)
{
    switch (s) {
        case MW_BS_DONE:
            return "done";
        case MW_BS_FAILED:
            return "failed";
        case MW_BS_NOT_MATCHED:
            return "not_matched";
        case MW_BS_YOUNG:
            return "skipped_young";
    }
    return "?";
}

static int status_of(const char *s, enum mw_batch_status *out)
{
    if (strcmp(s, "done") == 0)
        *out = MW_BS_DONE;
    else if (strcmp(s, "failed") == 0)
        *out = MW_BS_FAILED;
    else
        return -1;
    return 0;
}

void mw__batch_record_free(mw_batch_record_t *r)
{
    if (r == NULL)
        return;
    free(r->path);
    free(r->site);
    free(r->results);
    free(r->anomalies);
    free(r->log);
    free(r->error);
    r->path = r->site = r->results = r->anomalies = r->log = r->error = NULL;
}

/* ---- escaping ------------------------------------------------------------ */

static void put_escaped(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        if (*s == '\t')
            fputs("\\t", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else if (*s == '\\')
            fputs("\\\\", f);
        else
            fputc(*s, f);
    }
}

/* Unescapes in place; "" becomes NULL in the copy returned (malloc'd). */
static int unescape_dup(const char *s, char **out)
{
    char *d, *p;

    *out = NULL;
    if (*s == '\0')
        return 0;
    d = malloc(strlen(s) + 1);
    if (d == NULL)
        return MW_ENOMEM;
    for (p = d; *s != '\0'; s++) {
        if (*s == '\\' && s[1] != '\0') {
            s++;
            *p++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
        } else {
            *p++ = *s;
        }
    }
    *p = '\0';
    *out = d;
    return 0;
}

static void copy_fixed(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src);
}

/* ---- done.tsv ------------------------------------------------------------ */

static int push(mw_batch_state_t *st, mw_batch_record_t *r)
{
    if (mw_grow((void **)&st->v, &st->cap, st->n + 1, sizeof(*st->v)) != 0)
        return MW_ENOMEM;
    st->v[st->n++] = *r;
    memset(r, 0, sizeof(*r));
    return 0;
}

/* Parses one line (without its newline); 1 parsed, 0 ignored (bad), <0 no memory. */
static int parse_line(char *line, mw_batch_record_t *r)
{
    char *f[MW_STATE_FIELDS], *tok;
    size_t n = 0;
    char *p = line;

    memset(r, 0, sizeof(*r));
    /* strsep keeps empty fields */
    while ((tok = strsep(&p, "\t")) != NULL && n < MW_STATE_FIELDS)
        f[n++] = tok;
    if (n != MW_STATE_FIELDS || tok != NULL || strcmp(f[0], "v1") != 0 || strlen(f[1]) != 10 ||
            status_of(f[2], &r->status) != 0 || f[13][0] == '\0')
        return 0;
    copy_fixed(r->night, sizeof(r->night), f[1]);
    r->exit_code = atoi(f[3]);
    r->size = strtoull(f[4], NULL, 10);
    r->mtime_ns = strtoll(f[5], NULL, 10);
    copy_fixed(r->started_utc, sizeof(r->started_utc), f[6]);
    copy_fixed(r->finished_utc, sizeof(r->finished_utc), f[7]);
    if (unescape_dup(f[8], &r->site) != 0 || unescape_dup(f[9], &r->results) != 0 ||
            unescape_dup(f[10], &r->anomalies) != 0 || unescape_dup(f[11], &r->log) != 0 ||
            unescape_dup(f[12], &r->error) != 0 || unescape_dup(f[13], &r->path) != 0) {
        mw__batch_record_free(r);
        return MW_ENOMEM;
    }
    return 1;
}

/* Reads a whole small text file; cuts a last line without newline off the file. */
static int read_lines(const char *path, char **text, size_t *len, char *errbuf, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    struct stat st;
    char *buf;
    size_t off = 0, keep;

    *text = NULL;
    *len = 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot open %s", path);
        if (fd >= 0)
            close(fd);
        return MW_EIO;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    while (off < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    buf[off] = '\0';
    keep = off;
    while (keep > 0 && buf[keep - 1] != '\n')
        keep--;
    if (keep != off && (ftruncate(fd, (off_t)keep) != 0 || fsync(fd) != 0)) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot repair %s", path);
        close(fd);
        free(buf);
        return MW_EIO;
    }
    close(fd);
    buf[keep] = '\0';
    *text = buf;
    *len = keep;
    return 0;
}

static int load_done(mw_batch_state_t *st, char *errbuf, size_t errlen)
{
    char *text, *line, *p;
    size_t len;
    int rc = read_lines(st->done_path, &text, &len, errbuf, errlen);

    if (rc != 0)
        return rc;
    for (p = text; rc == 0 && (line = strsep(&p, "\n")) != NULL;) {
        mw_batch_record_t r;
        int got;
        if (line[0] == '\0')
            continue;
        got = parse_line(line, &r);
        if (got < 0 || (got == 1 && push(st, &r) != 0)) {
            mw__batch_record_free(&r);
            mw_fmt_err(errbuf, errlen, "out of memory");
            rc = MW_ENOMEM;
        }
    }
    free(text);
    return rc;
}

static int load_trained(mw_batch_state_t *st, char *errbuf, size_t errlen)
{
    char *text, *line, *p;
    size_t len;
    int rc = read_lines(st->trained_path, &text, &len, errbuf, errlen);

    if (rc != 0)
        return rc;
    for (p = text; rc == 0 && (line = strsep(&p, "\n")) != NULL;) {
        char *night = line, *site, *results, *key;
        site = strchr(night, '\t');
        results = site != NULL ? strchr(site + 1, '\t') : NULL;
        if (results == NULL)
            continue;
        *site = '\0';
        key = mw__batch_printf("%s\t%s", night, results + 1);
        if (key == NULL)
            rc = MW_ENOMEM;
        else if (st->ntrained == st->trained_cap) {
            size_t cap = st->trained_cap ? st->trained_cap * 2 : 16;
            char **v = realloc(st->trained, cap * sizeof(*v));
            if (v == NULL) {
                free(key);
                rc = MW_ENOMEM;
                break;
            }
            st->trained = v;
            st->trained_cap = cap;
        }
        if (rc == 0)
            st->trained[st->ntrained++] = key;
    }
    free(text);
    if (rc != 0)
        mw_fmt_err(errbuf, errlen, "out of memory");
    return rc;
}

static int take_lock(mw_batch_state_t *st, const char *dir, int *busy, char *errbuf, size_t errlen)
{
    char *path = mw__batch_printf("%s/lock", dir);
    char pid[32], holder[32] = "";
    ssize_t n;
    int len;

    if (path == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (st->lock_fd < 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot open %s", path);
        free(path);
        return MW_EIO;
    }
    if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        n = pread(st->lock_fd, holder, sizeof(holder) - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        if (e == EWOULDBLOCK) {
            *busy = 1;
            mw_fmt_err(errbuf, errlen,
                    "another batch is running on this output (%s held by pid %s)", path,
                    holder[0] != '\0' ? holder : "?");
        } else {
            mw_fmt_errno(errbuf, errlen, e, "cannot lock %s", path);
        }
        free(path);
        return MW_EIO;
    }
    len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(st->lock_fd, 0) != 0 || pwrite(st->lock_fd, pid, (size_t)len, 0) != len) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot write %s", path);
        free(path);
        return MW_EIO;
    }
    free(path);
    return 0;
}

mw_batch_state_t *mw__batch_state_open(const char *outdir, int *busy, char *errbuf, size_t errlen)
{
    mw_batch_state_t *st = calloc(1, sizeof(*st));
    char *dir = mw__batch_printf("%s/state", outdir);

    *busy = 0;
    if (st == NULL || dir == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        free(st);
        free(dir);
        return NULL;
    }
    st->lock_fd = -1;
    if (mw__batch_mkdirs(dir, errbuf, errlen) != 0 || take_lock(st, dir, busy, errbuf, errlen) != 0)
        goto fail;
    st->done_path = mw__batch_printf("%s/done.tsv", dir);
    st->trained_path = mw__batch_printf("%s/trained.tsv", dir);
    if (st->done_path == NULL || st->trained_path == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        goto fail;
    }
    if (load_done(st, errbuf, errlen) != 0 || load_trained(st, errbuf, errlen) != 0 ||
            mw__batch_fsync_path(dir, errbuf, errlen) != 0)
        goto fail;
    free(dir);
    return st;
fail:
    free(dir);
    mw__batch_state_close(st);
    return NULL;
}

size_t mw__batch_state_count(const mw_batch_state_t *st)
{
    return st->n;
}

const mw_batch_record_t *mw__batch_state_get(const mw_batch_state_t *st, size_t i)
{
    return i < st->n ? &st->v[i] : NULL;
}

const mw_batch_record_t *mw__batch_state_find(
        const mw_batch_state_t *st, const char *path, uint64_t size, int64_t mtime_ns)
{
    size_t i;

    for (i = st->n; i-- > 0;)
        if (st->v[i].size == size && st->v[i].mtime_ns == mtime_ns &&
                strcmp(st->v[i].path, path) == 0)
            return &st->v[i];
    return NULL;
}

static int append_line(const char *path, const char *line, size_t len, char *errbuf, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    ssize_t n;

    if (fd < 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot open %s", path);
        return MW_EIO;
    }
    do
        n = write(fd, line, len);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len || fsync(fd) != 0) {
        int e = n < 0 || n == (ssize_t)len ? errno : ENOSPC;
        /* a short write leaves a torn line: cut it so the file stays line-clean */
        if (n > 0 && n < (ssize_t)len) {
            struct stat sb;
            if (fstat(fd, &sb) == 0)
                (void)!ftruncate(fd, sb.st_size - n);
        }
        close(fd);
        mw_fmt_errno(errbuf, errlen, e, "cannot append to %s", path);
        return MW_EIO;
    }
    if (close(fd) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot close %s", path);
        return MW_EIO;
    }
    return 0;
}

static int dup_record(const mw_batch_record_t *src, mw_batch_record_t *dst)
{
    *dst = *src;
    dst->path = dst->site = dst->results = dst->anomalies = dst->log = dst->error = NULL;
#define MW_DUP(f)                                                                                  \
    if (src->f != NULL && (dst->f = strdup(src->f)) == NULL)                                       \
        goto fail;
    MW_DUP(path)
    MW_DUP(site)
    MW_DUP(results)
    MW_DUP(anomalies)
    MW_DUP(log)
    MW_DUP(error)
#undef MW_DUP
    return 0;
fail:
    mw__batch_record_free(dst);
    return MW_ENOMEM;
}

int mw__batch_state_append(
        mw_batch_state_t *st, const mw_batch_record_t *r, char *errbuf, size_t errlen)
{
    mw_batch_record_t copy;
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    int rc;

    if (f == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    fprintf(f, "v1\t%s\t%s\t%d\t%llu\t%lld\t%s\t%s\t", r->night, mw__batch_status_name(r->status),
            r->exit_code, (unsigned long long)r->size, (long long)r->mtime_ns, r->started_utc,
            r->finished_utc);
    put_escaped(f, r->site);
    fputc('\t', f);
    put_escaped(f, r->results);
    fputc('\t', f);
    put_escaped(f, r->anomalies);
    fputc('\t', f);
    put_escaped(f, r->log);
    fputc('\t', f);
    put_escaped(f, r->error);
    fputc('\t', f);
    put_escaped(f, r->path);
    fputc('\n', f);
    if (fclose(f) != 0 || line == NULL) {
        free(line);
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    if (len > MW_STATE_MAX_LINE) {
        free(line);
        mw_fmt_err(errbuf, errlen, "state line too long for %s", r->path);
        return MW_EINVAL;
    }
    rc = append_line(st->done_path, line, len, errbuf, errlen);
    free(line);
    if (rc != 0)
        return rc;
    if (dup_record(r, &copy) != 0 || push(st, &copy) != 0) {
        mw__batch_record_free(&copy);
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    return 0;
}

int mw__batch_state_trained(const mw_batch_state_t *st, const char *night, const char *results)
{
    size_t i, nl = strlen(night);

    for (i = 0; i < st->ntrained; i++)
        if (strncmp(st->trained[i], night, nl) == 0 && st->trained[i][nl] == '\t' &&
                strcmp(st->trained[i] + nl + 1, results) == 0)
            return 1;
    return 0;
}

int mw__batch_state_mark_trained(mw_batch_state_t *st, const char *night, const char *site,
        const char *results, char *errbuf, size_t errlen)
{
    char *line = mw__batch_printf("%s\t%s\t%s\n", night, site, results);
    char *key = mw__batch_printf("%s\t%s", night, results);
    int rc;

    if (line == NULL || key == NULL) {
        free(line);
        free(key);
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    rc = append_line(st->trained_path, line, strlen(line), errbuf, errlen);
    free(line);
    if (rc == 0 && st->ntrained == st->trained_cap) {
        size_t cap = st->trained_cap ? st->trained_cap * 2 : 16;
        char **v = realloc(st->trained, cap * sizeof(*v));
        if (v == NULL)
            rc = MW_ENOMEM;
        else {
            st->trained = v;
            st->trained_cap = cap;
        }
    }
    if (rc == 0)
        st->trained[st->ntrained++] = key;
    else
        free(key);
    return rc;
}

void mw__batch_state_close(mw_batch_state_t *st)
{
    size_t i;

    if (st == NULL)
        return;
    if (st->lock_fd >= 0)
        close(st->lock_fd); /* releases the flock */
    for (i = 0; i < st->n; i++)
        mw__batch_record_free(&st->v[i]);
    for (i = 0; i < st->ntrained; i++)
        free(st->trained[i]);
    free(st->trained);
    free(st->v);
    free(st->done_path);
    free(st->trained_path);
    free(st);
}
