/*
 * classify_ndpi.c - nDPI wrapper: per-flow detection and the name tables
 * written to the output, around a module of ndpi_module.c (the other file
 * that includes nDPI).
 *
 * Detection follows ndpiReader's policy so results can be compared: feed
 * packets until nDPI names an application and wants no more packets, or
 * until MW_DPI_MAX_{TCP,UDP}_PACKETS, then give up with guessing enabled.
 * The nDPI state (about 700 bytes a flow) is freed as soon as detection
 * ends, so long-lived flows cost only their record.
 */
#include "classify/classify_ndpi.h"

#include <stdlib.h>
#include <string.h>

#include "classify/hostname.h"
#include "classify/ndpi_compat.h"
#include "classify/ndpi_module.h"
#include "core/mw.h"
#include "core/pool.h"

#define PENDING_MAX   2   /* header-only packets that wait for nDPI */
#define PENDING_BYTES 128 /* ... in an object of this size: a SYN and its RST fit */
#define PENDING_TAG   1u  /* the low bit of a state pointer: it is a pending_t */
#define PENDING_ROOM  (PENDING_BYTES - PENDING_MAX * 9 - 1) /* bytes for the packets */

/* The first header-only TCP packets of a flow, before it has nDPI state. */
typedef struct pending {
    int64_t ts_us[PENDING_MAX];
    uint8_t len[PENDING_MAX];
    uint8_t n;
    uint8_t bytes[PENDING_ROOM];
} pending_t;

struct mw_classifier {
    mw_dpi_module_t *module;
    struct ndpi_detection_module_struct *ndpi; /* the module's */
    int dissected;      /* the module has seen a packet: no longer a pristine copy */
    mw_pool_t *flows;   /* nDPI's per-flow state: one pool per worker, no malloc per flow */
    mw_pool_t *pending; /* pending_t */
    int waiting;        /* header-only packets may wait */
    int extra;          /* nDPI's extra dissection after the application is known */
};

/* The waiting packets a flow's state pointer stands for, NULL when it is nDPI state (or
 * NULL): pool objects are 16-byte aligned, so the low bit is free to tell them apart. */
static pending_t *pending_of(const void *state)
{
    return ((uintptr_t)state & PENDING_TAG)
                   ? (pending_t *)((uintptr_t)state & ~(uintptr_t)PENDING_TAG)
                   : NULL;
}

static void *tagged(pending_t *p)
{
    return (void *)((uintptr_t)p | PENDING_TAG);
}

/* A classifier around module (NULL: none could be had), or NULL with errbuf; the module is
 * the classifier's (or freed) either way. */
static mw_classifier_t *classifier_new(mw_dpi_module_t *module, char *errbuf, size_t errlen)
{
    mw_classifier_t *c;

    if (module == NULL) {
        mw_fmt_err(errbuf, errlen, "nDPI: cannot initialise a detection module");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        mw_dpi_module_free(module);
        mw_fmt_err(errbuf, errlen, "nDPI: out of memory");
        return NULL;
    }
    c->module = module;
    c->ndpi = mw_dpi_module_ndpi(module);
    c->flows = mw_pool_create(SIZEOF_FLOW_STRUCT);
    c->pending = mw_pool_create(sizeof(pending_t));
    c->waiting = 1;
    c->extra = 1;
    if (c->flows == NULL || c->pending == NULL) {
        mw_classifier_destroy(c);
        mw_fmt_err(errbuf, errlen, "nDPI: out of memory");
        return NULL;
    }
    return c;
}

mw_classifier_t *mw_classifier_create(char *errbuf, size_t errlen)
{
    return classifier_new(mw_dpi_module_build(), errbuf, errlen);
}

mw_classifier_t *mw_classifier_copy(const mw_classifier_t *pristine, char *errbuf, size_t errlen)
{
    mw_dpi_module_t *module = pristine->dissected ? NULL : mw_dpi_module_copy(pristine->module);
    mw_classifier_t *c;

    if (module == NULL) {
        mw_fmt_err(errbuf, errlen, "nDPI: this detection module cannot be copied");
        return NULL;
    }
    c = classifier_new(module, errbuf, errlen);
    if (c != NULL) {
        c->waiting = pristine->waiting;
        c->extra = pristine->extra;
    }
    return c;
}

