/*
 * pkt_queue.h - reorders generated frames by timestamp before they are
 * written. Sessions are generated whole (a TCP upload is produced from SYN to
 * FIN at once), so their frames interleave with later sessions; the queue
 * holds frames until the generator promises that nothing earlier can come.
 */
#ifndef MW_SG_PKT_QUEUE_H
#define MW_SG_PKT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "pcap_out.h"

typedef struct mw_pkt_queue mw_pkt_queue_t;

/* max_bytes caps the frames held at once (MW_EFULL beyond it). */
mw_pkt_queue_t *mw_pkt_queue_create(size_t max_bytes);
void mw_pkt_queue_destroy(mw_pkt_queue_t *q);
/* Copies a frame in. Frames with equal stamps keep their push order. */
int mw_pkt_queue_push(mw_pkt_queue_t *q, uint64_t t_us, const uint8_t *frame, uint32_t len);
/* Writes, in time order, every held frame stamped before limit_us (all if limit_us is
 * UINT64_MAX). *written (OUT) counts frames written. 0 or a negative MW_E* code. */
int mw_pkt_queue_flush(mw_pkt_queue_t *q, uint64_t limit_us, mw_pcap_out_t *w, uint64_t *written);

#endif
