/*
 * reader.c - a reader's packet path (decode, tunnels, fragments, dispatch)
 * and the helper readers' threads of `capture --readers N`.
 */
#include "engine/reader.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "classify/classify_ndpi.h"
#include "classify/ftp_expect.h"
#include "classify/plane.h"
#include "core/addr.h"
#include "core/log.h"
#include "core/mw.h"

#define GTPU_PORT         2152
#define FRAG_TABLE_BYTES  (1u << 20) /* 16k datagrams in flight */
#define FRAG_TIMEOUT_US   5000000    /* fragments of a datagram come within milliseconds */
#define FRAG_TAG_TUNNEL   1          /* the datagram was a GTP-U, IP-in-IP or GRE tunnel packet */
#define DEFRAG_BYTES      (4u << 20) /* fragment frames held for reassembly, a reader */
#define DEFRAG_FRAGMENTS  1024       /* of one datagram: 8 kB in 8-byte pieces */
#define CLOCK_AHEAD_US    (86400LL * 1000000)
#define PACKET_TICK_US    1000000
#define HELPER_TICK_MS    1000 /* a helper's wall-clock tick on a quiet link */
#define HELPER_REOPEN_MS  2000 /* a helper's interface is opened again this often, as reader 0's */
#define HELPER_POLL_MS    100  /* a quiet helper looks at its stop flag this often */
#define STOP_DRAIN_MS     1000 /* a stop reads what the kernel already holds, this long at most */
#define DRAIN_EMPTY_READS 3    /* ... until this many reads in a row find nothing */
#define HELPER_POST       1024 /* packets between a helper's posted counters */

static void analyze_released(void *ctx, const mw_defrag_frame_t *fr);

static void on_tunnel_emit(void *ctx, mw_flow_t *f, enum mw_end_reason reason)
{
    mw_reader_t *rd = ctx;

    (void)reason;
    mw_record_batch_add(&rd->tunnel_batch, &f->rec);
}

static int is_gtp_u_tunnel(const mw_packet_t *p)
{
    return p->gtp_version == 1 && p->outer.l4_proto == 17 &&
           (p->outer.sport == GTPU_PORT || p->outer.dport == GTPU_PORT);
}

/* IP-in-IP or GRE whose outer header was decoded (the inner may have been broken, or
 * GRE carried no IP packet). */
static int is_ip_tunnel(const mw_packet_t *p)
{
    return p->outer.l4_proto == 4 || p->outer.l4_proto == 41 || p->outer.l4_proto == 47;
}

/* A packet of a tunnel the reader tracks (its outer flow is a tunnel record). */
static int is_tunnel(const mw_packet_t *p)
{
    return is_gtp_u_tunnel(p) || is_ip_tunnel(p);
}

static const struct mw_inventory *inventory_of(const mw_reader_shared_t *sh)
{
    return atomic_load_explicit(sh->inventory, memory_order_acquire);
}

static void assign_tunnel_plane(void *ctx, mw_flow_record_t *rec)
{
    mw_plane_assign(inventory_of(ctx), rec, NULL);
}

int mw_reader_open_tables(
        mw_reader_t *rd, mw_flow_sink_t *sink, uint32_t tunnel_flows, char *errbuf, size_t errlen)
{
    const mw_config_t *cfg = rd->sh->cfg;
    mw_flow_table_params_t tp = { .max_flows = tunnel_flows,
        .idle_timeout_us = cfg->idle_timeout_us,
        .tcp_idle_timeout_us = cfg->tcp_idle_timeout_us,
        .active_timeout_us = cfg->active_timeout_us,
        .active_aligned = cfg->active_aligned,
        .emit = on_tunnel_emit,
        .emit_ctx = rd };

    rd->tunnel_batch.sink = sink;
    rd->tunnel_batch.hook = assign_tunnel_plane;
    rd->tunnel_batch.hook_ctx = rd->sh;
    rd->tunnels = mw_flow_table_create(&tp, errbuf, errlen);
    if (rd->tunnels == NULL)
        return MW_ENOMEM;
    rd->frags = mw_frag_table_create(&(mw_frag_table_params_t){ .max_bytes = FRAG_TABLE_BYTES,
                                             .timeout_us = FRAG_TIMEOUT_US },
            errbuf, errlen);
    if (rd->frags == NULL)
        return MW_ENOMEM;
    rd->defrag = mw_defrag_create(&(mw_defrag_params_t){ .max_bytes = DEFRAG_BYTES,
                                          .timeout_us = FRAG_TIMEOUT_US,
                                          .max_fragments = DEFRAG_FRAGMENTS },
            analyze_released, rd, errbuf, errlen);
    if (rd->defrag == NULL)
        return MW_ENOMEM;
    rd->ftp = mw_ftp_expect_create();
    if (rd->ftp == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory for the FTP data table");
        return MW_ENOMEM;
    }
    rd->dups = mw_dup_table_create(MW_DUP_WINDOW_US);
    if (rd->dups == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory for the duplicate table");
        return MW_ENOMEM;
    }
    return 0;
}

