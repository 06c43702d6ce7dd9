/*
 * pcap_out.c - the generator's file writer. Classic pcap is the default
 * because every tool (tshark, ndpiReader, tcpreplay) reads it; pcapng is
 * offered for tools that prefer it and uses one Section Header Block, one
 * Interface Description Block (if_tsresol 6 = microseconds) and one
 * Enhanced Packet Block per frame.
 * specification: pcap - draft-ietf-opsawg-pcap; pcapng - draft-ietf-opsawg-pcapng
 */
#include "pcap_out.h"

#include "core/mw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SG_SNAPLEN           65535u
#define SG_LINKTYPE_ETHERNET 1u

struct mw_pcap_out {
    FILE *fp;
    int pcapng;
    int failed;
    char *buf; /* stdio buffer, owned */
};

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* host order: readers detect it from the magic */
}

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static int write_headers(mw_pcap_out_t *w)
{
    uint8_t h[64];
    size_t n;

    if (!w->pcapng) {
        put32(h, 0xa1b2c3d4u);
        put16(h + 4, 2);
        put16(h + 6, 4);
        put32(h + 8, 0);
        put32(h + 12, 0);
        put32(h + 16, SG_SNAPLEN);
        put32(h + 20, SG_LINKTYPE_ETHERNET);
        n = 24;
    } else {
        /* SHB: type, len, BOM, major 1, minor 0, section length -1, len. */
        put32(h, 0x0a0d0d0au);
        put32(h + 4, 28);
        put32(h + 8, 0x1a2b3c4du);
        put16(h + 12, 1);
        put16(h + 14, 0);
        put32(h + 16, 0xffffffffu);
        put32(h + 20, 0xffffffffu);
        put32(h + 24, 28);
        /* IDB with if_tsresol = 6 (microseconds) and opt_endofopt. */
        put32(h + 28, 1);
        put32(h + 32, 32);
        put16(h + 36, SG_LINKTYPE_ETHERNET);
        put16(h + 38, 0);
        put32(h + 40, SG_SNAPLEN);
        put16(h + 44, 9);
        put16(h + 46, 1);
        h[48] = 6;
        h[49] = h[50] = h[51] = 0;
        put32(h + 52, 0);
        put32(h + 56, 32);
        n = 60;
    }
    return fwrite(h, 1, n, w->fp) == n ? MW_OK : MW_EIO;
}

mw_pcap_out_t *mw_pcap_out_open(const char *path, int pcapng, char *errbuf, size_t errlen)
{
    mw_pcap_out_t *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    w->pcapng = pcapng;
    w->fp = fopen(path, "wb");
    if (w->fp == NULL) {
        snprintf(errbuf, errlen, "cannot write %s: %s", path, strerror(errno));
        free(w);
        return NULL;
    }
    /* A 1 MB buffer: the writer is the hot path at millions of frames. */
    w->buf = malloc(1u << 20);
    if (w->buf != NULL)
        setvbuf(w->fp, w->buf, _IOFBF, 1u << 20);
    if (write_headers(w) != MW_OK) {
        snprintf(errbuf, errlen, "cannot write %s: %s", path, strerror(errno));
        fclose(w->fp);
        free(w->buf);
        free(w);
        return NULL;
    }
    return w;
}

int mw_pcap_out_write(mw_pcap_out_t *w, uint64_t t_us, const uint8_t *frame, uint32_t len)
{
    uint8_t h[28];
    static const uint8_t pad[4] = { 0, 0, 0, 0 };

    if (len > SG_SNAPLEN)
        return MW_EINVAL;
    if (!w->pcapng) {
        put32(h, (uint32_t)(t_us / 1000000u));
        put32(h + 4, (uint32_t)(t_us % 1000000u));
        put32(h + 8, len);
        put32(h + 12, len);
        if (fwrite(h, 1, 16, w->fp) != 16 || fwrite(frame, 1, len, w->fp) != len)
            w->failed = 1;
    } else {
        uint32_t padded = (len + 3u) & ~3u;
        uint32_t blen = 32 + padded;
        put32(h, 6);
        put32(h + 4, blen);
        put32(h + 8, 0);
        put32(h + 12, (uint32_t)(t_us >> 32));
        put32(h + 16, (uint32_t)t_us);
        put32(h + 20, len);
        put32(h + 24, len);
        if (fwrite(h, 1, 28, w->fp) != 28 || fwrite(frame, 1, len, w->fp) != len ||
                fwrite(pad, 1, padded - len, w->fp) != padded - len ||
                fwrite(&blen, 1, 4, w->fp) != 4)
            w->failed = 1;
    }
    return w->failed ? MW_EIO : MW_OK;
}

int mw_pcap_out_close(mw_pcap_out_t *w)
{
    int rc = MW_OK;
    if (w == NULL)
        return MW_OK;
    if (fclose(w->fp) != 0 || w->failed)
        rc = MW_EIO;
    free(w->buf);
    free(w);
    return rc;
}
