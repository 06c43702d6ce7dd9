/*
 * ndpi_floor - the least any tool that labels a capture's flows with nDPI
 * the way mastwatch does can take: libpcap's read loop, a bare flow table
 * (open addressing on the 5-tuple, flows ended after mastwatch's default
 * idle timeouts) and mastwatch's own classifier (classify/classify_ndpi.c:
 * the same nDPI module, the same calls, limits, waiting SYNs and extra
 * dissection). Nothing else: no statistics, records, planes, tunnels,
 * threads or output. Its time against ndpiReader's is the highest ratio a
 * tool calling nDPI this way could reach on the capture. Plain Ethernet
 * (and 802.1Q) captures only; a GTP-U packet is its outer UDP flow here.
 * With --no-ndpi the same loop without the classifier: reading and the
 * table alone, so the difference is what nDPI's calls cost.
 * Prints: flows <n> ndpi_calls <n> seconds <wall>
 * usage: ndpi_floor [--no-ndpi] FILE.pcap
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "classify/classify_ndpi.h"
#include "core/mw.h"

#define FIRST_BITS  12 /* slots at first: doubled when a sweep leaves them over half full */
#define CHUNK_FLOWS 1024
#define SWEEP_US    (60LL * 1000000) /* idle flows are looked for once a minute of packets */
#define UDP_IDLE_US (120LL * 1000000)  /* mastwatch's --idle-timeout default */
#define TCP_IDLE_US (1800LL * 1000000) /* its --tcp-idle-timeout default */

typedef struct {
    uint8_t addr[2][16]; /* lower address first: both directions are one flow */
    uint16_t port[2];
    uint8_t proto, used;
} flow_key_t;

typedef struct flow {
    void *state;
    uint32_t packets;
    int done;
    int64_t last_us;
    struct flow *next_free;
    mw_flow_record_t rec; /* where the labels go */
} flow_t;

typedef struct {
    flow_key_t key;
    uint64_t hash;
    flow_t *f;
} slot_t;

typedef struct chunk {
    struct chunk *next;
    flow_t flows[CHUNK_FLOWS];
} chunk_t;

typedef struct {
    mw_classifier_t *c;
    slot_t *slots;
    flow_t *free_flows;
    chunk_t *chunks;
    size_t live, nslots;
    int no_ndpi;
    int64_t last_sweep_us;
    unsigned long long flows, calls;
} floor_t;

static uint64_t key_hash(const flow_key_t *k)
{
    return XXH3_64bits(k, sizeof(*k));
}

static void end_flow(floor_t *fl, slot_t *s)
{
    if (!s->f->done && !fl->no_ndpi)
        mw_classifier_finish(fl->c, &s->f->state, &s->f->rec);
    s->f->next_free = fl->free_flows;
    fl->free_flows = s->f;
    s->key.used = 0;
    fl->live--;
}

/* The flows put where a lookup finds them, in n slots: 0, or -1 out of memory. */
static int rehash(floor_t *fl, size_t n)
{
    slot_t *slots = calloc(n, sizeof(*slots));
    size_t i, j;

    if (slots == NULL)
        return -1;
    for (i = 0; i < fl->nslots; i++) {
        if (!fl->slots[i].key.used)
            continue;
        for (j = fl->slots[i].hash & (n - 1); slots[j].key.used; j = (j + 1) & (n - 1))
            ;
        slots[j] = fl->slots[i];
    }
    free(fl->slots);
    fl->slots = slots;
    fl->nslots = n;
    return 0;
}

/* Ends idle flows (every flow with all), then rehashes the rest: a slot freed inside a
 * probe run would hide the flows after it. 0, or -1 out of memory. */
static int sweep(floor_t *fl, int64_t now_us, int all)
{
    size_t i;

    for (i = 0; i < fl->nslots; i++) {
        slot_t *s = &fl->slots[i];
        if (s->key.used &&
                (all || now_us - s->f->last_us > (s->key.proto == 6 ? TCP_IDLE_US : UDP_IDLE_US)))
            end_flow(fl, s);
    }
    return all ? 0 : rehash(fl, fl->nslots);
}

static slot_t *find(floor_t *fl, const flow_key_t *k, uint64_t hash)
{
    size_t mask = fl->nslots - 1, i = hash & mask;

    while (fl->slots[i].key.used &&
            (fl->slots[i].hash != hash || memcmp(&fl->slots[i].key, k, sizeof(*k)) != 0))
        i = (i + 1) & mask;
    return &fl->slots[i];
}