void mw_reader_close_tables(mw_reader_t *rd)
{
    mw_flow_table_destroy(rd->tunnels);
    mw_frag_table_destroy(rd->frags);
    mw_defrag_destroy(rd->defrag);
    rd->defrag = NULL;
    mw_ftp_expect_destroy(rd->ftp);
    mw_dup_table_destroy(rd->dups);
    rd->dups = NULL;
    rd->tunnels = NULL;
    rd->frags = NULL;
    rd->ftp = NULL;
}

static void flow_ref_make(mw_flow_ref_t *ref, const mw_packet_t *p, const mw_l3_t *l3, uint8_t kind,
        uint64_t tunnel_ctx)
{
    int a_is_src;

    mw_flow_key_make(&ref->key, p, l3, kind, tunnel_ctx, &a_is_src);
    ref->hash = mw_flow_key_hash(&ref->key);
    ref->a_is_src = a_is_src;
    ref->pad_ = 0;
}

/* The same steps mw_reader_packet() takes, up to the tables: every choice here must be
 * the one it would make on the packet. */
void mw_reader_prepare(void *ctx, const mw_raw_packet_t *raw, void *out)
{
    mw_prepared_packet_t *pp = out;
    mw_packet_t *p = &pp->p;
    uint64_t tunnel_ctx = 0;

    p->ts_us = raw->ts_us;
    p->frame = 0; /* the reader numbers packets */
    p->wirelen = raw->wirelen;
    pp->rc = mw_decode_frame(raw->dlt, raw->data, raw->caplen, p);
    p->vlan_untracked = (uint8_t)(ctx != NULL && !((const mw_config_t *)ctx)->vlan_tracking);
    pp->tunnel_ctx = 0;
    pp->have_tunnel = pp->have_flow = 0;
    pp->copy_hash = pp->rc == MW_DEC_OK || pp->rc == MW_DEC_IP_FRAGMENT_LATER
                            ? mw_dup_hash(raw->data, &p->outer)
                            : 0;
    /* a later fragment's ports come from the fragment table: the reader makes its keys */
    if (pp->rc != MW_DEC_OK)
        return;
    if (!is_gtp_u_tunnel(p))
        p->has_gtp = 0;
    if (is_tunnel(p)) {
        flow_ref_make(&pp->tunnel, p, &p->outer, MW_FLOW_TUNNEL, 0);
        pp->have_tunnel = 1;
        if (!mw_packet_has_inner(p) || p->inner.frag == MW_FRAG_LATER)
            return;
        tunnel_ctx = p->has_gtp ? mw_flow_tunnel_ctx(p) : 0;
    }
    flow_ref_make(&pp->flow, p, mw_packet_flow_l3(p), mw_flow_kind_of(p), tunnel_ctx);
    pp->tunnel_ctx = tunnel_ctx;
    pp->have_flow = 1;
}

/* Accounts the outer tunnel flow; fills in what the inner flow needs of it, including
 * whether the packet goes up (sent by the base station) or down: the inner flow learns
 * from it which side is the subscriber. pre: the tunnel's key, NULL to compute it. */
static void track_tunnel(mw_reader_t *rd, const mw_packet_t *p, const mw_flow_ref_t *pre,
        mw_tunnel_ref_t *ref /* OUT */)
{
    const mw_reader_shared_t *sh = rd->sh;
    mw_flow_t *f;
    int dir;

    memset(ref, 0, sizeof(*ref));
    if (pre != NULL)
        f = mw_flow_table_account_key(
                rd->tunnels, p, &p->outer, &pre->key, pre->hash, pre->a_is_src, 0, &dir);
    else
        f = mw_flow_table_account(rd->tunnels, p, &p->outer, MW_FLOW_TUNNEL, 0, 0, &dir);
    if (f == NULL) {
        rd->sum->alloc_failures++;
        return;
    }
    if (f->rec.app_proto == 0) {
        /* nDPI never sees tunnels: the decoder already proved GTP-U, IP-in-IP or GRE. */
        if (p->outer.l4_proto == 47) {
            f->rec.app_proto = sh->gre_id;
        } else if (is_ip_tunnel(p)) {
            f->rec.app_proto = sh->ip_in_ip_id;
        } else {
            f->rec.master_proto = sh->gtp_id;
            f->rec.app_proto = sh->gtp_u_id;
        }
        f->rec.ndpi_done = 1;
        /* early, so inner flows learn the tunnel's base station */
        mw_plane_assign(inventory_of(sh), &f->rec, NULL);
    }
    ref->flow_id = f->rec.flow_id;
    ref->key = f->hash;
    ref->bs_index = f->rec.bs_index;
    if (f->rec.initiator == MW_INIT_BASE_STATION)
        ref->uplink = dir == 0 ? 1 : 2; /* the base station is the tunnel record's src */
    else if (f->rec.initiator == MW_INIT_PEER)
        ref->uplink = dir == 1 ? 1 : 2;
    rd->sum->tunnel_packets += mw_packet_frames(p);
}

