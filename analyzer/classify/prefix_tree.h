/*
 * prefix_tree.h - longest-prefix match from IP prefixes to a small integer.
 *
 * The site inventory names thousands of prefixes (base stations, EMS, core
 * nodes) and every flow record asks "which prefix holds this address?" twice,
 * so the lookup must not scan. This wrapper hides nDPI's Patricia tree behind
 * a handle that speaks the project's 16-byte address form, so that only
 * prefix_tree.c includes ndpi_api.h (STYLE.md section 6).
 *
 * Addresses are 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d). Prefixes
 * inside ::ffff:0:0/96 with at least 96 bits are kept as IPv4 prefixes, so
 * 10.0.0.0/8 and ::ffff:10.0.0.0/104 are the same prefix. IPv4 addresses only
 * match IPv4 prefixes: 0.0.0.0/0 covers every IPv4 address, ::/0 covers every
 * IPv6 address that is not IPv4-mapped.
 *
 * Threads: build the tree from one thread, then any number of threads may
 * call mw_prefix_tree_lookup() concurrently; lookups do not write.
 */
#ifndef MW_PREFIX_TREE_H
#define MW_PREFIX_TREE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_prefix_tree mw_prefix_tree_t;

/* Creates an empty tree, or NULL when out of memory. */
mw_prefix_tree_t *mw_prefix_tree_create(void);
/* Frees the tree. NULL does nothing. */
void mw_prefix_tree_destroy(mw_prefix_tree_t *tree);

/*
 * Adds addr/bits (bits 0..128 on the 16-byte form) with a value. Host bits
 * below the prefix length are ignored. Returns 0 when added, MW_EINVAL when
 * the same prefix is already present (its value goes to *existing when
 * existing is not NULL; the tree is unchanged), MW_ENOMEM, or MW_EINVAL for
 * bits > 128.
 */
int mw_prefix_tree_insert(mw_prefix_tree_t *tree, const uint8_t addr[16], unsigned bits,
        uint64_t value, uint64_t *existing /* OUT, may be NULL */);

/*
 * Longest-prefix match. Returns 1 and fills *value (and *bits on the 16-byte
 * form, when not NULL) when a prefix covers addr, 0 when none does.
 */
int mw_prefix_tree_lookup(const mw_prefix_tree_t *tree, const uint8_t addr[16],
        uint64_t *value /* OUT */, unsigned *bits /* OUT, may be NULL */);

/* Number of prefixes stored. */
size_t mw_prefix_tree_count(const mw_prefix_tree_t *tree);

/*
 * Parses "a.b.c.d/n", "x:y::z/n" or a bare address (a host prefix) into the
 * 16-byte form and a prefix length on that form (IPv4 /n becomes 96 + n).
 * Returns 0, MW_EINVAL for text that is not a prefix, or MW_EFORMAT when
 * host bits below the length are set (addr then holds the masked network).
 */
int mw_prefix_parse(const char *text, uint8_t addr[16] /* OUT */, unsigned *bits /* OUT */);

/* Formats addr/bits the way mw_prefix_parse reads it ("10.0.0.0/8"). */
void mw_prefix_format(const uint8_t addr[16], unsigned bits, char *buf, size_t len);

#endif
