/*
 * fpmap.c - open addressing, linear probing, backward-shift deletion
 * (Knuth, TAOCP vol. 3, 6.4 Algorithm R), grown at half load.
 */
#include "detect/fpmap.h"

#include <stdlib.h>

#include "core/mw.h"

void mw_fpmap_init(mw_fpmap_t *m)
{
    m->keys = m->vals = NULL;
    m->n = m->cap = 0;
}

void mw_fpmap_free(mw_fpmap_t *m)
{
    free(m->keys);
    free(m->vals);
    mw_fpmap_init(m);
}

static size_t slot_of(const mw_fpmap_t *m, uint64_t fp)
{
    size_t i = (size_t)(fp ^ (fp >> 29)) & (m->cap - 1);

    while (m->keys[i] != 0 && m->keys[i] != fp)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int grow(mw_fpmap_t *m)
{
    mw_fpmap_t bigger;
    size_t i;

    bigger.cap = m->cap ? m->cap * 2 : 64;
    bigger.n = 0;
    bigger.keys = calloc(bigger.cap, sizeof(uint64_t));
    bigger.vals = malloc(bigger.cap * sizeof(uint64_t));
    if (bigger.keys == NULL || bigger.vals == NULL) {
        free(bigger.keys);
        free(bigger.vals);
        return MW_ENOMEM;
    }
    for (i = 0; i < m->cap; i++) {
        if (m->keys[i] != 0) {
            size_t j = slot_of(&bigger, m->keys[i]);
            bigger.keys[j] = m->keys[i];
            bigger.vals[j] = m->vals[i];
            bigger.n++;
        }
    }
    free(m->keys);
    free(m->vals);
    *m = bigger;
    return 0;
}

int mw_fpmap_put(mw_fpmap_t *m, uint64_t fp, uint64_t val)
{
    size_t i;

    fp |= 1;
    if ((m->n + 1) * 2 > m->cap && grow(m) != 0)
        return MW_ENOMEM;
    i = slot_of(m, fp);
    if (m->keys[i] == 0) {
        m->keys[i] = fp;
        m->n++;
    }
    m->vals[i] = val;
    return 0;
}

int mw_fpmap_get(const mw_fpmap_t *m, uint64_t fp, uint64_t *val)
{
    size_t i;

    if (m->cap == 0)
        return 0;
    fp |= 1;
    i = slot_of(m, fp);
    if (m->keys[i] == 0)
        return 0;
    if (val != NULL)
        *val = m->vals[i];
    return 1;
}

void mw_fpmap_del(mw_fpmap_t *m, uint64_t fp)
{
    size_t i, j;

    if (m->cap == 0)
        return;
    fp |= 1;
    i = slot_of(m, fp);
    if (m->keys[i] == 0)
        return;
    m->keys[i] = 0;
    m->n--;
    /* shift back every entry of the run that probed past the hole */
    for (j = (i + 1) & (m->cap - 1); m->keys[j] != 0; j = (j + 1) & (m->cap - 1)) {
        size_t home = (size_t)(m->keys[j] ^ (m->keys[j] >> 29)) & (m->cap - 1);
        /* j's entry may move to i when its home is not within (i, j] cyclically */
        int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            m->keys[j] = 0;
            i = j;
        }
    }
}
