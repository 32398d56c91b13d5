/*
 * log.h - one line per event, every line names its process role.
 *
 * fatal()/fatalx() are for impossible states and protocol violations
 * across a privilege boundary; they never return.  Hostile network
 * input is never a reason to call them.
 */
#ifndef HIVE_LOG_H
#define HIVE_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_WARN = 0, LOG_LVL_INFO = 1, LOG_LVL_DEBUG = 2 };

void log_init(const char *role, int verbosity);
void log_set_role(const char *role);
/* exit status of fatal()/fatalx(); 1 by default */
void log_set_fatal_status(int status);
const char *log_role(void);
/* prefix each line with an RFC 3339 UTC time (off by default) */
void log_set_timestamps(int on);
/* 1 if stderr is the journal (JOURNAL_STREAM names fd 2), which stamps
 * lines itself */
int log_stderr_is_journal(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
