/*
 * stats.h - mergeable summaries of a series: count, sum, sum of squares and
 * max. Unlike a running mean, sums merge exactly (integer-valued features
 * stay exact below 2^53), so a model trained on Monday and one trained on
 * Tuesday merge into exactly the model of both days.
 */
#ifndef MW_STATS_H
#define MW_STATS_H

#include <stdint.h>

typedef struct mw_series {
    uint64_t n;
    double sum, sumsq, max;
} mw_series_t;

void mw_series_add(mw_series_t *s, double x);
void mw_series_merge(mw_series_t *into, const mw_series_t *from);
double mw_series_mean(const mw_series_t *s);   /* 0 when empty */
double mw_series_stddev(const mw_series_t *s); /* population; 0 when n < 2 */

#endif
