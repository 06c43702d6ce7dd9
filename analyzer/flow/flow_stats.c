/*
 * flow_stats.c - Welford's online mean and variance, plus min and max.
 */
#include "flow/flow_stats.h"

#include <math.h>

void mw_running_stats_init(mw_running_stats_t *s)
{
    s->n = 0;
    s->mean = s->m2 = s->min = s->max = 0.0;
}

void mw_running_stats_add(mw_running_stats_t *s, double x)
{
    double delta;

    if (s->n == 0) {
        s->min = s->max = x;
    } else {
        if (x < s->min)
            s->min = x;
        if (x > s->max)
            s->max = x;
    }
    s->n++;
    delta = x - s->mean;
    s->mean += delta / (double)s->n;
    s->m2 += delta * (x - s->mean);
}

double mw_running_stats_stddev(const mw_running_stats_t *s)
{
    if (s->n < 2 || s->m2 <= 0.0)
        return 0.0;
    return sqrt(s->m2 / (double)s->n);
}
