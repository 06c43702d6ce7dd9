/*
 * ran_payloads.c - aligned-PER encodings, worked out by hand from the ASN.1.
 * All three protocols share the PDU shape
 *   PDU ::= CHOICE { initiatingMessage, successfulOutcome, unsuccessfulOutcome, ... }
 *   -> one octet: 0x00 initiating, 0x20 successful outcome;
 *   procedureCode INTEGER (0..255) -> one octet; criticality -> one octet
 *   (2 bits, padded); value -> open type: length octet + contents.
 * A message body is a SEQUENCE { protocolIEs, ... }: one octet for the
 * extension bit, two octets for the IE count (0..65535), then each IE as
 * id (2 octets), criticality (1 octet) and an open type.
 * The per-IE encodings are commented where they are written; each was
 * checked against tshark's dissector (no expert errors).
 * specification: ITU-T X.691 (PER), 3GPP TS 36.413, TS 38.413, TS 36.423, TS 38.423.
 */
#include "ran_payloads.h"

#include "pkt_build.h"

#include <string.h>

#define CRIT_REJECT 0x00
#define CRIT_IGNORE 0x40

typedef struct {
    uint8_t *b;
    size_t n, cap;
    int bad;
} enc_t;

static void put(enc_t *e, const uint8_t *p, size_t len)
{
    if (e->n + len > e->cap) {
        e->bad = 1;
        return;
    }
    memcpy(e->b + e->n, p, len);
    e->n += len;
}

static void put_ie(enc_t *e, uint16_t id, uint8_t crit, const uint8_t *v, size_t len)
{
    uint8_t h[4] = { (uint8_t)(id >> 8), (uint8_t)id, crit, (uint8_t)len };
    put(e, h, 4);
    put(e, v, len);
}

/* Writes the PDU header and the body's IE-count; returns the offset of the length octet. */
static size_t pdu_begin(enc_t *e, uint8_t kind, uint8_t proc, uint8_t crit, uint16_t nies)
{
    uint8_t h[7] = { kind, proc, crit, 0, 0x00, (uint8_t)(nies >> 8), (uint8_t)nies };
    put(e, h, 7);
    return 3;
}

static size_t pdu_end(enc_t *e, size_t lenpos)
{
    size_t body = e->n - lenpos - 1;
    if (e->bad || body > 127)
        return 0;
    e->b[lenpos] = (uint8_t)body;
    return e->n;
}

size_t mw_ran_s1_setup(uint8_t *b, size_t cap, int response, uint32_t enb_id, uint16_t tac)
{
    enc_t e = { b, 0, cap, 0 };
    size_t lp;
    if (!response) {
        lp = pdu_begin(&e, 0x00, 17, CRIT_REJECT, 3); /* S1SetupRequest */
        /* Global-ENB-ID (59): ext+opt bits padded, PLMN, CHOICE macro + pad, 20-bit id. */
        uint8_t g[8] = { 0x00, MW_SG_PLMN0, MW_SG_PLMN1, MW_SG_PLMN2, 0x00, (uint8_t)(enb_id >> 12),
            (uint8_t)(enb_id >> 4), (uint8_t)(enb_id << 4) };
        put_ie(&e, 59, CRIT_REJECT, g, sizeof(g));
        /* SupportedTAs (64): count-1 (one octet), item ext/opt + TAC(16) + bPLMN count(3)
         * packed into three octets, then the PLMN. */
        uint8_t t[7] = { 0x00, (uint8_t)(tac >> 10), (uint8_t)(tac >> 2), (uint8_t)((tac & 3) << 6),
            MW_SG_PLMN0, MW_SG_PLMN1, MW_SG_PLMN2 };
        put_ie(&e, 64, CRIT_REJECT, t, sizeof(t));
        /* DefaultPagingDRX (137): ENUMERATED ext bit + 2 bits; v128 = 2 -> 010 00000. */
        uint8_t d[1] = { 0x40 };
        put_ie(&e, 137, CRIT_IGNORE, d, 1);
    } else {
        lp = pdu_begin(&e, 0x20, 17, CRIT_REJECT, 2); /* S1SetupResponse */
        /* ServedGUMMEIs (105): count(3)+ext+opt+servedPLMNs count(5) -> 2 octets, PLMN,
         * servedGroupIDs count (2 octets), group id, servedMMECs count (1 octet), MMEC. */
        uint8_t s[11] = { 0x00, 0x00, MW_SG_PLMN0, MW_SG_PLMN1, MW_SG_PLMN2, 0x00, 0x00, 0x80, 0x01,
            0x00, 0x01 };
        put_ie(&e, 105, CRIT_REJECT, s, sizeof(s));
        /* RelativeMMECapacity (87): INTEGER (0..255) -> one octet. */
        uint8_t c[1] = { 0xff };
        put_ie(&e, 87, CRIT_IGNORE, c, 1);
    }
    return pdu_end(&e, lp);
}

size_t mw_ran_s1_config_update(uint8_t *b, size_t cap, int ack)
{
    enc_t e = { b, 0, cap, 0 };
    size_t lp;
    if (!ack) {
        lp = pdu_begin(&e, 0x00, 29, CRIT_REJECT, 1); /* ENBConfigurationUpdate */
        uint8_t d[1] = { 0x40 };
        put_ie(&e, 137, CRIT_IGNORE, d, 1);
    } else {
        lp = pdu_begin(&e, 0x20, 29, CRIT_REJECT, 0); /* ENBConfigurationUpdateAcknowledge */
    }
    return pdu_end(&e, lp);
}

