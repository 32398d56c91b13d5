/*
 * handler_child.c - the confined handler child: forked by the runner,
 * it confines itself in the order of docs/handlers.md and executes
 * the descriptor that discovery opened and checked.
 *
 * Every step is checked; a failure is written to the channel
 * (close-on-exec, so EOF there means the execve succeeded) and ends
 * the child with status 127.  The child is a fork, not a vfork: the
 * runner (the monitor) goes on at once, and a child stopped or stuck
 * before its execve holds up only its own run, which the runner ends
 * at its timeout.  It still makes system calls only, with what the
 * runner prepared: nothing is allocated, nothing of libcap-ng (which
 * reads /proc/self/status three times), glibc's set*id broadcast has
 * no place here.
 */
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "handler_child.h"
#include "log.h"
#include "zygote.h"

/* where child_fail() writes: the caller's descriptor until child_fds()
 * has moved it */
static int child_errfd = -1;

#define CAPBIT(c)	(1ULL << (c))

/* The capability sets straight from capget(2), and set with capset(2):
 * libcap-ng reads /proc/self/status, allocates, and is slow. */
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

static int
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

static size_t
child_cat(char *buf, size_t off, size_t size, const char *s)
{
	while (*s != '\0' && off + 1 < size)
		buf[off++] = *s++;
	buf[off] = '\0';
	return off;
}

size_t
handler_child_why(char *buf, size_t size, size_t off, const char *step, int e)
{
	const char *why = e != 0 ? strerrordesc_np(e) : "failed";

	off = child_cat(buf, off, size, step);
	off = child_cat(buf, off, size, ": ");
	return child_cat(buf, off, size, why != NULL ? why : "unknown error");
}

/* "STEP: error" on the error pipe, then exit: no stdio, no strerror
 * (which may translate, so allocate and lock). */
static void __attribute__((noreturn))
child_fail(const char *step)
{
	char msg[CHILD_MSG_MAX];
	size_t n;
	ssize_t w;

	msg[0] = CHILD_MSG_FAILED;
	n = handler_child_why(msg, sizeof(msg), 1, step, errno);
	w = write(child_errfd, msg, n);
	(void)w;
	_exit(127);
}

/* Descriptors the child arranges: 0, 1, 2 from the pipes, 3 the
 * handler (kept across exec for a "#!" script: the interpreter opens
 * /dev/fd/3), the channel (close-on-exec) at 4, or with a notify
 * program at chan_at (at or above the handler's RLIMIT_NOFILE: the
 * prefix lets sendmsg() through on that number only), nothing else. */
enum { FD_EXEC = 3, FD_CHAN, FD_FIRST_FREE = CHILD_FD_MIN };

/* Every source below FD_FIRST_FREE, or on the channel's number, is
 * first moved above both, so that no dup2() lands on a source still to
 * be copied, and none is its own target (dup2(fd, fd) would leave it
 * close-on-exec). */
static void
child_fds(const struct child_spawn *s, int chan)
{
	int src[] = { s->fd_in, s->fd_out, s->fd_err, s->exec_fd, s->fd_chan };
	int i;

	for (i = 0; i < 5; i++)
		if ((src[i] < FD_FIRST_FREE || src[i] == chan) &&
		    (src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, chan + 1)) == -1)
			child_fail("moving descriptors");
	if (dup3(src[4], chan, O_CLOEXEC) == -1)
		child_fail("channel");
	child_errfd = chan;
	if (dup2(src[0], 0) == -1 || dup2(src[1], 1) == -1 ||
	    dup2(src[2], 2) == -1 || (s->script ? dup2(src[3], FD_EXEC) :
	    dup3(src[3], FD_EXEC, O_CLOEXEC)) == -1)
		child_fail("descriptors");
	if ((chan > FD_CHAN && syscall(SYS_close_range, FD_CHAN, chan - 1,
	    0) == -1) || syscall(SYS_close_range, chan + 1, ~0U, 0) == -1)
		child_fail("close_range");
}

