/*
 * windows.h - per base station and window (e.g. 5 min) counts of the
 * management plane: flows, bytes up and down, distinct peers. Training folds
 * closed windows into the model's series; detection compares them with it.
 * Records may arrive late (a flow is written when it ends), so a window
 * stays open until the caller's watermark passes it.
 */
#ifndef MW_WINDOWS_H
#define MW_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

#include "classify/plane.h"

#define MW_WINDOW_MAX_PEERS 64 /* distinct peers counted exactly up to this */
#define MW_WINDOW_MAX_DESTS 64 /* (peer, service) uploads summed up to this */
#define MW_WINDOWS_MAX_OPEN 1000000u
#define MW_RATIO_MIN_BYTES  65536 /* a window's up/down ratio counts only above this traffic */

typedef struct mw_window {
    uint32_t station;
    int64_t index; /* start = index * window_us */
    uint64_t flows, up, down;
    uint32_t npeers;
    uint8_t peers[MW_WINDOW_MAX_PEERS][16];
    uint64_t first_flow_id; /* evidence for a window-level anomaly */
    /* bytes up per (peer, service), so a finding names where most of them went */
    struct mw_window_dest {
        uint8_t peer[16];
        uint8_t local[16]; /* the station's address of its largest upload */
        uint16_t service;
        uint16_t port;   /* the service port of its largest upload */
        uint64_t up;     /* summed */
        uint64_t max_up; /* its largest upload */
    } dests[MW_WINDOW_MAX_DESTS];
    uint32_t ndests;
    int dests_dropped;    /* more pairs than that: the largest single upload names the peer */
    uint8_t top_peer[16]; /* the largest single upload's (ties: lower address, port) */
    uint8_t top_local[16];
    uint16_t top_port;
    uint8_t first_local[16]; /* the station's address in the window's first record */
    uint64_t top_up;
    uint64_t svc_up[MW_SVC_COUNT]; /* bytes up per service (management protocol) */
    uint32_t svc_flows[MW_SVC_COUNT];
    uint16_t bs_index;      /* set by the caller (detection): which inventory station */
    uint32_t model_station; /* set by the caller (detection): the model station scoring it */
} mw_window_t;

typedef struct mw_windows mw_windows_t;

mw_windows_t *mw_windows_create(int64_t window_us);
void mw_windows_destroy(mw_windows_t *w);

/* The cap in bytes (default: MW_WINDOWS_MAX_OPEN windows); flows past it are counted. */
void mw_windows_set_max_bytes(mw_windows_t *w, uint64_t max_bytes);
uint64_t mw_windows_dropped(const mw_windows_t *w);

/* Accounts one management-plane flow; NULL when the cap was hit (counted). local: the
 * station's own address in the record (a station may have several, of both families): a
 * finding names the one its bytes went from. */
mw_window_t *mw_windows_add(mw_windows_t *w, uint32_t station, int64_t t_us, uint64_t up,
        uint64_t down, const uint8_t local[16], const uint8_t peer[16], uint16_t service_port,
        uint16_t service, uint64_t flow_id);

/*
 * The peer the window's management plane uploaded the most to (service < 0: over all
 * services; else over that service's), with the service port of its largest upload there
 * and the station's address it went from: 1, or 0 when nothing went up (local is then the
 * window's first record's). Ties go to the smaller address, then port. A window with more
 * than MW_WINDOW_MAX_DESTS (peer, service) pairs names the peer of its largest single
 * upload instead (its sums are not all there).
 */
int mw_window_top_peer(const mw_window_t *win, int service, uint8_t peer[16] /* OUT */,
        uint16_t *port /* OUT */, uint8_t local[16] /* OUT */);

/* up / down of a window, or -1 when it moved less than MW_RATIO_MIN_BYTES. */
double mw_window_ratio(const mw_window_t *win);

/* Calls fn for every window that ends before watermark_us (all when INT64_MAX), then drops them. */
typedef void (*mw_window_fn)(void *ctx, const mw_window_t *win);
void mw_windows_close(mw_windows_t *w, int64_t watermark_us, mw_window_fn fn, void *ctx);

#endif
