/*
 * fuzz_model.c - libFuzzer target for the model loader (output/h5_model.c):
 * any bytes given as --model must give a model or a one-line error, never
 * a crash, a hang or memory out of proportion to the file. Seeds are small
 * models; libFuzzer mutates their HDF5 structures. With -DMW_FUZZ=ON it is
 * a libFuzzer binary, otherwise replay_main.c replays the corpus in ctest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "baseline/model.h"
#include "core/mw.h"
#include "fuzz_file.h"
#include "output/h5_model.h"

/*
 * The libFuzzer build fuzzes the reader in this process (the forked probe
 * would cost a fork per input); the ctest replay goes through the public
 * entry point, probe included, as a user's run does.
 */
#ifdef MW_FUZZ_UNPROBED
#define LOAD_UNDER_TEST mw__h5_model_load_unprobed
#else
#define LOAD_UNDER_TEST mw_h5_model_load
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[MW_ERRBUF_SIZE];
    const char *path = mw_fuzz_file(data, size);
    mw_model_t *m;

    if (path == NULL)
        return 0;
    m = LOAD_UNDER_TEST(path, err, sizeof(err));
    if (m != NULL) {
        size_t i;
        uint32_t idx;
        for (i = 0; i < mw_model_station_count(m); i++)
            mw_model_find_station(m, mw_model_station_at(m, i)->id, &idx);
        mw_model_destroy(m);
    }
    unlink(path);
    return 0;
}
