/*
 * site.h - the simulated site: which base stations exist, their addresses,
 * neighbour relations and the core/OAM servers they talk to. Both the
 * traffic generators and the inventory writer read this one model, so the
 * inventory always describes exactly the addresses that appear in the pcap.
 */
#ifndef MW_SG_SITE_H
#define MW_SG_SITE_H

#include <stdint.h>

#define MW_SG_MAX_BS 64

typedef struct {
    char id[16];
    int is_gnb;       /* 0 = LTE eNodeB (S1AP to MME), 1 = gNodeB (NGAP to AMF) */
    uint32_t ip;      /* host byte order */
    int neighbour;    /* index of the X2 peer, -1 if none */
    uint32_t node_id; /* eNB-ID (20 bits) or gNB-ID (22 bits) */
    uint16_t tac;
    uint32_t ue_base; /* first UE address of this cell's subscribers (10.100.<i>.0) */
} mw_sg_bs_t;

typedef struct {
    char name[32];
    int nbs;
    mw_sg_bs_t bs[MW_SG_MAX_BS];
    uint32_t ems, nms, syslog, mme, amf, sgw, upf, ntp, ptp, dns;
    /* Maintenance window: day of week 0 = Monday .. 6 = Sunday, minutes after midnight UTC. */
    int mw_dow, mw_start_min, mw_end_min;
} mw_sg_site_t;

/* Fills the default demo site with nbs base stations (1..MW_SG_MAX_BS). */
void mw_sg_site_init(mw_sg_site_t *s, const char *name, int nbs);
/* Index of the base station called id, or whose 1-based number is id; -1 if none. */
int mw_sg_site_find(const mw_sg_site_t *s, const char *id);
/* 1 if ip belongs to a base station. */
int mw_sg_site_is_bs(const mw_sg_site_t *s, uint32_t ip);
/* The IPv6 address of a dual-stacked host: 10.b.c.d -> 2001:db8:b:c::d (documentation prefix). */
void mw_sg_site_v6(uint32_t ip, uint8_t out[16]);
/* 1 if the host answers on IPv6 too: gNBs and the EMS/syslog servers they use it with. */
int mw_sg_site_dual_stack(const mw_sg_site_t *s, uint32_t ip);
/* 1 if the UTC time t (seconds) is inside the maintenance window. */
int mw_sg_site_in_window(const mw_sg_site_t *s, uint64_t t);

#define MW_IP4(a, b, c, d)                                                                         \
    (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

#endif
