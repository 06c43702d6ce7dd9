/*
 * proto_payloads.h - application payload bytes for the management, sync
 * and GTP-C protocols: SNMPv2c, syslog, NTP, PTPv2, DNS, TLS 1.3 hellos,
 * SSH transport messages and GTPv1-C echo. Every builder writes into a
 * caller buffer of size cap and returns the length, or 0 if it would not fit.
 */
#ifndef MW_SG_PROTO_PAYLOADS_H
#define MW_SG_PROTO_PAYLOADS_H

#include <stddef.h>
#include <stdint.h>

#include "prng.h"

/* DNS (RFC 1035): A/AAAA query and a one-answer response. */
size_t mw_pl_dns_query(uint8_t *b, size_t cap, uint16_t id, const char *name, uint16_t qtype);
size_t mw_pl_dns_response(uint8_t *b, size_t cap, uint16_t id, const char *name, uint16_t qtype,
        uint32_t addr, uint32_t ttl);

/* SNMPv2c GetRequest for a fixed set of interface/system OIDs, and its Response. */
size_t mw_pl_snmp_get(uint8_t *b, size_t cap, const char *community, uint32_t reqid, int response,
        uint32_t uptime, uint64_t in_oct, uint64_t out_oct, const char *sysname);

/* NTPv4 client request (mode 3) or server response (mode 4), 48 bytes. */
size_t mw_pl_ntp(
        uint8_t *b, size_t cap, int server, uint64_t t_us, uint64_t orig_us, uint32_t refid);

enum {
    MW_PTP_SYNC = 0x0,
    MW_PTP_DELAY_REQ = 0x1,
    MW_PTP_FOLLOW_UP = 0x8,
    MW_PTP_DELAY_RESP = 0x9,
    MW_PTP_ANNOUNCE = 0xb
};
/* PTPv2 (IEEE 1588-2008) message; port_clock is the requesting port for Delay_Resp. */
size_t mw_pl_ptp(uint8_t *b, size_t cap, int type, uint16_t seq, uint64_t clock, uint64_t t_us,
        uint64_t port_clock);

/* RFC 3164 syslog line: "<PRI>Mmm dd hh:mm:ss host tag[pid]: msg". */
size_t mw_pl_syslog(uint8_t *b, size_t cap, int pri, uint64_t t_s, const char *host,
        const char *tag, unsigned pid, const char *msg);

/* TLS 1.3 ClientHello with SNI (RFC 8446), and ServerHello + ChangeCipherSpec. */
size_t mw_pl_tls_client_hello(uint8_t *b, size_t cap, const char *sni, mw_prng_t *r);
size_t mw_pl_tls_server_hello(uint8_t *b, size_t cap, mw_prng_t *r);

/* SSH transport (RFC 4253, RFC 8731): banner, KEXINIT, ECDH init/reply, NEWKEYS,
 * and an encrypted-looking binary packet of about len bytes. */
size_t mw_pl_ssh_banner(uint8_t *b, size_t cap, int server);
size_t mw_pl_ssh_kexinit(uint8_t *b, size_t cap, int server, mw_prng_t *r);
size_t mw_pl_ssh_ecdh(uint8_t *b, size_t cap, int server, mw_prng_t *r);
size_t mw_pl_ssh_newkeys(uint8_t *b, size_t cap);
size_t mw_pl_ssh_encrypted(uint8_t *b, size_t cap, size_t len, mw_prng_t *r);

/* GTPv1-C Echo Request/Response (TS 29.060 7.2.1). A non-zero priv_len hides priv_len
 * random bytes GTPDOOR-style: in a Private Extension IE (type 255), or, with trailer set,
 * as bytes after the end that the GTP length field declares. */
size_t mw_pl_gtpc_echo(uint8_t *b, size_t cap, int response, uint16_t seq, uint8_t restart,
        size_t priv_len, int trailer, mw_prng_t *r);

#endif
