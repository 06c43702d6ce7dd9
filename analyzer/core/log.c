/*
 * log.c - stderr messages. A progress line may be on screen: messages
 * start with a carriage return + clear-line when stderr is a terminal so
 * they do not mix with it.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int quiet;

void mw_log_set_quiet(int q)
{
    quiet = q;
}

static void vlog(const char *fmt, va_list ap)
{
    if (isatty(STDERR_FILENO))
        fputs("\r\033[K", stderr);
    fputs("mastwatch: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void mw_log_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void mw_log_warn(const char *fmt, ...)
{
    va_list ap;

    if (isatty(STDERR_FILENO))
        fputs("\r\033[K", stderr);
    fputs("mastwatch: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void mw_log_note(const char *fmt, ...)
{
    va_list ap;

    if (quiet)
        return;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}
