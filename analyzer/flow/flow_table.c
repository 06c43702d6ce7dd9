/*
 * flow_table.c - hash table with chaining plus an LRU list.
 *
 * Flows come from a per-table pool (core/pool.c: huge-page blocks, no
 * malloc per flow) and go back to it, up to max_flows. The buckets start
 * small and double whenever the flows in the table outnumber them, so a
 * quiet link does not pay for the cache misses of a table sized for the
 * cap. Two LRU lists double as idle
 * queues, one per idle timeout (open TCP connections wait longer than the
 * rest): with packets in time order a list's tail is its flow idle the
 * longest, so expiry stops at the first flow that is still active.
 *
 * Record splitting is decided from the flow's own packets only (idle gap,
 * active timeout, new SYN after FIN/RST), never from which other flows
 * share the table, so the flows written do not depend on the thread count.
 */
#include "flow/flow_table.h"

#include <stdlib.h>
#include <string.h>

#include "core/mw.h"
#include "core/pool.h"

struct mw_flow_table {
    mw_flow_table_params_t params;
    mw_flow_t **buckets;
    uint64_t bucket_mask, max_buckets;
    mw_flow_t *lru_head[2], *lru_tail[2]; /* [0] short idle, [1] open TCP */
    int64_t idle_us[2];
    mw_pool_t *pool;
    mw_flow_table_stats_t stats;
};

#define MIN_BUCKETS 1024u

mw_flow_table_t *mw_flow_table_create(
        const mw_flow_table_params_t *params, char *errbuf, size_t errlen)
{
    mw_flow_table_t *t;
    uint64_t max_buckets = MIN_BUCKETS;

    if (params == NULL || params->max_flows == 0 || params->emit == NULL ||
            params->idle_timeout_us <= 0 || params->active_timeout_us <= 0) {
        mw_fmt_err(errbuf, errlen, "flow table: invalid parameters");
        return NULL;
    }
    while (max_buckets < params->max_flows && max_buckets < (1u << 30))
        max_buckets <<= 1;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        goto fail;
    t->max_buckets = max_buckets;
    t->bucket_mask = MW_MIN(max_buckets, (uint64_t)MIN_BUCKETS) - 1;
    t->buckets = calloc(t->bucket_mask + 1, sizeof(*t->buckets));
    t->pool = mw_pool_create(sizeof(mw_flow_t));
    if (t->buckets == NULL || t->pool == NULL)
        goto fail;
    t->params = *params;
    t->idle_us[0] = params->idle_timeout_us;
    /* open TCP connections never wait less than everything else */
    t->idle_us[1] = MW_MAX(params->tcp_idle_timeout_us, params->idle_timeout_us);
    return t;

fail:
    if (t != NULL) {
        free(t->buckets);
        mw_pool_destroy(t->pool);
        free(t);
    }
    mw_fmt_err(errbuf, errlen, "flow table: out of memory for %u flows", params->max_flows);
    return NULL;
}

void mw_flow_table_destroy(mw_flow_table_t *t)
{
    if (t == NULL)
        return;
    mw_pool_destroy(t->pool); /* every flow, live or free, at once */
    free(t->buckets);
    free(t);
}

