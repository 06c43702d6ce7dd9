/*
 * inventory_out.h - writes the site inventory YAML that the analyzer's
 * inventory parser reads (site, timezone, maintenance windows, base
 * stations with prefixes, and role prefixes).
 */
#ifndef MW_SG_INVENTORY_OUT_H
#define MW_SG_INVENTORY_OUT_H

#include <stddef.h>

#include "site.h"

/* 0 or MW_EIO with a message in errbuf. */
int mw_inventory_write(const mw_sg_site_t *s, const char *path, char *errbuf, size_t errlen);

#endif
