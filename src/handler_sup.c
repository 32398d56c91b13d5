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

#include <cap-ng.h>

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

static void __attribute__((noreturn))
child_fail(const char *step)
{
	char msg[160];
	int e = errno;
	ssize_t n;

	snprintf(msg, sizeof(msg), "%s: %s", step, e ? strerror(e) : "failed");
	n = write(FD_CHILD_ERR, msg, strlen(msg));
	(void)n;
	_exit(127);
}

/* 0, 1, 2 from the pipes, 3 the handler (kept across exec for a "#!"
 * script: the interpreter opens /dev/fd/3), 4 the error pipe, nothing
 * else. */
static void
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
static void
child_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		child_fail("sigprocmask");
}

static void
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

static void
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
static void
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

/*
 * The capability sets straight from capget(2): libcap-ng's
 * capng_get_caps_process() reads /proc/self/status, a slow file, and
 * we only need the three sets.
 */
static int
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

#define CAPBIT(c)	(1ULL << (c))

/* setgroups, setresgid, setresuid through libcap-ng (which clears the
 * capability sets in the same step), then prove the ids stick. */
static void
child_ids(const struct policy_handler *p)
{
	uid_t ou = getuid(), r, e, s;
	gid_t gr, ge, gs;
	int can, flags = CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_AMBIENT;

	if (p->uid == 0)
		child_fail("run as root refused");
	uint64_t eff, prm, inh;

	if (cap_sets(&eff, &prm, &inh) == -1)
		child_fail("capget");
	can = (eff & CAPBIT(CAP_SETUID)) && (eff & CAPBIT(CAP_SETGID));
	if (eff & CAPBIT(CAP_SETPCAP))
		flags |= CAPNG_CLEAR_BOUNDING;
	if (can) {
		capng_clear(CAPNG_SELECT_BOTH);
		if (capng_change_id((int)p->uid, (int)p->gid, flags) != 0)
			child_fail("capng_change_id");
	} else if (p->uid != ou || p->gid != getgid()) {
		errno = EPERM;
		child_fail("switching to the run-as user");
	}
	if (getresuid(&r, &e, &s) == -1 || r != p->uid || e != p->uid ||
	    s != p->uid || getresgid(&gr, &ge, &gs) == -1 || gr != p->gid ||
	    ge != p->gid || gs != p->gid) {
		errno = 0;
		child_fail("ids did not change as asked");
	}
	if (setuid(0) != -1 || (ou != p->uid && (setresuid(ou, ou, ou) != -1 ||
	    setreuid((uid_t)-1, ou) != -1))) {
		errno = 0;
		child_fail("an old uid could be regained");
	}
}

static void
child_caps(void)
{
	uint64_t eff, prm, inh;

	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS) != 0)
		child_fail("clearing capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		child_fail("clearing the ambient set");
	if (cap_sets(&eff, &prm, &inh) == -1 || eff != 0 || prm != 0 ||
	    inh != 0) {
		errno = 0;
		child_fail("capabilities remain");
	}
}

static void __attribute__((noreturn))
child_main(const struct sup_spawn *s, pid_t sup, int errfd)
{
	struct sock_fprog prog;
	char *argv[2];

	child_fds(s->script, errfd);
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
	if (getppid() != sup)
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
	int		 sigfd, errfd;
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
	uint64_t eff, prm, inh;
	int kill_cap;

	if (cap_sets(&eff, &prm, &inh) == -1)
		sup_die();
	kill_cap = (prm & CAPBIT(CAP_KILL)) != 0;
	capng_clear(CAPNG_SELECT_CAPS);
	if (kill_cap)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
		    CAP_KILL);
	if (capng_apply(CAPNG_SELECT_CAPS) != 0 ||
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

static void
sup_read_err(struct sup *sp)
{
	ssize_t n;

	n = read(sp->errfd, sp->msg + sp->msglen,
	    sizeof(sp->msg) - 1 - sp->msglen);
	if (n > 0) {
		sp->msglen += (size_t)n;
		sp->flags |= SUP_SETUP_FAILED;
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(sp->errfd);
		sp->errfd = -1;
	}
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
	struct pollfd pfd[3];
	char c;

	while (!sp->done) {
		pfd[0] = (struct pollfd){ sp->sigfd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ (sp->flags & SUP_STOPPED) ? -1 :
		    FD_CTL, POLLIN, 0 };
		pfd[2] = (struct pollfd){ sp->errfd, POLLIN, 0 };
		if (poll(pfd, 3, sup_wait_ms(sp)) == -1 && errno != EINTR)
			sup_die();
		if (pfd[2].revents)
			sup_read_err(sp);
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
	while (sp->errfd != -1)
		sup_read_err(sp);
}

static void __attribute__((noreturn))
sup_main(const struct sup_spawn *s, pid_t runner)
{
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
	if ((sp.hpid = fork()) == -1)
		sup_die();
	if (sp.hpid == 0)
		child_main(s, sp.self, ep[1]);
	close(ep[1]);
	close(FD_EXEC);
	close(FD_IN);
	close(FD_OUT);
	close(FD_ERR);
	sp.errfd = ep[0];
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
