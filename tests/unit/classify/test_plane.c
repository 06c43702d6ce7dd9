/*
 * test_plane.c - plane, service, roles and initiator for representative flow
 * records against the demo site (tests/data/inventory/demo-site.yaml).
 * One table row per flow; the comment on each row says why it lands where.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "classify/inventory.h"
#include "classify/plane.h"
#include "classify/prefix_tree.h"
#include "core/mw.h"

#define DEMO MW_SOURCE_DIR "/tests/data/inventory/demo-site.yaml"

/* Demo-site addresses. */
#define ENB1    "10.10.1.11"
#define GNB2    "10.10.1.12"
#define GNB2_V6 "2001:db8:10::12"
#define EMS     "10.20.0.10"
#define NMS     "10.20.0.20"
#define OAM     "10.20.7.7"
#define SYSLOG  "10.20.0.30"
#define SEGW    "10.30.0.1"
#define MME     "10.40.0.1"
#define SGW     "10.40.1.5"
#define UPF_V6  "2001:db8:40::1"
#define NTP     "10.50.0.1"
#define PTP     "10.50.1.1"
#define DNS     "10.50.2.53"
#define EXT     "198.51.100.7"
#define UE      "100.64.0.5"

#define TCP  6
#define UDP  17
#define SCTP 132

enum { BS = MW_ROLE_BASE_STATION, UNK = MW_ROLE_UNKNOWN };
enum { I_BS = MW_INIT_BASE_STATION, I_PEER = MW_INIT_PEER, I_UNK = MW_INIT_UNKNOWN };

typedef struct plane_case {
    const char *name;
    const char *src, *dst;
    uint8_t l4;
    uint16_t sport, dport;
    uint32_t ppid;
    uint8_t kind;
    const char *ndpi_app, *ndpi_master;
    /* expected */
    uint8_t plane;
    uint16_t service;
    uint8_t initiator, local_role, peer_role;
    uint16_t bs_index;
} plane_case_t;

