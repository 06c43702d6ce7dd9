/*
 * inject.c - the anomalies of DESIGN.md (A1..A11), one generator each. An
 * injection is a schedule (a fixed number of sessions spread over its
 * window, or a periodic one with jitter) and a session script borrowed
 * from sessions.c; only the peer, the direction, the port or the time of
 * day differs from normal traffic. Each injection has its own PRNG stream,
 * so adding one does not perturb the background or the others.
 */
#include "inject.h"

#include "core/mw.h"
#include "pkt_build.h"
#include "sessions.h"
#include "timeparse.h"
#include "truth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INJECT 64
#define MAX_TIMES  1024

enum itype {
    I_NEW_PEER,
    I_BEACON,
    I_EXFIL,
    I_TELNET,
    I_UNKNOWN,
    I_SSH_OUT,
    I_HTTPS_OUT,
    I_GTP_MGMT,
    I_DNS_TUNNEL,
    I_CREDS,
    I_GTPDOOR,
    I_OFF_WINDOW,
    I_NEW_NTP,
    I_COUNT
};

typedef struct {
    const char *name, *plane;
    int periodic;
    const char *start, *end; /* default window on the chosen day */
    uint32_t peer;           /* 0: a site address chosen at run time */
    uint16_t port;
    uint64_t period, jitter, bytes;
    int count;
    const char *proto;
    const char *help;
} itype_t;

static const itype_t types[I_COUNT] = {
    { "new_peer", "management", 0, "10:00", "11:00", MW_IP4(203, 0, 113, 45), 8443, 0, 0, 40000, 3,
            "tls", "A1 base station talks TLS to an external peer never seen before" },
    { "beacon", "management", 1, "08:00", "20:00", MW_IP4(203, 0, 113, 77), 443, 300, 15, 300, 0,
            "tls", "A6 periodic small TLS sessions to an external host (period, jitter)" },
    { "exfil", "management", 0, "01:30", "03:00", MW_IP4(198, 51, 100, 23), 443, 0, 0, 2000000, 1,
            "tls", "A5 large upload at night to an external host (bytes, rate)" },
    { "telnet", "management", 0, "11:00", "11:30", 0, 23, 0, 0, 0, 1, "telnet",
            "A2 Telnet session from the EMS to the base station" },
    { "unknown_proto", "management", 0, "12:00", "12:30", 0, 47123, 0, 0, 20000, 2, "raw",
            "A2 unclassifiable TCP protocol between the base station and the EMS" },
    { "ssh_out", "management", 0, "13:00", "13:10", 0, 22, 0, 0, 8000, 1, "ssh",
            "A3 base station opens SSH (default: to its X2 neighbour, lateral movement)" },
    { "https_out", "management", 0, "13:30", "13:40", MW_IP4(198, 51, 100, 80), 443, 0, 0, 5000, 1,
            "tls", "A3 base station opens HTTPS to an external host" },
    { "gtp_mgmt", "user", 0, "15:00", "15:30", 0, 22, 0, 0, 5000, 2, "ssh",
            "A4 SSH (proto=ssh, to the EMS) or SNMP (proto=snmp, to the base station) inside "
            "GTP-U" },
    { "dns_tunnel", "management", 1, "16:00", "16:30", 0, 53, 10, 3, 0, 0, "dns",
            "A9 DNS queries with long random labels via the operator resolver (period, jitter)" },
    { "cleartext_creds", "management", 0, "17:00", "17:05", MW_IP4(198, 51, 100, 21), 21, 0, 0,
            50000, 1, "ftp",
            "A8 FTP USER/PASS (proto=ftp) or Telnet login (proto=telnet) in clear" },
    { "gtpdoor", "control", 1, "18:00", "22:00", MW_IP4(198, 51, 100, 99), 2123, 900, 120, 0, 0,
            "ie",
            "A4 GTP-C Echo Requests hiding bytes in a Private Extension IE (proto=ie) or after "
            "the declared length (proto=trailer), GTPDOOR-like" },
    { "off_window", "management", 0, "14:00", "14:20", 0, 443, 0, 0, 400000, 1, "tls",
            "A7 software download outside the maintenance window" },
    { "new_ntp", "sync", 1, "20:00", "24:00", MW_IP4(198, 51, 100, 123), 123, 64, 0, 0, 0, "ntp",
            "A11 NTP queries to a new time source (period)" },
};

