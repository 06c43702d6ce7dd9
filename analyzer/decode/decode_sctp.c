/*
 * decode_sctp.c - SCTP common header and a bounded walk over the chunks to
 * find the first DATA chunk's payload protocol identifier (PPID): nDPI 4.2
 * has no S1AP/NGAP/X2AP dissectors, so the PPID names them (18 = S1AP,
 * 27 = X2AP, 60 = NGAP). Bundled chunks are common in real core networks.
 * specification: RFC 9260 (SCTP), IANA SCTP Payload Protocol Identifiers
 */
#include "decode/decode.h"

#define SCTP_COMMON_HLEN    12
#define SCTP_CHUNK_HLEN     4
#define SCTP_DATA_HLEN      16
#define SCTP_CHUNK_DATA     0
#define SCTP_CHUNK_IDATA    64
#define SCTP_MAX_CHUNKS     32
#define SCTP_CHUNK_INIT     1
#define SCTP_CHUNK_INIT_ACK 2
#define SCTP_CHUNK_ABORT    6
#define SCTP_ABORT_MAX      32 /* room for an error cause or two, not for data */

int mw__decode_sctp(mw_decoder_t *d, mw_l3_t *l3, uint32_t off, uint32_t len)
{
    const uint8_t *h = d->frame + off;
    uint32_t pos, end, clen;
    unsigned n;

    if ((l3->frag == MW_FRAG_FIRST && len < SCTP_COMMON_HLEN) ||
            (len < SCTP_COMMON_HLEN && mw__cut_by_snaplen(l3, off, SCTP_COMMON_HLEN)))
        return mw__decode_cut_ports(d, l3, off, len) ? MW_DEC_OK : MW_DEC_SCTP_TRUNCATED;
    if (len < SCTP_COMMON_HLEN || !MW_NEED(off, SCTP_COMMON_HLEN, d->caplen))
        return MW_DEC_SCTP_TRUNCATED;
    l3->sport = mw_get_be16(h);
    l3->dport = mw_get_be16(h + 2);
    l3->l4_off = off;
    l3->payload_off = off + SCTP_COMMON_HLEN;
    l3->payload_len = len - SCTP_COMMON_HLEN;

    pos = off + SCTP_COMMON_HLEN;
    end = off + len;
    for (n = 0; n < SCTP_MAX_CHUNKS && MW_NEED(pos, SCTP_CHUNK_HLEN, end); n++) {
        uint8_t type = d->frame[pos];
        clen = mw_get_be16(d->frame + pos + 2);
        if (clen < SCTP_CHUNK_HLEN)
            break; /* a lying chunk length: stop walking, keep the ports */
        /* INIT and INIT-ACK are never bundled (RFC 9260 6.10): the first chunk tells */
        if (n == 0 && type == SCTP_CHUNK_INIT)
            l3->handshake = MW_HS_OPEN;
        else if (n == 0 && type == SCTP_CHUNK_INIT_ACK)
            l3->handshake = MW_HS_ACCEPT;
        else if (n == 0 && type == SCTP_CHUNK_ABORT && clen <= SCTP_ABORT_MAX &&
                 pos + ((clen + 3u) & ~3u) >= end) /* alone: an ABORT bundled after DATA sends */
            l3->refusal = MW_REFUSAL_RESET;
        if (type == SCTP_CHUNK_DATA && clen >= SCTP_DATA_HLEN &&
                MW_NEED(pos, SCTP_DATA_HLEN, end)) {
            l3->sctp_ppid = mw_get_be32(d->frame + pos + 12);
            break;
        }
        if (type == SCTP_CHUNK_IDATA && clen >= 20 && MW_NEED(pos, 20, end)) {
            l3->sctp_ppid = mw_get_be32(d->frame + pos + 16);
            break;
        }
        pos += (clen + 3u) & ~3u; /* chunks are padded to 4 bytes */
    }
    return MW_DEC_OK;
}
