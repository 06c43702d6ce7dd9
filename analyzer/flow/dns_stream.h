/*
 * dns_stream.h - what a flow keeps of one direction of DNS over TCP: where
 * its next message begins (classify/hostname.h reads the messages). Plain
 * data, so a flow holds it without knowing DNS.
 */
#ifndef MW_DNS_STREAM_H
#define MW_DNS_STREAM_H

#include <stdint.h>

typedef struct mw_dns_tcp {
    uint32_t next_seq; /* where the next length (or, in BODY, the message) begins */
    uint16_t body_len; /* BODY: the length read alone at the end of a segment */
    uint8_t state;     /* 0 not started, then SYNC, BODY or LOST (hostname.c) */
    uint8_t pad_;
} mw_dns_tcp_t;

#endif
