/*
 * plane.c - the plane and service of a flow, decided by static rule tables.
 *
 * Order of evidence, strongest first:
 *   1. Flow kind: a GTP-U tunnel and everything inside it is the user plane,
 *      whatever it carries (an SSH session inside GTP-U is a subscriber's
 *      SSH, and its service still says SSH so detectors can spot leakage).
 *   2. Address roles from the site inventory, where a role settles it: any
 *      TCP/UDP/SCTP to the EMS/NMS/OSS/OAM peers is management even on an
 *      odd port (TFTP data, vendor agents),
 *      port 123 to an NTP server is sync, SCTP to an MME/AMF is control.
 *   3. The service named by the SCTP PPID, then the responder's port, then
 *      the initiator's port (for flows first seen mid-stream), then the IP
 *      protocol (ESP, ICMP, OSPF) - each service has a default plane.
 *   4. nDPI's label, only when ports said nothing: nDPI knows no S1AP or
 *      NETCONF, and a port that names a 3GPP service is the better witness.
 * What fits no rule is MW_PLANE_UNKNOWN, which the detectors treat as a
 * finding when a base station is involved: a base station has no business
 * talking on an unlisted port to an unlisted peer. HTTP(S) belongs to the
 * management plane only via the role rule (towards the EMS/NMS/OSS/OAM
 * peers): HTTPS from a base station to an unknown host stays "unknown".
 *
 * Everything is a table so that a rule can be read, and later extended,
 * without following an if-chain; values of enum mw_service are append-only.
 */
#include "classify/plane.h"

#include "classify/orient.h"
#include "core/mw.h"

#include <string.h>
#include <strings.h>

#define L4_ANY    0 /* TCP, UDP or SCTP */
#define L4_ICMP   1
#define L4_TCP    6
#define L4_UDP    17
#define L4_ESP    50
#define L4_AH     51
#define L4_ICMPV6 58
#define L4_OSPF   89
#define L4_SCTP   132

typedef struct service_info {
    const char *name;
    uint8_t plane; /* default plane when no role rule decides */
} service_info_t;

static const service_info_t services[MW_SVC_COUNT] = {
    [MW_SVC_NONE] = { "none", MW_PLANE_UNKNOWN },
    [MW_SVC_GTPU] = { "GTP-U", MW_PLANE_USER },
    [MW_SVC_GTPC] = { "GTP-C", MW_PLANE_CONTROL },
    [MW_SVC_PFCP] = { "PFCP", MW_PLANE_CONTROL },
    [MW_SVC_S1AP] = { "S1AP", MW_PLANE_CONTROL },
    [MW_SVC_X2AP] = { "X2AP", MW_PLANE_CONTROL },
    [MW_SVC_NGAP] = { "NGAP", MW_PLANE_CONTROL },
    [MW_SVC_XNAP] = { "XnAP", MW_PLANE_CONTROL },
    [MW_SVC_F1AP] = { "F1AP", MW_PLANE_CONTROL },
    [MW_SVC_DIAMETER] = { "Diameter", MW_PLANE_CONTROL },
    [MW_SVC_SSH] = { "SSH", MW_PLANE_MANAGEMENT },
    [MW_SVC_NETCONF] = { "NETCONF", MW_PLANE_MANAGEMENT },
    [MW_SVC_SNMP] = { "SNMP", MW_PLANE_MANAGEMENT },
    [MW_SVC_SNMP_TRAP] = { "SNMP-trap", MW_PLANE_MANAGEMENT },
    [MW_SVC_SYSLOG] = { "syslog", MW_PLANE_MANAGEMENT },
    /* Web traffic is management only towards an OAM role (role rule). */
    [MW_SVC_HTTPS] = { "HTTPS", MW_PLANE_UNKNOWN },
    [MW_SVC_HTTP] = { "HTTP", MW_PLANE_UNKNOWN },
    [MW_SVC_FTP] = { "FTP", MW_PLANE_MANAGEMENT },
    [MW_SVC_TFTP] = { "TFTP", MW_PLANE_MANAGEMENT },
    [MW_SVC_CWMP] = { "TR-069", MW_PLANE_MANAGEMENT },
    [MW_SVC_TELNET] = { "Telnet", MW_PLANE_MANAGEMENT },
    [MW_SVC_DNS] = { "DNS", MW_PLANE_MANAGEMENT },
    [MW_SVC_NTP] = { "NTP", MW_PLANE_SYNC },
    [MW_SVC_PTP] = { "PTP", MW_PLANE_SYNC },
    [MW_SVC_IKE] = { "IKE", MW_PLANE_TRANSPORT },
    [MW_SVC_ESP] = { "ESP", MW_PLANE_TRANSPORT },
    [MW_SVC_AH] = { "AH", MW_PLANE_TRANSPORT },
    [MW_SVC_BFD] = { "BFD", MW_PLANE_TRANSPORT },
    [MW_SVC_BGP] = { "BGP", MW_PLANE_TRANSPORT },
    [MW_SVC_OSPF] = { "OSPF", MW_PLANE_TRANSPORT },
    [MW_SVC_ICMP] = { "ICMP", MW_PLANE_TRANSPORT },
    /* Plain SCTP is control only towards an MME/AMF (role rule). */
    [MW_SVC_SCTP] = { "SCTP", MW_PLANE_UNKNOWN },
    [MW_SVC_TLS] = { "TLS", MW_PLANE_UNKNOWN },
    /* Remote-desktop tools are OAM access, however unwelcome. */
    [MW_SVC_RDP] = { "RDP", MW_PLANE_MANAGEMENT },
    [MW_SVC_VNC] = { "VNC", MW_PLANE_MANAGEMENT },
    [MW_SVC_FTP_DATA] = { "FTP-data", MW_PLANE_MANAGEMENT },
};