/* pre: the flow's key, NULL to compute it. held: p and frame stay in the capture's
 * buffers until a fence (mw_reader_range_done): the worker reads them there. */
static void dispatch(mw_reader_t *rd, const mw_packet_t *p, const uint8_t *frame,
        const mw_tunnel_ref_t *tunnel, const mw_flow_ref_t *pre, int held)
{
    const mw_reader_shared_t *sh = rd->sh;
    const mw_l3_t *l3 = mw_packet_flow_l3(p);
    mw_flow_ref_t flow;
    mw_work_item_t *item;
    uint32_t copy_len;
    mw_ring_t *ring;

    rd->sum->tracked_packets += mw_packet_frames(p);
    if (sh->nworkers == 1 && !sh->threaded) {
        mw_worker_packet(sh->workers[0], p, frame, tunnel, pre);
        return;
    }
    /* the key and hash that choose the worker go with the packet: the worker does not
     * compute them again */
    if (pre != NULL)
        flow = *pre;
    else
        flow_ref_make(&flow, p, l3, mw_flow_kind_of(p), tunnel->ctx);
    ring = mw_worker_ring(sh->workers[flow.hash % sh->nworkers], rd->index);
    /* the worker needs no byte past the flow's IP packet; none at all when it is held */
    copy_len = held ? 0 : l3->l3_off + l3->l3_len;
    item = mw_ring_reserve(ring, held ? MW_WORK_SMALL_ITEM : sizeof(*item) + copy_len);
    if (item == NULL) { /* larger than half the ring: cannot happen below the 256 kB snaplen */
        rd->sum->alloc_failures++;
        return;
    }
    item->type = held ? MW_WORK_PACKET_REF : MW_WORK_PACKET;
    item->frame_len = copy_len;
    item->tunnel = *tunnel;
    item->flow = flow;
    if (held) {
        item->pkt_ref = p;
        item->frame_ref = frame;
    } else {
        item->pkt = *p;
        memcpy(item + 1, frame, copy_len);
    }
    mw_ring_commit(ring);
}

void mw_reader_tick(mw_reader_t *rd, int64_t now_us)
{
    const mw_reader_shared_t *sh = rd->sh;
    unsigned i;

    if (rd->defrag != NULL)
        mw_defrag_expire(rd->defrag, now_us); /* what is not whole by now goes on in pieces */

    for (i = 0; i < sh->nworkers; i++) {
        if (sh->threaded) {
            mw_ring_t *r = mw_worker_ring(sh->workers[i], rd->index);
            mw_work_item_t *item = mw_ring_reserve(r, sizeof(*item));
            if (item == NULL)
                continue; /* only an item over half the ring is refused: never a tick */
            memset(item, 0, sizeof(*item));
            item->type = MW_WORK_TICK;
            item->pkt.ts_us = now_us;
            mw_ring_commit(r);
            mw_ring_publish(r);
        } else {
            mw_worker_tick(sh->workers[i], now_us);
        }
    }
    mw_flow_table_expire(rd->tunnels, now_us);
    mw_record_batch_flush(&rd->tunnel_batch);
}

void mw_reader_publish(mw_reader_t *rd)
{
    const mw_reader_shared_t *sh = rd->sh;
    unsigned i;

    if (!sh->threaded)
        return;
    for (i = 0; i < sh->nworkers; i++)
        mw_ring_flush(mw_worker_ring(sh->workers[i], rd->index));
}

void mw_reader_flush(mw_reader_t *rd, enum mw_end_reason reason)
{
    if (rd->tunnels != NULL)
        mw_flow_table_flush(rd->tunnels, reason);
    mw_record_batch_flush(&rd->tunnel_batch);
}

/*
 * A later fragment of the outer IP packet: the flow of its first fragment
 * (found by the fragment table) counts it - the tunnel flow when the
 * datagram was a tunnel packet. Without a first fragment (lost, not yet
 * seen, expired) it goes to the flow of its addresses and protocol with
 * ports 0, so its bytes still count somewhere (and the orphan is counted).
 */
static void later_fragment(mw_reader_t *rd, mw_packet_t *p, const uint8_t *frame, int held)
{
    mw_tunnel_ref_t none = { 0 };
    uint8_t tag = 0;

    /* its keys are made here: the join gives it its ports (mw_reader_prepare makes none) */
    if (mw_frag_table_join(rd->frags, &p->outer, 0, p->ts_us, &tag) && tag == FRAG_TAG_TUNNEL) {
        track_tunnel(rd, p, NULL, &none);
        return;
    }
    dispatch(rd, p, frame, &none, NULL, held);
}