/* Doubles the buckets when the flows outnumber them; without memory the chains just grow. */
static void grow_buckets(mw_flow_table_t *t)
{
    uint64_t n = (t->bucket_mask + 1) * 2, i;
    mw_flow_t **b;

    if (n > t->max_buckets || (b = calloc(n, sizeof(*b))) == NULL)
        return;
    for (i = 0; i <= t->bucket_mask; i++) {
        mw_flow_t *f = t->buckets[i];
        while (f != NULL) {
            mw_flow_t *next = f->hnext;
            f->hnext = b[f->hash & (n - 1)];
            b[f->hash & (n - 1)] = f;
            f = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->bucket_mask = n - 1;
}

/* Which idle class a flow is in: open TCP connections wait longer. */
static int lru_class(const mw_flow_t *f)
{
    return f->rec.l4_proto == 6 && f->fin_mask == 0;
}

static void lru_unlink(mw_flow_table_t *t, mw_flow_t *f)
{
    int c = f->lru_class;

    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        t->lru_head[c] = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        t->lru_tail[c] = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_push_head(mw_flow_table_t *t, mw_flow_t *f)
{
    int c = lru_class(f);

    f->lru_class = (uint8_t)c;
    f->lru_prev = NULL;
    f->lru_next = t->lru_head[c];
    if (t->lru_head[c])
        t->lru_head[c]->lru_prev = f;
    t->lru_head[c] = f;
    if (t->lru_tail[c] == NULL)
        t->lru_tail[c] = f;
}

/* The least recently used flow of both lists, NULL when empty. */
static mw_flow_t *lru_oldest(const mw_flow_table_t *t)
{
    mw_flow_t *a = t->lru_tail[0], *b = t->lru_tail[1];

    if (a == NULL)
        return b;
    if (b == NULL)
        return a;
    return a->rec.last_us <= b->rec.last_us ? a : b;
}

static void bucket_unlink(mw_flow_table_t *t, mw_flow_t *f)
{
    mw_flow_t **pp = &t->buckets[f->hash & t->bucket_mask];

    while (*pp != NULL && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp == f)
        *pp = f->hnext;
}

/*
 * Was the record's packet carried in a tunnel? GTP-U inner flows and plain
 * flows inside IP-in-IP count the carried IP packet (the tunnel record has
 * the wire bytes) and take the odd flow id, since the tunnel record of the
 * same first frame has the even one.
 */
static int is_carried(uint8_t kind, uint64_t tunnel_flow_id)
{
    return kind == MW_FLOW_INNER || tunnel_flow_id != 0;
}

/* Starts a fresh record on flow f from packet p; labels are kept by the caller.
 * The opener is the packet's sender, or its receiver when the packet answers
 * a handshake (SYN-ACK, INIT-ACK, echo reply): on a one-way port or a
 * capture that began a packet late that is still the right side. */
static void record_start(mw_flow_t *f, const mw_packet_t *p, const mw_l3_t *l3, int src_is_a,
        uint8_t kind, uint64_t tunnel_flow_id)
{
    mw_flow_record_t *r = &f->rec;
    /* without a handshake, an FTP control session's announcement says who listens; a
     * refusal (RST, ABORT, port unreachable) answers what its receiver sent, unseen here */
    int answer = l3->handshake == MW_HS_ACCEPT ||
                 (l3->handshake == MW_HS_NONE && p->ftp_data == MW_LISTENER_SRC) ||
                 l3->refusal != MW_REFUSAL_NONE;
    int i;

    memset(r, 0, sizeof(*r));
    r->flow_id = p->frame * 2 + (is_carried(kind, tunnel_flow_id) ? 1 : 0);
    r->tunnel_flow_id = tunnel_flow_id;
    r->first_us = r->last_us = p->ts_us;
    mw_addr_split(answer ? l3->dst : l3->src, &r->src_hi, &r->src_lo);
    mw_addr_split(answer ? l3->src : l3->dst, &r->dst_hi, &r->dst_lo);
    r->src_port = answer ? l3->dport : l3->sport;
    r->dst_port = answer ? l3->sport : l3->dport;
    r->ip_version = l3->ip_version;
    r->l4_proto = l3->l4_proto;
    r->kind = kind;
    r->vlan_outer = p->vlan_count > 0 ? p->vlan[0] : 0;
    r->vlan_inner = p->vlan_count > 1 ? p->vlan[1] : 0;
    r->mpls_label = p->mpls_label;
    r->orient = l3->handshake != MW_HS_NONE       ? MW_ORIENT_HANDSHAKE
                : p->ftp_data != MW_LISTENER_NONE ? MW_ORIENT_PORT
                                                  : MW_ORIENT_FIRST_PACKET;
    /* TCP and SCTP show their opening (SYN, or the SYN-ACK a packet late); other protocols
     * start with their first packet, unless it says it answers (a DNS response, an NTP
     * server's reply, an echo reply): the request before it was missed */
    {
        int connection = l3->l4_proto == 6 || l3->l4_proto == 132;
        r->start_seen = l3->refusal == MW_REFUSAL_NONE &&
                        (l3->handshake == MW_HS_OPEN ||
                                (l3->handshake == MW_HS_ACCEPT ? connection : !connection));
    }
    f->a_is_initiator = (uint8_t)(answer ? !src_is_a : src_is_a);
    f->fin_mask = 0;
    for (i = 0; i < 2; i++) {
        mw_running_stats_init(&f->len[i]);
        mw_running_stats_init(&f->iat[i]);
        f->last_dir_us[i] = 0;
    }
}

/* Continues a flow in a new record (active timeout): same initiator and labels. */
static void record_continue(mw_flow_t *f, const mw_packet_t *p)
{
    mw_flow_record_t keep = f->rec;
    mw_flow_record_t *r = &f->rec;
    int i;

    memset(&r->c2s, 0, sizeof(r->c2s));
    memset(&r->s2c, 0, sizeof(r->s2c));
    r->flow_id = p->frame * 2 + (is_carried(keep.kind, keep.tunnel_flow_id) ? 1 : 0);
    r->first_us = r->last_us = p->ts_us;
    r->start_seen = 0; /* a continuation, not a new session */
    r->continued = 1;
    r->tunnels = 0;       /* the new record counts its own tunnels from its first packet on */
    r->dns_max_label = 0; /* and its own DNS questions */
    for (i = 0; i < 2; i++) {
        mw_running_stats_init(&f->len[i]);
        mw_running_stats_init(&f->iat[i]);
        f->last_dir_us[i] = 0;
    }
}

void mw_flow_note_tunnel(mw_flow_t *f, uint64_t tunnel_key, uint64_t tunnel_flow_id)
{
    mw_flow_record_t *r = &f->rec;
    unsigned i, known = MW_MIN(r->tunnels, (unsigned)MW_FLOW_TUNNEL_KEYS);

    if (r->tunnels == 0)
        r->tunnel_flow_id = tunnel_flow_id; /* a continued record links its own first tunnel */
    for (i = 0; i < known; i++) {
        if (f->tunnel_keys[i] == tunnel_key) {
            /* the newest tunnel may have moved on to a new record (active timeout) */
            if (i == known - 1)
                r->last_tunnel_flow_id = tunnel_flow_id;
            return;
        }
    }
    /* A new tunnel: the last one to join is the one to show, not the tunnel of the last
     * packet - with uplink and downlink in two tunnels that would flip at every packet. */
    r->last_tunnel_flow_id = tunnel_flow_id;
    if (r->tunnels < MW_FLOW_TUNNEL_KEYS)
        f->tunnel_keys[r->tunnels] = tunnel_key;
    if (r->tunnels < UINT16_MAX)
        r->tunnels++;
}

static void emit(mw_flow_table_t *t, mw_flow_t *f, enum mw_end_reason reason)
{
    mw_flow_finalize_record(f);
    f->rec.end_reason = (uint8_t)reason;
    t->stats.emitted++;
    t->params.emit(t->params.emit_ctx, f, reason);
}

static void remove_flow(mw_flow_table_t *t, mw_flow_t *f, enum mw_end_reason reason)
{
    emit(t, f, reason);
    lru_unlink(t, f);
    bucket_unlink(t, f);
    f->user = NULL;
    mw_pool_put(t->pool, f);
    t->stats.active--;
}

static mw_flow_t *alloc_flow(mw_flow_table_t *t)
{
    mw_flow_t *f;

    if (t->stats.active >= t->params.max_flows && lru_oldest(t) != NULL) {
        remove_flow(t, lru_oldest(t), MW_END_EVICTED);
        t->stats.evicted++;
    }
    f = mw_pool_get(t->pool);
    if (f != NULL)
        memset(f, 0, sizeof(*f));
    return f;
}

static void account(mw_flow_t *f, const mw_packet_t *p, const mw_l3_t *l3, int dir)
{
    mw_dir_stats_t *ds = dir == 0 ? &f->rec.c2s : &f->rec.s2c;
    /* Carried flows count their IP bytes; others the frame on the wire. */
    uint32_t len = is_carried(f->rec.kind, f->rec.tunnel_flow_id) ? l3->ip_len : p->wirelen;

    /* a datagram put back together counts its fragments; a flow it carries, the one packet */
    ds->packets += is_carried(f->rec.kind, f->rec.tunnel_flow_id) ? 1u : mw_packet_frames(p);
    ds->bytes += len;
    ds->tcp_flags |= l3->tcp_flags;
    mw_running_stats_add(&f->len[dir], (double)len);
    if (f->last_dir_us[dir] != 0) {
        int64_t gap = p->ts_us - f->last_dir_us[dir];
        mw_running_stats_add(&f->iat[dir], gap > 0 ? (double)gap / 1000.0 : 0.0);
    }
    f->last_dir_us[dir] = p->ts_us;
    if (p->ts_us > f->rec.last_us)
        f->rec.last_us = p->ts_us;
    if (f->rec.kind != MW_FLOW_PLAIN && p->teid != 0) {
        uint32_t *teid = dir == 0 ? &f->rec.teid_c2s : &f->rec.teid_s2c;
        if (*teid == 0)
            *teid = p->teid;
    }
    /* a side that sent nothing but refusals refused the session (a scanned port's RST or
     * port unreachable); one packet of anything else from it and it took part. A refusal
     * answers what the other side sent: with nothing from there yet it refuses nothing */
    if (l3->refusal != MW_REFUSAL_NONE && (f->other_dirs & (1u << (1 - dir))))
        f->refusal_dirs |= (uint8_t)(1u << dir);
    else
        f->other_dirs |= (uint8_t)(1u << dir);
    if (l3->sctp_ppid != 0 && f->rec.sctp_ppid == 0)
        f->rec.sctp_ppid = l3->sctp_ppid;
    if (l3->l4_proto == 6) {
        if (l3->tcp_flags & 0x01)
            f->fin_mask |= (uint8_t)(dir == 0 ? 1 : 2);
        if (l3->tcp_flags & 0x04)
            f->fin_mask |= 4;
    }
}

/* Should this packet close the flow's record before it is accounted? */
static int must_split(const mw_flow_table_t *t, const mw_flow_t *f, const mw_packet_t *p,
        const mw_l3_t *l3, enum mw_end_reason *reason)
{
    if (p->ts_us - f->rec.last_us > t->idle_us[lru_class(f)]) {
        *reason = MW_END_IDLE;
        return 1;
    }
    /* A new SYN on a closed connection is a new connection (port reuse). */
    if (l3->l4_proto == 6 && (l3->tcp_flags & 0x12) == 0x02 &&
            ((f->fin_mask & 3) == 3 || (f->fin_mask & 4))) {
        *reason = MW_END_TCP_CLOSE;
        return 1;
    }
    return 0;
}

mw_flow_t *mw_flow_table_account(mw_flow_table_t *t, const mw_packet_t *p, const mw_l3_t *l3,
        uint8_t kind, uint64_t tunnel_ctx, uint64_t tunnel_flow_id, int *dir)
{
    mw_flow_key_t key;
    int a_is_src;

    mw_flow_key_make(&key, p, l3, kind, tunnel_ctx, &a_is_src);
    return mw_flow_table_account_key(
            t, p, l3, &key, mw_flow_key_hash(&key), a_is_src, tunnel_flow_id, dir);
}

/* Whether a packet at ts starts a new record of f: active_timeout after the record's first
 * packet, or, aligned, in a later multiple of it (records then never span a window's edge,
 * so a window holds the bytes sent in it; a packet from before the record's own slot, the
 * clock going back, is no reason to cut). */
static int active_cut_due(const mw_flow_table_t *t, const mw_flow_t *f, int64_t ts)
{
    int64_t every = t->params.active_timeout_us;

    if (t->params.active_aligned)
        return mw_floor_div(ts, every) > mw_floor_div(f->rec.first_us, every);
    return ts - f->rec.first_us > every;
}

mw_flow_t *mw_flow_table_account_key(mw_flow_table_t *t, const mw_packet_t *p, const mw_l3_t *l3,
        const mw_flow_key_t *key, uint64_t hash, int a_is_src, uint64_t tunnel_flow_id, int *dir)
{
    uint8_t kind = key->kind;
    mw_flow_t *f;
    enum mw_end_reason reason;

    for (f = t->buckets[hash & t->bucket_mask]; f != NULL; f = f->hnext)
        if (f->hash == hash && mw_flow_key_equal(&f->key, key))
            break;

    if (f != NULL && must_split(t, f, p, l3, &reason)) {
        remove_flow(t, f, reason);
        f = NULL;
    }
    if (f == NULL) {
        f = alloc_flow(t);
        if (f == NULL)
            return NULL;
        f->key = *key;
        f->hash = hash;
        f->hnext = t->buckets[hash & t->bucket_mask];
        t->buckets[hash & t->bucket_mask] = f;
        record_start(f, p, l3, a_is_src, kind, tunnel_flow_id);
        t->stats.created++;
        if (++t->stats.active > t->bucket_mask + 1)
            grow_buckets(t);
        if (t->stats.active > t->stats.peak)
            t->stats.peak = t->stats.active;
    } else {
        lru_unlink(t, f);
        if (active_cut_due(t, f, p->ts_us)) {
            emit(t, f, MW_END_ACTIVE);
            record_continue(f, p);
        }
    }
    *dir = (a_is_src == f->a_is_initiator) ? 0 : 1;
    account(f, p, l3, *dir);
    lru_push_head(t, f); /* after account: a FIN moves the flow to the short list */
    return f;
}

void mw_flow_table_expire(mw_flow_table_t *t, int64_t now_us)
{
    int c;

    /* a flow whose last packet is far AHEAD of now (a bogus future timestamp, or time went
     * back) is as stale as an idle one: left at the tail it would stop expiry for good */
    for (c = 0; c < 2; c++)
        while (t->lru_tail[c] != NULL &&
                (now_us - t->lru_tail[c]->rec.last_us > t->idle_us[c] ||
                        t->lru_tail[c]->rec.last_us - now_us > t->idle_us[c]))
            remove_flow(t, t->lru_tail[c], MW_END_IDLE);
}

void mw_flow_table_flush(mw_flow_table_t *t, enum mw_end_reason reason)
{
    mw_flow_t *f;

    /* Oldest first, so records come out roughly in time order. */
    while ((f = lru_oldest(t)) != NULL)
        remove_flow(t, f, reason);
}

void mw_flow_table_get_stats(const mw_flow_table_t *t, mw_flow_table_stats_t *out)
{
    *out = t->stats;
}

static void finalize_dir(
        mw_dir_stats_t *ds, const mw_running_stats_t *len, const mw_running_stats_t *iat)
{
    ds->len_min = (float)len->min;
    ds->len_mean = (float)len->mean;
    ds->len_std = (float)mw_running_stats_stddev(len);
    ds->len_max = (float)len->max;
    ds->iat_min = (float)iat->min;
    ds->iat_mean = (float)iat->mean;
    ds->iat_std = (float)mw_running_stats_stddev(iat);
    ds->iat_max = (float)iat->max;
}

void mw_flow_finalize_record(mw_flow_t *f)
{
    unsigned only_refused = f->refusal_dirs & ~f->other_dirs;

    finalize_dir(&f->rec.c2s, &f->len[0], &f->iat[0]);
    finalize_dir(&f->rec.s2c, &f->len[1], &f->iat[1]);
    f->rec.refused_by = (only_refused & 2u)   ? MW_SIDE_DST
                        : (only_refused & 1u) ? MW_SIDE_SRC
                                              : MW_SIDE_NONE;
}
