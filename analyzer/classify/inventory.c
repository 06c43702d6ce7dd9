/*
 * inventory.c - loads and checks the site inventory (YAML, via libyaml) and
 * answers "what is this address?" and "is the site in maintenance now?".
 *
 * Loading reads the whole file into memory first: the text is kept verbatim
 * so the analyzer can archive it with its results, and libyaml then parses
 * that same buffer with its document API, whose nodes carry line marks for
 * the "FILE:LINE: " error messages. The checks are strict on purpose (unknown
 * keys, duplicate keys, bad prefixes, one prefix with two owners are all
 * errors): the file is written by hand, and a typo that silently dropped a
 * base station would misfile its traffic for the whole capture. Prefixes may
 * nest - the longest match wins, so "oam_peer: 10.20.0.0/16" with
 * "ems: 10.20.0.10/32" is fine - but the same prefix may not have two owners.
 *
 * Addresses go into a prefix tree (prefix_tree.c) whose value is an index
 * into the prefix table here, so the tree needs no knowledge of roles.
 *
 * Time zones: glibc converts local time only through the process-wide TZ.
 * Switching TZ per lookup would race with every other thread that formats a
 * time, so the loader switches it once, under a mutex, and records the
 * zone's UTC-offset changes for 1970..2100 in a small sorted table. Lookups
 * then binary-search that table without touching global state.
 */
#include "classify/inventory.h"

#include "classify/prefix_tree.h"
#include "core/mw.h"
#include "flow/flow_record.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <yaml.h>

#define ZONEINFO_DIR  "/usr/share/zoneinfo"
#define TZ_SCAN_FROM  0LL          /* 1970-01-01 */
#define TZ_SCAN_TO    4102444800LL /* 2100-01-01 */
#define MSG_QUOTE_MAX 80           /* user text quoted in messages is cut here */

typedef struct bs_entry {
    char id[MW_INVENTORY_ID_MAX + 1];
    uint8_t type;
    unsigned line;
} bs_entry_t;

typedef struct tz_span {
    int64_t from;   /* first second (UTC) with this offset */
    int32_t offset; /* seconds east of UTC */
} tz_span_t;

struct mw_inventory {
    char *yaml; /* file text, NUL-terminated */
    size_t yaml_len;
    char *site;
    char *timezone;
    bs_entry_t *bs; /* bs[0] is base station 1 */
    size_t n_bs, cap_bs;
    uint32_t *bs_slots; /* open-addressing set of bs_index by id; 0 = empty */
    size_t cap_slots;   /* power of two */
    mw_inventory_prefix_t *pfx;
    size_t n_pfx, cap_pfx;
    mw_maint_window_t *win;
    size_t n_win, cap_win;
    tz_span_t *tz; /* sorted by from; tz[0].from is INT64_MIN */
    size_t n_tz, cap_tz;
    mw_prefix_tree_t *tree;
};

/* Loader state: one per mw_inventory_load() call. */
typedef struct loader {
    mw_inventory_t *inv;
    yaml_document_t doc;
    const char *path;
    char *errbuf;
    size_t errlen;
} loader_t;

/* One expected key of a mapping and where it was found. */
typedef struct slot {
    yaml_node_t *key;
    yaml_node_t *val;
} slot_t;

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const day_names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
static const char *const top_keys[] = { "site", "timezone", "maintenance_windows", "base_stations",
    "roles" };
static const char *const bs_keys[] = { "id", "type", "prefixes" };
static const char *const window_keys[] = { "days", "start", "end" };
enum { TOP_SITE, TOP_TZ, TOP_WINDOWS, TOP_BS, TOP_ROLES };
enum { BS_ID, BS_TYPE, BS_PREFIXES };
enum { WIN_DAYS, WIN_START, WIN_END };
/* The YAML keys under roles: are the role names from roles.c, ems..oam_peer. */
#define FIRST_LISTED_ROLE MW_ROLE_EMS
#define N_LISTED_ROLES    (MW_ROLE_COUNT - FIRST_LISTED_ROLE)

/* ---- errors ------------------------------------------------------------ */

static unsigned node_line(const yaml_node_t *n)
{
    return n != NULL ? (unsigned)n->start_mark.line + 1 : 1;
}

/*
 * Copies user text for a message: cut to MSG_QUOTE_MAX and with control
 * characters replaced, because every message must stay one line.
 */
static const char *quote(const char *s, char *buf, size_t len)
{
    size_t i;

    for (i = 0; s[i] != '\0' && i + 1 < len && i < MSG_QUOTE_MAX; i++)
        buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    if (s[i] != '\0' && i >= 3)
        memcpy(buf + i - 3, "...", 3);
    buf[i] = '\0';
    return buf;
}

