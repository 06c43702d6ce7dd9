/*
 * sessions.h - complete application conversations (a DNS lookup, an SFTP
 * upload, a TLS exchange, an FTP transfer with its data connection...)
 * built from the packet, TCP and payload layers. Normal traffic and the
 * injector share them, so an injected SSH session is byte-for-byte the same
 * kind of SSH as a normal one: only who talks to whom, and when, differs.
 * Each returns the time its last frame was sent. While sg->cur_anomaly >= 0,
 * every flow a session creates is registered in the ground truth.
 */
#ifndef MW_SG_SESSIONS_H
#define MW_SG_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "sg.h"

typedef struct {
    uint32_t rtt_us;       /* 0: 2 ms */
    uint64_t rate_bps;     /* 0: 50 Mbit/s */
    uint64_t round_gap_us; /* 0: a random think time between request/response rounds */
} mw_sess_opt_t;

/* Registers f in the ground truth if the injector is running. */
void mw_sess_track(mw_sg_t *sg, mw_flow_t *f);

uint64_t mw_sess_dns(mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, const char *name,
        uint32_t answer, int answered);
/* TLS 1.3: hello exchange then `rounds` request/response pairs of up/down bytes in total. */
uint64_t mw_sess_tls(mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, const char *sni,
        size_t up, size_t down, int rounds, const mw_sess_opt_t *o);
/* SSH (or NETCONF/SFTP over SSH): endpoint 0 is the client. */
uint64_t mw_sess_ssh(mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, size_t up, size_t down,
        int rounds, const mw_sess_opt_t *o);
/* FTP with a passive-mode data connection; upload (STOR) or download (RETR). */
uint64_t mw_sess_ftp(mw_sg_t *sg, mw_flow_t *ctrl, uint64_t t, mw_prng_t *r, const char *user,
        const char *pass, const char *file, size_t bytes, int upload);
/* Telnet login (cleartext user and password) and a few shell commands. */
uint64_t mw_sess_telnet(
        mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, const char *user, const char *pass);
/* SNMPv2c get + response (endpoint 0 is the manager). */
uint64_t mw_sess_snmp(mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, const char *community,
        uint32_t uptime, uint64_t in_oct, uint64_t out_oct, const char *sysname);
/* NTP client request / server response. */
uint64_t mw_sess_ntp(mw_sg_t *sg, mw_flow_t *f, uint64_t t, uint32_t refid);
/* GTPv1-C echo request (+ hidden payload, see mw_pl_gtpc_echo) and response. */
uint64_t mw_sess_gtpc_echo(mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, uint16_t seq,
        size_t priv_len, int trailer, int answered);
/* Unclassifiable TCP: random bytes in both directions. */
uint64_t mw_sess_raw_tcp(
        mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, size_t up, size_t down, int rounds);
/* QUIC-like UDP: short-header packets, mostly downstream. */
uint64_t mw_sess_quic(mw_sg_t *sg, mw_flow_t *f, uint64_t t, mw_prng_t *r, int npkts);
/* Messaging-style plain UDP/TCP is covered by mw_sess_tls with small sizes. */

#endif
