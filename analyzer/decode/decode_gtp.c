/*
 * decode_gtp.c - GTP on the outer UDP payload. GTPv1-U G-PDUs (type 255)
 * carry a subscriber's IP packet: it is decoded into p->inner so flows and
 * nDPI see the subscriber traffic, while the outer UDP flow stays the
 * tunnel. Other GTPv1 messages (echo, error indication, end marker) and
 * GTPv2-C (port 2123) are recognised and tagged, not unpacked.
 * A malformed GTP header never drops the packet: the outer UDP flow is
 * still counted and the event goes to p->soft_event.
 *
 * GTPv1 header (3GPP TS 29.281 §5.1): flags(version:3 PT:1 *:1 E:1 S:1 PN:1)
 * type(1) length(2) TEID(4) [seq(2) N-PDU(1) next-ext(1) when E|S|PN]
 * Extension headers (§5.2): length in 4-octet units (incl. length and
 * next-type octets), the last octet names the next extension, 0 = none.
 * GTPv2-C header (3GPP TS 29.274 §5.1): flags(version:3 P:1 T:1 ...) type(1)
 * length(2) [TEID(4) when T] seq(3) spare(1).
 */
#include "decode/decode.h"

#define GTP1_HLEN     8
#define GTP1_OPT_LEN  4
#define GTP_TYPE_GPDU 255
#define GTP_MAX_EXT   8

static int soft(mw_packet_t *p, int event)
{
    p->soft_event = (uint8_t)event;
    return MW_DEC_OK;
}

static int decode_gtpv1(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint32_t len)
{
    const uint8_t *h = d->frame + off;
    uint32_t pos = off + GTP1_HLEN, end = off + len, inner_len;
    uint8_t next_ext;
    unsigned n;

    if ((h[0] & 0x10) == 0) /* PT = 0 is GTP' (charging), not GTP */
        return MW_DEC_OK;
    p->gtp_version = 1;
    p->gtp_type = h[1];
    p->teid = mw_get_be32(h + 4);
    /* The length field covers everything after the mandatory 8 bytes. */
    if ((uint32_t)mw_get_be16(h + 2) + GTP1_HLEN < end - off)
        end = off + GTP1_HLEN + mw_get_be16(h + 2);
    if (h[0] & 0x07) {
        if (!MW_NEED(pos, GTP1_OPT_LEN, end))
            return soft(p, MW_DEC_GTP_TRUNCATED);
        next_ext = (h[0] & 0x04) ? d->frame[pos + 3] : 0;
        pos += GTP1_OPT_LEN;
        for (n = 0; next_ext != 0; n++) {
            uint32_t ext_len;
            if (n >= GTP_MAX_EXT)
                return soft(p, MW_DEC_TOO_DEEP);
            if (!MW_NEED(pos, 1, end))
                return soft(p, MW_DEC_GTP_TRUNCATED);
            ext_len = (uint32_t)d->frame[pos] * 4;
            if (ext_len == 0)
                return soft(p, MW_DEC_GTP_BAD_HEADER);
            if (!MW_NEED(pos, ext_len, end))
                return soft(p, MW_DEC_GTP_TRUNCATED);
            next_ext = d->frame[pos + ext_len - 1];
            pos += ext_len;
        }
    }
    if (p->gtp_type != GTP_TYPE_GPDU)
        return MW_DEC_OK;
    inner_len = end - pos;
    if (inner_len == 0)
        return soft(p, MW_DEC_GTP_TRUNCATED);
    {
        uint8_t version = d->frame[pos] >> 4;
        int rc;
        if (version != 4 && version != 6)
            return soft(p, MW_DEC_GTP_INNER_NOT_IP);
        rc = mw__decode_ip(d, p, pos, inner_len);
        if (rc == MW_DEC_IP_FRAGMENT_LATER) {
            p->has_gtp = 1; /* p->inner.frag says so: the engine finds its ports */
            return MW_DEC_OK;
        }
        if (rc != MW_DEC_OK) {
            /* keep the tunnel flow; the inner packet is counted by reason */
            p->inner.ip_version = 0;
            return soft(p, rc);
        }
    }
    p->has_gtp = 1;
    return MW_DEC_OK;
}

int mw__decode_gtp(mw_decoder_t *d, mw_packet_t *p, uint32_t off, uint32_t len)
{
    uint8_t version;

    if (++d->layers > MW_MAX_LAYERS)
        return soft(p, MW_DEC_TOO_DEEP);
    if (len < 4 || !MW_NEED(off, 4, d->caplen))
        return soft(p, MW_DEC_GTP_TRUNCATED);
    version = d->frame[off] >> 5;
    if (version == 2) {
        p->gtp_version = 2;
        p->gtp_type = d->frame[off + 1];
        if ((d->frame[off] & 0x08) && MW_NEED(off, 8, off + len))
            p->teid = mw_get_be32(d->frame + off + 4);
        return MW_DEC_OK;
    }
    if (version != 1)
        return soft(p, MW_DEC_GTP_BAD_HEADER);
    if (len < GTP1_HLEN || !MW_NEED(off, GTP1_HLEN, d->caplen))
        return soft(p, MW_DEC_GTP_TRUNCATED);
    return decode_gtpv1(d, p, off, len);
}
