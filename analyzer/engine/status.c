/*
 * status.c - formats a capture's health (status.h).
 */
#include "engine/status.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mw.h"

static uint64_t malformed_total(const mw_status_t *s)
{
    uint64_t n = 0;
    unsigned i;

    for (i = 1; i < MW_DEC_COUNT; i++)
        n += s->malformed[i];
    return n;
}

void mw_status_format_line(const mw_status_t *s, char *buf, size_t len)
{
    char kernel[96] = "kernel drops n/a", lag[32] = "lag n/a";
    double pps = s->interval_s > 0 ? (double)s->packets_delta / s->interval_s : 0.0;

    if (s->have_kernel)
        snprintf(kernel, sizeof(kernel), "kernel drops %llu/%llu, interface drops %llu",
                (unsigned long long)s->kernel_dropped, (unsigned long long)s->kernel_received,
                (unsigned long long)s->if_dropped);
    if (s->lag_us >= 0)
        snprintf(lag, sizeof(lag), "lag %.1f s", (double)s->lag_us / 1e6);
    snprintf(buf, len,
            "status: %s%llu packets (%.0f/s), %s, malformed %llu, flows %llu in memory, %llu "
            "evicted, anomalies %llu, %s",
            s->capture_down ? "CAPTURE DOWN (reopening), " : "", (unsigned long long)s->packets,
            pps, kernel, (unsigned long long)malformed_total(s),
            (unsigned long long)s->flows_in_memory, (unsigned long long)s->flows_evicted,
            (unsigned long long)s->anomalies, lag);
}

static void metric(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
            (unsigned long long)v);
}

int mw_status_write_prometheus(const mw_status_t *s, const char *path)
{
    char tmp[4200];
    FILE *f;
    unsigned i;
    int fd, rc;

    /* beside the target, so the rename is atomic; node-exporter ignores non-.prom names */
    if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp))
        return MW_EIO;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return MW_EIO;
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        unlink(tmp);
        return MW_EIO;
    }
    metric(f, "mastwatch_packets_total", "counter", "Packets read.", s->packets);
    metric(f, "mastwatch_bytes_total", "counter", "Bytes on the wire read.", s->bytes);
    if (s->have_kernel) {
        metric(f, "mastwatch_kernel_received_total", "counter",
                "Packets the kernel passed to the capture.", s->kernel_received);
        metric(f, "mastwatch_kernel_dropped_total", "counter",
                "Packets the kernel dropped: the capture did not keep up.", s->kernel_dropped);
        metric(f, "mastwatch_interface_dropped_total", "counter", "Packets the interface dropped.",
                s->if_dropped);
    }
    fputs("# HELP mastwatch_malformed_total Packets not decoded, by reason.\n"
          "# TYPE mastwatch_malformed_total counter\n",
            f);
    for (i = 1; i < MW_DEC_COUNT; i++)
        fprintf(f, "mastwatch_malformed_total{reason=\"%s\"} %llu\n", mw_decode_event_name(i),
                (unsigned long long)s->malformed[i]);
    metric(f, "mastwatch_flows_in_memory", "gauge", "Flows held in memory now.",
            s->flows_in_memory);
    metric(f, "mastwatch_flows_evicted_total", "counter",
            "Flows pushed out by the memory or flow cap before they ended.", s->flows_evicted);
    metric(f, "mastwatch_anomalies_total", "counter", "Anomalies reported.", s->anomalies);
    if (s->have_kernel)
        metric(f, "mastwatch_capture_up", "gauge",
                "1 while the interface captures, 0 while it is away.", !s->capture_down);
    if (s->lag_us >= 0)
        fprintf(f,
                "# HELP mastwatch_detection_lag_seconds Detection behind the wire.\n"
                "# TYPE mastwatch_detection_lag_seconds gauge\n"
                "mastwatch_detection_lag_seconds %.3f\n",
                (double)s->lag_us / 1e6);
    fprintf(f,
            "# HELP mastwatch_last_update_timestamp_seconds When this file was written.\n"
            "# TYPE mastwatch_last_update_timestamp_seconds gauge\n"
            "mastwatch_last_update_timestamp_seconds %.3f\n",
            (double)s->wall_us / 1e6);
    rc = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    rc |= fclose(f) != 0;
    if (rc || rename(tmp, path) != 0) {
        unlink(tmp);
        return MW_EIO;
    }
    return 0;
}
