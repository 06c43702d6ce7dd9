/*
 * anomaly_syslog.c - one line per anomaly to syslog(3), for sites whose SIEM
 * reads the system log rather than a JSON file.
 */
#include <syslog.h>

#include "detect/detector.h"
#include "output/anomaly_sinks.h"

void mw_anomaly_syslog_open(void)
{
    openlog("mastwatch", LOG_PID, LOG_DAEMON);
}

void mw_anomaly_syslog_write(const mw_inventory_t *inv, const mw_anomaly_record_t *a)
{
    const char *bs = mw_inventory_bs_id(inv, a->bs_index);

    syslog(a->severity >= MW_SEV_HIGH ? LOG_WARNING : LOG_NOTICE, "%s %s %s score %.1f: %s",
            mw_detector_name(a->detector), bs ? bs : "?", mw_severity_name(a->severity),
            (double)a->score, a->explanation);
}

void mw_anomaly_syslog_close(void)
{
    closelog();
}
