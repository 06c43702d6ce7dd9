/*
 * clock.c - the clocks every module reads: monotonic milliseconds for
 * intervals, the wall clock in microseconds for what is reported, a
 * condition-variable deadline, and the calling thread's CPU time (the
 * per-thread split a run reports: where the time goes decides how far more
 * workers can go).
 */
#include <time.h>

#include "core/mw.h"

int64_t mw_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mw_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void mw_deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts); /* pthread_cond_timedwait's default clock */
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_nsec -= 1000000000L;
        ts->tv_sec++;
    }
}

double mw_thread_cpu_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0.0; /* only without a per-thread clock: the split then reads 0 */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
