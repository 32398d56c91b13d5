/*
 * log.c - stderr logging with a role prefix.
 *
 * Lines look like "router: warn: reason=replay from=... id=...", or,
 * with timestamps on, "2026-12-08T02:30:00.123Z router: warn: ...".
 * Callers put stable key=value fields in the message; this file adds
 * only the time, the role and the level.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static const char *log_rolename = "hive";
static int log_verbosity = LOG_LVL_INFO;
static int log_fatal_status = 1;
static int log_timestamps;

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

void
log_set_timestamps(int on)
{
	log_timestamps = on;
}

/*
 * systemd sets JOURNAL_STREAM=DEV:INODE for a service whose stderr is
 * the journal, which stamps every line itself.  The variable is
 * inherited by whatever the service starts, so it only counts when fd
 * 2 is still that very stream (sd_journal_stream_fd(3), systemd.exec(5)).
 */
int
log_stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	char tail;

	if (v == NULL || sscanf(v, "%ju:%ju%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(2, &st) == -1)
		return 0;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

/* "2026-12-08T02:30:00.123Z ": RFC 3339, UTC, milliseconds */
static void
log_stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char sec[24];

	buf[0] = '\0';
	if (!log_timestamps || clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return;
	snprintf(buf, len, "%s.%03dZ ", sec, (int)(ts.tv_nsec / 1000000) % 1000);
}

static void
log_vemit(const char *level, const char *fmt, va_list ap, int with_errno)
{
	int saved = errno;
	char msg[2048], stamp[40];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_stamp(stamp, sizeof(stamp));
	if (with_errno)
		fprintf(stderr, "%s%s: %s: %s: %s\n", stamp, log_rolename,
		    level, msg, strerror(saved));
	else
		fprintf(stderr, "%s%s: %s: %s\n", stamp, log_rolename, level,
		    msg);
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
