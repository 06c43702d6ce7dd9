/*
 * defrag.c - IP reassembly with a memory cap in bytes.
 *
 * A datagram is (version, source, destination, protocol, identification).
 * Its fragments are kept as copies of their frames in a list sorted by
 * offset, so that one that cannot be put together is handed back in the
 * order the engine's fragment table needs (the first fragment, with the
 * ports, first). Datagrams wait in arrival order; the oldest is given up
 * when the cap is reached. Datagrams in flight are few (fragments of one
 * come within milliseconds), so lists are walked, not indexed.
 */
#include "flow/defrag.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/addr.h"
#include "core/mw.h"
#include "decode/decode.h" /* mw_get_be16/32 */

#define BUCKETS       1024 /* hash chains; datagrams held are bounded by max_bytes */
#define IPV4_HLEN_MIN 20
#define IPV6_HLEN     40
#define IP_MAX        65535u
#define MAX_IPV6_EXT  8 /* extension headers walked before the fragment header */

typedef struct frag_key {
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t version, proto;
    uint8_t pad_[2];
} frag_key_t;

/* What the IP header of a fragment says, offsets from the IP header. */
typedef struct frag_info {
    frag_key_t key;
    uint32_t off;      /* its data's place in the datagram's payload */
    uint32_t data_pos; /* where its data starts */
    uint32_t data_len;
    uint32_t nh_pos;  /* IPv6: the next-header byte that names the fragment header */
    uint32_t hdr_len; /* IPv4 header; IPv6 header and the extension headers before the
                       * fragment header (the unfragmentable part) */
    uint8_t more;
} frag_info_t;

typedef struct held_frag {
    struct held_frag *next; /* by offset */
    frag_info_t info;
    mw_defrag_frame_t frame; /* frame.data points at bytes */
    uint32_t ip_off, count_len, seq;
    uint8_t bytes[];
} held_frag_t;

typedef struct datagram {
    struct datagram *chain;         /* hash bucket */
    struct datagram *older, *newer; /* arrival order */
    frag_key_t key;
    int64_t first_us;
    held_frag_t *frags;
    uint32_t nfrags, end; /* end: payload length, 0 until the last fragment came */
    size_t bytes;
    uint8_t conflict;
} datagram_t;

struct mw_defrag {
    mw_defrag_params_t params;
    mw_defrag_release_fn release;
    void *release_ctx;
    datagram_t *buckets[BUCKETS];
    datagram_t *oldest, *newest;
    datagram_t *pending; /* put together, its frames kept until the caller settles it */
    size_t held;
    uint8_t *buf; /* the last datagram put together */
    size_t buf_cap;
    held_frag_t **by_arrival; /* max_fragments slots */
    mw_defrag_stats_t stats;
};