static int fail_at(loader_t *ld, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail_at(loader_t *ld, unsigned line, const char *fmt, ...)
{
    char msg[MW_ERRBUF_SIZE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mw_fmt_err(ld->errbuf, ld->errlen, "%s:%u: %s", ld->path, line, msg);
    return MW_EINVAL;
}

/* ---- small YAML helpers -------------------------------------------------- */

static yaml_node_t *node_at(loader_t *ld, int id)
{
    return yaml_document_get_node(&ld->doc, id);
}

/* Scalar text, or NULL for non-scalars and scalars holding a NUL byte. */
static const char *scalar(const yaml_node_t *n)
{
    if (n == NULL || n->type != YAML_SCALAR_NODE)
        return NULL;
    if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
        return NULL;
    return (const char *)n->data.scalar.value;
}

/* An empty value ("key:" or "key: ~"), which optional lists accept as []. */
static int is_null(const yaml_node_t *n)
{
    const char *s = scalar(n);

    return s != NULL && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0);
}

static void join_names(const char *const *names, size_t n, char *buf, size_t len)
{
    size_t i, used = 0;

    buf[0] = '\0';
    for (i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
}

/*
 * Checks that map is a mapping whose keys are all in names (each at most
 * once) and stores key/value nodes in slots[] by name index. `what` names
 * the mapping in messages ("in base station").
 */
static int collect(loader_t *ld, yaml_node_t *map, const char *what, const char *const *names,
        size_t n, slot_t *slots)
{
    yaml_node_pair_t *pair;
    char q[MSG_QUOTE_MAX + 1], expected[256];
    size_t i;

    memset(slots, 0, n * sizeof(*slots));
    if (map->type != YAML_MAPPING_NODE)
        return fail_at(ld, node_line(map), "expected a mapping (key: value) %s", what);
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = node_at(ld, pair->key);
        const char *k = scalar(key);

        if (k == NULL)
            return fail_at(ld, node_line(key), "keys must be plain names %s", what);
        for (i = 0; i < n; i++)
            if (strcmp(k, names[i]) == 0)
                break;
        if (i == n) {
            join_names(names, n, expected, sizeof(expected));
            return fail_at(ld, node_line(key), "unknown key '%s' %s (expected %s)",
                    quote(k, q, sizeof(q)), what, expected);
        }
        if (slots[i].key != NULL)
            return fail_at(ld, node_line(key), "duplicate key '%s' %s (first at line %u)", k, what,
                    node_line(slots[i].key));
        slots[i].key = key;
        slots[i].val = node_at(ld, pair->value);
    }
    return MW_OK;
}

/* A list, or an empty value treated as []; *seq is NULL for the latter. */
static int get_list(loader_t *ld, const slot_t *s, const char *name, yaml_node_t **seq)
{
    *seq = NULL;
    if (s->val == NULL || is_null(s->val))
        return MW_OK;
    if (s->val->type != YAML_SEQUENCE_NODE)
        return fail_at(ld, node_line(s->val), "'%s' must be a list", name);
    *seq = s->val;
    return MW_OK;
}

static int fail_nomem(loader_t *ld)
{
    mw_fmt_err(ld->errbuf, ld->errlen, "%s:0: out of memory", ld->path);
    return MW_ENOMEM;
}

/* ---- base-station id set ------------------------------------------------- */

static uint32_t hash_id(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a: ids are short, any decent spread will do */

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Slot where id is, or the empty slot where it would go. */
static uint32_t *bs_slot(const mw_inventory_t *inv, const char *id)
{
    size_t mask = inv->cap_slots - 1, i = hash_id(id) & mask;

    while (inv->bs_slots[i] != 0 && strcmp(inv->bs[inv->bs_slots[i] - 1].id, id) != 0)
        i = (i + 1) & mask;
    return &inv->bs_slots[i];
}

/* Adds bs_index to the id set, doubling the table to keep it half empty. */
static int bs_set_add(mw_inventory_t *inv, uint32_t bs_index)
{
    if (2 * (inv->n_bs + 1) > inv->cap_slots) {
        size_t ncap = inv->cap_slots ? inv->cap_slots * 2 : 64, i;
        uint32_t *old = inv->bs_slots, *fresh = calloc(ncap, sizeof(*fresh));
        size_t ocap = inv->cap_slots;

        if (fresh == NULL)
            return MW_ENOMEM;
        inv->bs_slots = fresh;
        inv->cap_slots = ncap;
        for (i = 0; i < ocap; i++)
            if (old[i] != 0)
                *bs_slot(inv, inv->bs[old[i] - 1].id) = old[i];
        free(old);
    }
    *bs_slot(inv, inv->bs[bs_index - 1].id) = bs_index;
    return MW_OK;
}

/* ---- prefixes -------------------------------------------------------------- */

static void owner_name(
        const mw_inventory_t *inv, unsigned role, unsigned bs_index, char *buf, size_t len)
{
    if (role == MW_ROLE_BASE_STATION)
        snprintf(buf, len, "base station '%s'", inv->bs[bs_index - 1].id);
    else
        snprintf(buf, len, "'%s'", mw_role_name(role));
}

static int add_prefix(loader_t *ld, yaml_node_t *n, uint8_t role, uint16_t bs_index)
{
    mw_inventory_t *inv = ld->inv;
    mw_inventory_prefix_t *p;
    const char *text = scalar(n);
    char q[MSG_QUOTE_MAX + 1], net[64], a[96], b[96];
    uint64_t existing;
    unsigned bits;
    int rc;

    if (text == NULL)
        return fail_at(ld, node_line(n), "a prefix must be text like 10.0.0.0/24");
    if (inv->n_pfx >= MW_INVENTORY_MAX_PREFIXES)
        return fail_at(ld, node_line(n), "more than %u prefixes", MW_INVENTORY_MAX_PREFIXES);
    if (mw_grow((void **)&inv->pfx, &inv->cap_pfx, inv->n_pfx + 1, sizeof(*inv->pfx)) < 0)
        return fail_nomem(ld);
    p = &inv->pfx[inv->n_pfx];
    memset(p, 0, sizeof(*p));
    rc = mw_prefix_parse(text, p->addr, &bits);
    if (rc == MW_EFORMAT) {
        mw_prefix_format(p->addr, bits, net, sizeof(net));
        return fail_at(ld, node_line(n), "bad prefix '%s' (host bits set; did you mean %s?)",
                quote(text, q, sizeof(q)), net);
    }
    if (rc < 0)
        return fail_at(ld, node_line(n), "bad prefix '%s'", quote(text, q, sizeof(q)));
    p->bits = (uint8_t)bits;
    p->role = role;
    p->bs_index = bs_index;
    p->line = node_line(n);
    rc = mw_prefix_tree_insert(inv->tree, p->addr, bits, inv->n_pfx, &existing);
    if (rc == MW_ENOMEM)
        return fail_nomem(ld);
    if (rc < 0) {
        const mw_inventory_prefix_t *e = &inv->pfx[existing];

        owner_name(inv, e->role, e->bs_index, a, sizeof(a));
        owner_name(inv, role, bs_index, b, sizeof(b));
        if (e->role == role && e->bs_index == bs_index)
            return fail_at(ld, p->line, "prefix %s is listed twice for %s (first at line %u)",
                    quote(text, q, sizeof(q)), a, e->line);
        return fail_at(ld, p->line, "prefix %s is both %s and %s", quote(text, q, sizeof(q)), a, b);
    }
    inv->n_pfx++;
    return MW_OK;
}

static int add_prefix_list(loader_t *ld, yaml_node_t *seq, uint8_t role, uint16_t bs_index)
{
    yaml_node_item_t *it;
    int rc;

    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        rc = add_prefix(ld, node_at(ld, *it), role, bs_index);
        if (rc < 0)
            return rc;
    }
    return MW_OK;
}

/* ---- sections ----------------------------------------------------------- */

static int parse_site(loader_t *ld, const slot_t *s)
{
    const char *v = scalar(s->val);

    if (v == NULL || v[0] == '\0' || is_null(s->val))
        return fail_at(ld, node_line(s->val), "'site' must be a name");
    if (strlen(v) > MW_INVENTORY_ID_MAX)
        return fail_at(
                ld, node_line(s->val), "'site' is longer than %u characters", MW_INVENTORY_ID_MAX);
    ld->inv->site = strdup(v);
    return ld->inv->site != NULL ? MW_OK : fail_nomem(ld);
}

/* An IANA name is letters, digits and "_+-" in parts joined by '/'. */
static int tz_name_ok(const char *name)
{
    const char *c;

    if (name[0] == '\0' || name[0] == '/' || name[0] == '.' || strstr(name, "..") != NULL)
        return 0;
    for (c = name; *c != '\0'; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                    strchr("_+-/", *c) != NULL))
            return 0;
    return 1;
}

