/*
 * handler_zygote.c - the runner's zygotes: when to start one, what to
 * ask it, what its answers, notifications and death mean.
 *
 * A zygote (src/zygote.h) serves one handler configuration: the
 * action, its policy block, its compiled profile and the handler file
 * (device and inode of the descriptor discovery checked).  A run whose
 * configuration differs (a reload, a replaced file) is not sent to it;
 * the old zygote is ended once it has answered everything and a new
 * one made for the new configuration.
 *
 * Fail closed: a zygote is made only where the profile's own program
 * allows every call the zygote and its children make before a
 * handler's execve (zyg_calls, checked with src/bpf_eval.c), so no run
 * is ever killed for the daemon's own calls; one that misbehaves
 * (says what it should not, names a pid that is not our child, calls
 * what its profile kills, does not answer within a run's timeout, or
 * dies) is killed, the runs it had not answered for fail (never re-run:
 * it may have cloned their child), and its configuration is forked the
 * cold way from then on.  docs/handlers.md, "The zygote".
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "bpf_eval.h"
#include "fdpass.h"
#include "handler_reap.h"
#include "handler_zygote.h"
#include "log.h"
#include "util.h"
#include "zygote.h"

#define ZYG_IDLE_MS	60000	/* ended after a minute without a run;
				   AUTO: made at a second run within it */
#define ZYG_WAIT_MS	2000	/* ALWAYS: how long its listener may take */
#define ZYG_NOTIF_MAX	256
#define ZYG_TREE_MAX	64	/* parents walked to find a run */
#define ZYG_HELD_MAX	8	/* notifications waiting for a pid */

enum { ZS_NONE, ZS_STARTING, ZS_READY, ZS_FAILED };

struct zygote {
	struct zygote		*next;
	struct policy_handler	 pol;
	struct handler_bpf	 bpf;	/* the configuration's program */
	struct handler_bpf	 prog;	/* what it runs under: the notify
					   form behind the zygote's prefix */
	dev_t			 dev;
	ino_t			 ino;
	int			 script;
	int			 chan_at;
	int			 state;
	pid_t			 pid;	/* 0: no process */
	int			 fd_pid, fd_chan, fd_notify;
	int			 pending;	/* runs asked, pid not yet */
	int			 live;		/* runs it started, not freed:
						   its listener stays for them */
	int64_t			 last_used, last_cold;
	/* notifications from a process of no known run while runs are
	 * pending: most likely a run's whose pid is on its way (its
	 * caller stays blocked in the call, which never runs) */
	struct seccomp_notif	 held[ZYG_HELD_MAX];
	int			 nheld;
};

/* ---- which configuration ---- */

static int
bpf_same(const struct handler_bpf *a, const struct handler_bpf *b)
{
	return a->len == b->len && a->notify_len == b->notify_len &&
	    memcmp(a->insn, b->insn, a->len * sizeof(*a->insn)) == 0 &&
	    (a->notify_len == 0 || memcmp(a->notify, b->notify,
	    a->notify_len * sizeof(*a->notify)) == 0);
}

static int
zyg_match(const struct zygote *z, const struct handler_run *run,
    const struct stat *st)
{
	return memcmp(&z->pol, &run->pol, sizeof(z->pol)) == 0 &&
	    bpf_same(&z->bpf, &run->bpf) && z->dev == st->st_dev &&
	    z->ino == st->st_ino && z->script == run->script;
}

static struct zygote *
zyg_find(const struct handler_runner *r, const char *action)
{
	struct zygote *z;

	for (z = r->zygotes; z != NULL; z = z->next)
		if (strcmp(z->pol.action, action) == 0)
			return z;
	return NULL;
}

static int
zyg_live(const struct handler_runner *r)
{
	const struct zygote *z;
	int n = 0;

	for (z = r->zygotes; z != NULL; z = z->next)
		n += z->pid > 0;
	return n;
}

/*
 * Every call the zygote and a run's child make under the filter, with
 * the arguments they pass (pointers as 0: a profile has no business
 * testing one).  The first one the program does not allow, or NULL.
 */
