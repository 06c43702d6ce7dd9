/*
 * orient.c - the listening side of a flow from ports and roles, for records
 * whose handshake was not seen (see orient.h for the order of evidence).
 */
#include "classify/orient.h"

#include "classify/plane.h"
#include "classify/roles.h"

#define EPHEMERAL_MIN 32768 /* Linux's default ephemeral range starts here (IANA's: 49152) */

/* Roles that answer rather than open, whatever the port. (A PTP grandmaster is
 * left out: it sends Sync on its own, so its first packet is a fair guess.) */
static int listening_role(unsigned role)
{
    switch (role) {
        case MW_ROLE_MME:
        case MW_ROLE_AMF:
        case MW_ROLE_SGW:
        case MW_ROLE_UPF:
        case MW_ROLE_SMF:
        case MW_ROLE_NTP:
        case MW_ROLE_DNS:
        case MW_ROLE_SYSLOG:
            return 1;
        default:
            return 0;
    }
}

/* 1: dst listens, -1: src listens, 0: cannot tell. */
static int listener_by_ports(uint8_t l4, uint16_t sport, uint16_t dport)
{
    int src_svc = mw_service_for_port(l4, sport) != MW_SVC_NONE;
    int dst_svc = mw_service_for_port(l4, dport) != MW_SVC_NONE;

    if (l4 == 6 && (sport == MW_FTP_DATA_PORT) != (dport == MW_FTP_DATA_PORT))
        return sport == MW_FTP_DATA_PORT ? 1 : -1; /* the side on 20 connected */

    if (src_svc != dst_svc)
        return dst_svc ? 1 : -1;
    if (src_svc)
        return 0; /* both well known (NTP 123 <-> 123, syslog 514 <-> 514) */
    if ((sport < 1024) != (dport < 1024))
        return dport < 1024 ? 1 : -1;
    if ((sport < EPHEMERAL_MIN) != (dport < EPHEMERAL_MIN))
        return dport < EPHEMERAL_MIN ? 1 : -1;
    return 0;
}

/* Datagram services whose clients also send from the service's own port: BSD syslogd
 * logs from 514, IKE peers talk 500 to 500. Seen only from that port (a collector on
 * another port, one way of a SPAN port), the sender may be the client as well as a
 * server answering. (An SNMP agent sends from 161 only when it answers.) */
static int clients_send_from(uint8_t l4, uint16_t port)
{
    unsigned svc = mw_service_for_port(l4, port);
    return l4 == 17 && (svc == MW_SVC_SYSLOG || svc == MW_SVC_IKE);
}

int mw_orient_decide(mw_flow_record_t *rec, unsigned src_role, unsigned dst_role)
{
    int listener = 0;

    if (rec->orient == MW_ORIENT_HANDSHAKE || rec->kind == MW_FLOW_TUNNEL)
        return 0;
    /* oriented at its first packet by its FTP control session's announcement */
    if (rec->orient == MW_ORIENT_PORT && rec->service == MW_SVC_FTP_DATA)
        return 0;
    if (rec->src_port != 0 || rec->dst_port != 0) {
        listener = listener_by_ports(rec->l4_proto, rec->src_port, rec->dst_port);
        if (listener == 0 && listening_role(src_role) != listening_role(dst_role))
            listener = listening_role(dst_role) ? 1 : -1;
    }
    if (listener < 0 && rec->s2c.packets == 0 && clients_send_from(rec->l4_proto, rec->src_port))
        listener = 0;
    if (listener == 0) {
        rec->orient = MW_ORIENT_FIRST_PACKET;
        return 0;
    }
    rec->orient = MW_ORIENT_PORT;
    if (listener > 0)
        return 0;
    rec->start_seen = 0; /* the first packet seen was the answer */
    return 1;
}
