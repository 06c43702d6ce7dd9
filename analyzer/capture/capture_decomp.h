/*
 * capture_decomp.h - opens a capture file as a stdio stream, decompressing
 * gzip and zstd files on the fly (capture_decomp.c). Internal to capture/.
 */
#ifndef MW_CAPTURE_DECOMP_H
#define MW_CAPTURE_DECOMP_H

#include <stddef.h>
#include <stdio.h>

enum mw__capture_codec {
    MW_CODEC_NONE = 0,
    MW_CODEC_GZIP,
    MW_CODEC_ZSTD,
};

/*
 * Opens path for reading. The codec is chosen by the file's first bytes
 * (gzip 1f 8b, zstd 28 b5 2f fd), not by its name; *codec (OUT, may be NULL)
 * says which. The caller fcloses the stream. NULL with a message on failure.
 * A compressed stream cannot seek (ftell fails) and a damaged or truncated one
 * reads as an I/O error (EIO).
 */
FILE *mw__capture_fopen(
        const char *path, enum mw__capture_codec *codec /* OUT */, char *errbuf, size_t errlen);

#endif
