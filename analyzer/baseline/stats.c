/*
 * stats.c - count/sum/sumsq/max series.
 */
#include "baseline/stats.h"

#include <math.h>

void mw_series_add(mw_series_t *s, double x)
{
    if (s->n == 0 || x > s->max)
        s->max = x;
    s->n++;
    s->sum += x;
    s->sumsq += x * x;
}

void mw_series_merge(mw_series_t *into, const mw_series_t *from)
{
    if (from->n == 0)
        return;
    if (into->n == 0 || from->max > into->max)
        into->max = from->max;
    into->n += from->n;
    into->sum += from->sum;
    into->sumsq += from->sumsq;
}

double mw_series_mean(const mw_series_t *s)
{
    return s->n ? s->sum / (double)s->n : 0.0;
}

double mw_series_stddev(const mw_series_t *s)
{
    double mean, var;

    if (s->n < 2)
        return 0.0;
    mean = s->sum / (double)s->n;
    var = s->sumsq / (double)s->n - mean * mean;
    return var > 0.0 ? sqrt(var) : 0.0;
}