static const char *
zyg_refused_call(const struct handler_bpf *prog, int chan)
{
	static const int lim[] = { RLIMIT_CPU, RLIMIT_NPROC, RLIMIT_NOFILE,
	    RLIMIT_FSIZE, RLIMIT_AS };
	struct zyg_call { const char *name; long nr; uint64_t a[6]; } c[32] = {
		{ "recvmsg", SYS_recvmsg, { chan, 0, MSG_CMSG_CLOEXEC } },
		{ "sendmsg", SYS_sendmsg, { chan, 0, MSG_NOSIGNAL } },
		{ "clone", SYS_clone, { CLONE_PARENT | SIGCHLD } },
		{ "close", SYS_close, { 4 } },
		{ "dup3", SYS_dup3, { 4, 0, 0 } },
		{ "dup3", SYS_dup3, { 5, 1, 0 } },
		{ "dup3", SYS_dup3, { 6, 2, 0 } },
		{ "close_range", SYS_close_range, { 4, chan - 1, 0 } },
		{ "close_range", SYS_close_range, { chan + 1, ~0U, 0 } },
		{ "setsid", SYS_setsid, { 0 } },
		{ "prctl", SYS_prctl, { PR_SET_CHILD_SUBREAPER, 1 } },
		{ "prctl", SYS_prctl, { PR_SET_PDEATHSIG, SIGKILL } },
		{ "getppid", SYS_getppid, { 0 } },
		{ "execveat", SYS_execveat, { 3, 0, 0, 0, AT_EMPTY_PATH } },
		{ "exit_group", SYS_exit_group, { 127 } },
	};
	struct seccomp_data d;
	size_t n = 15, i;
	uint32_t v;

	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++)
		c[n++] = (struct zyg_call){ "prlimit64", SYS_prlimit64,
		    { 0, (uint64_t)lim[i] } };
	for (i = 0; i < n; i++) {
		memset(&d, 0, sizeof(d));
		d.nr = (int)c[i].nr;
		d.arch = seccomp_arch_native();
		memcpy(d.args, c[i].a, sizeof(d.args));
		v = bpf_eval(prog->insn, prog->len, &d) &
		    SECCOMP_RET_ACTION_FULL;
		if (v != SECCOMP_RET_ALLOW && v != SECCOMP_RET_LOG)
			return c[i].name;
	}
	return NULL;
}

/* Why no zygote can serve this run's configuration, or NULL (and
 * z->prog built). */
static const char *
zyg_why_not(struct handler_runner *r, struct zygote *z,
    const struct handler_run *run, char *buf, size_t len)
{
	const char *call;
	struct rlimit rl;

	if (r->notif_size == 0)
		return "no seccomp user notification in this kernel";
	if (run->bpf.notify_len == 0)
		return "libseccomp cannot compile the profile's notify form";
	if (run->pol.private_tmp || run->pol.read_only_root)
		return "private-tmp and read-only-root are mounted per run";
	if (run->pol.files <= 0)
		return "no files limit, so no descriptor it cannot hold";
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur <= (rlim_t)z->chan_at + 8)
		return "its files limit is not below the daemon's own";
	if (handler_bpf_notify_handoff(&z->prog, &run->bpf, z->chan_at, 1)
	    == -1)
		return "cannot build its program";
	if ((call = zyg_refused_call(&z->prog, z->chan_at)) != NULL) {
		snprintf(buf, len, "profile %s does not allow %s, which a "
		    "zygote calls", run->pol.seccomp, call);
		return buf;
	}
	return NULL;
}

static struct zygote *
zyg_new(struct handler_runner *r, const struct handler_run *run,
    const struct stat *st)
{
	struct zygote *z;
	const char *why;
	char buf[160];

	if ((z = calloc(1, sizeof(*z))) == NULL)
		return NULL;
	if (handler_bpf_copy(&z->bpf, &run->bpf) == -1) {
		free(z);
		return NULL;
	}
	z->pol = run->pol;
	z->dev = st->st_dev;
	z->ino = st->st_ino;
	z->script = run->script;
	z->chan_at = run->chan_at;
	z->fd_pid = z->fd_chan = z->fd_notify = -1;
	if ((why = zyg_why_not(r, z, run, buf, sizeof(buf))) != NULL) {
		z->state = ZS_FAILED;
		log_info("handler %s: no zygote: %s; its runs are forked",
		    run->pol.action, why);
	}
	z->next = r->zygotes;
	r->zygotes = z;
	return z;
}

