/*
 * config_file.h - `--config FILE` for analyze and capture: a YAML mapping
 * of long option names to values, e.g.
 *     interface: eth1
 *     inventory: /etc/mastwatch/site.yaml
 *     anomalies: /var/log/mastwatch/eth1.jsonl
 *     status: 60
 *     quiet: true
 * turned into the options it stands for, placed before the command line's
 * so that an option typed on the command line wins.
 */
#ifndef MW_CONFIG_FILE_H
#define MW_CONFIG_FILE_H

#include <stddef.h>

typedef struct mw_config_args {
    char **argv; /* "--name", "value", ... (each allocated) */
    size_t argc;
} mw_config_args_t;

/*
 * Reads path into args. takes_value(name) says whether the option needs a
 * value (1), is a flag (0) or does not exist (-1). 0, or MW_EINVAL with
 * "FILE:LINE: reason".
 */
int mw_config_file_load(const char *path, int (*takes_value)(const char *name),
        mw_config_args_t *args, char *errbuf, size_t errlen);
void mw_config_args_free(mw_config_args_t *args);

#endif
