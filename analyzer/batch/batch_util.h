/*
 * batch_util.h - small file-system helpers of the batch (batch_util.c):
 * durable writes (fsync + rename), directory creation, paths, UTC stamps.
 */
#ifndef MW_BATCH_UTIL_H
#define MW_BATCH_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define MW_BATCH_UTC_LEN 32

/* malloc'd printf; NULL when out of memory. */
char *mw__batch_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* mkdir -p; 0 or MW_EIO with a message. */
int mw__batch_mkdirs(const char *path, char *errbuf, size_t errlen);

/* fsync of a file or directory by name; 0 or MW_EIO with a message. */
int mw__batch_fsync_path(const char *path, char *errbuf, size_t errlen);

/* fsync of the directory holding path. */
int mw__batch_fsync_parent(const char *path, char *errbuf, size_t errlen);

/* Writes len bytes to path atomically: PATH.tmp.PID, fsync, rename, fsync of the directory. */
int mw__batch_write_atomic(
        const char *path, const char *data, size_t len, char *errbuf, size_t errlen);

/* Renames tmp over path after fsyncing tmp, then fsyncs the directory. */
int mw__batch_commit(const char *tmp, const char *path, char *errbuf, size_t errlen);

/* An absolute, normalised path (realpath when it exists, else cwd-joined); malloc'd. */
char *mw__batch_abspath(const char *path);

/* The directory part of path (malloc'd, "." when none). */
char *mw__batch_dirname(const char *path);

/* "2026-11-30T01:02:03Z" for a time in seconds (UTC). */
void mw__batch_utc(int64_t t, char out[MW_BATCH_UTC_LEN]);

/* Current time in seconds. */
int64_t mw__batch_now(void);

#endif
