/*
 * ran_payloads.h - S1AP, NGAP, X2AP and XnAP messages (ASN.1 aligned PER) for the
 * non-UE-associated procedures a quiet base station shows: setup, RAN
 * configuration update and reset. Hand-encoded, byte by byte, because the
 * generator must not depend on an ASN.1 compiler.
 */
#ifndef MW_SG_RAN_PAYLOADS_H
#define MW_SG_RAN_PAYLOADS_H

#include <stddef.h>
#include <stdint.h>

/* PLMN 001/01 (test network) in TBCD. */
#define MW_SG_PLMN0 0x00
#define MW_SG_PLMN1 0xf1
#define MW_SG_PLMN2 0x10

/* S1AP (TS 36.413): S1 Setup Request/Response, eNB Configuration Update/Ack. */
size_t mw_ran_s1_setup(uint8_t *b, size_t cap, int response, uint32_t enb_id, uint16_t tac);
size_t mw_ran_s1_config_update(uint8_t *b, size_t cap, int ack);
/* NGAP (TS 38.413): NG Setup Request/Response, RAN Configuration Update/Ack. */
size_t mw_ran_ng_setup(uint8_t *b, size_t cap, int response, uint32_t gnb_id, uint32_t tac);
size_t mw_ran_ng_config_update(uint8_t *b, size_t cap, int ack);
/* XnAP (TS 38.423): NG-RAN node Configuration Update (gNB, no changes) / Acknowledge. */
size_t mw_ran_xn_config_update(uint8_t *b, size_t cap, int ack);
/* X2AP (TS 36.423): Reset Request (cause: O&M intervention) / Reset Response. */
size_t mw_ran_x2_reset(uint8_t *b, size_t cap, int response);

#endif
