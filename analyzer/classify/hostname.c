/*
 * hostname.c - small, bounded readers for the names a flow announces.
 *
 * Each reader checks every length against the bytes it was given, as the
 * decoders do; a compression pointer must point backwards and at most
 * MAX_POINTERS are followed, so a crafted message cannot loop. The names
 * go to the flow record's host member (MW_HOST_LEN).
 * specification: RFC 1035 §3.1, §4.1.2, §4.1.4 (DNS names, compression),
 * RFC 7766 §8 (DNS over TCP length), RFC 8446 §4.1.2 and RFC 6066 §3 (TLS
 * ClientHello, server_name), RFC 9112 §3.2 (HTTP Host)
 */
#include "classify/hostname.h"

#include <string.h>
#include <strings.h>

#include "core/mw.h"

#define MAX_POINTERS      16
#define DNS_HLEN          12
#define DNS_MAX_NAME      255 /* wire bytes, RFC 1035 §3.1 */
#define DNS_MAX_QUESTIONS 16  /* servers answer one; a message claiming more is read this far */
#define TLS_HANDSHAKE     22
#define TLS_HELLO         1
#define EXT_SNI           0

static char clean(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    return c > 0x20 && c < 0x7f ? (char)c : '?';
}

/* Copies name[0..n) cleaned into out, keeping the tail when it does not fit. */
static size_t put_name(const uint8_t *name, size_t n, char *out, size_t outlen)
{
    size_t skip, i;

    if (outlen == 0)
        return 0;
    skip = n > outlen - 1 ? n - (outlen - 1) : 0;
    for (i = skip; i < n; i++)
        out[i - skip] = clean(name[i]);
    out[n - skip] = '\0';
    return n - skip;
}

static uint16_t be16(const uint8_t *b)
{
    return (uint16_t)((b[0] << 8) | b[1]);
}

/*
 * Reads the name at *pos (compression pointers followed) into name[0..*n)
 * and its longest label into *longest; *pos moves past the name's own bytes
 * (the question's type and class follow). 0, or -1 when it does not parse.
 */
static int read_name(const uint8_t *msg, uint32_t len, uint32_t *pos_io, uint8_t *name, size_t *n,
        uint8_t *longest)
{
    uint32_t pos = *pos_io, wire = 0, after = 0;
    unsigned jumps = 0;

    *n = 0;
    *longest = 0;
    for (;;) {
        uint8_t l;
        if (pos >= len)
            return -1;
        l = msg[pos];
        if (l == 0)
            break;
        if ((l & 0xc0) == 0xc0) {
            uint32_t target;
            if (pos + 1 >= len || ++jumps > MAX_POINTERS)
                return -1;
            target = ((uint32_t)(l & 0x3f) << 8) | msg[pos + 1];
            if (target >= pos) /* only backwards: no loops */
                return -1;
            if (after == 0)
                after = pos + 2;
            pos = target;
            continue;
        }
        if ((l & 0xc0) != 0 || pos + 1 + l > len)
            return -1; /* 0x40/0x80 are reserved label types */
        wire += 1u + l;
        if (wire + 1 > DNS_MAX_NAME)
            return -1;
        if (*n > 0)
            name[(*n)++] = '.';
        memcpy(name + *n, msg + pos + 1, l);
        *n += l;
        *longest = MW_MAX(*longest, l);
        pos += 1u + l;
    }
    *pos_io = after != 0 ? after : pos + 1;
    return 0;
}

size_t mw_hostname_dns(const uint8_t *msg, uint32_t len, char *out, size_t outlen)
{
    uint8_t name[DNS_MAX_NAME], longest;
    size_t n = 0;
    uint32_t pos = DNS_HLEN;

    if (len < DNS_HLEN || be16(msg + 4) == 0) /* no question */
        return 0;
    if (read_name(msg, len, &pos, name, &n, &longest) != 0)
        return 0;
    return n == 0 ? 0 : put_name(name, n, out, outlen);
}

/* The longest question label into *best; 0 when the message holds 1 to DNS_MAX_QUESTIONS
 * questions that all parse, else -1 (*best then has the labels read before it failed). */
