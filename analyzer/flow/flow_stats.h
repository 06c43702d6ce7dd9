/*
 * flow_stats.h - running min/mean/stddev/max of a series (Welford's online
 * algorithm: one pass, numerically stable, O(1) memory per series).
 */
#ifndef MW_FLOW_STATS_H
#define MW_FLOW_STATS_H

#include <stdint.h>

typedef struct mw_running_stats {
    uint64_t n;
    double mean, m2, min, max;
} mw_running_stats_t;

void mw_running_stats_init(mw_running_stats_t *s);
void mw_running_stats_add(mw_running_stats_t *s, double x);
double mw_running_stats_stddev(const mw_running_stats_t *s); /* population stddev, 0 for n < 2 */

#endif