size_t mw_ran_ng_setup(uint8_t *b, size_t cap, int response, uint32_t gnb_id, uint32_t tac)
{
    enc_t e = { b, 0, cap, 0 };
    size_t lp;
    if (!response) {
        lp = pdu_begin(&e, 0x00, 21, CRIT_REJECT, 3); /* NGSetupRequest */
        /* GlobalRANNodeID (27): CHOICE gNB (2 bits) + ext + opt, PLMN, GNB-ID CHOICE (1 bit)
         * + length-22 (4 bits), then 22 bits of id. */
        uint32_t id = gnb_id << 2;
        uint8_t g[8] = { 0x00, MW_SG_PLMN0, MW_SG_PLMN1, MW_SG_PLMN2, 0x00, (uint8_t)(id >> 16),
            (uint8_t)(id >> 8), (uint8_t)id };
        put_ie(&e, 27, CRIT_REJECT, g, sizeof(g));
        /* SupportedTAList (102): count, item ext/opt, TAC(3), bPLMN count(4)+ext+opt,
         * PLMN, slice count (2 octets), S-NSSAI: 5 ext/opt bits, then SST 1 (no SD). */
        uint8_t t[13] = { 0x00, 0x00, (uint8_t)(tac >> 16), (uint8_t)(tac >> 8), (uint8_t)tac, 0x00,
            MW_SG_PLMN0, MW_SG_PLMN1, MW_SG_PLMN2, 0x00, 0x00, 0x00, 0x08 };
        put_ie(&e, 102, CRIT_REJECT, t, sizeof(t));
        /* DefaultPagingDRX (21): v128. */
        uint8_t d[1] = { 0x40 };
        put_ie(&e, 21, CRIT_IGNORE, d, 1);
    } else {
        lp = pdu_begin(&e, 0x20, 21, CRIT_REJECT, 4); /* NGSetupResponse */
        /* AMFName (1): ext bit + length-1 (8 bits), pad, characters. "amf1". */
        uint8_t n[6] = { 0x01, 0x80, 'a', 'm', 'f', '1' };
        put_ie(&e, 1, CRIT_REJECT, n, sizeof(n));
        /* ServedGUAMIList (96): count, item/GUAMI ext+opt bits, PLMN, region(8) set(10) ptr(6). */
        uint8_t s[8] = { 0x00, 0x00, MW_SG_PLMN0, MW_SG_PLMN1, MW_SG_PLMN2, 0x80, 0x00, 0x41 };
        put_ie(&e, 96, CRIT_REJECT, s, sizeof(s));
        /* RelativeAMFCapacity (86). */
        uint8_t c[1] = { 0xff };
        put_ie(&e, 86, CRIT_IGNORE, c, 1);
        /* PLMNSupportList (80): count(4)+ext+opt, PLMN, slice count, S-NSSAI SST 1. */
        uint8_t p[8] = { 0x00, MW_SG_PLMN0, MW_SG_PLMN1, MW_SG_PLMN2, 0x00, 0x00, 0x00, 0x08 };
        put_ie(&e, 80, CRIT_REJECT, p, sizeof(p));
    }
    return pdu_end(&e, lp);
}

size_t mw_ran_ng_config_update(uint8_t *b, size_t cap, int ack)
{
    enc_t e = { b, 0, cap, 0 };
    size_t lp;
    if (!ack) {
        lp = pdu_begin(&e, 0x00, 35, CRIT_REJECT, 1); /* RANConfigurationUpdate */
        uint8_t d[1] = { 0x40 };
        put_ie(&e, 21, CRIT_IGNORE, d, 1);
    } else {
        lp = pdu_begin(&e, 0x20, 35, CRIT_REJECT, 0); /* RANConfigurationUpdateAcknowledge */
    }
    return pdu_end(&e, lp);
}

size_t mw_ran_x2_reset(uint8_t *b, size_t cap, int response)
{
    enc_t e = { b, 0, cap, 0 };
    size_t lp;
    if (!response) {
        lp = pdu_begin(&e, 0x00, 7, CRIT_REJECT, 1); /* ResetRequest */
        /* Cause (5): CHOICE ext + misc (index 3, 2 bits), CauseMisc ext + om-intervention (2). */
        uint8_t c[1] = { 0x64 };
        put_ie(&e, 5, CRIT_IGNORE, c, 1);
    } else {
        lp = pdu_begin(&e, 0x20, 7, CRIT_REJECT, 0); /* ResetResponse */
    }
    return pdu_end(&e, lp);
}

size_t mw_ran_xn_config_update(uint8_t *b, size_t cap, int ack)
{
    enc_t e = { b, 0, cap, 0 };
    size_t lp;
    if (!ack) {
        lp = pdu_begin(&e, 0x00, 18, CRIT_REJECT, 1); /* NGRANNodeConfigurationUpdate */
        /* ConfigurationUpdateInitiatingNodeChoice (9): CHOICE gNB (2 bits, padded), then an
         * empty ProtocolIE-Container (2-octet count 0): nothing changed. */
        uint8_t c[3] = { 0x00, 0x00, 0x00 };
        put_ie(&e, 9, CRIT_REJECT, c, sizeof(c));
    } else {
        lp = pdu_begin(&e, 0x20, 18, CRIT_REJECT, 1); /* ...Acknowledge */
        /* RespondingNodeTypeConfigUpdateAck (58): CHOICE gNB (index 1, 2 bits) + ext + two
         * absent optionals -> 01 0 00 000. */
        uint8_t c[1] = { 0x40 };
        put_ie(&e, 58, CRIT_REJECT, c, sizeof(c));
    }
    return pdu_end(&e, lp);
}
