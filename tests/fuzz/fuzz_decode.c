/*
 * fuzz_decode.c - libFuzzer target for the decoders and the flow table: the
 * first byte picks a link type, the rest is a frame. Decoding must never read
 * out of bounds (ASan), and whatever decodes is accounted to a flow table so
 * key building and statistics see hostile values too, and hashed as the reader
 * hashes packets to find copies.
 * Built twice: with libFuzzer (-DMW_FUZZ=ON, clang) and with replay_main.c,
 * which ctest runs over the corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode.h"
#include "flow/dup_table.h"
#include "flow/flow_table.h"

static const int link_types[] = { 1, 113, 276, 12, 101, 228, 229, 0, 108, 9, 50, 104 };

static void drop(void *ctx, mw_flow_t *f, enum mw_end_reason reason)
{
    (void)ctx;
    (void)f;
    (void)reason;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mw_flow_table_t *table;
    static uint64_t frame;
    mw_packet_t p;
    int dir, rc;

    if (size < 1)
        return 0;
    if (table == NULL) {
        mw_flow_table_params_t params = {
            .max_flows = 64, .idle_timeout_us = 1000000, .active_timeout_us = 10000000, .emit = drop
        };
        table = mw_flow_table_create(&params, NULL, 0);
    }
    memset(&p, 0, sizeof(p));
    p.frame = ++frame;
    p.ts_us = (int64_t)frame * 1000;
    p.wirelen = (uint32_t)size - 1;
    rc = mw_decode_frame(link_types[data[0] % (sizeof(link_types) / sizeof(link_types[0]))],
            data + 1, (uint32_t)size - 1, &p);
    if (rc == MW_DEC_OK || rc == MW_DEC_IP_FRAGMENT_LATER)
        (void)mw_dup_hash(data + 1, &p.outer);
    if (rc == MW_DEC_OK && table != NULL)
        mw_flow_table_account(table, &p, mw_packet_flow_l3(&p), mw_flow_kind_of(&p), 0, 0, &dir);
    return 0;
}
