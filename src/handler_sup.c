/*
 * handler_sup.c - one handler run: the supervisor and the confined
 * child.
 *
 * The runner forks a supervisor per run.  The supervisor keeps the
 * runner's uid (root in production) so the handler, which runs as its
 * policy user, can neither signal nor trace it; it keeps only CAP_KILL
 * once the handler is forked.  It is a child subreaper, so whatever the
 * handler forks (double fork, setsid) is re-parented to it when its
 * parent dies: when the handler exits, or at the timeout (SIGTERM to
 * its process group, SIGKILL after the grace period), or when the
 * runner asks (stdout over its cap, shutdown, or the runner's death:
 * EOF on the control pipe), every remaining descendant is killed and
 * reaped before the supervisor reports the handler's wait status on
 * the status pipe and exits.
 *
 * The child confines itself in the order of docs/handlers.md and
 * execs the descriptor that discovery opened and checked; every step
 * is checked, and a failure is written to an error pipe (close-on-exec,
 * so EOF there means the execve succeeded) and ends the child.
 *
 * The child is started with clone(CLONE_VM | CLONE_VFORK), as
 * posix_spawn does: it runs in the supervisor's memory, on its own
 * stack, while the supervisor waits for its execve (or its death).  No
 * page tables are copied and nothing is copied on write, but the child
 * must not allocate or take a lock: it makes system calls only (no
 * stdio, no libcap-ng), and everything it needs is prepared before.
 */
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "handler_sup.h"

/* the supervisor's descriptors, after sup_fds() */
enum { FD_EXEC = 3, FD_IN, FD_OUT, FD_ERR, FD_STATUS, FD_CTL, FD_FIRST_FREE };
/* the child's error pipe (close-on-exec) */
#define FD_CHILD_ERR	4

static int64_t
sup_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the child ---- */

/*
 * Everything the child runs is in this section and is called only from
 * child_main(): it runs on child_stack, a stack AddressSanitizer does
 * not know, so it is not instrumented (a noreturn call would make ASan
 * print a warning into the handler's stderr).
 */
#define CHILD		__attribute__((no_sanitize_address))
#define CHILD_STACK	(64 * 1024)

static char child_stack[CHILD_STACK] __attribute__((aligned(64)));

struct child_arg {
	const struct sup_spawn	*s;
	pid_t			 sup;
	int			 errfd;
};

#define CAPBIT(c)	(1ULL << (c))

/* The capability sets straight from capget(2), and set with capset(2):
 * libcap-ng reads /proc/self/status, allocates, and is slow. */
CHILD static int
cap_sets(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) == -1)
		return -1;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

CHILD static int
cap_set(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32),
		    (uint32_t)(inh >> 32) },
	};

	return syscall(SYS_capset, &h, d) == -1 ? -1 : 0;
}

CHILD static size_t
child_cat(char *buf, size_t off, size_t size, const char *s)
{
	while (*s != '\0' && off + 1 < size)
		buf[off++] = *s++;
	buf[off] = '\0';
	return off;
}

/* "STEP: error" on the error pipe, then exit: no stdio, no strerror
 * (which may translate, so allocate and lock). */
CHILD static void __attribute__((noreturn))
child_fail(const char *step)
{
	const char *why;
	char msg[160];
	size_t n;
	ssize_t w;
	int e = errno;

	why = e != 0 ? strerrordesc_np(e) : "failed";
	n = child_cat(msg, 0, sizeof(msg), step);
	n = child_cat(msg, n, sizeof(msg), ": ");
	n = child_cat(msg, n, sizeof(msg), why != NULL ? why : "unknown error");
	w = write(FD_CHILD_ERR, msg, n);
	(void)w;
	_exit(127);
}

/* 0, 1, 2 from the pipes, 3 the handler (kept across exec for a "#!"
 * script: the interpreter opens /dev/fd/3), 4 the error pipe, nothing
 * else. */
