/*
 * pidfile.c - the monitor's pid file (pidfile.h).
 *
 * Written with a temporary file and rename(2), so a reader sees the
 * old content or the new, never a torn one.  A file that names a pid
 * which is not (or no longer) a hive-daemon monitor is stale: the
 * daemon replaces it, and hive-cli reload refuses to signal it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pidfile.h"

#define PIDFILE_MAX	32		/* "PID\n" and room to spare */
#define CMDLINE_MAX	8192

int
pidfile_read(const char *path, pid_t *pid, char *err, size_t errlen)
{
	char buf[PIDFILE_MAX + 1], *end;
	struct stat st;
	ssize_t n;
	long v;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	n = fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ? -1 :
	    read(fd, buf, PIDFILE_MAX);
	close(fd);
	if (n <= 0 || n == PIDFILE_MAX) {
		snprintf(err, errlen, "%s: not a pid file", path);
		errno = EINVAL;
		return -1;
	}
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
	    v <= 1 || v > 0x3fffffff) {
		snprintf(err, errlen, "%s: not a pid file", path);
		errno = EINVAL;
		return -1;
	}
	*pid = (pid_t)v;
	return 0;
}

/* argv[0]'s last path component is "hive-daemon" */
static int
pidfile_named(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	return strcmp(base != NULL ? base + 1 : argv0, "hive-daemon") == 0;
}

/*
 * The arguments after argv[0] as hive-daemon's getopt reads them
 * (src/daemon.c: "A:c:dfI:nP:" and long options): 1 if -P (the role of
 * a re-executed child) is among them.
 */
static int
pidfile_has_role(const char *p, const char *end)
{
	const char *q;
	int value = 0;

	for (; p < end; p += strlen(p) + 1) {
		if (value) {		/* the previous option's value */
			value = 0;
			continue;
		}
		if (strcmp(p, "--") == 0)
			return 0;
		if (p[0] != '-' || p[1] == '-' || p[1] == '\0')
			continue;
		for (q = p + 1; *q != '\0'; q++) {
			if (*q == 'P')
				return 1;
			if (strchr("AcI", *q) != NULL) {
				value = q[1] == '\0';
				break;
			}
		}
	}
	return 0;
}

int
pidfile_is_monitor(pid_t pid)
{
	static char buf[CMDLINE_MAX + 1];
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, CMDLINE_MAX);
	close(fd);
	if (n <= 0)
		return 0;		/* gone, or a zombie */
	buf[n] = '\0';			/* the last argument's NUL */
	if (!pidfile_named(buf))
		return 0;
	return !pidfile_has_role(buf + strlen(buf) + 1, buf + n);
}

int
pidfile_write(const char *path, pid_t pid, char *err, size_t errlen)
{
	char tmp[4096], line[PIDFILE_MAX];
	int fd, len, e, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	len = snprintf(line, sizeof(line), "%ld\n", (long)pid);
	errno = 0;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	rc = fchmod(fd, 0644) == -1 || write(fd, line, (size_t)len) != len ?
	    -1 : 0;
	e = errno != 0 ? errno : EIO;	/* a short write sets none */
	if (close(fd) == -1 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && rename(tmp, path) == -1) {
		rc = -1;
		e = errno;
	}
	if (rc == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		(void)unlink(tmp);
	}
	return rc;
}

void
pidfile_remove(const char *path, pid_t pid)
{
	char err[256];
	pid_t cur;

	if (pidfile_read(path, &cur, err, sizeof(err)) == 0 && cur == pid)
		(void)unlink(path);
}
