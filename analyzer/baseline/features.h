/*
 * features.h - what the baseline looks at in one flow record: which side is
 * the base station, the tuple it belongs to, bytes up and down, local hour,
 * DNS name shape. Shared by training and detection so both see the same.
 */
#ifndef MW_FEATURES_H
#define MW_FEATURES_H

#include <stdint.h>

#include "baseline/model.h"
#include "classify/inventory.h"
#include "flow/flow_record.h"

/* nDPI protocol name for an id (the classifier's table, read-only). */
typedef const char *(*mw_proto_name_fn)(void *ctx, unsigned id);

typedef struct mw_flow_view {
    const mw_flow_record_t *rec;
    const char *bs_id; /* NULL when the flow has no base station */
    uint8_t local[16]; /* the base station's address (inner records: the subscriber's) */
    int local_is_dst;  /* the local side is the record's dst (the peer opened it) */
    uint8_t peer[16];  /* the other side */
    uint16_t peer_port, local_port;
    uint16_t service_port; /* the responder's port: the service's */
    uint64_t up, down;     /* bytes sent / received by the base station (or subscriber) */
    uint64_t pkts_up, pkts_down;
    uint32_t max_pkt;
    int64_t duration_us;
    unsigned hour_of_week; /* local time, Monday 00:00 = 0 */
    unsigned hour_of_day;
    int bs_opened;      /* the base station (its subscriber, for inner records) is the initiator */
    int opener_known;   /* the initiator comes from the handshake or a listening port */
    int real_start;     /* the record begins with the session's opening (start_seen) */
    int ftp_data;       /* an FTP data connection: its ports and opener follow the control
                         * session's PORT/PASV, so neither says anything by itself */
    int label_trusted;  /* nDPI saw the session from its opening, both ways, and named it: a
                         * label from its middle or from one side only may be a guess */
    const char *app;    /* nDPI label (app, else master), "Unknown" when none */
    const char *family; /* the master protocol when nDPI named one, else app: the tuple key */
} mw_flow_view_t;

/* Fills v from rec; returns 0 when the record belongs to no base station. */
int mw_flow_view(mw_flow_view_t *v, const mw_flow_record_t *rec, const mw_inventory_t *inv,
        mw_proto_name_fn name, void *name_ctx);

/* The tuple key of a view for station index st. */
void mw_flow_view_key(const mw_flow_view_t *v, uint32_t st, mw_tuple_key_t *key /* OUT */);

/* Longest DNS name and label in host (a query name). */
void mw_dns_name_shape(const char *host, uint32_t *name_len, uint32_t *max_label);

/* A DNS record's longest name (its host) and longest label (of any question it carried). */
void mw_dns_record_shape(const mw_flow_record_t *r, uint32_t *name_len, uint32_t *max_label);

/* Management plane outside GTP-U: the traffic the window features count. */
int mw_flow_view_is_oam(const mw_flow_view_t *v);

#endif