/* SCTP payload protocol identifiers (IANA registry; 3GPP TS 36.412, 38.412). */
static const struct {
    uint32_t ppid;
    uint16_t service;
} ppid_rules[] = {
    { 18, MW_SVC_S1AP },
    { 27, MW_SVC_X2AP },
    { 46, MW_SVC_DIAMETER },
    { 47, MW_SVC_DIAMETER }, /* Diameter over DTLS */
    { 60, MW_SVC_NGAP },
    { 61, MW_SVC_XNAP },
    { 62, MW_SVC_F1AP },
};

typedef struct port_rule {
    uint8_t l4; /* L4_ANY matches TCP, UDP and SCTP */
    uint16_t port;
    uint16_t service;
} port_rule_t;

static const port_rule_t port_rules[] = {
    { L4_UDP, 2152, MW_SVC_GTPU },
    { L4_UDP, 2123, MW_SVC_GTPC },
    { L4_UDP, 8805, MW_SVC_PFCP },
    { L4_SCTP, 36412, MW_SVC_S1AP },
    { L4_SCTP, 36422, MW_SVC_X2AP },
    { L4_SCTP, 38412, MW_SVC_NGAP },
    { L4_SCTP, 38422, MW_SVC_XNAP },
    { L4_SCTP, 38472, MW_SVC_F1AP },
    { L4_ANY, 3868, MW_SVC_DIAMETER },
    { L4_TCP, 22, MW_SVC_SSH },
    { L4_TCP, 830, MW_SVC_NETCONF },
    { L4_TCP, 6513, MW_SVC_NETCONF },
    { L4_ANY, 161, MW_SVC_SNMP },
    { L4_ANY, 162, MW_SVC_SNMP_TRAP },
    { L4_ANY, 514, MW_SVC_SYSLOG },
    { L4_TCP, 601, MW_SVC_SYSLOG },
    { L4_TCP, 6514, MW_SVC_SYSLOG },
    { L4_TCP, 443, MW_SVC_HTTPS },
    { L4_TCP, 8443, MW_SVC_HTTPS },
    { L4_TCP, 80, MW_SVC_HTTP },
    { L4_TCP, 8080, MW_SVC_HTTP },
    { L4_TCP, 20, MW_SVC_FTP },
    { L4_TCP, 21, MW_SVC_FTP },
    { L4_TCP, 989, MW_SVC_FTP },
    { L4_TCP, 990, MW_SVC_FTP },
    { L4_UDP, 69, MW_SVC_TFTP },
    { L4_TCP, 7547, MW_SVC_CWMP },
    { L4_TCP, 23, MW_SVC_TELNET },
    { L4_ANY, 53, MW_SVC_DNS },
    { L4_UDP, 123, MW_SVC_NTP },
    { L4_UDP, 319, MW_SVC_PTP },
    { L4_UDP, 320, MW_SVC_PTP },
    { L4_UDP, 500, MW_SVC_IKE },
    { L4_UDP, 4500, MW_SVC_IKE },
    { L4_UDP, 3784, MW_SVC_BFD },
    { L4_UDP, 3785, MW_SVC_BFD },
    { L4_UDP, 4784, MW_SVC_BFD },
    { L4_TCP, 179, MW_SVC_BGP },
    { L4_TCP, 3389, MW_SVC_RDP },
    { L4_TCP, 5900, MW_SVC_VNC },
};