/* True when /usr/share/zoneinfo/NAME is a compiled zone ("TZif" magic). */
static int tz_file_ok(const char *name)
{
    char path[512], magic[4];
    struct stat st;
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, name);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
    fclose(f);
    return ok;
}

static int parse_timezone(loader_t *ld, const slot_t *s)
{
    const char *v = scalar(s->val);
    char q[MSG_QUOTE_MAX + 1];

    if (v == NULL || is_null(s->val))
        return fail_at(ld, node_line(s->val), "'timezone' must be an IANA name like Europe/Paris");
    if (strcmp(v, "UTC") != 0 && (!tz_name_ok(v) || !tz_file_ok(v)))
        return fail_at(ld, node_line(s->val), "unknown timezone '%s' (not a zone under %s)",
                quote(v, q, sizeof(q)), ZONEINFO_DIR);
    ld->inv->timezone = strdup(v);
    return ld->inv->timezone != NULL ? MW_OK : fail_nomem(ld);
}

/* "HH:MM" -> minutes; max_min is 1439 for a start, 1440 ("24:00") for an end. */
static int parse_hhmm(const char *s, unsigned max_min, uint16_t *out)
{
    unsigned h, m;

    if (s == NULL || !(s[0] >= '0' && s[0] <= '9'))
        return MW_EINVAL;
    h = (unsigned)(s[0] - '0');
    s++;
    if (*s >= '0' && *s <= '9')
        h = h * 10 + (unsigned)(*s++ - '0');
    if (s[0] != ':' || !(s[1] >= '0' && s[1] <= '5') || !(s[2] >= '0' && s[2] <= '9') || s[3])
        return MW_EINVAL;
    m = (unsigned)(s[1] - '0') * 10 + (unsigned)(s[2] - '0');
    if (h * 60 + m > max_min || h > 24)
        return MW_EINVAL;
    *out = (uint16_t)(h * 60 + m);
    return MW_OK;
}

