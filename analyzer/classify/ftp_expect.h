/*
 * ftp_expect.h - FTP data connections named from their control session.
 *
 * An FTP data connection goes to a port of the day: the server's in passive
 * mode (227/229 replies), the client's in active mode (PORT/EPRT), and
 * nDPI labels most of them Unknown. The reader reads each control packet
 * (TCP port 21) in packet order, notes the port it announces on the
 * announcing side's own address and the peer that is to connect, and marks
 * the packets of a TCP connection between exactly those two. One table per reader, so `-t N`
 * changes nothing; entries last EXPECT_TTL of packet time, in a table of a fixed number of bytes
 * that counts what it could not keep. specification: RFC 959 §4.1.2, §4.2 (PORT, PASV, 227), RFC
 * 2428 (EPRT, EPSV, 229)
 */
#ifndef MW_FTP_EXPECT_H
#define MW_FTP_EXPECT_H

#include <stddef.h>
#include <stdint.h>

#include "decode/packet.h"

typedef struct mw_ftp_expect mw_ftp_expect_t;

/* Which side of a packet listens on an announced data endpoint (decode/packet.h). */
enum {
    MW_FTP_DATA_NONE = MW_LISTENER_NONE,
    MW_FTP_DATA_DST_LISTENS = MW_LISTENER_DST,
    MW_FTP_DATA_SRC_LISTENS = MW_LISTENER_SRC
};

/* An empty table; its slots are allocated with the first announcement. NULL: no memory. */
mw_ftp_expect_t *mw_ftp_expect_create(void);
void mw_ftp_expect_destroy(mw_ftp_expect_t *t);

/*
 * Reads one TCP packet (l3 and its frame): a control packet's PASV/EPSV
 * replies and PORT/EPRT commands are noted; any other packet between an
 * announced endpoint and its peer is matched. Returns MW_FTP_DATA_*.
 */
int mw_ftp_expect_packet(
        mw_ftp_expect_t *t, const mw_l3_t *l3, const uint8_t *frame, int64_t ts_us);

/* Announcements read; those not kept (the table was full of live ones); those refused (a
 * port under 1024 or one a known service listens on). */
uint64_t mw_ftp_expect_noted(const mw_ftp_expect_t *t);
uint64_t mw_ftp_expect_dropped(const mw_ftp_expect_t *t);
uint64_t mw_ftp_expect_refused(const mw_ftp_expect_t *t);

/* The parsers, for tests: the endpoint a line announces (address 16 bytes, IPv4-mapped for
 * IPv4; the 229 reply names only a port: address unset). 1 when it announces one. */
int mw_ftp_parse_227(const char *line, size_t len, uint8_t addr[16], uint16_t *port);
int mw_ftp_parse_229(const char *line, size_t len, uint16_t *port);
int mw_ftp_parse_port(const char *line, size_t len, uint8_t addr[16], uint16_t *port);
int mw_ftp_parse_eprt(const char *line, size_t len, uint8_t addr[16], uint16_t *port);

#endif
