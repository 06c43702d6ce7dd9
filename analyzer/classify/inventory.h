/*
 * inventory.h - the site inventory: which addresses are base stations, which
 * are EMS/NMS/core/NTP servers, and when the site's maintenance windows are.
 *
 * Engineers write it by hand in YAML (format and rules in docs/INVENTORY.md).
 * mw_inventory_load() checks it strictly - unknown keys, bad prefixes,
 * overlapping roles and bad windows are errors with "FILE:LINE: " in front -
 * because a silently ignored typo would put a base station's traffic on the
 * wrong plane for a whole capture.
 *
 * Ownership: the handle owns everything it returns (strings, YAML text); the
 * pointers stay valid until mw_inventory_destroy().
 *
 * Threads: load once, then any number of threads may call the const
 * functions concurrently. mw_inventory_load() switches the process's TZ for
 * a moment to read the zone's offsets (see inventory.c), so call it at
 * startup, before threads that format local times exist.
 */
#ifndef MW_INVENTORY_H
#define MW_INVENTORY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "classify/roles.h"

typedef struct mw_inventory mw_inventory_t;

/* Base-station generation; values are written to /meta, append only. */
enum mw_bs_type {
    MW_BS_UNKNOWN = 0,
    MW_BS_ENB, /* LTE eNodeB */
    MW_BS_GNB, /* 5G gNodeB */
    MW_BS_COUNT
};

/* Limits: every growth path is capped (STYLE.md section 4). */
#define MW_INVENTORY_MAX_FILE     (16u << 20) /* bytes of YAML */
#define MW_INVENTORY_MAX_BS       65535u      /* bs_index is a uint16 */
#define MW_INVENTORY_MAX_PREFIXES 1000000u    /* all prefixes together */
#define MW_INVENTORY_MAX_WINDOWS  256u
#define MW_INVENTORY_ID_MAX       63u /* fits the HDF5 S64 string */

/* Days bitmask of a maintenance window: bit 0 = Monday .. bit 6 = Sunday. */
#define MW_DAY_MON 0x01u
#define MW_DAY_SUN 0x40u

typedef struct mw_maint_window {
    uint8_t days;       /* days on which the window STARTS (MW_DAY_* bits) */
    uint16_t start_min; /* minutes after local midnight, 0..1439 */
    uint16_t end_min;   /* 1..1440; end <= start means it ends the next day */
} mw_maint_window_t;

/* What one address lookup found. */
typedef struct mw_inventory_match {
    uint8_t role;        /* enum mw_role; MW_ROLE_UNKNOWN when not listed */
    uint16_t bs_index;   /* 1-based base-station index when role is a base station, else 0 */
    uint8_t prefix_bits; /* matched prefix length on the 16-byte form (IPv4 /n = 96+n) */
} mw_inventory_match_t;

/* One prefix of the inventory, as listed (for /meta tables and reports). */
typedef struct mw_inventory_prefix {
    uint8_t addr[16];  /* network address, IPv4 as ::ffff:a.b.c.d */
    uint8_t bits;      /* on the 16-byte form */
    uint8_t role;      /* enum mw_role */
    uint16_t bs_index; /* 1-based when role is MW_ROLE_BASE_STATION */
    unsigned line;     /* line in the YAML file, 1-based */
} mw_inventory_prefix_t;

/*
 * Reads and checks the YAML file at path. Returns a handle, or NULL with one
 * line "PATH:LINE: what is wrong" in errbuf (LINE is 0 when the file cannot
 * be read at all). errbuf may be NULL.
 */
mw_inventory_t *mw_inventory_load(const char *path, char *errbuf, size_t errlen);
/* Frees the inventory. NULL does nothing. */
void mw_inventory_destroy(mw_inventory_t *inv);

/*
 * Longest-prefix match of a 16-byte address (IPv4 as ::ffff:a.b.c.d).
 * Returns 1 and fills *out when a prefix matches; returns 0 and sets *out to
 * role unknown / bs_index 0 when none does (or inv is NULL).
 */
int mw_inventory_lookup(
        const mw_inventory_t *inv, const uint8_t addr[16], mw_inventory_match_t *out /* OUT */);
/* The same for an address stored as flow_record.h's big-endian uint64 halves. */
int mw_inventory_lookup_u64(
        const mw_inventory_t *inv, uint64_t hi, uint64_t lo, mw_inventory_match_t *out /* OUT */);

const char *mw_inventory_site(const mw_inventory_t *inv);
/* IANA zone name as written ("UTC" when the file has none). */
const char *mw_inventory_timezone(const mw_inventory_t *inv);

/* Base stations are numbered 1..count in file order; that is bs_index. */
size_t mw_inventory_bs_count(const mw_inventory_t *inv);
/* Id of base station bs_index (1-based), NULL when out of range. */
const char *mw_inventory_bs_id(const mw_inventory_t *inv, size_t bs_index);
/* enum mw_bs_type of base station bs_index, MW_BS_UNKNOWN when out of range. */
unsigned mw_inventory_bs_type(const mw_inventory_t *inv, size_t bs_index);
/* bs_index of the base station with this id, 0 when there is none. */
size_t mw_inventory_bs_find(const mw_inventory_t *inv, const char *id);
/* The first address listed for a base station (its prefix's network address); 0 or -1.
 * Linear in the prefixes: for reports, not per packet. */
int mw_inventory_bs_address(const mw_inventory_t *inv, size_t bs_index, uint8_t out[16]);
const char *mw_bs_type_name(unsigned type);

size_t mw_inventory_window_count(const mw_inventory_t *inv);
/* Copies window i (0-based) to *out; returns 0 or MW_EINVAL when out of range. */
int mw_inventory_window(const mw_inventory_t *inv, size_t i, mw_maint_window_t *out /* OUT */);

size_t mw_inventory_prefix_count(const mw_inventory_t *inv);
/* Copies prefix i (0-based, file order) to *out; returns 0 or MW_EINVAL. */
int mw_inventory_prefix(const mw_inventory_t *inv, size_t i, mw_inventory_prefix_t *out /* OUT */);

/*
 * 1 when unix_us (microseconds since the epoch, UTC) falls inside a
 * maintenance window in the site's timezone, else 0. Lock-free.
 */
int mw_inventory_in_maintenance(const mw_inventory_t *inv, int64_t unix_us);
/* UTC offset of the site's zone at unix_s, in seconds east of UTC. */
int32_t mw_inventory_utc_offset(const mw_inventory_t *inv, int64_t unix_s);

/*
 * Prints what was loaded, for `mastwatch --check-inventory`-style use: site,
 * zone, counts, windows, prefixes per role and (up to 50) base stations with
 * their prefixes. One item per line; NULL inv or out prints nothing.
 */
void mw_inventory_print_summary(const mw_inventory_t *inv, FILE *out);

/*
 * The YAML text exactly as read (NUL-terminated; *len, when not NULL, gets
 * its length without the NUL), so the analyzer can archive the inventory
 * that produced its results next to them.
 */
const char *mw_inventory_yaml_text(const mw_inventory_t *inv, size_t *len /* OUT */);

#endif
