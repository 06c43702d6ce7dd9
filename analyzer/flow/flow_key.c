/*
 * flow_key.c - canonical bidirectional keys and their hash (XXH3 from
 * Debian's libxxhash: fast, well tested, stable across runs, so dispatch
 * and flow ids are reproducible).
 */
#include "flow/flow_key.h"

#include <string.h>
/* inlined: the keys' lengths are constants, which XXH3 specialises on (the same hashes as
 * the library's: flow ids and dispatch do not change) */
#define XXH_INLINE_ALL
#include <xxhash.h>

static uint64_t load_be64(const uint8_t *p)
{
    /* compilers make this one load and a byte swap */
    return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
           (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
           (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

/* memcmp's order on 16-byte addresses, from two loads (memcmp is a call per packet) */
static int addr_cmp(const uint8_t *x, const uint8_t *y)
{
    uint64_t xh = load_be64(x), yh = load_be64(y);

    if (xh != yh)
        return xh < yh ? -1 : 1;
    xh = load_be64(x + 8);
    yh = load_be64(y + 8);
    return (xh > yh) - (xh < yh);
}

static int endpoint_cmp(const uint8_t *addr1, uint16_t port1, const uint8_t *addr2, uint16_t port2)
{
    int c = addr_cmp(addr1, addr2);
    if (c != 0)
        return c;
    return (int)port1 - (int)port2;
}

/* The key's last 8 bytes (port_a, port_b, vlan, l4_proto, kind) as they lie in memory */
static uint64_t key_tail(
        uint16_t port_a, uint16_t port_b, uint16_t vlan, uint8_t l4_proto, uint8_t kind)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (uint64_t)port_a | (uint64_t)port_b << 16 | (uint64_t)vlan << 32 |
           (uint64_t)l4_proto << 48 | (uint64_t)kind << 56;
#else
    mw_flow_key_t k;
    uint64_t tail;

    k.port_a = port_a;
    k.port_b = port_b;
    k.vlan = vlan;
    k.l4_proto = l4_proto;
    k.kind = kind;
    memcpy(&tail, (const uint8_t *)&k + offsetof(mw_flow_key_t, port_a), sizeof(tail));
    return tail;
#endif
}

void mw_flow_key_make(mw_flow_key_t *key, const mw_packet_t *p, const mw_l3_t *l3, uint8_t kind,
        uint64_t tunnel_ctx, int *a_is_src)
{
    /* every byte is written (the key has no padding: flow_key.h), the last eight in one
     * store: the hash's 8-byte loads then come from the store buffer, where four narrow
     * stores made each one wait */
    uint16_t vlan = p->vlan_count && !p->vlan_untracked ? p->vlan[0] : 0;
    uint64_t tail;

    if (endpoint_cmp(l3->src, l3->sport, l3->dst, l3->dport) <= 0) {
        memcpy(key->addr_a, l3->src, 16);
        memcpy(key->addr_b, l3->dst, 16);
        tail = key_tail(l3->sport, l3->dport, vlan, l3->l4_proto, kind);
        *a_is_src = 1;
    } else {
        memcpy(key->addr_a, l3->dst, 16);
        memcpy(key->addr_b, l3->src, 16);
        tail = key_tail(l3->dport, l3->sport, vlan, l3->l4_proto, kind);
        *a_is_src = 0;
    }
    key->tunnel_ctx = tunnel_ctx;
    memcpy((uint8_t *)key + offsetof(mw_flow_key_t, port_a), &tail, sizeof(tail));
}

uint64_t mw_flow_key_hash(const mw_flow_key_t *key)
{
    return XXH3_64bits(key, sizeof(*key));
}

uint64_t mw_flow_tunnel_ctx(const mw_packet_t *p)
{
    uint8_t pair[32];

    if (addr_cmp(p->outer.src, p->outer.dst) <= 0) {
        memcpy(pair, p->outer.src, 16);
        memcpy(pair + 16, p->outer.dst, 16);
    } else {
        memcpy(pair, p->outer.dst, 16);
        memcpy(pair + 16, p->outer.src, 16);
    }
    return XXH3_64bits(pair, sizeof(pair)) | 1; /* never 0: 0 means "no tunnel" */
}

int mw_flow_key_equal(const mw_flow_key_t *x, const mw_flow_key_t *y)
{
    return memcmp(x, y, sizeof(*x)) == 0;
}