mw_defrag_t *mw_defrag_create(const mw_defrag_params_t *params, mw_defrag_release_fn release,
        void *release_ctx, char *errbuf, size_t errlen)
{
    mw_defrag_t *t;

    if (params == NULL || params->timeout_us <= 0 || params->max_fragments == 0 ||
            release == NULL) {
        mw_fmt_err(errbuf, errlen, "IP reassembly: invalid parameters");
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (t != NULL)
        t->by_arrival = calloc(params->max_fragments, sizeof(*t->by_arrival));
    if (t == NULL || t->by_arrival == NULL) {
        free(t);
        mw_fmt_err(errbuf, errlen, "IP reassembly: out of memory");
        return NULL;
    }
    t->params = *params;
    t->release = release;
    t->release_ctx = release_ctx;
    return t;
}

static void free_datagram(datagram_t *d)
{
    held_frag_t *f = d->frags;

    while (f != NULL) {
        held_frag_t *next = f->next;
        free(f);
        f = next;
    }
    free(d);
}

void mw_defrag_destroy(mw_defrag_t *t)
{
    if (t == NULL)
        return;
    if (t->pending != NULL)
        free_datagram(t->pending);
    while (t->oldest != NULL) {
        datagram_t *d = t->oldest;
        t->oldest = d->newer;
        free_datagram(d);
    }
    free(t->buf);
    free(t->by_arrival);
    free(t);
}

/* 1 a fragment (fi filled), 0 not one, -1 one that cannot be held (cut by the snaplen,
 * lengths that do not add up, past 65,535 bytes). */
static int parse_ipv4(const uint8_t *h, uint32_t avail, frag_info_t *fi)
{
    uint32_t hlen, total;
    uint16_t frag;

    if (avail < IPV4_HLEN_MIN)
        return 0;
    frag = mw_get_be16(h + 6);
    if ((frag & 0x3fff) == 0)
        return 0;
    hlen = (uint32_t)(h[0] & 0x0f) * 4;
    total = mw_get_be16(h + 2);
    if (hlen < IPV4_HLEN_MIN || total <= hlen || total > avail)
        return -1;
    fi->key.version = 4;
    fi->key.proto = h[9];
    fi->key.id = mw_get_be16(h + 4);
    mw_addr_map_v4(fi->key.src, h + 12);
    mw_addr_map_v4(fi->key.dst, h + 16);
    fi->off = (uint32_t)(frag & 0x1fff) * 8;
    fi->more = (uint8_t)((frag & 0x2000) != 0);
    fi->hdr_len = hlen;
    fi->data_pos = hlen;
    fi->data_len = total - hlen;
    return 1;
}

static int parse_ipv6(const uint8_t *h, uint32_t avail, frag_info_t *fi)
{
    uint32_t total, pos = IPV6_HLEN, nh_pos = 6;
    uint16_t frag;
    uint8_t next;
    unsigned n;

    if (avail < IPV6_HLEN)
        return 0;
    total = IPV6_HLEN + (uint32_t)mw_get_be16(h + 4);
    if (total == IPV6_HLEN)
        return 0; /* a jumbogram, or nothing to put together */
    next = h[6];
    for (n = 0; next == 0 || next == 43 || next == 60; n++) { /* hop-by-hop, routing, dst opts */
        if (n == MAX_IPV6_EXT || pos + 8 > MW_MIN(total, avail))
            return 0; /* the decoder says what is wrong with it */
        nh_pos = pos;
        next = h[pos];
        pos += ((uint32_t)h[pos + 1] + 1) * 8;
    }
    if (next != 44 || pos + 8 > MW_MIN(total, avail))
        return 0;
    frag = mw_get_be16(h + pos + 2);
    if ((frag & 0xfff9) == 0)
        return 0; /* an atomic fragment (RFC 6946): whole as it is */
    if (total > avail || total <= pos + 8)
        return -1;
    fi->key.version = 6;
    fi->key.proto = h[pos];
    fi->key.id = mw_get_be32(h + pos + 4);
    memcpy(fi->key.src, h + 8, 16);
    memcpy(fi->key.dst, h + 24, 16);
    fi->off = frag & 0xfff8;
    fi->more = (uint8_t)(frag & 1);
    fi->hdr_len = pos;
    fi->data_pos = pos + 8;
    fi->nh_pos = nh_pos;
    fi->data_len = total - (pos + 8);
    return 1;
}

static int parse(const uint8_t *ip, uint32_t avail, frag_info_t *fi)
{
    int rc;

    memset(fi, 0, sizeof(*fi));
    if (avail == 0)
        return 0;
    rc = (ip[0] >> 4) == 4   ? parse_ipv4(ip, avail, fi)
         : (ip[0] >> 4) == 6 ? parse_ipv6(ip, avail, fi)
                             : 0;
    if (rc != 1)
        return rc;
    /* every fragment but the last holds a multiple of 8 bytes; the whole fits in IP */
    if ((fi->more && fi->data_len % 8 != 0) || (uint64_t)fi->data_pos + fi->off + fi->data_len >
                                                       IP_MAX + (fi->key.version == 6 ? 40u : 0u))
        return -1;
    return 1;
}

static datagram_t **bucket_of(mw_defrag_t *t, const frag_key_t *k)
{
    return &t->buckets[XXH3_64bits(k, sizeof(*k)) % BUCKETS];
}

static void unlink_datagram(mw_defrag_t *t, datagram_t *d)
{
    datagram_t **pp = bucket_of(t, &d->key);

    while (*pp != d)
        pp = &(*pp)->chain;
    *pp = d->chain;
    if (d->older != NULL)
        d->older->newer = d->newer;
    else
        t->oldest = d->newer;
    if (d->newer != NULL)
        d->newer->older = d->older;
    else
        t->newest = d->older;
    t->held -= d->bytes;
}

/* Hands a datagram's frames back one by one, in offset order, and frees it. */
static void release_frames(mw_defrag_t *t, datagram_t *d)
{
    held_frag_t *f;

    for (f = d->frags; f != NULL; f = f->next) {
        t->stats.released++;
        t->release(t->release_ctx, &f->frame);
    }
    free_datagram(d);
}

/* Forgets a datagram still held, handing its frames back. */
static void give_up(mw_defrag_t *t, datagram_t *d)
{
    unlink_datagram(t, d);
    release_frames(t, d);
}

static datagram_t *find(mw_defrag_t *t, const frag_key_t *k)
{
    datagram_t *d;

    for (d = *bucket_of(t, k); d != NULL; d = d->chain)
        if (memcmp(&d->key, k, sizeof(*k)) == 0)
            return d;
    return NULL;
}

static datagram_t *start(mw_defrag_t *t, const frag_key_t *k, int64_t ts_us)
{
    datagram_t **b = bucket_of(t, k), *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    d->key = *k;
    d->first_us = ts_us;
    d->bytes = sizeof(*d);
    d->chain = *b;
    *b = d;
    d->older = t->newest;
    if (t->newest != NULL)
        t->newest->newer = d;
    else
        t->oldest = d;
    t->newest = d;
    t->held += d->bytes;
    return d;
}

/* Whether f's bytes differ from those of the fragments it overlaps. */
static int differs(const datagram_t *d, const held_frag_t *f)
{
    const held_frag_t *g;
    uint32_t lo, hi;

    for (g = d->frags; g != NULL; g = g->next) {
        lo = MW_MAX(f->info.off, g->info.off);
        hi = MW_MIN(f->info.off + f->info.data_len, g->info.off + g->info.data_len);
        if (lo < hi &&
                memcmp(f->bytes + f->ip_off + f->info.data_pos + (lo - f->info.off),
                        g->bytes + g->ip_off + g->info.data_pos + (lo - g->info.off), hi - lo) != 0)
            return 1;
    }
    return 0;
}

static void insert_sorted(datagram_t *d, held_frag_t *f)
{
    held_frag_t **pp = &d->frags;

    while (*pp != NULL && (*pp)->info.off <= f->info.off)
        pp = &(*pp)->next;
    f->next = *pp;
    *pp = f;
}

/* Whether the fragments held cover the datagram from 0 to its end, with nothing past it;
 * -1 when they cannot add up (data past the end). */
static int whole(const datagram_t *d)
{
    const held_frag_t *f;
    uint32_t covered = 0;

    if (d->end == 0)
        return 0; /* no last fragment yet: nothing can be past it */
    for (f = d->frags; f != NULL; f = f->next)
        if (f->info.off + f->info.data_len > d->end)
            return -1;
    for (f = d->frags; f != NULL; f = f->next) {
        if (f->info.off > covered)
            return 0;
        covered = MW_MAX(covered, f->info.off + f->info.data_len);
    }
    return covered >= d->end;
}

static void set_ipv4_checksum(uint8_t *ip, uint32_t hlen)
{
    uint32_t sum = 0, k;

    ip[10] = ip[11] = 0;
    for (k = 0; k + 1 < hlen; k += 2)
        sum += (uint32_t)mw_get_be16(ip + k);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = (uint8_t)(~sum >> 8);
    ip[11] = (uint8_t)~sum;
}

/* Puts the datagram together in t->buf (the first fragment's frame up to its IP header,
 * then the datagram); 0, or -1 out of memory or longer than IP allows. The bytes that came first
 * win an overlap: fragments are copied in the reverse of their arrival. */
static int assemble(mw_defrag_t *t, datagram_t *d, mw_defrag_datagram_t *out)
{
    const held_frag_t *first = d->frags, *f;
    const frag_info_t *fi = &first->info;
    size_t head = (size_t)first->ip_off + fi->hdr_len, len = head + d->end;
    uint8_t *ip;
    uint32_t i;

    /* the first fragment's header may be longer than the last one's */
    if (fi->hdr_len - (fi->key.version == 6 ? IPV6_HLEN : 0) + (uint64_t)d->end > IP_MAX)
        return -1;
    if (len > t->buf_cap) {
        uint8_t *nb = realloc(t->buf, len);
        if (nb == NULL)
            return -1;
        t->buf = nb;
        t->buf_cap = len;
    }
    memcpy(t->buf, first->bytes, head);
    ip = t->buf + first->ip_off;
    if (fi->key.version == 4) {
        uint16_t df = mw_get_be16(ip + 6) & 0x4000; /* MF and the offset go */
        ip[2] = (uint8_t)((fi->hdr_len + d->end) >> 8);
        ip[3] = (uint8_t)(fi->hdr_len + d->end);
        ip[6] = (uint8_t)(df >> 8);
        ip[7] = 0;
        set_ipv4_checksum(ip, fi->hdr_len);
    } else {
        uint32_t plen = fi->hdr_len - IPV6_HLEN + d->end;
        ip[4] = (uint8_t)(plen >> 8);
        ip[5] = (uint8_t)plen;
        ip[fi->nh_pos] = fi->key.proto; /* the fragment header is left out */
    }
    for (f = d->frags; f != NULL; f = f->next)
        t->by_arrival[f->seq] = (held_frag_t *)f;
    for (i = d->nfrags; i-- > 0;) {
        f = t->by_arrival[i];
        memcpy(t->buf + head + f->info.off, f->bytes + f->ip_off + f->info.data_pos,
                MW_MIN(f->info.data_len, d->end - f->info.off));
    }
    memset(out, 0, sizeof(*out));
    out->frame = t->buf;
    out->len = (uint32_t)len;
    out->dlt = first->frame.dlt;
    out->decode_flags = first->frame.decode_flags;
    out->ip_off = first->ip_off;
    out->id = fi->key.id;
    out->conflict = d->conflict;
    out->fragments = d->nfrags;
    for (f = d->frags; f != NULL; f = f->next)
        out->count_len += f->count_len;
    return 0;
}

static held_frag_t *copy_frame(
        const mw_defrag_frame_t *frame, uint32_t ip_off, const frag_info_t *fi, uint32_t count_len)
{
    uint32_t n = ip_off + fi->data_pos + fi->data_len; /* nothing past the IP packet */
    held_frag_t *f = malloc(sizeof(*f) + n);

    if (f == NULL)
        return NULL;
    memcpy(f->bytes, frame->data, n);
    f->next = NULL;
    f->info = *fi;
    f->frame = *frame;
    f->frame.data = f->bytes;
    f->frame.caplen = n;
    f->ip_off = ip_off;
    f->count_len = count_len;
    f->seq = 0;
    return f;
}

int mw_defrag_add(mw_defrag_t *t, const mw_defrag_frame_t *frame, uint32_t ip_off,
        uint32_t count_len, mw_defrag_datagram_t *out)
{
    frag_info_t fi;
    held_frag_t *f;
    datagram_t *d;
    size_t need;
    int rc, w;

    mw_defrag_settle(t, 1); /* a caller that did not say: it was analyzed whole */
    if (ip_off >= frame->caplen)
        return MW_DEFRAG_NOT_FRAGMENT;
    rc = parse(frame->data + ip_off, frame->caplen - ip_off, &fi);
    if (rc <= 0)
        return rc == 0 ? MW_DEFRAG_NOT_FRAGMENT : MW_DEFRAG_PASS;
    f = copy_frame(frame, ip_off, &fi, count_len);
    if (f == NULL)
        return MW_DEFRAG_PASS; /* out of memory: it goes on as a fragment */
    need = sizeof(*f) + f->frame.caplen;
    d = find(t, &fi.key);
    /* room first: the oldest datagrams are given up (never the one this joins) */
    while (t->held + need + sizeof(datagram_t) > t->params.max_bytes && t->oldest != NULL &&
            t->oldest != d)
        give_up(t, t->oldest);
    if (d == NULL)
        d = start(t, &fi.key, frame->ts_us);
    if (d == NULL) {
        free(f);
        return MW_DEFRAG_PASS;
    }
    if (d->nfrags > 0 && differs(d, f))
        d->conflict = 1;
    f->seq = d->nfrags++;
    insert_sorted(d, f);
    d->bytes += need;
    t->held += need;
    if (t->held > t->stats.held_bytes_max)
        t->stats.held_bytes_max = t->held;
    if (!fi.more) {
        uint32_t end = fi.off + fi.data_len;
        if (d->end != 0 && d->end != end)
            d->end = UINT32_MAX; /* two last fragments that disagree: never whole */
        else
            d->end = end;
    }
    w = d->end == UINT32_MAX ? -1 : whole(d);
    /* a datagram that cannot add up, or one too large to hold, goes on as fragments */
    if (w < 0 || d->nfrags >= t->params.max_fragments || t->held > t->params.max_bytes) {
        give_up(t, d);
        return MW_DEFRAG_HELD;
    }
    if (w == 0)
        return MW_DEFRAG_HELD;
    if (assemble(t, d, out) != 0) {
        give_up(t, d);
        return MW_DEFRAG_HELD;
    }
    unlink_datagram(t, d);
    t->pending = d;
    return MW_DEFRAG_COMPLETE;
}

void mw_defrag_settle(mw_defrag_t *t, int whole)
{
    datagram_t *d = t->pending;

    if (d == NULL)
        return;
    t->pending = NULL;
    if (!whole) {
        release_frames(t, d);
        return;
    }
    t->stats.datagrams++;
    t->stats.fragments += d->nfrags;
    t->stats.conflicts += d->conflict;
    free_datagram(d);
}

void mw_defrag_expire(mw_defrag_t *t, int64_t now_us)
{
    datagram_t *d = t->oldest;

    while (d != NULL) {
        datagram_t *next = d->newer;
        if (now_us - d->first_us > t->params.timeout_us ||
                d->first_us - now_us > t->params.timeout_us)
            give_up(t, d);
        d = next;
    }
}

void mw_defrag_flush(mw_defrag_t *t)
{
    mw_defrag_settle(t, 1);
    while (t->oldest != NULL)
        give_up(t, t->oldest);
}

void mw_defrag_get_stats(const mw_defrag_t *t, mw_defrag_stats_t *out)
{
    *out = t->stats;
}

void mw_defrag_mark_fragmented(mw_defrag_datagram_t *dg)
{
    uint8_t *ip = dg->frame + dg->ip_off;

    if ((ip[0] >> 4) != 4)
        return;
    ip[6] |= 0x20;
    set_ipv4_checksum(ip, (uint32_t)(ip[0] & 0x0f) * 4);
}
