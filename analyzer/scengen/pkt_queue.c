/*
 * pkt_queue.c - a byte arena plus an index of (time, push order, offset,
 * length) records. A flush sorts the index, writes the prefix that is older
 * than the limit and compacts what remains (usually the tail of a few long
 * sessions) into a fresh arena, so the cost per frame stays one copy in and
 * one sort step.
 */
#include "pkt_queue.h"

#include "core/mw.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t t;
    uint64_t order;
    size_t off;
    uint32_t len;
} rec_t;

struct mw_pkt_queue {
    uint8_t *arena;
    size_t used, cap, max_bytes;
    rec_t *recs;
    size_t n, ncap;
    uint64_t order;
};

mw_pkt_queue_t *mw_pkt_queue_create(size_t max_bytes)
{
    mw_pkt_queue_t *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return NULL;
    q->max_bytes = max_bytes;
    return q;
}

void mw_pkt_queue_destroy(mw_pkt_queue_t *q)
{
    if (q == NULL)
        return;
    free(q->arena);
    free(q->recs);
    free(q);
}

int mw_pkt_queue_push(mw_pkt_queue_t *q, uint64_t t_us, const uint8_t *frame, uint32_t len)
{
    if (q->used + len > q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : (1u << 20);
        while (ncap < q->used + len)
            ncap *= 2;
        if (ncap > q->max_bytes)
            ncap = q->max_bytes;
        if (q->used + len > ncap)
            return MW_EFULL;
        uint8_t *a = realloc(q->arena, ncap);
        if (a == NULL)
            return MW_ENOMEM;
        q->arena = a;
        q->cap = ncap;
    }
    if (q->n == q->ncap) {
        size_t ncap = q->ncap ? q->ncap * 2 : 4096;
        rec_t *r = realloc(q->recs, ncap * sizeof(*r));
        if (r == NULL)
            return MW_ENOMEM;
        q->recs = r;
        q->ncap = ncap;
    }
    memcpy(q->arena + q->used, frame, len);
    q->recs[q->n].t = t_us;
    q->recs[q->n].order = q->order++;
    q->recs[q->n].off = q->used;
    q->recs[q->n].len = len;
    q->n++;
    q->used += len;
    return MW_OK;
}

static int rec_cmp(const void *a, const void *b)
{
    const rec_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    /* Push order breaks ties so the output does not depend on qsort's stability. */
    return x->order < y->order ? -1 : (x->order > y->order);
}

int mw_pkt_queue_flush(mw_pkt_queue_t *q, uint64_t limit_us, mw_pcap_out_t *w, uint64_t *written)
{
    size_t i, k;
    int rc;

    if (q->n == 0)
        return MW_OK;
    qsort(q->recs, q->n, sizeof(rec_t), rec_cmp);
    for (i = 0; i < q->n && q->recs[i].t < limit_us; i++) {
        rc = mw_pcap_out_write(w, q->recs[i].t, q->arena + q->recs[i].off, q->recs[i].len);
        if (rc != MW_OK)
            return rc;
    }
    if (written != NULL)
        *written += i;
    if (i == q->n) {
        q->n = 0;
        q->used = 0;
        return MW_OK;
    }
    /* Compact the survivors to the front of the arena, in arena order is not needed:
     * copy through a scratch buffer because source and destination may overlap. */
    size_t keep_bytes = 0;
    for (k = i; k < q->n; k++)
        keep_bytes += q->recs[k].len;
    uint8_t *na = malloc(q->cap);
    if (na == NULL)
        return MW_ENOMEM;
    size_t off = 0;
    for (k = i; k < q->n; k++) {
        memcpy(na + off, q->arena + q->recs[k].off, q->recs[k].len);
        q->recs[k - i] = q->recs[k];
        q->recs[k - i].off = off;
        off += q->recs[k].len;
    }
    free(q->arena);
    q->arena = na;
    q->used = keep_bytes;
    q->n -= i;
    return MW_OK;
}
