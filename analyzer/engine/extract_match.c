/*
 * extract_match.c - see extract_match.h. Packets are decoded with the
 * project's decoder (decode/), as the engine does, so a flow's packets are
 * found by the same tuple the flow table used.
 */
#include "engine/extract_match.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

#define FRAG_KEYS 64 /* datagrams whose later fragments are still expected */

enum { LAYER_OUTER = 0, LAYER_INNER = 1 };

typedef struct target {
    uint8_t a[16], b[16]; /* src, dst of the record */
    uint16_t pa, pb;
    uint8_t proto, layer;
    uint8_t has_ends; /* GTP-U: the outer addresses must be the tunnel's */
    uint8_t ta[16], tb[16];
} target_t;

typedef struct frag_key {
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t proto, layer, used;
} frag_key_t;

struct mw_match {
    int64_t from_us, to_us;
    target_t *t;
    size_t n, cap;
    frag_key_t frags[FRAG_KEYS];
    unsigned next_frag;
};

mw_match_t *mw_match_create(int64_t from_us, int64_t to_us)
{
    mw_match_t *m = calloc(1, sizeof(*m));

    if (m != NULL) {
        m->from_us = from_us;
        m->to_us = to_us;
    }
    return m;
}

static void addr_of(uint64_t hi, uint64_t lo, uint8_t out[16])
{
    int i;

    for (i = 0; i < 8; i++) {
        out[i] = (uint8_t)(hi >> (56 - 8 * i));
        out[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
    }
}

int mw_match_add_flow(mw_match_t *m, const mw_flow_record_t *rec, const mw_flow_record_t *tunnel)
{
    target_t *t;

    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 16;
        target_t *nt = realloc(m->t, ncap * sizeof(*nt));
        if (nt == NULL)
            return -1;
        m->t = nt;
        m->cap = ncap;
    }
    t = &m->t[m->n++];
    memset(t, 0, sizeof(*t));
    addr_of(rec->src_hi, rec->src_lo, t->a);
    addr_of(rec->dst_hi, rec->dst_lo, t->b);
    t->pa = rec->src_port;
    t->pb = rec->dst_port;
    t->proto = rec->l4_proto;
    /* inner: a GTP-U subscriber flow, or a flow inside IP-in-IP (tunnel_flow_id set) */
    t->layer = rec->kind == MW_FLOW_INNER || (rec->kind == MW_FLOW_PLAIN && rec->tunnel_flow_id)
                       ? LAYER_INNER
                       : LAYER_OUTER;
    if (rec->kind == MW_FLOW_INNER && tunnel != NULL) {
        t->has_ends = 1;
        addr_of(tunnel->src_hi, tunnel->src_lo, t->ta);
        addr_of(tunnel->dst_hi, tunnel->dst_lo, t->tb);
    }
    return 0;
}

static int same_pair(const uint8_t *x, const uint8_t *y, const uint8_t *a, const uint8_t *b)
{
    return (memcmp(x, a, 16) == 0 && memcmp(y, b, 16) == 0) ||
           (memcmp(x, b, 16) == 0 && memcmp(y, a, 16) == 0);
}

static int tuple_is(const target_t *t, const mw_l3_t *l3)
{
    if (l3->l4_proto != t->proto)
        return 0;
    if (memcmp(l3->src, t->a, 16) == 0 && memcmp(l3->dst, t->b, 16) == 0)
        return l3->sport == t->pa && l3->dport == t->pb;
    if (memcmp(l3->src, t->b, 16) == 0 && memcmp(l3->dst, t->a, 16) == 0)
        return l3->sport == t->pb && l3->dport == t->pa;
    return 0;
}

static int target_matches(const target_t *t, const mw_packet_t *p)
{
    if (t->layer == LAYER_OUTER)
        return tuple_is(t, &p->outer);
    if (!mw_packet_has_inner(p) || !tuple_is(t, &p->inner))
        return 0;
    return !t->has_ends || same_pair(p->outer.src, p->outer.dst, t->ta, t->tb);
}

static void remember_frag(mw_match_t *m, const mw_l3_t *l3, uint8_t layer)
{
    frag_key_t *k = &m->frags[m->next_frag++ % FRAG_KEYS];

    memcpy(k->src, l3->src, 16);
    memcpy(k->dst, l3->dst, 16);
    k->id = l3->frag_id;
    k->proto = l3->l4_proto;
    k->layer = layer;
    k->used = 1;
}

static int is_later_frag_of_match(const mw_match_t *m, const mw_l3_t *l3, uint8_t layer)
{
    unsigned i;

    for (i = 0; i < FRAG_KEYS; i++) {
        const frag_key_t *k = &m->frags[i];
        if (k->used && k->layer == layer && k->id == l3->frag_id && k->proto == l3->l4_proto &&
                memcmp(k->src, l3->src, 16) == 0 && memcmp(k->dst, l3->dst, 16) == 0)
            return 1;
    }
    return 0;
}

int mw_match_packet(mw_match_t *m, const mw_raw_packet_t *raw)
{
    mw_packet_t p;
    size_t i;
    int rc;

    if (raw->ts_us < m->from_us || raw->ts_us > m->to_us)
        return 0;
    if (m->n == 0)
        return 1;
    rc = mw_decode_frame(raw->dlt, raw->data, raw->caplen, &p);
    if (rc == MW_DEC_IP_FRAGMENT_LATER)
        return is_later_frag_of_match(m, &p.outer, LAYER_OUTER);
    if (rc != MW_DEC_OK)
        return 0;
    if (mw_packet_has_inner(&p) && p.inner.frag == MW_FRAG_LATER &&
            is_later_frag_of_match(m, &p.inner, LAYER_INNER))
        return 1;
    for (i = 0; i < m->n; i++) {
        if (!target_matches(&m->t[i], &p))
            continue;
        if (p.outer.frag == MW_FRAG_FIRST)
            remember_frag(m, &p.outer, LAYER_OUTER);
        if (mw_packet_has_inner(&p) && p.inner.frag == MW_FRAG_FIRST)
            remember_frag(m, &p.inner, LAYER_INNER);
        return 1;
    }
    return 0;
}

void mw_match_destroy(mw_match_t *m)
{
    if (m == NULL)
        return;
    free(m->t);
    free(m);
}
