/*
 * capture_decomp.c - compressed captures for libpcap. Nightly spools keep
 * yesterday's captures gzip'd or zstd'd; rather than a temporary copy, the
 * file is decompressed while libpcap reads it: a fopencookie(3) stream whose
 * read function pulls from zlib's gzread or zstd's streaming decoder, handed
 * to pcap_fopen_offline by capture_pcap.c. The codec is told by the magic
 * bytes, so a renamed file still works. The only file that calls zlib/zstd.
 */
#include "capture/capture_decomp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "core/mw.h"

/* ---- gzip ---------------------------------------------------------------- */

static ssize_t gz_cookie_read(void *cookie, char *buf, size_t size)
{
    int n;

    if (size > INT32_MAX)
        size = INT32_MAX;
    n = gzread((gzFile)cookie, buf, (unsigned)size);
    if (n < 0) {
        errno = EIO; /* corrupt data or a truncated stream ("unexpected end of file") */
        return -1;
    }
    return n;
}

static int gz_cookie_close(void *cookie)
{
    return gzclose_r((gzFile)cookie) == Z_OK ? 0 : EOF;
}

/* ---- zstd ---------------------------------------------------------------- */

#define MW_ZST_INBUF (128 * 1024)

typedef struct zst_stream {
    int fd;
    ZSTD_DStream *ds;
    ZSTD_inBuffer in;
    size_t last; /* last ZSTD_decompressStream result: 0 = a frame ended there */
    int eof;
    uint8_t buf[MW_ZST_INBUF];
} zst_stream_t;

static ssize_t zst_cookie_read(void *cookie, char *buf, size_t size)
{
    zst_stream_t *z = cookie;
    ZSTD_outBuffer out = { buf, size, 0 };

    for (;;) {
        size_t r;
        if (z->in.pos == z->in.size && !z->eof) {
            ssize_t n = read(z->fd, z->buf, sizeof(z->buf));
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return -1;
            }
            if (n == 0)
                z->eof = 1;
            z->in.src = z->buf;
            z->in.size = (size_t)n;
            z->in.pos = 0;
        }
        if (z->in.pos == z->in.size && z->eof && z->last == 0)
            return 0; /* every frame ended and was flushed (or the file is empty) */
        r = ZSTD_decompressStream(z->ds, &out, &z->in);
        if (ZSTD_isError(r)) {
            errno = EIO;
            return -1;
        }
        z->last = r;
        if (out.pos > 0)
            return (ssize_t)out.pos;
        if (z->eof && z->in.pos == z->in.size && z->last != 0) {
            errno = EIO; /* the input ended inside a frame: truncated */
            return -1;
        }
    }
}

static int zst_cookie_close(void *cookie)
{
    zst_stream_t *z = cookie;
    int rc = close(z->fd);

    ZSTD_freeDStream(z->ds);
    free(z);
    return rc == 0 ? 0 : EOF;
}

static FILE *open_zstd(int fd, const char *path, char *errbuf, size_t errlen)
{
    cookie_io_functions_t io = { .read = zst_cookie_read, .close = zst_cookie_close };
    zst_stream_t *z = calloc(1, sizeof(*z));
    FILE *f;

    if (z == NULL) {
        mw_fmt_err(errbuf, errlen, "%s: out of memory", path);
        return NULL;
    }
    z->fd = fd;
    z->ds = ZSTD_createDStream();
    if (z->ds == NULL || ZSTD_isError(ZSTD_initDStream(z->ds))) {
        mw_fmt_err(errbuf, errlen, "%s: cannot start the zstd decoder", path);
        goto fail;
    }
    f = fopencookie(z, "rb", io);
    if (f == NULL) {
        mw_fmt_errno(errbuf, errlen, errno, "%s", path);
        goto fail;
    }
    return f;
fail:
    ZSTD_freeDStream(z->ds);
    free(z);
    return NULL;
}

static FILE *open_gzip(int fd, const char *path, char *errbuf, size_t errlen)
{
    cookie_io_functions_t io = { .read = gz_cookie_read, .close = gz_cookie_close };
    gzFile gz = gzdopen(fd, "rb");
    FILE *f;

    if (gz == NULL) {
        mw_fmt_err(errbuf, errlen, "%s: cannot start the gzip decoder", path);
        close(fd);
        return NULL;
    }
    (void)gzbuffer(gz, 128 * 1024);
    f = fopencookie(gz, "rb", io);
    if (f == NULL) {
        mw_fmt_errno(errbuf, errlen, errno, "%s", path);
        (void)gzclose_r(gz); /* closes fd */
        return NULL;
    }
    return f;
}

FILE *mw__capture_fopen(
        const char *path, enum mw__capture_codec *codec, char *errbuf, size_t errlen)
{
    static const uint8_t gz_magic[2] = { 0x1f, 0x8b };
    static const uint8_t zst_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
    uint8_t head[4] = { 0 };
    ssize_t n;
    FILE *f;
    int fd;

    if (codec != NULL)
        *codec = MW_CODEC_NONE;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        mw_fmt_errno(errbuf, errlen, errno, "%s", path);
        return NULL;
    }
    n = pread(fd, head, sizeof(head), 0);
    if (n == (ssize_t)sizeof(head) && memcmp(head, zst_magic, sizeof(zst_magic)) == 0) {
        if (codec != NULL)
            *codec = MW_CODEC_ZSTD;
        f = open_zstd(fd, path, errbuf, errlen);
        if (f == NULL)
            close(fd);
        return f;
    }
    if (n >= 2 && memcmp(head, gz_magic, sizeof(gz_magic)) == 0) {
        if (codec != NULL)
            *codec = MW_CODEC_GZIP;
        return open_gzip(fd, path, errbuf, errlen); /* closes fd on failure */
    }
    f = fdopen(fd, "rb");
    if (f == NULL) {
        mw_fmt_errno(errbuf, errlen, errno, "%s", path);
        close(fd);
    }
    return f;
}