static int questions_longest_label(const uint8_t *msg, uint32_t len, uint8_t *best)
{
    uint8_t name[DNS_MAX_NAME], longest;
    size_t n;
    uint32_t pos = DNS_HLEN;
    unsigned i, questions;

    *best = 0;
    if (len < DNS_HLEN)
        return -1;
    questions = be16(msg + 4);
    for (i = 0; i < MW_MIN(questions, (unsigned)DNS_MAX_QUESTIONS); i++) {
        int rc = read_name(msg, len, &pos, name, &n, &longest);
        *best = MW_MAX(*best, longest);
        if (rc != 0)
            return -1;
        pos += 4; /* QTYPE, QCLASS */
    }
    return questions >= 1 && questions <= DNS_MAX_QUESTIONS ? 0 : -1;
}

uint8_t mw_dns_longest_label(const uint8_t *msg, uint32_t len)
{
    uint8_t best;

    /* the labels read count even when a name then fails (cut by the snap length, too long, a
     * bad label type): a tunnel to its own server needs no well-formed name */
    questions_longest_label(msg, len, &best);
    return best;
}

/* Finds server_name in the extensions block [pos, end); 0 when absent. */
static size_t sni_from_extensions(
        const uint8_t *b, uint32_t pos, uint32_t end, char *out, size_t outlen)
{
    while (pos + 4 <= end) {
        uint16_t type = be16(b + pos), elen = be16(b + pos + 2);
        uint32_t e = pos + 4;
        if (type == EXT_SNI) {
            uint32_t lend = MW_MIN(e + elen, end);
            /* server_name_list: length, then (type, length, name) entries */
            for (e += 2; e + 3 <= lend;) {
                uint16_t nlen = be16(b + e + 1);
                if (e + 3 + nlen > lend)
                    return 0; /* cut by the capture or the segment */
                if (b[e] == 0 && nlen > 0)
                    return put_name(b + e + 3, nlen, out, outlen);
                e += 3u + nlen;
            }
            return 0;
        }
        pos = e + elen;
    }
    return 0;
}

size_t mw_hostname_tls_sni(const uint8_t *b, uint32_t len, char *out, size_t outlen)
{
    uint32_t end, pos;

    /* record: type, version (3.x), length; handshake: type, 24-bit length */
    if (len < 9 || b[0] != TLS_HANDSHAKE || b[1] != 3 || b[5] != TLS_HELLO)
        return 0;
    end = MW_MIN(len, 5u + be16(b + 3));
    pos = 9 + 2 + 32; /* client_version, random */
    if (pos + 1 > end)
        return 0;
    pos += 1u + b[pos]; /* session id */
    if (pos + 2 > end)
        return 0;
    pos += 2u + be16(b + pos); /* cipher suites */
    if (pos + 1 > end)
        return 0;
    pos += 1u + b[pos]; /* compression methods */
    if (pos + 2 > end)
        return 0;
    return sni_from_extensions(b, pos + 2, MW_MIN(end, pos + 2 + be16(b + pos)), out, outlen);
}

static int starts_with_method(const uint8_t *b, uint32_t len)
{
    static const char *const methods[] = { "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ",
        "CONNECT ", "PATCH " };
    size_t i;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        size_t n = strlen(methods[i]);
        if (len >= n && memcmp(b, methods[i], n) == 0)
            return 1;
    }
    return 0;
}

size_t mw_hostname_http(const uint8_t *b, uint32_t len, char *out, size_t outlen)
{
    uint32_t pos = 0;

    if (!starts_with_method(b, len))
        return 0;
    while (pos < len) {
        uint32_t eol = pos, s, e;
        while (eol < len && b[eol] != '\n')
            eol++;
        if (eol - pos >= 5 && strncasecmp((const char *)b + pos, "host:", 5) == 0) {
            s = pos + 5;
            e = eol;
            while (s < e && (b[s] == ' ' || b[s] == '\t'))
                s++;
            while (e > s && (b[e - 1] == '\r' || b[e - 1] == ' ' || b[e - 1] == '\t'))
                e--;
            return e > s ? put_name(b + s, e - s, out, outlen) : 0;
        }
        if (eol - pos <= 1 && pos > 0)
            return 0; /* end of the header block */
        pos = eol + 1;
    }
    return 0;
}

