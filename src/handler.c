/*
 * handler.c - find the handlers, and run a bounded number of them at
 * once from the monitor's poll loop: each a confined child forked
 * straight from here (src/handler_child.c), watched through a pidfd,
 * its timeout kept here, what it leaves behind swept once it has
 * exited (src/handler_reap.c).
 *
 * Discovery opens every candidate with O_NOFOLLOW and checks owner and
 * mode on the opened descriptor; that descriptor is the one executed
 * (execveat AT_EMPTY_PATH), so nothing can be swapped in between.  The
 * runner copies what a run needs, feeds stdin through a pipe sized to
 * hold it all before the fork (no stdin polling, no SIGPIPE), collects
 * stdout and stderr up to their caps, and turns the handler's wait
 * status into one outcome.
 *
 * A profile's kill is a seccomp user notification where the kernel
 * allows: the child hands the listener to the runner before its
 * execve, and the runner, reading a notification, names the syscall,
 * never lets it proceed, and kills the run (docs/handlers.md,
 * "Seccomp kills").
 */
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/capability.h>
#include <linux/seccomp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "config.h"
#include "fdpass.h"
#include "handler.h"
#include "handler_child.h"
#include "handler_reap.h"
#include "handler_run.h"
#include "handler_zygote.h"
#include "log.h"
#include "util.h"

/* ---- discovery ---- */

int
handler_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > HANDLER_NAME_MAX || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static const char *
handler_check(const struct stat *st, uid_t run_as)
{
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_uid != 0 && st->st_uid != run_as)
		return "not owned by root or its run-as user";
	if ((st->st_mode & 022) != 0)
		return "group or world writable";
	if ((st->st_mode & 0111) == 0)
		return "not executable";
	if ((st->st_mode & (S_ISUID | S_ISGID)) != 0)
		return "set-uid or set-gid";
	return NULL;
}

int
handler_open(int dirfd, const char *name, uid_t run_as, int *script,
    char *why, size_t whylen)
{
	const char *bad = NULL;
	struct stat st;
	char head[2];
	int fd;

	if (!handler_name_ok(name)) {
		snprintf(why, whylen, "name is not an action name");
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK | O_NOCTTY);
	if (fd == -1) {
		snprintf(why, whylen, "%s", errno == ELOOP ?
		    "a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || (bad = handler_check(&st, run_as))) {
		snprintf(why, whylen, "%s", bad ? bad : strerror(errno));
		close(fd);
		return -1;
	}
	*script = pread(fd, head, 2, 0) == 2 && head[0] == '#' &&
	    head[1] == '!';
	return fd;
}

static void
handler_refuse(struct handler_set *set, const char *name, const char *why)
{
	struct handler_refusal *r;

	if (set->nrefused == HANDLER_MAX)
		return;
	r = &set->refused[set->nrefused++];
	hive_strlcpy(r->name, name, sizeof(r->name));
	hive_strlcpy(r->why, why, sizeof(r->why));
}

int
handler_discover(const char *dir, handler_owner_fn owner, void *arg,
    struct handler_set *set)
{
	char why[128];
	struct dirent *d;
	DIR *dp;
	int dfd, fd, script;

	memset(set, 0, sizeof(*set));
	if ((dfd = config_open_dir(dir, set->error, sizeof(set->error))) ==
	    -1)
		return -1;
	if ((dp = fdopendir(dfd)) == NULL) {
		snprintf(set->error, sizeof(set->error), "%s: %s", dir,
		    strerror(errno));
		close(dfd);
		return -1;
	}
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;	/* ., .. and hidden files */
		if (!handler_name_ok(d->d_name)) {
			handler_refuse(set, d->d_name, "name is not an action "
			    "name ([a-z0-9][a-z0-9_-]{0,63})");
			continue;
		}
		if ((fd = handler_open(dfd, d->d_name, owner(arg, d->d_name),
		    &script, why, sizeof(why))) == -1) {
			handler_refuse(set, d->d_name, why);
			continue;
		}
		if (set->n == HANDLER_MAX) {
			close(fd);
			handler_refuse(set, d->d_name, "too many handlers");
			continue;
		}
		hive_strlcpy(set->h[set->n].action, d->d_name,
		    sizeof(set->h[0].action));
		set->h[set->n].fd = fd;
		set->h[set->n++].script = script;
	}
	closedir(dp);
	return 0;
}

void
handler_set_free(struct handler_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		close(set->h[i].fd);
	set->n = 0;
}

const struct handler_entry *
handler_find(const struct handler_set *set, const char *action)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->h[i].action, action) == 0)
			return &set->h[i];
	return NULL;
}

/* ---- running ---- */

