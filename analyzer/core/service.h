/*
 * service.h - telling systemd how a long-running capture is doing
 * (sd_notify): ready once the interface is open and the output written,
 * watchdog pings while packets are read, the status line, stopping.
 * Without libsystemd at build time, or outside systemd, these do nothing.
 */
#ifndef MW_SERVICE_H
#define MW_SERVICE_H

#include <stdint.h>

void mw_service_ready(void);
/* Pings systemd's watchdog when WatchdogSec= asks for it, at most every half period. */
void mw_service_watchdog(int64_t now_ms, int64_t *last_ping_ms);
void mw_service_status(const char *line);
void mw_service_stopping(void);

#endif
