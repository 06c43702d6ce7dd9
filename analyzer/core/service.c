/*
 * service.c - sd_notify wrappers (service.h).
 */
#include "core/service.h"

#ifdef MW_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

void mw_service_ready(void)
{
    sd_notify(0, "READY=1");
}

void mw_service_watchdog(int64_t now_ms, int64_t *last_ping_ms)
{
    uint64_t usec = 0;

    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    if (now_ms - *last_ping_ms < (int64_t)(usec / 2000))
        return;
    sd_notify(0, "WATCHDOG=1");
    *last_ping_ms = now_ms;
}

void mw_service_status(const char *line)
{
    sd_notifyf(0, "STATUS=%s", line);
}

void mw_service_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}
#else
void mw_service_ready(void)
{
}

void mw_service_watchdog(int64_t now_ms, int64_t *last_ping_ms)
{
    (void)now_ms;
    (void)last_ping_ms;
}

void mw_service_status(const char *line)
{
    (void)line;
}

void mw_service_stopping(void)
{
}
#endif
