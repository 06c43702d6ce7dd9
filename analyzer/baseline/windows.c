/*
 * windows.c - open windows in a growable array, closed in time order. The
 * number of open windows is small (stations x windows of lateness), so a
 * linear search is fine and keeps the code obvious.
 */
#include "baseline/windows.h"

#include <stdlib.h>
#include <string.h>

#include "core/mw.h"

struct mw_windows {
    int64_t window_us;
    mw_window_t *open;
    size_t n, cap;
    size_t max_open; /* from the memory cap */
    uint64_t dropped;
};

mw_windows_t *mw_windows_create(int64_t window_us)
{
    mw_windows_t *w = calloc(1, sizeof(*w));

    if (w != NULL) {
        w->window_us = window_us > 0 ? window_us : 300000000;
        w->max_open = MW_WINDOWS_MAX_OPEN;
    }
    return w;
}

void mw_windows_destroy(mw_windows_t *w)
{
    if (w == NULL)
        return;
    free(w->open);
    free(w);
}

/* 1 when (peer, port) comes before the window's largest single upload of equal size. */
static int top_tie_first(const mw_window_t *win, const uint8_t peer[16], uint16_t service_port)
{
    int c = memcmp(peer, win->top_peer, 16);

    return c < 0 || (c == 0 && service_port < win->top_port);
}

static int same_dest(const struct mw_window_dest *d, const uint8_t peer[16], uint16_t service)
{
    return d->service == service && memcmp(d->peer, peer, 16) == 0;
}

/* Sums one upload into its (peer, service); the port and local address of the largest one
 * stay. */
static void add_dest(mw_window_t *win, const uint8_t local[16], const uint8_t peer[16],
        uint16_t service, uint16_t service_port, uint64_t up)
{
    struct mw_window_dest *d = NULL;
    uint32_t i;

    /* the largest single upload, for a window with more pairs than are summed; ties go to
     * the smaller address, then port, so arrival order never decides */
    if (up > win->top_up || (up == win->top_up && top_tie_first(win, peer, service_port))) {
        win->top_up = up;
        memcpy(win->top_peer, peer, 16);
        memcpy(win->top_local, local, 16);
        win->top_port = service_port;
    }
    for (i = 0; i < win->ndests; i++)
        if (same_dest(&win->dests[i], peer, service)) {
            d = &win->dests[i];
            break;
        }
    if (d == NULL) {
        if (win->ndests == MW_WINDOW_MAX_DESTS) {
            win->dests_dropped = 1; /* the sums are not all there: see mw_window_top_peer */
            return;
        }
        d = &win->dests[win->ndests++];
        memcpy(d->peer, peer, 16);
        memcpy(d->local, local, 16);
        d->service = service;
        d->port = service_port;
    }
    d->up += up;
    /* the largest upload's port; ties to the smaller port, so arrival order never decides */
    if (up > d->max_up || (up == d->max_up && service_port < d->port)) {
        d->max_up = up;
        d->port = service_port;
        memcpy(d->local, local, 16);
    }
}

static int dest_wanted(const struct mw_window_dest *d, int service)
{
    return service < 0 || d->service == service;
}

int mw_window_top_peer(
        const mw_window_t *win, int service, uint8_t peer[16], uint16_t *port, uint8_t local[16])
{
    const struct mw_window_dest *best = NULL; /* the top peer's largest upload */
    uint64_t best_up = 0;
    uint32_t i, j;

    memcpy(local, win->first_local, 16);
    if (win->dests_dropped) {
        if (win->top_up == 0)
            return 0;
        memcpy(peer, win->top_peer, 16);
        memcpy(local, win->top_local, 16);
        *port = win->top_port;
        return 1;
    }
    for (i = 0; i < win->ndests; i++) {
        const struct mw_window_dest *d = &win->dests[i], *big = d;
        uint64_t up = 0;
        int seen = 0;
        if (!dest_wanted(d, service))
            continue;
        for (j = 0; j < win->ndests && !seen; j++) { /* each peer once: at its first entry */
            const struct mw_window_dest *e = &win->dests[j];
            if (!dest_wanted(e, service) || memcmp(e->peer, d->peer, 16) != 0)
                continue;
            seen = j < i;
            up += e->up;
            if (e->max_up > big->max_up || (e->max_up == big->max_up && e->port < big->port))
                big = e;
        }
        if (seen || up == 0)
            continue;
        /* ties go to the smaller address, so arrival order never decides */
        if (best == NULL || up > best_up ||
                (up == best_up && memcmp(d->peer, best->peer, 16) < 0)) {
            best = big;
            best_up = up;
        }
    }
    if (best == NULL)
        return 0;
    memcpy(peer, best->peer, 16);
    memcpy(local, best->local, 16);
    *port = best->port;
    return 1;
}