/* Services named by the IP protocol alone (no ports). */
static const struct {
    uint8_t l4;
    uint16_t service;
} proto_rules[] = {
    { L4_ESP, MW_SVC_ESP },
    { L4_AH, MW_SVC_AH },
    { L4_ICMP, MW_SVC_ICMP },
    { L4_ICMPV6, MW_SVC_ICMP },
    { L4_OSPF, MW_SVC_OSPF },
    { L4_SCTP, MW_SVC_SCTP },
};

/* nDPI 4.2 protocol names (ndpi_get_proto_name) that name a service. */
static const struct {
    const char *name;
    uint16_t service;
} ndpi_rules[] = {
    { "GTP_U", MW_SVC_GTPU },
    { "GTP_C", MW_SVC_GTPC },
    { "Diameter", MW_SVC_DIAMETER },
    { "SSH", MW_SVC_SSH },
    { "SNMP", MW_SVC_SNMP },
    { "Syslog", MW_SVC_SYSLOG },
    { "HTTP", MW_SVC_HTTP },
    { "TLS", MW_SVC_TLS },
    { "FTP_CONTROL", MW_SVC_FTP },
    { "FTP_DATA", MW_SVC_FTP },
    { "TFTP", MW_SVC_TFTP },
    { "Telnet", MW_SVC_TELNET },
    { "DNS", MW_SVC_DNS },
    { "NTP", MW_SVC_NTP },
    { "IPsec", MW_SVC_IKE },
    { "BGP", MW_SVC_BGP },
    { "OSPF", MW_SVC_OSPF },
    { "ICMP", MW_SVC_ICMP },
    { "ICMPV6", MW_SVC_ICMP },
    { "SCTP", MW_SVC_SCTP },
    { "RDP", MW_SVC_RDP },
    { "VNC", MW_SVC_VNC },
};

/*
 * Role rules: when either side has `role` (the peer is tried before the
 * local side) and the flow matches l4/port, the plane is settled.
 * port 0 = any port; a non-zero port matches either end of the flow.
 */
typedef struct role_rule {
    uint8_t role;
    uint8_t l4;
    uint16_t port;
    uint8_t plane;
} role_rule_t;

