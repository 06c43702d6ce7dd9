/*
 * batch_spool.h - finds the captures of a night (batch_spool.c): directories
 * scanned recursively, globs expanded, every file named once.
 */
#ifndef MW_BATCH_SPOOL_H
#define MW_BATCH_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_batch_file {
    char *path; /* absolute, symlinks resolved */
    uint64_t size;
    int64_t mtime_ns;
} mw_batch_file_t;

typedef struct mw_batch_files {
    mw_batch_file_t *v; /* sorted by path */
    size_t n, cap;
} mw_batch_files_t;

/*
 * Adds the captures named by one SPOOL argument to files: a directory
 * (recursively: files named like captures - .pcap, .pcapng, .cap, optionally
 * .gz/.zst - or starting with a pcap, pcapng, gzip or zstd magic; hidden
 * files are skipped), a file, or a glob(3) pattern (its matches, files taken
 * whatever their name). 0; MW_EINVAL when a plain argument does not exist
 * (a glob matching nothing adds nothing); MW_ENOMEM.
 */
int mw__batch_spool_add(mw_batch_files_t *files, const char *arg, char *errbuf, size_t errlen);

/* Sorts by path and drops duplicates. */
void mw__batch_spool_finish(mw_batch_files_t *files);

void mw__batch_spool_free(mw_batch_files_t *files);

#endif