void mw_classifier_destroy(mw_classifier_t *c)
{
    if (c == NULL)
        return;
    mw_dpi_module_free(c->module);
    mw_pool_destroy(c->flows);
    mw_pool_destroy(c->pending);
    free(c);
}

size_t mw_classifier_flow_bytes(void)
{
    return SIZEOF_FLOW_STRUCT;
}

void mw_classifier_set_waiting(mw_classifier_t *c, int on)
{
    c->waiting = on;
}

void mw_classifier_set_extra_dissection(mw_classifier_t *c, int on)
{
    c->extra = on;
}

unsigned mw_classifier_flow_packets(const void *state)
{
    const struct ndpi_flow_struct *f = state;

    return f != NULL && pending_of(state) == NULL ? f->num_processed_pkts : 0;
}

size_t mw_classifier_module_bytes(const mw_classifier_t *c)
{
    size_t bytes;

    (void)mw_dpi_module_image(c->module, &bytes);
    return bytes;
}

size_t mw_classifier_live(const mw_classifier_t *c, size_t *pending)
{
    *pending = mw_pool_live(c->pending);
    return mw_pool_live(c->flows);
}

static void *flow_new(mw_classifier_t *c)
{
    struct ndpi_flow_struct *f = mw_pool_get(c->flows);

    if (f != NULL)
        memset(f, 0, SIZEOF_FLOW_STRUCT);
    return f;
}

static void copy_labels(struct ndpi_flow_struct *f, ndpi_protocol proto, mw_flow_record_t *rec)
{
    rec->master_proto = MW_NDPI_MASTER(proto);
    rec->app_proto = MW_NDPI_APP(proto);
    rec->category = (uint16_t)proto.category;
    rec->confidence = (uint8_t)f->confidence;
    rec->risk = (uint64_t)f->risk;
    /* the worker's own reading (classify/hostname.c) wins: whole names, from a DNS question
     * read at a message's start (nDPI 4.2 reads TCP segments that continue an answer as
     * messages) and not only the 79-byte tail nDPI keeps; nDPI's only where it read none */
    if (f->host_server_name[0] != '\0' && rec->host[0] == '\0') {
        size_t n = strnlen(
                f->host_server_name, MW_MIN(sizeof(f->host_server_name), sizeof(rec->host) - 1));
        memset(rec->host, 0, sizeof(rec->host));
        memcpy(rec->host, f->host_server_name, n);
    }
}

/* What nDPI allocated inside the state goes back to nDPI, the state to the pool. */
static void free_state(mw_classifier_t *c, void **state)
{
    ndpi_free_flow_data((struct ndpi_flow_struct *)*state);
    mw_pool_put(c->flows, *state);
    *state = NULL;
}

/* One packet into nDPI state f (*state): 1 detection over (state freed), 0 more wanted. */
static int feed(mw_classifier_t *c, void **state, const uint8_t *ip, uint32_t ip_len, int64_t ts_us,
        uint32_t packets_seen, mw_flow_record_t *rec)
{
    struct ndpi_flow_struct *f = *state;
    ndpi_protocol proto;
    uint32_t limit;

    c->dissected = 1;
    proto = mw_ndpi_process(
            c->ndpi, f, ip, (unsigned short)MW_MIN(ip_len, 65535u), (uint64_t)(ts_us / 1000));
    limit = rec->l4_proto == 6 ? MW_DPI_MAX_TCP_PACKETS : MW_DPI_MAX_UDP_PACKETS;
    if (packets_seen < limit && (MW_NDPI_APP(proto) == NDPI_PROTOCOL_UNKNOWN ||
                                        (c->extra && mw_ndpi_extra_possible(c->ndpi, f))))
        return 0;
    if (MW_NDPI_APP(proto) == NDPI_PROTOCOL_UNKNOWN) {
        mw_classifier_finish(c, state, rec);
        return 1;
    }
    copy_labels(f, proto, rec);
    rec->ndpi_done = 1;
    free_state(c, state);
    return 1;
}

