/*
 * log.h - messages to stderr, one line each, prefixed "mastwatch: ".
 * Errors and warnings always print (warnings are what a run did not cover,
 * which --quiet must never hide); notes are silenced by --quiet.
 */
#ifndef MW_LOG_H
#define MW_LOG_H

void mw_log_set_quiet(int quiet);
void mw_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mw_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mw_log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