static int parse_days(loader_t *ld, const slot_t *s, uint8_t *days)
{
    yaml_node_item_t *it;
    yaml_node_t *seq;
    char q[MSG_QUOTE_MAX + 1];
    int rc = get_list(ld, s, "days", &seq);
    unsigned d;

    if (rc < 0)
        return rc;
    *days = 0;
    for (it = seq ? seq->data.sequence.items.start : NULL; seq && it < seq->data.sequence.items.top;
            it++) {
        yaml_node_t *n = node_at(ld, *it);
        const char *v = scalar(n);

        for (d = 0; v != NULL && d < 7; d++)
            if (strcmp(v, day_names[d]) == 0)
                break;
        if (v == NULL || d == 7)
            return fail_at(ld, node_line(n),
                    "bad maintenance window: unknown day '%s' (expected mon, tue, wed, thu, fri, "
                    "sat, sun)",
                    v ? quote(v, q, sizeof(q)) : "(not text)");
        *days |= (uint8_t)(1u << d);
    }
    if (*days == 0)
        return fail_at(ld, node_line(s->val), "bad maintenance window: no days");
    return MW_OK;
}

static int parse_window(loader_t *ld, yaml_node_t *map)
{
    mw_inventory_t *inv = ld->inv;
    slot_t s[MW_ARRAY_LEN(window_keys)];
    mw_maint_window_t w;
    char q[MSG_QUOTE_MAX + 1];
    size_t i;
    int rc;

    rc = collect(ld, map, "in maintenance window", window_keys, MW_ARRAY_LEN(window_keys), s);
    if (rc < 0)
        return rc;
    for (i = 0; i < MW_ARRAY_LEN(window_keys); i++)
        if (s[i].key == NULL)
            return fail_at(
                    ld, node_line(map), "bad maintenance window: missing '%s'", window_keys[i]);
    memset(&w, 0, sizeof(w));
    rc = parse_days(ld, &s[WIN_DAYS], &w.days);
    if (rc < 0)
        return rc;
    if (parse_hhmm(scalar(s[WIN_START].val), 1439, &w.start_min) < 0)
        return fail_at(ld, node_line(s[WIN_START].val),
                "bad maintenance window: start '%s' (expected HH:MM, 00:00 to 23:59)",
                scalar(s[WIN_START].val) ? quote(scalar(s[WIN_START].val), q, sizeof(q)) : "");
    if (parse_hhmm(scalar(s[WIN_END].val), 1440, &w.end_min) < 0)
        return fail_at(ld, node_line(s[WIN_END].val),
                "bad maintenance window: end '%s' (expected HH:MM, 00:00 to 24:00)",
                scalar(s[WIN_END].val) ? quote(scalar(s[WIN_END].val), q, sizeof(q)) : "");
    if (w.start_min == w.end_min % 1440)
        return fail_at(ld, node_line(s[WIN_END].val),
                "bad maintenance window: start and end are the same time");
    if (inv->n_win >= MW_INVENTORY_MAX_WINDOWS)
        return fail_at(
                ld, node_line(map), "more than %u maintenance windows", MW_INVENTORY_MAX_WINDOWS);
    if (mw_grow((void **)&inv->win, &inv->cap_win, inv->n_win + 1, sizeof(w)) < 0)
        return fail_nomem(ld);
    inv->win[inv->n_win++] = w;
    return MW_OK;
}

static int parse_windows(loader_t *ld, const slot_t *s)
{
    yaml_node_item_t *it;
    yaml_node_t *seq;
    int rc = get_list(ld, s, "maintenance_windows", &seq);

    if (rc < 0 || seq == NULL)
        return rc;
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        rc = parse_window(ld, node_at(ld, *it));
        if (rc < 0)
            return rc;
    }
    return MW_OK;
}

static int parse_bs_type(loader_t *ld, yaml_node_t *n, uint8_t *type)
{
    const char *v = scalar(n);
    char q[MSG_QUOTE_MAX + 1];

    if (v != NULL && strcasecmp(v, "enb") == 0)
        *type = MW_BS_ENB;
    else if (v != NULL && strcasecmp(v, "gnb") == 0)
        *type = MW_BS_GNB;
    else
        return fail_at(ld, node_line(n), "bad base station type '%s' (expected enb or gnb)",
                v ? quote(v, q, sizeof(q)) : "(not text)");
    return MW_OK;
}

