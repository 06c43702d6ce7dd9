/*
 * run_meta.c - fills /meta, /stats and the root attributes. Names come from
 * the linked nDPI at run time because nDPI renumbers protocols between
 * releases: a file is only readable with the tables written beside it.
 */
#include "engine/run_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify/classify_ndpi.h"
#include "classify/plane.h"
#include "classify/roles.h"
#include "capture/capture.h"
#include "core/mw.h"
#include "detect/anomaly.h"

static const char *const flow_kind_names[] = { "plain", "tunnel", "inner" };
static const char *const end_reason_names[] = { "idle", "active_timeout", "evicted", "end_of_input",
    "shutdown", "tcp_close" };

size_t mw_run_counters(const mw_run_summary_t *s, mw_run_counter_names_t *store, const char **names,
        uint64_t *values, size_t max)
{
    char(*event_names)[MW_DEC_COUNT][48] = store->event;
    size_t n = 0;
    unsigned i;

#define ADD(name, value)                                                                           \
    do {                                                                                           \
        if (n < max) {                                                                             \
            names[n] = (name);                                                                     \
            values[n] = (uint64_t)(value);                                                         \
            n++;                                                                                   \
        }                                                                                          \
    } while (0)
    ADD("packets", s->packets);
    ADD("bytes", s->bytes);
    ADD("tracked_packets", s->tracked_packets);
    ADD("tunnel_packets", s->tunnel_packets);
    ADD("encap.erspan", s->encap_packets[MW_ENCAP_ERSPAN]);
    ADD("encap.gre_teb", s->encap_packets[MW_ENCAP_GRE_TEB]);
    ADD("encap.vxlan", s->encap_packets[MW_ENCAP_VXLAN]);
    ADD("encap.geneve", s->encap_packets[MW_ENCAP_GENEVE]);
    ADD("encap.kept_station", s->encap_kept);
    ADD("datagrams_reassembled", s->datagrams_reassembled);
    ADD("fragments_reassembled", s->fragments_reassembled);
    ADD("fragments_not_reassembled", s->fragments_released);
    ADD("fragment_overlap_conflicts", s->fragment_conflicts);
    ADD("fragments_joined", s->fragments_joined);
    ADD("fragments_orphan", s->fragments_orphan);
    ADD("fragments_expired", s->fragments_expired);
    ADD("frag_table_full", s->frag_table_full);
    ADD("ftp_data_announced", s->ftp_announced);
    ADD("ftp_data_not_kept", s->ftp_not_kept);
    ADD("ftp_data_refused", s->ftp_refused);
    ADD("memcap_bytes", s->memcap);
    ADD("flow_cap", s->flow_cap);
    ADD("shed.windows", s->shed.windows);
    ADD("shed.hours", s->shed.hours);
    ADD("shed.evidence", s->shed.evidence);
    ADD("shed.beacon", s->shed.beacon);
    ADD("clock_jumps_back", s->clock_back);
    ADD("clock_jumps_ahead", s->clock_ahead);
    ADD("vlan_split_sessions", s->vlan_split_sessions);
    ADD("duplicate_packets", s->duplicates);
    ADD("flows_written", s->flows_written);
    ADD("flows_evicted", s->flows_evicted);
    ADD("flow_alloc_failures", s->alloc_failures);
    ADD("peak_flows", s->peak_flows);
    ADD("kernel_received", s->kernel_received);
    ADD("kernel_dropped", s->kernel_dropped);
    ADD("interface_dropped", s->if_dropped);
    ADD("input_errors", s->input_errors);
    ADD("capture_losses", s->capture_losses);
    ADD("capture_lost_s", s->capture_lost_s);
    ADD("pcap_ring_dropped", s->pcap_ring_dropped);
    for (i = 1; i < MW_DEC_COUNT; i++) {
        snprintf(event_names[0][i], sizeof(event_names[0][i]), "skipped.%s",
                mw_decode_event_name(i));
        ADD(event_names[0][i], s->decode_events[i]);
    }
    for (i = 1; i < MW_DEC_COUNT; i++) {
        snprintf(event_names[1][i], sizeof(event_names[1][i]), "inner.%s", mw_decode_event_name(i));
        ADD(event_names[1][i], s->soft_events[i]);
    }
#undef ADD
    return n;
}