typedef struct {
    int type, bs;
    uint64_t start, end, period, jitter, bytes, rate;
    uint32_t peer;
    uint16_t port;
    int count;
    char proto[16];
    mw_prng_t r;
    uint64_t times[MAX_TIMES]; /* microseconds */
    int ntimes, next_idx;
    uint64_t next_us; /* periodic types */
    uint16_t seq;
    uint16_t next_port; /* ephemeral ports go up one by one, as an OS allocates them */
    int anomaly;
} inj_t;

struct mw_inject {
    mw_sg_t *sg;
    inj_t *v;
    int n;
};

mw_inject_t *mw_inject_create(mw_sg_t *sg)
{
    mw_inject_t *in = calloc(1, sizeof(*in));
    if (in == NULL)
        return NULL;
    in->v = calloc(MAX_INJECT, sizeof(inj_t));
    if (in->v == NULL) {
        free(in);
        return NULL;
    }
    in->sg = sg;
    return in;
}

void mw_inject_destroy(mw_inject_t *in)
{
    if (in == NULL)
        return;
    free(in->v);
    free(in);
}

void mw_inject_help(void *fpv)
{
    FILE *fp = fpv;
    for (int i = 0; i < I_COUNT; i++)
        fprintf(fp, "  %-16s %s [default %s-%s]\n", types[i].name, types[i].help, types[i].start,
                types[i].end);
}

static int parse_ip(const char *s, uint32_t *out)
{
    unsigned a, b, c, d;
    char tail;
    if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 || c > 255 ||
            d > 255)
        return MW_EINVAL;
    *out = MW_IP4(a, b, c, d);
    return MW_OK;
}