int mw_dns_port(uint16_t port)
{
    return port == 53 || port == 5353 || port == 5355;
}

size_t mw_hostname_from_payload(uint8_t l4_proto, uint16_t sport, uint16_t dport, const uint8_t *p,
        uint32_t len, char *out, size_t outlen)
{
    if (len == 0 || (l4_proto != 6 && l4_proto != 17))
        return 0;
    if (mw_dns_port(sport) || mw_dns_port(dport)) /* over TCP: mw_dns_tcp_segment */
        return l4_proto == 17 ? mw_hostname_dns(p, len, out, outlen) : 0;
    if (l4_proto != 6)
        return 0;
    if (p[0] == TLS_HANDSHAKE)
        return mw_hostname_tls_sni(p, len, out, outlen);
    return mw_hostname_http(p, len, out, outlen);
}

uint8_t mw_dns_udp_longest_label(uint16_t sport, uint16_t dport, const uint8_t *p, uint32_t len)
{
    return mw_dns_port(sport) || mw_dns_port(dport) ? mw_dns_longest_label(p, len) : 0;
}

enum { DNS_TCP_NEW = 0, DNS_TCP_SYNC, DNS_TCP_BODY, DNS_TCP_LOST };

/* A message from its start (its first len bytes captured): whole questions, or LOST; the
 * first question's name into name when it is still empty. */
static uint8_t tcp_message(
        mw_dns_tcp_t *s, const uint8_t *msg, uint32_t len, char *name, size_t namelen)
{
    uint8_t best;

    if (questions_longest_label(msg, len, &best) != 0) {
        s->state = DNS_TCP_LOST; /* not a message start after all: stop, do not guess */
        return 0;
    }
    if (name != NULL && namelen > 0 && name[0] == '\0')
        mw_hostname_dns(msg, len, name, namelen);
    return best;
}

uint8_t mw_dns_tcp_segment(
        mw_dns_tcp_t *s, uint32_t seq, const uint8_t *p, uint32_t len, char *name, size_t namelen)
{
    uint8_t best = 0;

    if (s->state == DNS_TCP_LOST || len == 0)
        return 0;
    if (s->state == DNS_TCP_NEW) { /* the first payload seen is taken as a start */
        s->state = DNS_TCP_SYNC;
        s->next_seq = seq;
    }
    while (s->state != DNS_TCP_LOST) {
        uint32_t end = seq + len, off;
        if ((int32_t)(end - s->next_seq) <= 0)
            break; /* all of it before the next start: read, or a retransmission */
        if ((int32_t)(s->next_seq - seq) < 0) {
            s->state = DNS_TCP_LOST; /* bytes before this segment were never seen */
            break;
        }
        off = s->next_seq - seq;
        if (s->state == DNS_TCP_BODY) {
            best = MW_MAX(
                    best, tcp_message(s, p + off, MW_MIN(len - off, s->body_len), name, namelen));
            s->next_seq += s->body_len;
            if (s->state != DNS_TCP_LOST)
                s->state = DNS_TCP_SYNC;
            continue;
        }
        if (len - off < 2) {
            s->state = DNS_TCP_LOST; /* a length cut in two: rare, not followed */
            break;
        }
        s->body_len = be16(p + off);
        s->next_seq += 2;
        if (s->body_len < DNS_HLEN) {
            s->state = DNS_TCP_LOST;
            break;
        }
        if (len - off == 2) {
            s->state = DNS_TCP_BODY; /* the message begins the next segment */
            break;
        }
        best = MW_MAX(best,
                tcp_message(s, p + off + 2, MW_MIN(len - off - 2, s->body_len), name, namelen));
        s->next_seq += s->body_len;
    }
    return best;
}

int mw_hostname_extends(const char *longer, const char *shorter)
{
    size_t l = strlen(longer), s = strlen(shorter);

    return s > 0 && l > s && strcasecmp(longer + (l - s), shorter) == 0;
}
