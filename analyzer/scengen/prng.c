/*
 * prng.c - xoshiro256** (Blackman and Vigna, 2018) with splitmix64 seeding.
 * Independent streams per (base station, time slice, traffic kind) mean that
 * switching an injection on or off does not shift the randomness of the
 * normal traffic: clean and incident captures share the same background.
 */
#include "prng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void mw_prng_init(mw_prng_t *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
    /* Mix labels one after the other so (a,b) and (b,a) give different streams. */
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ (a * 0x9e3779b97f4a7c15ULL);
    h = splitmix64(&x);
    x = h ^ (b * 0xc2b2ae3d27d4eb4fULL);
    h = splitmix64(&x);
    x = h ^ (c * 0x165667b19e3779f9ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t mw_prng_next(mw_prng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t mw_prng_range(mw_prng_t *r, uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return lo;
    uint64_t span = hi - lo + 1;
    if (span == 0) /* full 64-bit range */
        return mw_prng_next(r);
    /* The modulo bias is < 2^-40 for the spans used here; not worth a rejection loop. */
    return lo + mw_prng_next(r) % span;
}

double mw_prng_unit(mw_prng_t *r)
{
    return (double)(mw_prng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double mw_prng_exp(mw_prng_t *r, double mean)
{
    double u = mw_prng_unit(r);
    return -mean * log(1.0 - u);
}

unsigned mw_prng_poisson(mw_prng_t *r, double mean)
{
    if (mean <= 0)
        return 0;
    if (mean > 30) {
        /* Box-Muller normal approximation; exact shape does not matter above 30. */
        double u1 = mw_prng_unit(r), u2 = mw_prng_unit(r);
        double z = sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
        double v = mean + z * sqrt(mean) + 0.5;
        return v < 0 ? 0 : (unsigned)v;
    }
    double l = exp(-mean), p = 1.0;
    unsigned k = 0;
    do {
        k++;
        p *= mw_prng_unit(r);
    } while (p > l && k < 1000);
    return k - 1;
}

void mw_prng_fill(mw_prng_t *r, uint8_t *buf, size_t len)
{
    size_t i = 0;
    while (i + 8 <= len) {
        uint64_t v = mw_prng_next(r);
        for (int k = 0; k < 8; k++)
            buf[i++] = (uint8_t)(v >> (8 * k));
    }
    if (i < len) {
        uint64_t v = mw_prng_next(r);
        while (i < len) {
            buf[i++] = (uint8_t)v;
            v >>= 8;
        }
    }
}

void mw_prng_alnum(mw_prng_t *r, char *out, size_t n)
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < n; i++)
        out[i] = set[mw_prng_next(r) % (sizeof(set) - 1)];
}
