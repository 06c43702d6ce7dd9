/*
 * normal_traffic.c - schedules the background. Time advances in slices of
 * one minute; within a slice each base station draws from its own PRNG
 * stream keyed by (base station, slice, traffic kind), so the background is
 * identical whether or not anomalies are injected, and periodic jobs sit on
 * fixed per-station phases as real pollers and PM timers do.
 *
 * Rates are deliberately sparse (a week of four stations is a few MB);
 * --scale multiplies the subscriber session rate for benchmarks.
 */
#include "normal_traffic.h"

#include "pkt_build.h"
#include "proto_payloads.h"
#include "ran_payloads.h"
#include "sctp_assoc.h"
#include "sessions.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Periods in seconds. */
#define P_SNMP           600
#define P_PM             (6 * 3600) /* one SFTP connection per 6 h carries the 15-minute ROP files */
#define P_ROP            900
#define P_NTP            1024
#define P_PTP            3600
#define P_NETCONF        (6 * 3600)
#define P_VES            (4 * 3600)
#define P_DNS            3600
#define P_GTPC           1800
#define P_SCTP_HB        1800
#define P_RAN_CFG        (6 * 3600)
#define UP_PEAK_PER_HOUR 1.2

enum {
    K_SNMP = 1,
    K_PM,
    K_NTP,
    K_PTP,
    K_NETCONF,
    K_VES,
    K_DNS,
    K_GTPC,
    K_SCTP,
    K_SYSLOG,
    K_SSH,
    K_USER,
    K_SWDL,
    K_PHASE
};

typedef struct {
    mw_sctp_t core, x2, xn;
    int has_x2, has_xn;
    uint16_t ptp_seq, gtpc_seq;
    uint64_t in_oct, out_oct;
    uint64_t phase[K_PHASE + 1];
} bs_state_t;

struct mw_normal {
    mw_sg_t *sg;
    bs_state_t bs[MW_SG_MAX_BS];
    int started;
};

double mw_normal_diurnal(double h)
{
    double a = exp(-pow((h - 12.5) / 3.0, 2));
    double b = exp(-pow((h - 20.5) / 2.5, 2));
    double d = exp(-pow((h + 3.5) / 2.5, 2)); /* the evening peak's tail past midnight */
    double v = 0.06 + 0.6 * a + 0.95 * b + 0.95 * d;
    return v > 1.0 ? 1.0 : v;
}

static uint16_t eph(mw_prng_t *r)
{
    /* Normal traffic draws from 32768-49151; injections count up in 50000-60999 and FTP data
     * connections use 61000-64999, so an injected 5-tuple never collides with a normal one. */
    return (uint16_t)mw_prng_range(r, 32768, 49151);
}

static uint64_t jitter_us(mw_prng_t *r, uint64_t max_us)
{
    return mw_prng_range(r, 0, max_us);
}

mw_normal_t *mw_normal_create(mw_sg_t *sg)
{
    mw_normal_t *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->sg = sg;
    for (int i = 0; i < sg->site.nbs; i++) {
        bs_state_t *b = &n->bs[i];
        mw_prng_t r;
        mw_prng_init(&r, sg->seed, (uint64_t)i, 0xfffffffful, K_PHASE);
        /* Fixed per-station phases: pollers and timers do not drift day to day. */
        for (int k = 0; k <= K_PHASE; k++)
            b->phase[k] = mw_prng_next(&r);
        b->in_oct = mw_prng_range(&r, 1u << 30, 1ull << 40);
        b->out_oct = mw_prng_range(&r, 1u << 28, 1ull << 38);
        b->ptp_seq = (uint16_t)mw_prng_next(&r);
        b->gtpc_seq = (uint16_t)mw_prng_next(&r);
    }
    return n;
}

void mw_normal_destroy(mw_normal_t *n)
{
    free(n);
}