/* Counts packet-time jumps; warns once when an input starts before the previous one ended. */
static void note_clock(mw_reader_t *rd, const mw_raw_packet_t *raw)
{
    const mw_config_t *cfg = rd->sh->cfg;

    if (rd->prev_ts_us - raw->ts_us > PACKET_TICK_US) {
        rd->sum->clock_back++;
        if (raw->file_index != rd->prev_file && !rd->order_warned && cfg->nfiles > 1) {
            rd->order_warned = 1;
            mw_log_warn("%s starts %.0f s before the previous input ended: give inputs in time "
                        "order (flows and windows are cut where time goes back)",
                    cfg->files[raw->file_index], (double)(rd->prev_ts_us - raw->ts_us) / 1e6);
        }
    } else if (raw->ts_us - rd->prev_ts_us > CLOCK_AHEAD_US) {
        rd->sum->clock_ahead++;
    }
    rd->prev_file = raw->file_index;
}

#define DUP_WARN_PACKETS 1000 /* packets read before a share of copies means something */
#define DUP_WARN_PERCENT 5    /* a mirror that shows a link twice: far more; a few: chance */

/* Whether p is a copy of a packet just before (counted); says so once when they are 5 % or
 * more of what was read and --dedup is not dropping them. */
static int is_copy(
        mw_reader_t *rd, const mw_prepared_packet_t *pp, const mw_packet_t *p, const uint8_t *frame)
{
    mw_run_summary_t *sum = rd->sum;
    uint64_t hash = pp != NULL ? pp->copy_hash : mw_dup_hash(frame, &p->outer);

    if (!mw_dup_table_seen(rd->dups, hash, p->ts_us))
        return 0;
    sum->duplicates++;
    if (!rd->dups_warned && !rd->sh->cfg->dedup && rd->index == 0 &&
            sum->packets >= DUP_WARN_PACKETS &&
            sum->duplicates * 100 >= sum->packets * DUP_WARN_PERCENT) {
        rd->dups_warned = 1;
        mw_log_warn("%llu of the first %llu packets were copies of one seen within %d ms (a "
                    "SPAN port mirroring both sides of a link?): flows count them twice; "
                    "--dedup drops the copies",
                (unsigned long long)sum->duplicates, (unsigned long long)sum->packets,
                MW_DUP_WINDOW_US / 1000);
    }
    return 1;
}

static void format_addr(const uint8_t a[16], char *buf, socklen_t len)
{
    if (mw_addr_is_v4mapped(a))
        inet_ntop(AF_INET, a + 12, buf, len);
    else
        inet_ntop(AF_INET6, a, buf, len);
}

/* The two ends of the delivery whose IP header the decoder left at off; 0 when unreadable. */
static int delivery_ends(
        const uint8_t *frame, uint32_t caplen, uint32_t off, uint8_t src[16], uint8_t dst[16])
{
    const uint8_t *h = frame + off;

    if (MW_NEED(off, 20, caplen) && (h[0] >> 4) == 4) {
        mw_addr_map_v4(src, h + 12);
        mw_addr_map_v4(dst, h + 16);
        return 1;
    }
    if (MW_NEED(off, 40, caplen) && (h[0] >> 4) == 6) {
        memcpy(src, h + 8, 16);
        memcpy(dst, h + 24, 16);
        return 1;
    }
    return 0;
}

/* Whether a base station is one end of the delivery of an encapsulated frame: then the
 * encapsulation is the station's own traffic (a backdoor tunnelling in VXLAN), not a
 * mirror's, and is analyzed as sent. The last pair's answer is kept. */
static int station_delivers(mw_reader_t *rd, const mw_raw_packet_t *raw, const mw_packet_t *p)
{
    const struct mw_inventory *inv = inventory_of(rd->sh);
    mw_inventory_match_t a, b;
    uint8_t src[16], dst[16];

    if (inv == NULL || !delivery_ends(raw->data, raw->caplen, p->encap_l3_off, src, dst))
        return 0;
    if (inv == rd->delivery.inventory && memcmp(src, rd->delivery.src, 16) == 0 &&
            memcmp(dst, rd->delivery.dst, 16) == 0)
        return rd->delivery.station;
    mw_inventory_lookup(inv, src, &a);
    mw_inventory_lookup(inv, dst, &b);
    rd->delivery.inventory = inv;
    memcpy(rd->delivery.src, src, 16);
    memcpy(rd->delivery.dst, dst, 16);
    rd->delivery.station = a.role == MW_ROLE_BASE_STATION || b.role == MW_ROLE_BASE_STATION;
    return rd->delivery.station;
}