static const plane_case_t cases[] = {
    /* SCTP PPID 18 names S1AP whatever the ports; MME role agrees. */
    { "S1AP by PPID", ENB1, MME, SCTP, 5000, 5001, 18, MW_FLOW_PLAIN, NULL, NULL, MW_PLANE_CONTROL,
            MW_SVC_S1AP, I_BS, BS, MW_ROLE_MME, 1 },
    /* ... also towards a peer the inventory does not know. */
    { "NGAP by PPID to unknown", GNB2, EXT, SCTP, 38412, 38412, 60, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_CONTROL, MW_SVC_NGAP, I_BS, BS, UNK, 2 },
    { "X2AP between base stations", ENB1, GNB2, SCTP, 36422, 36422, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_CONTROL, MW_SVC_X2AP, I_UNK, BS, BS, 1 },
    /* No PPID, odd port: the MME role makes SCTP control. */
    { "SCTP to MME on odd port", ENB1, MME, SCTP, 40000, 40001, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_CONTROL, MW_SVC_SCTP, I_BS, BS, MW_ROLE_MME, 1 },
    { "SCTP to unknown on odd port", ENB1, EXT, SCTP, 40000, 40001, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_UNKNOWN, MW_SVC_SCTP, I_BS, BS, UNK, 1 },
    { "GTP-C to unknown", ENB1, EXT, UDP, 2123, 2123, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_CONTROL, MW_SVC_GTPC, I_BS, BS, UNK, 1 },
    /* EMS opens NETCONF to the base station: the peer initiated. */
    { "NETCONF 830 from EMS", EMS, ENB1, TCP, 40000, 830, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_MANAGEMENT, MW_SVC_NETCONF, I_PEER, BS, MW_ROLE_EMS, 1 },
    /* Any TCP to the EMS is management, even on a port nobody listed. */
    { "TCP to EMS on odd port", ENB1, EMS, TCP, 50000, 33333, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_MANAGEMENT, MW_SVC_NONE, I_BS, BS, MW_ROLE_EMS, 1 },
    { "HTTPS to NMS", GNB2, NMS, TCP, 50000, 443, 0, MW_FLOW_PLAIN, NULL, NULL, MW_PLANE_MANAGEMENT,
            MW_SVC_HTTPS, I_BS, BS, MW_ROLE_NMS, 2 },
    /* oam_peer /16 holds this address; nested EMS/NMS /32s do not. */
    { "HTTP to an OAM peer", GNB2, OAM, TCP, 50000, 8080, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_MANAGEMENT, MW_SVC_HTTP, I_BS, BS, MW_ROLE_OAM_PEER, 2 },
    /* HTTPS to a host nobody listed: web traffic is OAM only towards OAM roles. */
    { "HTTPS to unknown", GNB2, EXT, TCP, 50000, 443, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_UNKNOWN, MW_SVC_HTTPS, I_BS, BS, UNK, 2 },
    /* Telnet is a management protocol wherever it goes. */
    { "Telnet from BS to unknown", GNB2, EXT, TCP, 50000, 23, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_MANAGEMENT, MW_SVC_TELNET, I_BS, BS, UNK, 2 },
    { "random high port to external", ENB1, EXT, TCP, 51234, 40001, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_UNKNOWN, MW_SVC_NONE, I_BS, BS, UNK, 1 },
    /* Seen mid-stream, server first: the listening port names the service AND the side -
     * the base station opened SSH to the EMS's port 22 (orient.c swaps the record). */
    { "SSH first seen from the server side", EMS, ENB1, TCP, 22, 50000, 0, MW_FLOW_PLAIN, NULL,
            NULL, MW_PLANE_MANAGEMENT, MW_SVC_SSH, I_BS, BS, MW_ROLE_EMS, 1 },
    /* SNMP answer seen first (one-way SPAN): the EMS polled the base station's port 161. */
    { "SNMP response first", ENB1, EMS, UDP, 161, 40000, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_MANAGEMENT, MW_SVC_SNMP, I_PEER, BS, MW_ROLE_EMS, 1 },
    /* Syslog sent from 514 (BSD syslogd) to a collector's high port, nothing back: a
     * client on the well-known port, not an answer - not turned round (a guess stays). */
    { "syslog from 514 to a high port", ENB1, EXT, UDP, 514, 11000, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_MANAGEMENT, MW_SVC_SYSLOG, I_BS, BS, UNK, 1 },
    /* An active-mode FTP data connection picked up mid-stream, the EMS's ACK first: the
     * side on port 20 (the base station, the FTP server) connected. */
    { "FTP data from port 20 seen mid-stream", EMS, ENB1, TCP, 49189, 20, 0, MW_FLOW_PLAIN, NULL,
            NULL, MW_PLANE_MANAGEMENT, MW_SVC_FTP, I_BS, BS, MW_ROLE_EMS, 1 },
    { "SNMP trap to NMS", ENB1, NMS, UDP, 40000, 162, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_MANAGEMENT, MW_SVC_SNMP_TRAP, I_BS, BS, MW_ROLE_NMS, 1 },
    /* Syslog role: any UDP to it is management. */
    { "syslog to collector on odd port", ENB1, SYSLOG, UDP, 40000, 10514, 0, MW_FLOW_PLAIN, NULL,
            NULL, MW_PLANE_MANAGEMENT, MW_SVC_NONE, I_BS, BS, MW_ROLE_SYSLOG, 1 },
    { "DNS to resolver", ENB1, DNS, UDP, 40000, 53, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_MANAGEMENT, MW_SVC_DNS, I_BS, BS, MW_ROLE_DNS, 1 },
    { "TR-069 to unknown ACS", ENB1, EXT, TCP, 40000, 7547, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_MANAGEMENT, MW_SVC_CWMP, I_BS, BS, UNK, 1 },
    { "NTP to NTP server", ENB1, NTP, UDP, 123, 123, 0, MW_FLOW_PLAIN, NULL, NULL, MW_PLANE_SYNC,
            MW_SVC_NTP, I_BS, BS, MW_ROLE_NTP, 1 },
    /* TCP 123 is no NTP service, but the NTP role on port 123 settles it. */
    { "TCP 123 to NTP server", ENB1, NTP, TCP, 40000, 123, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_SYNC, MW_SVC_NONE, I_BS, BS, MW_ROLE_NTP, 1 },
    { "PTP event to grandmaster", PTP, ENB1, UDP, 319, 319, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_SYNC, MW_SVC_PTP, I_PEER, BS, MW_ROLE_PTP, 1 },
    { "ESP to SEGW", ENB1, SEGW, 50, 0, 0, 0, MW_FLOW_PLAIN, NULL, NULL, MW_PLANE_TRANSPORT,
            MW_SVC_ESP, I_BS, BS, MW_ROLE_SEGW, 1 },
    { "IKE NAT-T to SEGW", ENB1, SEGW, UDP, 4500, 4500, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_TRANSPORT, MW_SVC_IKE, I_BS, BS, MW_ROLE_SEGW, 1 },
    { "ICMP to unknown", ENB1, EXT, 1, 0, 0, 0, MW_FLOW_PLAIN, NULL, NULL, MW_PLANE_TRANSPORT,
            MW_SVC_ICMP, I_BS, BS, UNK, 1 },
    { "BFD to SGW", ENB1, SGW, UDP, 49152, 3784, 0, MW_FLOW_PLAIN, NULL, NULL, MW_PLANE_TRANSPORT,
            MW_SVC_BFD, I_BS, BS, MW_ROLE_SGW, 1 },
    /* The outer tunnel flow and a flow inside it are the user plane. */
    { "GTP-U tunnel", ENB1, SGW, UDP, 2152, 2152, 0, MW_FLOW_TUNNEL, NULL, NULL, MW_PLANE_USER,
            MW_SVC_GTPU, I_BS, BS, MW_ROLE_SGW, 1 },
    { "GTP-U over IPv6 to UPF", GNB2_V6, UPF_V6, UDP, 2152, 2152, 0, MW_FLOW_PLAIN, NULL, NULL,
            MW_PLANE_USER, MW_SVC_GTPU, I_BS, BS, MW_ROLE_UPF, 2 },
    /* Inner subscriber SSH: still user plane, service SSH for leakage checks;
     * bs_index 3 was copied from the tunnel by the caller and is kept. */
    { "SSH inside GTP-U", UE, EXT, TCP, 40000, 22, 0, MW_FLOW_INNER, "SSH", NULL, MW_PLANE_USER,
            MW_SVC_SSH, I_UNK, UNK, UNK, 3 },
    /* A subscriber talking to another base station's address: the flow stays charged to the
     * tunnel's station (3), the other station is its peer. */
    { "inner flow to a base station address", UE, ENB1, TCP, 40000, 22, 0, MW_FLOW_INNER, "SSH",
            NULL, MW_PLANE_USER, MW_SVC_SSH, I_UNK, UNK, BS, 3 },
    /* An S1AP association already up, MME side seen first: the MME listens, the eNB opened it. */
    { "S1AP mid-association, MME first", MME, ENB1, SCTP, 36412, 36412, 18, MW_FLOW_PLAIN, NULL,
            NULL, MW_PLANE_CONTROL, MW_SVC_S1AP, I_BS, BS, MW_ROLE_MME, 1 },
    /* Unknown ports: the one below the ephemeral range listens. */
    { "odd ports, ephemeral client first seen as server", EXT, ENB1, TCP, 8000, 51000, 0,
            MW_FLOW_PLAIN, NULL, NULL, MW_PLANE_UNKNOWN, MW_SVC_NONE, I_BS, BS, UNK, 1 },
    /* nDPI's label names the service when ports say nothing. */
    { "SSH on an odd port by nDPI", ENB1, EXT, TCP, 40000, 2222, 0, MW_FLOW_PLAIN, "SSH", "Unknown",
            MW_PLANE_MANAGEMENT, MW_SVC_SSH, I_BS, BS, UNK, 1 },
    { "TLS on an odd port by nDPI", ENB1, EXT, TCP, 40000, 9443, 0, MW_FLOW_PLAIN, "Amazon", "TLS",
            MW_PLANE_UNKNOWN, MW_SVC_TLS, I_BS, BS, UNK, 1 },
    /* ... but not when a port names one: ports come before nDPI. */
    { "port before nDPI label", ENB1, EXT, TCP, 40000, 443, 0, MW_FLOW_PLAIN, "SSH", NULL,
            MW_PLANE_UNKNOWN, MW_SVC_HTTPS, I_BS, BS, UNK, 1 },
    /* Neither side a base station: src is the local side. */
    { "EMS to NMS", EMS, NMS, TCP, 40000, 8443, 0, MW_FLOW_PLAIN, NULL, NULL, MW_PLANE_MANAGEMENT,
            MW_SVC_HTTPS, I_UNK, MW_ROLE_EMS, MW_ROLE_NMS, 0 },
};