/* First t = phase + k*period inside [t0, t1), or 0 if none. */
static uint64_t periodic_hit(uint64_t t0, uint64_t t1, uint64_t period, uint64_t phase)
{
    phase %= period;
    uint64_t k = t0 > phase ? (t0 - phase + period - 1) / period : 0;
    uint64_t t = phase + k * period;
    return (t >= t0 && t < t1) ? t : 0;
}

/* The next gNB after i in ring order, or -1 if i is not a gNB or has no gNB peer. */
static int next_gnb(const mw_sg_site_t *site, int i)
{
    if (!site->bs[i].is_gnb)
        return -1;
    for (int k = 1; k < site->nbs; k++) {
        int j = (i + k) % site->nbs;
        if (site->bs[j].is_gnb)
            return j;
    }
    return -1;
}

static void start_associations(mw_normal_t *n, uint64_t t0)
{
    mw_sg_t *sg = n->sg;
    uint8_t m[256];
    size_t len;
    for (int i = 0; i < sg->site.nbs; i++) {
        const mw_sg_bs_t *b = &sg->site.bs[i];
        bs_state_t *s = &n->bs[i];
        mw_prng_t r;
        mw_flow_t f;
        mw_prng_init(&r, sg->seed, (uint64_t)i, 0, K_SCTP);
        uint64_t t = t0 * MW_SG_US + 1000000ull + (uint64_t)i * 150000ull + jitter_us(&r, 50000);
        if (b->is_gnb)
            mw_flow_init(&f, sg, 132, b->ip, 38412, sg->site.amf, 38412);
        else
            mw_flow_init(&f, sg, 132, b->ip, 36412, sg->site.mme, 36412);
        mw_sctp_init(&s->core, &f, b->is_gnb ? MW_PPID_NGAP : MW_PPID_S1AP, 1800, &r);
        t = mw_sctp_establish(sg, &s->core, t);
        len = b->is_gnb ? mw_ran_ng_setup(m, sizeof(m), 0, b->node_id, b->tac)
                        : mw_ran_s1_setup(m, sizeof(m), 0, b->node_id, b->tac);
        t = mw_sctp_data(sg, &s->core, 0, t, m, len);
        len = b->is_gnb ? mw_ran_ng_setup(m, sizeof(m), 1, b->node_id, b->tac)
                        : mw_ran_s1_setup(m, sizeof(m), 1, b->node_id, b->tac);
        t = mw_sctp_data(sg, &s->core, 1, t + 3000, m, len);

        /* X2 towards the next station in the ring (one link per pair). */
        int nb = b->neighbour;
        if (nb >= 0 && !(sg->site.nbs == 2 && i == 1)) {
            mw_flow_init(&f, sg, 132, b->ip, 36422, sg->site.bs[nb].ip, 36422);
            mw_sctp_init(&s->x2, &f, MW_PPID_X2AP, 600, &r);
            s->has_x2 = 1;
            t = mw_sctp_establish(sg, &s->x2, t + 20000);
            len = mw_ran_x2_reset(m, sizeof(m), 0);
            t = mw_sctp_data(sg, &s->x2, 0, t, m, len);
            len = mw_ran_x2_reset(m, sizeof(m), 1);
            t = mw_sctp_data(sg, &s->x2, 1, t + 2000, m, len);
        }

        /* Xn towards the next gNB (gNB-to-gNB only; one link per pair). */
        int xn = next_gnb(&sg->site, i);
        if (xn >= 0 && !(xn < i && next_gnb(&sg->site, xn) == i)) {
            mw_flow_init(&f, sg, 132, b->ip, 38422, sg->site.bs[xn].ip, 38422);
            mw_sctp_init(&s->xn, &f, MW_PPID_XNAP, 600, &r);
            s->has_xn = 1;
            t = mw_sctp_establish(sg, &s->xn, t + 20000);
            len = mw_ran_xn_config_update(m, sizeof(m), 0);
            t = mw_sctp_data(sg, &s->xn, 0, t, m, len);
            len = mw_ran_xn_config_update(m, sizeof(m), 1);
            mw_sctp_data(sg, &s->xn, 1, t + 2000, m, len);
        }
    }
}