static const char *const handler_outcomes[] = {
	[HANDLER_OK] = "ok",
	[HANDLER_ERROR] = "error",
	[HANDLER_BAD_OUTPUT] = "bad-output",
	[HANDLER_TIMEOUT] = "timeout",
	[HANDLER_KILLED_BY_SECCOMP] = "killed-by-seccomp",
	[HANDLER_KILLED] = "killed",
	[HANDLER_REFUSED] = "refused",
};

const char *
handler_outcome_name(enum handler_outcome o)
{
	if ((unsigned)o >= sizeof(handler_outcomes) / sizeof(handler_outcomes[0]))
		return "unknown";
	return handler_outcomes[o];
}

int64_t
handler_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The size of the kernel's struct seccomp_notif (it may grow: RECV
 * takes a zeroed buffer of exactly that size), 0 without user
 * notification. */
#define RUN_NOTIF_MAX	256

static size_t
runner_notif_size(void)
{
	struct seccomp_notif_sizes sz;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) == -1 ||
	    sz.seccomp_notif < sizeof(struct seccomp_notif) ||
	    sz.seccomp_notif > RUN_NOTIF_MAX)
		return 0;
	return sz.seccomp_notif;
}

void
handler_runner_init(struct handler_runner *r, int max_handlers,
    handler_done_fn done, void *arg)
{
	memset(r, 0, sizeof(*r));
	r->max_handlers = max_handlers;
	r->next_id = 1;
	r->done = done;
	r->arg = arg;
	/* fail closed: without it no run starts (handler_run_start) */
	r->reaper = handler_reap_init() == 0;
	r->notif_size = runner_notif_size();
	r->zygote_mode = HANDLER_ZYGOTE_AUTO;
}

void
handler_runner_set_zygote(struct handler_runner *r, int mode)
{
	r->zygote_mode = mode;	/* OFF: those there end when idle */
}

void
handler_runner_set_max(struct handler_runner *r, int max_handlers)
{
	r->max_handlers = max_handlers;
}

static void
run_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
run_free(struct handler_run *run)
{
	size_t i;

	if (run->zsrc != NULL)
		zyg_run_done(run);
	run_close(&run->exec_fd);
	run_close(&run->fd_out);
	run_close(&run->fd_err);
	run_close(&run->fd_chan);
	run_close(&run->fd_notify);
	run_close(&run->fd_pid);
	handler_bpf_free(&run->bpf);
	handler_bpf_free(&run->handoff);
	free(run->in);
	free(run->out);
	free(run->err);
	for (i = 0; i < RUN_ENV; i++)
		free(run->env[i]);
	free(run->state);
	free(run);
}

static int
run_env(struct handler_run *run, const struct handler_env *e)
{
	const char *fixed[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/",
	    "LANG=C.UTF-8" };
	const char *name[] = { "HIVE_NODE", "HIVE_ACTION", "HIVE_ID",
	    "HIVE_FROM" };
	const char *val[] = { e->node, e->action, e->id, e->from };
	size_t i;

	for (i = 0; i < 3; i++)
		if ((run->env[i] = strdup(fixed[i])) == NULL)
			return -1;
	for (i = 0; i < 4; i++)
		if (asprintf(&run->env[3 + i], "%s=%s", name[i],
		    val[i] != NULL ? val[i] : "") == -1) {
			run->env[3 + i] = NULL;
			return -1;
		}
	if (run->state != NULL && asprintf(&run->env[7], "HIVE_STATE_DIR=%s",
	    run->state) == -1) {
		run->env[7] = NULL;
		return -1;
	}
	return 0;
}

static struct handler_run *
run_new(const struct policy_handler *pol, const struct handler_bpf *bpf,
    int exec_fd, int script, const char *in, size_t inlen,
    const struct handler_env *e, const char *state)
{
	struct handler_run *run;

	if ((run = calloc(1, sizeof(*run))) == NULL)
		return NULL;
	if (state != NULL && (run->state = strdup(state)) == NULL) {
		free(run);
		return NULL;
	}
	run->fd_out = run->fd_err = run->fd_chan = run->fd_pid = -1;
	run->fd_notify = -1;
	run->pol = *pol;
	run->script = script;
	run->exec_fd = fcntl(exec_fd, F_DUPFD_CLOEXEC, 3);
	run->in = malloc(inlen + 1);
	if (run->exec_fd == -1 || run->in == NULL ||
	    handler_bpf_copy(&run->bpf, bpf) == -1 || run_env(run, e) == -1) {
		run_free(run);
		return NULL;
	}
	memcpy(run->in, in, inlen);
	run->inlen = inlen;
	return run;
}

/* Once per runner: why a seccomp kill cannot be named here. */
static void
runner_no_notify(struct handler_runner *r, const char *action,
    const char *why)
{
	if (r->notify_warned)
		return;
	r->notify_warned = 1;
	log_warnx("handler %s: %s; a seccomp kill is SIGSYS, its syscall "
	    "not named (said once)", action, why);
}

