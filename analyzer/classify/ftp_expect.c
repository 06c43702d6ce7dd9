/*
 * ftp_expect.c - announced FTP data endpoints, in an open-addressing table
 * keyed by the listening address and port. A packet costs one compare
 * while no announcement is alive, and two probes otherwise; control
 * packets are read line by line, bounded by the captured payload.
 */
#include "classify/ftp_expect.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "classify/plane.h"
#include "core/mw.h"

#define FTP_CONTROL_PORT 21
#define EXPECT_TTL_US    (120LL * 1000000) /* a transfer starts well within this of its reply */
#define EXPECT_SLOTS     1024u             /* 1024 x 48 B: live transfers announced at once */
#define EXPECT_MAX_LIVE  (EXPECT_SLOTS * 3 / 4)
#define MAX_LINE         512

typedef struct slot {
    uint8_t listener[16]; /* where the data connection goes */
    uint8_t peer[16];     /* who is to connect: the other end of the control session */
    int64_t expires_us;
    uint16_t port;
    uint8_t used;
    uint8_t pad_[5];
} slot_t;

struct mw_ftp_expect {
    slot_t *slots;       /* NULL until the first announcement */
    unsigned occupied;   /* used slots, live or expired */
    int64_t last_expiry; /* past it, every slot is expired */
    uint64_t noted, dropped, refused;
};

mw_ftp_expect_t *mw_ftp_expect_create(void)
{
    return calloc(1, sizeof(mw_ftp_expect_t));
}

void mw_ftp_expect_destroy(mw_ftp_expect_t *t)
{
    if (t == NULL)
        return;
    free(t->slots);
    free(t);
}

uint64_t mw_ftp_expect_noted(const mw_ftp_expect_t *t)
{
    return t ? t->noted : 0;
}

uint64_t mw_ftp_expect_dropped(const mw_ftp_expect_t *t)
{
    return t ? t->dropped : 0;
}

uint64_t mw_ftp_expect_refused(const mw_ftp_expect_t *t)
{
    return t ? t->refused : 0;
}

static unsigned slot_of(const uint8_t addr[16], uint16_t port)
{
    uint8_t key[18];

    memcpy(key, addr, 16);
    memcpy(key + 16, &port, 2);
    return (unsigned)XXH3_64bits(key, sizeof(key)) & (EXPECT_SLOTS - 1);
}

/* Keeps only the live slots (rehashed); the table stays as it was when memory is short. */
static void sweep(mw_ftp_expect_t *t, int64_t now_us)
{
    slot_t *fresh = calloc(EXPECT_SLOTS, sizeof(slot_t));
    unsigned i, n = 0;

    if (fresh == NULL)
        return;
    for (i = 0; i < EXPECT_SLOTS; i++) {
        const slot_t *s = &t->slots[i];
        unsigned j;
        if (!s->used || s->expires_us < now_us)
            continue;
        for (j = slot_of(s->listener, s->port); fresh[j].used; j = (j + 1) & (EXPECT_SLOTS - 1))
            ;
        fresh[j] = *s;
        n++;
    }
    free(t->slots);
    t->slots = fresh;
    t->occupied = n;
}

static void note(mw_ftp_expect_t *t, const uint8_t listener[16], uint16_t port,
        const uint8_t peer[16], int64_t now_us)
{
    slot_t *reuse = NULL;
    unsigned i;

    if (t->slots == NULL && (t->slots = calloc(EXPECT_SLOTS, sizeof(slot_t))) == NULL) {
        t->dropped++;
        return;
    }
    if (t->occupied >= EXPECT_MAX_LIVE)
        sweep(t, now_us);
    for (i = slot_of(listener, port); t->slots[i].used; i = (i + 1) & (EXPECT_SLOTS - 1)) {
        slot_t *s = &t->slots[i];
        if (s->port == port && memcmp(s->listener, listener, 16) == 0 &&
                memcmp(s->peer, peer, 16) == 0) {
            reuse = s; /* announced again: it lives longer */
            break;
        }
        if (reuse == NULL && s->expires_us < now_us)
            reuse = s;
    }
    if (reuse == NULL) {
        if (t->occupied >= EXPECT_MAX_LIVE) {
            t->dropped++; /* full of live announcements: this transfer goes unnamed */
            return;
        }
        reuse = &t->slots[i];
        t->occupied++;
    }
    memcpy(reuse->listener, listener, 16);
    memcpy(reuse->peer, peer, 16);
    reuse->port = port;
    reuse->used = 1;
    reuse->expires_us = now_us + EXPECT_TTL_US;
    t->last_expiry = MW_MAX(t->last_expiry, reuse->expires_us);
}

