/*
 * community_id.c - Community ID v1 with Debian's nettle for SHA-1 and
 * base64 (no hand-rolled hash).
 */
#include "flow/community_id.h"

#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "flow/flow_record.h"

static size_t put_addr(uint8_t *out, uint64_t hi, uint64_t lo, int v4)
{
    int i;

    if (v4) {
        for (i = 0; i < 4; i++)
            out[i] = (uint8_t)(lo >> (24 - 8 * i));
        return 4;
    }
    mw_addr_join(hi, lo, out);
    return 16;
}

void mw_community_id(char *out, size_t len, uint64_t src_hi, uint64_t src_lo, uint64_t dst_hi,
        uint64_t dst_lo, uint8_t proto, uint16_t src_port, uint16_t dst_port)
{
    int v4 = mw_addr_is_v4_u64(src_hi, src_lo);
    uint8_t buf[2 + 16 + 16 + 4 + 4], digest[SHA1_DIGEST_SIZE];
    char b64[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1];
    struct sha1_ctx ctx;
    size_t n = 0;
    int swap;

    /* canonical order: the smaller (address, port) first */
    swap = src_hi > dst_hi || (src_hi == dst_hi && src_lo > dst_lo) ||
           (src_hi == dst_hi && src_lo == dst_lo && src_port > dst_port);
    if (proto != 6 && proto != 17 && proto != 132)
        src_port = dst_port = 0;
    buf[n++] = 0; /* seed 0, big-endian */
    buf[n++] = 0;
    n += put_addr(buf + n, swap ? dst_hi : src_hi, swap ? dst_lo : src_lo, v4);
    n += put_addr(buf + n, swap ? src_hi : dst_hi, swap ? src_lo : dst_lo, v4);
    buf[n++] = proto;
    buf[n++] = 0;
    buf[n++] = (uint8_t)((swap ? dst_port : src_port) >> 8);
    buf[n++] = (uint8_t)(swap ? dst_port : src_port);
    buf[n++] = (uint8_t)((swap ? src_port : dst_port) >> 8);
    buf[n++] = (uint8_t)(swap ? src_port : dst_port);
    sha1_init(&ctx);
    sha1_update(&ctx, n, buf);
    sha1_digest(&ctx, sizeof(digest), digest);
    base64_encode_raw(b64, sizeof(digest), digest);
    b64[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE)] = '\0';
    snprintf(out, len, "1:%s", b64);
}