static int parse_one_bs(loader_t *ld, yaml_node_t *map)
{
    mw_inventory_t *inv = ld->inv;
    slot_t s[MW_ARRAY_LEN(bs_keys)];
    bs_entry_t *b;
    yaml_node_t *seq;
    const char *id;
    uint32_t *slot;
    char q[MSG_QUOTE_MAX + 1];
    size_t i;
    int rc;

    rc = collect(ld, map, "in base station", bs_keys, MW_ARRAY_LEN(bs_keys), s);
    if (rc < 0)
        return rc;
    for (i = 0; i < MW_ARRAY_LEN(bs_keys); i++)
        if (s[i].key == NULL)
            return fail_at(ld, node_line(map), "base station is missing '%s'", bs_keys[i]);
    id = scalar(s[BS_ID].val);
    if (id == NULL || id[0] == '\0' || is_null(s[BS_ID].val))
        return fail_at(ld, node_line(s[BS_ID].val), "base station 'id' must be a name");
    if (strlen(id) > MW_INVENTORY_ID_MAX)
        return fail_at(ld, node_line(s[BS_ID].val),
                "base station id '%s' is longer than %u characters", quote(id, q, sizeof(q)),
                MW_INVENTORY_ID_MAX);
    if (inv->n_bs >= MW_INVENTORY_MAX_BS)
        return fail_at(ld, node_line(map), "more than %u base stations", MW_INVENTORY_MAX_BS);
    if (inv->cap_slots > 0 && *(slot = bs_slot(inv, id)) != 0)
        return fail_at(ld, node_line(s[BS_ID].val),
                "duplicate base station id '%s' (first at line %u)", quote(id, q, sizeof(q)),
                inv->bs[*slot - 1].line);
    if (mw_grow((void **)&inv->bs, &inv->cap_bs, inv->n_bs + 1, sizeof(*inv->bs)) < 0)
        return fail_nomem(ld);
    b = &inv->bs[inv->n_bs];
    memset(b, 0, sizeof(*b));
    memcpy(b->id, id, strlen(id) + 1);
    b->line = node_line(s[BS_ID].val);
    rc = parse_bs_type(ld, s[BS_TYPE].val, &b->type);
    if (rc < 0)
        return rc;
    inv->n_bs++;
    if (bs_set_add(inv, (uint32_t)inv->n_bs) < 0)
        return fail_nomem(ld);
    rc = get_list(ld, &s[BS_PREFIXES], "prefixes", &seq);
    if (rc < 0)
        return rc;
    if (seq == NULL || seq->data.sequence.items.top == seq->data.sequence.items.start)
        return fail_at(
                ld, node_line(s[BS_PREFIXES].val), "base station '%s' has no prefixes", b->id);
    return add_prefix_list(ld, seq, MW_ROLE_BASE_STATION, (uint16_t)inv->n_bs);
}

static int parse_base_stations(loader_t *ld, const slot_t *s)
{
    yaml_node_item_t *it;
    yaml_node_t *seq;
    int rc = get_list(ld, s, "base_stations", &seq);

    if (rc < 0 || seq == NULL)
        return rc;
    for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        rc = parse_one_bs(ld, node_at(ld, *it));
        if (rc < 0)
            return rc;
    }
    return MW_OK;
}

static int parse_roles(loader_t *ld, const slot_t *s)
{
    const char *names[N_LISTED_ROLES];
    slot_t rs[N_LISTED_ROLES];
    yaml_node_t *seq;
    unsigned r;
    int rc;

    if (is_null(s->val))
        return MW_OK;
    for (r = 0; r < N_LISTED_ROLES; r++)
        names[r] = mw_role_name(FIRST_LISTED_ROLE + r);
    rc = collect(ld, s->val, "in roles", names, N_LISTED_ROLES, rs);
    if (rc < 0)
        return rc;
    /* File order, not role order, so the second of two owners is the one blamed. */
    for (yaml_node_pair_t *pair = s->val->data.mapping.pairs.start;
            pair < s->val->data.mapping.pairs.top; pair++) {
        for (r = 0; r < N_LISTED_ROLES; r++)
            if (rs[r].key == node_at(ld, pair->key))
                break;
        rc = get_list(ld, &rs[r], names[r], &seq);
        if (rc == MW_OK && seq != NULL)
            rc = add_prefix_list(ld, seq, (uint8_t)(FIRST_LISTED_ROLE + r), 0);
        if (rc < 0)
            return rc;
    }
    return MW_OK;
}

static int parse_root(loader_t *ld, yaml_node_t *root)
{
    slot_t s[MW_ARRAY_LEN(top_keys)];
    int rc;

    if (root->type != YAML_MAPPING_NODE)
        return fail_at(ld, node_line(root),
                "the file must be a mapping with site, timezone, maintenance_windows, "
                "base_stations, roles");
    rc = collect(ld, root, "at top level", top_keys, MW_ARRAY_LEN(top_keys), s);
    if (rc < 0)
        return rc;
    if (s[TOP_SITE].key == NULL)
        return fail_at(ld, node_line(root), "missing key 'site' (the site name)");
    /* Sections in a fixed order so owners of a shared prefix are named the
     * same way whatever order the file lists them in: base stations first. */
    rc = parse_site(ld, &s[TOP_SITE]);
    if (rc == MW_OK && s[TOP_TZ].key != NULL)
        rc = parse_timezone(ld, &s[TOP_TZ]);
    if (rc == MW_OK)
        rc = parse_windows(ld, &s[TOP_WINDOWS]);
    if (rc == MW_OK)
        rc = parse_base_stations(ld, &s[TOP_BS]);
    if (rc == MW_OK && s[TOP_ROLES].key != NULL)
        rc = parse_roles(ld, &s[TOP_ROLES]);
    return rc;
}

/* ---- time zone table ------------------------------------------------------ */

static int32_t local_offset(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (localtime_r(&tt, &tm) == NULL)
        return 0;
    return (int32_t)tm.tm_gmtoff;
}