/* Decodes the packet again with its encapsulation on (a station's own delivery). */
static int decode_as_sent(
        mw_reader_t *rd, const mw_raw_packet_t *raw, mw_packet_t *p, mw_prepared_packet_t *pp)
{
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    uint8_t encap = p->encap;
    int rc;

    p->wirelen = raw->wirelen;
    rc = mw_decode_frame_flags(raw->dlt, raw->data, raw->caplen, MW_DECODE_KEEP_ENCAP, p);
    p->vlan_untracked = (uint8_t)!rd->sh->cfg->vlan_tracking;
    if (pp != NULL) { /* the keys the file reader made were the carried frame's */
        pp->rc = rc;
        pp->have_tunnel = pp->have_flow = 0;
        pp->copy_hash = rc == MW_DEC_OK || rc == MW_DEC_IP_FRAGMENT_LATER
                                ? mw_dup_hash(raw->data, &p->outer)
                                : 0;
    }
    rd->sum->encap_kept++;
    if (!rd->kept_warned) {
        rd->kept_warned = 1;
        format_addr(rd->delivery.src, src, sizeof(src));
        format_addr(rd->delivery.dst, dst, sizeof(dst));
        mw_log_warn("%s from %s to %s has a base station at one end: analyzed as sent (a "
                    "station's own tunnel), not as the frames it carries",
                mw_encap_name(encap), src, dst);
    }
    return rc;
}

/* Counts a frame delivered in an encapsulation the decoder stripped; says once which
 * encapsulation and which ends deliver them (its outer headers are not kept). */
static void note_encap(mw_reader_t *rd, const uint8_t *frame, const mw_packet_t *p)
{
    uint8_t encap = p->encap;
    char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
    uint8_t src_addr[16], dst_addr[16];

    rd->sum->encap_packets[encap]++;
    if (rd->encap_noted & (1u << encap))
        return;
    rd->encap_noted |= 1u << encap;
    if (delivery_ends(frame, p->caplen, p->encap_l3_off, src_addr, dst_addr)) {
        format_addr(src_addr, src, sizeof(src));
        format_addr(dst_addr, dst, sizeof(dst));
    }
    mw_log_note("frames arrive in %s from %s to %s (first at frame %llu): each is analyzed "
                "as the frame it carries, as if captured where it was mirrored",
            mw_encap_name(encap), src, dst, (unsigned long long)p->frame);
}

/* The packet path after reading: fragments, tunnels, FTP data, the worker of its flow. p
 * was decoded from frame (rc); pp: what a file reader prepared of it, or NULL. Inline: every
 * packet takes it, and a call of its own cost 1 % more instructions on the sample week. */
static inline void analyze_decoded(mw_reader_t *rd, mw_packet_t *p, const uint8_t *frame, int rc,
        const mw_prepared_packet_t *pp, int held)
{
    mw_run_summary_t *sum = rd->sum;
    mw_tunnel_ref_t tunnel = { 0 };
    int tunneled;

    /* here, not when read: a delivery in pieces is one carried frame, counted when whole */
    if (p->encap != MW_ENCAP_NONE && p->encap < MW_ENCAP_COUNT)
        note_encap(rd, frame, p);
    if (rc == MW_DEC_IP_FRAGMENT_LATER) {
        later_fragment(rd, p, frame, held);
        return;
    }
    if (rc != MW_DEC_OK) {
        sum->decode_events[rc]++;
        return;
    }
    if (p->soft_event)
        sum->soft_events[p->soft_event]++;
    if (!is_gtp_u_tunnel(p))
        p->has_gtp = 0;
    tunneled = is_tunnel(p);
    if (p->outer.frag == MW_FRAG_FIRST)
        mw_frag_table_remember(rd->frags, &p->outer, 0, tunneled ? FRAG_TAG_TUNNEL : 0, p->ts_us);
    if (tunneled) {
        track_tunnel(rd, p, pp != NULL && pp->have_tunnel ? &pp->tunnel : NULL, &tunnel);
        if (!mw_packet_has_inner(p))
            return; /* echo, end marker, bad inner packet: the tunnel flow has it */
        /* Subscriber addresses repeat across cores (private pools), so GTP-U inner
         * flows are keyed with their tunnel endpoints. A flow in IP-in-IP is the
         * hosts' own traffic: the same flow on two tunnel legs is one flow. */
        if (pp != NULL && pp->have_flow)
            tunnel.ctx = pp->tunnel_ctx;
        else
            tunnel.ctx = p->has_gtp ? mw_flow_tunnel_ctx(p) : 0;
        /* fragments inside a tunnel: the datagram is known per tunnel flow */
        if (p->inner.frag == MW_FRAG_FIRST)
            mw_frag_table_remember(rd->frags, &p->inner, tunnel.key, 0, p->ts_us);
        else if (p->inner.frag == MW_FRAG_LATER)
            mw_frag_table_join(rd->frags, &p->inner, tunnel.key, p->ts_us, &(uint8_t){ 0 });
    }
    /* in packet order, here: a data connection's packets may go to any worker; subscribers'
     * FTP inside GTP-U is theirs */
    if (!p->has_gtp)
        p->ftp_data = (uint8_t)mw_ftp_expect_packet(rd->ftp, mw_packet_flow_l3(p), frame, p->ts_us);
    dispatch(rd, p, frame, &tunnel, pp != NULL && pp->have_flow ? &pp->flow : NULL, held);
}

/* Decodes bytes the reassembly table kept (a fragment frame, a datagram put together) into
 * q, as a frame read with that time, number and length. */
