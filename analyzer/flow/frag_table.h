/*
 * frag_table.h - remembers the ports of first IP fragments so that the
 * later fragments of the same datagram, which carry no transport header,
 * can be accounted to their flow. Without it, fragmenting an upload hid
 * all but its first fragments from the flow's packets and bytes.
 *
 * A datagram is (source, destination, protocol, IP identification) plus a
 * tunnel context (0 outside tunnels). Memory is a fixed table sized in
 * bytes at creation; entries live timeout_us of packet time. One table per
 * thread (the reader); nothing is locked.
 */
#ifndef MW_FRAG_TABLE_H
#define MW_FRAG_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "decode/packet.h"

typedef struct mw_frag_table_params {
    size_t max_bytes;   /* memory cap of the table; at least one bucket is kept */
    int64_t timeout_us; /* how long a first fragment's ports are kept (packet time) */
} mw_frag_table_params_t;

typedef struct mw_frag_table_stats {
    uint64_t remembered; /* first fragments stored */
    uint64_t joined;     /* later fragments matched to their first fragment */
    uint64_t orphans;    /* later fragments with no first fragment (not seen, or expired) */
    uint64_t expired;    /* of the orphans: the first fragment was older than the timeout */
    uint64_t full;       /* first fragments that pushed out a live entry (table full) */
} mw_frag_table_stats_t;

typedef struct mw_frag_table mw_frag_table_t;

mw_frag_table_t *mw_frag_table_create(
        const mw_frag_table_params_t *params, char *errbuf, size_t errlen);
void mw_frag_table_destroy(mw_frag_table_t *t); /* NULL-safe */

/* Remembers the ports of first fragment l3 (l3->frag == MW_FRAG_FIRST); tag is returned
 * to the later fragments (the engine keeps whether the datagram was a tunnel packet). */
void mw_frag_table_remember(
        mw_frag_table_t *t, const mw_l3_t *l3, uint64_t ctx, uint8_t tag, int64_t now_us);

/* For later fragment l3: sets its ports from the first fragment and returns 1 (and *tag),
 * or returns 0 (an orphan, counted) and leaves the ports 0. */
int mw_frag_table_join(
        mw_frag_table_t *t, mw_l3_t *l3, uint64_t ctx, int64_t now_us, uint8_t *tag /* OUT */);

void mw_frag_table_get_stats(const mw_frag_table_t *t, mw_frag_table_stats_t *out /* OUT */);

#endif
