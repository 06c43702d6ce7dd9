/*
 * community_id.h - the Community ID flow hash (v1, seed 0), the string Zeek,
 * Suricata and most SIEMs print for a flow, so an anomaly can be joined with
 * their logs: "1:" + base64(SHA-1(seed, addresses, proto, 0, ports)) with
 * the endpoints in canonical order.
 * specification: https://github.com/corelight/community-id-spec
 */
#ifndef MW_COMMUNITY_ID_H
#define MW_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

/* Addresses as in the flow record (IPv4-mapped when IPv4). ICMP types/codes
 * are not kept in records, so ICMP flows hash with ports 0. */
void mw_community_id(char *out, size_t len, uint64_t src_hi, uint64_t src_lo, uint64_t dst_hi,
        uint64_t dst_lo, uint8_t proto, uint16_t src_port, uint16_t dst_port);

#endif