/*
 * The standard signals' dispositions back to the default, then the
 * mask (all blocked by the runner around the fork) cleared.  execve()
 * resets handled signals but keeps ignored ones: the runner's ignored
 * SIGPIPE must not reach the handler, and no handler of the runner's
 * may run here.  The real-time ones are left alone: none of our
 * processes ignores one (glibc's own two have handlers, which execve
 * resets and no one here raises), and resetting them would double the
 * cost of this step.
 */
static void
child_signals(void)
{
	/* the kernel's struct sigaction, all zero: SIG_DFL, no flags,
	 * an empty mask, whatever the architecture's layout (a raw call:
	 * nothing of glibc's or a sanitizer's wrapper runs) */
	unsigned long dfl[4] = { 0, 0, 0, 0 };
	sigset_t none;
	int sig;

	for (sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && syscall(SYS_rt_sigaction,
		    sig, dfl, NULL, (size_t)8) == -1)
			child_fail("signal dispositions");
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		child_fail("sigprocmask");
}

int
handler_child_rlimit(int res, int64_t v)
{
	struct rlimit rl;

	if (v <= 0)
		return 0;	/* not set: inherited */
	rl.rlim_cur = rl.rlim_max = (rlim_t)v;
	if (res == RLIMIT_CPU)	/* SIGXCPU at the limit, SIGKILL 1 s on */
		rl.rlim_max = (rlim_t)v + 1;
	return syscall(SYS_prlimit64, 0, res, &rl, NULL) == -1 ? -1 : 0;
}

static void
child_rlimit(int res, int64_t v, const char *what)
{
	if (handler_child_rlimit(res, v) == -1)
		child_fail(what);
}

static void
child_rlimit_core(void)
{
	struct rlimit zero = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &zero) == -1)
		child_fail("RLIMIT_CORE");
}

static void
child_rlimits(const struct policy_handler *p)
{
	child_rlimit(RLIMIT_CPU, p->cpu_s, "RLIMIT_CPU");
	child_rlimit(RLIMIT_NPROC, p->processes, "RLIMIT_NPROC");
	child_rlimit(RLIMIT_NOFILE, p->files, "RLIMIT_NOFILE");
	child_rlimit(RLIMIT_FSIZE, p->fsize, "RLIMIT_FSIZE");
	child_rlimit_core();
}

/*
 * Optional, root only (the runner refuses them otherwise): a private
 * mount namespace in which "/" and everything under it is read-only
 * (read_only_root) and /tmp is a fresh tmpfs (private_tmp).  Mounts
 * made here never reach the host (MS_PRIVATE first).
 */
static void
child_mounts(const struct policy_handler *p, const char *state)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	struct mount_attr rw = { .attr_clr = MOUNT_ATTR_RDONLY };

	if (!p->private_tmp && !p->read_only_root)
		return;
	if (unshare(CLONE_NEWNS) == -1)
		child_fail("unshare(CLONE_NEWNS)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		child_fail("making mounts private");
	/* the state directory its own mount, made writable again once
	 * everything else is read-only */
	if (p->read_only_root && state != NULL && mount(state, state, NULL,
	    MS_BIND, NULL) == -1)
		child_fail("bind-mounting the state directory");
	if (p->read_only_root && syscall(SYS_mount_setattr, -1, "/",
	    AT_RECURSIVE, &ro, sizeof(ro)) == -1)
		child_fail("read-only root");
	if (p->read_only_root && state != NULL && syscall(SYS_mount_setattr,
	    -1, state, 0, &rw, sizeof(rw)) == -1)
		child_fail("a writable state directory");
	if (p->private_tmp && mount("tmpfs", "/tmp", "tmpfs",
	    MS_NOSUID | MS_NODEV, "mode=1777,size=64m") == -1)
		child_fail("private /tmp");
}

/* Every capability out of the bounding set, up to the first number
 * this kernel does not know (EINVAL).  Each drop commits new
 * credentials (about 0.5 us), a read does not: only what is there is
 * dropped (under the shipped unit, 6 of 41). */
static void
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
static void
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
static void
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

static void
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

/* The listener to the runner: the one call the notify program's
 * prefix allows before the profile decides.  The listener itself is
 * close-on-exec (the kernel makes it so): the handler never holds it,
 * and could otherwise answer its own notifications. */
