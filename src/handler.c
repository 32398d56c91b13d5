/*
 * handler.c - find the handlers, and run them under a bounded number
 * of supervisors (src/handler_sup.c) driven by the monitor's poll loop.
 *
 * Discovery opens every candidate with O_NOFOLLOW and checks owner and
 * mode on the opened descriptor; that descriptor is the one executed
 * (execveat AT_EMPTY_PATH), so nothing can be swapped in between.  The
 * runner copies what a run needs, feeds stdin through a pipe sized to
 * hold it all before the fork (no stdin polling, no SIGPIPE), collects
 * stdout and stderr up to their caps, and turns the supervisor's
 * report into one outcome.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "handler.h"
#include "handler_sup.h"
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

static int
handler_dir_open(const char *dir, struct handler_set *set)
{
	struct stat st;
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC))
	    == -1) {
		snprintf(set->error, sizeof(set->error), "%s: %s", dir,
		    errno == ENOTDIR || errno == ELOOP ? "not a directory "
		    "(or a symbolic link)" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || (st.st_uid != 0 && st.st_uid != geteuid())
	    || (st.st_mode & 022) != 0) {
		snprintf(set->error, sizeof(set->error), "%s: not owned by "
		    "root (or us), or group/world writable", dir);
		close(fd);
		return -1;
	}
	return fd;
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
	if ((dfd = handler_dir_open(dir, set)) == -1)
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

#define RUN_ENV		8
#define RUN_BACKSTOP_MS	5000	/* beyond timeout + grace */

struct handler_run {
	struct handler_run	*next;
	uint64_t		 id;
	struct policy_handler	 pol;
	struct handler_bpf	 bpf;
	int			 exec_fd, script;
	char			*in;
	size_t			 inlen;
	char			*env[RUN_ENV];
	int			 running;
	pid_t			 sup, hpid;
	int			 fd_out, fd_err, fd_status, fd_ctl;
	char			*out, *err;
	size_t			 outlen, errlen;
	int			 over_cap;
	struct sup_status	 st;
	size_t			 stlen;	/* of the current record */
	int			 have_done;
	int64_t			 backstop;
};

static int64_t
handler_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

	run_close(&run->exec_fd);
	run_close(&run->fd_out);
	run_close(&run->fd_err);
	run_close(&run->fd_status);
	run_close(&run->fd_ctl);
	handler_bpf_free(&run->bpf);
	free(run->in);
	free(run->out);
	free(run->err);
	for (i = 0; i < RUN_ENV; i++)
		free(run->env[i]);
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
	return 0;
}

