/*
 * sg.h - the generator's shared state: the flow description every packet
 * builder takes, and the context (site, output queue, ground truth,
 * counters) that the traffic modules write into. Modules never touch the
 * output file directly; they hand frames to pkt_build.c.
 */
#ifndef MW_SG_H
#define MW_SG_H

#include <stdint.h>

#include "pkt_queue.h"
#include "prng.h"
#include "site.h"

typedef struct mw_truth mw_truth_t;

#define MW_SG_US ((uint64_t)1000000)

/* One bidirectional flow. Endpoint 0 is the initiator; dir 0 sends 0 -> 1.
 * A tunnelled flow is carried in GTP-U between the base station (tun_ip[0])
 * and the SGW/UPF (tun_ip[1]); ue_end says which endpoint is the subscriber,
 * so its direction of travel decides uplink versus downlink. */
typedef struct {
    uint32_t ip[2];
    uint16_t port[2];
    uint8_t proto; /* 6, 17 or 132 */
    uint8_t ttl[2];
    uint8_t tunneled;
    uint8_t ue_end;
    uint8_t gtp_ext; /* 1: add a PDU Session Container (5G) extension header */
    uint8_t v6;      /* 1: carry the flow over IPv6 (mw_sg_site_v6 of ip[]); not tunnelled */
    uint8_t qfi;
    uint32_t tun_ip[2];
    uint32_t teid_ul, teid_dl;
    uint16_t ipid[2];
    uint16_t gtp_seq;
    int track; /* ground-truth flow index, -1 if not tracked */
} mw_flow_t;

typedef struct mw_sg {
    mw_sg_site_t site;
    mw_pkt_queue_t *q;
    mw_truth_t *truth;
    uint64_t seed;
    double scale;
    uint64_t start_s, end_s; /* scenario span, epoch seconds */
    uint64_t frames, bytes;
    int err;         /* first error from a builder; generation stops when set */
    int cur_anomaly; /* >= 0 while the injector runs: sessions register their flows */
} mw_sg_t;

/* Fills a plain flow between a and b; ports/proto given, TTLs chosen from the site. */
void mw_flow_init(mw_flow_t *f, const mw_sg_t *sg, uint8_t proto, uint32_t a, uint16_t pa,
        uint32_t b, uint16_t pb);
/* Turns f into a GTP-U tunnelled subscriber flow through base station bs. */
void mw_flow_tunnel(
        mw_flow_t *f, const mw_sg_t *sg, int bs, int ue_end, uint32_t teid_ul, uint32_t teid_dl);

#endif
