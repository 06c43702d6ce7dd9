/*
 * dup_table.c - see dup_table.h. One hash a packet (XXH3 over at most 64
 * bytes, on the reader's thread); a slot holds the hash and when it was seen.
 */
#include "flow/dup_table.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "decode/decode.h"

#define SLOT_BITS  12
#define SLOTS      (1u << SLOT_BITS)
#define HASH_BYTES 64

/* 8 bytes a slot, so the table (32 kB) stays in the cache of a core that reads packets: the
 * hash's low half and the time in microseconds, wrapping every 71 minutes - a copy comes
 * within 2 ms, and a stale slot must also hold the same packet to pass for one. */
typedef struct slot {
    uint32_t tag; /* 0: empty */
    uint32_t ts_us;
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

/* The packet's bytes as a copy of it would carry them: no TTL or hop limit, no IPv4
 * header checksum (a router forwarding it changed both). What comes before them is the
 * seed, what comes after is hashed where it lies: nothing is copied. */
uint64_t mw_dup_hash(const uint8_t *frame, const mw_l3_t *l3)
{
    const uint8_t *b = frame + l3->l3_off;
    uint32_t n = l3->l3_len < HASH_BYTES ? l3->l3_len : HASH_BYTES;
    int v4 = l3->ip_version == 4;
    uint32_t skip = v4 ? 12 : 8; /* IPv4: up to TTL, protocol, checksum; IPv6: the hop limit */
    uint64_t head, h;

    if (n < skip) {
        h = XXH3_64bits_withSeed(b, n, l3->ip_len);
    } else {
        /* IPv4 bytes 0-7 (version to fragment offset) and the protocol; IPv6 bytes 0-6 */
        head = (uint64_t)mw_get_be32(b) << 32 | mw_get_be32(b + 4);
        head = v4 ? head ^ (uint64_t)b[9] << 8 : head & ~(uint64_t)0xff;
        h = XXH3_64bits_withSeed(b + skip, n - skip, head);
    }
    return h != 0 ? h : 1;
}

int mw_dup_table_seen(mw_dup_table_t *t, uint64_t h, int64_t ts_us)
{
    slot_t *s = &t->slots[h >> (64 - SLOT_BITS)];
    uint32_t tag = (uint32_t)h | 1u, now = (uint32_t)ts_us;

    if (s->tag == tag && now - s->ts_us <= (uint32_t)t->window_us)
        return 1;
    s->tag = tag;
    s->ts_us = now;
    return 0;
}
