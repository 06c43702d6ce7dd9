/*
 * classify_ndpi.h - the only door to nDPI. A classifier is one nDPI
 * detection module: one per worker thread, never shared. Per-flow state is
 * an opaque pointer that the flow table stores in flow->user.
 */
#ifndef MW_CLASSIFY_NDPI_H
#define MW_CLASSIFY_NDPI_H

#include <stddef.h>
#include <stdint.h>

#include "flow/flow_record.h"

typedef struct mw_classifier mw_classifier_t;

/* Gives up after this many packets, as nDPI's own reader does. */
#define MW_DPI_MAX_TCP_PACKETS 80
#define MW_DPI_MAX_UDP_PACKETS 24

/* Creating modules is not thread-safe in nDPI: create them one at a time. */
mw_classifier_t *mw_classifier_create(char *errbuf, size_t errlen);
/* A classifier whose nDPI module is a copy of pristine's (which must not have dissected
 * anything yet): as created, in a fraction of the time, and safe to make on several
 * threads at once. NULL with errbuf when it cannot be copied (then create one). */
mw_classifier_t *mw_classifier_copy(const mw_classifier_t *pristine, char *errbuf, size_t errlen);
void mw_classifier_destroy(mw_classifier_t *c); /* NULL-safe */

/* on 0: every packet goes to nDPI at once, none waits (to compare; default 1). */
void mw_classifier_set_waiting(mw_classifier_t *c, int on);

/* on 0: a flow's detection ends with its application, before nDPI's extra dissection
 * (later TLS, SSH, DNS packets) could add risks (default 1, as ndpiReader). */
void mw_classifier_set_extra_dissection(mw_classifier_t *c, int on);

/* Bytes of one flow's nDPI state. */
size_t mw_classifier_flow_bytes(void);

/* Packets nDPI has processed for a flow holding state (0 without: waiting, or done). */
unsigned mw_classifier_flow_packets(const void *state);

/* Bytes of the nDPI module's tables that came from its own arena (0: all from malloc). */
size_t mw_classifier_module_bytes(const mw_classifier_t *c);

/* Flows holding nDPI state now, and flows whose packets wait for it (*pending). */
size_t mw_classifier_live(const mw_classifier_t *c, size_t *pending /* OUT */);

/*
 * Feeds one IP packet (pointer to the IP header; payload_len: its transport
 * payload's bytes) to nDPI. *state is NULL before a flow's first packet: the
 * classifier makes it. packets_seen is the flow's packet count including
 * this one. Returns 1 when detection is finished: labels are in rec and the
 * state has been freed (*state = NULL); 0 when it wants more; -1 when out of
 * memory (the packet was not taken: hand it again as the same packets_seen).
 *
 * The first TCP packets without payload (a SYN, its answer) wait in a small
 * buffer and are handed to nDPI, in order and with their times, only when
 * the flow carries data or ends: a port scan's flows never take nDPI's
 * state of about 700 bytes, and nDPI sees what it would have seen.
 */
int mw_classifier_process(mw_classifier_t *c, void **state, const uint8_t *ip, uint32_t ip_len,
        uint32_t payload_len, int64_t ts_us, uint32_t packets_seen, mw_flow_record_t *rec);

/* Copies the current labels into rec without ending detection (active timeout). */
void mw_classifier_peek(mw_classifier_t *c, void **state, mw_flow_record_t *rec);

/* Ends detection (guessing when nothing matched), fills rec, frees *state. */
void mw_classifier_finish(mw_classifier_t *c, void **state, mw_flow_record_t *rec);

/* Lookup tables for the output file: names from the linked nDPI. */
unsigned mw_classifier_num_protocols(const mw_classifier_t *c);
const char *mw_classifier_protocol_name(const mw_classifier_t *c, unsigned id);
unsigned mw_classifier_num_categories(void);
const char *mw_classifier_category_name(const mw_classifier_t *c, unsigned id);
unsigned mw_classifier_num_risks(void);
const char *mw_classifier_risk_name(unsigned id);
const char *mw_classifier_confidence_name(unsigned id);
const char *mw_classifier_ndpi_version(void);

/* Risk bitmaps by what a detector makes of them. */
enum mw_risk_class {
    MW_RISK_CLEARTEXT, /* clear-text credentials, unsafe (cleartext) protocol */
    MW_RISK_DNS,       /* DGA-like names, suspicious DNS traffic */
    MW_RISK_WEAK,      /* obsolete TLS/SSH, weak ciphers, insecure SMB, bad certificates */
    MW_RISK_IGNORED,   /* says nothing on a backhaul (known protocol on another port) */
};
uint64_t mw_classifier_risk_mask(enum mw_risk_class cls);

/* 1 when a record's nDPI confidence says its label (and the risks nDPI set with it)
 * came from the payload, 0 when only from its ports or addresses, or none: a bare SYN
 * to port 143 is "IMAP" with an unsafe-protocol risk without a byte of IMAP. */
int mw_classifier_label_from_payload(unsigned confidence);

/*
 * The risks of a connection seen one way only, as they are about the side whose packets were
 * seen: nDPI takes the first sender for the client, so with only the responder's packets
 * its "client" findings are about the responder (an SSH server's old banner read as an
 * obsolete client), and with only the opener's, its "server" findings about the opener.
 * seen: mw_flow_one_way_side()'s (MW_SEEN_BOTH leaves risk unchanged).
 */
uint64_t mw_classifier_risks_of_seen_side(uint64_t risk, int seen);

/* nDPI's confidence values for a label from deep inspection and from the port alone. */
unsigned mw_classifier_confidence_dpi(void);
unsigned mw_classifier_confidence_port(void);

/* Protocol ids used for flows nDPI never sees (the outer GTP-U or IP-in-IP tunnel). */
uint16_t mw_classifier_gtp_id(void);
uint16_t mw_classifier_gtp_u_id(void);
uint16_t mw_classifier_ip_in_ip_id(void); /* nDPI 4.2 has one id for 4in4/6in4/4in6/6in6 */
uint16_t mw_classifier_gre_id(void);

#endif
