/*
 * cputime.c - CPU time of the calling thread, for the per-thread split a
 * run reports (reader, workers, writer): where the time goes decides how
 * far more workers can go.
 */
#include <time.h>

#include "core/mw.h"

double mw_thread_cpu_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0.0; /* only without a per-thread clock: the split then reads 0 */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
