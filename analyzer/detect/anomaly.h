/*
 * anomaly.h - an anomaly (one incident) as written to /anomalies (HDF5,
 * scalar members only), to JSON lines and to syslog; and the per-station
 * coverage of a detection run (/coverage).
 *
 * One anomaly is one incident: all evidence of one detector about one base
 * station and one peer whose flows follow each other in packet time (a
 * scan of a thousand ports, a beacon all day, an upload in many flows).
 * Every number in the explanation is a member here: the text is written
 * from the record, never from anything else.
 */
#ifndef MW_ANOMALY_H
#define MW_ANOMALY_H

#include <stdint.h>

#include "flow/flow_record.h"

#define MW_EXPLANATION_LEN      320
#define MW_ANOMALY_APP_LEN      32
#define MW_ANOMALY_MAX_FLOWS    64 /* flow ids kept per anomaly, the earliest (the count goes on) */
#define MW_COMMUNITY_ID_LEN     32 /* "1:" + base64 of a SHA-1 */
#define MW_WIRESHARK_FILTER_LEN 192

enum mw_detector_id {
    MW_DET_NEW_PEER = 0,
    MW_DET_NEW_SERVICE,
    MW_DET_DIRECTION,
    MW_DET_LEAKAGE,
    MW_DET_VOLUME,
    MW_DET_BEACON,
    MW_DET_OFF_HOURS,
    MW_DET_CLEARTEXT,
    MW_DET_RISK,
    MW_DET_DNS,
    MW_DET_TIME_SOURCE,
    MW_DET_RATE,
    MW_DET_CAPTURE_HEALTH, /* live: drops, one-way capture (detect_health.c) */
    MW_DET_COUNT
};

enum mw_severity { MW_SEV_LOW = 1, MW_SEV_MEDIUM = 2, MW_SEV_HIGH = 3 };

typedef struct mw_anomaly_record {
    uint64_t anomaly_id;
    uint64_t incident_id;          /* anomalies of one station and peer at one time share it (the
                                      smallest anomaly_id among them): one event, many detectors */
    int64_t start_us, end_us;      /* first packet of the first flow, last of the last */
    uint64_t local_hi, local_lo;   /* the base station's address (inner flows: the subscriber's) */
    uint64_t peer_hi, peer_lo;     /* the other side */
    uint64_t first_flow_id;        /* the earliest flow behind it (flow_id / 2 = its first frame) */
    uint64_t last_flow_id;         /* the latest */
    uint64_t bytes_up, bytes_down; /* sent by the local side / by the peer, all its flows */
    uint64_t packets_up, packets_down;
    double value;          /* the number that tripped the detector (bytes, seconds, count...) */
    double limit;          /* what training allows for it (0 when the rule is "never seen") */
    uint32_t n_flows;      /* flow records behind it */
    uint32_t n_sessions;   /* of which real session starts (handshake or first packet seen) */
    uint32_t n_ports;      /* distinct service ports (a scan: many) */
    uint32_t teid_up;      /* inner flows: GTP-U TEID towards the core, else 0 */
    uint32_t teid_down;    /* ... and towards the base station */
    float score;           /* 2.5 x severity + how far past the limit (0..2.5): docs/MODEL.md */
    uint16_t bs_index;     /* /meta/base_stations */
    uint16_t peer_port;    /* the peer's port in the first flow */
    uint16_t local_port;   /* the base station's (subscriber's) port in the first flow */
    uint16_t service_port; /* the listening side's port in the first flow */
    uint16_t service;      /* /meta/services */
    uint8_t detector;      /* /meta/detectors */
    uint8_t severity;      /* 1 low, 2 medium, 3 high */
    uint8_t plane;         /* /meta/planes */
    uint8_t initiator;     /* who opened the first flow: /meta/initiators */
    uint8_t l4_proto;
    uint8_t kind;  /* detector-specific variant (docs/MODEL.md) */
    uint8_t inner; /* 1: inside a GTP-U tunnel */
    uint8_t pad_[5];
    char app[MW_ANOMALY_APP_LEN];            /* nDPI label of the first flow */
    char host[MW_HOST_LEN];                  /* a host name seen (SNI, DNS query), "" none */
    char community_id[MW_COMMUNITY_ID_LEN];  /* of the first flow (Community ID v1) */
    char wireshark[MW_WIRESHARK_FILTER_LEN]; /* display filter for its packets */
    char explanation[MW_EXPLANATION_LEN];    /* one sentence with the numbers above */
} mw_anomaly_record_t;

/* /anomaly_flows: which flow records are behind an anomaly. */
typedef struct mw_anomaly_flow {
    uint64_t anomaly_id;
    uint64_t flow_id;
} mw_anomaly_flow_t;

/* /windows: management-plane features of one base station and window. */
typedef struct mw_window_record {
    int64_t start_us;
    uint64_t flows, bytes_up, bytes_down;
    uint32_t peers;
    float z_up; /* (bytes_up - learned mean) / learned stddev, 0 when learning */
    uint16_t bs_index;
    uint8_t pad_[6];
} mw_window_record_t;

/* How a base station was covered by a detection run (/coverage, summary, report). */
enum mw_coverage_status {
    MW_COV_UNATTRIBUTED = 0, /* the row of flows that belong to no base station */
    MW_COV_SCORED = 1,       /* scored against its own model */
    MW_COV_GROUP = 2,        /* not in the model: scored against its role group */
    MW_COV_LEARNING = 3,     /* in the model, but its training is too short for statistics */
    MW_COV_NOT_SCORED = 4,   /* neither it nor its group is in the model */
    MW_COV_SILENT = 5,       /* in the inventory, no traffic seen */
    MW_COV_COUNT
};

typedef struct mw_coverage_record {
    uint64_t flows;       /* flow records of this base station */
    uint64_t start_seen;  /* ... that begin with their session's opening */
    uint64_t mid_session; /* ... of TCP/SCTP whose opening was not seen (capture began later) */
    uint64_t continued;   /* ... continuing a record cut by the active timeout */
    uint64_t one_way;     /* ... TCP/SCTP with packets one way only (SPAN, asymmetric route) */
    uint64_t anomalies;   /* anomalies written for it */
    int64_t first_us, last_us;
    uint32_t silent_hours; /* clock hours of the run's span without any record of it (gaps) */
    uint32_t pad2_;
    uint16_t bs_index; /* 0: flows of no base station */
    uint8_t status;    /* enum mw_coverage_status */
    uint8_t pad_[5];
} mw_coverage_record_t;

const char *mw_detector_name(unsigned id);
const char *mw_severity_name(unsigned sev);
const char *mw_coverage_status_name(unsigned status);

#endif
