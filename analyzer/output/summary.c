/*
 * summary.c - prints what a run did: packets, flows, what was skipped and
 * why, drops, speed, and where the results went.
 */
#include "output/summary.h"

#include "decode/decode.h"

/* Frames that came in an encapsulation the decoder stripped (ERSPAN, VXLAN, ...). */
static void print_encap(FILE *out, const mw_run_summary_t *s)
{
    const char *sep = "encap        ";
    unsigned i;

    for (i = 1; i < MW_ENCAP_COUNT; i++) {
        if (s->encap_packets[i] == 0)
            continue;
        fprintf(out, "%s%llu frames in %s", sep, (unsigned long long)s->encap_packets[i],
                mw_encap_name(i));
        sep = ", ";
    }
    if (sep[0] == ',')
        fprintf(out, " (stripped: analyzed as the frames they carry)");
    if (s->encap_kept > 0)
        fprintf(out,
                "%s%llu frames of deliveries with a base station at one end (analyzed as "
                "sent)",
                sep[0] == ',' ? "; " : sep, (unsigned long long)s->encap_kept);
    if (sep[0] == ',' || s->encap_kept > 0)
        fputc('\n', out);
}

/* One line of the decode events with a count, "label name n, name n...tail"; none: nothing. */
static void print_events(FILE *out, const char *label, const uint64_t *counts, const char *tail)
{
    unsigned i;
    int any = 0;

    for (i = 1; i < MW_DEC_COUNT; i++) {
        if (counts[i] == 0)
            continue;
        fprintf(out, "%s %s %llu", any ? "," : label, mw_decode_event_name(i),
                (unsigned long long)counts[i]);
        any = 1;
    }
    if (any)
        fputs(tail, out);
}

