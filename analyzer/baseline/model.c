/*
 * model.c - the in-memory baseline: a station table and an open-addressing
 * hash map of tuples (keys hashed with XXH3, zero-padded so equal keys hash
 * equally). Growth is capped at MW_MODEL_MAX_TUPLES. Stations are found by
 * id through a second open-addressing index (XXH3 of the id), so loading or
 * showing a model of 100k stations does not compare every id with every id.
 */
#include "baseline/model.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/mw.h"

typedef struct slot {
    mw_tuple_key_t key;
    mw_tuple_stats_t st;
    uint8_t used;
} slot_t;

struct mw_model {
    mw_model_meta_t meta;
    mw_station_t *stations;
    size_t nstations, cap_stations;
    uint32_t *sidx; /* station index + 1, 0 = empty; nsidx a power of two */
    size_t nsidx;
    slot_t *slots;
    size_t nslots, used; /* nslots: power of two */
};

mw_model_t *mw_model_create(int64_t window_us, char *errbuf, size_t errlen)
{
    mw_model_t *m = calloc(1, sizeof(*m));

    if (m == NULL)
        goto fail;
    m->nslots = 1024;
    m->slots = calloc(m->nslots, sizeof(*m->slots));
    if (m->slots == NULL) {
        free(m);
        goto fail;
    }
    m->meta.window_us = window_us;
    return m;
fail:
    mw_fmt_err(errbuf, errlen, "out of memory for a model");
    return NULL;
}

void mw_model_destroy(mw_model_t *m)
{
    if (m == NULL)
        return;
    free(m->stations);
    free(m->sidx);
    free(m->slots);
    free(m);
}

mw_model_meta_t *mw_model_meta(mw_model_t *m)
{
    return &m->meta;
}

const mw_model_meta_t *mw_model_meta_const(const mw_model_t *m)
{
    return &m->meta;
}

/* Ids are stored cut to MW_MODEL_ID_LEN - 1 bytes: hash and compare the same prefix. */
static size_t id_len(const char *id)
{
    return strnlen(id, MW_MODEL_ID_LEN - 1);
}

static size_t id_slot(const mw_model_t *m, const char *id, size_t len)
{
    size_t mask = m->nsidx - 1, h = (size_t)XXH3_64bits(id, len) & mask;

    while (m->sidx[h] != 0) {
        const char *have = m->stations[m->sidx[h] - 1].id;
        if (strlen(have) == len && memcmp(have, id, len) == 0)
            break;
        h = (h + 1) & mask;
    }
    return h;
}

/* Keeps the index at most half full; 0 or -1 (out of memory). */
static int grow_index(mw_model_t *m)
{
    size_t n = m->nsidx ? m->nsidx * 2 : 64, i;
    uint32_t *old = m->sidx;

    if (m->nsidx != 0 && (m->nstations + 1) * 2 <= m->nsidx)
        return 0;
    m->sidx = calloc(n, sizeof(*m->sidx));
    if (m->sidx == NULL) {
        m->sidx = old;
        return -1;
    }
    m->nsidx = n;
    free(old);
    for (i = 0; i < m->nstations; i++)
        m->sidx[id_slot(m, m->stations[i].id, strlen(m->stations[i].id))] = (uint32_t)i + 1;
    return 0;
}

const mw_station_t *mw_model_find_station(const mw_model_t *m, const char *id, uint32_t *index)
{
    size_t h;

    if (m->nsidx == 0)
        return NULL;
    h = id_slot(m, id, id_len(id));
    if (m->sidx[h] == 0)
        return NULL;
    if (index)
        *index = m->sidx[h] - 1;
    return &m->stations[m->sidx[h] - 1];
}

