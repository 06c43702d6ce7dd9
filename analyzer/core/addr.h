/*
 * addr.h - the 16-byte address form every module shares: IPv6 as it is,
 * IPv4 as ::ffff:a.b.c.d (RFC 4291's IPv4-mapped form); records keep it as
 * two big-endian halves, hi and lo (flow/flow_record.h).
 */
#ifndef MW_ADDR_H
#define MW_ADDR_H

#include <stdint.h>
#include <string.h>

/* The 16-byte form of an IPv4 address's 4 bytes. */
static inline void mw_addr_map_v4(uint8_t out[16], const uint8_t *v4)
{
    memset(out, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    memcpy(out + 12, v4, 4);
}

/* True when a is IPv4 (::ffff:a.b.c.d). */
static inline int mw_addr_is_v4mapped(const uint8_t a[16])
{
    static const uint8_t head[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    return memcmp(a, head, sizeof(head)) == 0;
}

/* The same for an address in halves. */
static inline int mw_addr_is_v4_u64(uint64_t hi, uint64_t lo)
{
    return hi == 0 && (lo >> 32) == 0xffff;
}

/* A multicast group: 224.0.0.0/4 or ff00::/8. */
static inline int mw_addr_is_multicast_u64(uint64_t hi, uint64_t lo)
{
    if (mw_addr_is_v4_u64(hi, lo))
        return (lo & 0xf0000000u) == 0xe0000000u;
    return (hi >> 56) == 0xff;
}

#endif
