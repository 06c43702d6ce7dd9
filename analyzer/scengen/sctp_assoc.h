/*
 * sctp_assoc.h - an SCTP association between a base station and its MME,
 * AMF or X2 neighbour: the four-way handshake, DATA chunks carrying one
 * S1AP/NGAP/X2AP message each (with the PPID that tells analyzers which),
 * SACKs and heartbeats. State (tags, TSNs, SSNs) lives in the caller's
 * struct because associations last the whole scenario.
 */
#ifndef MW_SG_SCTP_ASSOC_H
#define MW_SG_SCTP_ASSOC_H

#include <stddef.h>
#include <stdint.h>

#include "sg.h"

enum { MW_PPID_S1AP = 18, MW_PPID_X2AP = 27, MW_PPID_NGAP = 60, MW_PPID_XNAP = 61 };

typedef struct {
    mw_flow_t f;
    uint32_t tag[2]; /* initiate tag chosen by side i; side !i puts it in its packets */
    uint32_t tsn[2];
    uint16_t ssn[2];
    uint32_t ppid;
    uint32_t rtt_us;
    uint8_t cookie[32];
    uint64_t hb_nonce;
    int up;
} mw_sctp_t;

void mw_sctp_init(mw_sctp_t *a, const mw_flow_t *f, uint32_t ppid, uint32_t rtt_us, mw_prng_t *r);
/* INIT, INIT-ACK, COOKIE-ECHO, COOKIE-ACK from t; returns the time after. */
uint64_t mw_sctp_establish(mw_sg_t *sg, mw_sctp_t *a, uint64_t t);
/* One DATA chunk from side dir and the peer's SACK; returns the time after. */
uint64_t mw_sctp_data(
        mw_sg_t *sg, mw_sctp_t *a, int dir, uint64_t t, const uint8_t *msg, size_t len);
/* HEARTBEAT from side dir and its HEARTBEAT-ACK; returns the time after. */
uint64_t mw_sctp_heartbeat(mw_sg_t *sg, mw_sctp_t *a, int dir, uint64_t t);

#endif