mw_station_t *mw_model_station(mw_model_t *m, const char *id, uint32_t *index)
{
    uint32_t i;
    mw_station_t *s;

    if (mw_model_find_station(m, id, &i) != NULL) {
        if (index)
            *index = i;
        return &m->stations[i];
    }
    if (m->nstations >= UINT32_MAX - 1 || grow_index(m) != 0)
        return NULL;
    if (m->nstations == m->cap_stations) {
        size_t cap = m->cap_stations ? m->cap_stations * 2 : 16;
        mw_station_t *n = realloc(m->stations, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        m->stations = n;
        m->cap_stations = cap;
    }
    s = &m->stations[m->nstations];
    memset(s, 0, sizeof(*s));
    memcpy(s->id, id, id_len(id));
    m->sidx[id_slot(m, s->id, strlen(s->id))] = (uint32_t)m->nstations + 1;
    if (index)
        *index = (uint32_t)m->nstations;
    m->nstations++;
    return s;
}

#define LEARNED_MIN_US      (20LL * 3600 * 1000000)
#define LEARNED_MIN_WINDOWS 24
#define LEARNED_MIN_HOURS   20

int mw_station_learned(const mw_station_t *s)
{
    int hours = 0, h;

    for (h = 0; h < MW_HOURS_OF_WEEK; h++)
        hours += s->how_flows[h] > 0;
    return mw_span_us(s->first_us, s->last_us) >= LEARNED_MIN_US &&
           s->win_up.n >= LEARNED_MIN_WINDOWS && hours >= LEARNED_MIN_HOURS;
}

size_t mw_model_station_count(const mw_model_t *m)
{
    return m->nstations;
}

const mw_station_t *mw_model_station_at(const mw_model_t *m, size_t i)
{
    return i < m->nstations ? &m->stations[i] : NULL;
}

static uint64_t key_hash(const mw_tuple_key_t *k)
{
    return XXH3_64bits(k, sizeof(*k));
}

static slot_t *find_slot(slot_t *slots, size_t nslots, const mw_tuple_key_t *key)
{
    size_t mask = nslots - 1, i = key_hash(key) & mask;

    while (slots[i].used && memcmp(&slots[i].key, key, sizeof(*key)) != 0)
        i = (i + 1) & mask;
    return &slots[i];
}

static int grow(mw_model_t *m)
{
    size_t n = m->nslots * 2, i;
    slot_t *slots = calloc(n, sizeof(*slots));

    if (slots == NULL)
        return MW_ENOMEM;
    for (i = 0; i < m->nslots; i++)
        if (m->slots[i].used)
            *find_slot(slots, n, &m->slots[i].key) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
    return 0;
}

mw_tuple_stats_t *mw_model_tuple(mw_model_t *m, const mw_tuple_key_t *key, int create)
{
    slot_t *s = find_slot(m->slots, m->nslots, key);

    if (s->used)
        return &s->st;
    if (!create || m->used >= MW_MODEL_MAX_TUPLES)
        return NULL;
    if ((m->used + 1) * 4 > m->nslots * 3) { /* keep the load under 3/4 */
        if (grow(m) != 0)
            return NULL;
        s = find_slot(m->slots, m->nslots, key);
    }
    s->used = 1;
    s->key = *key;
    memset(&s->st, 0, sizeof(s->st));
    m->used++;
    return &s->st;
}

const mw_tuple_stats_t *mw_model_lookup(const mw_model_t *m, const mw_tuple_key_t *key)
{
    slot_t *s = find_slot(m->slots, m->nslots, key);
    return s->used ? &s->st : NULL;
}

size_t mw_model_tuple_count(const mw_model_t *m)
{
    return m->used;
}

static const mw_model_t *sort_model; /* qsort has no context argument in C11 */

static int cmp_slot(const void *a, const void *b)
{
    const slot_t *x = *(slot_t *const *)a, *y = *(slot_t *const *)b;
    int c = strcmp(
            sort_model->stations[x->key.station].id, sort_model->stations[y->key.station].id);
    if (c != 0)
        return c;
    return memcmp(&x->key.peer, &y->key.peer, sizeof(x->key) - offsetof(mw_tuple_key_t, peer));
}

int mw_model_foreach_tuple(const mw_model_t *m, mw_tuple_fn fn, void *ctx)
{
    slot_t **order = malloc((m->used ? m->used : 1) * sizeof(*order));
    size_t i, n = 0;

    if (order == NULL)
        return MW_ENOMEM;
    for (i = 0; i < m->nslots; i++)
        if (m->slots[i].used)
            order[n++] = &m->slots[i];
    sort_model = m;
    qsort(order, n, sizeof(*order), cmp_slot);
    for (i = 0; i < n; i++)
        fn(ctx, &order[i]->key, &order[i]->st);
    free(order);
    return 0;
}

void mw_tuple_merge(mw_tuple_stats_t *into, const mw_tuple_stats_t *from)
{
    if (from->flows == 0)
        return;
    if (into->flows == 0 || from->first_us < into->first_us)
        into->first_us = from->first_us;
    if (into->flows == 0 || from->last_us > into->last_us)
        into->last_us = from->last_us;
    into->flows += from->flows;
    into->bytes_up += from->bytes_up;
    into->bytes_down += from->bytes_down;
    into->max_up = MW_MAX(into->max_up, from->max_up);
    into->max_down = MW_MAX(into->max_down, from->max_down);
    into->max_down_offwin = MW_MAX(into->max_down_offwin, from->max_down_offwin);
    into->max_duration_us = MW_MAX(into->max_duration_us, from->max_duration_us);
    into->max_pkt_len = MW_MAX(into->max_pkt_len, from->max_pkt_len);
    into->hours_mask |= from->hours_mask;
    into->risk_mask |= from->risk_mask;
    /* hours are clock-aligned: models of inputs split on hour boundaries merge exactly */
    into->max_flows_hour = MW_MAX(into->max_flows_hour, from->max_flows_hour);
}

void mw_station_merge(mw_station_t *into, const mw_station_t *from)
{
    int h;

    if (from->records == 0)
        return;
    if (into->records == 0 || from->first_us < into->first_us)
        into->first_us = from->first_us;
    if (into->records == 0 || from->last_us > into->last_us)
        into->last_us = from->last_us;
    if (into->type == 0)
        into->type = from->type;
    into->records += from->records;
    mw_series_merge(&into->win_flows, &from->win_flows);
    mw_series_merge(&into->win_up, &from->win_up);
    mw_series_merge(&into->win_down, &from->win_down);
    mw_series_merge(&into->win_peers, &from->win_peers);
    mw_series_merge(&into->win_ratio, &from->win_ratio);
    for (h = 0; h < MW_SVC_COUNT; h++) {
        mw_series_merge(&into->svc_up[h], &from->svc_up[h]);
        mw_series_merge(&into->svc_flows[h], &from->svc_flows[h]);
    }
    for (h = 0; h < MW_HOURS_OF_WEEK; h++) {
        into->how_flows[h] += from->how_flows[h];
        into->how_up[h] += from->how_up[h];
    }
    into->dns_max_name = MW_MAX(into->dns_max_name, from->dns_max_name);
    into->dns_max_label = MW_MAX(into->dns_max_label, from->dns_max_label);
}

int mw_model_merge(mw_model_t *into, const mw_model_t *from, char *errbuf, size_t errlen)
{
    uint32_t *map = malloc((from->nstations ? from->nstations : 1) * sizeof(*map));
    size_t i;

    if (map == NULL)
        goto nomem;
    if (into->meta.window_us != from->meta.window_us) {
        free(map);
        mw_fmt_err(errbuf, errlen, "cannot merge models with different windows (%lld s and %lld s)",
                (long long)(into->meta.window_us / 1000000),
                (long long)(from->meta.window_us / 1000000));
        return MW_EINVAL;
    }
    for (i = 0; i < from->nstations; i++) {
        mw_station_t *s = mw_model_station(into, from->stations[i].id, &map[i]);
        if (s == NULL)
            goto nomem;
        mw_station_merge(s, &from->stations[i]);
    }
    for (i = 0; i < from->nslots; i++) {
        mw_tuple_key_t key;
        mw_tuple_stats_t *st;
        if (!from->slots[i].used)
            continue;
        key = from->slots[i].key;
        key.station = map[key.station];
        st = mw_model_tuple(into, &key, 1);
        if (st == NULL)
            goto nomem;
        mw_tuple_merge(st, &from->slots[i].st);
    }
    if (into->meta.first_us == 0 ||
            (from->meta.first_us && from->meta.first_us < into->meta.first_us))
        into->meta.first_us = from->meta.first_us;
    if (from->meta.last_us > into->meta.last_us)
        into->meta.last_us = from->meta.last_us;
    if (into->meta.ndpi_version[0] == '\0')
        memcpy(into->meta.ndpi_version, from->meta.ndpi_version, sizeof(into->meta.ndpi_version));
    if (into->meta.site[0] == '\0')
        memcpy(into->meta.site, from->meta.site, sizeof(into->meta.site));
    free(map);
    return 0;
nomem:
    free(map);
    mw_fmt_err(errbuf, errlen, "out of memory merging models (or more than %u tuples)",
            MW_MODEL_MAX_TUPLES);
    return MW_ENOMEM;
}