static void run_case(const mw_inventory_t *inv, const plane_case_t *c)
{
    mw_flow_record_t rec;
    mw_plane_hint_t hint = { c->ndpi_master, c->ndpi_app };
    uint8_t a[16];
    unsigned bits;
    int i;

    memset(&rec, 0, sizeof(rec));
    assert_int_equal(mw_prefix_parse(c->src, a, &bits), MW_OK);
    for (i = 0; i < 8; i++) {
        rec.src_hi = rec.src_hi << 8 | a[i];
        rec.src_lo = rec.src_lo << 8 | a[8 + i];
    }
    assert_int_equal(mw_prefix_parse(c->dst, a, &bits), MW_OK);
    for (i = 0; i < 8; i++) {
        rec.dst_hi = rec.dst_hi << 8 | a[i];
        rec.dst_lo = rec.dst_lo << 8 | a[8 + i];
    }
    rec.l4_proto = c->l4;
    rec.src_port = c->sport;
    rec.dst_port = c->dport;
    rec.sctp_ppid = c->ppid;
    rec.kind = c->kind;
    if (c->kind == MW_FLOW_INNER)
        rec.bs_index = c->bs_index;
    rec.plane = 0xee; /* must be overwritten */
    mw_plane_assign(inv, &rec, &hint);
    if (rec.plane != c->plane || rec.service != c->service || rec.initiator != c->initiator ||
            rec.local_role != c->local_role || rec.peer_role != c->peer_role ||
            rec.bs_index != c->bs_index)
        fail_msg("%s: got plane %s service %s init %s local %s peer %s bs %u; "
                 "want %s %s %s %s %s %u",
                c->name, mw_plane_name(rec.plane), mw_service_name(rec.service),
                mw_initiator_name(rec.initiator), mw_role_name(rec.local_role),
                mw_role_name(rec.peer_role), rec.bs_index, mw_plane_name(c->plane),
                mw_service_name(c->service), mw_initiator_name(c->initiator),
                mw_role_name(c->local_role), mw_role_name(c->peer_role), c->bs_index);
}