static int tz_push(mw_inventory_t *inv, int64_t from, int32_t offset)
{
    if (mw_grow((void **)&inv->tz, &inv->cap_tz, inv->n_tz + 1, sizeof(*inv->tz)) < 0)
        return MW_ENOMEM;
    inv->tz[inv->n_tz].from = from;
    inv->tz[inv->n_tz].offset = offset;
    inv->n_tz++;
    return MW_OK;
}

/*
 * Walks 1970..2100 a day at a time in the site's zone and records every
 * offset change to the second (binary search inside the day). Zones change
 * offset at most a few times a year, so the table stays small.
 */
static int tz_scan(mw_inventory_t *inv)
{
    int64_t t, lo, hi;
    int32_t prev, cur;
    int rc;

    prev = local_offset(TZ_SCAN_FROM);
    rc = tz_push(inv, INT64_MIN, prev);
    for (t = TZ_SCAN_FROM + 86400; rc == MW_OK && t <= TZ_SCAN_TO; t += 86400) {
        cur = local_offset(t);
        if (cur == prev)
            continue;
        lo = t - 86400; /* offset prev at lo, cur at hi */
        hi = t;
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;

            if (local_offset(mid) == prev)
                lo = mid;
            else
                hi = mid;
        }
        rc = tz_push(inv, hi, cur);
        prev = cur;
    }
    return rc;
}

static int build_tz_table(mw_inventory_t *inv)
{
    char *saved = NULL;
    const char *old;
    char spec[300];
    int rc;

    if (strcmp(inv->timezone, "UTC") == 0)
        return tz_push(inv, INT64_MIN, 0);
    pthread_mutex_lock(&tz_lock);
    old = getenv("TZ");
    if (old != NULL && (saved = strdup(old)) == NULL) {
        pthread_mutex_unlock(&tz_lock);
        return MW_ENOMEM;
    }
    /* ":NAME" asks glibc for the zone file only, never a POSIX TZ rule. */
    snprintf(spec, sizeof(spec), ":%s", inv->timezone);
    setenv("TZ", spec, 1);
    tzset();
    rc = tz_scan(inv);
    if (saved != NULL)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    pthread_mutex_unlock(&tz_lock);
    free(saved);
    return rc;
}

/* ---- load / destroy --------------------------------------------------------- */

static int read_file(loader_t *ld)
{
    mw_inventory_t *inv = ld->inv;
    FILE *f = fopen(ld->path, "rb");
    size_t cap = 0, n;
    int rc = MW_OK;

    if (f == NULL) {
        mw_fmt_errno(ld->errbuf, ld->errlen, errno, "%s:0: cannot open", ld->path);
        return MW_EIO;
    }
    for (;;) {
        if (mw_grow((void **)&inv->yaml, &cap, inv->yaml_len + 4096 + 1, 1) < 0) {
            rc = fail_nomem(ld);
            break;
        }
        n = fread(inv->yaml + inv->yaml_len, 1, cap - inv->yaml_len - 1, f);
        inv->yaml_len += n;
        if (inv->yaml_len > MW_INVENTORY_MAX_FILE) {
            mw_fmt_err(ld->errbuf, ld->errlen, "%s:0: file is larger than %u bytes", ld->path,
                    MW_INVENTORY_MAX_FILE);
            rc = MW_EFULL;
            break;
        }
        if (n == 0)
            break;
    }
    if (rc == MW_OK && ferror(f)) {
        mw_fmt_errno(ld->errbuf, ld->errlen, errno, "%s:0: cannot read", ld->path);
        rc = MW_EIO;
    }
    fclose(f);
    if (rc == MW_OK)
        inv->yaml[inv->yaml_len] = '\0';
    return rc;
}

/* Parses the text into ld->doc; exactly one non-empty document is allowed. */
static int load_document(loader_t *ld, int *have_doc)
{
    yaml_parser_t parser;
    yaml_document_t extra;
    int rc = MW_OK;

    if (!yaml_parser_initialize(&parser))
        return fail_nomem(ld);
    yaml_parser_set_input_string(&parser, (const unsigned char *)ld->inv->yaml, ld->inv->yaml_len);
    if (!yaml_parser_load(&parser, &ld->doc)) {
        rc = fail_at(ld, (unsigned)parser.problem_mark.line + 1, "not valid YAML: %s",
                parser.problem ? parser.problem : "parse error");
        goto out;
    }
    *have_doc = 1;
    if (yaml_document_get_root_node(&ld->doc) == NULL) {
        rc = fail_at(ld, 1, "empty file (expected site, base_stations, roles, ...)");
        goto out;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        rc = fail_at(ld, (unsigned)parser.problem_mark.line + 1, "not valid YAML: %s",
                parser.problem ? parser.problem : "parse error");
        goto out;
    }
    if (yaml_document_get_root_node(&extra) != NULL)
        rc = fail_at(ld, (unsigned)extra.start_mark.line + 1,
                "more than one YAML document (remove the second '---')");
    yaml_document_delete(&extra);
out:
    yaml_parser_delete(&parser);
    return rc;
}