/* Keeps a header-only TCP packet of a flow without nDPI state yet: 1 kept, 0 not (nDPI
 * must see it now, after what waits). */
static int keep_pending(mw_classifier_t *c, void **state, const uint8_t *ip, uint32_t ip_len,
        uint32_t payload_len, int64_t ts_us, const mw_flow_record_t *rec)
{
    pending_t *p = pending_of(*state);
    size_t used = 0;
    uint8_t i;

    if (!c->waiting || rec->l4_proto != 6 || payload_len != 0 || (*state != NULL && p == NULL))
        return 0;
    for (i = 0; p != NULL && i < p->n; i++)
        used += p->len[i];
    if ((p != NULL && p->n == PENDING_MAX) || used + ip_len > PENDING_ROOM)
        return 0;
    if (p == NULL) {
        p = mw_pool_get(c->pending);
        if (p == NULL)
            return 0; /* out of memory: nDPI state is tried instead */
        p->n = 0;
        *state = tagged(p);
    }
    memcpy(p->bytes + used, ip, ip_len);
    p->len[p->n] = (uint8_t)ip_len;
    p->ts_us[p->n++] = ts_us;
    return 1;
}

/* Gives a flow whose packets wait its nDPI state and hands them over, in order: 0, or -1
 * out of memory (they still wait). */
static int materialize(mw_classifier_t *c, void **state, mw_flow_record_t *rec)
{
    pending_t *p = pending_of(*state);
    size_t off = 0;
    uint8_t i;

    *state = flow_new(c);
    if (*state == NULL) {
        *state = tagged(p);
        return -1;
    }
    for (i = 0; i < p->n; i++) {
        if (feed(c, state, p->bytes + off, p->len[i], p->ts_us[i], i + 1u, rec) == 1)
            break; /* detection over (a packet limit of 1 or 2): the rest is not needed */
        off += p->len[i];
    }
    mw_pool_put(c->pending, p);
    return 0;
}

int mw_classifier_process(mw_classifier_t *c, void **state, const uint8_t *ip, uint32_t ip_len,
        uint32_t payload_len, int64_t ts_us, uint32_t packets_seen, mw_flow_record_t *rec)
{
    if (keep_pending(c, state, ip, ip_len, payload_len, ts_us, rec))
        return 0;
    if (pending_of(*state) != NULL) {
        if (materialize(c, state, rec) != 0)
            return -1;
        if (*state == NULL)
            return 1;
    } else if (*state == NULL) {
        *state = flow_new(c);
        if (*state == NULL)
            return -1;
    }
    return feed(c, state, ip, ip_len, ts_us, packets_seen, rec);
}

/* A flow ends, or its record is cut, with packets still waiting: nDPI sees them first. */
static void settle(mw_classifier_t *c, void **state, mw_flow_record_t *rec)
{
    if (pending_of(*state) == NULL || materialize(c, state, rec) == 0)
        return;
    mw_pool_put(c->pending, pending_of(*state)); /* no memory for nDPI: no labels */
    *state = NULL;
}

void mw_classifier_peek(mw_classifier_t *c, void **state, mw_flow_record_t *rec)
{
    struct ndpi_flow_struct *f;
    ndpi_protocol proto;

    settle(c, state, rec);
    f = *state;
    if (f == NULL)
        return;
    memset(&proto, 0, sizeof(proto));
    MW_NDPI_MASTER(proto) = f->detected_protocol_stack[1];
    MW_NDPI_APP(proto) = f->detected_protocol_stack[0];
    proto.category = f->category;
    copy_labels(f, proto, rec);
}

void mw_classifier_finish(mw_classifier_t *c, void **state, mw_flow_record_t *rec)
{
    struct ndpi_flow_struct *f;
    ndpi_protocol proto;

    settle(c, state, rec);
    f = *state;
    if (f == NULL)
        return;
    c->dissected = 1;
    proto = mw_ndpi_giveup(c->ndpi, f);
    copy_labels(f, proto, rec);
    rec->ndpi_done = 0;
    free_state(c, state);
}

unsigned mw_classifier_num_protocols(const mw_classifier_t *c)
{
    return ndpi_get_num_supported_protocols(c->ndpi);
}

