/*
 * batch_spool.c - turns SPOOL arguments into a sorted list of capture files.
 * Globs are expanded here with glob(3), so a quoted pattern (as systemd
 * passes it, no shell) works. Directory scans keep only what looks like a
 * capture, by name or by its first four bytes, so truth files, notes and
 * checksums beside the captures are left alone, while a corrupt "x.pcap" is
 * still picked up (and reported by analyze).
 */
#include "batch/batch_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch/batch_util.h"
#include "core/mw.h"

#define MW_SPOOL_MAX_DEPTH 16

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);

    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int capture_name(const char *name)
{
    static const char *const exts[] = { ".pcap", ".pcapng", ".cap" };
    static const char *const comp[] = { "", ".gz", ".zst" };
    char buf[512];
    size_t i, j;

    for (j = 0; j < MW_ARRAY_LEN(comp); j++)
        for (i = 0; i < MW_ARRAY_LEN(exts); i++) {
            snprintf(buf, sizeof(buf), "%s%s", exts[i], comp[j]);
            if (has_suffix(name, buf))
                return 1;
        }
    return 0;
}

static int capture_magic(const char *path)
{
    static const uint8_t magics[][4] = {
        { 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 }, /* pcap us */
        { 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d }, /* pcap ns */
        { 0x0a, 0x0d, 0x0d, 0x0a },                             /* pcapng */
        { 0x28, 0xb5, 0x2f, 0xfd },                             /* zstd */
    };
    uint8_t head[4];
    size_t i;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    ssize_t n;

    if (fd < 0)
        return 0;
    n = read(fd, head, sizeof(head));
    close(fd);
    if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        return 1; /* gzip */
    if (n != (ssize_t)sizeof(head))
        return 0;
    for (i = 0; i < MW_ARRAY_LEN(magics); i++)
        if (memcmp(head, magics[i], 4) == 0)
            return 1;
    return 0;
}

static int add_file(mw_batch_files_t *files, const char *path, const struct stat *st)
{
    mw_batch_file_t *f;

    if (mw_grow((void **)&files->v, &files->cap, files->n + 1, sizeof(*files->v)) != 0)
        return MW_ENOMEM;
    f = &files->v[files->n];
    f->path = mw__batch_abspath(path);
    if (f->path == NULL)
        return MW_ENOMEM;
    f->size = (uint64_t)st->st_size;
    f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    files->n++;
    return 0;
}

static int scan_dir(
        mw_batch_files_t *files, const char *dir, int depth, char *errbuf, size_t errlen)
{
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (depth > MW_SPOOL_MAX_DEPTH)
        return 0;
    d = opendir(dir);
    if (d == NULL) {
        mw_fmt_errno(errbuf, errlen, errno, "cannot read directory %s", dir);
        return MW_EINVAL;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        struct stat st;
        char *p;
        if (e->d_name[0] == '.')
            continue; /* hidden, ".", "..", and files being copied in as .name.tmp */
        p = mw__batch_printf("%s/%s", dir, e->d_name);
        if (p == NULL) {
            rc = MW_ENOMEM;
            break;
        }
        if (stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = scan_dir(files, p, depth + 1, errbuf, errlen);
            else if (S_ISREG(st.st_mode) && (capture_name(e->d_name) || capture_magic(p)))
                rc = add_file(files, p, &st);
        }
        free(p);
    }
    closedir(d);
    if (rc == MW_ENOMEM)
        mw_fmt_err(errbuf, errlen, "out of memory");
    return rc;
}

static int add_one(mw_batch_files_t *files, const char *path, char *errbuf, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "spool %s", path);
        return MW_EINVAL;
    }
    if (S_ISDIR(st.st_mode))
        return scan_dir(files, path, 0, errbuf, errlen);
    if (!S_ISREG(st.st_mode))
        return 0;
    if (add_file(files, path, &st) != 0) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    return 0;
}

int mw__batch_spool_add(mw_batch_files_t *files, const char *arg, char *errbuf, size_t errlen)
{
    glob_t g;
    size_t i;
    int rc;

    if (strpbrk(arg, "*?[") == NULL)
        return add_one(files, arg, errbuf, errlen);
    memset(&g, 0, sizeof(g));
    rc = glob(arg, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        globfree(&g);
        return 0;
    }
    if (rc != 0) {
        mw_fmt_err(errbuf, errlen, "spool %s: %s", arg,
                rc == GLOB_NOSPACE ? "out of memory" : "cannot read a directory");
        globfree(&g);
        return rc == GLOB_NOSPACE ? MW_ENOMEM : MW_EINVAL;
    }
    for (i = 0, rc = 0; i < g.gl_pathc && rc == 0; i++)
        rc = add_one(files, g.gl_pathv[i], errbuf, errlen);
    globfree(&g);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const mw_batch_file_t *)a)->path, ((const mw_batch_file_t *)b)->path);
}

void mw__batch_spool_finish(mw_batch_files_t *files)
{
    size_t i, out = 0;

    if (files->n == 0)
        return;
    qsort(files->v, files->n, sizeof(*files->v), by_path);
    for (i = 0; i < files->n; i++) {
        if (out > 0 && strcmp(files->v[out - 1].path, files->v[i].path) == 0) {
            free(files->v[i].path);
            continue;
        }
        files->v[out++] = files->v[i];
    }
    files->n = out;
}

void mw__batch_spool_free(mw_batch_files_t *files)
{
    size_t i;

    for (i = 0; i < files->n; i++)
        free(files->v[i].path);
    free(files->v);
    memset(files, 0, sizeof(*files));
}
