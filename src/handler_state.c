/*
 * handler_state.c - each handler's own directory, for what it must
 * remember between runs (what a sentinel already reported, say).
 *
 * {handler_state_dir}/{action}: made by the runner (root, before the
 * fork) for every run, owned by the block's user and group, mode 0700,
 * so that only that user can read or write it; handed to the handler
 * as HIVE_STATE_DIR.  The parent is made 0755 if missing and must be
 * owned by us and not group or world writable, so nobody else can
 * swap the directory for a link.  Everything is done on descriptors
 * opened with O_NOFOLLOW.  docs/handler-contract.md, "State".
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "handler.h"

static int
state_fail(char *why, size_t whylen, const char *dir, const char *what,
    int e)
{
	snprintf(why, whylen, "state directory %s: %s%s%s", dir, what,
	    e != 0 ? ": " : "", e != 0 ? strerror(e) : "");
	return -1;
}

/* The parent: ours, not writable by others. */
static int
state_parent(const char *dir, char *why, size_t whylen)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return state_fail(why, whylen, dir, "mkdir", errno);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return state_fail(why, whylen, dir, "open", errno);
	if (fstat(fd, &st) == -1) {
		close(fd);
		return state_fail(why, whylen, dir, "fstat", errno);
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		close(fd);
		return state_fail(why, whylen, dir, "not owned by the daemon's "
		    "user, or group or world writable", 0);
	}
	return fd;
}

int
handler_state_prepare(const char *dir, const struct policy_handler *p,
    char *path, size_t pathlen, char *why, size_t whylen)
{
	struct stat st;
	int pfd, fd, e;

	if ((size_t)snprintf(path, pathlen, "%s/%s", dir, p->action) >=
	    pathlen)
		return state_fail(why, whylen, dir, "path too long", 0);
	if ((pfd = state_parent(dir, why, whylen)) == -1)
		return -1;
	if (mkdirat(pfd, p->action, 0700) == -1 && errno != EEXIST) {
		e = errno;
		close(pfd);
		return state_fail(why, whylen, path, "mkdir", e);
	}
	fd = openat(pfd, p->action, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	e = errno;
	close(pfd);
	if (fd == -1)
		return state_fail(why, whylen, path, "open", e);
	/* a block whose user changed takes the directory over (what the
	 * old user left in it stays, now the new user's to delete) */
	if (fstat(fd, &st) == -1 || ((st.st_uid != p->uid ||
	    st.st_gid != p->gid) && fchown(fd, p->uid, p->gid) == -1) ||
	    ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) == -1)) {
		e = errno;
		close(fd);
		return state_fail(why, whylen, path, "owner or mode", e);
	}
	close(fd);
	return 0;
}
