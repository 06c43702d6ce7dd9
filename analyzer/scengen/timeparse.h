/*
 * timeparse.h - the small time grammar of the command line: absolute
 * ISO 8601 instants, clock times on a scenario day, offsets from the
 * scenario start, durations with unit suffixes and byte counts.
 */
#ifndef MW_SG_TIMEPARSE_H
#define MW_SG_TIMEPARSE_H

#include <stdint.h>

/* "2026-11-02", "2026-11-02T14:00", "2026-11-02T14:00:30Z" -> epoch seconds (UTC). */
int mw_parse_iso(const char *s, uint64_t *out);
/* "300", "90s", "5m", "1h30m", "2d" -> seconds (> 0 unless allow_zero). */
int mw_parse_duration(const char *s, uint64_t *out);
/* An instant: ISO 8601, "+<duration>" from base, or "HH:MM[:SS]" on the day starting at day0. */
int mw_parse_instant(const char *s, uint64_t base, uint64_t day0, uint64_t *out);
/* "2000000", "500k", "2M", "1G" (powers of 1000). */
int mw_parse_bytes(const char *s, uint64_t *out);

#endif
