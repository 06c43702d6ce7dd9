/*
 * hostname.h - the full host name of a flow, read from its first DNS
 * message, TLS ClientHello or HTTP request. nDPI 4.2 keeps only the last
 * 79 bytes of a name (host_server_name[80]), which loses the registered
 * domain of long names - exactly the names a DNS tunnel or a C2 uses - so
 * the worker reads them itself and takes nDPI's only when it read none.
 * Nothing here calls nDPI; the TCP DNS reader keeps its state in the flow.
 *
 * Every function writes a lowercased, NUL-terminated name into out (at
 * most outlen - 1 bytes; a longer TLS/HTTP name keeps its tail, where the
 * registered domain is) and returns its length, or 0 when the payload does
 * not hold one. Bytes outside printable ASCII become '?'.
 */
#ifndef MW_HOSTNAME_H
#define MW_HOSTNAME_H

#include <stddef.h>
#include <stdint.h>

#include "flow/dns_stream.h"

/* The first question of a DNS message (RFC 1035 §4.1), compression pointers followed. */
size_t mw_hostname_dns(const uint8_t *msg, uint32_t len, char *out, size_t outlen);

/*
 * The longest label (bytes, at most 63) of the question names of a DNS
 * message, every question read up to the first that does not parse (its
 * labels read before that count); 0 when it has none.
 * A tunnel hides its data in long labels, in any query of a flow.
 */
uint8_t mw_dns_longest_label(const uint8_t *msg, uint32_t len);

/* The same for a UDP payload on a DNS port (53/5353/5355), else 0. */
uint8_t mw_dns_udp_longest_label(
        uint16_t sport, uint16_t dport, const uint8_t *payload, uint32_t len);

/* 1 for the ports DNS, mDNS and LLMNR use. */
int mw_dns_port(uint16_t port);

/*
 * DNS over TCP, one direction of a connection (RFC 7766 §8): 2-byte length,
 * message, and so on, cut into segments anywhere. The state (a flow's,
 * flow/dns_stream.h) follows where the next message begins by sequence
 * number, so a message is read only from its start: a length alone in its
 * segment, several messages in one, retransmissions. A gap, or a supposed
 * start that is not a message with whole question names, stops it for the
 * connection (no guessing inside a message's bytes).
 *
 * One payload segment with sequence number seq; returns the longest question label of the
 * messages that begin in it (0 none), and puts the first question of the first message read
 * into name (NULL: not wanted) while name is empty - a message whose length came alone in
 * the segment before is read whole. */
uint8_t mw_dns_tcp_segment(mw_dns_tcp_t *s, uint32_t seq, const uint8_t *payload, uint32_t len,
        char *name, size_t namelen);

/* server_name of a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3), as far as captured. */
size_t mw_hostname_tls_sni(const uint8_t *rec, uint32_t len, char *out, size_t outlen);

/* The Host header of an HTTP/1.x request (RFC 9112 §3.2). */
size_t mw_hostname_http(const uint8_t *req, uint32_t len, char *out, size_t outlen);

/*
 * Picks the reader for a transport payload: DNS on ports 53/5353/5355 over
 * UDP (over TCP, mw_dns_tcp_segment reads it from the stream), a TLS
 * handshake record, an HTTP request line.
 */
size_t mw_hostname_from_payload(uint8_t l4_proto, uint16_t sport, uint16_t dport,
        const uint8_t *payload, uint32_t len, char *out, size_t outlen);

/* 1 when longer is a longer name ending in shorter (case-insensitive): shorter is a cut. */
int mw_hostname_extends(const char *longer, const char *shorter);

#endif
