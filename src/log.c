/*
 * log.c - stderr logging with a role prefix.
 *
 * Lines look like "hive-cli[router]: warn: reason=replay from=... id=...".
 * Callers put stable key=value fields in the message; this file adds
 * only the role and the level.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *log_rolename = "hive";
static int log_verbosity = LOG_LVL_INFO;
static int log_fatal_status = 1;

void
log_init(const char *role, int verbosity)
{
	log_rolename = role;
	log_verbosity = verbosity;
}

void
log_set_fatal_status(int status)
{
	log_fatal_status = status;
}

void
log_set_role(const char *role)
{
	log_rolename = role;
}

const char *
log_role(void)
{
	return log_rolename;
}

static void
log_vemit(const char *level, const char *fmt, va_list ap, int with_errno)
{
	int saved = errno;
	char msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno)
		fprintf(stderr, "%s: %s: %s: %s\n", log_rolename, level, msg,
		    strerror(saved));
	else
		fprintf(stderr, "%s: %s: %s\n", log_rolename, level, msg);
	fflush(stderr);
	errno = saved;
}

#define LOG_BODY(lvl, name, err)				\
	do {							\
		va_list ap;					\
		if (log_verbosity < (lvl))			\
			return;					\
		va_start(ap, fmt);				\
		log_vemit(name, fmt, ap, err);			\
		va_end(ap);					\
	} while (0)

void log_warn(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, "warn", 1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, "warn", 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LVL_INFO, "info", 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LVL_DEBUG, "debug", 0); }

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("fatal", fmt, ap, 1);
	va_end(ap);
	exit(log_fatal_status);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("fatal", fmt, ap, 0);
	va_end(ap);
	exit(log_fatal_status);
}
