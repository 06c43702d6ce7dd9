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

mw_ring_t *mw_ring_create(size_t size_pow2, char *errbuf, size_t errlen);
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

#endif