static const role_rule_t role_rules[] = {
    { MW_ROLE_EMS, L4_ANY, 0, MW_PLANE_MANAGEMENT },
    { MW_ROLE_NMS, L4_ANY, 0, MW_PLANE_MANAGEMENT },
    { MW_ROLE_OSS, L4_ANY, 0, MW_PLANE_MANAGEMENT },
    { MW_ROLE_OAM_PEER, L4_ANY, 0, MW_PLANE_MANAGEMENT },
    { MW_ROLE_SYSLOG, L4_TCP, 0, MW_PLANE_MANAGEMENT },
    { MW_ROLE_SYSLOG, L4_UDP, 0, MW_PLANE_MANAGEMENT },
    { MW_ROLE_DNS, L4_ANY, 53, MW_PLANE_MANAGEMENT },
    { MW_ROLE_NTP, L4_ANY, 123, MW_PLANE_SYNC },
    { MW_ROLE_PTP, L4_ANY, 319, MW_PLANE_SYNC },
    { MW_ROLE_PTP, L4_ANY, 320, MW_PLANE_SYNC },
    { MW_ROLE_MME, L4_SCTP, 0, MW_PLANE_CONTROL },
    { MW_ROLE_AMF, L4_SCTP, 0, MW_PLANE_CONTROL },
    { MW_ROLE_SEGW, L4_ESP, 0, MW_PLANE_TRANSPORT },
    { MW_ROLE_SEGW, L4_UDP, 500, MW_PLANE_TRANSPORT },
    { MW_ROLE_SEGW, L4_UDP, 4500, MW_PLANE_TRANSPORT },
};

static int l4_matches(uint8_t rule_l4, uint8_t l4)
{
    if (rule_l4 == L4_ANY)
        return l4 == L4_TCP || l4 == L4_UDP || l4 == L4_SCTP;
    return rule_l4 == l4;
}

unsigned mw_service_for_port(uint8_t l4, uint16_t port)
{
    size_t i;

    for (i = 0; port != 0 && i < MW_ARRAY_LEN(port_rules); i++)
        if (port_rules[i].port == port && l4_matches(port_rules[i].l4, l4))
            return port_rules[i].service;
    return MW_SVC_NONE;
}

unsigned mw_service_from_ports(
        uint8_t l4_proto, uint16_t src_port, uint16_t dst_port, uint32_t sctp_ppid)
{
    unsigned svc;
    size_t i;

    if (l4_proto == L4_SCTP && sctp_ppid != 0)
        for (i = 0; i < MW_ARRAY_LEN(ppid_rules); i++)
            if (ppid_rules[i].ppid == sctp_ppid)
                return ppid_rules[i].service;
    /* The responder's port names the service; the initiator's port only
     * when the flow was first seen mid-stream, server side first. */
    svc = mw_service_for_port(l4_proto, dst_port);
    if (svc == MW_SVC_NONE)
        svc = mw_service_for_port(l4_proto, src_port);
    if (svc != MW_SVC_NONE)
        return svc;
    for (i = 0; i < MW_ARRAY_LEN(proto_rules); i++)
        if (proto_rules[i].l4 == l4_proto)
            return proto_rules[i].service;
    return MW_SVC_NONE;
}

unsigned mw_service_from_ndpi_name(const char *name)
{
    size_t i;

    if (name == NULL)
        return MW_SVC_NONE;
    for (i = 0; i < MW_ARRAY_LEN(ndpi_rules); i++)
        if (strcasecmp(ndpi_rules[i].name, name) == 0)
            return ndpi_rules[i].service;
    return MW_SVC_NONE;
}

unsigned mw_service_default_plane(unsigned service)
{
    return service < MW_SVC_COUNT ? services[service].plane : MW_PLANE_UNKNOWN;
}

const char *mw_service_name(unsigned service)
{
    return service < MW_SVC_COUNT ? services[service].name : "?";
}

/* The plane a role rule settles for this side's role, or -1. */
static int role_plane(unsigned role, const mw_flow_record_t *rec)
{
    size_t i;

    for (i = 0; role != MW_ROLE_UNKNOWN && i < MW_ARRAY_LEN(role_rules); i++) {
        const role_rule_t *r = &role_rules[i];

        if (r->role != role || !l4_matches(r->l4, rec->l4_proto))
            continue;
        if (r->port != 0 && r->port != rec->dst_port && r->port != rec->src_port)
            continue;
        return r->plane;
    }
    return -1;
}

/*
 * Inner (GTP-U) records belong to their tunnel's base station, whatever the
 * subscriber talks to - even another base station's address. The local side
 * is the subscriber (known from the tunnel direction), the peer the other.
 */