CHILD static void
child_fds(int script, int errfd)
{
	if (dup3(errfd, FD_CHILD_ERR + 100, O_CLOEXEC) == -1 ||
	    dup2(FD_IN, 0) == -1 || dup2(FD_OUT, 1) == -1 ||
	    dup2(FD_ERR, 2) == -1 ||
	    dup3(FD_CHILD_ERR + 100, FD_CHILD_ERR, O_CLOEXEC) == -1)
		_exit(127);
	if (fcntl(FD_EXEC, F_SETFD, script ? 0 : FD_CLOEXEC) == -1)
		child_fail("fcntl");
	if (syscall(SYS_close_range, FD_CHILD_ERR + 1, ~0U, 0) == -1)
		child_fail("close_range");
}

/* The supervisor reset every disposition before forking us: only the
 * mask (SIGCHLD blocked for its signalfd) is left to clear. */
CHILD static void
child_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		child_fail("sigprocmask");
}

CHILD static void
child_rlimit(int res, int64_t v, const char *what)
{
	struct rlimit rl;

	if (v <= 0)
		return;		/* not set: inherited */
	rl.rlim_cur = rl.rlim_max = (rlim_t)v;
	if (res == RLIMIT_CPU)	/* SIGXCPU at the limit, SIGKILL 1 s on */
		rl.rlim_max = (rlim_t)v + 1;
	if (setrlimit(res, &rl) == -1)
		child_fail(what);
}

CHILD static void
child_rlimits(const struct policy_handler *p)
{
	struct rlimit zero = { 0, 0 };

	child_rlimit(RLIMIT_CPU, p->cpu_s, "RLIMIT_CPU");
	child_rlimit(RLIMIT_NPROC, p->processes, "RLIMIT_NPROC");
	child_rlimit(RLIMIT_NOFILE, p->files, "RLIMIT_NOFILE");
	child_rlimit(RLIMIT_FSIZE, p->fsize, "RLIMIT_FSIZE");
	if (setrlimit(RLIMIT_CORE, &zero) == -1)
		child_fail("RLIMIT_CORE");
}

/*
 * Optional, root only (the runner refuses them otherwise): a private
 * mount namespace in which "/" and everything under it is read-only
 * (read_only_root) and /tmp is a fresh tmpfs (private_tmp).  Mounts
 * made here never reach the host (MS_PRIVATE first).
 */
CHILD static void
child_mounts(const struct policy_handler *p)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };

	if (!p->private_tmp && !p->read_only_root)
		return;
	if (unshare(CLONE_NEWNS) == -1)
		child_fail("unshare(CLONE_NEWNS)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		child_fail("making mounts private");
	if (p->read_only_root && syscall(SYS_mount_setattr, -1, "/",
	    AT_RECURSIVE, &ro, sizeof(ro)) == -1)
		child_fail("read-only root");
	if (p->private_tmp && mount("tmpfs", "/tmp", "tmpfs",
	    MS_NOSUID | MS_NODEV, "mode=1777,size=64m") == -1)
		child_fail("private /tmp");
}

/* Every capability out of the bounding set, up to the first number
 * this kernel does not know (EINVAL).  Each drop commits new
 * credentials (about 0.5 us), a read does not: only what is there is
 * dropped (under the shipped unit, 6 of 41). */
CHILD static void
child_bounding(void)
{
	int c, in;

	for (c = 0; (in = prctl(PR_CAPBSET_READ, c, 0, 0, 0)) >= 0; c++)
		if (in == 1 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1)
			child_fail("clearing the bounding set");
	if (errno != EINVAL || c <= CAP_SETFCAP)
		child_fail("reading the bounding set");
}

/*
 * What libcap-ng's capng_change_id(DROP_SUPP_GRP | CLEAR_AMBIENT |
 * CLEAR_BOUNDING) does, in raw system calls: keep only CAP_SETUID,
 * CAP_SETGID (and CAP_SETPCAP for the bounding set), clear the
 * bounding set, setgroups(0), setresgid, setresuid, then clear every
 * set, ambient included (a plain setresuid leaves capabilities handed
 * in as ambient ones in place).  Raw syscall()s, not the libc wrappers:
 * glibc's set*id broadcast to threads has no place in this child.
 */
