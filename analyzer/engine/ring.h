/*
 * ring.h - single-producer single-consumer byte ring that carries decoded
 * packets from the reader thread to one worker. Entries are variable
 * length and contiguous (an entry never wraps), so a worker reads a packet
 * in place without copying it again. A full ring blocks the reader: an
 * offline run loses nothing, and a live run lets the kernel ring absorb the
 * burst, where drops are counted by pcap_stats.
 */
#ifndef MW_RING_H
#define MW_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_ring mw_ring_t;
/* What a consumer sleeps on; one bell can serve every ring a consumer reads. */
typedef struct mw_ring_bell mw_ring_bell_t;

mw_ring_bell_t *mw_ring_bell_create(char *errbuf, size_t errlen);
void mw_ring_bell_destroy(mw_ring_bell_t *bell); /* NULL-safe; after its rings */

/* bell: the consumer's, shared by all the rings it reads (NULL: the ring's own). */
mw_ring_t *mw_ring_create(size_t size_pow2, mw_ring_bell_t *bell, char *errbuf, size_t errlen);
void mw_ring_destroy(mw_ring_t *ring); /* NULL-safe */

/* Producer: space for len bytes (blocks while full), then commit. */
void *mw_ring_reserve(mw_ring_t *ring, size_t len);
void mw_ring_commit(mw_ring_t *ring);
/* Producer: makes committed entries visible to the consumer (batching); wakes it only
 * once enough is waiting. */
void mw_ring_publish(mw_ring_t *ring);
/* Producer: the same, and wakes the consumer for whatever is waiting (quiet link, end). */
void mw_ring_flush(mw_ring_t *ring);

/*
 * Consumer: next entry or NULL after waiting up to wait_ms for one. *len
 * is the length given to reserve. Call mw_ring_release() when done with it.
 */
void *mw_ring_peek(mw_ring_t *ring, size_t *len /* OUT */, int wait_ms);
void mw_ring_release(mw_ring_t *ring);

/* Consumer of n rings sharing one bell: waits up to wait_ms until any holds an entry;
 * 1 when one does. */
int mw_ring_wait_any(mw_ring_t *const *rings, unsigned n, int wait_ms);

#endif