mw_window_t *mw_windows_add(mw_windows_t *w, uint32_t station, int64_t t_us, uint64_t up,
        uint64_t down, const uint8_t local[16], const uint8_t peer[16], uint16_t service_port,
        uint16_t service, uint64_t flow_id)
{
    /* the same slots as flow records cut at the windows' edges (flow_table.c) */
    int64_t idx = mw_floor_div(t_us, w->window_us);
    mw_window_t *win = NULL;
    size_t i;

    for (i = w->n; i-- > 0;) { /* newest last: most records belong to recent windows */
        if (w->open[i].station == station && w->open[i].index == idx) {
            win = &w->open[i];
            break;
        }
    }
    if (win == NULL) {
        if (w->n >= w->max_open) {
            w->dropped++;
            return NULL;
        }
        if (w->n == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 64;
            mw_window_t *n = realloc(w->open, cap * sizeof(*n));
            if (n == NULL) {
                w->dropped++;
                return NULL;
            }
            w->open = n;
            w->cap = cap;
        }
        win = &w->open[w->n++];
        memset(win, 0, sizeof(*win));
        win->station = station;
        win->index = idx;
        win->first_flow_id = flow_id;
        memcpy(win->first_local, local, 16);
    }
    if (flow_id < win->first_flow_id) {
        win->first_flow_id = flow_id; /* the earliest, whatever the arrival order */
        memcpy(win->first_local, local, 16);
    }
    win->flows++;
    win->up += up;
    win->down += down;
    if (service < MW_SVC_COUNT) {
        win->svc_up[service] += up;
        win->svc_flows[service]++;
    }
    for (i = 0; i < win->npeers && i < MW_WINDOW_MAX_PEERS; i++)
        if (memcmp(win->peers[i], peer, 16) == 0)
            break;
    if (i == win->npeers) {
        if (win->npeers < MW_WINDOW_MAX_PEERS)
            memcpy(win->peers[win->npeers], peer, 16);
        win->npeers++;
    }
    if (up > 0)
        add_dest(win, local, peer, service, service_port, up);
    return win;
}

double mw_window_ratio(const mw_window_t *win)
{
    if (win->up + win->down < MW_RATIO_MIN_BYTES)
        return -1.0;
    return (double)win->up / (double)(win->down + 1);
}

static int cmp_window(const void *a, const void *b)
{
    const mw_window_t *x = a, *y = b;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return x->station < y->station ? -1 : (x->station > y->station);
}

void mw_windows_close(mw_windows_t *w, int64_t watermark_us, mw_window_fn fn, void *ctx)
{
    size_t i, kept = 0;

    if (w->n == 0)
        return; /* qsort must not get the NULL array of an empty set */
    qsort(w->open, w->n, sizeof(*w->open), cmp_window);
    for (i = 0; i < w->n; i++) {
        int64_t end = (w->open[i].index + 1) * w->window_us;
        if (watermark_us == INT64_MAX || end <= watermark_us)
            fn(ctx, &w->open[i]);
        else
            w->open[kept++] = w->open[i];
    }
    w->n = kept;
}

void mw_windows_set_max_bytes(mw_windows_t *w, uint64_t max_bytes)
{
    uint64_t n = max_bytes / sizeof(mw_window_t);

    w->max_open = n < 16 ? 16 : (n > MW_WINDOWS_MAX_OPEN ? MW_WINDOWS_MAX_OPEN : (size_t)n);
}

uint64_t mw_windows_dropped(const mw_windows_t *w)
{
    return w->dropped;
}
