/*
 * fuzz_file.h - the loaders under fuzz take a path (they stat, open and
 * mmap files like any user file), so each input is written to one file per
 * process, on tmpfs when there is one (/dev/shm), and loaded from there.
 */
#ifndef MW_FUZZ_FILE_H
#define MW_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

/* The path now holding data (NULL when it cannot be written). */
const char *mw_fuzz_file(const uint8_t *data, size_t size);

#endif