mw_inventory_t *mw_inventory_load(const char *path, char *errbuf, size_t errlen)
{
    loader_t ld;
    int have_doc = 0, rc;

    memset(&ld, 0, sizeof(ld));
    ld.path = path != NULL ? path : "(null)";
    ld.errbuf = errbuf;
    ld.errlen = errlen;
    if (path == NULL) {
        mw_fmt_err(errbuf, errlen, "(null):0: no inventory path given");
        return NULL;
    }
    ld.inv = calloc(1, sizeof(*ld.inv));
    if (ld.inv == NULL || (ld.inv->tree = mw_prefix_tree_create()) == NULL) {
        fail_nomem(&ld);
        goto fail;
    }
    rc = read_file(&ld);
    if (rc == MW_OK)
        rc = load_document(&ld, &have_doc);
    if (rc == MW_OK)
        rc = parse_root(&ld, yaml_document_get_root_node(&ld.doc));
    if (rc == MW_OK && ld.inv->timezone == NULL && (ld.inv->timezone = strdup("UTC")) == NULL)
        rc = fail_nomem(&ld);
    if (rc == MW_OK && build_tz_table(ld.inv) < 0)
        rc = fail_nomem(&ld);
    if (have_doc)
        yaml_document_delete(&ld.doc);
    if (rc < 0)
        goto fail;
    return ld.inv;
fail:
    mw_inventory_destroy(ld.inv);
    return NULL;
}

void mw_inventory_destroy(mw_inventory_t *inv)
{
    if (inv == NULL)
        return;
    mw_prefix_tree_destroy(inv->tree);
    free(inv->yaml);
    free(inv->site);
    free(inv->timezone);
    free(inv->bs);
    free(inv->bs_slots);
    free(inv->pfx);
    free(inv->win);
    free(inv->tz);
    free(inv);
}

/* ---- queries ----------------------------------------------------------------- */

int mw_inventory_lookup(
        const mw_inventory_t *inv, const uint8_t addr[16], mw_inventory_match_t *out)
{
    uint64_t idx;
    unsigned bits;
    mw_inventory_match_t m = { MW_ROLE_UNKNOWN, 0, 0 };
    int found = 0;

    if (inv != NULL && addr != NULL && mw_prefix_tree_lookup(inv->tree, addr, &idx, &bits)) {
        m.role = inv->pfx[idx].role;
        m.bs_index = inv->pfx[idx].bs_index;
        m.prefix_bits = (uint8_t)bits;
        found = 1;
    }
    if (out != NULL)
        *out = m;
    return found;
}

int mw_inventory_lookup_u64(
        const mw_inventory_t *inv, uint64_t hi, uint64_t lo, mw_inventory_match_t *out)
{
    uint8_t addr[16];

    mw_addr_join(hi, lo, addr);
    return mw_inventory_lookup(inv, addr, out);
}

const char *mw_inventory_site(const mw_inventory_t *inv)
{
    return inv != NULL ? inv->site : NULL;
}

const char *mw_inventory_timezone(const mw_inventory_t *inv)
{
    return inv != NULL ? inv->timezone : NULL;
}

size_t mw_inventory_bs_count(const mw_inventory_t *inv)
{
    return inv != NULL ? inv->n_bs : 0;
}

const char *mw_inventory_bs_id(const mw_inventory_t *inv, size_t bs_index)
{
    if (inv == NULL || bs_index == 0 || bs_index > inv->n_bs)
        return NULL;
    return inv->bs[bs_index - 1].id;
}

unsigned mw_inventory_bs_type(const mw_inventory_t *inv, size_t bs_index)
{
    if (inv == NULL || bs_index == 0 || bs_index > inv->n_bs)
        return MW_BS_UNKNOWN;
    return inv->bs[bs_index - 1].type;
}

size_t mw_inventory_bs_find(const mw_inventory_t *inv, const char *id)
{
    if (inv == NULL || id == NULL || inv->cap_slots == 0)
        return 0;
    return *bs_slot(inv, id);
}

int mw_inventory_bs_address(const mw_inventory_t *inv, size_t bs_index, uint8_t out[16])
{
    mw_inventory_prefix_t p;
    size_t i, n = mw_inventory_prefix_count(inv);

    for (i = 0; i < n; i++) {
        if (mw_inventory_prefix(inv, i, &p) == 0 && p.role == MW_ROLE_BASE_STATION &&
                p.bs_index == bs_index) {
            memcpy(out, p.addr, 16);
            return 0;
        }
    }
    return -1;
}

const char *mw_bs_type_name(unsigned type)
{
    static const char *const names[MW_BS_COUNT] = { "unknown", "enb", "gnb" };

    return type < MW_BS_COUNT ? names[type] : "?";
}

size_t mw_inventory_window_count(const mw_inventory_t *inv)
{
    return inv != NULL ? inv->n_win : 0;
}

int mw_inventory_window(const mw_inventory_t *inv, size_t i, mw_maint_window_t *out)
{
    if (inv == NULL || out == NULL || i >= inv->n_win)
        return MW_EINVAL;
    *out = inv->win[i];
    return MW_OK;
}

size_t mw_inventory_prefix_count(const mw_inventory_t *inv)
{
    return inv != NULL ? inv->n_pfx : 0;
}

