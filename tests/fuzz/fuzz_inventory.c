/*
 * fuzz_inventory.c - libFuzzer target for the inventory (site YAML) parser,
 * classify/inventory.c: any text must load or give a FILE:LINE error; what
 * loads is queried (address lookups, ids, maintenance windows) and printed
 * so hostile values reach the accessors too. Built with libFuzzer
 * (-DMW_FUZZ=ON) and with replay_main.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "classify/inventory.h"
#include "core/mw.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    char err[MW_ERRBUF_SIZE];
    const char *path = mw_fuzz_file(data, size);
    mw_inventory_t *inv;

    if (path == NULL)
        return 0;
    if (devnull == NULL)
        devnull = fopen("/dev/null", "w");
    inv = mw_inventory_load(path, err, sizeof(err));
    if (inv != NULL) {
        uint8_t addr[16] = { 0 };
        mw_inventory_match_t m;
        size_t i;
        for (i = 0; i < 16 && i < size; i++)
            addr[i] = data[size - 1 - i];
        mw_inventory_lookup(inv, addr, &m);
        addr[10] = addr[11] = 0xff;
        mw_inventory_lookup(inv, addr, &m);
        for (i = 0; i < mw_inventory_bs_count(inv); i++)
            mw_inventory_bs_find(inv, mw_inventory_bs_id(inv, i));
        mw_inventory_utc_offset(inv, 1793577601);
        if (devnull != NULL)
            mw_inventory_print_summary(inv, devnull);
        mw_inventory_destroy(inv);
    }
    unlink(path);
    return 0;
}
