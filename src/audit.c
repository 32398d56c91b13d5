/*
 * audit.c - the audit log writer (monitor side).
 *
 * The router, which parses bus input, builds every audit line; the
 * monitor only checks that the line looks like one printable-ASCII
 * JSON object on one line (audit_line_ok) and appends it.  It never
 * parses the line: a bug in a JSON parser fed by the bus must not be
 * reachable in the privileged process.
 *
 * Each line goes out with one write(2) on an O_APPEND descriptor, so
 * lines are never interleaved.  A short write (disk full, file size
 * limit) is continued so that the caller sees the real errno; the torn
 * tail it may leave is closed with a newline at the next open.  The
 * descriptor is O_RDWR rather than O_WRONLY only so audit_open() can
 * read that last byte.
 *
 * Rotation renames path.(k-1) to path.k down to path to path.1 and
 * creates a new path; see audit.h for keep == 0 and max_size == 0.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"

struct audit {
	char	*path;
	int	 fd;		/* -1 after a failed reopen */
	off_t	 used;		/* bytes counted against max_size */
	off_t	 max_size;	/* 0: no limit */
	int	 keep;		/* rotated files kept; 0: never rename */
};

int
audit_line_ok(const char *line, size_t len, const char **why)
{
	const char *bad = NULL;
	size_t i;

	if (len < 2)
		bad = "shorter than 2 bytes";
	else if (len > AUDIT_LINE_MAX)
		bad = "longer than 8192 bytes";
	else if (line[0] != '{' || line[len - 1] != '}')
		bad = "not enclosed in { }";
	for (i = 0; bad == NULL && i < len; i++)
		if ((unsigned char)line[i] < 0x20 ||
		    (unsigned char)line[i] > 0x7e)
			bad = "control character or byte outside ASCII";
	if (why != NULL)
		*why = bad;
	return bad == NULL ? 0 : -1;
}

/* The checks on an opened log: what OpenSSH asks of a key file. */
static int
audit_check_fd(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: audit log is not a regular file",
		    path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: audit log is owned by uid %u, not "
		    "%u; refusing", path, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "%s: audit log is accessible by group "
		    "or others (mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Close a line torn by a crash or a full disk; *size is updated. */
static int
audit_untear(int fd, const char *path, off_t *size, char *err,
    size_t errlen)
{
	char c;

	if (*size == 0)
		return 0;
	if (pread(fd, &c, 1, *size - 1) != 1) {
		snprintf(err, errlen, "%s: cannot read last byte: %s", path,
		    strerror(errno));
		return -1;
	}
	if (c == '\n')
		return 0;
	if (write(fd, "\n", 1) != 1) {
		snprintf(err, errlen, "%s: cannot close torn line: %s", path,
		    strerror(errno));
		return -1;
	}
	log_warnx("audit log %s ended in a torn line; closed it", path);
	(*size)++;
	return 0;
}

/*
 * Open path and check it; the fd or -1 with err set (errno is EPERM
 * for a file that fails the checks).  O_NONBLOCK keeps a FIFO planted
 * at path from blocking the open; regular files ignore it.
 */
static int
audit_open_fd(const char *path, off_t *size, char *err, size_t errlen)
{
	struct stat st;
	int fd, saved;

	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == ELOOP ? " (a symbolic link is refused)" : "");
		errno = saved;
		return -1;
	}
	if (audit_check_fd(fd, path, err, errlen) == -1 ||
	    fstat(fd, &st) == -1) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	*size = st.st_size;
	if (audit_untear(fd, path, size, err, errlen) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

struct audit *
audit_open(const char *path, off_t max_size, int keep, char *err,
    size_t errlen)
{
	struct audit *a;

	if (strlen(path) + sizeof(".99") > PATH_MAX || max_size < 0 ||
	    keep < 0 || keep > AUDIT_KEEP_MAX) {
		snprintf(err, errlen, "%s: audit path too long, or size or "
		    "keep out of range (keep 0..%d)", path, AUDIT_KEEP_MAX);
		errno = EINVAL;
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->path = strdup(path)) == NULL)
		fatal("audit_open");
	a->max_size = max_size;
	a->keep = keep;
	if ((a->fd = audit_open_fd(path, &a->used, err, errlen)) == -1) {
		free(a->path);
		free(a);
		return NULL;
	}
	return a;
}

