/*
 * fuzz_file.c - see fuzz_file.h.
 */
#include "fuzz_file.h"

#include <stdio.h>
#include <unistd.h>

const char *mw_fuzz_file(const uint8_t *data, size_t size)
{
    static char path[256];
    FILE *f;

    if (path[0] == '\0') {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof(path), "%s/mw-fuzz-%ld.in", dir, (long)getpid());
    }
    f = fopen(path, "wb");
    if (f == NULL)
        return NULL;
    if (size > 0 && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return NULL;
    }
    if (fclose(f) != 0)
        return NULL;
    return path;
}
