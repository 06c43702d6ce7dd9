/*
 * prefix_tree.c - longest-prefix match over IPv4 and IPv6 prefixes, on top of
 * nDPI's Patricia tree.
 *
 * Why nDPI's tree and not our own trie: the analyzer links nDPI anyway, its
 * Patricia code (the MRT/Merit radix tree) is old and well exercised, and its
 * search does not write to the tree, which is what lets several worker
 * threads share one inventory without a lock. nDPI keeps IPv4 and IPv6 in
 * trees of different widths, so this file holds one of each and routes
 * IPv4-mapped addresses to the 32-bit tree; callers only ever see 16 bytes.
 *
 * This is the only file of the classify module that includes ndpi_api.h for
 * the tree; the value stored per prefix is a plain uint64 so that the
 * inventory can keep its own entry table and stay free of nDPI types.
 */
#include "classify/prefix_tree.h"

#include "core/addr.h"
#include "core/mw.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi/ndpi_api.h>

struct mw_prefix_tree {
    ndpi_patricia_tree_t *v4; /* 32-bit tree for IPv4(-mapped) prefixes */
    ndpi_patricia_tree_t *v6; /* 128-bit tree for everything else */
    size_t count;
};

static const uint8_t v4mapped_head[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Clears the bits of addr below the first `bits`; returns 1 when any was set. */
static int mask_host_bits(uint8_t addr[16], unsigned bits)
{
    int had_host_bits = 0;
    unsigned i;

    for (i = 0; i < 16; i++) {
        uint8_t keep;

        if (bits >= 8 * (i + 1))
            continue;
        keep = bits > 8 * i ? (uint8_t)(0xff << (8 - (bits - 8 * i))) : 0;
        if (addr[i] & (uint8_t)~keep)
            had_host_bits = 1;
        addr[i] &= keep;
    }
    return had_host_bits;
}

/*
 * Fills an nDPI prefix from the 16-byte form and picks the tree for it.
 * IPv4-mapped prefixes of 96 bits or more live in the IPv4 tree.
 */
static ndpi_patricia_tree_t *fill_prefix(
        const mw_prefix_tree_t *tree, const uint8_t addr[16], unsigned bits, ndpi_prefix_t *p)
{
    if (bits >= 96 && mw_addr_is_v4mapped(addr)) {
        struct in_addr a4;

        memcpy(&a4, addr + 12, 4);
        ndpi_fill_prefix_v4(p, &a4, (int)(bits - 96), 32);
        return tree->v4;
    } else {
        struct in6_addr a6;

        memcpy(&a6, addr, 16);
        ndpi_fill_prefix_v6(p, &a6, (int)bits, 128);
        return tree->v6;
    }
}

mw_prefix_tree_t *mw_prefix_tree_create(void)
{
    mw_prefix_tree_t *tree = calloc(1, sizeof(*tree));

    if (tree == NULL)
        return NULL;
    tree->v4 = ndpi_patricia_new(32);
    if (tree->v4 == NULL)
        goto fail;
    tree->v6 = ndpi_patricia_new(128);
    if (tree->v6 == NULL)
        goto fail;
    return tree;
fail:
    mw_prefix_tree_destroy(tree);
    return NULL;
}

void mw_prefix_tree_destroy(mw_prefix_tree_t *tree)
{
    if (tree == NULL)
        return;
    /* Values are plain integers, so there is no per-node data to free. */
    if (tree->v4 != NULL)
        ndpi_patricia_destroy(tree->v4, NULL);
    if (tree->v6 != NULL)
        ndpi_patricia_destroy(tree->v6, NULL);
    free(tree);
}

int mw_prefix_tree_insert(mw_prefix_tree_t *tree, const uint8_t addr[16], unsigned bits,
        uint64_t value, uint64_t *existing)
{
    ndpi_prefix_t p;
    ndpi_patricia_tree_t *t;
    ndpi_patricia_node_t *node;
    uint8_t net[16];

    if (tree == NULL || addr == NULL || bits > 128)
        return MW_EINVAL;
    /* Patricia compares only the first `bits` bits, but a clean network
     * address keeps exact-match searches and printed prefixes honest. */
    memcpy(net, addr, 16);
    mask_host_bits(net, bits);
    t = fill_prefix(tree, net, bits, &p);
    node = ndpi_patricia_search_exact(t, &p);
    if (node != NULL) {
        if (existing != NULL)
            *existing = ndpi_patricia_get_node_u64(node);
        return MW_EINVAL;
    }
    node = ndpi_patricia_lookup(t, &p);
    if (node == NULL)
        return MW_ENOMEM;
    ndpi_patricia_set_node_u64(node, value);
    tree->count++;
    return MW_OK;
}

int mw_prefix_tree_lookup(
        const mw_prefix_tree_t *tree, const uint8_t addr[16], uint64_t *value, unsigned *bits)
{
    ndpi_prefix_t p;
    ndpi_patricia_tree_t *t;
    ndpi_patricia_node_t *node;
    int v4;

    if (tree == NULL || addr == NULL)
        return 0;
    v4 = mw_addr_is_v4mapped(addr);
    t = fill_prefix(tree, addr, 128, &p);
    /* search_best only reads the tree (nDPI 4.2 keeps no search counters),
     * which is what makes concurrent lookups safe. */
    node = ndpi_patricia_search_best(t, &p);
    if (node == NULL)
        return 0;
    if (value != NULL)
        *value = ndpi_patricia_get_node_u64(node);
    if (bits != NULL)
        *bits = ndpi_patricia_get_node_bits(node) + (v4 ? 96u : 0u);
    return 1;
}

size_t mw_prefix_tree_count(const mw_prefix_tree_t *tree)
{
    return tree == NULL ? 0 : tree->count;
}

int mw_prefix_parse(const char *text, uint8_t addr[16], unsigned *bits)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash;
    size_t hlen;
    unsigned long len = 0;
    int is_v6;

    if (text == NULL || addr == NULL || bits == NULL)
        return MW_EINVAL;
    slash = strchr(text, '/');
    hlen = slash != NULL ? (size_t)(slash - text) : strlen(text);
    if (hlen == 0 || hlen >= sizeof(host))
        return MW_EINVAL;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    is_v6 = strchr(host, ':') != NULL;
    memset(addr, 0, 16);
    if (is_v6) {
        if (inet_pton(AF_INET6, host, addr) != 1)
            return MW_EINVAL;
    } else {
        memcpy(addr, v4mapped_head, sizeof(v4mapped_head));
        if (inet_pton(AF_INET, host, addr + 12) != 1)
            return MW_EINVAL;
    }
    if (slash != NULL) {
        const char *d = slash + 1;

        /* Digits only: strtoul would take "+8", " 8" or "0x8". */
        if (*d == '\0' || strlen(d) > 3)
            return MW_EINVAL;
        for (; *d != '\0'; d++) {
            if (!isdigit((unsigned char)*d))
                return MW_EINVAL;
            len = len * 10 + (unsigned long)(*d - '0');
        }
        if (len > (is_v6 ? 128u : 32u))
            return MW_EINVAL;
    } else {
        len = is_v6 ? 128 : 32;
    }
    *bits = (unsigned)len + (is_v6 ? 0u : 96u);
    return mask_host_bits(addr, *bits) ? MW_EFORMAT : MW_OK;
}

void mw_prefix_format(const uint8_t addr[16], unsigned bits, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN];

    if (buf == NULL || len == 0)
        return;
    if (bits >= 96 && mw_addr_is_v4mapped(addr)) {
        inet_ntop(AF_INET, addr + 12, host, sizeof(host));
        snprintf(buf, len, "%s/%u", host, bits - 96);
    } else {
        inet_ntop(AF_INET6, addr, host, sizeof(host));
        snprintf(buf, len, "%s/%u", host, bits);
    }
}