CHILD static void
child_switch(const struct policy_handler *p, uint64_t eff)
{
	uint64_t keep = eff & (CAPBIT(CAP_SETUID) | CAPBIT(CAP_SETGID) |
	    CAPBIT(CAP_SETPCAP));

	if (cap_set(keep, keep, 0) == -1)
		child_fail("keeping CAP_SETUID and CAP_SETGID only");
	if (keep & CAPBIT(CAP_SETPCAP))
		child_bounding();
	if (syscall(SYS_setgroups, 0, NULL) == -1)
		child_fail("setgroups");
	if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) == -1)
		child_fail("setresgid");
	if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) == -1)
		child_fail("setresuid");
	if (cap_set(0, 0, 0) == -1 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		child_fail("clearing capabilities");
}

/* Switch ids (step 5), then prove they stick. */
CHILD static void
child_ids(const struct policy_handler *p)
{
	uid_t ou = getuid(), r, e, s;
	gid_t gr, ge, gs;
	uint64_t eff, prm, inh;

	if (p->uid == 0)
		child_fail("run as root refused");
	if (cap_sets(&eff, &prm, &inh) == -1)
		child_fail("capget");
	if ((eff & CAPBIT(CAP_SETUID)) && (eff & CAPBIT(CAP_SETGID)))
		child_switch(p, eff);
	else if (p->uid != ou || p->gid != getgid()) {
		errno = EPERM;
		child_fail("switching to the run-as user");
	}
	if (getresuid(&r, &e, &s) == -1 || r != p->uid || e != p->uid ||
	    s != p->uid || getresgid(&gr, &ge, &gs) == -1 || gr != p->gid ||
	    ge != p->gid || gs != p->gid) {
		errno = 0;
		child_fail("ids did not change as asked");
	}
	if (syscall(SYS_setuid, 0) != -1 || (ou != p->uid &&
	    (syscall(SYS_setresuid, ou, ou, ou) != -1 ||
	    syscall(SYS_setreuid, -1, ou) != -1))) {
		errno = 0;
		child_fail("an old uid could be regained");
	}
}

CHILD static void
child_caps(void)
{
	uint64_t eff, prm, inh;

	if (cap_set(0, 0, 0) == -1)
		child_fail("clearing capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		child_fail("clearing the ambient set");
	if (cap_sets(&eff, &prm, &inh) == -1 || eff != 0 || prm != 0 ||
	    inh != 0) {
		errno = 0;
		child_fail("capabilities remain");
	}
}

CHILD static int __attribute__((noreturn))
child_main(void *arg)
{
	const struct child_arg *ca = arg;
	const struct sup_spawn *s = ca->s;
	struct sock_fprog prog;
	char *argv[2];

	child_fds(s->script, ca->errfd);
	if (setsid() == -1)
		child_fail("setsid");
	if (chdir("/") == -1)
		child_fail("chdir /");
	child_signals();
	child_rlimits(s->pol);
	child_mounts(s->pol);
	child_ids(s->pol);
	/* the uid change cleared the parent-death signal */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		child_fail("PR_SET_PDEATHSIG");
	if (getppid() != ca->sup)
		child_fail("supervisor gone");
	child_caps();
	child_rlimit(RLIMIT_AS, s->pol->memory, "RLIMIT_AS");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		child_fail("PR_SET_NO_NEW_PRIVS");
	prog.len = s->bpf->len;
	prog.filter = s->bpf->insn;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1)
		child_fail("loading the seccomp filter");
	argv[0] = (char *)s->argv0;
	argv[1] = NULL;
	syscall(SYS_execveat, FD_EXEC, "", argv, s->envp, AT_EMPTY_PATH);
	child_fail("execveat");
}

/* ---- the supervisor ---- */

struct sup {
	pid_t		 self, hpid;
	uid_t		 uid;		/* the handler's */
	int		 sigfd;
	int		 done, wstatus, flags, leftovers;
	int64_t		 start, t_term, t_kill;
	char		 msg[160];
	size_t		 msglen;
};

static void __attribute__((noreturn))
sup_die(void)
{
	_exit(1);	/* the runner sees EOF without a report */
}