/* ---- ending one ---- */

static void
zyg_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Kill and reap the zygote (SIGKILL ends it at once, whatever it was
 * doing: stopped, or blocked on the channel), and fail the runs it had
 * not answered for: their child may exist (the sweep kills it), so they
 * are not run again.  failed: its configuration goes cold for good.
 * The listener stays while runs it started live: closing it would turn
 * their filter's kills into ENOSYS returns.
 */
static void
zyg_end(struct handler_runner *r, struct zygote *z, const char *why,
    int failed)
{
	struct handler_run *run;
	int64_t now = handler_now_ms();

	if (z->pid > 0) {
		kill(z->pid, SIGKILL);
		while (waitpid(z->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	if (why != NULL)
		log_warnx("handler %s: zygote %d ended: %s%s", z->pol.action,
		    (int)z->pid, why, failed ? "; its runs are forked from "
		    "now on" : "");
	z->pid = 0;
	zyg_close(&z->fd_pid);
	zyg_close(&z->fd_chan);
	if (z->live == 0)
		zyg_close(&z->fd_notify);
	for (run = r->runs; run != NULL; run = run->next) {
		if (run->zyg != z)
			continue;
		run->zyg = NULL;
		run->reaped = 1;	/* nothing of ours to wait for */
		run->flags |= RUN_SETUP_FAILED;
		snprintf(run->msg, sizeof(run->msg), "its zygote ended before "
		    "the handler started (%s)", why != NULL ? why : "stopped");
		run->sweeping = 1;
		run->t_sweep = now;
	}
	z->pending = 0;
	z->nheld = 0;	/* their callers die with the listener */
	z->state = failed ? ZS_FAILED : ZS_NONE;
}

static void
zyg_remove(struct handler_runner *r, struct zygote *z)
{
	struct zygote **p;

	zyg_end(r, z, NULL, 0);
	for (p = &r->zygotes; *p != NULL; p = &(*p)->next)
		if (*p == z) {
			*p = z->next;
			break;
		}
	handler_bpf_free(&z->bpf);
	handler_bpf_free(&z->prog);
	free(z);
}

void
zyg_stuck(struct handler_runner *r, struct zygote *z)
{
	zyg_end(r, z, "it did not answer within a run's timeout", 1);
}

void
zyg_end_all(struct handler_runner *r)
{
	struct zygote *z;

	for (z = r->zygotes; z != NULL; z = z->next)
		if (z->pid > 0)
			zyg_end(r, z, NULL, 0);
}

void
zyg_free_all(struct handler_runner *r)
{
	while (r->zygotes != NULL) {
		if (r->zygotes->live > 0)
			fatalx("zyg_free_all: a zygote's run still live");
		zyg_remove(r, r->zygotes);
	}
}

void
zyg_run_done(struct handler_run *run)
{
	struct zygote *z = run->zsrc;

	run->zsrc = NULL;
	if (--z->live == 0 && z->pid == 0)
		zyg_close(&z->fd_notify);
}

/* ---- starting one ---- */

static int
zyg_start(struct handler_runner *r, struct zygote *z, int exec_fd)
{
	int chan[2], null;
	struct child_spawn s;

	(void)r;
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) == -1) {
		close(null);
		return -1;
	}
	s = (struct child_spawn){ &z->pol, &z->bpf, &z->prog, z->chan_at,
	    exec_fd, z->script, null, null, null, chan[1], z->pol.action,
	    NULL, 1, NULL };
	z->pid = handler_child_spawn(&s);
	close(null);
	close(chan[1]);
	if (z->pid == -1 || (z->fd_pid = handler_pidfd(z->pid)) == -1) {
		z->pid = 0;
		close(chan[0]);
		return -1;
	}
	z->fd_chan = chan[0];
	fcntl(z->fd_chan, F_SETFL, O_NONBLOCK);
	z->state = ZS_STARTING;
	z->last_used = handler_now_ms();
	return 0;
}

static int zyg_read_chan(struct handler_runner *, struct zygote *);
static struct handler_run *zyg_run_of(struct handler_runner *, pid_t);

/* ALWAYS: the listener before the first run, or the cold way. */
static int
zyg_wait_ready(struct handler_runner *r, struct zygote *z)
{
	int64_t end = handler_now_ms() + ZYG_WAIT_MS, now;
	struct pollfd p;

	while (z->state == ZS_STARTING && (now = handler_now_ms()) < end) {
		p = (struct pollfd){ z->fd_chan, POLLIN, 0 };
		if (poll(&p, 1, (int)(end - now)) == -1 && errno != EINTR)
			break;
		zyg_read_chan(r, z);
	}
	if (z->state == ZS_STARTING)
		zyg_end(r, z, "no listener in time", 1);
	return z->state == ZS_READY ? 0 : -1;
}

/* ---- asking one ---- */

static int
zyg_send_run(struct zygote *z, const struct handler_run *run, int in,
    int out, int err)
{
	static char msg[ZYG_MSG_MAX];
	const char *s[ZYG_ENV_N];
	int fds[3] = { in, out, err };
	struct zyg_hdr h;
	size_t len = 0, k, i;

	s[0] = run->pol.action;
	for (k = 1; k < ZYG_ENV_N && run->env[k - 1] != NULL; k++)
		s[k] = run->env[k - 1];
	for (i = 0; i < k; i++) {
		size_t l = strlen(s[i]) + 1;

		if (len + l > ZYG_ENV_MAX) {
			errno = E2BIG;
			return -1;
		}
		memcpy(msg + sizeof(h) + len, s[i], l);
		len += l;
	}
	memset(&h, 0, sizeof(h));
	h.kind = ZYG_RUN;
	h.id = run->id;
	h.len = (uint32_t)len;
	memcpy(msg, &h, sizeof(h));
	if (fdpass_send(z->fd_chan, msg, sizeof(h) + len, fds, 3,
	    MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)(sizeof(h) + len))
		return -1;
	return 0;
}

int
zyg_request(struct handler_runner *r, struct handler_run *run, int in,
    int out, int err)
{
	struct zygote *z;
	struct stat st;
	int64_t now;

	if (r->zygote_mode == HANDLER_ZYGOTE_OFF || fstat(run->exec_fd, &st)
	    == -1)
		return 0;
	if ((z = zyg_find(r, run->pol.action)) != NULL &&
	    !zyg_match(z, run, &st)) {
		if (z->pending > 0 || z->live > 0)
			return 0;	/* the old one is still in use */
		zyg_remove(r, z);
		z = NULL;
	}
	if (z == NULL && (z = zyg_new(r, run, &st)) == NULL)
		return 0;
	now = handler_now_ms();
	if (z->state == ZS_FAILED || z->state == ZS_STARTING)
		return 0;
	if (z->state == ZS_NONE) {
		if (r->zygote_mode == HANDLER_ZYGOTE_AUTO && (z->last_cold == 0 ||
		    now - z->last_cold > ZYG_IDLE_MS)) {
			z->last_cold = now;
			return 0;
		}
		if (zyg_live(r) >= HANDLER_ZYGOTE_MAX)
			return 0;
		if (zyg_start(r, z, run->exec_fd) == -1) {
			log_warn("handler %s: cannot start a zygote",
			    run->pol.action);
			z->state = ZS_FAILED;
			return 0;
		}
		if (r->zygote_mode != HANDLER_ZYGOTE_ALWAYS ||
		    zyg_wait_ready(r, z) == -1)
			return 0;	/* this run the cold way */
	}
	if (zyg_send_run(z, run, in, out, err) == -1) {
		if (errno != EAGAIN && errno != E2BIG)
			zyg_end(r, z, "cannot write to it", 1);
		return 0;
	}
	z->pending++;
	z->last_used = now;
	run->zyg = z;
	return 1;
}

/* ---- what it says ---- */

static struct handler_run *
zyg_run_by_id(struct handler_runner *r, uint64_t id)
{
	struct handler_run *run;

	for (run = r->runs; run != NULL; run = run->next)
		if (run->id == id && run->running)
			return run;
	return NULL;
}

/* A child of ours, from a clone of the zygote's: its pidfd, or -1. */
static int
zyg_our_child(pid_t pid)
{
	siginfo_t si;
	int fd;

	if (pid <= 0 || (fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return -1;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)3 /* P_PIDFD */, (id_t)fd, &si, WEXITED |
	    WNOHANG | WNOWAIT) == -1) {
		close(fd);	/* ECHILD: not ours */
		return -1;
	}
	return fd;
}

