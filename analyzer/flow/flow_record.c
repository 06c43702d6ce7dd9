/*
 * flow_record.c - small operations on a finished flow record that more
 * than one layer needs (orientation fixes it up after the flow table).
 */
#include "flow/flow_record.h"

#define SWAP(type, a, b)                                                                           \
    do {                                                                                           \
        type tmp_ = (a);                                                                           \
        (a) = (b);                                                                                 \
        (b) = tmp_;                                                                                \
    } while (0)

void mw_addr_split(const uint8_t a[16], uint64_t *hi, uint64_t *lo)
{
    uint64_t h = 0, l = 0;
    int i;

    for (i = 0; i < 8; i++) {
        h = (h << 8) | a[i];
        l = (l << 8) | a[i + 8];
    }
    *hi = h;
    *lo = l;
}

void mw_addr_join(uint64_t hi, uint64_t lo, uint8_t out[16])
{
    int i;

    for (i = 0; i < 8; i++) {
        out[i] = (uint8_t)(hi >> (56 - 8 * i));
        out[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
    }
}

void mw_flow_record_swap(mw_flow_record_t *r)
{
    SWAP(uint64_t, r->src_hi, r->dst_hi);
    SWAP(uint64_t, r->src_lo, r->dst_lo);
    SWAP(uint16_t, r->src_port, r->dst_port);
    SWAP(uint32_t, r->teid_c2s, r->teid_s2c);
    SWAP(mw_dir_stats_t, r->c2s, r->s2c);
    if (r->subscriber != MW_SUB_NONE)
        r->subscriber = r->subscriber == MW_SUB_SRC ? MW_SUB_DST : MW_SUB_SRC;
    if (r->refused_by != MW_SIDE_NONE)
        r->refused_by = r->refused_by == MW_SIDE_SRC ? MW_SIDE_DST : MW_SIDE_SRC;
}

int mw_flow_one_way_side(const mw_flow_record_t *r)
{
    if ((r->l4_proto != 6 && r->l4_proto != 132) || (r->c2s.packets > 0) == (r->s2c.packets > 0))
        return MW_SEEN_BOTH;
    return r->c2s.packets > 0 ? MW_SEEN_OPENER : MW_SEEN_RESPONDER;
}