int mw_inventory_prefix(const mw_inventory_t *inv, size_t i, mw_inventory_prefix_t *out)
{
    if (inv == NULL || out == NULL || i >= inv->n_pfx)
        return MW_EINVAL;
    *out = inv->pfx[i];
    return MW_OK;
}

int32_t mw_inventory_utc_offset(const mw_inventory_t *inv, int64_t unix_s)
{
    size_t lo = 0, hi;

    if (inv == NULL || inv->n_tz == 0)
        return 0;
    /* Last span whose start is <= unix_s; tz[0] starts at INT64_MIN. */
    hi = inv->n_tz;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (inv->tz[mid].from <= unix_s)
            lo = mid;
        else
            hi = mid;
    }
    return inv->tz[lo].offset;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int mw_inventory_in_maintenance(const mw_inventory_t *inv, int64_t unix_us)
{
    int64_t utc_s, local_s, day;
    unsigned wd, prev_wd, minute;
    size_t i;

    if (inv == NULL || inv->n_win == 0)
        return 0;
    utc_s = floor_div(unix_us, 1000000);
    local_s = utc_s + mw_inventory_utc_offset(inv, utc_s);
    day = floor_div(local_s, 86400);
    wd = (unsigned)((day % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday; Monday = 0 */
    prev_wd = (wd + 6) % 7;
    minute = (unsigned)((local_s - day * 86400) / 60);
    for (i = 0; i < inv->n_win; i++) {
        const mw_maint_window_t *w = &inv->win[i];

        if (w->end_min > w->start_min) {
            if ((w->days & (1u << wd)) && minute >= w->start_min && minute < w->end_min)
                return 1;
        } else {
            /* Crosses midnight: the tail belongs to the day the window started. */
            if ((w->days & (1u << wd)) && minute >= w->start_min)
                return 1;
            if ((w->days & (1u << prev_wd)) && minute < w->end_min)
                return 1;
        }
    }
    return 0;
}

const char *mw_inventory_yaml_text(const mw_inventory_t *inv, size_t *len)
{
    if (len != NULL)
        *len = inv != NULL ? inv->yaml_len : 0;
    return inv != NULL ? inv->yaml : NULL;
}

/* ---- summary ------------------------------------------------------------------ */

#define SUMMARY_MAX_BS 50

static void print_hhmm(FILE *out, unsigned minutes)
{
    fprintf(out, "%02u:%02u", minutes / 60, minutes % 60);
}

void mw_inventory_print_summary(const mw_inventory_t *inv, FILE *out)
{
    size_t per_role[MW_ROLE_COUNT] = { 0 }, n_type[MW_BS_COUNT] = { 0 }, i, j;
    char buf[64];
    unsigned d;

    if (inv == NULL || out == NULL)
        return;
    for (i = 0; i < inv->n_pfx; i++)
        per_role[inv->pfx[i].role < MW_ROLE_COUNT ? inv->pfx[i].role : 0]++;
    for (i = 0; i < inv->n_bs; i++)
        n_type[inv->bs[i].type < MW_BS_COUNT ? inv->bs[i].type : 0]++;
    fprintf(out, "site: %s\ntimezone: %s\n", inv->site, inv->timezone);
    fprintf(out, "base stations: %zu (%zu enb, %zu gnb)\nprefixes: %zu\n", inv->n_bs,
            n_type[MW_BS_ENB], n_type[MW_BS_GNB], inv->n_pfx);
    for (i = MW_ROLE_BASE_STATION; i < MW_ROLE_COUNT; i++)
        if (per_role[i] != 0)
            fprintf(out, "  %s: %zu\n", mw_role_name((unsigned)i), per_role[i]);
    fprintf(out, "maintenance windows: %zu\n", inv->n_win);
    for (i = 0; i < inv->n_win; i++) {
        const char *sep = "";

        fprintf(out, "  ");
        for (d = 0; d < 7; d++)
            if (inv->win[i].days & (1u << d)) {
                fprintf(out, "%s%s", sep, day_names[d]);
                sep = ",";
            }
        fprintf(out, " ");
        print_hhmm(out, inv->win[i].start_min);
        fprintf(out, "-");
        print_hhmm(out, inv->win[i].end_min);
        fprintf(out, "%s\n", inv->win[i].end_min <= inv->win[i].start_min ? " (next day)" : "");
    }
    /* Prefixes are in file order, so one pass per listed base station is
     * fine for the few that are printed. */
    for (i = 0; i < inv->n_bs && i < SUMMARY_MAX_BS; i++) {
        fprintf(out, "bs %zu %s (%s):", i + 1, inv->bs[i].id, mw_bs_type_name(inv->bs[i].type));
        for (j = 0; j < inv->n_pfx; j++)
            if (inv->pfx[j].bs_index == i + 1) {
                mw_prefix_format(inv->pfx[j].addr, inv->pfx[j].bits, buf, sizeof(buf));
                fprintf(out, " %s", buf);
            }
        fprintf(out, "\n");
    }
    if (inv->n_bs > SUMMARY_MAX_BS)
        fprintf(out, "(%zu more base stations not listed)\n", inv->n_bs - SUMMARY_MAX_BS);
}
