/*
 * ring_dir.c - lists a pcap ring directory and reads each file's first
 * packet time from its headers (24-byte file header, 16-byte record header).
 */
#include "capture/ring_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mw.h"

int mw_ring_dir_is_ring_name(const char *name)
{
    size_t n = strlen(name), p = strlen(MW_RING_PREFIX), s = strlen(MW_RING_SUFFIX);

    return n > p + s && strncmp(name, MW_RING_PREFIX, p) == 0 &&
           strcmp(name + n - s, MW_RING_SUFFIX) == 0;
}

static uint32_t swap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

/* Reads the headers: valid and first_ns. */
static void read_head(mw_ring_file_t *f)
{
    uint32_t hdr[6], rec[4];
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    int swapped = 0, nano;
    ssize_t n;

    f->valid = 0;
    f->first_ns = INT64_MAX;
    if (fd < 0)
        return;
    n = read(fd, hdr, sizeof(hdr));
    if (n != (ssize_t)sizeof(hdr))
        goto out;
    if (hdr[0] == 0xa1b2c3d4u || hdr[0] == 0xa1b23c4du) {
        nano = hdr[0] == 0xa1b23c4du;
    } else if (swap32(hdr[0]) == 0xa1b2c3d4u || swap32(hdr[0]) == 0xa1b23c4du) {
        nano = swap32(hdr[0]) == 0xa1b23c4du;
        swapped = 1;
    } else {
        goto out;
    }
    f->valid = 1;
    n = read(fd, rec, sizeof(rec));
    if (n != (ssize_t)sizeof(rec))
        goto out;
    if (swapped) {
        rec[0] = swap32(rec[0]);
        rec[1] = swap32(rec[1]);
    }
    if (rec[1] > (nano ? 999999999u : 999999u))
        goto out; /* a broken first record: it sorts last and extract reports it */
    f->first_ns = (int64_t)rec[0] * 1000000000 + (int64_t)rec[1] * (nano ? 1 : 1000);
out:
    close(fd);
}

static int by_time(const void *a, const void *b)
{
    const mw_ring_file_t *x = a, *y = b;

    if (x->first_ns != y->first_ns)
        return x->first_ns < y->first_ns ? -1 : 1;
    return strcmp(x->path, y->path);
}

int mw_ring_dir_list(
        const char *dir, mw_ring_file_t **files, size_t *n, char *errbuf, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    mw_ring_file_t *v = NULL;
    size_t count = 0, cap = 0;

    *files = NULL;
    *n = 0;
    if (d == NULL) {
        mw_fmt_errno(errbuf, errlen, errno, "%s", dir);
        return MW_EIO;
    }
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        char *path;
        size_t len;

        if (!mw_ring_dir_is_ring_name(de->d_name))
            continue;
        len = strlen(dir) + strlen(de->d_name) + 2;
        path = malloc(len);
        if (path == NULL)
            goto nomem;
        snprintf(path, len, "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue; /* deleted meanwhile, or not a file */
        }
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            mw_ring_file_t *nv = realloc(v, ncap * sizeof(*v));
            if (nv == NULL) {
                free(path);
                goto nomem;
            }
            v = nv;
            cap = ncap;
        }
        v[count].path = path;
        v[count].size = (uint64_t)st.st_size;
        v[count].mtime = st.st_mtime;
        read_head(&v[count]);
        count++;
    }
    closedir(d);
    if (count > 1)
        qsort(v, count, sizeof(*v), by_time);
    *files = v;
    *n = count;
    return 0;
nomem:
    closedir(d);
    mw_ring_dir_free(v, count);
    mw_fmt_err(errbuf, errlen, "out of memory");
    return MW_ENOMEM;
}

void mw_ring_dir_free(mw_ring_file_t *files, size_t n)
{
    size_t i;

    for (i = 0; files != NULL && i < n; i++)
        free(files[i].path);
    free(files);
}
