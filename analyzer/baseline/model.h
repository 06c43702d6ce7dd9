/*
 * model.h - the baseline: what each base station's traffic normally looks
 * like, learned from clean traffic (trainer.c), stored under models/
 * (output/h5_model.c), merged across files or machines, and read by the
 * detectors.
 *
 * Per base station (by id, so a model survives re-numbering of the
 * inventory) it holds:
 *   - tuples: every (peer, responder port, l4, service, nDPI app, who opened
 *     it, plane) seen, with counts, bytes each way, first/last seen, the
 *     largest flow, the longest session, the largest packet, the hours of
 *     day it happens at and the nDPI risks it already had;
 *   - window series of the management plane per window (flows, bytes up,
 *     bytes down, distinct peers, up/down ratio) as mergeable sums, and per
 *     management protocol (bytes up, flows);
 *   - an hour-of-week profile of management flows and upload bytes;
 *   - the longest DNS name and label it asked for.
 * Everything merges by sums, min/max and ORs: merge(A, B) == train(A + B)
 * when A and B share no window.
 */
#ifndef MW_MODEL_H
#define MW_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "baseline/stats.h"
#include "baseline/windows.h"
#include "classify/plane.h"

#define MW_MODEL_VERSION    5
#define MW_MODEL_ID_LEN     64
#define MW_MODEL_APP_LEN    32
#define MW_HOURS_OF_WEEK    168
#define MW_MODEL_MAX_TUPLES 4000000u /* cap: a model never grows past this */
/* Role groups are stations named "group:enb", "group:gnb": all stations of a type together. */
#define MW_GROUP_PREFIX "group:"

typedef struct mw_tuple_key {
    uint32_t station; /* index into the model's station table */
    uint8_t peer[16]; /* the other side's address */
    uint16_t port;    /* responder's port (service port), 0 when none */
    uint16_t service; /* enum mw_service */
    uint8_t l4_proto;
    uint8_t initiator;          /* enum mw_initiator */
    uint8_t plane;              /* enum mw_plane */
    uint8_t inner;              /* 1 = seen inside GTP-U */
    char app[MW_MODEL_APP_LEN]; /* nDPI label by name: ids change between nDPI releases */
} mw_tuple_key_t;

typedef struct mw_tuple_stats {
    uint64_t flows;
    uint64_t bytes_up, bytes_down; /* up = sent by the base station */
    int64_t first_us, last_us;
    uint64_t max_up, max_down; /* largest single flow record */
    uint64_t max_down_offwin;  /* largest download outside maintenance windows */
    int64_t max_duration_us;
    uint32_t max_pkt_len;    /* largest packet either way */
    uint32_t hours_mask;     /* bit h: a flow started at local hour h */
    uint64_t risk_mask;      /* nDPI risks already seen here */
    uint32_t max_flows_hour; /* most flows started in one clock hour (UTC) */
    uint32_t pad_;
} mw_tuple_stats_t;

typedef struct mw_station {
    char id[MW_MODEL_ID_LEN];
    uint8_t type;              /* enum mw_bs_type */
    int64_t first_us, last_us; /* training span of this station */
    uint64_t records;
    mw_series_t win_flows, win_up, win_down, win_peers; /* management plane, active windows */
    mw_series_t win_ratio;                /* up / down of windows moving >= MW_RATIO_MIN_BYTES */
    mw_series_t svc_up[MW_SVC_COUNT];     /* per management protocol: bytes up per window */
    mw_series_t svc_flows[MW_SVC_COUNT];  /* ... and flows per window (windows it was active) */
    uint64_t how_flows[MW_HOURS_OF_WEEK]; /* hour-of-week (local, Monday 00h = 0) */
    uint64_t how_up[MW_HOURS_OF_WEEK];
    uint32_t dns_max_name, dns_max_label;
} mw_station_t;

typedef struct mw_model mw_model_t;

typedef struct mw_model_meta {
    int64_t window_us;
    int64_t first_us, last_us; /* whole training span */
    char ndpi_version[32];
    char site[MW_MODEL_ID_LEN];
} mw_model_meta_t;

mw_model_t *mw_model_create(int64_t window_us, char *errbuf, size_t errlen);
void mw_model_destroy(mw_model_t *m); /* NULL-safe */

mw_model_meta_t *mw_model_meta(mw_model_t *m);
const mw_model_meta_t *mw_model_meta_const(const mw_model_t *m);

/* Station by id; created when missing (NULL only when out of memory). */
mw_station_t *mw_model_station(mw_model_t *m, const char *id, uint32_t *index /* OUT */);
const mw_station_t *mw_model_find_station(const mw_model_t *m, const char *id, uint32_t *index);
size_t mw_model_station_count(const mw_model_t *m);

/*
 * Whether a station's windows have been learned well enough to score (volume): 20 h between
 * its first and last training record, 24 windows with management traffic, and management
 * traffic in 20 different hours of the week - two hours of capture two days apart span two
 * days but are not 20 h of training.
 */
int mw_station_learned(const mw_station_t *s);
const mw_station_t *mw_model_station_at(const mw_model_t *m, size_t i);

/* Tuple stats by key; created zeroed when missing and create is set. */
mw_tuple_stats_t *mw_model_tuple(mw_model_t *m, const mw_tuple_key_t *key, int create);
const mw_tuple_stats_t *mw_model_lookup(const mw_model_t *m, const mw_tuple_key_t *key);

/* Calls fn for every tuple, in a canonical order (sorted by key). */
typedef void (*mw_tuple_fn)(void *ctx, const mw_tuple_key_t *key, const mw_tuple_stats_t *st);
int mw_model_foreach_tuple(const mw_model_t *m, mw_tuple_fn fn, void *ctx);
size_t mw_model_tuple_count(const mw_model_t *m);

/* Adds everything of from into into (stations matched by id). 0 or MW_E*. */
int mw_model_merge(mw_model_t *into, const mw_model_t *from, char *errbuf, size_t errlen);

/* Key helpers */
void mw_tuple_merge(mw_tuple_stats_t *into, const mw_tuple_stats_t *from);
void mw_station_merge(mw_station_t *into, const mw_station_t *from);

#endif
