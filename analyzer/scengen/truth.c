/*
 * truth.c - keeps the injected anomalies and their flows and writes them as
 * a JSON array, one object per anomaly:
 *   { "id", "type", "plane", "base_station", "start", "end", "start_iso",
 *     "end_iso", "params", "description", "flows": [ { "proto", "src",
 *     "sport", "dst", "dport", "first", "last", "first_iso", "last_iso",
 *     "packets", "bytes", "tunnel"? } ] }
 * "start"/"end" are the configured window; each flow's first/last are the
 * stamps of its first and last frame in the pcap. The ledger is capped so a
 * huge scenario cannot grow it without bound.
 */
#include "truth.h"

#include "core/mw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ANOMALIES 256
#define MAX_FLOWS     200000

typedef struct {
    int anomaly;
    mw_flow_t f;
    uint64_t first, last, packets, bytes;
} track_t;

typedef struct {
    char type[24], plane[16], bs[16];
    uint64_t start, end;
    char *params, *desc;
} anomaly_t;

struct mw_truth {
    anomaly_t a[MAX_ANOMALIES];
    int na;
    track_t *tr;
    int nt, tcap;
    uint64_t dropped; /* flows not recorded because the ledger was full */
};

mw_truth_t *mw_truth_create(void)
{
    return calloc(1, sizeof(mw_truth_t));
}

void mw_truth_destroy(mw_truth_t *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < t->na; i++) {
        free(t->a[i].params);
        free(t->a[i].desc);
    }
    free(t->tr);
    free(t);
}

int mw_truth_add_anomaly(mw_truth_t *t, const char *type, const char *plane, const char *bs,
        uint64_t start_s, uint64_t end_s, const char *params_json, const char *description)
{
    if (t->na >= MAX_ANOMALIES)
        return MW_EFULL;
    anomaly_t *a = &t->a[t->na];
    memset(a, 0, sizeof(*a));
    snprintf(a->type, sizeof(a->type), "%s", type);
    snprintf(a->plane, sizeof(a->plane), "%s", plane);
    snprintf(a->bs, sizeof(a->bs), "%s", bs);
    a->start = start_s;
    a->end = end_s;
    a->params = strdup(params_json ? params_json : "{}");
    a->desc = strdup(description ? description : "");
    if (a->params == NULL || a->desc == NULL) {
        free(a->params);
        free(a->desc);
        return MW_ENOMEM;
    }
    return t->na++;
}

int mw_truth_add_flow(mw_truth_t *t, int a, const mw_flow_t *f)
{
    if (a < 0 || a >= t->na)
        return MW_EINVAL;
    /* A periodic injection that reuses its 5-tuple (NTP 123<->123, GTP-C 2123<->2123) is
     * one flow: look back over the most recent flows of this anomaly. */
    for (int k = t->nt - 1, seen = 0; k >= 0 && seen < 16; k--) {
        const mw_flow_t *g = &t->tr[k].f;
        if (t->tr[k].anomaly != a)
            continue;
        seen++;
        if (g->proto == f->proto && g->ip[0] == f->ip[0] && g->ip[1] == f->ip[1] &&
                g->port[0] == f->port[0] && g->port[1] == f->port[1] && g->tunneled == f->tunneled)
            return k;
    }
    if (t->nt >= MAX_FLOWS) {
        t->dropped++;
        return MW_EFULL;
    }
    if (t->nt == t->tcap) {
        int ncap = t->tcap ? t->tcap * 2 : 64;
        track_t *n = realloc(t->tr, (size_t)ncap * sizeof(*n));
        if (n == NULL)
            return MW_ENOMEM;
        t->tr = n;
        t->tcap = ncap;
    }
    track_t *tr = &t->tr[t->nt];
    memset(tr, 0, sizeof(*tr));
    tr->anomaly = a;
    tr->f = *f;
    tr->f.track = t->nt;
    return t->nt++;
}

uint64_t mw_truth_dropped(const mw_truth_t *t)
{
    return t->dropped;
}

void mw_truth_touch(mw_truth_t *t, int track, uint64_t t_us, uint32_t len)
{
    if (t == NULL || track < 0 || track >= t->nt)
        return;
    track_t *tr = &t->tr[track];
    if (tr->packets == 0 || t_us < tr->first)
        tr->first = t_us;
    if (t_us > tr->last)
        tr->last = t_us;
    tr->packets++;
    tr->bytes += len;
}

