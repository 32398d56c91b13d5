/*
 * handler_reap.c - nothing a handler started outlives its run.
 *
 * Two child subreapers make the process tree say whose a process is:
 * the runner's process (handler_reap_init), and each handler itself
 * (the child sets PR_SET_CHILD_SUBREAPER before its execve, which
 * keeps it).  While a handler runs, whatever its descendants orphan,
 * double fork and setsid() included, is re-parented to the handler:
 * the run is one subtree.  When the handler exits, its children are
 * re-parented to us.  So a child of ours that we did not fork as a
 * handler comes from a handler that has exited: a stray, to be killed
 * now, whichever run it was (docs/handlers.md, "Reaping").
 *
 * Our own other children (the monitor's router and injectors) are told
 * apart by their session: they share ours, and no handler process can
 * ever join it (setsid() only makes new sessions, setpgid() moves
 * within one, and every handler starts in a session of its own).
 *
 * Our children are read from /proc/self/task/TID/children
 * (CONFIG_PROC_CHILDREN, on in Debian's kernels), or else found by a
 * scan of /proc/PID/stat.  A stray is killed before its own children
 * are read: it runs no more code of its own that could reap one of
 * them and let its pid be reused before we signal it (a reaping wait
 * already in the kernel is not stopped, but a pid comes back only
 * once the pid space has wrapped).
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler_reap.h"

#define REAP_MAX	4096	/* pids per call; the rest next time */

int
handler_reap_init(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/* The pids in a children file, appended to pid[*n]; -1 if it cannot be
 * opened. */
static int
reap_children_file(const char *path, pid_t *pid, size_t *n, size_t max)
{
	char buf[8192], *p, *end;
	size_t len = 0;
	ssize_t r;
	long v;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (len < sizeof(buf) - 1 && (r = read(fd, buf + len,
	    sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	/* a list cut short by the buffer: the last number may be cut too */
	if (len == sizeof(buf) - 1 && (p = strrchr(buf, ' ')) != NULL)
		*p = '\0';
	for (p = buf; *n < max; p = end) {
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0)
			pid[(*n)++] = (pid_t)v;
	}
	return 0;
}

/* ppid and session of a process, from /proc/PID/stat; -1 if gone */
int
handler_proc_stat(pid_t pid, pid_t *ppid, pid_t *sid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;
	long pp, pg, s;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* the name may hold anything, ')' too: the fields follow the last */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld %ld %ld", &pp, &pg, &s) != 3)
		return -1;
	*ppid = (pid_t)pp;
	*sid = (pid_t)s;
	return 0;
}

/* Without CONFIG_PROC_CHILDREN: every process whose parent we are. */
static int
reap_scan(pid_t self, pid_t *pid, size_t *n, size_t max)
{
	struct dirent *d;
	pid_t pp, sid, v;
	DIR *dir;

	if ((dir = opendir("/proc")) == NULL)
		return -1;
	while (*n < max && (d = readdir(dir)) != NULL) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		v = (pid_t)atol(d->d_name);
		if (handler_proc_stat(v, &pp, &sid) == 0 && pp == self)
			pid[(*n)++] = v;
	}
	closedir(dir);
	return 0;
}

/*
 * Our children.  The main thread's list is enough: H itself is the
 * live child of whichever thread forked it (and is left alone anyway),
 * and an orphan goes to the first live thread of its reaper, the main
 * one while it lives (every caller of the runner keeps it).
 */
static int
reap_list(pid_t *pid, size_t max, size_t *n)
{
	char path[64];

	*n = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
	    (int)getpid());
	if (reap_children_file(path, pid, n, max) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	return reap_scan(getpid(), pid, n, max);
}

/* SIGKILL a stray and its descendants, each killed before its children
 * are listed. */
static void
reap_kill_tree(pid_t top)
{
	static pid_t stack[REAP_MAX];
	char path[64];
	size_t n = 1, before;
	pid_t pid;

	stack[0] = top;
	while (n > 0) {
		pid = stack[--n];
		kill(pid, SIGKILL);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
		    (int)pid, (int)pid);
		before = n;
		if (reap_children_file(path, stack, &n, REAP_MAX) == -1)
			n = before;
	}
}

int
handler_sweep(handler_live_fn live, void *arg, int *reaped)
{
	static pid_t kid[REAP_MAX];
	pid_t self = getpid(), sid = getsid(0), pp, psid;
	size_t n, i;
	int found = 0, st;

	if (reap_list(kid, REAP_MAX, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (live(arg, kid[i]) || handler_proc_stat(kid[i], &pp, &psid) == -1 ||
		    pp != self || psid == sid)
			continue;
		reap_kill_tree(kid[i]);
		if (waitpid(kid[i], &st, WNOHANG) == kid[i])
			(*reaped)++;
		found++;
	}
	return found + (n == REAP_MAX);
}

int
handler_pidfd(pid_t pid)
{
	int fd;

	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) >= 0)
		return fd;
	/* cannot watch it: it must not run */
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	return -1;
}
