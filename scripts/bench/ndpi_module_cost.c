/*
 * ndpi_module_cost - what one nDPI detection module costs to build and to
 * free, as mastwatch builds one per worker and ndpiReader one per thread:
 * mw_ndpi_module_new() (init, every protocol enabled, finalize), then
 * ndpi_exit_detection_module. Prints the medians of N rounds in ms:
 *   build <ms> free <ms> faults <minor page faults of one build>
 * usage: ndpi_module_cost [ROUNDS]  (default 15)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "classify/ndpi_compat.h" /* the module exactly as mastwatch builds it */

static double now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static long minor_faults(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : 0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 15;
    double *build, *release;
    long faults = 0;

    if (rounds < 1 || rounds > 1000) {
        fprintf(stderr, "usage: ndpi_module_cost [ROUNDS 1-1000]\n");
        return 2;
    }
    build = calloc((size_t)rounds, sizeof(*build));
    release = calloc((size_t)rounds, sizeof(*release));
    if (build == NULL || release == NULL) {
        fprintf(stderr, "ndpi_module_cost: out of memory\n");
        return 1;
    }
    for (int i = 0; i < rounds; i++) {
        long f0 = minor_faults();
        double t0 = now_ms(), t1;
        struct ndpi_detection_module_struct *m = mw_ndpi_module_new();

        if (m == NULL) {
            fprintf(stderr, "ndpi_module_cost: cannot build an nDPI module\n");
            return 1;
        }
        t1 = now_ms();
        if (i == 0)
            faults = minor_faults() - f0; /* the first round: later ones reuse freed memory */
        ndpi_exit_detection_module(m);
        build[i] = t1 - t0;
        release[i] = now_ms() - t1;
    }
    qsort(build, (size_t)rounds, sizeof(*build), by_value);
    qsort(release, (size_t)rounds, sizeof(*release), by_value);
    printf("build %.2f free %.2f faults %ld\n", build[rounds / 2], release[rounds / 2], faults);
    free(build);
    free(release);
    return 0;
}
