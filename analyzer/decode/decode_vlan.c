/*
 * decode_vlan.c - 802.1Q tags and QinQ (802.1ad) stacks. The first two VLAN
 * ids are kept for the flow key; deeper tags are walked but not kept, and
 * the layer cap stops an endless tag chain.
 * specification: IEEE 802.1Q, IEEE 802.1ad
 */
#include "decode/decode.h"

#define VLAN_TAG_LEN 4

int mw__decode_vlan(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint16_t tpid)
{
    uint16_t tci;

    (void)tpid;
    if (!MW_NEED(off, VLAN_TAG_LEN, d->caplen))
        return MW_DEC_VLAN_TRUNCATED;
    tci = mw_get_be16(d->frame + off);
    if (p->vlan_count < MW_MAX_VLAN)
        p->vlan[p->vlan_count] = tci & 0x0fff;
    if (p->vlan_count < 255)
        p->vlan_count++;
    return mw__decode_ethertype(d, p, mw_get_be16(d->frame + off + 2), off + VLAN_TAG_LEN);
}