static void test_plane_table(void **state)
{
    char err[MW_ERRBUF_SIZE] = "";
    mw_inventory_t *inv = mw_inventory_load(DEMO, err, sizeof(err));
    size_t i;

    MW_UNUSED(state);
    if (inv == NULL)
        fail_msg("%s", err);
    for (i = 0; i < MW_ARRAY_LEN(cases); i++)
        run_case(inv, &cases[i]);
    mw_inventory_destroy(inv);
}

static void test_without_inventory(void **state)
{
    mw_flow_record_t rec;

    MW_UNUSED(state);
    memset(&rec, 0, sizeof(rec));
    rec.src_lo = 0x0000ffff0a0a010bULL;
    rec.dst_lo = 0x0000ffff0a14000aULL;
    rec.l4_proto = TCP;
    rec.src_port = 40000;
    rec.dst_port = 830;
    rec.bs_index = 7; /* stale: a plain flow's bs_index is recomputed */
    mw_plane_assign(NULL, &rec, NULL);
    assert_int_equal(rec.plane, MW_PLANE_MANAGEMENT);
    assert_int_equal(rec.service, MW_SVC_NETCONF);
    assert_int_equal(rec.local_role, MW_ROLE_UNKNOWN);
    assert_int_equal(rec.initiator, MW_INIT_UNKNOWN);
    assert_int_equal(rec.bs_index, 0);
    mw_plane_assign(NULL, NULL, NULL); /* NULL record: nothing happens */
}

