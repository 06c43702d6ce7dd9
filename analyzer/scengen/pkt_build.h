/*
 * pkt_build.h - turns one L4 segment of a flow into a complete Ethernet
 * frame (IPv4, optional GTP-U encapsulation) with valid IPv4, UDP and TCP
 * checksums and SCTP CRC32c, and queues it. This is the only place that
 * knows header layouts below the application payload.
 */
#ifndef MW_SG_PKT_BUILD_H
#define MW_SG_PKT_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "sg.h"

enum {
    MW_TCP_FIN = 0x01,
    MW_TCP_SYN = 0x02,
    MW_TCP_RST = 0x04,
    MW_TCP_PSH = 0x08,
    MW_TCP_ACK = 0x10
};

/* Largest L4 payload a builder accepts (keeps outer frames under 64 KB). */
#define MW_SG_MAX_PAYLOAD 9000u

/* Each returns 0 or a negative MW_E* code (also latched into sg->err). */
int mw_emit_udp(mw_sg_t *sg, mw_flow_t *f, int dir, uint64_t t_us, const uint8_t *pl, size_t len);
int mw_emit_tcp(mw_sg_t *sg, mw_flow_t *f, int dir, uint64_t t_us, uint32_t seq, uint32_t ack,
        uint8_t flags, uint16_t win, const uint8_t *opt, size_t optlen, const uint8_t *pl,
        size_t len);
/* chunks: already-encoded SCTP chunks (each padded to 4 bytes). */
int mw_emit_sctp(mw_sg_t *sg, mw_flow_t *f, int dir, uint64_t t_us, uint32_t vtag,
        const uint8_t *chunks, size_t len);

/* CRC32c (Castagnoli), as SCTP uses it (RFC 9260 appendix A). */
uint32_t mw_crc32c(const uint8_t *p, size_t len);

/* Big-endian stores used by all payload builders. */
static inline void mw_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void mw_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#define MW_ARRAY_LEN_SG(a) (sizeof(a) / sizeof((a)[0]))
#define MW_UNUSED_SG(x)    ((void)(x))

#endif