static int decode_kept(const mw_reader_t *rd, mw_packet_t *q, const mw_packet_t *when,
        const uint8_t *data, uint32_t len, int dlt, unsigned flags)
{
    int rc;

    q->ts_us = when->ts_us;
    q->frame = when->frame;
    q->wirelen = when->wirelen;
    rc = mw_decode_frame_flags(dlt, data, len, flags, q);
    q->vlan_untracked = (uint8_t)!rd->sh->cfg->vlan_tracking;
    return rc;
}

/* A fragment left out of reassembly (its datagram not whole in time, or too large to
 * hold), analyzed on its own as before reassembly: the fragment table joins it. */
static void analyze_released(void *ctx, const mw_defrag_frame_t *fr)
{
    mw_reader_t *rd = ctx;
    const mw_packet_t when = { .ts_us = fr->ts_us, .frame = fr->frame, .wirelen = fr->wirelen };
    mw_packet_t q;
    int rc = decode_kept(rd, &q, &when, fr->data, fr->caplen, fr->dlt, fr->decode_flags);

    analyze_decoded(rd, &q, fr->data, rc, NULL, 0);
}

/* A datagram put back together, analyzed as one packet at its last fragment's time. */
static void analyze_datagram(mw_reader_t *rd, const mw_packet_t *last, mw_defrag_datagram_t *dg)
{
    /* its length as read is the whole frame's: a delivery's carried frame is cut from it */
    const mw_packet_t when = { .ts_us = last->ts_us, .frame = last->frame, .wirelen = dg->len };
    mw_packet_t q;
    int rc = decode_kept(rd, &q, &when, dg->frame, dg->len, dg->dlt, dg->decode_flags);

    if (rc != MW_DEC_OK) {
        /* garbage put together (a bad transport header): its fragments count one by one,
         * as each would without reassembly */
        mw_defrag_settle(rd->defrag, 0);
        return;
    }
    mw_defrag_settle(rd->defrag, 1);
    /* a delivery in pieces is one carried frame, of its own length (the decoder's) */
    if (q.encap == MW_ENCAP_NONE || q.encap_l3_off != dg->ip_off) {
        q.wirelen = (uint32_t)MW_MIN(dg->count_len, UINT32_MAX);
        q.frames = (uint16_t)MW_MIN(dg->fragments, UINT16_MAX);
        /* a carried frame in fragments: each fragment was a frame of its own delivery
         * (analyze_decoded counts one) */
        if (q.encap != MW_ENCAP_NONE && q.encap < MW_ENCAP_COUNT)
            rd->sum->encap_packets[q.encap] += dg->fragments - 1;
        /* a copy of a fragment after the datagram was whole joins its flow */
        q.outer.frag = MW_FRAG_FIRST;
        q.outer.frag_id = dg->id;
        if (mw_packet_flow_l3(&q)->l3_off == dg->ip_off)
            mw_defrag_mark_fragmented(dg); /* what nDPI reads says it came in pieces */
    }
    if (dg->conflict && !rd->overlap_warned) {
        rd->overlap_warned = 1;
        mw_log_warn("fragments of an IP datagram overlap with different bytes (frame %llu: an "
                    "attempt to slip past inspection?): the bytes that came first were kept",
                (unsigned long long)last->frame);
    }
    analyze_decoded(rd, &q, dg->frame, rc, NULL, 0);
}

/* A fragment goes to the reassembly table: 1 when it was taken (held, or its datagram
 * analyzed whole), 0 when it is analyzed as it is. A delivery's own IP header first: its
 * fragments hold the carried frame in pieces. */
static int offer_fragment(
        mw_reader_t *rd, const mw_raw_packet_t *raw, const mw_packet_t *p, unsigned decode_flags)
{
    const mw_defrag_frame_t fr = { .data = raw->data,
        .caplen = raw->caplen,
        .wirelen = raw->wirelen,
        .ts_us = p->ts_us,
        .frame = p->frame,
        .dlt = raw->dlt,
        .decode_flags = decode_flags };
    mw_defrag_datagram_t dg;
    int r = MW_DEFRAG_NOT_FRAGMENT;

    if (p->encap != MW_ENCAP_NONE)
        r = mw_defrag_add(rd->defrag, &fr, p->encap_l3_off, p->wirelen, &dg);
    if (r == MW_DEFRAG_NOT_FRAGMENT && p->has_ip && p->outer.frag != MW_FRAG_NONE)
        r = mw_defrag_add(rd->defrag, &fr, p->outer.l3_off, p->wirelen, &dg);
    if (r == MW_DEFRAG_COMPLETE)
        analyze_datagram(rd, p, &dg);
    return r == MW_DEFRAG_HELD || r == MW_DEFRAG_COMPLETE;
}

void mw_reader_release_fragments(mw_reader_t *rd)
{
    if (rd->defrag == NULL)
        return;
    mw_defrag_flush(rd->defrag);
    mw_reader_publish(rd); /* a helper's rings: its thread, which flushed them, has ended */
}

