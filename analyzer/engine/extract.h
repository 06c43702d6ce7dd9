/*
 * extract.h - `mastwatch extract`: writes the packets of an anomaly, a flow
 * record or a time range from capture files or a pcap ring to a pcap file.
 * extract_cli.c turns argv into mw_extract_opts_t; extract.c does the work.
 */
#ifndef MW_EXTRACT_H
#define MW_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#define MW_EXTRACT_MARGIN_US 1000000 /* around an anomaly's span */

typedef struct mw_extract_opts {
    const char *results; /* --results RUN.h5 */
    uint64_t anomaly_id; /* --anomaly, 0 = none */
    uint64_t flow_id;    /* --flow, 0 = none */
    int have_from, have_to;
    int64_t from_us, to_us; /* --from/--to */
    const char *filter;     /* --filter BPF */
    const char *ring;       /* --ring DIR */
    const char *output;     /* -o */
    int force, quiet;
    const char *const *sources; /* capture files */
    size_t nsources;
} mw_extract_opts_t;

typedef struct mw_extract_result {
    uint64_t packets_read, packets_written;
    size_t files_read;
} mw_extract_result_t;

/* Returns 0 (written), or a negative MW_E* code with a one-line message. */
int mw_extract_run(
        const mw_extract_opts_t *o, mw_extract_result_t *res, char *errbuf, size_t errlen);

/* The command: parses its arguments (argv[0] = "extract"), runs, prints; the exit status. */
int mw_extract_main(int argc, char **argv);

#endif
