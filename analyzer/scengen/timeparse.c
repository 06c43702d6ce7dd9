/*
 * timeparse.c - strict parsers: anything not fully consumed is an error, so
 * a typo on the command line becomes a one-line message rather than a
 * silently different scenario. Dates are converted with the civil-from-days
 * algorithm (H. Hinnant) instead of timegm(), which is not in C11.
 */
#include "timeparse.h"

#include "core/mw.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int num(const char **p, int digits, int *out)
{
    int v = 0;
    for (int i = 0; i < digits; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return MW_EINVAL;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += digits;
    *out = v;
    return MW_OK;
}

static int clock_part(const char **p, int *h, int *mi, int *se)
{
    *se = 0;
    if (num(p, 2, h) || **p != ':')
        return MW_EINVAL;
    (*p)++;
    if (num(p, 2, mi))
        return MW_EINVAL;
    if (**p == ':') {
        (*p)++;
        if (num(p, 2, se))
            return MW_EINVAL;
    }
    if (*h > 24 || *mi > 59 || *se > 60 || (*h == 24 && (*mi || *se)))
        return MW_EINVAL;
    return MW_OK;
}

int mw_parse_iso(const char *s, uint64_t *out)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (num(&p, 4, &y) || *p++ != '-' || num(&p, 2, &mo) || *p++ != '-' || num(&p, 2, &d))
        return MW_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970)
        return MW_EINVAL;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (clock_part(&p, &h, &mi, &se))
            return MW_EINVAL;
    }
    if (*p == 'Z')
        p++;
    else if (strcmp(p, "+00:00") == 0)
        p += 6;
    if (*p != '\0')
        return MW_EINVAL;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *out = (uint64_t)(days * 86400 + h * 3600 + mi * 60 + se);
    return MW_OK;
}

int mw_parse_duration(const char *s, uint64_t *out)
{
    uint64_t total = 0;
    const char *p = s;
    if (*p == '\0')
        return MW_EINVAL;
    while (*p) {
        char *end;
        if (!isdigit((unsigned char)*p))
            return MW_EINVAL;
        unsigned long long v = strtoull(p, &end, 10);
        uint64_t mul = 1;
        switch (*end) {
            case 's':
                mul = 1;
                end++;
                break;
            case 'm':
                mul = 60;
                end++;
                break;
            case 'h':
                mul = 3600;
                end++;
                break;
            case 'd':
                mul = 86400;
                end++;
                break;
            case '\0':
                break;
            default:
                return MW_EINVAL;
        }
        if (v > 100000000ULL)
            return MW_EINVAL;
        total += v * mul;
        p = end;
    }
    *out = total;
    return MW_OK;
}

int mw_parse_instant(const char *s, uint64_t base, uint64_t day0, uint64_t *out)
{
    uint64_t v;
    if (s[0] == '+') {
        if (mw_parse_duration(s + 1, &v))
            return MW_EINVAL;
        *out = base + v;
        return MW_OK;
    }
    if (strlen(s) <= 8 && s[2] == ':') {
        const char *p = s;
        int h, mi, se;
        if (clock_part(&p, &h, &mi, &se) || *p != '\0')
            return MW_EINVAL;
        *out = day0 + (uint64_t)(h * 3600 + mi * 60 + se);
        return MW_OK;
    }
    return mw_parse_iso(s, out);
}

int mw_parse_bytes(const char *s, uint64_t *out)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return MW_EINVAL;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mul = 1;
    switch (*end) {
        case 'k':
        case 'K':
            mul = 1000;
            end++;
            break;
        case 'M':
            mul = 1000000;
            end++;
            break;
        case 'G':
            mul = 1000000000;
            end++;
            break;
        case '\0':
            break;
        default:
            return MW_EINVAL;
    }
    if (*end != '\0' || v > 1000000000000ULL / mul)
        return MW_EINVAL;
    *out = v * mul;
    return MW_OK;
}
