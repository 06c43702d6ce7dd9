/*
 * flow_table.h - a bounded bidirectional flow table.
 *
 * The table owns its flows. A flow leaves the table only through the emit
 * callback (idle, active timeout, eviction, flush), which receives the
 * finished record and must release anything it attached to flow->user
 * (the worker keeps nDPI state there) - except for MW_END_ACTIVE, where the
 * flow stays in the table and continues in a new record. Memory is capped by max_flows: when
 * full, the least recently used flow is evicted and counted.
 * One table per thread; nothing here is shared or locked.
 */
#ifndef MW_FLOW_TABLE_H
#define MW_FLOW_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "decode/packet.h"
#include "flow/flow_key.h"
#include "flow/dns_stream.h"
#include "flow/flow_record.h"
#include "flow/flow_stats.h"

/* Distinct tunnels remembered per flow; more are counted, not told apart. */
#define MW_FLOW_TUNNEL_KEYS 4

typedef struct mw_flow {
    mw_flow_key_t key;
    uint64_t hash;
    struct mw_flow *hnext;               /* hash bucket chain */
    struct mw_flow *lru_prev, *lru_next; /* most recent at head */
    mw_flow_record_t rec;                /* the record being built */
    mw_running_stats_t len[2], iat[2];   /* [0] c2s, [1] s2c */
    int64_t last_dir_us[2];
    uint8_t a_is_initiator;    /* key endpoint a is the record's src */
    unsigned fin_mask : 3;     /* bit 0: FIN c2s, bit 1: FIN s2c, bit 2: RST */
    unsigned refusal_dirs : 2; /* bit dir: a refusal went that way (bit-fields: no */
    unsigned other_dirs : 2;   /* byte more per flow), or any other packet did */
    uint8_t lru_class;         /* which LRU list holds the flow */
    uint8_t host_tries;        /* payload packets searched for a host name */
    uint32_t user_packets;     /* packets handed to the classifier */
    void *user;                /* owned by the table's user (nDPI state) */
    mw_dns_tcp_t dns_queries;  /* DNS over TCP: where the next query begins */
    uint64_t tunnel_keys[MW_FLOW_TUNNEL_KEYS]; /* tunnels that carried this record */
} mw_flow_t;

typedef void (*mw_flow_emit_fn)(void *ctx, mw_flow_t *flow, enum mw_end_reason reason);

typedef struct mw_flow_table_params {
    uint32_t max_flows;          /* hard cap; >= 1 */
    int64_t idle_timeout_us;     /* > 0 */
    int64_t tcp_idle_timeout_us; /* open TCP connections (no FIN/RST); 0 = idle_timeout_us */
    int64_t active_timeout_us;   /* > 0 */
    int active_aligned;   /* cut where packet time crosses a multiple of it (a window's edge) */
    mw_flow_emit_fn emit; /* required */
    void *emit_ctx;
} mw_flow_table_params_t;

typedef struct mw_flow_table_stats {
    uint64_t created;
    uint64_t evicted; /* pushed out by the max_flows cap */
    uint64_t emitted;
    uint32_t active; /* flows in the table now */
    uint32_t peak;
} mw_flow_table_stats_t;

typedef struct mw_flow_table mw_flow_table_t;

mw_flow_table_t *mw_flow_table_create(
        const mw_flow_table_params_t *params, char *errbuf, size_t errlen);
void mw_flow_table_destroy(mw_flow_table_t *table); /* NULL-safe; flows are dropped, not emitted */

/*
 * Accounts packet p (layer l3) to its flow, creating, splitting or evicting
 * as needed. kind/tunnel_ctx/tunnel_flow_id describe the tunnel context.
 * Returns the flow and sets *dir (0 = c2s, 1 = s2c); NULL only when
 * allocation failed (counted by the caller).
 */
mw_flow_t *mw_flow_table_account(mw_flow_table_t *table, const mw_packet_t *p, const mw_l3_t *l3,
        uint8_t kind, uint64_t tunnel_ctx, uint64_t tunnel_flow_id, int *dir /* OUT */);

/* The same with the packet's canonical key, its hash and a_is_src already computed
 * (mw_flow_key_make, mw_flow_key_hash): the dispatcher computed them once already. */
mw_flow_t *mw_flow_table_account_key(mw_flow_table_t *table, const mw_packet_t *p,
        const mw_l3_t *l3, const mw_flow_key_t *key, uint64_t hash, int a_is_src,
        uint64_t tunnel_flow_id, int *dir /* OUT */);

/* Emits every flow idle at now_us. Cheap when nothing expired. */
void mw_flow_table_expire(mw_flow_table_t *table, int64_t now_us);

/* Emits every flow with the given reason (end of input, shutdown). */
void mw_flow_table_flush(mw_flow_table_t *table, enum mw_end_reason reason);

void mw_flow_table_get_stats(const mw_flow_table_t *table, mw_flow_table_stats_t *out /* OUT */);

/*
 * Notes that the tunnel identified by tunnel_key (a hash of the tunnel flow's
 * key, the same for every record of that tunnel), now in its record
 * tunnel_flow_id, carried a packet of flow: counts distinct tunnels in
 * rec.tunnels (exact up to MW_FLOW_TUNNEL_KEYS, then every unknown key
 * counts) and keeps the newest tunnel's record in rec.last_tunnel_flow_id.
 */
void mw_flow_note_tunnel(mw_flow_t *flow, uint64_t tunnel_key, uint64_t tunnel_flow_id);

/* Copies the running statistics of flow into its record (float fields), and refused_by. */
void mw_flow_finalize_record(mw_flow_t *flow);

#endif
