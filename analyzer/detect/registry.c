/*
 * registry.c - the list of detectors, their names, and the small text
 * helpers every explanation uses.
 */
#include "detect/detector.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "classify/roles.h"
#include "core/addr.h"

extern const mw_detector_ops_t mw_det_new_peer, mw_det_new_service, mw_det_direction,
        mw_det_leakage, mw_det_volume, mw_det_beacon, mw_det_off_hours, mw_det_cleartext,
        mw_det_risk, mw_det_dns, mw_det_time_source, mw_det_rate, mw_det_capture_health;

/* Indexed by enum mw_detector_id. */
const mw_detector_ops_t *const mw_detectors[] = {
    &mw_det_new_peer,
    &mw_det_new_service,
    &mw_det_direction,
    &mw_det_leakage,
    &mw_det_volume,
    &mw_det_beacon,
    &mw_det_off_hours,
    &mw_det_cleartext,
    &mw_det_risk,
    &mw_det_dns,
    &mw_det_time_source,
    &mw_det_rate,
    &mw_det_capture_health,
};
const size_t mw_detector_count = sizeof(mw_detectors) / sizeof(mw_detectors[0]);

const char *mw_detector_name(unsigned id)
{
    return id < mw_detector_count ? mw_detectors[id]->name : "?";
}

const char *mw_severity_name(unsigned sev)
{
    static const char *const names[] = { "none", "low", "medium", "high" };
    return sev < 4 ? names[sev] : "?";
}

void mw_fmt_bytes(char *out, size_t len, double b)
{
    if (b >= 1e9)
        snprintf(out, len, "%.1f GB", b / 1e9);
    else if (b >= 1e6)
        snprintf(out, len, "%.1f MB", b / 1e6);
    else if (b >= 1e3)
        snprintf(out, len, "%.0f kB", b / 1e3);
    else
        snprintf(out, len, "%.0f B", b);
}

void mw_fmt_addr(char *out, size_t len, uint64_t hi, uint64_t lo)
{
    uint8_t a[16];
    char buf[INET6_ADDRSTRLEN];

    mw_addr_join(hi, lo, a);
    if (mw_addr_is_v4_u64(hi, lo))
        inet_ntop(AF_INET, a + 12, buf, sizeof(buf));
    else
        inet_ntop(AF_INET6, a, buf, sizeof(buf));
    snprintf(out, len, "%s", buf);
}

int mw_parse_addr(const char *text, uint8_t out[16])
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, text, out + 12) == 1) {
        out[10] = out[11] = 0xff;
        return 0;
    }
    return inet_pton(AF_INET6, text, out) == 1 ? 0 : -1;
}

const char *mw_coverage_status_name(unsigned status)
{
    static const char *const names[MW_COV_COUNT] = { "unattributed", "scored", "scored by group",
        "still learning", "not scored", "silent" };
    return status < MW_COV_COUNT ? names[status] : "?";
}

void mw_fmt_local(char *out, size_t len, const mw_anomaly_record_t *a)
{
    char addr[64];

    mw_fmt_addr(addr, sizeof(addr), a->local_hi, a->local_lo);
    if (a->inner)
        snprintf(out, len, "subscriber %s (GTP-U TEID up 0x%x, down 0x%x)", addr, a->teid_up,
                a->teid_down);
    else
        snprintf(out, len, "the base station (%s)", addr);
}

void mw_fmt_peer(const mw_detect_ctx_t *ctx, char *out, size_t len, const mw_anomaly_record_t *a)
{
    mw_inventory_match_t m;
    char addr[64];

    mw_fmt_addr(addr, sizeof(addr), a->peer_hi, a->peer_lo);
    mw_inventory_lookup_u64(mw_detect_inventory(ctx), a->peer_hi, a->peer_lo, &m);
    if (m.role != MW_ROLE_UNKNOWN)
        snprintf(out, len, "%s %s", mw_role_name(m.role), addr);
    else
        snprintf(out, len, "%s", addr);
}

void mw_fmt_session(const mw_detect_ctx_t *ctx, char *out, size_t len, const mw_anomaly_record_t *a)
{
    char local[128], peer[96], ports[48];

    mw_fmt_local(local, sizeof(local), a);
    mw_fmt_peer(ctx, peer, sizeof(peer), a);
    if (a->n_ports > 1)
        snprintf(ports, sizeof(ports), "%u ports (first %u)", a->n_ports, a->service_port);
    else
        snprintf(ports, sizeof(ports), "port %u", a->service_port);
    if (a->initiator == MW_INIT_BASE_STATION)
        snprintf(out, len, "%s -> %s, %s", local, peer, ports);
    else if (a->initiator == MW_INIT_PEER)
        snprintf(out, len, "%s -> %s, %s", peer, local, ports);
    else if (a->n_ports > 1 || a->local_port == 0) /* several, or a window's top peer */
        snprintf(out, len, "%s <-> %s, %s", local, peer, ports);
    else /* which port is the service's is the opener's question too */
        snprintf(out, len, "%s port %u <-> %s port %u (which side opened it is not known)", local,
                a->local_port, peer, a->peer_port);
}
