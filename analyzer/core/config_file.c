/*
 * config_file.c - the YAML config file (config_file.h), read with libyaml's
 * document API: a flat mapping of scalars; anything else is an error with
 * its line.
 */
#include "core/config_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "core/mw.h"

static int push(mw_config_args_t *a, const char *s, size_t *cap)
{
    char **grown, *copy;

    if (a->argc + 1 > *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        grown = realloc(a->argv, n * sizeof(*grown));
        if (grown == NULL)
            return MW_ENOMEM;
        a->argv = grown;
        *cap = n;
    }
    copy = strdup(s);
    if (copy == NULL)
        return MW_ENOMEM;
    a->argv[a->argc++] = copy;
    return 0;
}

static int is_bool(const char *v, int *out)
{
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0) {
        *out = 1;
        return 1;
    }
    if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0) {
        *out = 0;
        return 1;
    }
    return 0;
}

int mw_config_file_load(const char *path, int (*takes_value)(const char *name),
        mw_config_args_t *args, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root;
    yaml_node_pair_t *pair;
    size_t cap = 0;
    int rc = 0, have_doc = 0;

    memset(args, 0, sizeof(*args));
    if (f == NULL) {
        mw_fmt_errno(errbuf, errlen, errno, "--config %s", path);
        return MW_EINVAL;
    }
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        mw_fmt_err(errbuf, errlen, "%s:%zu: %s", path, parser.problem_mark.line + 1,
                parser.problem ? parser.problem : "not YAML");
        rc = MW_EINVAL;
        goto out;
    }
    have_doc = 1;
    root = yaml_document_get_root_node(&doc);
    if (root == NULL)
        goto out; /* an empty file sets nothing */
    if (root->type != YAML_MAPPING_NODE) {
        mw_fmt_err(errbuf, errlen, "%s:%zu: expected a mapping of option: value", path,
                root->start_mark.line + 1);
        rc = MW_EINVAL;
        goto out;
    }
    for (pair = root->data.mapping.pairs.start; rc == 0 && pair < root->data.mapping.pairs.top;
            pair++) {
        yaml_node_t *k = yaml_document_get_node(&doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(&doc, pair->value);
        const char *name, *value;
        char opt[128];
        int kind, flag;

        if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE) {
            mw_fmt_err(errbuf, errlen, "%s:%zu: each setting is 'option: value' (one value)", path,
                    (k ? k->start_mark.line : 0) + 1);
            rc = MW_EINVAL;
            break;
        }
        name = (const char *)k->data.scalar.value;
        value = (const char *)v->data.scalar.value;
        kind = strcmp(name, "config") == 0 ? -1 : takes_value(name);
        if (kind < 0) {
            mw_fmt_err(errbuf, errlen,
                    "%s:%zu: unknown setting '%s' (the long option names of "
                    "'mastwatch help COMMAND')",
                    path, k->start_mark.line + 1, name);
            rc = MW_EINVAL;
            break;
        }
        snprintf(opt, sizeof(opt), "--%s", name);
        if (kind == 0) {
            if (!is_bool(value, &flag)) {
                mw_fmt_err(errbuf, errlen, "%s:%zu: %s takes true or false", path,
                        v->start_mark.line + 1, name);
                rc = MW_EINVAL;
            } else if (flag) {
                rc = push(args, opt, &cap);
            }
        } else if (value[0] == '\0') {
            mw_fmt_err(
                    errbuf, errlen, "%s:%zu: %s needs a value", path, v->start_mark.line + 1, name);
            rc = MW_EINVAL;
        } else {
            rc = push(args, opt, &cap);
            if (rc == 0)
                rc = push(args, value, &cap);
        }
        if (rc == MW_ENOMEM)
            mw_fmt_err(errbuf, errlen, "out of memory");
    }
out:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    if (rc != 0)
        mw_config_args_free(args);
    return rc;
}

void mw_config_args_free(mw_config_args_t *args)
{
    size_t i;

    for (i = 0; i < args->argc; i++)
        free(args->argv[i]);
    free(args->argv);
    memset(args, 0, sizeof(*args));
}
