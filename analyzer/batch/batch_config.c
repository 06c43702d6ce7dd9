/*
 * batch_config.c - reads the batch's YAML site map with libyaml's document
 * API (the node marks give each error its line):
 *
 *   sites:
 *     - name: north
 *       match: ["<star>/north/<star>"]   (fnmatch on the capture's absolute path)
 *       inventory: sites/north.yaml
 *       model: models/north.h5          (optional)
 *
 * Parsing only: matching a capture to a site is one fnmatch loop here too,
 * since the patterns are the config's own data.
 */
#include "batch/batch_config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "batch/batch_util.h"
#include "classify/inventory.h"
#include "core/mw.h"

#define MW_BATCH_MAX_SITES 1024

struct mw_batch_config {
    mw_batch_site_t *sites;
    size_t nsites;
};

typedef struct parse_ctx {
    const char *path;
    char *dir; /* the config file's directory */
    yaml_document_t *doc;
    char *errbuf;
    size_t errlen;
} parse_ctx_t;

static int fail_at(parse_ctx_t *p, const yaml_node_t *n, const char *fmt, const char *arg)
{
    char msg[2 * MW_ERRBUF_SIZE];

    snprintf(msg, sizeof(msg), fmt, arg);
    mw_fmt_err(p->errbuf, p->errlen, "%s:%lu: %s", p->path,
            n != NULL ? (unsigned long)n->start_mark.line + 1 : 1UL, msg);
    return MW_EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
    return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static char *resolve(parse_ctx_t *p, const char *v)
{
    char *joined = v[0] == '/' ? strdup(v) : mw__batch_printf("%s/%s", p->dir, v);
    char *abs;

    if (joined == NULL)
        return NULL;
    abs = mw__batch_abspath(joined);
    free(joined);
    return abs;
}

static int valid_name(const char *s)
{
    size_t i;

    if (s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strlen(s) > 64)
        return 0;
    for (i = 0; s[i] != '\0'; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int parse_match(parse_ctx_t *p, const yaml_node_t *v, mw_batch_site_t *s)
{
    yaml_node_item_t *it;
    size_t n = 0;

    if (scalar(v) != NULL) {
        s->match = calloc(1, sizeof(char *));
        if (s->match == NULL || (s->match[0] = strdup(scalar(v))) == NULL)
            return fail_at(p, v, "%s", "out of memory");
        s->nmatch = 1;
        return 0;
    }
    if (v->type != YAML_SEQUENCE_NODE)
        return fail_at(p, v, "%s", "match: wants a pattern or a list of patterns");
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0)
        return fail_at(p, v, "%s", "match: the list is empty");
    s->match = calloc(n, sizeof(char *));
    if (s->match == NULL)
        return fail_at(p, v, "%s", "out of memory");
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        const yaml_node_t *e = yaml_document_get_node(p->doc, *it);
        const char *pat = scalar(e);
        if (pat == NULL || pat[0] == '\0')
            return fail_at(p, e, "%s", "match: each pattern is a non-empty string");
        if ((s->match[s->nmatch] = strdup(pat)) == NULL)
            return fail_at(p, e, "%s", "out of memory");
        s->nmatch++;
    }
    return 0;
}

static int parse_site(parse_ctx_t *p, const yaml_node_t *n, mw_batch_site_t *s)
{
    yaml_node_pair_t *pair;
    const yaml_node_t *inv_node = NULL;
    char err[MW_ERRBUF_SIZE];

    if (n->type != YAML_MAPPING_NODE)
        return fail_at(p, n, "%s",
                "each site is a mapping (name, match, inventory, model, vlan_tracking, dedup)");
    for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
        const yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
        const yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
        const char *key = scalar(k);
        if (key == NULL)
            return fail_at(p, k, "%s", "keys are plain names");
        if (strcmp(key, "match") == 0) {
            if (s->match != NULL)
                return fail_at(p, k, "%s", "match: given twice");
            if (parse_match(p, v, s) != 0)
                return MW_EINVAL;
            continue;
        }
        if (strcmp(key, "vlan_tracking") == 0 || strcmp(key, "dedup") == 0) {
            const char *b = scalar(v);
            if (b == NULL || (strcmp(b, "true") != 0 && strcmp(b, "false") != 0))
                return fail_at(p, v, "%s: wants true or false", key);
            if (strcmp(key, "dedup") == 0)
                s->dedup = strcmp(b, "true") == 0;
            else
                s->no_vlan_tracking = strcmp(b, "false") == 0;
            continue;
        }
        if (strcmp(key, "name") != 0 && strcmp(key, "inventory") != 0 && strcmp(key, "model") != 0)
            return fail_at(p, k,
                    "unknown key '%s' (name, match, inventory, model, vlan_tracking, dedup)", key);
        if (scalar(v) == NULL || scalar(v)[0] == '\0')
            return fail_at(p, v, "%s: wants a non-empty string", key);
        if (strcmp(key, "name") == 0) {
            if (s->name != NULL)
                return fail_at(p, k, "%s", "name: given twice");
            if (!valid_name(scalar(v)))
                return fail_at(p, v,
                        "site name '%s': use letters, digits, '.', '_', '-' (up to 64)", scalar(v));
            s->name = strdup(scalar(v));
        } else if (strcmp(key, "inventory") == 0) {
            if (s->inventory != NULL)
                return fail_at(p, k, "%s", "inventory: given twice");
            s->inventory = resolve(p, scalar(v));
            inv_node = v;
        } else {
            if (s->model != NULL)
                return fail_at(p, k, "%s", "model: given twice");
            s->model = resolve(p, scalar(v));
            if (s->model != NULL && access(s->model, R_OK) != 0)
                return fail_at(p, v, "model: %s", strerror(errno));
        }
        if ((strcmp(key, "name") == 0 && s->name == NULL) ||
                (strcmp(key, "inventory") == 0 && s->inventory == NULL) ||
                (strcmp(key, "model") == 0 && s->model == NULL))
            return fail_at(p, v, "%s", "out of memory");
    }
    if (s->name == NULL)
        return fail_at(p, n, "%s", "site without a name");
    if (s->match == NULL)
        return fail_at(p, n, "site '%s' has no match patterns", s->name);
    if (s->inventory == NULL)
        return fail_at(p, n, "site '%s' has no inventory", s->name);
    {
        mw_inventory_t *inv = mw_inventory_load(s->inventory, err, sizeof(err));
        if (inv == NULL)
            return fail_at(p, inv_node, "inventory: %s", err);
        mw_inventory_destroy(inv);
    }
    return 0;
}

