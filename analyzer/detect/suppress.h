/*
 * suppress.h - the suppression file: lines of "DETECTOR BASE-STATION PEER"
 * (each may be *) naming anomalies an operator has accepted, so they are
 * not reported again. Parsing is here; the run asks mw_suppress_match.
 */
#ifndef MW_SUPPRESS_H
#define MW_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_suppress mw_suppress_t;

/* NULL with a "FILE:LINE: ..." message in errbuf on a bad file. */
mw_suppress_t *mw_suppress_load(const char *path, char *errbuf, size_t errlen);
void mw_suppress_free(mw_suppress_t *s); /* NULL-safe */
/* bs_id may be NULL (no base station). s may be NULL (nothing suppressed). */
int mw_suppress_match(const mw_suppress_t *s, unsigned detector, const char *bs_id,
        uint64_t peer_hi, uint64_t peer_lo);

#endif