static void control_plane(mw_normal_t *n, int i, uint64_t t0, uint64_t t1, mw_prng_t *r)
{
    mw_sg_t *sg = n->sg;
    const mw_sg_bs_t *b = &sg->site.bs[i];
    bs_state_t *s = &n->bs[i];
    uint64_t h;
    uint8_t m[256];

    if ((h = periodic_hit(t0, t1, P_SCTP_HB, s->phase[K_SCTP])) != 0) {
        mw_sctp_heartbeat(sg, &s->core, 0, h * MW_SG_US + jitter_us(r, 900000));
        if (s->has_x2)
            mw_sctp_heartbeat(sg, &s->x2, 1, h * MW_SG_US + 200000 + jitter_us(r, 900000));
        if (s->has_xn)
            mw_sctp_heartbeat(sg, &s->xn, 1, h * MW_SG_US + 400000 + jitter_us(r, 900000));
    }
    if ((h = periodic_hit(t0, t1, P_RAN_CFG, s->phase[K_SCTP] >> 20)) != 0) {
        uint64_t t = h * MW_SG_US + jitter_us(r, 5000000);
        size_t len = b->is_gnb ? mw_ran_ng_config_update(m, sizeof(m), 0)
                               : mw_ran_s1_config_update(m, sizeof(m), 0);
        t = mw_sctp_data(sg, &s->core, 0, t, m, len);
        len = b->is_gnb ? mw_ran_ng_config_update(m, sizeof(m), 1)
                        : mw_ran_s1_config_update(m, sizeof(m), 1);
        t = mw_sctp_data(sg, &s->core, 1, t + 4000, m, len);
        if (s->has_xn) {
            len = mw_ran_xn_config_update(m, sizeof(m), 0);
            t = mw_sctp_data(sg, &s->xn, 0, t + 50000, m, len);
            len = mw_ran_xn_config_update(m, sizeof(m), 1);
            mw_sctp_data(sg, &s->xn, 1, t + 2000, m, len);
        }
    }
    if ((h = periodic_hit(t0, t1, P_GTPC, s->phase[K_GTPC])) != 0) {
        mw_flow_t f;
        mw_flow_init(&f, sg, 17, b->is_gnb ? sg->site.upf : sg->site.sgw, 2123, b->ip, 2123);
        mw_sess_gtpc_echo(sg, &f, h * MW_SG_US + jitter_us(r, 200000), r, s->gtpc_seq++, 0, 0, 1);
    }
}

static void sync_plane(mw_normal_t *n, int i, uint64_t t0, uint64_t t1, mw_prng_t *r)
{
    mw_sg_t *sg = n->sg;
    const mw_sg_bs_t *b = &sg->site.bs[i];
    bs_state_t *s = &n->bs[i];
    uint64_t h;
    uint8_t m[128];

    if ((h = periodic_hit(t0, t1, P_NTP, s->phase[K_NTP])) != 0) {
        mw_flow_t f;
        mw_flow_init(&f, sg, 17, b->ip, 123, sg->site.ntp, 123);
        mw_sess_ntp(sg, &f, h * MW_SG_US + jitter_us(r, 999999), MW_IP4(10, 40, 0, 254));
    }
    if ((h = periodic_hit(t0, t1, P_PTP, s->phase[K_PTP])) != 0) {
        /* One two-step exchange: Announce, Sync + Follow_Up, Delay_Req/Delay_Resp. */
        mw_flow_t ev, gen;
        uint64_t gm = 0x0011220000aabb01ull, me = 0x0200000000000000ull | b->ip;
        uint64_t t = h * MW_SG_US + jitter_us(r, 999999);
        size_t len;
        mw_flow_init(&ev, sg, 17, sg->site.ptp, 319, b->ip, 319);
        mw_flow_init(&gen, sg, 17, sg->site.ptp, 320, b->ip, 320);
        len = mw_pl_ptp(m, sizeof(m), MW_PTP_ANNOUNCE, s->ptp_seq, gm, t, 0);
        mw_emit_udp(sg, &gen, 0, t, m, len);
        t += 125000;
        len = mw_pl_ptp(m, sizeof(m), MW_PTP_SYNC, s->ptp_seq, gm, t, 0);
        mw_emit_udp(sg, &ev, 0, t, m, len);
        t += 180;
        len = mw_pl_ptp(m, sizeof(m), MW_PTP_FOLLOW_UP, s->ptp_seq, gm, t - 180, 0);
        mw_emit_udp(sg, &gen, 0, t, m, len);
        t += 2000;
        len = mw_pl_ptp(m, sizeof(m), MW_PTP_DELAY_REQ, s->ptp_seq, me, t, 0);
        mw_emit_udp(sg, &ev, 1, t, m, len);
        t += 350;
        len = mw_pl_ptp(m, sizeof(m), MW_PTP_DELAY_RESP, s->ptp_seq, gm, t - 300, me);
        mw_emit_udp(sg, &gen, 0, t, m, len);
        s->ptp_seq++;
    }
}

