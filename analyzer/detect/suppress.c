/*
 * suppress.c - reads the suppression file (suppress.h) into a small list.
 * Lines are read whole (getline), whatever their length: a line longer than
 * MAX_LINE, a token longer than its field or a fourth field is an error at
 * FILE:LINE, never a truncated rule; '#' starts a comment anywhere on a
 * line, so no part of a comment can become a rule.
 */
#include "detect/suppress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mw.h"
#include "detect/anomaly.h"
#include "detect/detector.h"

#define MAX_SUPPRESS 4096
#define ID_LEN       64
#define MAX_LINE     1024

typedef struct rule {
    int detector;    /* -1 = any */
    char bs[ID_LEN]; /* "" = any */
    uint64_t peer_hi, peer_lo;
    int any_peer;
} rule_t;

struct mw_suppress {
    rule_t *rules;
    size_t n;
};

/* The next blank-separated token of *p into out[len]; 0, or -1 when none or too long. */
static int token(const char **p, char *out, size_t len)
{
    const char *s = *p + strspn(*p, " \t\r\n"), *e;

    e = s + strcspn(s, " \t\r\n");
    if (e == s || (size_t)(e - s) >= len)
        return -1;
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = '\0';
    *p = e;
    return 0;
}

/* line has no comment left: exactly three tokens. */
static int parse_line(rule_t *r, const char *line)
{
    char det[64], bs[ID_LEN], peer[64];
    uint8_t a[16];

    if (token(&line, det, sizeof(det)) != 0 || token(&line, bs, sizeof(bs)) != 0 ||
            token(&line, peer, sizeof(peer)) != 0 || line[strspn(line, " \t\r\n")] != '\0')
        return -1;
    memset(r, 0, sizeof(*r));
    r->detector = -1;
    if (strcmp(det, "*") != 0) {
        unsigned d;
        for (d = 0; d < MW_DET_COUNT && strcmp(mw_detector_name(d), det) != 0; d++)
            ;
        if (d == MW_DET_COUNT)
            return -1;
        r->detector = (int)d;
    }
    if (strcmp(bs, "*") != 0)
        snprintf(r->bs, sizeof(r->bs), "%s", bs);
    if (strcmp(peer, "*") == 0) {
        r->any_peer = 1;
        return 0;
    }
    if (mw_parse_addr(peer, a) != 0)
        return -1;
    mw_addr_split(a, &r->peer_hi, &r->peer_lo);
    return 0;
}

mw_suppress_t *mw_suppress_load(const char *path, char *errbuf, size_t errlen)
{
    mw_suppress_t *s = calloc(1, sizeof(*s));
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned lineno = 0;

    if (f == NULL) {
        mw_fmt_errno(errbuf, errlen, errno, "%s", path);
        free(s);
        return NULL;
    }
    if (s == NULL || (s->rules = calloc(MAX_SUPPRESS, sizeof(rule_t))) == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory reading %s", path);
        goto fail;
    }
    while ((len = getline(&line, &cap, f)) != -1) {
        char *hash;
        lineno++;
        if (len > MAX_LINE) {
            mw_fmt_err(errbuf, errlen, "%s:%u: line longer than %d bytes", path, lineno, MAX_LINE);
            goto fail;
        }
        if (memchr(line, '\0', (size_t)len) != NULL) {
            mw_fmt_err(errbuf, errlen, "%s:%u: NUL byte in the line", path, lineno);
            goto fail;
        }
        hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        if (s->n >= MAX_SUPPRESS) {
            mw_fmt_err(
                    errbuf, errlen, "%s:%u: more than %d suppressions", path, lineno, MAX_SUPPRESS);
            goto fail;
        }
        if (parse_line(&s->rules[s->n], line) != 0) {
            mw_fmt_err(errbuf, errlen,
                    "%s:%u: expected 'DETECTOR BASE-STATION PEER' (each may be *; detectors: "
                    "new_peer, new_service, direction, leakage, volume, beacon, off_hours, "
                    "cleartext, risk, dns, time_source, rate)",
                    path, lineno);
            goto fail;
        }
        s->n++;
    }
    if (ferror(f)) {
        mw_fmt_errno(errbuf, errlen, errno, "%s:%u: read error", path, lineno + 1);
        goto fail;
    }
    free(line);
    fclose(f);
    return s;
fail:
    free(line);
    fclose(f);
    mw_suppress_free(s);
    return NULL;
}

void mw_suppress_free(mw_suppress_t *s)
{
    if (s == NULL)
        return;
    free(s->rules);
    free(s);
}

int mw_suppress_match(const mw_suppress_t *s, unsigned detector, const char *bs_id,
        uint64_t peer_hi, uint64_t peer_lo)
{
    size_t i;

    for (i = 0; s != NULL && i < s->n; i++) {
        const rule_t *r = &s->rules[i];
        if (r->detector >= 0 && (unsigned)r->detector != detector)
            continue;
        if (r->bs[0] && (bs_id == NULL || strcmp(r->bs, bs_id) != 0))
            continue;
        if (!r->any_peer && (r->peer_hi != peer_hi || r->peer_lo != peer_lo))
            continue;
        return 1;
    }
    return 0;
}
