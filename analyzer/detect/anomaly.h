/*
 * anomaly.h - an anomaly as written to /anomalies (HDF5, scalar members
 * only) and to JSON lines. One anomaly aggregates all evidence of one
 * detector about one base station and one peer/service until that evidence
 * stops for a window.
 */
#ifndef MW_ANOMALY_H
#define MW_ANOMALY_H

#include <stdint.h>

#define MW_EXPLANATION_LEN   256
#define MW_ANOMALY_APP_LEN   32
#define MW_ANOMALY_MAX_FLOWS 64 /* flow ids kept per anomaly (the count goes on) */

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
    MW_DET_COUNT
};

enum mw_severity { MW_SEV_LOW = 1, MW_SEV_MEDIUM = 2, MW_SEV_HIGH = 3 };

typedef struct mw_anomaly_record {
    uint64_t anomaly_id;
    int64_t start_us, end_us;
    uint64_t peer_hi, peer_lo;
    uint64_t first_flow_id;
    uint64_t bytes_up, bytes_down;
    uint32_t n_flows;
    float score;
    uint16_t bs_index;
    uint16_t peer_port;
    uint16_t service; /* /meta/services */
    uint8_t detector; /* /meta/detectors */
    uint8_t severity; /* 1 low, 2 medium, 3 high */
    uint8_t plane;    /* /meta/planes */
    uint8_t pad_[7];
    char app[MW_ANOMALY_APP_LEN];         /* nDPI label */
    char explanation[MW_EXPLANATION_LEN]; /* one sentence with the numbers */
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

const char *mw_detector_name(unsigned id);
const char *mw_severity_name(unsigned sev);

#endif