void mw_iso8601(uint64_t s, char *out, size_t len)
{
    time_t tt = (time_t)s;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void ip_str(uint32_t ip, int v6, char *out, size_t len)
{
    if (v6) {
        uint8_t a[16];
        mw_sg_site_v6(ip, a);
        if (inet_ntop(AF_INET6, a, out, (socklen_t)len) != NULL)
            return;
    }
    snprintf(out, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static const char *proto_name(uint8_t p)
{
    return p == 6 ? "tcp" : p == 17 ? "udp" : p == 132 ? "sctp" : "other";
}

static void write_flow(FILE *fp, const track_t *tr, int last)
{
    char s[48], d[48], fi[32], la[32];
    const mw_flow_t *f = &tr->f;
    ip_str(f->ip[0], f->v6, s, sizeof(s));
    ip_str(f->ip[1], f->v6, d, sizeof(d));
    mw_iso8601(tr->first / MW_SG_US, fi, sizeof(fi));
    mw_iso8601(tr->last / MW_SG_US, la, sizeof(la));
    fprintf(fp,
            "      {\"proto\": \"%s\", \"src\": \"%s\", \"sport\": %u, \"dst\": \"%s\", "
            "\"dport\": %u, \"first\": %" PRIu64 ".%06" PRIu64 ", \"last\": %" PRIu64 ".%06" PRIu64
            ", \"first_iso\": \"%s\", \"last_iso\": \"%s\", \"packets\": %" PRIu64
            ", \"bytes\": %" PRIu64,
            proto_name(f->proto), s, f->port[0], d, f->port[1], tr->first / MW_SG_US,
            tr->first % MW_SG_US, tr->last / MW_SG_US, tr->last % MW_SG_US, fi, la, tr->packets,
            tr->bytes);
    if (f->tunneled) {
        char o0[16], o1[16];
        ip_str(f->tun_ip[0], 0, o0, sizeof(o0));
        ip_str(f->tun_ip[1], 0, o1, sizeof(o1));
        fprintf(fp,
                ", \"tunnel\": {\"encap\": \"gtpu\", \"ran_ip\": \"%s\", \"core_ip\": \"%s\", "
                "\"teid_ul\": %u, \"teid_dl\": %u, \"ue_end\": \"%s\"}",
                o0, o1, f->teid_ul, f->teid_dl, f->ue_end == 0 ? "src" : "dst");
    }
    fprintf(fp, "}%s\n", last ? "" : ",");
}

int mw_truth_write(const mw_truth_t *t, const char *path, char *errbuf, size_t errlen)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        snprintf(errbuf, errlen, "cannot write %s: %s", path, strerror(errno));
        return MW_EIO;
    }
    fprintf(fp, "[\n");
    for (int i = 0; i < t->na; i++) {
        const anomaly_t *a = &t->a[i];
        char st[32], en[32];
        int nflows = 0, done = 0;
        mw_iso8601(a->start, st, sizeof(st));
        mw_iso8601(a->end, en, sizeof(en));
        for (int k = 0; k < t->nt; k++)
            nflows += t->tr[k].anomaly == i && t->tr[k].packets > 0;
        fprintf(fp,
                "  {\"id\": %d, \"type\": \"%s\", \"plane\": \"%s\", \"base_station\": \"%s\",\n"
                "   \"start\": %" PRIu64 ", \"end\": %" PRIu64
                ", \"start_iso\": \"%s\", \"end_iso\": \"%s\",\n"
                "   \"params\": %s,\n   \"description\": \"%s\",\n   \"flows\": [\n",
                i + 1, a->type, a->plane, a->bs, a->start, a->end, st, en, a->params, a->desc);
        for (int k = 0; k < t->nt; k++) {
            if (t->tr[k].anomaly != i || t->tr[k].packets == 0)
                continue;
            write_flow(fp, &t->tr[k], ++done == nflows);
        }
        fprintf(fp, "   ]}%s\n", i + 1 == t->na ? "" : ",");
    }
    fprintf(fp, "]\n");
    if (ferror(fp) | (fclose(fp) != 0)) {
        snprintf(errbuf, errlen, "cannot write %s", path);
        return MW_EIO;
    }
    return MW_OK;
}