int mw_inject_add(mw_inject_t *in, const char *spec, char *errbuf, size_t errlen)
{
    mw_sg_t *sg = in->sg;
    char buf[512], *save = NULL;
    const char *start_s = NULL, *end_s = NULL;
    uint64_t day = 0;

    if (in->n >= MAX_INJECT) {
        snprintf(errbuf, errlen, "too many --inject (max %d)", MAX_INJECT);
        return MW_EFULL;
    }
    if (strlen(spec) >= sizeof(buf)) {
        snprintf(errbuf, errlen, "--inject spec too long");
        return MW_EINVAL;
    }
    snprintf(buf, sizeof(buf), "%s", spec);
    char *colon = strchr(buf, ':');
    if (colon)
        *colon = '\0';
    int type = -1;
    for (int i = 0; i < I_COUNT; i++)
        if (strcmp(buf, types[i].name) == 0)
            type = i;
    if (type < 0) {
        snprintf(errbuf, errlen, "unknown injection type '%s' (see --help)", buf);
        return MW_EINVAL;
    }
    const itype_t *T = &types[type];
    inj_t *j = &in->v[in->n];
    memset(j, 0, sizeof(*j));
    j->type = type;
    j->bs = 0;
    j->peer = T->peer;
    j->port = T->port;
    j->period = T->period;
    j->jitter = T->jitter;
    j->bytes = T->bytes;
    j->count = T->count;
    j->rate = type == I_EXFIL ? 4000000 : 20000000;
    snprintf(j->proto, sizeof(j->proto), "%s", T->proto);

    for (char *kv = colon ? strtok_r(colon + 1, ",", &save) : NULL; kv;
            kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        int bad = 0;
        if (eq == NULL) {
            snprintf(errbuf, errlen, "--inject %s: expected key=value, got '%s'", T->name, kv);
            return MW_EINVAL;
        }
        *eq = '\0';
        const char *k = kv, *v = eq + 1;
        uint64_t x = 0;
        if (strcmp(k, "bs") == 0) {
            j->bs = mw_sg_site_find(&sg->site, v);
            bad = j->bs < 0;
        } else if (strcmp(k, "start") == 0) {
            start_s = v;
        } else if (strcmp(k, "end") == 0) {
            end_s = v;
        } else if (strcmp(k, "day") == 0) {
            bad = mw_parse_duration(v, &day) != 0; /* plain number of days */
        } else if (strcmp(k, "peer") == 0) {
            bad = parse_ip(v, &j->peer) != 0;
        } else if (strcmp(k, "port") == 0) {
            bad = mw_parse_duration(v, &x) != 0 || x == 0 || x > 65535;
            j->port = (uint16_t)x;
        } else if (strcmp(k, "period") == 0) {
            bad = mw_parse_duration(v, &j->period) != 0 || j->period == 0;
        } else if (strcmp(k, "jitter") == 0) {
            bad = mw_parse_duration(v, &j->jitter) != 0;
        } else if (strcmp(k, "bytes") == 0) {
            bad = mw_parse_bytes(v, &j->bytes) != 0 || j->bytes > 500000000ULL;
        } else if (strcmp(k, "rate") == 0) {
            bad = mw_parse_bytes(v, &j->rate) != 0 || j->rate < 8000;
        } else if (strcmp(k, "count") == 0) {
            bad = mw_parse_duration(v, &x) != 0 || x < 1 || x > MAX_TIMES;
            j->count = (int)x;
        } else if (strcmp(k, "proto") == 0) {
            snprintf(j->proto, sizeof(j->proto), "%s", v);
            if (type == I_GTP_MGMT)
                bad = strcmp(v, "ssh") != 0 && strcmp(v, "snmp") != 0;
            else if (type == I_CREDS)
                bad = strcmp(v, "ftp") != 0 && strcmp(v, "telnet") != 0;
            else if (type == I_GTPDOOR)
                bad = strcmp(v, "ie") != 0 && strcmp(v, "trailer") != 0;
            else
                bad = 1;
        } else {
            snprintf(errbuf, errlen, "--inject %s: unknown parameter '%s'", T->name, k);
            return MW_EINVAL;
        }
        if (bad) {
            snprintf(errbuf, errlen, "--inject %s: bad value for %s: '%s'", T->name, k, v);
            return MW_EINVAL;
        }
    }
    day = day >= 86400 ? day / 86400 : day; /* "day=2" parses as 2 seconds: treat as days */
    uint64_t day0 = sg->start_s - sg->start_s % 86400 + day * 86400;
    if (mw_parse_instant(start_s ? start_s : T->start, sg->start_s, day0, &j->start) ||
            mw_parse_instant(end_s ? end_s : T->end, sg->start_s, day0, &j->end)) {
        snprintf(errbuf, errlen, "--inject %s: bad start/end time", T->name);
        return MW_EINVAL;
    }
    /* A default window that falls before a mid-day scenario start moves to the next day;
     * a window running past the scenario end is cut there, so the truth never promises
     * traffic the capture cannot contain. */
    if (start_s == NULL && end_s == NULL && j->start < sg->start_s) {
        j->start += 86400;
        j->end += 86400;
    }
    if (j->end > sg->end_s && j->start < sg->end_s)
        j->end = sg->end_s;
    if (j->end <= j->start) {
        snprintf(errbuf, errlen, "--inject %s: end must be after start", T->name);
        return MW_EINVAL;
    }
    if (j->start < sg->start_s || j->start >= sg->end_s) {
        snprintf(errbuf, errlen, "--inject %s: start is outside the scenario", T->name);
        return MW_EINVAL;
    }
    if (j->jitter >= j->period && T->periodic && j->period > 0)
        j->jitter = j->period / 2;
    /* Site addresses for types whose default peer is inside the site. */
    if (j->peer == 0) {
        const mw_sg_bs_t *b = &sg->site.bs[j->bs];
        switch (type) {
            case I_SSH_OUT:
                j->peer = b->neighbour >= 0 ? sg->site.bs[b->neighbour].ip : sg->site.ems;
                break;
            case I_GTP_MGMT:
                j->peer = strcmp(j->proto, "snmp") == 0 ? b->ip : sg->site.ems;
                if (strcmp(j->proto, "snmp") == 0)
                    j->port = 161;
                break;
            case I_DNS_TUNNEL:
                j->peer = sg->site.dns;
                break;
            default:
                j->peer = sg->site.ems;
                break;
        }
    }
    if (type == I_CREDS && strcmp(j->proto, "telnet") == 0 && j->port == 21)
        j->port = 23;
    mw_prng_init(&j->r, sg->seed, 0x494e4a00u + (uint64_t)in->n, (uint64_t)type, (uint64_t)j->bs);
    in->n++;
    return MW_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int mw_inject_prepare(mw_inject_t *in)
{
    mw_sg_t *sg = in->sg;
    for (int k = 0; k < in->n; k++) {
        inj_t *j = &in->v[k];
        const itype_t *T = &types[j->type];
        char params[512], peer[16];
        snprintf(peer, sizeof(peer), "%u.%u.%u.%u", j->peer >> 24, (j->peer >> 16) & 255,
                (j->peer >> 8) & 255, j->peer & 255);
        snprintf(params, sizeof(params),
                "{\"peer\": \"%s\", \"port\": %u, \"proto\": \"%s\", \"period\": %llu, "
                "\"jitter\": %llu, \"bytes\": %llu, \"count\": %d}",
                peer, j->port, j->proto, (unsigned long long)(T->periodic ? j->period : 0),
                (unsigned long long)(T->periodic ? j->jitter : 0), (unsigned long long)j->bytes,
                T->periodic ? 0 : j->count);
        int a = mw_truth_add_anomaly(sg->truth, T->name, T->plane, sg->site.bs[j->bs].id, j->start,
                j->end, params, T->help);
        if (a < 0)
            return a;
        j->anomaly = a;
        if (T->periodic) {
            j->next_us = j->start * MW_SG_US + mw_prng_range(&j->r, 0, 999999);
        } else {
            /* Spread count sessions over the window, leaving room for the session itself. */
            uint64_t span = (j->end - j->start) * MW_SG_US;
            uint64_t room = span > 60 * MW_SG_US ? span - 30 * MW_SG_US : span / 2;
            j->ntimes = j->count;
            for (int i = 0; i < j->ntimes; i++)
                j->times[i] = j->start * MW_SG_US + mw_prng_range(&j->r, 0, room);
            qsort(j->times, (size_t)j->ntimes, sizeof(uint64_t), cmp_u64);
            if (j->type == I_OFF_WINDOW || j->type == I_EXFIL)
                j->times[0] = j->start * MW_SG_US + mw_prng_range(&j->r, 0, 5 * MW_SG_US);
        }
    }
    return MW_OK;
}

static uint16_t eph_next(inj_t *j)
{
    if (j->next_port < 50000 || j->next_port >= 60999)
        j->next_port = (uint16_t)mw_prng_range(&j->r, 50000, 58000);
    return j->next_port++;
}

static void dns_tunnel_name(mw_prng_t *r, char *out, size_t cap)
{
    char a[64], b[64];
    size_t la = (size_t)mw_prng_range(r, 40, 60), lb = (size_t)mw_prng_range(r, 20, 40);
    mw_prng_alnum(r, a, la);
    mw_prng_alnum(r, b, lb);
    a[la] = b[lb] = '\0';
    snprintf(out, cap, "%s.%s.t.cdn-metrics.example", a, b);
}

static void run_one(mw_inject_t *in, inj_t *j, uint64_t t)
{
    mw_sg_t *sg = in->sg;
    const mw_sg_bs_t *b = &sg->site.bs[j->bs];
    mw_prng_t *r = &j->r;
    mw_flow_t f;
    mw_sess_opt_t o = { 30000, j->rate, 0 };

    switch (j->type) {
        case I_NEW_PEER:
            mw_flow_init(&f, sg, 6, b->ip, eph_next(j), j->peer, j->port);
            mw_sess_tls(
                    sg, &f, t, r, "sync.cloud-mirror.example", j->bytes / 2, j->bytes / 2, 3, &o);
            break;
        case I_BEACON:
            mw_flow_init(&f, sg, 6, b->ip, eph_next(j), j->peer, j->port);
            mw_sess_tls(sg, &f, t, r, "img.tracker-cdn.example", j->bytes, 200, 1, &o);
            break;
        case I_EXFIL:
            mw_flow_init(&f, sg, 6, b->ip, eph_next(j), j->peer, j->port);
            mw_sess_tls(sg, &f, t, r, "backup.storage-share.example", j->bytes, 2000, 4, &o);
            break;
        case I_TELNET:
            mw_flow_init(&f, sg, 6, j->peer, eph_next(j), b->ip, j->port);
            mw_sess_telnet(sg, &f, t, r, "admin", "admin");
            break;
        case I_UNKNOWN:
            mw_flow_init(&f, sg, 6, b->ip, eph_next(j), j->peer, j->port);
            mw_sess_raw_tcp(sg, &f, t, r, j->bytes / 4, j->bytes, 4);
            break;
        case I_SSH_OUT:
            mw_flow_init(&f, sg, 6, b->ip, eph_next(j), j->peer, j->port);
            o.rtt_us = 3000;
            mw_sess_ssh(sg, &f, t, r, j->bytes / 4, j->bytes, 6, &o);
            break;
        case I_HTTPS_OUT:
            mw_flow_init(&f, sg, 6, b->ip, eph_next(j), j->peer, j->port);
            mw_sess_tls(sg, &f, t, r, "paste.example.net", j->bytes, j->bytes / 2, 2, &o);
            break;
        case I_GTP_MGMT: {
            uint32_t ue = b->ue_base + 77;
            uint32_t tu = (uint32_t)mw_prng_range(r, 0x100000, 0xffffffff);
            uint32_t td = (uint32_t)mw_prng_range(r, 0x100000, 0xffffffff);
            if (strcmp(j->proto, "snmp") == 0) {
                mw_flow_init(&f, sg, 17, ue, eph_next(j), j->peer, j->port);
                mw_flow_tunnel(&f, sg, j->bs, 0, tu, td);
                mw_sess_snmp(sg, &f, t, r, "public", 12345678, 1000, 2000, b->id);
            } else {
                mw_flow_init(&f, sg, 6, ue, eph_next(j), j->peer, j->port);
                mw_flow_tunnel(&f, sg, j->bs, 0, tu, td);
                mw_sess_ssh(sg, &f, t, r, j->bytes / 4, j->bytes, 4, &o);
            }
            break;
        }
        case I_DNS_TUNNEL: {
            char name[256];
            dns_tunnel_name(r, name, sizeof(name));
            mw_flow_init(&f, sg, 17, b->ip, eph_next(j), j->peer, j->port);
            mw_sess_dns(sg, &f, t, r, name, MW_IP4(198, 51, 100, 53), 1);
            break;
        }
        case I_CREDS:
            if (strcmp(j->proto, "telnet") == 0) {
                mw_flow_init(&f, sg, 6, b->ip, eph_next(j), j->peer, j->port);
                mw_sess_telnet(sg, &f, t, r, "root", "Nokia123!");
            } else {
                mw_flow_init(&f, sg, 6, b->ip, eph_next(j), j->peer, j->port);
                mw_sess_ftp(sg, &f, t, r, "pmupload", "Upl0ad#2026", "cfg_backup.tgz", j->bytes, 1);
            }
            break;
        case I_GTPDOOR:
            mw_flow_init(&f, sg, 17, j->peer, j->port, b->ip, 2123);
            mw_sess_gtpc_echo(sg, &f, t, r, j->seq++, (size_t)mw_prng_range(r, 48, 220),
                    strcmp(j->proto, "trailer") == 0, 1);
            break;
        case I_OFF_WINDOW:
            mw_flow_init(&f, sg, 6, b->ip, eph_next(j), j->peer, j->port);
            o.rtt_us = 2500;
            mw_sess_tls(sg, &f, t, r, "swrepo.oam.mno.example", 600, j->bytes, 1, &o);
            break;
        case I_NEW_NTP:
            mw_flow_init(&f, sg, 17, b->ip, 123, j->peer, j->port);
            mw_sess_ntp(sg, &f, t, MW_IP4(198, 51, 100, 1));
            break;
        default:
            break;
    }
}

void mw_inject_slice(mw_inject_t *in, uint64_t t0, uint64_t t1)
{
    mw_sg_t *sg = in->sg;
    uint64_t lo = t0 * MW_SG_US, hi = t1 * MW_SG_US;
    for (int k = 0; k < in->n && sg->err == 0; k++) {
        inj_t *j = &in->v[k];
        sg->cur_anomaly = j->anomaly;
        if (types[j->type].periodic) {
            while (j->next_us < hi && j->next_us < j->end * MW_SG_US) {
                if (j->next_us >= lo)
                    run_one(in, j, j->next_us);
                int64_t jit = j->jitter
                                      ? (int64_t)mw_prng_range(&j->r, 0, 2 * j->jitter * MW_SG_US) -
                                                (int64_t)(j->jitter * MW_SG_US)
                                      : 0;
                j->next_us = (uint64_t)((int64_t)(j->next_us + j->period * MW_SG_US) + jit);
            }
        } else {
            while (j->next_idx < j->ntimes && j->times[j->next_idx] < hi) {
                if (j->times[j->next_idx] >= lo)
                    run_one(in, j, j->times[j->next_idx]);
                j->next_idx++;
            }
        }
        sg->cur_anomaly = -1;
    }
}
