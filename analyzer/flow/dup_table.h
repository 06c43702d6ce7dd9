/*
 * dup_table.h - finds copies of an IP packet seen moments before: a SPAN
 * port that mirrors both sides of a link (or a port's ingress and egress)
 * shows each packet twice, and every flow then counts twice its packets and
 * bytes. A copy is the same IP packet - its first 64 bytes and its length,
 * the TTL / hop limit and the IPv4 header checksum left out (a routed copy
 * differs in those alone) - within window_us of packet time. The table is
 * direct-mapped and fixed in size (32 kB): a packet pushed out before its copy came
 * leaves the copy uncounted. One table per reader thread; nothing is locked.
 */
#ifndef MW_DUP_TABLE_H
#define MW_DUP_TABLE_H

#include <stdint.h>

#include "decode/packet.h"

#define MW_DUP_WINDOW_US 2000 /* copies of one packet on a SPAN port come microseconds apart */

typedef struct mw_dup_table mw_dup_table_t;

mw_dup_table_t *mw_dup_table_create(int64_t window_us); /* NULL: out of memory */
void mw_dup_table_destroy(mw_dup_table_t *t);           /* NULL-safe */

/* The packet's hash as a copy of it would give it (never 0): l3 is an IP header decoded from
 * frame. Any thread (the range readers compute it ahead). */
uint64_t mw_dup_hash(const uint8_t *frame, const mw_l3_t *l3);

/* 1 when the packet of that hash is a copy of one seen within the window before ts_us;
 * else remembers it and returns 0. */
int mw_dup_table_seen(mw_dup_table_t *t, uint64_t hash, int64_t ts_us);

#endif