void mw_summary_print(FILE *out, const mw_config_t *cfg, const mw_run_summary_t *s)
{
    double rate = s->elapsed_s > 0 ? (double)s->packets / s->elapsed_s : 0.0;
    unsigned i;

    fprintf(out, "packets      %llu (%.1f MB) in %.2f s, %.0f packets/s\n",
            (unsigned long long)s->packets, (double)s->bytes / 1e6, s->elapsed_s, rate);
    if (cfg->threads > 1 || s->readers > 1)
        fprintf(out, "cpu          reader %.2f s, %u workers %.2f s, writer %.2f s, deflate %.2f s",
                s->cpu_reader_s, cfg->threads, s->cpu_workers_s, s->cpu_writer_s, s->cpu_deflate_s);
    else
        fprintf(out, "cpu          reader and worker %.2f s, writer %.2f s, deflate %.2f s",
                s->cpu_reader_s, s->cpu_writer_s, s->cpu_deflate_s);
    /* one file reader by default: shown once it read something (not for pcapng alone) */
    if (s->read_threads > 1 || (s->read_threads == 1 && s->cpu_read_threads_s > 0))
        fprintf(out, ", %u file reader%s %.2f s", s->read_threads, s->read_threads > 1 ? "s" : "",
                s->cpu_read_threads_s);
    if (s->ranges_rewalked > 0) /* a payload looked like pcap records: the reader walked it */
        fprintf(out, " (%llu ranges walked again)", (unsigned long long)s->ranges_rewalked);
    fputc('\n', out);
    fprintf(out, "flows        %llu records, peak %u in memory, %llu evicted\n",
            (unsigned long long)s->flows_written, s->peak_flows,
            (unsigned long long)s->flows_evicted);
    fprintf(out, "tracked      %llu packets, %llu in tunnels (GTP-U, IP-in-IP, GRE)\n",
            (unsigned long long)s->tracked_packets, (unsigned long long)s->tunnel_packets);
    print_encap(out, s);
    if (s->datagrams_reassembled + s->fragments_released > 0) {
        fprintf(out, "fragments    %llu IP datagrams put back together from %llu fragments",
                (unsigned long long)s->datagrams_reassembled,
                (unsigned long long)s->fragments_reassembled);
        if (s->fragments_released > 0) /* their payload went to nDPI in pieces: say so */
            fprintf(out, ", %llu fragments analyzed one by one (datagram not whole)",
                    (unsigned long long)s->fragments_released);
        if (s->fragment_conflicts > 0)
            fprintf(out, ", %llu with overlaps of different bytes (first kept)",
                    (unsigned long long)s->fragment_conflicts);
        fputc('\n', out);
    }
    print_events(out, "skipped     ", s->decode_events, "\n");
    /* still counted: a transport header the snaplen cut after its ports, a bad tunnel
     * inside a good packet (its tunnel flow has it) */
    print_events(out, "counted     ", s->soft_events,
            " (cut short or broken inside: counted by what could be read)\n");
    if (s->ftp_announced > 0) {
        fprintf(out, "ftp          %llu data connections announced on control sessions",
                (unsigned long long)s->ftp_announced);
        if (s->ftp_not_kept > 0) /* their transfers go unnamed: say so */
            fprintf(out, ", %llu not kept (table full)", (unsigned long long)s->ftp_not_kept);
        if (s->ftp_refused > 0)
            fprintf(out, ", %llu refused (a port under 1024 or of a known service)",
                    (unsigned long long)s->ftp_refused);
        fputc('\n', out);
    }
    if (s->duplicates > 0)
        fprintf(out, "duplicates   %llu packets were copies of one seen within 2 ms (%s)\n",
                (unsigned long long)s->duplicates,
                cfg->dedup ? "dropped: --dedup" : "counted twice; --dedup drops them");
    if (s->vlan_split_sessions > 0)
        fprintf(out,
                "vlan         %llu sessions seen one way in one VLAN and the other way in another "
                "(--no-vlan-tracking makes each one flow)\n",
                (unsigned long long)s->vlan_split_sessions);
    if (s->readers > 1) {
        fprintf(out, "readers      %u (one PACKET_FANOUT group), packets each:", s->readers);
        for (i = 0; i < s->readers && i < MW_ARRAY_LEN(s->reader_packets); i++)
            fprintf(out, " %llu", (unsigned long long)s->reader_packets[i]);
        fputc('\n', out);
    }
    if (cfg->command == MW_CMD_CAPTURE)
        fprintf(out, "kernel       %llu received, %llu dropped, %llu dropped by interface\n",
                (unsigned long long)s->kernel_received, (unsigned long long)s->kernel_dropped,
                (unsigned long long)s->if_dropped);
    if (s->capture_losses > 0)
        fprintf(out, "interface    lost %llu times, %llu s in all (reopened each time)\n",
                (unsigned long long)s->capture_losses, (unsigned long long)s->capture_lost_s);
    if (s->reloads > 0)
        fprintf(out, "reloads      %llu (SIGUSR2)\n", (unsigned long long)s->reloads);
    if (cfg->pcap_ring != NULL)
        fprintf(out, "pcap ring    %s, %llu packets not stored (pcap_ring_dropped)\n",
                cfg->pcap_ring, (unsigned long long)s->pcap_ring_dropped);
    fprintf(out, "memory       cap %llu MB: at most %llu flows in memory, %llu evicted",
            (unsigned long long)(s->memcap >> 20), (unsigned long long)s->flow_cap,
            (unsigned long long)s->flows_evicted);
    if (s->shed.windows + s->shed.hours + s->shed.evidence + s->shed.beacon > 0)
        fprintf(out, "; shed: %llu window, %llu hour, %llu evidence, %llu beacon",
                (unsigned long long)s->shed.windows, (unsigned long long)s->shed.hours,
                (unsigned long long)s->shed.evidence, (unsigned long long)s->shed.beacon);
    if (s->alloc_failures)
        fprintf(out, "; %llu flow allocations failed", (unsigned long long)s->alloc_failures);
    fputc('\n', out);
    if (cfg->model != NULL)
        fprintf(out, "anomalies    %llu (high %llu, medium %llu, low %llu)\n",
                (unsigned long long)(s->anomalies[1] + s->anomalies[2] + s->anomalies[3]),
                (unsigned long long)s->anomalies[3], (unsigned long long)s->anomalies[2],
                (unsigned long long)s->anomalies[1]);
    if (cfg->command == MW_CMD_TRAIN)
        fprintf(out, "trained      %llu flow records of base stations\n",
                (unsigned long long)s->trained_records);
    if (cfg->output != NULL && !s->output_failed && s->output_files > 0)
        fprintf(out, "output       %llu files rotated every %u s (-G), named by %s\n",
                (unsigned long long)s->output_files + 1, cfg->rotate_s, cfg->output_pattern);
    else if (cfg->output != NULL && !s->output_failed)
        fprintf(out, "output       %s\n", cfg->output);
}