/*
 * The notify form for a forked run, or the kill program; built only
 * when the run is forked (a zygote has its own).  The child's channel
 * goes at the handler's RLIMIT_NOFILE (CHILD_FD_MIN at least, set at
 * handler_run_start), a number it can never hold: the prefix that lets
 * the child's sendmsg() through there is dead once the handler runs.
 * The child needs room above it to move descriptors.
 */
static void
run_notify_setup(struct handler_runner *r, struct handler_run *run)
{
	const char *why = NULL;
	struct rlimit rl;

	if (r->notif_size == 0)
		why = "no seccomp user notification in this kernel";
	else if (run->bpf.notify_len == 0)
		why = "libseccomp cannot compile the profile's notify form";
	else if (run->pol.files <= 0)
		why = "no files limit, so no descriptor it cannot hold";
	else if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur <= (rlim_t)run->chan_at + 8)
		why = "its files limit is not below the daemon's own";
	else if (handler_bpf_notify_handoff(&run->handoff, &run->bpf,
	    run->chan_at, 0) == -1)
		why = "cannot build its notify program";
	if (why != NULL)
		runner_no_notify(r, run->pol.action, why);
}

/* stdin: a pipe that holds the whole envelope, written and closed
 * before the fork */
static int
run_stdin(struct handler_run *run, int *rd)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((run->inlen > 65536 && fcntl(p[1], F_SETPIPE_SZ,
	    (int)run->inlen) == -1) || fcntl(p[1], F_SETFL, O_NONBLOCK) == -1 ||
	    (run->inlen > 0 && write(p[1], run->in, run->inlen) !=
	    (ssize_t)run->inlen)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	*rd = p[0];
	return 0;
}

void
handler_run_started(struct handler_runner *r, struct handler_run *run)
{
	if (r->started != NULL)
		r->started(r->arg, run->id, run->hpid);
}

/* The cold way: the runner forks the child, which confines itself. */
static int
run_fork(struct handler_runner *r, struct handler_run *run, int in,
    int out, int err)
{
	int chan[2] = { -1, -1 };
	struct child_spawn s;

	if (run->handoff.len == 0)	/* a zygote serves it otherwise */
		run_notify_setup(r, run);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) == -1)
		return -1;
	s = (struct child_spawn){ &run->pol, &run->bpf,
	    run->handoff.len > 0 ? &run->handoff : NULL, run->chan_at,
	    run->exec_fd, run->script, in, out, err, chan[1],
	    run->pol.action, run->env, 0, run->state };
	run->hpid = handler_child_spawn(&s);
	close(chan[1]);
	if (run->hpid == -1) {
		run->hpid = 0;
		close(chan[0]);
		return -1;
	}
	if ((run->fd_pid = handler_pidfd(run->hpid)) == -1) {
		run->hpid = 0;
		close(chan[0]);
		return -1;
	}
	run->fd_chan = chan[0];
	fcntl(run->fd_chan, F_SETFL, O_NONBLOCK);
	handler_run_started(r, run);
	return 0;
}

/* The handler started: pipes, then a zygote asked or the child forked
 * (its pid, and so its pidfd, come later from a zygote). */
static int
run_spawn(struct handler_runner *r, struct handler_run *run)
{
	int in = -1, out[2] = { -1, -1 }, err[2] = { -1, -1 }, rc = -1;

	if (run_stdin(run, &in) == -1 || pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(err, O_CLOEXEC) == -1)
		goto out;
	run->start = handler_now_ms();
	if ((run->flags & RUN_COLD) || zyg_request(r, run, in, out[1],
	    err[1]) == 0) {
		if (run_fork(r, run, in, out[1], err[1]) == -1)
			goto out;
	}
	run->fd_out = out[0];
	run->fd_err = err[0];
	out[0] = err[0] = -1;
	fcntl(run->fd_out, F_SETFL, O_NONBLOCK);
	fcntl(run->fd_err, F_SETFL, O_NONBLOCK);
	run->running = 1;
	run->t_term = run->start + run->pol.timeout_ms;
	run->t_kill = run->t_term + (run->pol.grace_ms > 0 ?
	    run->pol.grace_ms : 0);
	rc = 0;
out:
	run_close(&in);
	run_close(&out[0]); run_close(&out[1]);
	run_close(&err[0]); run_close(&err[1]);
	return rc;
}

static void
runner_count(const struct handler_runner *r, const char *action,
    int *total, int *mine, int *queued)
{
	const struct handler_run *run;

	*total = *mine = *queued = 0;
	for (run = r->runs; run != NULL; run = run->next) {
		int same = strcmp(run->pol.action, action) == 0;

		*total += run->running;
		*mine += run->running && same;
		*queued += !run->running && same;
	}
}