static void
zyg_started(struct handler_runner *r, struct zygote *z,
    const struct zyg_hdr *h)
{
	struct handler_run *run = zyg_run_by_id(r, h->id);
	int fd;

	/* a child of ours, and none we know already (a run's handler, a
	 * zygote): memory only, no /proc read on this path */
	if (zyg_run_of(r, h->pid) != NULL || zyg_owns(r, h->pid) ||
	    (fd = zyg_our_child(h->pid)) == -1) {
		zyg_end(r, z, "it named a pid that is not a new child of ours",
		    1);
		return;
	}
	if (run == NULL || run->zyg != z) {
		/* no run waits for it: it must not run (the sweep reaps) */
		log_warnx("handler %s: zygote started pid %d for no run; "
		    "killed", z->pol.action, (int)h->pid);
		kill(h->pid, SIGKILL);
		close(fd);
		return;
	}
	run->zyg = NULL;
	z->pending--;
	run->zsrc = z;
	z->live++;
	run->hpid = h->pid;
	run->fd_pid = fd;
	handler_run_started(r, run);
}

/* clone failed: nothing runs; the run goes back to the queue, to be
 * forked (1). */
static int
zyg_nofork(struct handler_runner *r, struct zygote *z,
    const struct zyg_hdr *h)
{
	struct handler_run *run = zyg_run_by_id(r, h->id);

	if (run == NULL || run->zyg != z)
		return 0;
	log_debug("handler %s: zygote could not clone: %s", z->pol.action,
	    strerror(h->err));
	run->zyg = NULL;
	z->pending--;
	run->running = 0;
	run->flags |= RUN_COLD;
	zyg_close(&run->fd_out);
	zyg_close(&run->fd_err);
	return 1;
}

