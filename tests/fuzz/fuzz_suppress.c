/*
 * fuzz_suppress.c - libFuzzer target for the suppression file
 * (detect/suppress.c): any bytes must load or give a FILE:LINE error; what
 * loads is matched against a few anomalies. Built with libFuzzer
 * (-DMW_FUZZ=ON) and with replay_main.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "core/mw.h"
#include "detect/suppress.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[MW_ERRBUF_SIZE];
    const char *path = mw_fuzz_file(data, size);
    mw_suppress_t *s;

    if (path == NULL)
        return 0;
    s = mw_suppress_load(path, err, sizeof(err));
    if (s != NULL) {
        unsigned d;
        for (d = 0; d < 13; d++)
            mw_suppress_match(s, d, d & 1 ? "gnb-001" : NULL, 0, 0xc0000201ull);
        mw_suppress_free(s);
    }
    unlink(path);
    return 0;
}
