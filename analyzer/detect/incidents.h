/*
 * incidents.h - evidence grouped into incidents, in packet time.
 *
 * Evidence of one key (detector, base station, peer, group) joins one
 * incident while each piece starts within the detector's gap of the latest
 * end so far; the groups are formed over the evidence sorted by (start,
 * flow id), so they do not depend on the order records arrive in - any
 * --threads, any CPU load, any run gives the same incidents. A group is
 * final once the caller's horizon (a time no evidence still to come starts
 * before) has passed its end plus the gap. One scan of a thousand ports is
 * one incident; a beacon all day is one incident.
 *
 * Offline, finished incidents are held and handed out at the end sorted by
 * (start, detector, station, peer), numbered 1, 2, ... in that order, so
 * the anomaly tables are identical between runs. Live, an incident is
 * announced the moment its first evidence arrives ("open") and handed out
 * when final ("final"), with the same id.
 * Offline, anomalies of different detectors about one station and peer whose spans overlap
 * (within an hour) share an incident_id: one event (an exfiltration is new_peer + direction +
 * volume) reads as one incident with several findings.
 * Memory is capped in bytes; evidence past the cap is dropped and counted.
 */
#ifndef MW_INCIDENTS_H
#define MW_INCIDENTS_H

#include <stddef.h>
#include <stdint.h>

#include "detect/anomaly.h"
#include "detect/detector.h"

enum mw_incident_event { MW_INCIDENT_OPEN = 0, MW_INCIDENT_FINAL = 1 };

/* Called with a filled record (anomaly_id set; explanation empty) and its kept flow ids. */
typedef void (*mw_incident_fn)(void *ctx, enum mw_incident_event event, mw_anomaly_record_t *rec,
        const uint64_t *flow_ids, uint32_t nids);

typedef struct mw_incidents_params {
    size_t max_bytes; /* evidence and finished incidents held; > 0 */
    int live;
    mw_incident_fn emit;
    void *ctx;
} mw_incidents_params_t;

typedef struct mw_incidents mw_incidents_t;

mw_incidents_t *mw_incidents_create(const mw_incidents_params_t *p);
void mw_incidents_destroy(mw_incidents_t *in); /* NULL-safe; what is held is dropped */

/* Adds one piece of evidence; gap_us from its detector. */
void mw_incidents_add(mw_incidents_t *in, const mw_evidence_t *ev, int64_t gap_us);
/* Finalizes groups whose end + gap is before horizon_us (INT64_MAX: all), and
 * live, hands them out; offline they wait for mw_incidents_flush. */
void mw_incidents_close(mw_incidents_t *in, int64_t horizon_us);
/* Offline: hands out every finished incident in canonical order (call after close(INT64_MAX)). */
void mw_incidents_flush(mw_incidents_t *in);
/* Evidence dropped by the memory cap. */
uint64_t mw_incidents_dropped(const mw_incidents_t *in);

#endif