static void assign_inner_sides(
        mw_flow_record_t *rec, const mw_inventory_match_t *src, const mw_inventory_match_t *dst)
{
    int sub_is_dst = rec->subscriber == MW_SUB_DST;

    rec->local_role = sub_is_dst ? dst->role : src->role;
    rec->peer_role = sub_is_dst ? src->role : dst->role;
    rec->initiator = rec->subscriber == MW_SUB_SRC
                             ? MW_INIT_BASE_STATION
                             : (rec->subscriber == MW_SUB_DST ? MW_INIT_PEER : MW_INIT_UNKNOWN);
}

/* Fills bs_index, local_role, peer_role and initiator from the two lookups. */
static void assign_sides(
        mw_flow_record_t *rec, const mw_inventory_match_t *src, const mw_inventory_match_t *dst)
{
    int src_bs = src->role == MW_ROLE_BASE_STATION, dst_bs = dst->role == MW_ROLE_BASE_STATION;

    if (rec->kind == MW_FLOW_INNER) {
        assign_inner_sides(rec, src, dst);
        return;
    }
    if (dst_bs && !src_bs) {
        rec->local_role = dst->role;
        rec->peer_role = src->role;
        rec->bs_index = dst->bs_index;
        rec->initiator = MW_INIT_PEER;
        return;
    }
    rec->local_role = src->role;
    rec->peer_role = dst->role;
    rec->initiator = src_bs && !dst_bs ? MW_INIT_BASE_STATION : MW_INIT_UNKNOWN;
    rec->bs_index = src_bs ? src->bs_index : 0;
}

static unsigned service_from_hint(const mw_plane_hint_t *hint)
{
    unsigned svc;

    if (hint == NULL)
        return MW_SVC_NONE;
    /* The application name is the more specific label ("SSH" vs none),
     * the master name the carrier ("TLS" under "Google"). */
    svc = mw_service_from_ndpi_name(hint->app_name);
    return svc != MW_SVC_NONE ? svc : mw_service_from_ndpi_name(hint->master_name);
}

void mw_plane_assign(const mw_inventory_t *inv, mw_flow_record_t *rec, const mw_plane_hint_t *hint)
{
    mw_inventory_match_t src, dst;
    unsigned svc, named;
    int plane, ftp_data;

    if (rec == NULL)
        return;
    mw_inventory_lookup_u64(inv, rec->src_hi, rec->src_lo, &src);
    mw_inventory_lookup_u64(inv, rec->dst_hi, rec->dst_lo, &dst);
    if (mw_orient_decide(rec, src.role, dst.role)) {
        mw_inventory_match_t t = src;
        src = dst;
        dst = t;
        mw_flow_record_swap(rec);
    }
    assign_sides(rec, &src, &dst);

    /* the worker named an announced data connection: its port of the day names nothing,
     * but a service nDPI recognised in it (SSH, TLS, ...) is what it is */
    ftp_data = rec->service == MW_SVC_FTP_DATA && rec->l4_proto == 6;
    named = ftp_data ? service_from_hint(hint) : MW_SVC_NONE;
    if (ftp_data && (named == MW_SVC_NONE || named == MW_SVC_FTP)) {
        svc = MW_SVC_FTP_DATA;
    } else {
        svc = mw_service_from_ports(rec->l4_proto, rec->src_port, rec->dst_port, rec->sctp_ppid);
        if (svc == MW_SVC_NONE)
            svc = ftp_data ? named : service_from_hint(hint);
    }
    rec->service = (uint16_t)svc;

    /* GTP-U and what it carries are subscribers'; an IP-in-IP or GRE tunnel is the
     * station's own and is judged like any other of its flows (one to an outside host is
     * on no plane) */
    if (rec->kind == MW_FLOW_INNER || (rec->kind == MW_FLOW_TUNNEL && rec->l4_proto == 17)) {
        rec->plane = MW_PLANE_USER;
        return;
    }
    plane = role_plane(rec->peer_role, rec);
    if (plane < 0 && rec->local_role != MW_ROLE_BASE_STATION)
        plane = role_plane(rec->local_role, rec);
    if (plane < 0)
        plane = (int)mw_service_default_plane(svc);
    rec->plane = (uint8_t)plane;
}
