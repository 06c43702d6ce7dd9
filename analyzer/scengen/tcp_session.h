/*
 * tcp_session.h - a scripted TCP connection: handshake, request/response
 * exchanges split into MSS-sized segments with consistent sequence and
 * acknowledgement numbers, and an orderly FIN close. Callers describe the
 * conversation ("client sends X, server sends Y"); this module decides
 * segment boundaries, ACKs and timing.
 */
#ifndef MW_SG_TCP_SESSION_H
#define MW_SG_TCP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "sg.h"

typedef struct {
    mw_sg_t *sg;
    mw_flow_t f;
    uint32_t seq[2]; /* next sequence number each side will send */
    uint64_t t;      /* time of the next event, microseconds */
    uint32_t rtt_us; /* round trip seen from the capture point */
    uint32_t mss;
    uint64_t rate_bps; /* sender pacing for bulk transfers */
    int unacked[2];    /* segments sent by side i that side !i has not ACKed yet */
} mw_tcp_t;

/* Emits SYN, SYN-ACK, ACK starting at t. ISNs come from r. */
void mw_tcp_open(
        mw_tcp_t *s, mw_sg_t *sg, const mw_flow_t *f, uint64_t t, uint32_t rtt_us, mw_prng_t *r);
/* Side dir sends len bytes. The peer ACKs every second segment; when reply is
 * set the final ACK is left to the peer's next data segment (piggybacked). */
void mw_tcp_send(mw_tcp_t *s, int dir, const uint8_t *data, size_t len, int reply);
/* Side dir sends len random ("encrypted") bytes in records of at most rec bytes. */
void mw_tcp_send_random(mw_tcp_t *s, int dir, size_t len, size_t rec, mw_prng_t *r, int tls);
/* Advances the clock (think time, server processing). */
void mw_tcp_wait(mw_tcp_t *s, uint64_t us);
/* Side dir closes: FIN/ACK, FIN/ACK, ACK. */
void mw_tcp_close(mw_tcp_t *s, int dir);

#endif
