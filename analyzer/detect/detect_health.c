/*
 * detect_health.c - the capture itself, in live runs where an engineer can
 * still fix it: packets the kernel or the interface dropped (what was not
 * seen cannot be judged), and a capture that sees one direction only (a
 * SPAN port mirroring one way). Not a base station's behaviour: the
 * anomaly has no station and no peer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mw.h"
#include "detect/detect_run.h"
#include "detect/detector.h"

#define SLOT_US           (15LL * 60 * 1000000) /* one-way share per quarter hour */
#define ONE_WAY_MIN_TCP   50                    /* TCP records in a slot before judging */
#define ONE_WAY_SHARE     0.9
#define DROP_MIN_PACKETS  100   /* dropped in one report before it counts */
#define DROP_SHARE_MEDIUM 0.001 /* 0.1 % of what the kernel passed */
#define DROP_SHARE_HIGH   0.05  /* 5 %: a large part of the traffic is not seen */

enum { KIND_DROPS = 0, KIND_ONE_WAY = 1, KIND_LOST = 2 };

typedef struct health {
    int64_t slot; /* start of the slot being counted, -1 none */
    uint64_t tcp, one_way;
} health_t;

static int health_init(void **state, const mw_memcap_t *cap)
{
    health_t *h = calloc(1, sizeof(*h));
    (void)cap;

    if (h == NULL)
        return MW_ENOMEM;
    h->slot = -1;
    *state = h;
    return 0;
}

static void health_fini(void *state)
{
    free(state);
}

static void judge_slot(mw_detect_ctx_t *ctx, health_t *h)
{
    mw_evidence_t ev;

    if (h->slot >= 0 && h->tcp >= ONE_WAY_MIN_TCP &&
            (double)h->one_way >= ONE_WAY_SHARE * (double)h->tcp) {
        memset(&ev, 0, sizeof(ev));
        ev.detector = MW_DET_CAPTURE_HEALTH;
        ev.severity = MW_SEV_MEDIUM;
        ev.kind = KIND_ONE_WAY;
        ev.start_us = h->slot;
        ev.end_us = h->slot + SLOT_US;
        ev.pkts_up = h->one_way;
        ev.pkts_down = h->tcp;
        ev.flows = (uint32_t)MW_MIN(h->tcp, (uint64_t)UINT32_MAX);
        ev.value = 100.0 * (double)h->one_way / (double)h->tcp;
        ev.limit = 100.0 * ONE_WAY_SHARE;
        mw_detect_report(ctx, &ev);
    }
    h->tcp = h->one_way = 0;
}

static void health_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    health_t *h = mw_detect_state(ctx, MW_DET_CAPTURE_HEALTH);
    int64_t slot = v->rec->first_us - v->rec->first_us % SLOT_US;
    (void)st;
    (void)key;
    (void)tuple;

    if (h == NULL || !mw_detect_is_live(ctx) || v->rec->l4_proto != 6 ||
            v->pkts_up + v->pkts_down < 2)
        return;
    if (slot > h->slot) {
        judge_slot(ctx, h);
        h->slot = slot;
    }
    h->tcp++;
    h->one_way += v->pkts_up == 0 || v->pkts_down == 0;
}

static void health_advance(mw_detect_ctx_t *ctx, int64_t watermark_us)
{
    health_t *h = mw_detect_state(ctx, MW_DET_CAPTURE_HEALTH);

    if (h != NULL && h->slot >= 0 && watermark_us >= h->slot + 2 * SLOT_US) {
        judge_slot(ctx, h);
        h->slot = -1;
    }
}

void mw_detect_run_capture_drops(mw_detect_run_t *run, int64_t from_us, int64_t to_us,
        uint64_t dropped, uint64_t passed, int interface)
{
    mw_detect_ctx_t *ctx = (mw_detect_ctx_t *)run;
    double share = passed + dropped ? (double)dropped / (double)(passed + dropped) : 0.0;
    mw_evidence_t ev;

    if (dropped < DROP_MIN_PACKETS || share < DROP_SHARE_MEDIUM)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.detector = MW_DET_CAPTURE_HEALTH;
    ev.severity = share >= DROP_SHARE_HIGH ? MW_SEV_HIGH : MW_SEV_MEDIUM;
    ev.kind = KIND_DROPS;
    ev.group = (uint16_t)(interface != 0); /* kernel and interface drops apart */
    ev.start_us = from_us;
    ev.end_us = to_us;
    ev.pkts_up = dropped;
    ev.pkts_down = passed;
    ev.value = 100.0 * share;
    ev.limit = 100.0 * DROP_SHARE_MEDIUM;
    ev.plane = (uint8_t)interface; /* which counter, for the explanation */
    mw_detect_report(ctx, &ev);
}

void mw_detect_run_capture_lost(mw_detect_run_t *run, int64_t from_us, int64_t to_us)
{
    mw_evidence_t ev;

    memset(&ev, 0, sizeof(ev));
    ev.detector = MW_DET_CAPTURE_HEALTH;
    ev.severity = MW_SEV_HIGH;
    ev.kind = KIND_LOST;
    ev.group = 2;
    ev.start_us = from_us;
    ev.end_us = to_us;
    ev.value = (double)(to_us - from_us) / 1e6;
    mw_detect_report((mw_detect_ctx_t *)run, &ev);
}

static void health_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    (void)ctx;
    if (a->kind == KIND_LOST)
        snprintf(out, len,
                "capture health: the interface was down or gone for %.0f s and was opened "
                "again: nothing in that time was seen",
                a->value);
    else if (a->kind == KIND_ONE_WAY)
        snprintf(out, len,
                "capture health: %.0f%% of TCP sessions (%llu of %llu) show packets in one "
                "direction only (limit %.0f%%): the capture point sees one way (a SPAN port "
                "mirroring one direction?); sessions and volumes are judged on half the traffic",
                a->value, (unsigned long long)a->packets_up, (unsigned long long)a->packets_down,
                a->limit);
    else
        snprintf(out, len,
                "capture health: the %s dropped %llu packets while %llu were captured (%.2f%%, "
                "limit %.1f%%): traffic in this time is not fully seen, so an attack in it may be "
                "missed - raise the capture buffer (-B), add threads, or filter (-f)",
                a->plane ? "interface" : "kernel", (unsigned long long)a->packets_up,
                (unsigned long long)a->packets_down, a->value, a->limit);
}

const mw_detector_ops_t mw_det_capture_health = { .name = "capture_health",
    .on_flow = health_flow,
    .on_advance = health_advance,
    .explain = health_explain,
    .init = health_init,
    .fini = health_fini,
    .gap_us = 30LL * 60 * 1000000 };