static void
zyg_runfail(struct handler_runner *r, const struct zyg_hdr *h,
    const char *text)
{
	struct handler_run *run = zyg_run_by_id(r, h->id);

	if (run == NULL)
		return;
	snprintf(run->msg, sizeof(run->msg), "%.*s", (int)h->len, text);
	run->flags |= RUN_SETUP_FAILED;
}

/* One message before its loop (the CHILD_MSG_* of a confined child). */
static void
zyg_setup_msg(struct handler_runner *r, struct zygote *z, const char *buf,
    size_t n, int fd)
{
	if (buf[0] == CHILD_MSG_LISTENER && n == 1 && fd >= 0 &&
	    z->state == ZS_STARTING) {
		z->fd_notify = fd;
		z->state = ZS_READY;
		log_debug("handler %s: zygote %d ready", z->pol.action,
		    (int)z->pid);
		return;
	}
	if (fd >= 0)
		close(fd);
	if (buf[0] == CHILD_MSG_NO_LISTENER || buf[0] == CHILD_MSG_FAILED) {
		log_warnx("handler %s: zygote setup: %.*s", z->pol.action,
		    (int)(n - 1), buf + 1);
		zyg_end(r, z, buf[0] == CHILD_MSG_FAILED ? "its setup failed" :
		    "no seccomp listener", 1);
	} else
		zyg_end(r, z, "a malformed message", 1);
}