static void
runner_append(struct handler_runner *r, struct handler_run *run)
{
	struct handler_run **p;

	for (p = &r->runs; *p != NULL; p = &(*p)->next)
		;
	*p = run;
}

/* a limit below one would mean "never": it means one */
static int
at_least_one(int n)
{
	return n < 1 ? 1 : n;
}

static int
runner_fits(const struct handler_runner *r, const struct handler_run *run)
{
	int total, mine, queued;

	runner_count(r, run->pol.action, &total, &mine, &queued);
	return total < at_least_one(r->max_handlers) &&
	    mine < at_least_one(run->pol.concurrency);
}

/* Whether we may signal a process of uid (the timeout, the sweep):
 * one of our uids, or CAP_KILL in effect.  Without, a handler could
 * not be stopped: the run is refused. */
static int
runner_can_signal(uid_t uid)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (uid == getuid() || uid == geteuid())
		return 1;
	if (syscall(SYS_capget, &h, d) == -1)
		return 0;
	return (d[CAP_KILL / 32].effective & (1U << (CAP_KILL % 32))) != 0;
}

uint64_t
handler_run_start(struct handler_runner *r, const struct policy_handler *pol,
    const struct handler_bpf *bpf, int exec_fd, int script,
    const char *stdin_json, size_t stdin_len, const struct handler_env *e,
    char *why, size_t whylen)
{
	struct handler_run *run;
	char state[HANDLER_STATE_PATH_MAX];
	int total, mine, queued, now;

	runner_count(r, pol->action, &total, &mine, &queued);
	now = total < at_least_one(r->max_handlers) &&
	    mine < at_least_one(pol->concurrency);
	if (!now && queued >= pol->queue) {
		if (mine >= at_least_one(pol->concurrency))
			snprintf(why, whylen, "%d runs of %s at once and %d "
			    "waiting (its concurrency and queue)", mine,
			    pol->action, queued);
		else
			snprintf(why, whylen, "%d handler runs at once "
			    "(max_handlers) and %d of %s waiting (its queue)",
			    total, queued, pol->action);
		return 0;
	}
	if ((pol->private_tmp || pol->read_only_root) && geteuid() != 0) {
		snprintf(why, whylen, "private-tmp and read-only-root need the "
		    "daemon to run as root: unsupported here");
		return 0;
	}
	if (!r->reaper || !runner_can_signal(pol->uid)) {
		snprintf(why, whylen, !r->reaper ? "cannot become the reaper "
		    "of what handlers leave behind: unsupported here" :
		    "cannot signal the run-as user (CAP_KILL needed): "
		    "unsupported here");
		return 0;
	}
	if (stdin_len > HANDLER_STDIN_MAX || pol->uid == 0 ||
	    pol->timeout_ms <= 0) {
		snprintf(why, whylen, pol->uid == 0 ? "run-as user is root" :
		    pol->timeout_ms <= 0 ? "no timeout: a handler must end in "
		    "bounded time" : "envelope larger than %d bytes",
		    HANDLER_STDIN_MAX);
		return 0;
	}
	if (e->state_dir != NULL && handler_state_prepare(e->state_dir, pol,
	    state, sizeof(state), why, whylen) == -1)
		return 0;
	if ((run = run_new(pol, bpf, exec_fd, script, stdin_json, stdin_len,
	    e, e->state_dir != NULL ? state : NULL)) == NULL) {
		snprintf(why, whylen, "out of memory or descriptors");
		return 0;
	}
	run->chan_at = run->pol.files > CHILD_FD_MIN ? (int)run->pol.files :
	    CHILD_FD_MIN;
	run->id = r->next_id;
	if (now && run_spawn(r, run) == -1) {
		snprintf(why, whylen, "cannot start: %s", strerror(errno));
		run_free(run);
		return 0;
	}
	r->next_id++;
	runner_append(r, run);
	return run->id;
}

size_t
handler_runner_active(const struct handler_runner *r)
{
	const struct handler_run *run;
	size_t n = 0;

	for (run = r->runs; run != NULL; run = run->next)
		n++;
	return n;
}

size_t
handler_runner_fds(const struct handler_runner *r, struct pollfd *pfd,
    size_t max)
{
	const struct handler_run *run;
	size_t n = zyg_fds(r, pfd, max);

	for (run = r->runs; run != NULL; run = run->next) {
		/* the channel only while the listener may still come: what
		 * else it says is read once the child is reaped (a wakeup
		 * less per run) */
		int fds[HANDLER_RUN_FDS] = { run->fd_out, run->fd_err,
		    run->fd_pid, run->handoff.len > 0 && run->fd_notify == -1 &&
		    !run->reaped ? run->fd_chan : -1, run->fd_notify };
		int i;

		for (i = 0; i < HANDLER_RUN_FDS && run->running; i++)
			if (fds[i] >= 0 && n < max)
				pfd[n++] = (struct pollfd){ fds[i], POLLIN, 0 };
	}
	return n;
}

