/*
 * site.c - the default demo site. Addresses come from private and
 * documentation ranges only (10.0.0.0/8 inside the operator, 192.0.2.0/24
 * for subscribers' Internet servers); 203.0.113.0/24 and 198.51.100.0/24
 * are kept for the "external" peers of injected behaviours, so a reader of
 * the pcap can tell injected peers apart at a glance. gNBs, the EMS and the
 * syslog collector are dual-stacked: their IPv6 address is derived from the
 * IPv4 one inside 2001:db8::/32.
 */
#include "site.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mw_sg_site_init(mw_sg_site_t *s, const char *name, int nbs)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    if (nbs < 1)
        nbs = 1;
    if (nbs > MW_SG_MAX_BS)
        nbs = MW_SG_MAX_BS;
    s->nbs = nbs;
    for (int i = 0; i < nbs; i++) {
        mw_sg_bs_t *b = &s->bs[i];
        /* Alternate LTE and NR so every site exercises both control planes. */
        b->is_gnb = (i % 2) == 1;
        snprintf(b->id, sizeof(b->id), "%s-%03d", b->is_gnb ? "gnb" : "enb", i + 1);
        b->ip = MW_IP4(10, 10, 1, 11 + i);
        b->neighbour = nbs > 1 ? (i + 1) % nbs : -1;
        b->node_id = 0x1000u + (uint32_t)i;
        b->tac = (uint16_t)(100 + i / 4);
        b->ue_base = MW_IP4(10, 100, i, 0);
    }
    s->ems = MW_IP4(10, 20, 0, 10);
    s->nms = MW_IP4(10, 20, 0, 11);
    s->syslog = MW_IP4(10, 20, 0, 12);
    s->mme = MW_IP4(10, 30, 0, 1);
    s->amf = MW_IP4(10, 30, 0, 2);
    s->sgw = MW_IP4(10, 30, 0, 3);
    s->upf = MW_IP4(10, 30, 0, 4);
    s->ntp = MW_IP4(10, 40, 0, 1);
    s->ptp = MW_IP4(10, 40, 0, 2);
    s->dns = MW_IP4(10, 40, 0, 53);
    s->mw_dow = 6; /* Sunday */
    s->mw_start_min = 2 * 60;
    s->mw_end_min = 4 * 60;
}

int mw_sg_site_find(const mw_sg_site_t *s, const char *id)
{
    char *end;
    long n;

    for (int i = 0; i < s->nbs; i++)
        if (strcmp(s->bs[i].id, id) == 0)
            return i;
    n = strtol(id, &end, 10);
    if (*id != '\0' && *end == '\0' && n >= 1 && n <= s->nbs)
        return (int)n - 1;
    return -1;
}

int mw_sg_site_is_bs(const mw_sg_site_t *s, uint32_t ip)
{
    for (int i = 0; i < s->nbs; i++)
        if (s->bs[i].ip == ip)
            return 1;
    return 0;
}

void mw_sg_site_v6(uint32_t ip, uint8_t out[16])
{
    memset(out, 0, 16);
    out[0] = 0x20;
    out[1] = 0x01;
    out[2] = 0x0d;
    out[3] = 0xb8;
    out[5] = (uint8_t)(ip >> 16);
    out[7] = (uint8_t)(ip >> 8);
    out[15] = (uint8_t)ip;
}

int mw_sg_site_dual_stack(const mw_sg_site_t *s, uint32_t ip)
{
    if (ip == s->ems || ip == s->syslog)
        return 1;
    for (int i = 0; i < s->nbs; i++)
        if (s->bs[i].ip == ip)
            return s->bs[i].is_gnb;
    return 0;
}

int mw_sg_site_in_window(const mw_sg_site_t *s, uint64_t t)
{
    /* 1970-01-01 was a Thursday: day index 3 when Monday is 0. */
    int dow = (int)((t / 86400 + 3) % 7);
    int min = (int)((t % 86400) / 60);
    return dow == s->mw_dow && min >= s->mw_start_min && min < s->mw_end_min;
}
