/*
 * hour_counts.c - open addressing on (fingerprint, hour). Hours leave only
 * when the owner says they are past (mw_hour_counts_expire, from its
 * watermark), never because other records ran ahead, so the counts do not
 * depend on the order records arrive in. A full table grows up to the cap.
 */
#include "baseline/hour_counts.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(const mw_hour_counts_t *h, uint64_t fp, int64_t hour)
{
    uint64_t x = fp ^ ((uint64_t)hour * 0x9e3779b97f4a7c15ULL);
    size_t i = x & (h->cap - 1);

    while (h->slots[i].fp != 0 && (h->slots[i].fp != fp || h->slots[i].hour != hour))
        i = (i + 1) & (h->cap - 1);
    return i;
}

static int rebuild(mw_hour_counts_t *h, size_t cap, int64_t oldest)
{
    mw_hour_counts_t n = *h;
    size_t i;

    n.slots = calloc(cap, sizeof(mw_hour_count_t));
    n.n = 0;
    n.cap = cap;
    if (n.slots == NULL)
        return -1;
    for (i = 0; i < h->cap; i++) {
        if (h->slots[i].fp == 0)
            continue;
        if (h->slots[i].hour < oldest) {
            if (h->on_drop != NULL)
                h->on_drop(h->drop_ctx, &h->slots[i]);
            continue;
        }
        n.slots[slot_of(&n, h->slots[i].fp, h->slots[i].hour)] = h->slots[i];
        n.n++;
    }
    free(h->slots);
    *h = n;
    return 0;
}

/* The most slots the byte cap allows (at least the first table of 1024). */
static size_t max_slots(const mw_hour_counts_t *h)
{
    uint64_t n = h->max_bytes ? h->max_bytes / sizeof(mw_hour_count_t) : MW_HOUR_COUNTS_MAX;

    return n < 1024 ? 1024 : (n > MW_HOUR_COUNTS_MAX ? MW_HOUR_COUNTS_MAX : (size_t)n);
}

/* Keeps the smallest flow ids (sorted): the same evidence whatever the arrival order. */
static void keep_id(mw_hour_count_t *e, uint64_t flow_id)
{
    uint32_t i;

    if (e->nids == MW_HOUR_KEEP_IDS) {
        if (flow_id >= e->ids[e->nids - 1])
            return;
        e->nids--;
    }
    for (i = e->nids; i > 0 && e->ids[i - 1] > flow_id; i--)
        e->ids[i] = e->ids[i - 1];
    e->ids[i] = flow_id;
    e->nids++;
}

mw_hour_count_t *mw_hour_counts_add(
        mw_hour_counts_t *h, uint64_t fp, int64_t t_us, int64_t end_us, uint64_t flow_id)
{
    int64_t hour = t_us >= 0 ? t_us / MW_HOUR_US : (t_us - MW_HOUR_US + 1) / MW_HOUR_US;
    mw_hour_count_t *e;

    fp |= 1; /* 0 marks an empty slot */
    if (hour > h->newest_hour)
        h->newest_hour = hour;
    if (h->cap == 0 && rebuild(h, 1024, INT64_MIN) != 0)
        return NULL;
    if ((h->n + 1) * 4 > h->cap * 3 &&
            (h->cap * 2 > max_slots(h) || rebuild(h, h->cap * 2, INT64_MIN) != 0)) {
        h->dropped++;
        return NULL;
    }
    e = &h->slots[slot_of(h, fp, hour)];
    if (e->fp == 0) {
        memset(e, 0, sizeof(*e));
        e->fp = fp;
        e->hour = hour;
        e->first_us = t_us;
        e->last_us = end_us;
        h->n++;
    }
    e->count++;
    if (t_us < e->first_us)
        e->first_us = t_us;
    if (end_us > e->last_us)
        e->last_us = end_us;
    keep_id(e, flow_id);
    return e;
}

void mw_hour_counts_expire(mw_hour_counts_t *h, int64_t before_us)
{
    int64_t oldest =
            before_us >= 0 ? before_us / MW_HOUR_US : (before_us - MW_HOUR_US + 1) / MW_HOUR_US;

    if (h->cap > 0)
        rebuild(h, h->cap, oldest);
}

void mw_hour_counts_drain(mw_hour_counts_t *h)
{
    size_t i;

    for (i = 0; i < h->cap; i++)
        if (h->slots[i].fp != 0 && h->on_drop != NULL)
            h->on_drop(h->drop_ctx, &h->slots[i]);
}

void mw_hour_counts_free(mw_hour_counts_t *h)
{
    free(h->slots);
    h->slots = NULL;
    h->n = h->cap = 0;
    h->newest_hour = 0;
}