static struct handler_run *
run_new(const struct policy_handler *pol, const struct handler_bpf *bpf,
    int exec_fd, int script, const char *in, size_t inlen,
    const struct handler_env *e)
{
	struct handler_run *run;

	if ((run = calloc(1, sizeof(*run))) == NULL)
		return NULL;
	run->fd_out = run->fd_err = run->fd_status = run->fd_ctl = -1;
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

static int
run_spawn(struct handler_run *run)
{
	int in = -1, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int st[2] = { -1, -1 }, ctl[2] = { -1, -1 }, rc = -1;
	struct sup_spawn s;

	if (run_stdin(run, &in) == -1 || pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(err, O_CLOEXEC) == -1 || pipe2(st, O_CLOEXEC) == -1 ||
	    pipe2(ctl, O_CLOEXEC) == -1)
		goto out;
	memset(&s, 0, sizeof(s));
	s.pol = &run->pol;
	s.bpf = &run->bpf;
	s.exec_fd = run->exec_fd;
	s.script = run->script;
	s.fd_in = in;
	s.fd_out = out[1];
	s.fd_err = err[1];
	s.fd_status = st[1];
	s.fd_ctl = ctl[0];
	s.argv0 = run->pol.action;
	s.envp = run->env;
	if ((run->sup = handler_sup_spawn(&s)) == -1)
		goto out;
	run->fd_out = out[0];
	run->fd_err = err[0];
	run->fd_status = st[0];
	run->fd_ctl = ctl[1];
	out[0] = err[0] = st[0] = ctl[1] = -1;
	fcntl(run->fd_out, F_SETFL, O_NONBLOCK);
	fcntl(run->fd_err, F_SETFL, O_NONBLOCK);
	fcntl(run->fd_status, F_SETFL, O_NONBLOCK);
	run->running = 1;
	run->backstop = handler_now_ms() + RUN_BACKSTOP_MS +
	    run->pol.timeout_ms + (run->pol.grace_ms > 0 ? run->pol.grace_ms :
	    0);
	rc = 0;
out:
	run_close(&in);
	run_close(&out[0]); run_close(&out[1]);
	run_close(&err[0]); run_close(&err[1]);
	run_close(&st[0]); run_close(&st[1]);
	run_close(&ctl[0]); run_close(&ctl[1]);
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

uint64_t
handler_run_start(struct handler_runner *r, const struct policy_handler *pol,
    const struct handler_bpf *bpf, int exec_fd, int script,
    const char *stdin_json, size_t stdin_len, const struct handler_env *e,
    char *why, size_t whylen)
{
	struct handler_run *run;
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
	if (stdin_len > HANDLER_STDIN_MAX || pol->uid == 0 ||
	    pol->timeout_ms <= 0) {
		snprintf(why, whylen, pol->uid == 0 ? "run-as user is root" :
		    pol->timeout_ms <= 0 ? "no timeout: a handler must end in "
		    "bounded time" : "envelope larger than %d bytes",
		    HANDLER_STDIN_MAX);
		return 0;
	}
	if ((run = run_new(pol, bpf, exec_fd, script, stdin_json, stdin_len,
	    e)) == NULL) {
		snprintf(why, whylen, "out of memory or descriptors");
		return 0;
	}
	if (now && run_spawn(run) == -1) {
		snprintf(why, whylen, "cannot start: %s", strerror(errno));
		run_free(run);
		return 0;
	}
	run->id = r->next_id++;
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
	size_t n = 0;

	for (run = r->runs; run != NULL; run = run->next) {
		int fds[3] = { run->fd_out, run->fd_err, run->fd_status };
		int i;

		for (i = 0; i < 3 && run->running; i++)
			if (fds[i] >= 0 && n < max)
				pfd[n++] = (struct pollfd){ fds[i], POLLIN, 0 };
	}
	return n;
}

int
handler_runner_timeout(const struct handler_runner *r)
{
	const struct handler_run *run;
	int64_t now = handler_now_ms(), best = -1;

	for (run = r->runs; run != NULL; run = run->next) {
		int64_t d = run->backstop - now;

		if (!run->running)
			continue;
		if (best == -1 || d < best)
			best = d < 0 ? 0 : d;
	}
	return best > 1000 ? 1000 : (int)best;
}

/* Ask the supervisor to stop everything now (idempotent). */
static void
run_stop(struct handler_run *run)
{
	char c = 's';

	/* an error means it is gone already: its report is on the way */
	if (run->fd_ctl >= 0 && write(run->fd_ctl, &c, 1) != 1)
		log_debug("handler: supervisor %d: stop: %s", (int)run->sup,
		    strerror(errno));
	run_close(&run->fd_ctl);
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
			run_stop(run);
		}
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		run_close(fd);
}

static void
run_status(struct handler_runner *r, struct handler_run *run)
{
	ssize_t n;

	while ((n = read(run->fd_status, (char *)&run->st + run->stlen,
	    sizeof(run->st) - run->stlen)) > 0) {
		run->stlen += (size_t)n;
		if (run->stlen < sizeof(run->st))
			continue;
		run->stlen = 0;
		run->hpid = run->st.pid;
		if (run->st.type == SUP_STARTED && r->started != NULL)
			r->started(r->arg, run->id, run->hpid);
		if (run->st.type == SUP_DONE)
			run->have_done = 1;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		run_close(&run->fd_status);
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
run_outcome(const struct handler_run *run, struct handler_result *res)
{
	int ws = run->st.wstatus;

	if (!run->have_done) {
		res->outcome = HANDLER_ERROR;
		snprintf(res->error, sizeof(res->error), "supervisor died");
	} else if (run->st.flags & SUP_SETUP_FAILED) {
		res->outcome = HANDLER_ERROR;
		snprintf(res->error, sizeof(res->error), "sandbox: %.*s",
		    (int)sizeof(run->st.msg), run->st.msg);
	} else if (run->over_cap) {
		res->outcome = HANDLER_BAD_OUTPUT;
		snprintf(res->error, sizeof(res->error), "stdout over %lld bytes",
		    (long long)run->pol.stdout_max);
	} else if (run->st.flags & SUP_TIMED_OUT) {
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
	if (run->have_done && WIFEXITED(ws))
		res->exit_status = WEXITSTATUS(ws);
	if (run->have_done && WIFSIGNALED(ws))
		res->signal = WTERMSIG(ws);
}

static void
run_finish(struct handler_runner *r, struct handler_run *run)
{
	struct handler_result res;

	while (waitpid(run->sup, NULL, 0) == -1 && errno == EINTR)
		;	/* ECHILD: the caller reaped it; the report is here */
	memset(&res, 0, sizeof(res));
	res.id = run->id;
	hive_strlcpy(res.action, run->pol.action, sizeof(res.action));
	res.exit_status = -1;
	res.duration_ms = run->st.duration_ms;
	res.pid = run->hpid;
	res.leftovers = run->st.leftovers;
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
		if (run_spawn(run) == -1) {
			runner_unlink(r, run);
			run_fail_queued(r, run);
			run_free(run);
		}
	}
}

static int
pfd_ready(const struct pollfd *pfd, size_t n, int fd)
{
	size_t i;

	for (i = 0; fd >= 0 && i < n; i++)
		if (pfd[i].fd == fd)
			return pfd[i].revents != 0;
	return 0;
}

static int
run_step(struct handler_runner *r, struct handler_run *run,
    const struct pollfd *pfd, size_t n, int64_t now)
{
	if (pfd_ready(pfd, n, run->fd_out))
		run_read(run, &run->fd_out, &run->out, &run->outlen,
		    run->pol.stdout_max, 1);
	if (pfd_ready(pfd, n, run->fd_err))
		run_read(run, &run->fd_err, &run->err, &run->errlen,
		    run->pol.stderr_max, 0);
	if (pfd_ready(pfd, n, run->fd_status))
		run_status(r, run);
	if (now >= run->backstop && run->fd_status >= 0) {
		kill(run->sup, SIGKILL);	/* its pipes close */
		run->backstop = now + RUN_BACKSTOP_MS;
	}
	return run->fd_status == -1 && run->fd_out == -1 && run->fd_err == -1;
}

void
handler_runner_dispatch(struct handler_runner *r, const struct pollfd *pfd,
    size_t n)
{
	struct handler_run *run, *next;
	int64_t now = handler_now_ms();
	int ended = 0;

	for (run = r->runs; run != NULL; run = next) {
		next = run->next;
		if (!run->running || !run_step(r, run, pfd, n, now))
			continue;
		runner_unlink(r, run);
		run_finish(r, run);
		run_free(run);
		ended = 1;
	}
	if (ended)
		runner_schedule(r);
}

void
handler_runner_free(struct handler_runner *r)
{
	struct handler_run *run, *next;

	for (run = r->runs; run != NULL; run = run->next)
		if (run->running)
			run_stop(run);
	for (run = r->runs; run != NULL; run = next) {
		next = run->next;
		if (run->running)
			while (waitpid(run->sup, NULL, 0) == -1 &&
			    errno == EINTR)
				;
		run_free(run);
	}
	r->runs = NULL;
}