static int expected(const mw_ftp_expect_t *t, const uint8_t listener[16], uint16_t port,
        const uint8_t peer[16], int64_t now_us)
{
    unsigned i;

    for (i = slot_of(listener, port); t->slots[i].used; i = (i + 1) & (EXPECT_SLOTS - 1)) {
        const slot_t *s = &t->slots[i];
        if (s->port == port && s->expires_us >= now_us && memcmp(s->listener, listener, 16) == 0 &&
                memcmp(s->peer, peer, 16) == 0)
            return 1;
    }
    return 0;
}

/* A decimal number of at most 5 digits at *p (moved past it); -1 when there is none. */
static long number(const char **p, const char *end)
{
    long v = 0;
    int digits = 0;

    while (*p < end && **p >= '0' && **p <= '9' && digits < 6) {
        v = v * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    return digits == 0 || digits > 5 ? -1 : v;
}

static void mapped_v4(uint8_t addr[16], const long h[4])
{
    memset(addr, 0, 16);
    addr[10] = addr[11] = 0xff;
    for (int i = 0; i < 4; i++)
        addr[12 + i] = (uint8_t)h[i];
}

/* h1,h2,h3,h4,p1,p2 at p (RFC 959's host-port): 1 when all six fit. */
static int host_port(const char *p, const char *end, uint8_t addr[16], uint16_t *port)
{
    long v[6];

    for (int i = 0; i < 6; i++) {
        if (i > 0) {
            if (p >= end || *p != ',')
                return 0;
            p++;
        }
        v[i] = number(&p, end);
        if (v[i] < 0 || v[i] > 255)
            return 0;
    }
    mapped_v4(addr, v);
    *port = (uint16_t)(v[4] << 8 | v[5]);
    return *port != 0;
}

int mw_ftp_parse_227(const char *line, size_t len, uint8_t addr[16], uint16_t *port)
{
    const char *p = line + 3, *end = line + len;

    if (len < 4 || memcmp(line, "227", 3) != 0)
        return 0;
    /* the numbers follow the text, with or without parentheses (RFC 1123 §4.1.2.6), and the
     * text may hold digits of its own: the first run of digits that is a host-port counts */
    for (; p < end; p++)
        if (*p >= '0' && *p <= '9' && (p[-1] < '0' || p[-1] > '9') && host_port(p, end, addr, port))
            return 1;
    return 0;
}

int mw_ftp_parse_229(const char *line, size_t len, uint16_t *port)
{
    const char *p, *end = line + len;
    char d;
    long v;

    if (len < 4 || memcmp(line, "229", 3) != 0 || (p = memchr(line, '(', len)) == NULL)
        return 0;
    /* (<d><d><d>port<d>): the delimiter is any printable character but a digit */
    if (end - p < 6 || (d = p[1]) < 33 || d > 126 || (d >= '0' && d <= '9') || p[2] != d ||
            p[3] != d)
        return 0;
    p += 4;
    v = number(&p, end);
    if (v <= 0 || v > 65535 || p >= end || *p != d)
        return 0;
    *port = (uint16_t)v;
    return 1;
}

/* The command's argument when line is "VERB arg" (case-insensitive), else NULL. */
static const char *argument(const char *line, size_t len, const char *verb)
{
    const char *end = line + len;
    size_t n = strlen(verb);

    if (len <= n || strncasecmp(line, verb, n) != 0 || line[n] != ' ')
        return NULL;
    line += n;
    while (line < end && *line == ' ')
        line++;
    return line;
}

int mw_ftp_parse_port(const char *line, size_t len, uint8_t addr[16], uint16_t *port)
{
    const char *arg = argument(line, len, "PORT");

    return arg != NULL && host_port(arg, line + len, addr, port);
}

int mw_ftp_parse_eprt(const char *line, size_t len, uint8_t addr[16], uint16_t *port)
{
    const char *arg = argument(line, len, "EPRT"), *end = line + len, *a, *b;
    char text[INET6_ADDRSTRLEN], d;
    long proto, v;

    /* <d>proto<d>address<d>port<d> (RFC 2428 §2) */
    if (arg == NULL || arg >= end)
        return 0;
    d = *arg++;
    if (d < 33 || d > 126 || (d >= '0' && d <= '9'))
        return 0;
    proto = number(&arg, end);
    if ((proto != 1 && proto != 2) || arg >= end || *arg != d)
        return 0;
    a = ++arg;
    b = memchr(a, d, (size_t)(end - a));
    if (b == NULL || b == a || (size_t)(b - a) >= sizeof(text))
        return 0;
    memcpy(text, a, (size_t)(b - a));
    text[b - a] = '\0';
    arg = b + 1;
    v = number(&arg, end);
    if (v <= 0 || v > 65535 || arg >= end || *arg != d)
        return 0;
    if (proto == 1) {
        struct in_addr v4;
        if (inet_pton(AF_INET, text, &v4) != 1)
            return 0;
        memset(addr, 0, 16);
        addr[10] = addr[11] = 0xff;
        memcpy(addr + 12, &v4, 4);
    } else if (inet_pton(AF_INET6, text, addr) != 1) {
        return 0;
    }
    *port = (uint16_t)v;
    return 1;
}

/* A port a transfer may use: not a privileged one, nor one a known service listens on, so
 * that no announcement can pass a session to such a service off as a transfer. */
static int data_port(uint16_t port)
{
    return port >= 1024 && mw_service_for_port(6, port) == MW_SVC_NONE;
}

/*
 * One line of a control packet; from_server: sent by the side on port 21. The endpoint
 * noted is always the announcing side's own address, whatever address the line names:
 * behind NAT it names an inside one, and a third host (FXP, an FTP bounce) is no transfer
 * of this session - whoever writes on a control session must not name other connections.
 */
static void control_line(mw_ftp_expect_t *t, const mw_l3_t *l3, const char *line, size_t len,
        int from_server, int64_t now_us)
{
    uint8_t addr[16];
    uint16_t port;
    int announced;

    if (from_server)
        announced = mw_ftp_parse_227(line, len, addr, &port) || mw_ftp_parse_229(line, len, &port);
    else
        announced = mw_ftp_parse_port(line, len, addr, &port) ||
                    mw_ftp_parse_eprt(line, len, addr, &port);
    if (!announced)
        return;
    t->noted++;
    if (data_port(port))
        note(t, l3->src, port, l3->dst, now_us);
    else
        t->refused++;
}

int mw_ftp_expect_packet(mw_ftp_expect_t *t, const mw_l3_t *l3, const uint8_t *frame, int64_t ts_us)
{
    if (t == NULL || l3->l4_proto != 6)
        return MW_FTP_DATA_NONE;
    if (l3->sport == FTP_CONTROL_PORT || l3->dport == FTP_CONTROL_PORT) {
        const char *p = (const char *)frame + l3->payload_off, *end = p + l3->payload_len;
        int from_server = l3->sport == FTP_CONTROL_PORT;
        while (p < end) {
            const char *eol = memchr(p, '\n', (size_t)(end - p));
            size_t len = (size_t)((eol ? eol : end) - p);
            if (len > 0 && p[len - 1] == '\r')
                len--;
            if (len >= 4 && len <= MAX_LINE)
                control_line(t, l3, p, len, from_server, ts_us);
            p = eol ? eol + 1 : end;
        }
        return MW_FTP_DATA_NONE;
    }
    if (t->slots == NULL || t->occupied == 0)
        return MW_FTP_DATA_NONE;
    if (ts_us > t->last_expiry) { /* everything expired: start empty, cheaply */
        memset(t->slots, 0, EXPECT_SLOTS * sizeof(slot_t));
        t->occupied = 0;
        return MW_FTP_DATA_NONE;
    }
    if (expected(t, l3->dst, l3->dport, l3->src, ts_us))
        return MW_FTP_DATA_DST_LISTENS;
    if (expected(t, l3->src, l3->sport, l3->dst, ts_us))
        return MW_FTP_DATA_SRC_LISTENS;
    return MW_FTP_DATA_NONE;
}
