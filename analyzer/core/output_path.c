/*
 * output_path.c - refuses outputs that would destroy something or could
 * not be written, before a run starts: the input itself given as -o
 * (`analyze -o cap.pcap cap.pcap`), a device or a directory, "-", and a
 * .partial of another run. The final name of a results file is written
 * by rename(), so an existing regular file or symlink there is replaced,
 * never written through.
 */
#include "core/output_path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/mw.h"

static int same_as_input(const struct stat *st, const char *const *inputs, size_t n)
{
    struct stat in;
    size_t i;

    for (i = 0; i < n; i++)
        if (stat(inputs[i], &in) == 0 && in.st_dev == st->st_dev && in.st_ino == st->st_ino)
            return (int)i + 1;
    return 0;
}

int mw_output_path_check(const char *path, int partial, const char *const *inputs, size_t ninputs,
        char *errbuf, size_t errlen)
{
    char name[4096];
    struct stat st;
    int in;

    if (path[0] == '\0' || strcmp(path, "-") == 0) {
        mw_fmt_err(errbuf, errlen,
                "-o %s: an HDF5 file cannot go to standard output; give a file name",
                path[0] ? path : "''");
        return MW_EINVAL;
    }
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            mw_fmt_err(errbuf, errlen, "-o %s is a directory; give a file name in it", path);
            return MW_EINVAL;
        }
        if (!S_ISREG(st.st_mode)) {
            mw_fmt_err(errbuf, errlen,
                    "-o %s is not a regular file (a device, FIFO or socket): it will not be "
                    "replaced",
                    path);
            return MW_EINVAL;
        }
        in = same_as_input(&st, inputs, ninputs);
        if (in) {
            mw_fmt_err(errbuf, errlen, "-o %s is also an input (%s): it would be replaced", path,
                    inputs[in - 1]);
            return MW_EINVAL;
        }
    } else if (errno != ENOENT) {
        mw_fmt_errno(errbuf, errlen, errno, "-o %s", path);
        return MW_EIO;
    }
    if (!partial)
        return 0;
    if ((size_t)snprintf(name, sizeof(name), "%s.partial", path) >= sizeof(name)) {
        mw_fmt_err(errbuf, errlen, "-o %s: name too long", path);
        return MW_EINVAL;
    }
    if (lstat(name, &st) == 0) {
        mw_fmt_err(errbuf, errlen,
                "another run writes %s (or a crashed one left %s: run mastwatch recover %s)", path,
                name, name);
        return MW_EIO;
    }
    return 0;
}

int mw_anomalies_path_check(const char *path, const char *output, const char *const *inputs,
        size_t ninputs, char *errbuf, size_t errlen)
{
    struct stat st;
    int in;

    if (strcmp(path, "-") == 0)
        return 0;
    if (path[0] == '\0') {
        mw_fmt_err(errbuf, errlen, "--anomalies: give a file name, or - for standard output");
        return MW_EINVAL;
    }
    if (output != NULL) {
        size_t n = strlen(output);
        if (strcmp(path, output) == 0 ||
                (strncmp(path, output, n) == 0 && strcmp(path + n, ".partial") == 0)) {
            mw_fmt_err(errbuf, errlen, "--anomalies %s is the results file (-o)", path);
            return MW_EINVAL;
        }
    }
    if (stat(path, &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode)) {
        mw_fmt_err(errbuf, errlen, "--anomalies %s is a directory; give a file name", path);
        return MW_EINVAL;
    }
    in = same_as_input(&st, inputs, ninputs);
    if (in) {
        mw_fmt_err(errbuf, errlen, "--anomalies %s is also an input (%s): it would be replaced",
                path, inputs[in - 1]);
        return MW_EINVAL;
    }
    return 0;
}

/* fsync a file; with dir set, (best effort) the directory holding it, so a rename is durable. */
int mw_fsync_path(const char *path, int dir)
{
    char name[4300];
    const char *slash = strrchr(path, '/');
    int fd, rc;

    if (!dir)
        snprintf(name, sizeof(name), "%s", path);
    else if (slash == NULL)
        snprintf(name, sizeof(name), ".");
    else
        snprintf(name, sizeof(name), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    fd = open(name, (dir ? O_DIRECTORY : O_NOFOLLOW) | O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dir ? 0 : -1;
    rc = fsync(fd);
    close(fd);
    return dir ? 0 : rc;
}

int mw_config_check_outputs(const mw_config_t *cfg, char *errbuf, size_t errlen)
{
    const char **inputs = calloc(cfg->nfiles + 3, sizeof(*inputs));
    int partial = cfg->command == MW_CMD_ANALYZE || cfg->command == MW_CMD_CAPTURE;
    size_t n = 0, i;
    int rc = 0;

    if (inputs == NULL) {
        mw_fmt_err(errbuf, errlen, "out of memory");
        return MW_ENOMEM;
    }
    for (i = 0; i < cfg->nfiles; i++)
        inputs[n++] = cfg->files[i];
    if (cfg->inventory != NULL)
        inputs[n++] = cfg->inventory;
    if (cfg->model != NULL)
        inputs[n++] = cfg->model;
    if (cfg->suppress != NULL)
        inputs[n++] = cfg->suppress;
    if (cfg->output != NULL)
        rc = mw_output_path_check(cfg->output, partial, inputs, n, errbuf, errlen);
    if (rc == 0 && cfg->anomalies != NULL)
        rc = mw_anomalies_path_check(cfg->anomalies, cfg->output, inputs, n, errbuf, errlen);
    free(inputs);
    return rc;
}