/* The next moment a run needs us without an event: its SIGTERM, its
 * SIGKILL, or its next sweep; -1 for none. */
static int64_t
run_next(const struct handler_run *run)
{
	if (!run->running)
		return -1;
	if (run->reaped)
		return run->sweeping ? run->t_sweep : -1;
	if (run->t_term >= 0)
		return run->t_term;
	return run->t_kill;
}

int
handler_runner_timeout(const struct handler_runner *r)
{
	const struct handler_run *run;
	int64_t now = handler_now_ms(), best = -1, t;

	if ((t = zyg_next(r)) >= 0)
		best = t < now ? 0 : t - now;
	for (run = r->runs; run != NULL; run = run->next) {
		if ((t = run_next(run)) < 0)
			continue;
		t = t < now ? 0 : t - now;
		if (best == -1 || t < best)
			best = t;
	}
	return best > 1000 ? 1000 : (int)best;
}

/* SIGKILL to the handler's process group and to the handler, which
 * cannot leave its group (a session leader): everything still in it.
 * Only before the handler is reaped, while its pid (and so its group
 * id) cannot name another process. */
static void
run_kill(struct handler_run *run, int sig)
{
	if (run->reaped || run->hpid <= 0)	/* a zygote's, not yet known */
		return;
	kill(-run->hpid, sig);
	if (sig == SIGKILL)
		kill(run->hpid, SIGKILL);
}

/* Stop everything now (idempotent): stdout over its cap, or the runner
 * going away. */
void
handler_run_stop(struct handler_run *run)
{
	run->flags |= RUN_STOPPED;
	run->t_term = run->t_kill = -1;
	run_kill(run, SIGKILL);
}

/* Read a capped stream; over the cap: stdout stops the run, stderr is
 * cut. */
static void
run_read(struct handler_run *run, int *fd, char **buf, size_t *len,
    int64_t cap, int is_out)
{
	char tmp[16384];
	ssize_t n;

	while ((n = read(*fd, tmp, sizeof(tmp))) > 0) {
		size_t room = *len < (size_t)cap ? (size_t)cap - *len : 0;
		size_t take = (size_t)n < room ? (size_t)n : room;
		char *nb;

		if (take > 0 && (nb = realloc(*buf, *len + take + 1)) != NULL) {
			memcpy(nb + *len, tmp, take);
			*len += take;
			nb[*len] = '\0';
			*buf = nb;
		}
		if (take < (size_t)n && is_out && !run->over_cap) {
			run->over_cap = 1;
			handler_run_stop(run);
		}
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		run_close(fd);
}

static void
run_read_out(struct handler_run *run)
{
	if (run->fd_out >= 0)
		run_read(run, &run->fd_out, &run->out, &run->outlen,
		    run->pol.stdout_max, 1);
}

static void
run_read_err(struct handler_run *run)
{
	if (run->fd_err >= 0)
		run_read(run, &run->fd_err, &run->err, &run->errlen,
		    run->pol.stderr_max, 0);
}

/* A message the child had no business sending: the run is stopped and
 * ends as a sandbox error. */
static void
run_chan_bad(struct handler_run *run, const char *what)
{
	log_warnx("handler %s: %s from the child; run stopped",
	    run->pol.action, what);
	hive_strlcpy(run->msg, what, sizeof(run->msg));
	run->flags |= RUN_SETUP_FAILED;
	run_close(&run->fd_chan);
	handler_run_stop(run);
}

static void
run_chan_msg(struct handler_runner *r, struct handler_run *run,
    const char *buf, size_t n, int fd, int flags)
{
	if (n >= 1 && buf[0] == CHILD_MSG_LISTENER && n == 1 && fd >= 0 &&
	    run->fd_notify == -1 && (flags & (MSG_TRUNC | MSG_CTRUNC)) == 0) {
		run->fd_notify = fd;
		return;
	}
	if (fd >= 0)
		close(fd);
	if (n >= 1 && buf[0] == CHILD_MSG_NO_LISTENER) {
		runner_no_notify(r, run->pol.action, "the kernel refused a "
		    "seccomp listener");
		log_debug("handler %s: no listener: %.*s", run->pol.action,
		    (int)(n - 1), buf + 1);
	} else if (n >= 1 && buf[0] == CHILD_MSG_FAILED) {
		memcpy(run->msg, buf + 1, n - 1);
		run->msg[n - 1] = '\0';
		run->flags |= RUN_SETUP_FAILED;
	} else
		run_chan_bad(run, "a malformed message");
}

/*
 * What the child says on its channel: the listener, no listener, or
 * why it failed.  Nothing but the child before its execve can write
 * there (close-on-exec, at a number the handler cannot hold), and EOF
 * comes at its execve or its end.
 */
static void
run_read_chan(struct handler_runner *r, struct handler_run *run)
{
	char buf[CHILD_MSG_MAX];
	ssize_t n;
	int fd, flags;

	while (run->fd_chan >= 0) {
		n = fdpass_recv(run->fd_chan, buf, sizeof(buf) - 1, &fd, &flags);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			run_close(&run->fd_chan);
			return;
		}
		run_chan_msg(r, run, buf, (size_t)n, fd, flags);
	}
}

