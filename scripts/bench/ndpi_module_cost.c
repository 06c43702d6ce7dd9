/*
 * ndpi_module_cost - what one nDPI detection module costs to build and to
 * free: the way mastwatch does it (mw_classifier_create/destroy: the
 * module's tables in an arena of their own, classify/ndpi_module.c) and
 * the way ndpiReader does (init, every protocol enabled, finalize, all
 * through malloc; then ndpi_exit_detection_module), and what a copy of a
 * pristine module costs (mw_classifier_copy: every worker's but the
 * first). Prints the medians of N rounds in ms and the minor page faults
 * of each way's first round:
 *   build <ms> free <ms> faults <n> malloc_build <ms> malloc_free <ms> malloc_faults <n>
 *   copy <ms> copy_free <ms> copy_faults <n>   (on the same line)
 * usage: ndpi_module_cost [ROUNDS]  (default 15)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "classify/classify_ndpi.h"
#include "classify/ndpi_compat.h"
#include "core/mw.h"

typedef struct {
    double build, release;
    long faults;
} cost_t;

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

enum way { PLAIN, CLASSIFIER, COPY };

/* One round; 0, or -1 when the module cannot be built. */
static int one_round(enum way way, const mw_classifier_t *pristine, double *build,
        double *release, long *faults)
{
    long f0 = minor_faults();
    double t0 = now_ms(), t1;
    char err[MW_ERRBUF_SIZE];
    mw_classifier_t *c = NULL;
    struct ndpi_detection_module_struct *m = NULL;

    if (way == CLASSIFIER)
        c = mw_classifier_create(err, sizeof(err));
    else if (way == COPY)
        c = mw_classifier_copy(pristine, err, sizeof(err));
    else
        m = mw_ndpi_module_new();
    if (c == NULL && m == NULL)
        return -1;
    t1 = now_ms();
    *faults = minor_faults() - f0;
    if (c != NULL)
        mw_classifier_destroy(c);
    else
        ndpi_exit_detection_module(m);
    *build = t1 - t0;
    *release = now_ms() - t1;
    return 0;
}

static int measure(enum way way, const mw_classifier_t *pristine, int rounds, double *build,
        double *release, cost_t *out)
{
    long faults;

    for (int i = 0; i < rounds; i++) {
        if (one_round(way, pristine, &build[i], &release[i], &faults) != 0)
            return -1;
        if (i == 0)
            out->faults = faults; /* later rounds may reuse what the first freed */
    }
    qsort(build, (size_t)rounds, sizeof(*build), by_value);
    qsort(release, (size_t)rounds, sizeof(*release), by_value);
    out->build = build[rounds / 2];
    out->release = release[rounds / 2];
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 15;
    double *build, *release;
    cost_t arena, plain, copy;
    char err[MW_ERRBUF_SIZE];
    mw_classifier_t *pristine;

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
    /* malloc's way first: its first round gets a fresh heap, as in a fresh process */
    if (measure(PLAIN, NULL, rounds, build, release, &plain) != 0 ||
            measure(CLASSIFIER, NULL, rounds, build, release, &arena) != 0) {
        fprintf(stderr, "ndpi_module_cost: cannot build an nDPI module\n");
        return 1;
    }
    pristine = mw_classifier_create(err, sizeof(err));
    if (pristine == NULL || measure(COPY, pristine, rounds, build, release, &copy) != 0) {
        fprintf(stderr, "ndpi_module_cost: cannot copy an nDPI module (not nDPI 4.2?)\n");
        return 1;
    }
    mw_classifier_destroy(pristine);
    printf("build %.2f free %.2f faults %ld malloc_build %.2f malloc_free %.2f malloc_faults %ld "
           "copy %.2f copy_free %.2f copy_faults %ld\n",
            arena.build, arena.release, arena.faults, plain.build, plain.release, plain.faults,
            copy.build, copy.release, copy.faults);
    free(build);
    free(release);
    return 0;
}
