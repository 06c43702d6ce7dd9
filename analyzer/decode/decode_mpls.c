/*
 * decode_mpls.c - MPLS label stacks. After the bottom-of-stack label the
 * payload type is not signalled, so it is guessed from the first nibble as
 * routers do: 4 = IPv4, 6 = IPv6, 0 = pseudowire control word + Ethernet.
 * specification: RFC 3032 (label stack), RFC 4385 (PW control word)
 */
#include "decode/decode.h"

#define MPLS_LABEL_LEN 4
#define MPLS_PW_CW_LEN 4

int mw__decode_mpls(mw_decoder_t *d, mw_packet_t *p, uint32_t off)
{
    uint32_t entry;
    uint8_t nibble;

    for (;;) {
        if (!MW_NEED(off, MPLS_LABEL_LEN, d->caplen))
            return MW_DEC_MPLS_TRUNCATED;
        if (++d->layers > MW_MAX_LAYERS)
            return MW_DEC_TOO_DEEP;
        entry = mw_get_be32(d->frame + off);
        if (p->mpls_count == 0)
            p->mpls_label = entry >> 12;
        if (p->mpls_count < 255)
            p->mpls_count++;
        off += MPLS_LABEL_LEN;
        if (entry & 0x100) /* bottom of stack */
            break;
    }
    if (!MW_NEED(off, 1, d->caplen))
        return MW_DEC_MPLS_TRUNCATED;
    nibble = d->frame[off] >> 4;
    if (nibble == 4 || nibble == 6)
        return mw__decode_ip(d, p, off, d->caplen - off);
    if (nibble == 0)
        return mw__decode_ether(d, p, off + MPLS_PW_CW_LEN);
    return MW_DEC_NON_IP;
}
