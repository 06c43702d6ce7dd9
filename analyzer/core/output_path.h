/*
 * output_path.h - checks on the files a run will write, made before any
 * input is read, so a mistaken -o fails at once and touches nothing.
 */
#ifndef MW_OUTPUT_PATH_H
#define MW_OUTPUT_PATH_H

#include <stddef.h>

/*
 * An HDF5 output (results file or model) at path: refuses "-" (HDF5 needs a
 * seekable file), a directory, a device or any other non-regular file, and
 * a file that is also one of the inputs (same inode). With partial set, a
 * PATH.partial that exists means another run writes path, or a crashed one
 * left it (MW_EIO); the other refusals are MW_EINVAL. 0 when path may be written.
 */
int mw_output_path_check(const char *path, int partial, const char *const *inputs, size_t ninputs,
        char *errbuf, size_t errlen);

/*
 * The --anomalies file: "-" is stdout; refuses a directory, an input file
 * and the results file itself. Devices are fine (/dev/stdout, /dev/null).
 */
int mw_anomalies_path_check(const char *path, const char *output, const char *const *inputs,
        size_t ninputs, char *errbuf, size_t errlen);

/*
 * Every output a command line names (-o, --anomalies) against every input it names
 * (captures or results/model files, inventory, model, suppressions), before any is read.
 * The .partial check applies to analyze and capture, whose results file is one.
 */
struct mw_config;
int mw_config_check_outputs(const struct mw_config *cfg, char *errbuf, size_t errlen);

/* fsync path; with dir set, (best effort) the directory holding it instead, so that a
 * rename into it is durable. 0 or -1 (errno set). */
int mw_fsync_path(const char *path, int dir);

#endif