static int
zyg_msg(struct handler_runner *r, struct zygote *z, const char *buf,
    size_t n, int fd)
{
	struct zyg_hdr h;

	if (z->state == ZS_STARTING) {
		zyg_setup_msg(r, z, buf, n, fd);
		return 0;
	}
	if (fd >= 0)
		close(fd);
	if (n < sizeof(h)) {
		zyg_end(r, z, "a malformed message", 1);
		return 0;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.len != n - sizeof(h) || (h.kind != ZYG_RUNFAIL && h.len != 0)) {
		zyg_end(r, z, "a malformed message", 1);
		return 0;
	}
	switch (h.kind) {
	case ZYG_STARTED:
		zyg_started(r, z, &h);
		return 0;
	case ZYG_NOFORK:
		return zyg_nofork(r, z, &h);
	case ZYG_RUNFAIL:
		zyg_runfail(r, &h, buf + sizeof(h));
		return 0;
	}
	zyg_end(r, z, "a malformed message", 1);
	return 0;
}

static int
zyg_read_chan(struct handler_runner *r, struct zygote *z)
{
	char buf[sizeof(struct zyg_hdr) + CHILD_MSG_MAX];
	ssize_t n;
	int requeue = 0, fd, flags;

	while (z->fd_chan >= 0) {
		n = fdpass_recv(z->fd_chan, buf, sizeof(buf), &fd, &flags);
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0 || (flags & (MSG_TRUNC | MSG_CTRUNC))) {
			if (fd >= 0)
				close(fd);
			zyg_end(r, z, n <= 0 ? "its channel closed" :
			    "a message too long", 1);
			break;
		}
		requeue |= zyg_msg(r, z, buf, (size_t)n, fd);
	}
	return requeue;
}

/* ---- what its filter says ---- */

static struct handler_run *
zyg_run_of(struct handler_runner *r, pid_t pid)
{
	struct handler_run *run;

	for (run = r->runs; run != NULL; run = run->next)
		if (run->running && !run->reaped && run->hpid > 0 &&
		    run->hpid == pid)
			return run;
	return NULL;
}

/*
 * The run a notifying process belongs to: the handler is the leader of
 * the run's session, and the parent (the subreaper) of what left it;
 * walk up until one is a run's handler.
 */
static struct handler_run *
zyg_whose(struct handler_runner *r, pid_t pid)
{
	struct handler_run *run = NULL;
	pid_t pp, sid;
	int depth;

	for (depth = 0; depth < ZYG_TREE_MAX && pid > 1; depth++) {
		if ((run = zyg_run_of(r, pid)) != NULL ||
		    handler_proc_stat(pid, &pp, &sid) == -1 ||
		    (run = zyg_run_of(r, sid)) != NULL)
			break;
		pid = pp;
	}
	return run;
}

/* Kill a notifying process that belongs to no run (once the kernel says
 * it is still the one asking). */
static void
zyg_kill_stray(struct zygote *z, const struct seccomp_notif *n)
{
	__u64 id = n->id;

	log_warnx("handler %s: pid %d, of no run, called syscall %d, which "
	    "profile %s kills: killed", z->pol.action, (int)n->pid,
	    n->data.nr, z->pol.seccomp);
	if (n->pid > 0 && ioctl(z->fd_notify, SECCOMP_IOCTL_NOTIF_ID_VALID,
	    &id) == 0)
		kill((pid_t)n->pid, SIGKILL);
}

/* The run a notification ends, now, later (held while pids are on
 * their way), or none: the caller killed alone. */
static void
zyg_place(struct handler_runner *r, struct zygote *z,
    const struct seccomp_notif *n)
{
	struct handler_run *run;

	if ((run = zyg_whose(r, (pid_t)n->pid)) != NULL) {
		handler_run_notified(run, n, z->fd_notify);
		handler_run_stop(run);
	} else if (z->pending > 0 && z->nheld < ZYG_HELD_MAX)
		z->held[z->nheld++] = *n;
	else
		zyg_kill_stray(z, n);
}

