/*
 * fuzz_results.c - libFuzzer target for the results reader that `train`
 * uses on results files (mw_h5_flows_read in output/h5_model.c): any bytes
 * must give the flow records or a one-line error. Seeds are small results
 * files. Built with libFuzzer (-DMW_FUZZ=ON) and with replay_main.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core/mw.h"
#include "fuzz_file.h"
#include "output/h5_model.h"

/*
 * The libFuzzer build fuzzes the reader in this process (the forked probe
 * would cost a fork per input); the ctest replay goes through the public
 * entry point, probe included, as a user's run does.
 */
#ifdef MW_FUZZ_UNPROBED
#define LOAD_UNDER_TEST mw__h5_flows_read_unprobed
#else
#define LOAD_UNDER_TEST mw_h5_flows_read
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[MW_ERRBUF_SIZE];
    const char *path = mw_fuzz_file(data, size);
    mw_h5_flows_t f;

    if (path == NULL)
        return 0;
    if (LOAD_UNDER_TEST(path, &f, err, sizeof(err)) == 0) {
        size_t i, len = 0;
        for (i = 0; i < f.nproto; i++)
            len += strlen(f.proto_names[i]);
        if (f.inventory_yaml != NULL)
            len += strlen(f.inventory_yaml);
        (void)len;
        mw_h5_flows_free(&f);
    }
    unlink(path);
    return 0;
}