static const char *syslog_msgs[] = {
    "ALARM CLEARED: id=29216 cell=1 \"RF unit VSWR\"",
    "S1/NG link heartbeat ok, rtt=2ms",
    "PM file A20261102.ROP written (15 min)",
    "user oam-ems logged in via netconf",
    "fan speed changed to 4200 rpm",
    "cell 2 load 41% prb_dl 38%",
    "license check ok",
    "GPS lock ok, 9 satellites",
};

static void management_plane(mw_normal_t *n, int i, uint64_t t0, uint64_t t1, mw_prng_t *r)
{
    mw_sg_t *sg = n->sg;
    const mw_sg_bs_t *b = &sg->site.bs[i];
    bs_state_t *s = &n->bs[i];
    const mw_sg_site_t *site = &sg->site;
    uint64_t h;
    mw_flow_t f;
    double hour = (double)(t0 % 86400) / 3600.0;

    if ((h = periodic_hit(t0, t1, P_SNMP, s->phase[K_SNMP])) != 0) {
        mw_flow_init(&f, sg, 17, site->nms, eph(r), b->ip, 161);
        s->in_oct += mw_prng_range(r, 1u << 20, 1u << 26);
        s->out_oct += mw_prng_range(r, 1u << 19, 1u << 24);
        mw_sess_snmp(sg, &f, h * MW_SG_US + jitter_us(r, 20000), r, "oam-ro-7Qx",
                (uint32_t)((t0 - sg->start_s + 86400 * 40) * 100), s->in_oct, s->out_oct, b->id);
    }
    if ((h = periodic_hit(t0, t1, P_PM, (s->phase[K_PM] % 60) + 30)) != 0) {
        /* Each ROP closes on the quarter hour and its file follows 30-90 s later; the
         * station keeps one SFTP connection open for six hours of files. */
        uint64_t left = sg->end_s > h ? (sg->end_s - h) / P_ROP + 1 : 1;
        int rops = left < P_PM / P_ROP ? (int)left : P_PM / P_ROP;
        mw_sess_opt_t o = { 2500, 20000000, (uint64_t)P_ROP * MW_SG_US - 3 * MW_SG_US };
        mw_flow_init(&f, sg, 6, b->ip, eph(r), site->ems, 22);
        mw_sess_ssh(sg, &f, h * MW_SG_US + jitter_us(r, 999999), r,
                (size_t)rops * mw_prng_range(r, 200, 800), (size_t)rops * 30, rops, &o);
    }
    if ((h = periodic_hit(t0, t1, P_NETCONF, s->phase[K_NETCONF])) != 0) {
        mw_sess_opt_t o = { 2500, 0, 0 };
        mw_flow_init(&f, sg, 6, site->ems, eph(r), b->ip, 830);
        f.v6 = (uint8_t)mw_sg_site_dual_stack(site, b->ip); /* gNBs are managed over IPv6 */
        mw_sess_ssh(sg, &f, h * MW_SG_US + jitter_us(r, 999999), r, 800,
                (size_t)mw_prng_range(r, 1000, 3000), 2, &o);
    }
    if ((h = periodic_hit(t0, t1, P_VES, s->phase[K_VES])) != 0) {
        mw_sess_opt_t o = { 2500, 0, 0 };
        mw_flow_init(&f, sg, 6, b->ip, eph(r), site->ems, 443);
        mw_sess_tls(sg, &f, h * MW_SG_US + jitter_us(r, 999999), r, "ves.ems.oam.mno.example",
                (size_t)mw_prng_range(r, 800, 3000), 200, 1, &o);
    }
    if ((h = periodic_hit(t0, t1, P_DNS, s->phase[K_DNS])) != 0) {
        static const char *names[] = { "ems.oam.mno.example", "ntp.oam.mno.example",
            "swrepo.oam.mno.example" };
        mw_flow_init(&f, sg, 17, b->ip, eph(r), site->dns, 53);
        mw_sess_dns(sg, &f, h * MW_SG_US + jitter_us(r, 999999), r, names[mw_prng_range(r, 0, 2)],
                site->ems, 1);
    }
    /* Syslog: a few events an hour, more when the EMS is busy in the day. */
    unsigned ns = mw_prng_poisson(r, (hour > 7 && hour < 19 ? 4.0 : 2.0) / 60.0);
    for (unsigned k = 0; k < ns; k++) {
        uint8_t m[512];
        uint64_t t = t0 * MW_SG_US + jitter_us(r, 59999999);
        size_t len = mw_pl_syslog(m, sizeof(m), 16 * 8 + (int)mw_prng_range(r, 4, 6), t / MW_SG_US,
                b->id, "oamd", 1200 + (unsigned)i, syslog_msgs[mw_prng_range(r, 0, 7)]);
        mw_flow_init(&f, sg, 17, b->ip, 514, site->syslog, 514);
        f.v6 = (uint8_t)mw_sg_site_dual_stack(site, b->ip);
        mw_emit_udp(sg, &f, 0, t, m, len);
    }
    /* Interactive SSH by engineers through the EMS: office hours, Monday to Friday. */
    int dow = (int)((t0 / 86400 + 3) % 7);
    if (dow < 5 && hour >= 8 && hour < 18 && mw_prng_poisson(r, 0.25 / 60.0) > 0) {
        mw_sess_opt_t o = { 2500, 0, 0 };
        mw_flow_init(&f, sg, 6, site->ems, eph(r), b->ip, 22);
        mw_sess_ssh(sg, &f, t0 * MW_SG_US + jitter_us(r, 59999999), r,
                (size_t)mw_prng_range(r, 300, 2000), (size_t)mw_prng_range(r, 1000, 8000),
                (int)mw_prng_range(r, 3, 12), &o);
    }
    /* Weekly software download inside the maintenance window, staggered per station. */
    uint64_t wstart = (uint64_t)site->mw_start_min * 60 + 600 + (uint64_t)i * 420;
    if (mw_sg_site_in_window(site, t0) && t0 % 86400 == wstart - wstart % 60) {
        mw_sess_opt_t o = { 2500, 20000000, 0 };
        mw_flow_init(&f, sg, 6, b->ip, eph(r), site->ems, 443);
        mw_sess_tls(sg, &f, t0 * MW_SG_US + jitter_us(r, 999999), r, "swrepo.oam.mno.example", 600,
                (size_t)mw_prng_range(r, 60000, 90000), 1, &o);
    }
}

