/*
 * pcap_file.c - a classic pcap writer with its own buffer and file
 * descriptor (not pcap_dump: stdio hides which packets a failed write lost
 * and leaves half records). See pcap_file.h.
 */
#include "capture/pcap_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCAP_MAGIC_NS 0xa1b23c4du

struct mw_pcap_file {
    int fd;
    uint8_t *buf;
    size_t cap, used;
    uint64_t on_disk;     /* bytes written and kept */
    uint64_t packets;     /* packets on disk */
    uint64_t buf_packets; /* packets in buf */
};

uint32_t mw_pcap_linktype_of(int dlt)
{
    /* libpcap's DLT_ and the file's LINKTYPE_ differ for a few historic values */
    switch (dlt) {
        case 12: /* DLT_RAW on most systems */
        case 14: /* DLT_RAW on OpenBSD */
            return 101;
        case 11: /* DLT_ATM_RFC1483 */
            return 100;
        default:
            return (uint32_t)dlt;
    }
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (w == 0)
            return -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

mw_pcap_file_t *mw_pcap_file_create(const char *path, int dlt, uint32_t snaplen, size_t bufsize)
{
    mw_pcap_file_t *f = calloc(1, sizeof(*f));
    uint32_t hdr[6] = { PCAP_MAGIC_NS, 0, 0, 0, snaplen, mw_pcap_linktype_of(dlt) };
    int rc, saved;

    if (f == NULL)
        return NULL;
    f->cap = bufsize < 65536 ? 65536 : bufsize;
    f->buf = malloc(f->cap);
    if (f->buf == NULL) {
        free(f);
        errno = ENOMEM;
        return NULL;
    }
    f->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (f->fd < 0)
        goto fail;
    /* version 2.4 as two little u16 in host order: the magic tells readers the byte order */
    {
        uint16_t v[2] = { 2, 4 };
        memcpy(&hdr[1], v, sizeof(v));
    }
    rc = write_all(f->fd, (const uint8_t *)hdr, sizeof(hdr));
    if (rc != 0) {
        saved = -rc;
        close(f->fd);
        unlink(path);
        errno = saved;
        f->fd = -1;
        goto fail;
    }
    f->on_disk = sizeof(hdr);
    return f;
fail:
    saved = errno;
    free(f->buf);
    free(f);
    errno = saved;
    return NULL;
}

int mw_pcap_file_flush(mw_pcap_file_t *f, uint64_t *lost)
{
    int rc;

    if (f->used == 0)
        return 0;
    rc = write_all(f->fd, f->buf, f->used);
    if (rc == 0) {
        f->on_disk += f->used;
        f->packets += f->buf_packets;
    } else {
        /* a part may be on disk: cut back to the last whole record, so the file stays valid */
        if (ftruncate(f->fd, (off_t)f->on_disk) != 0 ||
                lseek(f->fd, (off_t)f->on_disk, SEEK_SET) < 0) {
            /* cannot even cut it: the tail is lost, the file is not written again */
            f->on_disk = UINT64_MAX / 2;
        }
        *lost += f->buf_packets;
    }
    f->used = 0;
    f->buf_packets = 0;
    return rc;
}

int mw_pcap_file_write(mw_pcap_file_t *f, int64_t ts_ns, uint32_t caplen, uint32_t wirelen,
        const uint8_t *data, uint64_t *lost)
{
    uint32_t rec[4];
    size_t need = MW_PCAP_RECORD_LEN + caplen;
    int rc = 0;

    if (ts_ns < 0)
        ts_ns = 0;
    rec[0] = (uint32_t)(ts_ns / 1000000000);
    rec[1] = (uint32_t)(ts_ns % 1000000000);
    rec[2] = caplen;
    rec[3] = wirelen;
    if (f->used + need > f->cap) {
        rc = mw_pcap_file_flush(f, lost);
        if (need > f->cap) { /* larger than the buffer: straight to the file */
            if (rc == 0)
                rc = write_all(f->fd, (const uint8_t *)rec, sizeof(rec));
            if (rc == 0)
                rc = write_all(f->fd, data, caplen);
            if (rc == 0) {
                f->on_disk += need;
                f->packets++;
            } else {
                if (ftruncate(f->fd, (off_t)f->on_disk) != 0 ||
                        lseek(f->fd, (off_t)f->on_disk, SEEK_SET) < 0)
                    f->on_disk = UINT64_MAX / 2;
                (*lost)++;
            }
            return rc;
        }
    }
    memcpy(f->buf + f->used, rec, sizeof(rec));
    memcpy(f->buf + f->used + sizeof(rec), data, caplen);
    f->used += need;
    f->buf_packets++;
    return rc;
}

uint64_t mw_pcap_file_size(const mw_pcap_file_t *f)
{
    return f->on_disk + f->used;
}

uint64_t mw_pcap_file_packets(const mw_pcap_file_t *f)
{
    return f->packets + f->buf_packets;
}

int mw_pcap_file_close(mw_pcap_file_t *f, int sync, uint64_t *lost)
{
    int rc, rc2 = 0;

    if (f == NULL)
        return 0;
    rc = mw_pcap_file_flush(f, lost);
    if (sync && fdatasync(f->fd) != 0)
        rc2 = -errno;
    if (close(f->fd) != 0 && rc2 == 0)
        rc2 = -errno;
    free(f->buf);
    free(f);
    return rc != 0 ? rc : rc2;
}