/* Held notifications, tried again once pids have come. */
static void
zyg_unhold(struct handler_runner *r, struct zygote *z)
{
	struct seccomp_notif held[ZYG_HELD_MAX];
	int n = z->nheld, i;

	memcpy(held, z->held, sizeof(held[0]) * (size_t)n);
	z->nheld = 0;
	for (i = 0; i < n && z->fd_notify >= 0; i++)
		zyg_place(r, z, &held[i]);
}

static void
zyg_read_notify(struct handler_runner *r, struct zygote *z, short revents)
{
	static union {
		struct seccomp_notif	n;
		char			b[ZYG_NOTIF_MAX];
	} u;
	if (!(revents & POLLIN)) {
		zyg_close(&z->fd_notify);	/* HUP: no one left under it */
		return;
	}
	memset(&u, 0, r->notif_size);
	if (ioctl(z->fd_notify, SECCOMP_IOCTL_NOTIF_RECV, &u) == -1) {
		if (errno != ENOENT && errno != EINTR)
			zyg_end(r, z, "its listener cannot be read", 1);
		return;		/* ENOENT: withdrawn, its caller killed */
	}
	if ((pid_t)u.n.pid == z->pid) {
		zyg_end(r, z, "its own call was refused by the profile", 1);
		return;
	}
	zyg_place(r, z, &u.n);
}

/* ---- the poll loop ---- */

size_t
zyg_fds(const struct handler_runner *r, struct pollfd *pfd, size_t max)
{
	const struct zygote *z;
	size_t n = 0;
	int i;

	for (z = r->zygotes; z != NULL; z = z->next) {
		int fds[HANDLER_ZYGOTE_FDS] = { z->fd_chan, z->fd_notify,
		    z->fd_pid };

		for (i = 0; i < HANDLER_ZYGOTE_FDS; i++)
			if (fds[i] >= 0 && n < max)
				pfd[n++] = (struct pollfd){ fds[i], POLLIN, 0 };
	}
	return n;
}

int
zyg_dispatch(struct handler_runner *r, const struct pollfd *pfd, size_t n,
    int64_t now)
{
	struct zygote *z;
	short ev;
	int requeue = 0;

	for (z = r->zygotes; z != NULL; z = z->next) {
		/* the channel first, whatever poll saw there: the pids
		 * the notifications may name; and its last words before
		 * its death */
		ev = handler_revents(pfd, n, z->fd_notify);
		if (z->pid > 0 && (ev != 0 || handler_revents(pfd, n, z->fd_chan)))
			requeue |= zyg_read_chan(r, z);
		if (z->fd_notify >= 0 && ev != 0)
			zyg_read_notify(r, z, ev);
		if (z->fd_notify >= 0 && z->nheld > 0)
			zyg_unhold(r, z);
		if (z->pid > 0 && handler_revents(pfd, n, z->fd_pid) != 0)
			zyg_end(r, z, "it exited", 1);
		if (z->pid > 0 && z->pending == 0 && z->live == 0 &&
		    z->state == ZS_READY && now - z->last_used >= ZYG_IDLE_MS) {
			log_debug("handler %s: zygote %d idle, ended",
			    z->pol.action, (int)z->pid);
			zyg_end(r, z, NULL, 0);
		}
	}
	return requeue;
}

int64_t
zyg_next(const struct handler_runner *r)
{
	const struct zygote *z;
	int64_t best = -1;

	for (z = r->zygotes; z != NULL; z = z->next)
		if (z->pid > 0 && z->state == ZS_READY && z->pending == 0 &&
		    z->live == 0 && (best == -1 || z->last_used + ZYG_IDLE_MS < best))
			best = z->last_used + ZYG_IDLE_MS;
	return best;
}

int
zyg_owns(const struct handler_runner *r, pid_t pid)
{
	const struct zygote *z;

	for (z = r->zygotes; z != NULL; z = z->next)
		if (z->pid > 0 && z->pid == pid)
			return 1;
	return 0;
}

int
zyg_pending(const struct handler_runner *r)
{
	const struct zygote *z;
	int n = 0;

	for (z = r->zygotes; z != NULL; z = z->next)
		n += z->pending;
	return n;
}