/* Our descriptors at fixed numbers, everything else closed. */
static void
sup_fds(const struct sup_spawn *s)
{
	int from[] = { s->exec_fd, s->fd_in, s->fd_out, s->fd_err,
	    s->fd_status, s->fd_ctl };
	int tmp[6], i;

	for (i = 0; i < 6; i++)
		if ((tmp[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 64)) == -1)
			sup_die();
	for (i = 0; i < 6; i++)
		if (dup3(tmp[i], FD_EXEC + i, O_CLOEXEC) == -1)
			sup_die();
	if (syscall(SYS_close_range, FD_FIRST_FREE, ~0U, 0) == -1)
		sup_die();
}

static void
sup_signals(struct sup *sp)
{
	sigset_t chld;
	int s;

	for (s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_SETMASK, &chld, NULL) == -1 ||
	    (sp->sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		sup_die();
}

static void
sup_report(struct sup *sp, int type)
{
	struct sup_status st;

	memset(&st, 0, sizeof(st));
	st.type = type;
	st.pid = sp->hpid;
	st.wstatus = sp->wstatus;
	st.flags = sp->flags;
	st.leftovers = sp->leftovers;
	st.duration_ms = sup_now_ms() - sp->start;
	memcpy(st.msg, sp->msg, sp->msglen);
	if (write(FD_STATUS, &st, sizeof(st)) != (ssize_t)sizeof(st))
		sup_die();
}

/* Only CAP_KILL, if we had it: enough to signal the handler's uid. */
static void
sup_caps(void)
{
	uint64_t eff, prm, inh, kill_cap;

	if (cap_sets(&eff, &prm, &inh) == -1)
		sup_die();
	kill_cap = prm & CAPBIT(CAP_KILL);
	if (cap_set(kill_cap, kill_cap, 0) == -1 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		sup_die();
}

/* ppid of /proc/PID/stat; -1 if gone */
static pid_t
sup_ppid(const char *pid)
{
	char path[300], buf[512], *p;
	ssize_t n;
	int fd;
	long pp;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %*c %ld",
	    &pp) != 1)
		return -1;
	return (pid_t)pp;
}

#define SUP_SCAN_MAX	8192

/* SIGKILL every descendant found in /proc; how many were signalled.
 * Every descendant runs as the handler's uid (no-new-privs, no
 * capabilities), so only those /proc entries are read, and root's (a
 * non-dumpable process's entries may belong to root): the table
 * cannot be filled by other users' processes. */
static int
sup_kill_scan(pid_t self, uid_t uid)
{
	static pid_t pid[SUP_SCAN_MAX], ppid[SUP_SCAN_MAX];
	static char mine[SUP_SCAN_MAX];
	struct dirent *d;
	size_t n = 0, i;
	int grew = 1, killed = 0;
	DIR *dir;

	if ((dir = opendir("/proc")) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL && n < SUP_SCAN_MAX) {
		struct stat st;

		if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
		    fstatat(dirfd(dir), d->d_name, &st, 0) == -1 ||
		    (st.st_uid != uid && st.st_uid != 0))
			continue;
		pid[n] = (pid_t)atol(d->d_name);
		if ((ppid[n] = sup_ppid(d->d_name)) != -1)
			mine[n++] = 0;
	}
	closedir(dir);
	while (grew)
		for (grew = 0, i = 0; i < n; i++) {
			size_t j;

			if (mine[i])
				continue;
			for (j = 0; j < n && !(mine[j] && pid[j] == ppid[i]);
			    j++)
				;
			if (ppid[i] == self || j < n)
				mine[i] = grew = 1;
		}
	for (i = 0; i < n; i++)
		if (mine[i] && kill(pid[i], SIGKILL) == 0)
			killed++;
	return killed;
}

/* Reap what is dead; -1 once we have no children at all. */
static int
sup_reap(struct sup *sp)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == sp->hpid) {
			sp->done = 1;
			sp->wstatus = st;
		} else if (sp->done)
			sp->leftovers++;
	}
	return pid == -1 && errno == ECHILD ? -1 : 0;
}

/* After the handler: kill and reap every descendant until none is
 * left (orphans are re-parented to us as their parents die). */
static void
sup_kill_all(struct sup *sp)
{
	struct pollfd pfd = { sp->sigfd, POLLIN, 0 };
	struct signalfd_siginfo si;
	int rounds;

	for (rounds = 0; sup_reap(sp) == 0; rounds++) {
		if (rounds < 1000 || rounds % 100 == 0)
			sup_kill_scan(sp->self, sp->uid);
		if (poll(&pfd, 1, 20) > 0)
			while (read(sp->sigfd, &si, sizeof(si)) > 0)
				;
	}
}