static int write_name_tables(mw_h5_writer_t *w, mw_classifier_t *c, char *errbuf, size_t errlen)
{
    unsigned n = mw_classifier_num_protocols(c), i;
    unsigned ncat = mw_classifier_num_categories(), nrisk = mw_classifier_num_risks();
    unsigned max = MW_MAX(MW_MAX(n, ncat), MW_MAX(nrisk, (unsigned)MW_ROLE_COUNT));
    const char **names = calloc(max + 8, sizeof(*names));
    int rc;

    if (names == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    for (i = 0; i < n; i++)
        names[i] = mw_classifier_protocol_name(c, i);
    rc = mw_h5_writer_name_table(w, "protocols", names, n, errbuf, errlen);
    for (i = 0; rc == 0 && i < ncat; i++)
        names[i] = mw_classifier_category_name(c, i);
    if (rc == 0)
        rc = mw_h5_writer_name_table(w, "categories", names, ncat, errbuf, errlen);
    for (i = 0; rc == 0 && i < nrisk; i++)
        names[i] = mw_classifier_risk_name(i);
    if (rc == 0)
        rc = mw_h5_writer_name_table(w, "risks", names, nrisk, errbuf, errlen);
    for (i = 0; rc == 0 && i < 5; i++)
        names[i] = mw_classifier_confidence_name(i);
    if (rc == 0)
        rc = mw_h5_writer_name_table(w, "confidences", names, 5, errbuf, errlen);
    if (rc == 0)
        rc = mw_h5_writer_name_table(
                w, "flow_kinds", flow_kind_names, MW_ARRAY_LEN(flow_kind_names), errbuf, errlen);
    if (rc == 0)
        rc = mw_h5_writer_name_table(
                w, "end_reasons", end_reason_names, MW_ARRAY_LEN(end_reason_names), errbuf, errlen);
    free(names);
    return rc;
}

static char *join_sources(const mw_config_t *cfg)
{
    size_t len = 1, i;
    char *s;

    if (cfg->iface != NULL)
        return strdup(cfg->iface);
    for (i = 0; i < cfg->nfiles; i++)
        len += strlen(cfg->files[i]) + 1;
    s = calloc(1, len);
    if (s == NULL)
        return NULL;
    for (i = 0; i < cfg->nfiles; i++) {
        if (i)
            strcat(s, "\n");
        strcat(s, cfg->files[i]);
    }
    return s;
}

/* Written at the start, so a partial file has them all (complete=0 until the end). */
static int write_attrs(mw_h5_writer_t *w, const mw_config_t *cfg)
{
    char created[32];
    time_t now = time(NULL);
    struct tm tm;
    char *sources = join_sources(cfg);
    int rc = 0;

    gmtime_r(&now, &tm);
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    rc |= mw_h5_writer_attr_int64(w, "schema_version", MW_SCHEMA_VERSION);
    rc |= mw_h5_writer_attr_string(w, "mastwatch_version", MW_VERSION);
    rc |= mw_h5_writer_attr_string(w, "ndpi_version", mw_classifier_ndpi_version());
    rc |= mw_h5_writer_attr_string(w, "libpcap_version", mw_capture_lib_version());
    rc |= mw_h5_writer_attr_string(
            w, "command", cfg->command == MW_CMD_CAPTURE ? "capture" : "analyze");
    rc |= mw_h5_writer_attr_string(w, "sources", sources ? sources : "");
    rc |= mw_h5_writer_attr_string(w, "command_line", cfg->command_line);
    rc |= mw_h5_writer_attr_string(w, "created_utc", created);
    rc |= mw_h5_writer_attr_int64(w, "first_us", 0);
    rc |= mw_h5_writer_attr_int64(w, "last_us", 0);
    rc |= mw_h5_writer_attr_int64(w, "threads", cfg->threads);
    rc |= mw_h5_writer_attr_int64(w, "idle_timeout_s", cfg->idle_timeout_us / 1000000);
    rc |= mw_h5_writer_attr_int64(w, "tcp_idle_timeout_s", cfg->tcp_idle_timeout_us / 1000000);
    rc |= mw_h5_writer_attr_int64(w, "active_timeout_s", cfg->active_timeout_us / 1000000);
    rc |= mw_h5_writer_attr_int64(w, "max_flows", cfg->max_flows);
    rc |= mw_h5_writer_attr_int64(w, "extra_dissection", cfg->extra_dissection);
    rc |= mw_h5_writer_attr_int64(w, "vlan_tracking", cfg->vlan_tracking);
    rc |= mw_h5_writer_attr_int64(w, "dedup", cfg->dedup);
    rc |= mw_h5_writer_attr_int64(w, "complete", 0);
    rc |= mw_h5_writer_attr_int64(w, "stop_signal", 0);
    if (cfg->model != NULL)
        rc |= mw_h5_writer_attr_string(w, "model", cfg->model);
    free(sources);
    return rc ? MW_EIO : 0;
}

/* Planes, roles, services, initiators and the inventory's base stations. */
static int write_site_tables(
        mw_h5_writer_t *w, const mw_inventory_t *inv, char *errbuf, size_t errlen)
{
    size_t nbs = inv ? mw_inventory_bs_count(inv) : 0, i;
    size_t max = MW_MAX(MW_MAX((size_t)MW_SVC_COUNT, (size_t)MW_ROLE_COUNT), nbs + 1);
    const char **names = calloc(max, sizeof(*names));
    int rc;

    if (names == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    for (i = 0; i < MW_PLANE_COUNT; i++)
        names[i] = mw_plane_name((unsigned)i);
    rc = mw_h5_writer_name_table(w, "planes", names, MW_PLANE_COUNT, errbuf, errlen);
    for (i = 0; rc == 0 && i < MW_ROLE_COUNT; i++)
        names[i] = mw_role_name((unsigned)i);
    if (rc == 0)
        rc = mw_h5_writer_name_table(w, "roles", names, MW_ROLE_COUNT, errbuf, errlen);
    for (i = 0; rc == 0 && i < MW_INIT_COUNT; i++)
        names[i] = mw_initiator_name((unsigned)i);
    if (rc == 0)
        rc = mw_h5_writer_name_table(w, "initiators", names, MW_INIT_COUNT, errbuf, errlen);
    {
        static const char *const orient[MW_ORIENT_COUNT] = { "first_packet", "handshake", "port" };
        if (rc == 0)
            rc = mw_h5_writer_name_table(
                    w, "orientations", orient, MW_ORIENT_COUNT, errbuf, errlen);
    }
    for (i = 0; rc == 0 && i < MW_SVC_COUNT; i++)
        names[i] = mw_service_name((unsigned)i);
    if (rc == 0)
        rc = mw_h5_writer_name_table(w, "services", names, MW_SVC_COUNT, errbuf, errlen);
    names[0] = "";
    for (i = 1; rc == 0 && i <= nbs; i++)
        names[i] = mw_inventory_bs_id(inv, i);
    if (rc == 0)
        rc = mw_h5_writer_name_table(w, "base_stations", names, nbs + 1, errbuf, errlen);
    if (rc == 0 && inv != NULL) {
        size_t len;
        const char *yaml = mw_inventory_yaml_text(inv, &len);
        rc = mw_h5_writer_text(w, "meta/inventory", yaml ? yaml : "", errbuf, errlen);
        if (rc == 0)
            rc = mw_h5_writer_attr_string(w, "site", mw_inventory_site(inv));
    }
    free(names);
    return rc;
}

int mw_run_meta_start(mw_h5_writer_t *w, const mw_config_t *cfg, mw_worker_t *worker,
        const mw_inventory_t *inv, char *errbuf, size_t errlen)
{
    mw_run_counter_names_t store;
    const char *names[MW_RUN_MAX_COUNTERS];
    uint64_t values[MW_RUN_MAX_COUNTERS];
    mw_run_summary_t zero;
    size_t n;
    int rc;

    if (w == NULL)
        return 0;
    rc = write_name_tables(w, mw_worker_classifier(worker), errbuf, errlen);
    if (rc == 0)
        rc = write_site_tables(w, inv, errbuf, errlen);
    if (rc != 0)
        return rc;
    /* the counters' names are fixed: zeros now, the values at the end */
    memset(&zero, 0, sizeof(zero));
    n = mw_run_counters(&zero, &store, names, values, MW_RUN_MAX_COUNTERS);
    rc = mw_h5_writer_counters(w, "counters", names, values, n, errbuf, errlen);
    if (rc != 0)
        return rc;
    if (cfg->model != NULL) {
        const char *det[MW_DET_COUNT], *sev[4], *cov[MW_COV_COUNT];
        unsigned i;
        for (i = 0; i < MW_DET_COUNT; i++)
            det[i] = mw_detector_name(i);
        for (i = 0; i < 4; i++)
            sev[i] = mw_severity_name(i);
        for (i = 0; i < MW_COV_COUNT; i++)
            cov[i] = mw_coverage_status_name(i);
        rc = mw_h5_writer_name_table(w, "detectors", det, MW_DET_COUNT, errbuf, errlen);
        if (rc == 0)
            rc = mw_h5_writer_name_table(w, "severities", sev, 4, errbuf, errlen);
        if (rc == 0)
            rc = mw_h5_writer_name_table(w, "coverage", cov, MW_COV_COUNT, errbuf, errlen);
        if (rc != 0)
            return rc;
    }
    if (write_attrs(w, cfg) != 0) {
        mw_fmt_err(errbuf, errlen, "HDF5: cannot write the file attributes (disk full?)");
        return MW_EIO;
    }
    return 0;
}

int mw_run_meta_finish(mw_h5_writer_t *w, const mw_run_summary_t *sum, char *errbuf, size_t errlen)
{
    mw_run_counter_names_t store;
    const char *names[MW_RUN_MAX_COUNTERS];
    uint64_t values[MW_RUN_MAX_COUNTERS];
    size_t n;
    int rc = 0;

    if (w == NULL)
        return 0;
    n = mw_run_counters(sum, &store, names, values, MW_RUN_MAX_COUNTERS);
    if (mw_h5_writer_progress(w, names, values, n, sum->first_us, sum->last_us, errbuf, errlen) !=
            0)
        return MW_EIO;
    rc |= mw_h5_writer_attr_int64(w, "stop_signal", sum->stop_signal);
    /* complete = every input read to its end, no signal, no limit hit */
    rc |= mw_h5_writer_attr_int64(w, "complete", sum->input_errors == 0 && sum->stop_signal == 0);
    if (rc != 0) {
        mw_fmt_err(errbuf, errlen, "HDF5: cannot write the file attributes (disk full?)");
        return MW_EIO;
    }
    return 0;
}
