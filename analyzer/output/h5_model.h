/*
 * h5_model.h - models on disk (HDF5 under models/) and reading flow records
 * back from results files, so researchers can train without re-reading
 * packets. Layout: docs/MODEL.md.
 */
#ifndef MW_H5_MODEL_H
#define MW_H5_MODEL_H

#include <stddef.h>

#include "baseline/model.h"
#include "flow/flow_record.h"

int mw_h5_model_save(
        const mw_model_t *m, const char *path, const char *sources, char *errbuf, size_t errlen);
mw_model_t *mw_h5_model_load(const char *path, char *errbuf, size_t errlen);

/*
 * The same, for a process whose other threads are running: the file's first
 * read (the probe, h5_model.c) runs in `probe_exe __h5-probe model PATH`, a
 * fresh process, instead of a fork of this one. probe_exe is this program
 * (/proc/self/exe), whose main() hands that command to mw_h5_probe_main().
 */
mw_model_t *mw_h5_model_load_exec(
        const char *path, const char *probe_exe, char *errbuf, size_t errlen);

#define MW_H5_PROBE_COMMAND "__h5-probe"

/* `__h5-probe KIND PATH` (KIND model or flows): reads the file as the loaders do and
 * returns the exit code: 0 read (accepted or refused), 2 unknown kind; a crash or a
 * hang of libhdf5 is the caller's to see. */
int mw_h5_probe_main(const char *kind, const char *path);

/* 1 when path is an HDF5 file (by signature), 0 otherwise. */
int mw_h5_is_hdf5(const char *path);

/* A results file's flows, with the tables needed to read them. */
typedef struct mw_h5_flows {
    mw_flow_record_t *recs;
    size_t n;
    char **proto_names; /* by nDPI id of the writing run */
    size_t nproto;
    char *inventory_yaml;     /* NULL when the run had none */
    int64_t active_timeout_s; /* of the writing run, 0 when unknown */
} mw_h5_flows_t;

int mw_h5_flows_read(const char *path, mw_h5_flows_t *out, char *errbuf, size_t errlen);
void mw_h5_flows_free(mw_h5_flows_t *f);

/*
 * The same readers without the forked probe, for the libFuzzer campaigns
 * only: they fuzz our checks in one process at thousands of inputs a
 * second; what libhdf5 itself gets wrong the probe contains in real runs.
 */
mw_model_t *mw__h5_model_load_unprobed(const char *path, char *errbuf, size_t errlen);
int mw__h5_flows_read_unprobed(const char *path, mw_h5_flows_t *out, char *errbuf, size_t errlen);

#endif
