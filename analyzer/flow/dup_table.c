/*
 * dup_table.c - see dup_table.h. One hash a packet (XXH3 over at most 128
 * bytes, on the reader's thread); a slot holds the hash and when it was seen.
 */
#include "flow/dup_table.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SLOT_BITS  12
#define SLOTS      (1u << SLOT_BITS)
#define HASH_BYTES 128

typedef struct slot {
    uint64_t hash; /* 0: empty */
    int64_t ts_us;
} slot_t;

struct mw_dup_table {
    int64_t window_us;
    slot_t slots[SLOTS];
};

mw_dup_table_t *mw_dup_table_create(int64_t window_us)
{
    mw_dup_table_t *t = calloc(1, sizeof(*t));

    if (t != NULL)
        t->window_us = window_us;
    return t;
}

void mw_dup_table_destroy(mw_dup_table_t *t)
{
    free(t);
}

size_t mw_dup_table_bytes(void)
{
    return sizeof(mw_dup_table_t);
}

/* The packet's bytes as a copy of it would carry them: no TTL or hop limit, no IPv4
 * header checksum (a router forwarding it changed both). */
uint64_t mw_dup_hash(const uint8_t *frame, const mw_l3_t *l3)
{
    uint8_t b[HASH_BYTES];
    uint32_t n = l3->l3_len < HASH_BYTES ? l3->l3_len : HASH_BYTES;
    uint64_t h;

    memcpy(b, frame + l3->l3_off, n);
    if (l3->ip_version == 4 && n >= 12) {
        b[8] = 0;
        b[10] = b[11] = 0;
    } else if (l3->ip_version == 6 && n >= 8) {
        b[7] = 0;
    }
    h = XXH3_64bits_withSeed(b, n, l3->ip_len);
    return h != 0 ? h : 1;
}

int mw_dup_table_seen(mw_dup_table_t *t, uint64_t h, int64_t ts_us)
{
    slot_t *s = &t->slots[h >> (64 - SLOT_BITS)];

    if (s->hash == h && ts_us >= s->ts_us && ts_us - s->ts_us <= t->window_us)
        return 1;
    s->hash = h;
    s->ts_us = ts_us;
    return 0;
}
