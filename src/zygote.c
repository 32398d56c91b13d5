/*
 * zygote.c - the handler zygote's loop and the child it clones per
 * run (src/zygote.h says what a zygote is).
 *
 * Everything here runs under the handler's own seccomp filter, loaded
 * by handler_child.c before zygote_main() is called, so it makes raw
 * system calls only, and only the ones the runner has checked that
 * filter allows (src/handler_zygote.c, zyg_calls): recvmsg and sendmsg
 * on the channel's number (the handoff prefix), clone, close, dup3,
 * setsid, prctl, prlimit64, getppid, close_range, execveat and
 * exit_group.  Nothing is allocated; a request is read into a static
 * buffer, which the clone copies.
 *
 * The runner is trusted (it forked us); a request that breaks the
 * format is a bug there, and the zygote exits rather than guess.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "handler_child.h"
#include "zygote.h"

struct zyg_req {
	uint64_t	 id;
	int		 fd[3];		/* stdin, stdout, stderr */
	char		*argv[2];
	char		*envp[ZYG_ENV_N];
};

static void
zyg_send(int chan, char kind, uint64_t id, pid_t pid, int err,
    const char *text)
{
	char msg[sizeof(struct zyg_hdr) + CHILD_MSG_MAX];
	struct zyg_hdr h;
	struct iovec iov;
	struct msghdr m;
	size_t n = 0;

	memset(&h, 0, sizeof(h));
	h.kind = kind;
	h.id = id;
	h.pid = pid;
	h.err = err;
	while (text != NULL && text[n] != '\0' && n < CHILD_MSG_MAX - 1)
		n++;
	h.len = (uint32_t)n;
	memcpy(msg, &h, sizeof(h));
	if (n > 0)
		memcpy(msg + sizeof(h), text, n);
	/* sendmsg, not send: the one the handoff prefix lets through */
	iov = (struct iovec){ msg, sizeof(h) + n };
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	(void)syscall(SYS_sendmsg, chan, &m, MSG_NOSIGNAL);
}

/* The run's child failed before its execve: say which step and why on
 * the channel (still open: it closes at the execve), exit 127. */
static void __attribute__((noreturn))
zyg_child_fail(int chan, uint64_t id, const char *step)
{
	char text[CHILD_MSG_MAX];
	int e = errno;

	handler_child_why(text, sizeof(text), 0, step, e);
	zyg_send(chan, ZYG_RUNFAIL, id, 0, e, text);
	syscall(SYS_exit_group, 127);
	__builtin_unreachable();
}

static void
zyg_rlimit(int chan, uint64_t id, int res, int64_t v, const char *what)
{
	if (handler_child_rlimit(res, v) == -1)
		zyg_child_fail(chan, id, what);
}

/*
 * The run's child, a child of the runner's (CLONE_PARENT), confined
 * already: what is left is per run, in the order of the cold child
 * (handler_child.c): its descriptors, a session of its own, the
 * subreaper for its descendants, its limits, the parent-death signal,
 * then the handler.  Only the channel (close-on-exec, at a number the
 * handler cannot hold) and the handler (3) stay besides 0, 1 and 2.
 */
static void __attribute__((noreturn))
zyg_child(int chan, const struct policy_handler *p, pid_t runner,
    const struct zyg_req *q)
{
	int i;

	for (i = 0; i < 3; i++)
		if (syscall(SYS_dup3, q->fd[i], i, 0) == -1)
			zyg_child_fail(chan, q->id, "descriptors");
	if ((chan > 4 && syscall(SYS_close_range, 4, chan - 1, 0) == -1) ||
	    syscall(SYS_close_range, chan + 1, ~0U, 0) == -1)
		zyg_child_fail(chan, q->id, "close_range");
	if (syscall(SYS_setsid) == -1)
		zyg_child_fail(chan, q->id, "setsid");
	if (syscall(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		zyg_child_fail(chan, q->id, "PR_SET_CHILD_SUBREAPER");
	zyg_rlimit(chan, q->id, RLIMIT_CPU, p->cpu_s, "RLIMIT_CPU");
	zyg_rlimit(chan, q->id, RLIMIT_NPROC, p->processes, "RLIMIT_NPROC");
	zyg_rlimit(chan, q->id, RLIMIT_NOFILE, p->files, "RLIMIT_NOFILE");
	zyg_rlimit(chan, q->id, RLIMIT_FSIZE, p->fsize, "RLIMIT_FSIZE");
	zyg_rlimit(chan, q->id, RLIMIT_AS, p->memory, "RLIMIT_AS");
	if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		zyg_child_fail(chan, q->id, "PR_SET_PDEATHSIG");
	if (syscall(SYS_getppid) != runner) {
		errno = 0;
		zyg_child_fail(chan, q->id, "runner gone");
	}
	syscall(SYS_execveat, 3, "", q->argv, q->envp, AT_EMPTY_PATH);
	zyg_child_fail(chan, q->id, "execveat");
}

/* argv[0] and the environment from the block: every string NUL-ended,
 * at most ZYG_ENV_N of them. */
static int
zyg_env(char *b, size_t len, struct zyg_req *q)
{
	size_t off = 0, k = 0;

	if (len == 0 || b[len - 1] != '\0')
		return -1;
	while (off < len) {
		if (k == ZYG_ENV_N)
			return -1;
		if (k == 0)
			q->argv[0] = b + off;
		else
			q->envp[k - 1] = b + off;
		k++;
		off += strlen(b + off) + 1;
	}
	q->argv[1] = NULL;
	q->envp[k - 1] = NULL;	/* k <= ZYG_ENV_N: room for the end */
	return k >= 1 ? 0 : -1;
}

static int
zyg_read(int chan, char *buf, struct zyg_req *q)
{
	union {
		struct cmsghdr	h;
		char		b[FDPASS_CMSG_SPACE];
	} c;
	struct iovec iov = { buf, ZYG_MSG_MAX };
	struct zyg_hdr h;
	struct msghdr m;
	ssize_t n;

	for (;;) {
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = c.b;
		m.msg_controllen = sizeof(c.b);
		n = syscall(SYS_recvmsg, chan, &m, MSG_CMSG_CLOEXEC);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;	/* EOF: the runner is done with us */
		break;
	}
	if (fdpass_take(&m, q->fd, 3) == -1 || (size_t)n < sizeof(h) ||
	    (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0)
		return -1;
	memcpy(&h, buf, sizeof(h));
	if (h.kind != ZYG_RUN || h.len != (size_t)n - sizeof(h) ||
	    zyg_env(buf + sizeof(h), h.len, q) == -1)
		return -1;
	q->id = h.id;
	return 1;
}

void
zygote_main(int chan, const struct policy_handler *p, pid_t runner)
{
	static char buf[ZYG_MSG_MAX];
	struct zyg_req q;
	long pid;
	int r, i;

	for (;;) {
		memset(&q, 0, sizeof(q));
		if ((r = zyg_read(chan, buf, &q)) <= 0)
			syscall(SYS_exit_group, r == 0 ? 0 : 1);
		pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
		if (pid == 0)
			zyg_child(chan, p, runner, &q);
		for (i = 0; i < 3; i++)
			syscall(SYS_close, q.fd[i]);
		if (pid == -1)
			zyg_send(chan, ZYG_NOFORK, q.id, 0, errno, NULL);
		else
			zyg_send(chan, ZYG_STARTED, q.id, (pid_t)pid, 0, NULL);
	}
}