static const char *user_names[] = { "www.example.com", "cdn.example.net", "api.example.org",
    "video.example.com", "chat.example.net", "mail.example.org" };

static void user_plane(mw_normal_t *n, int i, uint64_t t0, mw_prng_t *r)
{
    mw_sg_t *sg = n->sg;
    const mw_sg_bs_t *b = &sg->site.bs[i];
    double hour = (double)(t0 % 86400) / 3600.0 + 0.5 / 60.0;
    double mean = UP_PEAK_PER_HOUR / 60.0 * mw_normal_diurnal(hour) * sg->scale;
    unsigned ns = mw_prng_poisson(r, mean);

    for (unsigned k = 0; k < ns && sg->err == 0; k++) {
        mw_flow_t f;
        uint32_t ue = b->ue_base + (uint32_t)mw_prng_range(r, 2, 250);
        uint32_t srv = MW_IP4(192, 0, 2, mw_prng_range(r, 10, 250));
        uint32_t teid_ul = (uint32_t)mw_prng_range(r, 0x100000, 0xffffffff);
        uint32_t teid_dl = (uint32_t)mw_prng_range(r, 0x100000, 0xffffffff);
        uint64_t t = t0 * MW_SG_US + jitter_us(r, 59999999);
        unsigned kind = (unsigned)mw_prng_range(r, 0, 99);
        const char *name = user_names[mw_prng_range(r, 0, 5)];
        mw_sess_opt_t o = { (uint32_t)mw_prng_range(r, 15000, 60000), 30000000, 0 };

        if (kind < 35) {
            mw_flow_init(&f, sg, 17, ue, eph(r), MW_IP4(10, 50, 0, 53), 53);
            mw_flow_tunnel(&f, sg, i, 0, teid_ul, teid_dl);
            mw_sess_dns(sg, &f, t, r, name, srv, 1);
        } else if (kind < 65) {
            mw_flow_init(&f, sg, 6, ue, eph(r), srv, 443);
            mw_flow_tunnel(&f, sg, i, 0, teid_ul, teid_dl);
            mw_sess_tls(sg, &f, t, r, name, (size_t)mw_prng_range(r, 300, 2000),
                    (size_t)mw_prng_range(r, 1000, 5000), (int)mw_prng_range(r, 1, 3), &o);
        } else if (kind < 80) {
            mw_flow_init(&f, sg, 17, ue, eph(r), srv, 443);
            mw_flow_tunnel(&f, sg, i, 0, teid_ul, teid_dl);
            mw_sess_quic(sg, &f, t, r, (int)mw_prng_range(r, 3, 8));
        } else if (kind < 90) {
            /* "video": a long TLS download in a few segments of a few tens of kB. */
            mw_flow_init(&f, sg, 6, ue, eph(r), srv, 443);
            mw_flow_tunnel(&f, sg, i, 0, teid_ul, teid_dl);
            mw_sess_tls(sg, &f, t, r, "video.example.com", 1200,
                    (size_t)mw_prng_range(r, 10000, 25000), (int)mw_prng_range(r, 2, 4), &o);
        } else {
            /* messaging: small exchanges on a long-lived connection */
            mw_flow_init(&f, sg, 6, ue, eph(r), srv, 5223);
            mw_flow_tunnel(&f, sg, i, 0, teid_ul, teid_dl);
            mw_sess_tls(
                    sg, &f, t, r, "chat.example.net", 800, 1500, (int)mw_prng_range(r, 2, 6), &o);
        }
    }
}

void mw_normal_slice(mw_normal_t *n, uint64_t t0, uint64_t t1)
{
    mw_sg_t *sg = n->sg;
    if (!n->started) {
        start_associations(n, t0);
        n->started = 1;
    }
    uint64_t slice = t0 / 60;
    for (int i = 0; i < sg->site.nbs && sg->err == 0; i++) {
        mw_prng_t r;
        mw_prng_init(&r, sg->seed, (uint64_t)i, slice, K_SCTP);
        control_plane(n, i, t0, t1, &r);
        mw_prng_init(&r, sg->seed, (uint64_t)i, slice, K_NTP);
        sync_plane(n, i, t0, t1, &r);
        mw_prng_init(&r, sg->seed, (uint64_t)i, slice, K_SNMP);
        management_plane(n, i, t0, t1, &r);
        mw_prng_init(&r, sg->seed, (uint64_t)i, slice, K_USER);
        user_plane(n, i, t0, &r);
    }
}
