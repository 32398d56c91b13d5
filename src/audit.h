/*
 * audit.h - the audit log writer, used by the monitor.
 *
 * The router builds each audit line (one JSON object, printable ASCII,
 * non-ASCII escaped as \uXXXX) and sends it over IPC; the monitor
 * never parses bus-derived input, so it only checks the line's shape
 * with audit_line_ok() and appends it with audit_write().
 *
 * Rotation is by size: with max_size > 0 and keep > 0, a line that
 * would take the file past max_size first moves path to path.1
 * (path.1 to path.2 ... up to path.KEEP; the oldest is dropped).  With
 * keep == 0 hive never renames, truncates or deletes audit data: at
 * each max_size bytes written it only closes and reopens path, which
 * picks up a new file if an outside tool (logrotate) moved the old
 * one away, and otherwise keeps appending.  max_size == 0 disables
 * both.  A single line longer than max_size still goes, whole, into a
 * file of its own: lines are never split or dropped.
 */
#ifndef HIVE_AUDIT_H
#define HIVE_AUDIT_H

#include <sys/types.h>

#include <stddef.h>

#include "buf.h"

#define AUDIT_LINE_MAX	8192	/* bytes, without the newline */
#define AUDIT_KEEP_MAX	99	/* path.1 .. path.99 */

struct audit;

/*
 * Open or create the audit log at path (mode 0600, O_NOFOLLOW).  An
 * existing file is refused, with a message in err that says why, if
 * it is not a regular file, not owned by the effective uid, or
 * accessible by group or others: like OpenSSH with a key file, we do
 * not chmod it behind the operator's back.  A file whose last line
 * was torn (crash, disk full) gets a newline first, so the next line
 * starts on a line of its own.  NULL on error.
 */
struct audit *audit_open(const char *path, off_t max_size, int keep,
    char *err, size_t errlen);

/*
 * 0 if line[0..len) is acceptable: 2..AUDIT_LINE_MAX bytes, starts
 * with '{', ends with '}', only bytes 0x20..0x7e (no newline, no
 * control character, nothing >= 0x80).  Else -1 and, if why is not
 * NULL, a static string naming the rule broken.  The line need not be
 * NUL-terminated.
 */
int audit_line_ok(const char *line, size_t len, const char **why);

/*
 * The writer's side (the router, audit_line.c): s[0..n) appended to b
 * as a JSON string of printable ASCII that audit_line_ok() takes: '"'
 * and '\\' escaped, \b \f \n \r \t, other control characters, DEL
 * and every code point beyond ASCII as \uXXXX (a UTF-16 surrogate pair
 * above U+FFFF), each byte that does not start a valid UTF-8 sequence
 * as \uFFFD.  For valid UTF-8 without DEL, the bytes jansson's
 * json_dumps() writes with JSON_ENSURE_ASCII.
 */
void audit_put_str(struct buf *b, const char *s, size_t n);

/*
 * Append line and a newline, rotating first if needed.  0 on success.
 * -1 with errno EINVAL if audit_line_ok() refuses the line (nothing is
 * written), or -1 with the errno of the failed write, fsync, rename or
 * open (ENOSPC when the disk is full).  The monitor treats -1 as
 * fatal: an audit log that cannot be written stops the daemon (fail
 * closed) rather than letting events go unrecorded.
 */
int audit_write(struct audit *, const char *line, size_t len);

/*
 * audit_write() of n NUL-terminated lines, in order, with one write(2)
 * when no rotation is due among them.  Nothing is written if any line
 * is refused (EINVAL).
 */
int audit_write_lines(struct audit *, const char *const *lines, size_t n);

/* fsync the log; the monitor calls it on its periodic tick. 0 or -1. */
int audit_sync(struct audit *);

/* fsync and close; NULL is accepted. */
void audit_close(struct audit *);

#endif
