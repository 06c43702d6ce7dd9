/*
 * detect_risk.c - what nDPI itself flags, judged against the tuple's past:
 * A8 cleartext credentials and cleartext management protocols (Telnet,
 * FTP), A8 obsolete or weak SSH/TLS, and A9 DNS names shaped like
 * tunnelling (labels far longer than any the base station asked for in
 * training) or that nDPI calls DGA-like.
 */
#include <stdio.h>
#include <string.h>

#include "classify/classify_ndpi.h"
#include "classify/plane.h"
#include "classify/roles.h"
#include "core/mw.h"
#include "detect/detector.h"

#define DNS_LABEL_SLACK    12
#define DNS_MIN_LONG_LABEL 30

/* The risks of a record that nDPI found in its payload: those it sets with a label
 * guessed from the port alone (a scan's bare SYN to 23 is "Telnet", unsafe) are not. */
static uint64_t payload_risks(const mw_flow_record_t *r)
{
    if (!mw_classifier_label_from_payload(r->confidence))
        return 0;
    return mw_classifier_risks_of_seen_side(r->risk, mw_flow_one_way_side(r));
}

static void cleartext_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    uint64_t clear = payload_risks(v->rec) & mw_classifier_risk_mask(MW_RISK_CLEARTEXT);
    uint64_t known = tuple ? tuple->risk_mask : 0;
    int clear_service = (v->rec->service == MW_SVC_TELNET || v->rec->service == MW_SVC_FTP ||
                                v->rec->service == MW_SVC_TFTP || v->rec->service == MW_SVC_HTTP) &&
                        mw_flow_carried_data(v->rec);
    mw_evidence_t ev;
    (void)key;

    /* a refused probe used nothing, whatever its request said in clear */
    if (v->rec->refused_by != MW_SIDE_NONE && !mw_flow_carried_data(v->rec))
        return;
    if ((clear & ~known) == 0 && !(clear_service && tuple == NULL))
        return;
    if (v->rec->plane != MW_PLANE_MANAGEMENT && v->rec->kind != MW_FLOW_INNER &&
            v->rec->plane != MW_PLANE_UNKNOWN)
        return;
    /* a subscriber's web browsing in clear is the subscriber's; inside GTP-U only what
     * reaches an inventory address (OAM, another base station: leakage too) is ours */
    if (v->rec->kind == MW_FLOW_INNER && v->rec->peer_role == MW_ROLE_UNKNOWN)
        return;
    mw_evidence_from_flow(&ev, MW_DET_CLEARTEXT, clear ? MW_SEV_HIGH : MW_SEV_MEDIUM, st, v);
    ev.kind = clear != 0;
    mw_detect_report(ctx, &ev);
}

static void cleartext_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    char session[256];

    mw_fmt_session(ctx, session, sizeof(session), a);
    snprintf(out, len,
            "cleartext management protocol %s%s, never used in clear by this base station in "
            "%.1f days of training: %s; %u flows",
            a->app, a->kind ? " (nDPI: clear-text credentials or unsafe protocol)" : "",
            mw_detect_training_days(ctx), session, a->n_flows);
}

const mw_detector_ops_t mw_det_cleartext = {
    .name = "cleartext", .on_flow = cleartext_flow, .explain = cleartext_explain
};

static void risk_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    uint64_t weak = payload_risks(v->rec) & mw_classifier_risk_mask(MW_RISK_WEAK);
    mw_evidence_t ev;
    (void)key;

    if (weak == 0 || (tuple != NULL && (weak & ~tuple->risk_mask) == 0) ||
            v->rec->plane == MW_PLANE_USER)
        return;
    mw_evidence_from_flow(&ev, MW_DET_RISK, MW_SEV_MEDIUM, st, v);
    ev.value = (double)weak; /* the risk bits (below 2^53: exact in a double) */
    mw_detect_report(ctx, &ev);
}

static void risk_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    char session[256], names[160] = "";
    uint64_t bits = (uint64_t)a->value;
    unsigned i;

    mw_fmt_session(ctx, session, sizeof(session), a);
    for (i = 0; i < 64; i++) {
        if (bits >> i & 1) {
            size_t used = strlen(names);
            snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "",
                    mw_classifier_risk_name(i));
        }
    }
    snprintf(out, len,
            "weak security on %s: %s; not seen here in %.1f days of training: %s; %u flows", a->app,
            names, mw_detect_training_days(ctx), session, a->n_flows);
}

const mw_detector_ops_t mw_det_risk = {
    .name = "risk", .on_flow = risk_flow, .explain = risk_explain
};

static void dns_flow(mw_detect_ctx_t *ctx, const mw_flow_view_t *v, uint32_t st,
        const mw_tuple_key_t *key, const mw_tuple_stats_t *tuple)
{
    const mw_station_t *s = mw_model_station_at(mw_detect_model(ctx), st);
    uint32_t name_len, label;
    int dga = (v->rec->risk & mw_classifier_risk_mask(MW_RISK_DNS)) != 0;
    mw_evidence_t ev;
    (void)key;
    (void)tuple;

    if (v->rec->service != MW_SVC_DNS || v->rec->kind == MW_FLOW_INNER)
        return;
    mw_dns_record_shape(v->rec, &name_len, &label);
    if (!dga && (label < DNS_MIN_LONG_LABEL || label <= s->dns_max_label + DNS_LABEL_SLACK))
        return;
    mw_evidence_from_flow(&ev, MW_DET_DNS, MW_SEV_HIGH, st, v);
    ev.kind = dga && label < DNS_MIN_LONG_LABEL;
    ev.value = label;
    /* the text's limit: what fires is above both the learned one and DNS_MIN_LONG_LABEL - 1 */
    ev.limit = ev.kind ? 0 : MW_MAX(s->dns_max_label + DNS_LABEL_SLACK, DNS_MIN_LONG_LABEL - 1);
    mw_detect_report(ctx, &ev);
}

static void dns_explain(
        const mw_detect_ctx_t *ctx, const mw_anomaly_record_t *a, char *out, size_t len)
{
    char session[256], example[MW_HOST_LEN + 64], asked[64];
    uint32_t name_len, host_label;
    unsigned long long asking = a->initiator == MW_INIT_PEER ? a->packets_down : a->packets_up;

    mw_fmt_session(ctx, session, sizeof(session), a);
    mw_dns_name_shape(a->host, &name_len, &host_label);
    /* the record keeps its first name: the long label may have come in a later query */
    snprintf(example, sizeof(example), host_label >= a->value ? "e.g. %s" : "first query %s",
            a->host[0] ? a->host : "(none read)");
    /* a UDP packet is a query; over TCP the asking side's packets include its handshake */
    snprintf(
            asked, sizeof(asked), a->l4_proto == 17 ? "%llu queries" : "%llu packets sent", asking);
    if (a->kind)
        snprintf(out, len,
                "DNS names nDPI calls algorithmically generated (e.g. %s): %s; %s in %u flow "
                "records",
                a->host, session, asked, a->n_flows);
    else
        snprintf(out, len,
                "DNS names shaped like tunnelling (%s): labels of %.0f characters, above the "
                "limit of %.0f (the longest in %.1f days of training + 12, and at least 29): "
                "%s; %s in %u flow records",
                example, a->value, a->limit, mw_detect_training_days(ctx), session, asked,
                a->n_flows);
}

const mw_detector_ops_t mw_det_dns = { .name = "dns", .on_flow = dns_flow, .explain = dns_explain };
