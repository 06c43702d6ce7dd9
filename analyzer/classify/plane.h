/*
 * plane.h - puts a flow record on a plane (user, control, management, sync,
 * transport) and names its telecom service, from the site inventory first,
 * then ports and the SCTP PPID, then nDPI's label.
 *
 * The detectors care most about the management plane (DESIGN.md, A1-A12),
 * and nDPI alone cannot place base-station traffic there: it has no S1AP,
 * NGAP, NETCONF, TR-069 or PTP dissectors and sees SCTP only as protocol 132.
 * The rules are in docs/INVENTORY.md; they live in static tables in plane.c.
 *
 * Threads: mw_plane_assign() only reads the inventory, so workers may call it
 * concurrently on their own records.
 */
#ifndef MW_PLANE_H
#define MW_PLANE_H

#include <stdint.h>

#include "classify/inventory.h"
#include "classify/roles.h"
#include "flow/flow_record.h"

/*
 * Telecom service named from ports/PPID/nDPI. Written to /meta/services by
 * the writer: values may be appended, never renumbered.
 */
/* Active FTP's data connections come from here: the side on port 20 connects, at the
 * request (PORT/EPRT) of the client on the control connection. */
#define MW_FTP_DATA_PORT 20

enum mw_service {
    MW_SVC_NONE = 0,
    MW_SVC_GTPU,      /* UDP 2152 */
    MW_SVC_GTPC,      /* UDP 2123 */
    MW_SVC_PFCP,      /* UDP 8805 */
    MW_SVC_S1AP,      /* SCTP 36412, PPID 18 */
    MW_SVC_X2AP,      /* SCTP 36422, PPID 27 */
    MW_SVC_NGAP,      /* SCTP 38412, PPID 60 */
    MW_SVC_XNAP,      /* SCTP 38422, PPID 61 */
    MW_SVC_F1AP,      /* SCTP 38472, PPID 62 */
    MW_SVC_DIAMETER,  /* TCP/SCTP 3868, PPID 46/47 */
    MW_SVC_SSH,       /* TCP 22 (SFTP and SCP ride on it and look the same) */
    MW_SVC_NETCONF,   /* TCP 830 (SSH), 6513 (TLS) */
    MW_SVC_SNMP,      /* UDP 161 */
    MW_SVC_SNMP_TRAP, /* UDP 162 */
    MW_SVC_SYSLOG,    /* 514, 601, 6514 (TLS) */
    MW_SVC_HTTPS,     /* TCP 443, 8443 */
    MW_SVC_HTTP,      /* TCP 80, 8080 */
    MW_SVC_FTP,       /* TCP 20, 21, 989, 990 */
    MW_SVC_TFTP,      /* UDP 69 */
    MW_SVC_CWMP,      /* TR-069, TCP 7547 */
    MW_SVC_TELNET,    /* TCP 23 */
    MW_SVC_DNS,       /* 53 */
    MW_SVC_NTP,       /* UDP 123 */
    MW_SVC_PTP,       /* UDP 319 (event), 320 (general) */
    MW_SVC_IKE,       /* UDP 500, 4500 (NAT-T, also carries ESP) */
    MW_SVC_ESP,       /* IP protocol 50 */
    MW_SVC_AH,        /* IP protocol 51 */
    MW_SVC_BFD,       /* UDP 3784, 3785, 4784 */
    MW_SVC_BGP,       /* TCP 179 */
    MW_SVC_OSPF,      /* IP protocol 89 */
    MW_SVC_ICMP,      /* IP protocol 1 and 58 */
    MW_SVC_SCTP,      /* SCTP with no known port or PPID */
    MW_SVC_TLS,       /* TLS on a port not listed above (nDPI label) */
    MW_SVC_RDP,       /* TCP 3389: remote desktop (nDPI label or port) */
    MW_SVC_VNC,       /* TCP 5900: remote framebuffer (nDPI label or port) */
    MW_SVC_FTP_DATA,  /* TCP, the port an FTP control session announced (PASV/EPSV, PORT/EPRT) */
    MW_SVC_COUNT
};

/*
 * What nDPI said about the flow, by protocol NAME (as ndpi_get_proto_name
 * gives it: "TLS", "SSH", "GTP_C"), so that plane.c needs no nDPI header.
 * NULL or "Unknown" means no label. The hint itself may be NULL.
 */
typedef struct mw_plane_hint {
    const char *master_name; /* nDPI master protocol, e.g. "TLS" */
    const char *app_name;    /* nDPI application protocol, e.g. "SSH" */
} mw_plane_hint_t;

/*
 * Orients the record when its handshake was not seen (classify/orient.h:
 * may exchange src and dst), then fills rec->bs_index, local_role,
 * peer_role, initiator, service and plane from the record's addresses,
 * l4_proto, ports, sctp_ppid and kind.
 *
 * - local_role is the base-station side's role (or src's when neither side
 *   is a base station; src's when both are); peer_role is the other side's.
 * - initiator: src is the initiator, so MW_INIT_BASE_STATION when only src
 *   is a base station, MW_INIT_PEER when only dst is, else MW_INIT_UNKNOWN.
 * - bs_index: of the base-station side (src's when both are). For
 *   MW_FLOW_INNER records the bs_index already in the record (the carrying
 *   tunnel's, copied by the caller) is always kept; their local side is the
 *   subscriber (rec->subscriber) and initiator says whether it opened.
 * inv may be NULL (no roles: ports and nDPI only).
 */
void mw_plane_assign(const mw_inventory_t *inv, mw_flow_record_t *rec, const mw_plane_hint_t *hint);

/* The service a single port names (TCP/UDP/SCTP), MW_SVC_NONE if none. */
unsigned mw_service_for_port(uint8_t l4_proto, uint16_t port);
/* The service from ports and PPID alone (no roles, no nDPI); MW_SVC_NONE if none fits. */
unsigned mw_service_from_ports(
        uint8_t l4_proto, uint16_t src_port, uint16_t dst_port, uint32_t sctp_ppid);
/* The service for an nDPI protocol name (case-insensitive); MW_SVC_NONE if none fits. */
unsigned mw_service_from_ndpi_name(const char *name);
/* The plane a service belongs to when no role rule decides (enum mw_plane). */
unsigned mw_service_default_plane(unsigned service);
/* "S1AP", "NETCONF", ...; "none" for MW_SVC_NONE, "?" when out of range. */
const char *mw_service_name(unsigned service);

#endif
