/*
 * memcap.c - the shares of the memory cap. Flows dominate a capture point's
 * memory (one record and, while nDPI still looks, its state per flow);
 * detection keeps far less.
 */
#include "core/memcap.h"

void mw_memcap_split(mw_memcap_t *m, uint64_t total)
{
    m->total = total;
    m->flows = total / 100 * 55;
    m->tunnels = total / 100 * 5;
    m->evidence = total / 100 * 15;
    m->windows = total / 100 * 10;
    m->hours = total / 100 * 10;
    m->beacon = total / 100 * 5;
}