/* The first notification names the run's end; every notifying process
 * is killed (once the kernel says the notification is still live, so
 * that its pid is still the one that asked). */
void
handler_run_notified(struct handler_run *run, const struct seccomp_notif *n,
    int listener)
{
	char *name;
	__u64 id = n->id;

	if (!(run->flags & RUN_SECCOMP)) {
		run->flags |= RUN_SECCOMP;
		run->nr = n->data.nr;
		run->arch = n->data.arch;
		if ((name = seccomp_syscall_resolve_num_arch(n->data.arch,
		    n->data.nr)) != NULL && strlen(name) < sizeof(run->syscall))
			hive_strlcpy(run->syscall, name, sizeof(run->syscall));
		free(name);
		log_warnx("handler %s: pid %d called %s (nr %d, arch 0x%x), "
		    "which profile %s kills", run->pol.action, (int)n->pid,
		    run->syscall[0] ? run->syscall : "an unknown syscall",
		    run->nr, run->arch, run->pol.seccomp);
	}
	/* pid 0: a process in a pid namespace we cannot see, which the
	 * group kill reaches (kill(0) would be our own group) */
	if (n->pid > 0 && n->pid <= INT32_MAX && ioctl(listener,
	    SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0)
		kill((pid_t)n->pid, SIGKILL);
}

/*
 * The listener is readable: one RECV (it blocks without a pending
 * notification, and it is one per POLLIN).  No answer is ever sent:
 * the call never runs, and the run is killed.  A notification gone
 * before we could read it (its caller took a signal first) still
 * proves a call the profile kills: the run ends the same, unnamed.
 * HUP alone: no process uses the filter any more.
 */
static void
run_read_notify(struct handler_runner *r, struct handler_run *run,
    short revents)
{
	static union {
		struct seccomp_notif	n;
		char			b[RUN_NOTIF_MAX];
	} u;

	if (!(revents & POLLIN)) {
		run_close(&run->fd_notify);
		return;
	}
	memset(&u, 0, r->notif_size);
	if (ioctl(run->fd_notify, SECCOMP_IOCTL_NOTIF_RECV, &u) == 0)
		handler_run_notified(run, &u.n, run->fd_notify);
	else if (errno == ENOENT && !(run->flags & RUN_SECCOMP)) {
		run->flags |= RUN_SECCOMP;
		run->nr = -1;
		log_warnx("handler %s: a call profile %s kills, withdrawn "
		    "before it was read", run->pol.action, run->pol.seccomp);
	} else if (errno != ENOENT && errno != EINTR) {
		log_warn("handler %s: reading the seccomp listener",
		    run->pol.action);
		run_close(&run->fd_notify);
	}
	if (run->flags & RUN_SECCOMP)
		handler_run_stop(run);
}

static int
run_is_live(void *arg, pid_t pid)
{
	const struct handler_runner *r = arg;
	const struct handler_run *run;

	for (run = r->runs; run != NULL; run = run->next)
		if (run->running && !run->reaped && run->hpid == pid)
			return 1;
	return zyg_owns(r, pid);
}

/* Kill what the handlers left; the run is over once nothing is left. */
static void
run_sweep(struct handler_runner *r, struct handler_run *run, int64_t now)
{
	int left;

	/* a zygote's child whose pid has not come yet would look like a
	 * stray: no sweep until every zygote has answered */
	if (zyg_pending(r) > 0) {
		run->sweeping = 1;
		run->t_sweep = now + RUN_SWEEP_MS;
		return;
	}
	left = handler_sweep(run_is_live, r, &run->leftovers);

	if (left == -1)
		log_warn("handler %s: cannot list our children, will retry",
		    run->pol.action);
	run->sweeping = left != 0;
	run->t_sweep = now + RUN_SWEEP_MS;
}

/* The handler has exited (its pidfd is readable): reap it. */
static void
run_reap(struct handler_runner *r, struct handler_run *run, int64_t now)
{
	pid_t pid;

	while ((pid = waitpid(run->hpid, &run->wstatus, WNOHANG)) == -1 &&
	    errno == EINTR)
		;
	if (pid == 0)
		return;		/* not yet */
	if (pid == -1)		/* a waitpid(-1) of the caller's */
		run->flags |= RUN_LOST;
	run->reaped = 1;
	run_close(&run->fd_pid);
	run_read_chan(r, run);
	run_sweep(r, run, now);
}

static void
run_deadlines(struct handler_runner *r, struct handler_run *run, int64_t now)
{
	if (run->zyg != NULL && run->t_term >= 0 && now >= run->t_term) {
		/* its zygote never answered: it is ended, and this run
		 * with it (failed, not re-run: a child may exist) */
		zyg_stuck(r, run->zyg);
		return;
	}
	if (run->t_term >= 0 && now >= run->t_term) {
		run->flags |= RUN_TIMED_OUT;
		run_kill(run, SIGTERM);
		run->t_term = -1;
	}
	if (run->t_term < 0 && run->t_kill >= 0 && now >= run->t_kill) {
		run_kill(run, SIGKILL);
		run->t_kill = -1;
	}
}

static void
run_output(const struct handler_run *run, struct handler_result *res)
{
	json_error_t je;

	res->output = json_loadb(run->out ? run->out : "", run->outlen,
	    JSON_REJECT_DUPLICATES, &je);
	if (res->output != NULL && json_is_object(res->output)) {
		res->outcome = HANDLER_OK;
		return;
	}
	json_decref(res->output);
	res->output = NULL;
	res->outcome = HANDLER_BAD_OUTPUT;
	snprintf(res->error, sizeof(res->error), "stdout is not one JSON "
	    "object: %s", je.text[0] ? je.text : "an array or a scalar");
}

static void
run_outcome_seccomp(const struct handler_run *run,
    struct handler_result *res)
{
	res->outcome = HANDLER_KILLED_BY_SECCOMP;
	hive_strlcpy(res->syscall, run->syscall, sizeof(res->syscall));
	if (run->syscall[0] != '\0')
		snprintf(res->error, sizeof(res->error), "syscall %s refused by "
		    "seccomp profile %s", run->syscall, run->pol.seccomp);
	else if (run->nr >= 0)
		snprintf(res->error, sizeof(res->error), "syscall %d (arch "
		    "0x%x) refused by seccomp profile %s", run->nr, run->arch,
		    run->pol.seccomp);
	else
		snprintf(res->error, sizeof(res->error), "a syscall refused by "
		    "seccomp profile %s (interrupted before it was read)",
		    run->pol.seccomp);
}

static void
run_outcome(const struct handler_run *run, struct handler_result *res)
{
	int ws = run->wstatus;

	if (run->flags & RUN_LOST) {
		res->outcome = HANDLER_ERROR;
		snprintf(res->error, sizeof(res->error), "exit status lost "
		    "(reaped elsewhere)");
		return;
	} else if (run->flags & RUN_SECCOMP) {
		run_outcome_seccomp(run, res);
	} else if (run->flags & RUN_SETUP_FAILED) {
		res->outcome = HANDLER_ERROR;
		snprintf(res->error, sizeof(res->error), "sandbox: %s",
		    run->msg);
	} else if (run->over_cap) {
		res->outcome = HANDLER_BAD_OUTPUT;
		snprintf(res->error, sizeof(res->error), "stdout over %lld bytes",
		    (long long)run->pol.stdout_max);
	} else if (run->flags & RUN_TIMED_OUT) {
		res->outcome = HANDLER_TIMEOUT;
		snprintf(res->error, sizeof(res->error), "no result after %lld "
		    "ms", (long long)run->pol.timeout_ms);
	} else if (WIFSIGNALED(ws)) {
		res->outcome = WTERMSIG(ws) == SIGSYS ?
		    HANDLER_KILLED_BY_SECCOMP : HANDLER_KILLED;
		snprintf(res->error, sizeof(res->error), "killed by signal %d%s",
		    WTERMSIG(ws), WTERMSIG(ws) == SIGSYS ? " (seccomp)" : "");
	} else if (WIFEXITED(ws) && WEXITSTATUS(ws) != 0) {
		res->outcome = HANDLER_ERROR;
		snprintf(res->error, sizeof(res->error), "exit %d: %.*s",
		    WEXITSTATUS(ws), (int)(run->errlen > 200 ? 200 : run->errlen),
		    run->err ? run->err : "");
	} else
		run_output(run, res);
	if (WIFEXITED(ws))
		res->exit_status = WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		res->signal = WTERMSIG(ws);
}

static void
run_finish(struct handler_runner *r, struct handler_run *run, int64_t now)
{
	struct handler_result res;

	memset(&res, 0, sizeof(res));
	res.id = run->id;
	hive_strlcpy(res.action, run->pol.action, sizeof(res.action));
	res.exit_status = -1;
	res.duration_ms = now - run->start;
	res.pid = run->hpid;
	res.leftovers = run->leftovers;
	res.zygote = run->zsrc != NULL;
	res.err = run->err;
	res.errlen = run->errlen;
	run_outcome(run, &res);
	if (r->done != NULL)
		r->done(r->arg, &res);
	json_decref(res.output);
}

static void
runner_unlink(struct handler_runner *r, struct handler_run *run)
{
	struct handler_run **p;

	for (p = &r->runs; *p != NULL; p = &(*p)->next)
		if (*p == run) {
			*p = run->next;
			return;
		}
}

/* A queued run could not start: it ends as an error. */
static void
run_fail_queued(struct handler_runner *r, struct handler_run *run)
{
	struct handler_result res;

	memset(&res, 0, sizeof(res));
	res.id = run->id;
	hive_strlcpy(res.action, run->pol.action, sizeof(res.action));
	res.outcome = HANDLER_ERROR;
	res.exit_status = -1;
	snprintf(res.error, sizeof(res.error), "cannot start: %s",
	    strerror(errno));
	if (r->done != NULL)
		r->done(r->arg, &res);
}

/* Start queued runs, oldest first, while they fit. */
static void
runner_schedule(struct handler_runner *r)
{
	struct handler_run *run, *next;

	for (run = r->runs; run != NULL; run = next) {
		next = run->next;
		if (run->running || !runner_fits(r, run))
			continue;
		if (run_spawn(r, run) == -1) {
			runner_unlink(r, run);
			run_fail_queued(r, run);
			run_free(run);
		}
	}
}

short
handler_revents(const struct pollfd *pfd, size_t n, int fd)
{
	size_t i;

	for (i = 0; fd >= 0 && i < n; i++)
		if (pfd[i].fd == fd)
			return pfd[i].revents;
	return 0;
}

static int
pfd_ready(const struct pollfd *pfd, size_t n, int fd)
{
	return handler_revents(pfd, n, fd) != 0;
}

/*
 * One run's events and deadlines.  It is over once the handler is
 * reaped and no stray is left: every process that could write to its
 * pipes is dead, so what they hold is read to the end (a descriptor
 * passed to a process outside the run cannot hold the run open).
 */
static int
run_step(struct handler_runner *r, struct handler_run *run,
    const struct pollfd *pfd, size_t n, int64_t now)
{
	if (pfd_ready(pfd, n, run->fd_out))
		run_read_out(run);
	if (pfd_ready(pfd, n, run->fd_err))
		run_read_err(run);
	/* the listener before the channel: one received now may have the
	 * number of a descriptor closed since the poll */
	if (pfd_ready(pfd, n, run->fd_notify))
		run_read_notify(r, run, handler_revents(pfd, n, run->fd_notify));
	if (pfd_ready(pfd, n, run->fd_chan))
		run_read_chan(r, run);
	if (!run->reaped && pfd_ready(pfd, n, run->fd_pid))
		run_reap(r, run, now);
	else if (run->reaped && run->sweeping && now >= run->t_sweep)
		run_sweep(r, run, now);
	if (!run->reaped)
		run_deadlines(r, run, now);
	if (!run->reaped || run->sweeping)
		return 0;
	run_read_out(run);
	run_read_err(run);
	run_close(&run->fd_out);
	run_close(&run->fd_err);
	return 1;
}

void
handler_runner_dispatch(struct handler_runner *r, const struct pollfd *pfd,
    size_t n)
{
	struct handler_run *run, *next;
	int64_t now = handler_now_ms();
	int ended = zyg_dispatch(r, pfd, n, now);

	for (run = r->runs; run != NULL; run = next) {
		next = run->next;
		if (!run->running || !run_step(r, run, pfd, n, now))
			continue;
		runner_unlink(r, run);
		run_finish(r, run, now);
		run_free(run);
		ended = 1;
	}
	if (ended)
		runner_schedule(r);
}

/* Every run killed, the handlers reaped and the strays swept, blocking:
 * SIGKILL has been sent to all of them. */
void
handler_runner_free(struct handler_runner *r)
{
	struct handler_run *run, *next;
	int n = 0;

	zyg_end_all(r);	/* its runs not started: failed, not re-run */
	for (run = r->runs; run != NULL; run = run->next)
		if (run->running)
			handler_run_stop(run);
	for (run = r->runs; run != NULL; run = run->next)
		if (run->running && !run->reaped) {
			while (waitpid(run->hpid, NULL, 0) == -1 &&
			    errno == EINTR)
				;
			run->reaped = 1;
		}
	while (r->runs != NULL && r->reaper &&
	    handler_sweep(run_is_live, r, &n) > 0)
		poll(NULL, 0, RUN_SWEEP_MS);
	for (run = r->runs; run != NULL; run = next) {
		next = run->next;
		run_free(run);
	}
	r->runs = NULL;
	zyg_free_all(r);
}