static void test_service_helpers(void **state)
{
    unsigned s, t;

    MW_UNUSED(state);
    assert_int_equal(mw_service_from_ports(SCTP, 1, 2, 62), MW_SVC_F1AP);
    assert_int_equal(mw_service_from_ports(SCTP, 1, 38472, 0), MW_SVC_F1AP);
    assert_int_equal(mw_service_from_ports(SCTP, 1, 38422, 0), MW_SVC_XNAP);
    assert_int_equal(mw_service_from_ports(UDP, 1, 8805, 0), MW_SVC_PFCP);
    assert_int_equal(mw_service_from_ports(SCTP, 1, 3868, 0), MW_SVC_DIAMETER);
    assert_int_equal(mw_service_from_ports(TCP, 1, 3868, 0), MW_SVC_DIAMETER);
    /* PPID is SCTP's: a TCP flow with a stray PPID value ignores it. */
    assert_int_equal(mw_service_from_ports(TCP, 1, 2, 18), MW_SVC_NONE);
    /* Ports are per protocol: UDP 22 is not SSH, TCP 2152 is not GTP-U. */
    assert_int_equal(mw_service_from_ports(UDP, 1, 22, 0), MW_SVC_NONE);
    assert_int_equal(mw_service_from_ports(TCP, 2152, 2152, 0), MW_SVC_NONE);
    assert_int_equal(mw_service_from_ports(UDP, 40000, 69, 0), MW_SVC_TFTP);
    assert_int_equal(mw_service_from_ports(TCP, 40000, 21, 0), MW_SVC_FTP);
    assert_int_equal(mw_service_from_ports(TCP, 40000, 179, 0), MW_SVC_BGP);
    assert_int_equal(mw_service_from_ports(89, 0, 0, 0), MW_SVC_OSPF);
    assert_int_equal(mw_service_from_ports(58, 0, 0, 0), MW_SVC_ICMP);
    assert_int_equal(mw_service_from_ndpi_name("gtp_u"), MW_SVC_GTPU);
    assert_int_equal(mw_service_from_ndpi_name("Syslog"), MW_SVC_SYSLOG);
    assert_int_equal(mw_service_from_ndpi_name("Unknown"), MW_SVC_NONE);
    assert_int_equal(mw_service_from_ndpi_name(NULL), MW_SVC_NONE);

    /* Every value has a distinct name (they become /meta/services rows). */
    for (s = 0; s < MW_SVC_COUNT; s++) {
        assert_non_null(mw_service_name(s));
        assert_string_not_equal(mw_service_name(s), "?");
        for (t = 0; t < s; t++)
            assert_string_not_equal(mw_service_name(s), mw_service_name(t));
    }
    assert_string_equal(mw_service_name(MW_SVC_COUNT), "?");
    assert_string_equal(mw_service_name(MW_SVC_S1AP), "S1AP");
    assert_int_equal(mw_service_default_plane(MW_SVC_PTP), MW_PLANE_SYNC);
    assert_int_equal(mw_service_default_plane(9999), MW_PLANE_UNKNOWN);
}

static void test_enum_names(void **state)
{
    unsigned i;

    MW_UNUSED(state);
    for (i = 0; i < MW_PLANE_COUNT; i++)
        assert_string_not_equal(mw_plane_name(i), "?");
    for (i = 0; i < MW_ROLE_COUNT; i++)
        assert_string_not_equal(mw_role_name(i), "?");
    for (i = 0; i < MW_INIT_COUNT; i++)
        assert_string_not_equal(mw_initiator_name(i), "?");
    assert_string_equal(mw_plane_name(MW_PLANE_MANAGEMENT), "management");
    assert_string_equal(mw_role_name(MW_ROLE_OAM_PEER), "oam_peer");
    assert_string_equal(mw_initiator_name(MW_INIT_PEER), "peer");
    assert_string_equal(mw_plane_name(MW_PLANE_COUNT), "?");
    assert_string_equal(mw_role_name(255), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plane_table),
        cmocka_unit_test(test_without_inventory),
        cmocka_unit_test(test_service_helpers),
        cmocka_unit_test(test_enum_names),
    };

    return cmocka_run_group_tests_name("classify/plane", tests, NULL, NULL);
}