static void packet(floor_t *fl, const struct pcap_pkthdr *h, const uint8_t *d)
{
    uint32_t off = 14, ip_len, l4_off, payload_len;
    uint16_t type;
    int64_t ts = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
    flow_key_t k;
    slot_t *s;
    uint64_t hash;
    int swap;

    if (h->caplen < 14)
        return;
    type = (uint16_t)(d[12] << 8 | d[13]);
    while ((type == 0x8100 || type == 0x88a8) && h->caplen >= off + 4) {
        type = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
        off += 4;
    }
    memset(&k, 0, sizeof(k));
    if (type == 0x0800 && h->caplen >= off + 20) {
        ip_len = (uint32_t)(d[off + 2] << 8 | d[off + 3]);
        l4_off = off + (uint32_t)(d[off] & 15) * 4;
        k.proto = d[off + 9];
        memcpy(k.addr[0], d + off + 12, 4);
        memcpy(k.addr[1], d + off + 16, 4);
        if ((d[off + 6] & 0x3f) != 0 || d[off + 7] != 0)
            return; /* fragments: mastwatch joins them, this floor does not */
    } else if (type == 0x86dd && h->caplen >= off + 40) {
        ip_len = 40u + (uint32_t)(d[off + 4] << 8 | d[off + 5]);
        l4_off = off + 40;
        k.proto = d[off + 6];
        memcpy(k.addr[0], d + off + 8, 16);
        memcpy(k.addr[1], d + off + 24, 16);
    } else {
        return;
    }
    ip_len = MW_MIN(ip_len, h->caplen - off);
    if ((k.proto != 6 && k.proto != 17) || l4_off + (k.proto == 6 ? 20u : 8u) > off + ip_len)
        return;
    k.port[0] = (uint16_t)(d[l4_off] << 8 | d[l4_off + 1]);
    k.port[1] = (uint16_t)(d[l4_off + 2] << 8 | d[l4_off + 3]);
    payload_len = off + ip_len - l4_off - (k.proto == 6 ? (uint32_t)(d[l4_off + 12] >> 4) * 4 : 8u);
    if (payload_len > ip_len)
        payload_len = 0;
    swap = memcmp(k.addr[0], k.addr[1], 16) > 0 ||
           (memcmp(k.addr[0], k.addr[1], 16) == 0 && k.port[0] > k.port[1]);
    if (swap) {
        uint8_t a[16];
        uint16_t p = k.port[0];
        memcpy(a, k.addr[0], 16);
        memcpy(k.addr[0], k.addr[1], 16);
        memcpy(k.addr[1], a, 16);
        k.port[0] = k.port[1];
        k.port[1] = p;
    }
    k.used = 1;
    hash = key_hash(&k);
    s = find(fl, &k, hash);
    if (!s->key.used) {
        flow_t *f;
        if (fl->free_flows == NULL) { /* a chunk more, its flows onto the free list */
            chunk_t *c = malloc(sizeof(*c));
            size_t i;
            if (c == NULL)
                return;
            c->next = fl->chunks;
            fl->chunks = c;
            for (i = 0; i < CHUNK_FLOWS; i++) {
                c->flows[i].next_free = fl->free_flows;
                fl->free_flows = &c->flows[i];
            }
        }
        f = fl->free_flows;
        fl->free_flows = f->next_free;
        memset(f, 0, sizeof(*f));
        f->rec.l4_proto = k.proto;
        s->key = k;
        s->hash = hash;
        s->f = f;
        fl->flows++;
        fl->live++;
    }
    s->f->last_us = ts;
    s->f->packets++;
    if (!s->f->done && !fl->no_ndpi) {
        fl->calls++;
        s->f->done = mw_classifier_process(fl->c, &s->f->state, d + off, ip_len, payload_len, ts,
                             s->f->packets, &s->f->rec) == 1;
    }
}

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE], why[MW_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const uint8_t *d;
    struct timespec t0, t1;
    floor_t fl = { 0 };
    unsigned long long n = 0;
    pcap_t *p;

    fl.no_ndpi = argc == 3 && strcmp(argv[1], "--no-ndpi") == 0;
    if (argc != 2 + fl.no_ndpi) {
        fprintf(stderr, "usage: ndpi_floor [--no-ndpi] FILE.pcap\n");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    p = pcap_open_offline(argv[argc - 1], err);
    if (p == NULL || pcap_datalink(p) != DLT_EN10MB) {
        fprintf(stderr, "ndpi_floor: %s\n", p == NULL ? err : "not an Ethernet capture");
        return 1;
    }
    fl.c = fl.no_ndpi ? NULL : mw_classifier_create(why, sizeof(why));
    fl.nslots = (size_t)1 << FIRST_BITS;
    fl.slots = calloc(fl.nslots, sizeof(*fl.slots));
    if ((fl.c == NULL && !fl.no_ndpi) || fl.slots == NULL) {
        fprintf(stderr, "ndpi_floor: %s\n", fl.c == NULL ? why : "out of memory");
        return 1;
    }
    while (pcap_next_ex(p, &h, &d) == 1) {
        int64_t ts = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
        packet(&fl, h, d);
        if (ts - fl.last_sweep_us > SWEEP_US || fl.live > fl.nslots / 4 * 3) {
            fl.last_sweep_us = ts;
            if (sweep(&fl, ts, 0) != 0 ||
                    (fl.live > fl.nslots / 2 && rehash(&fl, fl.nslots * 2) != 0)) {
                fprintf(stderr, "ndpi_floor: out of memory\n");
                return 1;
            }
        }
        n++;
    }
    (void)sweep(&fl, 0, 1); /* every flow ends: nothing to rehash */
    pcap_close(p);
    mw_classifier_destroy(fl.c);
    free(fl.slots);
    while (fl.chunks != NULL) {
        chunk_t *c = fl.chunks;
        fl.chunks = c->next;
        free(c);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("flows %llu ndpi_calls %llu seconds %.3f\n", fl.flows, fl.calls,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
