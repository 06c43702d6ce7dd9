/*
 * frag_table.c - a set-associative cache of first-fragment ports.
 *
 * Buckets of MW_FRAG_WAYS entries, as many as max_bytes holds (a power of
 * two). A first fragment takes a free or expired way of its bucket, else the
 * oldest one (counted as "full"): the newest datagrams matter most, and a
 * lookup never walks more than one bucket. Entries are not removed when the
 * last fragment arrives - fragments may come in any order - they just age
 * out. Fragments of one datagram normally arrive within milliseconds, so a
 * few seconds of packet time are plenty.
 * specification: RFC 791 (identification, MF, fragment offset), RFC 8200 §4.5
 */
#include "flow/frag_table.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/mw.h"

#define MW_FRAG_WAYS 4

typedef struct frag_key {
    uint8_t src[16], dst[16];
    uint64_t ctx;
    uint32_t id;
    uint8_t proto, version;
    uint8_t pad_[2];
} frag_key_t;

typedef struct frag_entry {
    frag_key_t key;
    int64_t ts_us; /* 0 = free */
    uint16_t sport, dport;
    uint8_t tag;
} frag_entry_t;

struct mw_frag_table {
    mw_frag_table_params_t params;
    frag_entry_t *entries; /* nbuckets * MW_FRAG_WAYS */
    uint64_t bucket_mask;
    mw_frag_table_stats_t stats;
};

mw_frag_table_t *mw_frag_table_create(
        const mw_frag_table_params_t *params, char *errbuf, size_t errlen)
{
    mw_frag_table_t *t;
    uint64_t nb = 1;

    if (params == NULL || params->timeout_us <= 0) {
        mw_fmt_err(errbuf, errlen, "fragment table: invalid parameters");
        return NULL;
    }
    while (nb * 2 * MW_FRAG_WAYS * sizeof(frag_entry_t) <= params->max_bytes && nb < (1u << 24))
        nb *= 2;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        goto fail;
    t->entries = calloc(nb * MW_FRAG_WAYS, sizeof(frag_entry_t));
    if (t->entries == NULL) {
        free(t);
        goto fail;
    }
    t->params = *params;
    t->bucket_mask = nb - 1;
    return t;
fail:
    mw_fmt_err(errbuf, errlen, "fragment table: out of memory for %zu bytes", params->max_bytes);
    return NULL;
}

void mw_frag_table_destroy(mw_frag_table_t *t)
{
    if (t == NULL)
        return;
    free(t->entries);
    free(t);
}

static void make_key(frag_key_t *k, const mw_l3_t *l3, uint64_t ctx)
{
    memset(k, 0, sizeof(*k)); /* padding too: compared as bytes */
    memcpy(k->src, l3->src, 16);
    memcpy(k->dst, l3->dst, 16);
    k->ctx = ctx;
    k->id = l3->frag_id;
    k->proto = l3->l4_proto;
    k->version = l3->ip_version;
}

static frag_entry_t *bucket_of(mw_frag_table_t *t, const frag_key_t *k)
{
    return &t->entries[(XXH3_64bits(k, sizeof(*k)) & t->bucket_mask) * MW_FRAG_WAYS];
}

static int expired(const mw_frag_table_t *t, const frag_entry_t *e, int64_t now_us)
{
    return now_us - e->ts_us > t->params.timeout_us;
}

void mw_frag_table_remember(
        mw_frag_table_t *t, const mw_l3_t *l3, uint64_t ctx, uint8_t tag, int64_t now_us)
{
    frag_key_t k;
    frag_entry_t *b, *slot = NULL;
    unsigned i;

    make_key(&k, l3, ctx);
    b = bucket_of(t, &k);
    for (i = 0; i < MW_FRAG_WAYS; i++) {
        if (b[i].ts_us != 0 && memcmp(&b[i].key, &k, sizeof(k)) == 0) {
            slot = &b[i]; /* the identification was reused: the newer datagram wins */
            break;
        }
    }
    for (i = 0; slot == NULL && i < MW_FRAG_WAYS; i++)
        if (b[i].ts_us == 0 || expired(t, &b[i], now_us))
            slot = &b[i];
    if (slot == NULL) {
        slot = &b[0];
        for (i = 1; i < MW_FRAG_WAYS; i++)
            if (b[i].ts_us < slot->ts_us)
                slot = &b[i];
        t->stats.full++;
    }
    slot->key = k;
    slot->ts_us = now_us != 0 ? now_us : 1;
    slot->sport = l3->sport;
    slot->dport = l3->dport;
    slot->tag = tag;
    t->stats.remembered++;
}

int mw_frag_table_join(mw_frag_table_t *t, mw_l3_t *l3, uint64_t ctx, int64_t now_us, uint8_t *tag)
{
    frag_key_t k;
    frag_entry_t *b;
    unsigned i;

    make_key(&k, l3, ctx);
    b = bucket_of(t, &k);
    for (i = 0; i < MW_FRAG_WAYS; i++) {
        if (b[i].ts_us == 0 || memcmp(&b[i].key, &k, sizeof(k)) != 0)
            continue;
        if (expired(t, &b[i], now_us)) {
            t->stats.expired++;
            break;
        }
        l3->sport = b[i].sport;
        l3->dport = b[i].dport;
        *tag = b[i].tag;
        t->stats.joined++;
        return 1;
    }
    t->stats.orphans++;
    *tag = 0;
    return 0;
}

void mw_frag_table_get_stats(const mw_frag_table_t *t, mw_frag_table_stats_t *out)
{
    *out = t->stats;
}