static void
child_handoff(int chan, int listener)
{
	char kind = CHILD_MSG_LISTENER;

	if (fdpass_send(chan, &kind, 1, &listener, 1, MSG_NOSIGNAL) != 1)
		child_fail("handing the seccomp listener to the runner");
}

/* "N" and why on the channel: no listener, the kill program instead
 * (before it is loaded: nothing filters this write yet). */
static void
child_no_listener(int chan)
{
	const char *why = strerrordesc_np(errno);
	char msg[CHILD_MSG_MAX];
	size_t n;
	ssize_t w;

	msg[0] = CHILD_MSG_NO_LISTENER;
	n = child_cat(msg, 1, sizeof(msg), why != NULL ? why : "failed");
	w = write(chan, msg, n);
	(void)w;
}

/*
 * seccomp last.  With a notify program: a new listener, whose waits
 * ignore all but fatal signals once the runner has read them (5.19;
 * without that flag where the kernel refuses it), handed to the
 * runner.  Without, or when the kernel refuses a listener (EBUSY: one
 * is already in our filter chain; EMFILE), the kill program.
 */
static void
child_seccomp(const struct child_spawn *s, int chan)
{
	struct sock_fprog prog;
	long l = -1;

	if (s->notify != NULL) {
		prog.len = s->notify->len;
		prog.filter = s->notify->insn;
		l = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_NEW_LISTENER |
		    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
		if (l == -1 && errno == EINVAL)
			l = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
		if (l >= 0) {
			child_handoff(chan, (int)l);
			return;
		}
		child_no_listener(chan);
		if (s->zygote)	/* the runner goes the cold way */
			_exit(127);
	}
	prog.len = s->bpf->len;
	prog.filter = s->bpf->insn;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1)
		child_fail("loading the seccomp filter");
}

static void __attribute__((noreturn))
child_main(const struct child_spawn *s, pid_t runner)
{
	int chan = s->notify != NULL ? s->chan_at : FD_CHAN;
	char *argv[2];

	child_errfd = s->fd_chan;
	child_signals();
	child_fds(s, chan);
	if (setsid() == -1)
		child_fail("setsid");
	if (chdir("/") == -1)
		child_fail("chdir /");
	/* orphans of the handler's descendants come to the handler, not
	 * to the runner, while it lives (docs/handlers.md, "Reaping");
	 * a zygote's children are the runner's: each run's child sets it */
	if (!s->zygote && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		child_fail("PR_SET_CHILD_SUBREAPER");
	if (s->zygote)		/* the rest per run, in its child */
		child_rlimit_core();
	else
		child_rlimits(s->pol);
	if (!s->zygote)		/* the runner sends no such handler there */
		child_mounts(s->pol, s->state);
	child_ids(s->pol);
	/* the uid change made us dumpable as fs.suid_dumpable says: we
	 * still hold a copy of the runner's memory until the execve */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		child_fail("PR_SET_DUMPABLE");
	/* the uid change cleared the parent-death signal */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		child_fail("PR_SET_PDEATHSIG");
	if (getppid() != runner)
		child_fail("runner gone");
	child_caps();
	if (!s->zygote)
		child_rlimit(RLIMIT_AS, s->pol->memory, "RLIMIT_AS");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		child_fail("PR_SET_NO_NEW_PRIVS");
	child_seccomp(s, chan);
	if (s->zygote)
		zygote_main(chan, s->pol, runner);
	argv[0] = (char *)s->argv0;
	argv[1] = NULL;
	syscall(SYS_execveat, FD_EXEC, "", argv, s->envp, AT_EMPTY_PATH);
	child_fail("execveat");
}

/*
 * Every signal is blocked around the fork, so none of our handlers
 * runs in the child before it has reset them (child_signals); our own
 * mask comes back at once.
 */
pid_t
handler_child_spawn(const struct child_spawn *s)
{
	pid_t runner = getpid(), pid;
	sigset_t all, old;
	int e;

	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) == -1)
		return -1;
	if ((pid = fork()) == 0)
		child_main(s, runner);
	e = errno;
	if (sigprocmask(SIG_SETMASK, &old, NULL) == -1)
		fatal("sigprocmask");
	errno = e;
	return pid;
}
