/*
 * batch_config.h - the batch's site map (YAML, docs/BATCH.md): which
 * inventory and model go with which captures. Parsed by batch_config.c.
 */
#ifndef MW_BATCH_CONFIG_H
#define MW_BATCH_CONFIG_H

#include <stddef.h>

typedef struct mw_batch_site {
    char *name;   /* [A-Za-z0-9._-]+, a directory name in the output tree */
    char **match; /* fnmatch(3) patterns on the capture's absolute path */
    size_t nmatch;
    char *inventory;      /* absolute path */
    char *model;          /* absolute path, NULL = flows only */
    int no_vlan_tracking; /* vlan_tracking: false - analyze --no-vlan-tracking */
    int dedup;            /* dedup: true - analyze --dedup */
} mw_batch_site_t;

typedef struct mw_batch_config mw_batch_config_t;

/*
 * Loads and checks path: every site needs a name, match patterns and an
 * inventory that loads; the model, when given, must be readable. Relative
 * paths are taken from the config file's directory. NULL with a one-line
 * "FILE:LINE: reason" on error.
 */
mw_batch_config_t *mw__batch_config_load(const char *path, char *errbuf, size_t errlen);

size_t mw__batch_config_nsites(const mw_batch_config_t *c);
const mw_batch_site_t *mw__batch_config_site(const mw_batch_config_t *c, size_t i);

/* The first site whose patterns match the path (in file order), or -1. */
int mw__batch_config_match(const mw_batch_config_t *c, const char *path);

void mw__batch_config_destroy(mw_batch_config_t *c); /* NULL-safe */

#endif
