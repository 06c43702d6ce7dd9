/*
 * orient.h - who opened a flow when its handshake was not seen.
 *
 * The flow table orients a record from the handshake (TCP SYN / SYN-ACK,
 * SCTP INIT / INIT-ACK, ICMP echo) or a request/answer exchange (NTP mode,
 * DNS QR bit). Not from GTP-C echoes: both ends of a path send them, so the
 * first seen would turn a path's records round from one day to the next. A capture that starts
 * mid-session (any live capture, any file cut by time) or a SPAN port that mirrors one direction
 * often shows no handshake; then the listening side is named by its well-known port (3GPP/IANA),
 * then by its inventory role (an MME/AMF, SGW/UPF/SMF, NTP, DNS or syslog server listens), then by
 * the port ranges (a port below 1024, else below the ephemeral range, listens). A syslog or IKE
 * datagram flow whose every packet came from the well-known port is not turned round: a client
 * sending from it (BSD syslogd from 514) looks the same as a one-way view of a server's answers.
 * Only when nothing tells does the sender of the first packet stay the initiator, and then nothing
 * downstream claims to know who opened it (the detectors' evidence says "unknown").
 */
#ifndef MW_ORIENT_H
#define MW_ORIENT_H

#include "flow/flow_record.h"

/*
 * Decides rec->orient for a record not oriented by its handshake; returns 1
 * when src and dst must be exchanged (the caller swaps the record, e.g. with
 * mw_flow_record_swap, and its own per-side data), else 0. A swapped record
 * began with the responder's packet, so it is not a seen start. Tunnel
 * records are left alone (both ends use port 2152; roles decide the sides).
 */
int mw_orient_decide(mw_flow_record_t *rec, unsigned src_role, unsigned dst_role);

#endif