void mw_reader_packet(mw_reader_t *rd, const mw_raw_packet_t *raw)
{
    const mw_reader_shared_t *sh = rd->sh;
    mw_prepared_packet_t *pp = raw->prepared;
    mw_run_summary_t *sum = rd->sum;
    mw_packet_t own; /* decoded here when not prepared: mw_decode_frame() fills it */
    /* cppcheck-suppress uninitvar ; only own's address is taken here */
    mw_packet_t *p = pp != NULL ? &pp->p : &own; /* prepared: worked on in place */
    int held = raw->held && pp != NULL, rc;
    unsigned decode_flags = 0;

    sum->packets++;
    sum->bytes += raw->wirelen;
    if (sh->input_first_frame != NULL && raw->file_index < sh->cfg->nfiles &&
            atomic_load_explicit(&sh->input_first_frame[raw->file_index], memory_order_relaxed) ==
                    0)
        atomic_store(&sh->input_first_frame[raw->file_index], sum->packets);
    if (sum->first_us == 0 || raw->ts_us < sum->first_us)
        sum->first_us = raw->ts_us;
    if (raw->ts_us > sum->last_us)
        sum->last_us = raw->ts_us;

    if (sum->packets > 1)
        note_clock(rd, raw);
    rd->prev_ts_us = raw->ts_us;
    /* a clock that jumps back (a bogus future packet, files out of order) must not stall
     * expiry: a tick goes out whenever packet time moved a second, either way */
    if (raw->ts_us - rd->last_packet_tick_us >= PACKET_TICK_US ||
            rd->last_packet_tick_us - raw->ts_us >= PACKET_TICK_US) {
        /* every second of packet time: idle flows out everywhere, progress published */
        mw_reader_tick(rd, raw->ts_us);
        rd->last_packet_tick_us = raw->ts_us;
        atomic_store(&rd->progress_us, raw->ts_us);
    }
    p->ts_us = raw->ts_us;
    /* flow ids are 2 x the frame number: with several readers each numbers its own packets
     * in its own residue class, so ids stay unique (one reader: the packet's number) */
    p->frame = (sum->packets - 1) * sh->nreaders + rd->index + 1;
    if (pp != NULL) {
        rc = pp->rc; /* its wirelen too: the carried frame's, when an encapsulation was cut */
    } else {
        p->wirelen = raw->wirelen;
        rc = mw_decode_frame(raw->dlt, raw->data, raw->caplen, p);
        p->vlan_untracked = (uint8_t)!sh->cfg->vlan_tracking;
    }
    if (p->encap != MW_ENCAP_NONE && station_delivers(rd, raw, p)) {
        rc = decode_as_sent(rd, raw, p, pp);
        decode_flags = MW_DECODE_KEEP_ENCAP;
    }
    if ((rc == MW_DEC_OK || rc == MW_DEC_IP_FRAGMENT_LATER) && is_copy(rd, pp, p, raw->data) &&
            sh->cfg->dedup)
        return;
    /* a fragment, or a delivery that may be one: rare, so checked here before any call */
    if (rd->defrag != NULL && (p->encap != MW_ENCAP_NONE || p->outer.frag != MW_FRAG_NONE) &&
            offer_fragment(rd, raw, p, decode_flags))
        return;
    analyze_decoded(rd, p, raw->data, rc, pp, held);
}

void mw_reader_range_done(void *ctx, void (*release)(void *arg), void *arg)
{
    mw_reader_t *rd = ctx;
    const mw_reader_shared_t *sh = rd->sh;
    unsigned i;

    for (i = 0; i < sh->nworkers; i++) {
        mw_ring_t *r = mw_worker_ring(sh->workers[i], rd->index);
        mw_work_item_t *item = mw_ring_reserve(r, MW_WORK_SMALL_ITEM);
        if (item == NULL) { /* only an item over half the ring is refused: never a fence */
            release(arg);
            continue;
        }
        item->type = MW_WORK_FENCE;
        item->frame_len = 0;
        item->release = release;
        item->release_arg = arg;
        mw_ring_commit(r);
        mw_ring_flush(r); /* the capture may wait for it */
    }
}

/* ---- helpers (capture --readers N) ---- */

static int stopping(const mw_reader_t *rd)
{
    return atomic_load(&rd->sh->stop) || atomic_load(rd->sh->stop_signal);
}

/* A helper's second: ticks for its tunnels and workers, its counters for reader 0. */
static void helper_tick(mw_reader_t *rd)
{
    mw_capture_stats_t cs;
    mw_flow_table_stats_t ts;

    if (mw_monotonic_ms() - rd->last_tick_ms >= HELPER_TICK_MS) {
        int64_t now_us = mw_wall_us();
        mw_reader_publish(rd);
        mw_reader_tick(rd, now_us);
        atomic_store(&rd->progress_us, now_us);
        rd->last_tick_ms = mw_monotonic_ms();
    }
    mw_flow_table_get_stats(rd->tunnels, &ts);
    atomic_store(&rd->live_packets, rd->sum->packets);
    atomic_store(&rd->live_bytes, rd->sum->bytes);
    atomic_store(&rd->live_tunnels, ts.active);
    atomic_store(&rd->live_tunnels_evicted, ts.evicted);
    if (mw_capture_get_stats(rd->cap, &cs) == 0 && cs.have) {
        atomic_store(&rd->stat_received, cs.received);
        atomic_store(&rd->stat_dropped, cs.dropped);
        atomic_store(&rd->stat_if_dropped, cs.if_dropped);
    }
}