const char *mw_classifier_protocol_name(const mw_classifier_t *c, unsigned id)
{
    const char *name = ndpi_get_proto_name(c->ndpi, (uint16_t)id);
    return name ? name : "";
}

unsigned mw_classifier_num_categories(void)
{
    return NDPI_PROTOCOL_NUM_CATEGORIES;
}

const char *mw_classifier_category_name(const mw_classifier_t *c, unsigned id)
{
    const char *name = ndpi_category_get_name(c->ndpi, (ndpi_protocol_category_t)id);
    return name ? name : "";
}

unsigned mw_classifier_num_risks(void)
{
    return NDPI_MAX_RISK;
}

const char *mw_classifier_risk_name(unsigned id)
{
    const char *name = ndpi_risk2str((ndpi_risk_enum)id);
    return name ? name : "";
}

const char *mw_classifier_confidence_name(unsigned id)
{
    const char *name = ndpi_confidence_get_name((ndpi_confidence_t)id);
    return name ? name : "";
}

const char *mw_classifier_ndpi_version(void)
{
    return ndpi_revision();
}

#define BIT(r) (1ULL << (r))

uint64_t mw_classifier_risk_mask(enum mw_risk_class cls)
{
    switch (cls) {
        case MW_RISK_CLEARTEXT:
            return BIT(NDPI_CLEAR_TEXT_CREDENTIALS) | BIT(NDPI_UNSAFE_PROTOCOL);
        case MW_RISK_DNS:
            return BIT(NDPI_SUSPICIOUS_DGA_DOMAIN) | BIT(NDPI_DNS_SUSPICIOUS_TRAFFIC);
        case MW_RISK_WEAK:
            return BIT(NDPI_TLS_OBSOLETE_VERSION) | BIT(NDPI_TLS_WEAK_CIPHER) |
                   BIT(NDPI_SSH_OBSOLETE_CLIENT_VERSION_OR_CIPHER) |
                   BIT(NDPI_SSH_OBSOLETE_SERVER_VERSION_OR_CIPHER) |
                   BIT(NDPI_SMB_INSECURE_VERSION) | BIT(NDPI_TLS_SELFSIGNED_CERTIFICATE) |
                   BIT(NDPI_TLS_CERTIFICATE_EXPIRED);
        case MW_RISK_IGNORED:
            return BIT(NDPI_KNOWN_PROTOCOL_ON_NON_STANDARD_PORT);
    }
    return 0;
}

uint64_t mw_classifier_risks_of_seen_side(uint64_t risk, int seen)
{
    const uint64_t client = BIT(NDPI_SSH_OBSOLETE_CLIENT_VERSION_OR_CIPHER);
    const uint64_t server = BIT(NDPI_SSH_OBSOLETE_SERVER_VERSION_OR_CIPHER);
    int any = (risk & (client | server)) != 0;

    if (seen == MW_SEEN_BOTH || !any)
        return risk;
    risk &= ~(client | server);
    return risk | (seen == MW_SEEN_OPENER ? client : server);
}

int mw_classifier_label_from_payload(unsigned confidence)
{
    switch (confidence) {
        case NDPI_CONFIDENCE_UNKNOWN:
        case NDPI_CONFIDENCE_MATCH_BY_PORT:
        case NDPI_CONFIDENCE_MATCH_BY_IP:
            return 0;
        default:
            return confidence < NDPI_CONFIDENCE_MAX;
    }
}

unsigned mw_classifier_confidence_dpi(void)
{
    return NDPI_CONFIDENCE_DPI;
}

unsigned mw_classifier_confidence_port(void)
{
    return NDPI_CONFIDENCE_MATCH_BY_PORT;
}

uint16_t mw_classifier_gtp_id(void)
{
    return NDPI_PROTOCOL_GTP;
}

uint16_t mw_classifier_gtp_u_id(void)
{
    return NDPI_PROTOCOL_GTP_U;
}

uint16_t mw_classifier_ip_in_ip_id(void)
{
    return NDPI_PROTOCOL_IP_IP_IN_IP;
}

uint16_t mw_classifier_gre_id(void)
{
    return NDPI_PROTOCOL_IP_GRE;
}