static int parse_root(parse_ctx_t *p, mw_batch_config_t *c)
{
    const yaml_node_t *root = yaml_document_get_root_node(p->doc), *sites = NULL;
    yaml_node_pair_t *pair;
    yaml_node_item_t *it;
    size_t n, i, j;

    if (root == NULL || root->type != YAML_MAPPING_NODE)
        return fail_at(p, root, "%s", "expected a mapping with 'sites:'");
    for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
        const yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
        const char *key = scalar(k);
        if (key == NULL || strcmp(key, "sites") != 0)
            return fail_at(p, k, "unknown key '%s' (only 'sites')", key != NULL ? key : "?");
        sites = yaml_document_get_node(p->doc, pair->value);
    }
    if (sites == NULL)
        return fail_at(p, root, "%s", "no 'sites:' list");
    if (sites->type != YAML_SEQUENCE_NODE)
        return fail_at(p, sites, "%s", "sites: wants a list");
    n = (size_t)(sites->data.sequence.items.top - sites->data.sequence.items.start);
    if (n == 0 || n > MW_BATCH_MAX_SITES)
        return fail_at(p, sites, "%s", "sites: wants 1 to 1024 sites");
    c->sites = calloc(n, sizeof(*c->sites));
    if (c->sites == NULL)
        return fail_at(p, sites, "%s", "out of memory");
    for (it = sites->data.sequence.items.start; it < sites->data.sequence.items.top; it++) {
        const yaml_node_t *sn = yaml_document_get_node(p->doc, *it);
        c->nsites++;
        if (parse_site(p, sn, &c->sites[c->nsites - 1]) != 0)
            return MW_EINVAL;
        for (i = 0, j = c->nsites - 1; i < j; i++)
            if (strcmp(c->sites[i].name, c->sites[j].name) == 0)
                return fail_at(p, sn, "site '%s' is defined twice", c->sites[j].name);
    }
    return 0;
}

mw_batch_config_t *mw__batch_config_load(const char *path, char *errbuf, size_t errlen)
{
    mw_batch_config_t *c = calloc(1, sizeof(*c));
    parse_ctx_t p = { path, NULL, NULL, errbuf, errlen };
    yaml_parser_t parser;
    yaml_document_t doc;
    char *abs = NULL;
    FILE *f = NULL;
    int rc = MW_EINVAL;

    if (c == NULL) {
        mw_fmt_err(errbuf, errlen, "%s:1: out of memory", path);
        return NULL;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        mw_fmt_err(errbuf, errlen, "%s:0: cannot open: %s", path, strerror(errno));
        free(c);
        return NULL;
    }
    abs = mw__batch_abspath(path);
    p.dir = abs != NULL ? mw__batch_dirname(abs) : NULL;
    if (p.dir == NULL || !yaml_parser_initialize(&parser)) {
        mw_fmt_err(errbuf, errlen, "%s:1: out of memory", path);
        goto out_file;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        mw_fmt_err(errbuf, errlen, "%s:%lu: %s", path, (unsigned long)parser.problem_mark.line + 1,
                parser.problem != NULL ? parser.problem : "YAML syntax error");
        goto out_parser;
    }
    p.doc = &doc;
    rc = parse_root(&p, c);
    yaml_document_delete(&doc);
out_parser:
    yaml_parser_delete(&parser);
out_file:
    fclose(f);
    free(p.dir);
    free(abs);
    if (rc != 0) {
        mw__batch_config_destroy(c);
        return NULL;
    }
    return c;
}

size_t mw__batch_config_nsites(const mw_batch_config_t *c)
{
    return c->nsites;
}

const mw_batch_site_t *mw__batch_config_site(const mw_batch_config_t *c, size_t i)
{
    return i < c->nsites ? &c->sites[i] : NULL;
}

int mw__batch_config_match(const mw_batch_config_t *c, const char *path)
{
    size_t i, j;

    for (i = 0; i < c->nsites; i++)
        for (j = 0; j < c->sites[i].nmatch; j++)
            if (fnmatch(c->sites[i].match[j], path, 0) == 0)
                return (int)i;
    return -1;
}

void mw__batch_config_destroy(mw_batch_config_t *c)
{
    size_t i, j;

    if (c == NULL)
        return;
    for (i = 0; i < c->nsites; i++) {
        mw_batch_site_t *s = &c->sites[i];
        for (j = 0; j < s->nmatch; j++)
            free(s->match[j]);
        free(s->match);
        free(s->name);
        free(s->inventory);
        free(s->model);
    }
    free(c->sites);
    free(c);
}
