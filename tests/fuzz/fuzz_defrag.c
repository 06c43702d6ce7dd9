/*
 * fuzz_defrag.c - libFuzzer target for IP reassembly: the input is a run of
 * IP packets (each a control byte, a 16-bit length, the bytes), offered to a
 * small reassembly table as fragments of hostile lengths, offsets, overlaps
 * and orders. Every datagram handed back and every frame released is read
 * whole (ASan: no byte past what was put together or copied), the control
 * byte settles datagrams whole or in pieces and moves packet time so that
 * timeouts and the memory cap give datagrams up.
 * Built twice: with libFuzzer (-DMW_FUZZ=ON, clang) and with replay_main.c,
 * which ctest runs over the corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "flow/defrag.h"

static volatile uint32_t sink; /* the bytes read, so that reading them is not optimised out */

static void touch(const uint8_t *b, uint32_t n)
{
    uint32_t i, sum = 0;

    for (i = 0; i < n; i++)
        sum += b[i];
    sink += sum;
}

static void on_release(void *ctx, const mw_defrag_frame_t *f)
{
    (void)ctx;
    touch(f->data, f->caplen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* room for a few datagrams only: the cap is reached often */
    mw_defrag_params_t params = { .max_bytes = 16384, .timeout_us = 1000, .max_fragments = 32 };
    mw_defrag_t *t = mw_defrag_create(&params, on_release, NULL, NULL, 0);
    int64_t now = 0;
    uint64_t frame = 0;
    size_t pos = 0;

    if (t == NULL)
        return 0;
    while (pos + 3 <= size) {
        uint8_t ctrl = data[pos];
        uint32_t len = (uint32_t)data[pos + 1] << 8 | data[pos + 2];
        mw_defrag_frame_t fr;
        mw_defrag_datagram_t dg;
        pos += 3;
        if (len > size - pos)
            len = (uint32_t)(size - pos);
        now += (ctrl & 0x0f) * 100;
        if (ctrl & 0x80)
            now -= 5000; /* packet time going back */
        frame++;
        fr = (mw_defrag_frame_t){
            .data = data + pos, .caplen = len, .wirelen = len, .ts_us = now, .frame = frame
        };
        /* the IP header after a link header of 0-3 bytes, as a frame would have one */
        if (mw_defrag_add(t, &fr, (ctrl >> 4) & 3, len, &dg) == MW_DEFRAG_COMPLETE) {
            touch(dg.frame, dg.len);
            mw_defrag_settle(t, (ctrl & 0x40) == 0);
        }
        if (ctrl & 0x20)
            mw_defrag_expire(t, now);
        pos += len;
    }
    mw_defrag_flush(t);
    mw_defrag_destroy(t);
    return 0;
}
