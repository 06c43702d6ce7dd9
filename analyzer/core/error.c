/*
 * error.c - human-readable error messages into caller-supplied buffers.
 * Modules never print errors themselves: the caller decides whether a
 * failure is fatal and how to report it, so messages travel as strings.
 */
#include "core/mw.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mw_fmt_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errbuf == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

void mw_fmt_errno(char *errbuf, size_t errlen, int errnum, const char *fmt, ...)
{
    va_list ap;
    size_t used;

    if (errbuf == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
    used = strlen(errbuf);
    if (used < errlen)
        snprintf(errbuf + used, errlen - used, ": %s", strerror(errnum));
}
