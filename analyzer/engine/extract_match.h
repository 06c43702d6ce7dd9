/*
 * extract_match.h - which packets are evidence: the 5-tuples of flow
 * records (both directions) within a time window, or every packet of the
 * window. Flows carried in a tunnel match on their inner 5-tuple, so the
 * tunnel packets that carry them are chosen; GTP-U inner flows also need
 * their tunnel's endpoints (subscriber addresses repeat across cores).
 * Later IP fragments follow the first fragment of their datagram.
 */
#ifndef MW_EXTRACT_MATCH_H
#define MW_EXTRACT_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "flow/flow_record.h"

typedef struct mw_match mw_match_t;

/* Packets from from_us to to_us inclusive. */
mw_match_t *mw_match_create(int64_t from_us, int64_t to_us);

/* Adds a flow record; tunnel is the record of its tunnel (GTP-U inner flows) or NULL. */
int mw_match_add_flow(mw_match_t *m, const mw_flow_record_t *rec, const mw_flow_record_t *tunnel);

/* 1 when the packet is evidence (every packet of the window when no flow was added). */
int mw_match_packet(mw_match_t *m, const mw_raw_packet_t *raw);

void mw_match_destroy(mw_match_t *m);

#endif
