/*
 * grow.c - the one growable-array helper (mw.h: mw_grow): doubling, so n
 * appends cost O(n) copies in all.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/mw.h"

int mw_grow(void **v, size_t *cap, size_t need, size_t elem)
{
    size_t c = *cap ? *cap : 16;
    void *n;

    if (need <= *cap)
        return 0;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return MW_ENOMEM;
        c *= 2;
    }
    if (elem != 0 && c > SIZE_MAX / elem)
        return MW_ENOMEM;
    n = realloc(*v, c * elem);
    if (n == NULL)
        return MW_ENOMEM;
    *v = n;
    *cap = c;
    return 0;
}