/* "path.n" into buf (PATH_MAX bytes; audit_open checked the length). */
static void
audit_name(const struct audit *a, int n, char *buf)
{
	if (n == 0)
		snprintf(buf, PATH_MAX, "%s", a->path);
	else
		snprintf(buf, PATH_MAX, "%s.%d", a->path, n);
}

/* path.(keep-1) -> path.keep, ..., path -> path.1; the oldest goes. */
static int
audit_shift(const struct audit *a)
{
	char from[PATH_MAX], to[PATH_MAX];
	int n;

	for (n = a->keep - 1; n >= 0; n--) {
		audit_name(a, n, from);
		audit_name(a, n + 1, to);
		if (rename(from, to) == -1 && errno != ENOENT)
			return -1;
	}
	return 0;
}

static int
audit_reopen(struct audit *a)
{
	char err[PATH_MAX + 128];
	int saved;

	if ((a->fd = audit_open_fd(a->path, &a->used, err,
	    sizeof(err))) == -1) {
		saved = errno;
		log_warnx("%s", err);
		errno = saved;
		return -1;
	}
	if (a->keep == 0)
		a->used = 0;	/* look again after another max_size bytes */
	return 0;
}

static int
audit_rotate(struct audit *a)
{
	if (fsync(a->fd) == -1)
		return -1;
	close(a->fd);
	a->fd = -1;
	if (a->keep > 0 && audit_shift(a) == -1)
		return -1;
	return audit_reopen(a);
}

/* One write(2) in the normal case; continue a short one. */
static int
audit_append(struct audit *a, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(a->fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)n;
		a->used += n;
	}
	return 0;
}

int
audit_write(struct audit *a, const char *line, size_t len)
{
	char buf[AUDIT_LINE_MAX + 1];

	if (audit_line_ok(line, len, NULL) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (a->fd == -1 && audit_reopen(a) == -1)
		return -1;
	if (a->max_size > 0 && a->used > 0 &&
	    a->used + (off_t)len + 1 > a->max_size &&
	    audit_rotate(a) == -1)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\n';
	return audit_append(a, buf, len + 1);
}

/*
 * A batch: one write(2) for all the lines when no rotation falls among
 * them, else line by line so that rotation happens between the lines
 * where it is due.  Either way each line goes whole, in order.
 */
int
audit_write_lines(struct audit *a, const char *const *lines, size_t n)
{
	char *buf, *p;
	size_t i, total = 0;
	int rv;

	for (i = 0; i < n; i++) {
		if (audit_line_ok(lines[i], strlen(lines[i]), NULL) == -1) {
			errno = EINVAL;
			return -1;
		}
		total += strlen(lines[i]) + 1;
	}
	if (a->fd == -1 && audit_reopen(a) == -1)
		return -1;
	if (n == 1 || (a->max_size > 0 && a->used > 0 &&
	    a->used + (off_t)total > a->max_size)) {
		for (i = 0; i < n; i++)
			if (audit_write(a, lines[i], strlen(lines[i])) == -1)
				return -1;
		return 0;
	}
	if ((p = buf = malloc(total)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		memcpy(p, lines[i], strlen(lines[i]));
		p += strlen(lines[i]);
		*p++ = '\n';
	}
	rv = audit_append(a, buf, total);
	free(buf);
	return rv;
}

int
audit_sync(struct audit *a)
{
	if (a->fd == -1) {
		errno = EBADF;
		return -1;
	}
	return fsync(a->fd);
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1) {
		if (fsync(a->fd) == -1)
			log_warn("audit log %s: fsync", a->path);
		close(a->fd);
	}
	free(a->path);
	free(a);
}
