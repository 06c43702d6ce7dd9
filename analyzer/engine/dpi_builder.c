/*
 * dpi_builder.c - building an nDPI module is mostly nDPI inserting its IP
 * lists into trees (6-7 ms); loading a model and creating the results file
 * take a few ms more on the run's own thread. Side by side, a short run
 * (the nightly batch's small captures) pays the longer of the two, not the
 * sum.
 */
#include "engine/dpi_builder.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "classify/classify_ndpi.h"
#include "core/mw.h"

struct mw_dpi_builder {
    pthread_t thread;
    mw_classifier_t *built;
    char err[MW_ERRBUF_SIZE];
};

static void *build_main(void *arg)
{
    mw_dpi_builder_t *b = arg;

    pthread_setname_np(pthread_self(), "mw-dpi-build");
    b->built = mw_classifier_create(b->err, sizeof(b->err));
    return NULL;
}

mw_dpi_builder_t *mw_dpi_builder_start(void)
{
    mw_dpi_builder_t *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
    if (pthread_create(&b->thread, NULL, build_main, b) != 0) {
        free(b);
        return NULL;
    }
    return b;
}

mw_classifier_t *mw_dpi_builder_take(mw_dpi_builder_t *b, char *errbuf, size_t errlen)
{
    mw_classifier_t *c;

    if (pthread_join(b->thread, NULL) != 0) {
        /* cannot happen for a joinable thread of ours; its module is lost with it */
        free(b);
        mw_fmt_err(errbuf, errlen, "nDPI: cannot wait for the module's build");
        return NULL;
    }
    c = b->built;
    if (c == NULL)
        mw_fmt_err(errbuf, errlen, "%s", b->err);
    free(b);
    return c;
}

void mw_dpi_builder_cancel(mw_dpi_builder_t *b)
{
    char err[MW_ERRBUF_SIZE];

    if (b != NULL)
        mw_classifier_destroy(mw_dpi_builder_take(b, err, sizeof(err)));
}
