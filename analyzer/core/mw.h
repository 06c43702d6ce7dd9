/*
 * mw.h - what every mastwatch module shares: error codes, small helpers and
 * the version string. Functions that can fail return 0 or a negative MW_E*
 * code; creators return NULL and fill a caller-supplied error buffer.
 */
#ifndef MW_H
#define MW_H

#include <stddef.h>
#include <stdint.h>

#define MW_VERSION     "0.1.0"
#define MW_ERRBUF_SIZE 256

enum {
    MW_OK = 0,
    MW_ENOMEM = -1,  /* allocation failed */
    MW_EINVAL = -2,  /* bad argument or configuration */
    MW_EIO = -3,     /* read/write failed */
    MW_EFORMAT = -4, /* input is not in the expected format */
    MW_EFULL = -5,   /* a capped resource is full */
    MW_ESTOP = -6,   /* stopped on request (signal) */
    MW_EEOF = -7,    /* no more input */
};

#define MW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* last - first without overflow (times may come from hostile files): 0 when last <= first,
 * INT64_MAX when the difference does not fit. */
static inline int64_t mw_span_us(int64_t first, int64_t last)
{
    int64_t d;

    if (last <= first)
        return 0;
    return __builtin_sub_overflow(last, first, &d) ? INT64_MAX : d;
}

/* a / b rounded down (b > 0): the slot of a time in slots of b, before 1970 too. */
static inline int64_t mw_floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && a < 0);
}

#define MW_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MW_MAX(a, b) ((a) > (b) ? (a) : (b))
#define MW_UNUSED(x) ((void)(x))

/* Makes room for need elements of elem bytes in *v (capacity *cap, doubled as needed);
 * 0, or MW_ENOMEM with *v unchanged. */
int mw_grow(void **v, size_t *cap, size_t need, size_t elem);

/* Clocks (core/clock.c): monotonic milliseconds, the wall clock in microseconds since
 * the Unix epoch, the CLOCK_REALTIME deadline ms from now that pthread_cond_timedwait
 * takes, and the CPU seconds the calling thread has used so far. */
struct timespec;
int64_t mw_monotonic_ms(void);
int64_t mw_wall_us(void);
void mw_deadline_in(struct timespec *ts /* OUT */, int ms);
double mw_thread_cpu_s(void);

/* Formats "what: strerror(errnum)" into errbuf, like libpcap's helper. */
void mw_fmt_errno(char *errbuf, size_t errlen, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Formats a message into errbuf (never overflows, always terminated). */
void mw_fmt_err(char *errbuf, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