/* A helper's interface went away: it is opened again every HELPER_REOPEN_MS, as reader 0
 * does; 0 when reading again, -1 when the run stops or it cannot come back (reader 0 says
 * why: it loses the same interface). */
static int helper_reopen(mw_reader_t *rd)
{
    int64_t tried_ms = mw_monotonic_ms();
    char err[MW_ERRBUF_SIZE];
    int permanent = 0;

    mw_capture_suspend(rd->cap);
    while (!stopping(rd)) {
        struct timespec pause = { 0, 200 * 1000000L };
        nanosleep(&pause, NULL);
        helper_tick(rd);
        if (mw_monotonic_ms() - tried_ms < HELPER_REOPEN_MS)
            continue;
        tried_ms = mw_monotonic_ms();
        if (mw_capture_reopen(rd->cap, &permanent, err, sizeof(err)) == 0)
            return 0;
        if (permanent)
            return -1;
    }
    return -1;
}

void mw_reader_drain(mw_reader_t *rd, mw_pcap_ring_t *ring)
{
    int64_t until = mw_monotonic_ms() + STOP_DRAIN_MS;
    int empty = 0;

    if (mw_capture_set_nonblock(rd->cap) != 0)
        return;
    while (mw_monotonic_ms() < until) {
        mw_raw_packet_t raw;
        char err[MW_ERRBUF_SIZE] = "";
        int rc = mw_capture_next(rd->cap, &raw, err, sizeof(err));

        /* a break (the stop's pcap_breakloop(), a tick's, one reported after the packet it
         * came with) makes a read return 0 whatever waits: the ring is empty only when
         * reads in a row say so (nonblocking: they return at once) */
        if (rc == 0 && ++empty < DRAIN_EMPTY_READS)
            continue;
        if (rc != 1)
            break;
        empty = 0;
        if (ring != NULL)
            mw_pcap_ring_write(ring, &raw);
        mw_reader_packet(rd, &raw);
    }
}

/* The loop of readers 1..N-1: read, decode, track tunnels, dispatch; never blocks long
 * (nonblocking handle, polled) so a stop or a tick is never late. */
static void *reader_main(void *arg)
{
    mw_reader_t *rd = arg;
    char name[16];
    unsigned since_post = 0;

    snprintf(name, sizeof(name), "mw-reader%u", rd->index % 1000u);
    pthread_setname_np(pthread_self(), name);
    rd->last_tick_ms = mw_monotonic_ms();
    while (!stopping(rd)) {
        mw_raw_packet_t raw;
        char err[MW_ERRBUF_SIZE] = "";
        int rc = mw_capture_next(rd->cap, &raw, err, sizeof(err));

        if (rc == 1) {
            mw_reader_packet(rd, &raw);
            if (++since_post >= HELPER_POST) {
                since_post = 0;
                helper_tick(rd);
            }
        } else if (rc == 0) {
            mw_reader_publish(rd); /* quiet: hand over what is queued */
            helper_tick(rd);
            mw_capture_wait(rd->cap, HELPER_POLL_MS);
        } else if (helper_reopen(rd) != 0) {
            break;
        }
    }
    if (atomic_load(rd->sh->stop_signal))
        mw_reader_drain(rd, NULL);
    helper_tick(rd);
    mw_reader_publish(rd);
    rd->cpu_s = mw_thread_cpu_s();
    return NULL;
}

int mw_reader_open_helper(mw_reader_t *rd, const mw_capture_params_t *params, unsigned fanout_group,
        char *errbuf, size_t errlen)
{
    mw_capture_params_t cp = *params;

    cp.fanout = 1;
    cp.fanout_join = 1;
    cp.fanout_group = fanout_group;
    cp.nonblock = 1;
    rd->cap = mw_capture_open(&cp, errbuf, errlen);
    return rd->cap != NULL ? 0 : MW_EIO;
}

int mw_reader_start(mw_reader_t *rd, char *errbuf, size_t errlen)
{
    if (pthread_create(&rd->thread, NULL, reader_main, rd) != 0) {
        mw_fmt_err(errbuf, errlen, "cannot start reader thread %u", rd->index);
        return MW_ENOMEM;
    }
    rd->running = 1;
    return 0;
}

void mw_reader_join(mw_reader_t *rd)
{
    if (!rd->running)
        return;
    pthread_join(rd->thread, NULL);
    rd->running = 0;
}
