/*
 * batch_util.c - the file-system plumbing the batch needs to survive a
 * SIGKILL or power loss at any moment: every file that others read (state,
 * index, night summary) is written under a temporary name, fsynced, renamed
 * into place and its directory fsynced, so a reader sees the old or the new
 * version, never half of one.
 */
#include "batch/batch_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/mw.h"

char *mw__batch_printf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

int mw__batch_mkdirs(const char *path, char *errbuf, size_t errlen)
{
    char buf[PATH_MAX];
    size_t len = strlen(path), i;

    if (len == 0 || len >= sizeof(buf)) {
        mw_fmt_err(errbuf, errlen, "%s: bad directory name", path);
        return MW_EINVAL;
    }
    memcpy(buf, path, len + 1);
    for (i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            mw_fmt_errno(errbuf, errlen, errno, "cannot create %s", buf);
            return MW_EIO;
        }
        buf[i] = i < len ? '/' : '\0';
    }
    return 0;
}

int mw__batch_fsync_path(const char *path, char *errbuf, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot open %s", path);
        return MW_EIO;
    }
    if (fsync(fd) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot fsync %s", path);
        close(fd);
        return MW_EIO;
    }
    if (close(fd) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot close %s", path);
        return MW_EIO;
    }
    return 0;
}

char *mw__batch_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int mw__batch_fsync_parent(const char *path, char *errbuf, size_t errlen)
{
    char *dir = mw__batch_dirname(path);
    int rc;

    if (dir == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    rc = mw__batch_fsync_path(dir, errbuf, errlen);
    free(dir);
    return rc;
}

int mw__batch_commit(const char *tmp, const char *path, char *errbuf, size_t errlen)
{
    int rc = mw__batch_fsync_path(tmp, errbuf, errlen);

    if (rc != 0)
        return rc;
    if (rename(tmp, path) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot rename %s to %s", tmp, path);
        return MW_EIO;
    }
    return mw__batch_fsync_parent(path, errbuf, errlen);
}

int mw__batch_write_atomic(
        const char *path, const char *data, size_t len, char *errbuf, size_t errlen)
{
    char *tmp = mw__batch_printf("%s.tmp.%ld", path, (long)getpid());
    size_t off = 0;
    int fd, rc = MW_EIO;

    if (tmp == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot create %s", tmp);
        free(tmp);
        return MW_EIO;
    }
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            mw_fmt_errno(errbuf, errlen, n < 0 ? errno : ENOSPC, "cannot write %s", tmp);
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot fsync %s", tmp);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        mw_fmt_errno(errbuf, errlen, errno, "cannot close %s", tmp);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot rename %s to %s", tmp, path);
        goto out;
    }
    rc = mw__batch_fsync_parent(path, errbuf, errlen);
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* Removes "." and "x/.." components of an absolute path in place. */
static void normalise(char *p)
{
    char *out = p, *in = p;

    while (*in != '\0') {
        char *seg = in + 1, *end;
        size_t n;
        end = strchr(seg, '/');
        n = end != NULL ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.')) {
            /* skip */
        } else if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (out > p && *--out != '/')
                ;
        } else {
            *out++ = '/';
            memmove(out, seg, n);
            out += n;
        }
        in = seg + n;
    }
    if (out == p)
        *out++ = '/';
    *out = '\0';
}

char *mw__batch_abspath(const char *path)
{
    char cwd[PATH_MAX];
    char *r = realpath(path, NULL);

    if (r != NULL)
        return r;
    if (path[0] == '/')
        r = strdup(path);
    else if (getcwd(cwd, sizeof(cwd)) != NULL)
        r = mw__batch_printf("%s/%s", cwd, path);
    if (r != NULL)
        normalise(r);
    return r;
}

void mw__batch_utc(int64_t t, char out[MW_BATCH_UTC_LEN])
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL ||
            strftime(out, MW_BATCH_UTC_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, MW_BATCH_UTC_LEN, "%lld", (long long)t);
}

int64_t mw__batch_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}