/* Once the child has exec'd or died, nobody holds the error pipe's
 * write end any more: what it holds is the whole story, EOF is no
 * error at all.  This never blocks. */
static void
sup_read_err(struct sup *sp, int fd)
{
	ssize_t n;

	while (sp->msglen < sizeof(sp->msg) - 1 && ((n = read(fd,
	    sp->msg + sp->msglen, sizeof(sp->msg) - 1 - sp->msglen)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0)
			sp->msglen += (size_t)n;
	if (sp->msglen > 0)
		sp->flags |= SUP_SETUP_FAILED;
	close(fd);
}

static void
sup_deadlines(struct sup *sp)
{
	int64_t now = sup_now_ms();

	if (sp->t_term >= 0 && now >= sp->t_term) {
		sp->flags |= SUP_TIMED_OUT;
		kill(-sp->hpid, SIGTERM);
		sp->t_term = -1;
	}
	if (sp->t_kill >= 0 && now >= sp->t_kill) {
		kill(-sp->hpid, SIGKILL);
		kill(sp->hpid, SIGKILL);
		sp->t_kill = -1;
	}
}

static int
sup_wait_ms(const struct sup *sp)
{
	int64_t next = sp->t_term >= 0 ? sp->t_term : sp->t_kill, d;

	if (next < 0)
		return -1;
	d = next - sup_now_ms();
	return d < 0 ? 0 : d > 60000 ? 60000 : (int)d;
}

static void
sup_loop(struct sup *sp)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	char c;

	while (!sp->done) {
		pfd[0] = (struct pollfd){ sp->sigfd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ (sp->flags & SUP_STOPPED) ? -1 :
		    FD_CTL, POLLIN, 0 };
		if (poll(pfd, 2, sup_wait_ms(sp)) == -1 && errno != EINTR)
			sup_die();
		if (pfd[1].revents) {	/* a byte or EOF: stop now */
			ssize_t n = read(FD_CTL, &c, 1);

			(void)n;
			close(FD_CTL);
			sp->flags |= SUP_STOPPED;
			sp->t_term = -1;
			sp->t_kill = 0;		/* now */
		}
		while (read(sp->sigfd, &si, sizeof(si)) > 0)
			;
		sup_reap(sp);
		sup_deadlines(sp);
	}
}

static void __attribute__((noreturn))
sup_main(const struct sup_spawn *s, pid_t runner)
{
	struct child_arg ca;
	struct sup sp;
	int ep[2];

	memset(&sp, 0, sizeof(sp));
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != runner)
		sup_die();
	sup_fds(s);
	sup_signals(&sp);
	sp.self = getpid();
	sp.uid = s->pol->uid;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 || pipe2(ep, O_CLOEXEC))
		sup_die();
	sp.start = sup_now_ms();
	ca = (struct child_arg){ s, sp.self, ep[1] };
	/* back here once the child has exec'd or died */
	if ((sp.hpid = clone(child_main, child_stack + sizeof(child_stack),
	    CLONE_VM | CLONE_VFORK | SIGCHLD, &ca)) == -1)
		sup_die();
	close(ep[1]);
	close(FD_EXEC);
	close(FD_IN);
	close(FD_OUT);
	close(FD_ERR);
	sup_read_err(&sp, ep[0]);
	sup_caps();
	sp.t_term = s->pol->timeout_ms > 0 ? sp.start + s->pol->timeout_ms : -1;
	sp.t_kill = sp.t_term < 0 ? -1 : sp.t_term +
	    (s->pol->grace_ms > 0 ? s->pol->grace_ms : 0);
	sup_report(&sp, SUP_STARTED);
	sup_loop(&sp);
	sup_kill_all(&sp);
	sup_report(&sp, SUP_DONE);
	_exit(0);
}

pid_t
handler_sup_spawn(const struct sup_spawn *s)
{
	pid_t runner = getpid(), pid;

	if ((pid = fork()) == 0)
		sup_main(s, runner);
	return pid;
}
