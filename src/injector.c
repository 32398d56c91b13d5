/*
 * injector.c - hive-daemon's smallest role: it wakes the local OpenClaw
 * agent.
 *
 * One injector runs per distinct instance user (instances.h), as that
 * user, for the instances of that user.  It takes one request type,
 * {tag, instance, mode, text, session}, from the router only, checks
 * it (an instance of ours, mode now|next-heartbeat, text length cap,
 * no NUL), queues it with a bound and runs the configured `openclaw`
 * binary by execve() with an argv, never a shell:
 *
 *   event       openclaw system event --text TEXT --mode MODE --json
 *                 [--session-key KEY] [--port P | --url URL]
 *   agent-turn  openclaw agent --agent ID --session-id S --json
 *                 --message TEXT        (--session-key KEY instead of
 *                 --session-id when the router names a session)
 *
 * The gateway token and password travel in the child's environment
 * (OPENCLAW_GATEWAY_TOKEN, OPENCLAW_GATEWAY_PASSWORD), read here from
 * the instance's token-file before privileges are dropped; never in
 * argv, where every local user could read them in /proc.  `openclaw
 * agent` has no --port/--url, so an agent-turn instance gets them as
 * OPENCLAW_GATEWAY_PORT / OPENCLAW_GATEWAY_URL.
 *
 * A call counts as delivered only when its JSON says so ("ok": true
 * for an event; "status" "ok" or "completed" for an agent turn): the
 * exit status alone is not trusted.  An event is retried with backoff;
 * an agent turn is not (a retry could run the agent twice), and its
 * reply text goes back to the router, which answers the command with
 * it.  One call runs at a time per instance (a gateway takes seconds
 * per call and its agent reads events in order anyway); instances run
 * side by side.
 *
 * SIGTERM drains: queued calls are handed back to the router as
 * "deferred" (its journal keeps them for the next start), running ones
 * may finish for up to INJ_DRAIN_MS and are deferred too if they do
 * not, then the injector exits 0.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "corr.h"
#include "daemon.h"
#include "instances.h"
#include "ipc.h"
#include "log.h"
#include "mqtt.h"
#include "sandbox.h"
#include "util.h"

#define INJ_QUEUE		DAEMON_INJECT_QUEUE
#define INJ_EVENT_ATTEMPTS	3
#define INJ_EVENT_TIMEOUT_MS	30000
#define INJ_AGENT_TIMEOUT_MS	630000	/* the CLI's own 600 s, and some */
#define INJ_DRAIN_MS		20000
#define INJ_OUT_MAX		65536
#define INJ_SECRET_MAX		4096
#define INJ_REPLY_MAX		16000	/* fits a response envelope */
#define INJ_ANSWER_LOG		200	/* bytes of the CLI's answer logged */

struct inj_job {
	int		 used, running;
	uint32_t	 tag;
	uint64_t	 seq;		/* arrival order */
	size_t		 inst;
	char		 mode[16];
	char		 session[CORR_SESSION_MAX + 1];	/* "" : none */
	char		*text;
	int		 attempts;
	long long	 not_before;	/* ms, for retry backoff */
};

/* One local instance this injector serves. */
struct inj_inst {
	struct policy_instance	 pi;
	char			 home[CONFIG_PATH_MAX];
	char			*token_env;	/* "OPENCLAW_GATEWAY_TOKEN=..." */
	char			*password_env;
	pid_t			 child;		/* running call, or 0 */
	struct inj_job		*job;
	int			 out_fd;
	char			 out[INJ_OUT_MAX + 1];
	size_t			 outlen;
	int			 overflow;
	long long		 deadline;
};

struct injector {
	const struct config	*cfg;
	struct inj_inst		 inst[CONFIG_MAX_NODES];
	size_t			 ninst;
	struct inj_job		 q[INJ_QUEUE];
	uint64_t		 next_seq;
	int			 draining;
	long long		 drain_deadline;
	pid_t			 self;
};

static volatile sig_atomic_t inj_quit, inj_hup;
static struct injector *inj_exiting;	/* for inj_atexit */

static void
inj_on_term(int sig)
{
	inj_quit = 1;
}

static void
inj_on_hup(int sig)
{
	inj_hup = 1;
}

/*
 * A SIGHUP meant for the monitor (the same program name): pass it on.
 * The only message we send the monitor, sixteen bytes on an otherwise
 * silent link: it does not block.
 */
static void
inj_pass_hup(void)
{
	if (!inj_hup)
		return;
	inj_hup = 0;
	log_info("SIGHUP: passed on to the monitor, which reloads");
	if (ipc_send(DAEMON_FD_MONITOR, IMSG_HUP, 0, NULL, 0) == -1)
		log_warn("SIGHUP: not passed on");	/* it is going too */
}

/* The router's link failed: after SIGTERM it went first, else fatal. */
static void
inj_link_lost(const struct injector *j)
{
	if (j != NULL && j->draining)	/* nobody left to tell */
		exit(0);
	fatalx("router link closed");
}

static void
inj_report(uint32_t tag, uint32_t status, const char *detail,
    const char *reply)
{
	struct ipc_writer w = { 0 };

	ipc_put_u32(&w, tag);
	ipc_put_u32(&w, status);
	ipc_put_str(&w, detail);
	ipc_put_str(&w, reply);
	/* queued, never blocking: the router may itself be blocked
	 * sending us a request, and neither would read again */
	if (ipc_send_queued(DAEMON_FD_PEER, IMSG_INJECT_DONE, 0, w.p,
	    w.len) == -1)
		inj_link_lost(inj_exiting);
	ipc_writer_free(&w);
}

static void
inj_job_free(struct inj_job *job)
{
	free(job->text);
	memset(job, 0, sizeof(*job));
}

/* --- set-up: instances, secrets -------------------------------------- */

/*
 * A gateway secret file: a regular file (no symlink), owned by root or
 * the instance's user, readable by nobody else, one line.  Returns the
 * "NAME=secret" environment string in guarded memory.
 */
static char *
inj_secret(const char *path, const char *env, uid_t owner)
{
	char buf[INJ_SECRET_MAX + 1], *s;
	struct stat st;
	ssize_t n;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		fatal("%s", path);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		fatalx("%s: not a regular file", path);
	if ((st.st_mode & 077) != 0)
		fatalx("%s: readable or writable by others (chmod 600)", path);
	if (st.st_uid != 0 && st.st_uid != owner && st.st_uid != geteuid())
		fatalx("%s: owned by uid %u", path, (unsigned)st.st_uid);
	if ((n = read(fd, buf, INJ_SECRET_MAX + 1)) < 0)
		fatal("%s", path);
	close(fd);
	if (n > INJ_SECRET_MAX)
		fatalx("%s: larger than %d bytes", path, INJ_SECRET_MAX);
	len = strcspn(buf, "\r\n");
	if ((size_t)n < len)
		len = (size_t)n;
	buf[len] = '\0';
	if (len == 0 || !hive_printable(buf, len))
		fatalx("%s: empty, or not one line of printable text", path);
	if ((s = sodium_malloc(strlen(env) + 1 + len + 1)) == NULL)
		fatal("sodium_malloc");
	snprintf(s, strlen(env) + 1 + len + 1, "%s=%s", env, buf);
	sodium_memzero(buf, sizeof(buf));
	return s;
}

static void
inj_instances(struct injector *j, const struct policy *p, int slot)
{
	struct inj_inst *in;
	struct passwd *pw;
	size_t i;

	for (i = 0; i < p->ninstances; i++) {
		if (instances_slot(p, p->instances[i].node) != slot)
			continue;
		in = &j->inst[j->ninst++];
		in->pi = p->instances[i];
		in->out_fd = -1;
		/* the CLI finds its own configuration under HOME */
		pw = getpwnam(in->pi.user);
		hive_strlcpy(in->home, pw != NULL ? pw->pw_dir : "/",
		    sizeof(in->home));
		if (in->pi.token_file[0] != '\0')
			in->token_env = inj_secret(in->pi.token_file,
			    "OPENCLAW_GATEWAY_TOKEN", in->pi.uid);
		if (in->pi.password_file[0] != '\0')
			in->password_env = inj_secret(in->pi.password_file,
			    "OPENCLAW_GATEWAY_PASSWORD", in->pi.uid);
		log_info("instance %s: %s as %s", in->pi.node,
		    in->pi.inject == INJECT_AGENT_TURN ? "agent-turn" : "event",
		    in->pi.user);
	}
	if (j->ninst == 0)
		fatalx("injector %d serves no instance", slot);
}

/* --- requests from the router ---------------------------------------- */

static int
inj_find_instance(const struct injector *j, const char *node, size_t *out)
{
	size_t i;

	for (i = 0; i < j->ninst; i++)
		if (strcmp(j->inst[i].pi.node, node) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

static struct inj_job *
inj_free_slot(struct injector *j)
{
	size_t i;

	for (i = 0; i < INJ_QUEUE; i++)
		if (!j->q[i].used)
			return &j->q[i];
	return NULL;
}

/* IMSG_INJECT.  The router never has more than INJ_QUEUE of ours
 * outstanding, so a full queue here is its bug, not load. */
static void
inj_request(const struct ipc_msg *msg, void *arg)
{
	struct injector *j = arg;
	struct ipc_reader rd;
	const char *instance, *mode, *text, *session;
	struct inj_job *job;
	uint32_t tag;
	size_t inst;

	ipc_reader_init(&rd, msg);
	tag = ipc_get_u32(&rd);
	instance = ipc_get_str(&rd);
	mode = ipc_get_str(&rd);
	text = ipc_get_str(&rd);
	session = ipc_get_str(&rd);
	if (ipc_reader_done(&rd) == -1 || instance == NULL || mode == NULL ||
	    text == NULL || session == NULL ||
	    inj_find_instance(j, instance, &inst) == -1 ||
	    (strcmp(mode, "now") != 0 && strcmp(mode, "next-heartbeat") != 0) ||
	    strlen(text) > INJECT_TEXT_MAX ||
	    (session[0] != '\0' && !corr_valid_session(session)))
		fatalx("router sent a malformed injection request");
	if (j->draining) {
		inj_report(tag, INJECT_DEFERRED, "draining", "");
		return;
	}
	if ((job = inj_free_slot(j)) == NULL)
		fatalx("router overran the injection queue (%d)", INJ_QUEUE);
	job->used = 1;
	job->tag = tag;
	job->seq = j->next_seq++;
	job->inst = inst;
	hive_strlcpy(job->mode, mode, sizeof(job->mode));
	hive_strlcpy(job->session, session, sizeof(job->session));
	if ((job->text = strdup(text)) == NULL)
		fatal("strdup");
}

/* --- running the CLI --------------------------------------------------- */

static int
inj_event_argv(const struct inj_inst *in, const struct inj_job *job,
    char *port, size_t portlen, char **argv)
{
	int i = 0;

	argv[i++] = "openclaw";
	argv[i++] = "system";
	argv[i++] = "event";
	argv[i++] = "--text";
	argv[i++] = job->text;
	argv[i++] = "--mode";
	argv[i++] = (char *)job->mode;
	argv[i++] = "--json";
	if (job->session[0] != '\0') {
		argv[i++] = "--session-key";
		argv[i++] = (char *)job->session;
	}
	if (in->pi.port > 0) {
		snprintf(port, portlen, "%d", in->pi.port);
		argv[i++] = "--port";
		argv[i++] = port;
	} else if (in->pi.url[0] != '\0') {
		argv[i++] = "--url";
		argv[i++] = (char *)in->pi.url;
	}
	return i;
}

static int
inj_agent_argv(const struct inj_inst *in, const struct inj_job *job,
    char **argv)
{
	int i = 0;

	argv[i++] = "openclaw";
	argv[i++] = "agent";
	argv[i++] = "--agent";
	argv[i++] = (char *)in->pi.agent;
	if (job->session[0] != '\0') {
		argv[i++] = "--session-key";
		argv[i++] = (char *)job->session;
	} else {
		argv[i++] = "--session-id";
		argv[i++] = (char *)in->pi.session;
	}
	argv[i++] = "--json";
	argv[i++] = "--message";
	argv[i++] = job->text;
	return i;
}

/* A short, fixed environment: nothing of ours leaks into the CLI. */
static void
inj_envp(const struct inj_inst *in, char *home, size_t homelen,
    char *where, size_t wherelen, char **envp)
{
	int i = 0;

	envp[i++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	envp[i++] = "LANG=C.UTF-8";
	snprintf(home, homelen, "HOME=%s", in->home);
	envp[i++] = home;
	if (in->token_env != NULL)
		envp[i++] = in->token_env;
	if (in->password_env != NULL)
		envp[i++] = in->password_env;
	if (in->pi.inject == INJECT_AGENT_TURN && in->pi.port > 0) {
		snprintf(where, wherelen, "OPENCLAW_GATEWAY_PORT=%d",
		    in->pi.port);
		envp[i++] = where;
	} else if (in->pi.inject == INJECT_AGENT_TURN && in->pi.url[0]) {
		snprintf(where, wherelen, "OPENCLAW_GATEWAY_URL=%s",
		    in->pi.url);
		envp[i++] = where;
	}
	envp[i] = NULL;
}

static void
inj_exec(const struct injector *j, const struct inj_inst *in,
    const struct inj_job *job, int out)
{
	char port[16], home[CONFIG_PATH_MAX + 8], where[CONFIG_PATH_MAX + 32];
	char *argv[20], *envp[8];
	int n, devnull;

	/* its own session (killed whole at the timeout), and gone with
	 * us should we die without a word (SIGKILL, the OOM killer) */
	if (setsid() == -1 || prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
	    getppid() != j->self || dup2(out, STDOUT_FILENO) == -1)
		_exit(126);
	if ((devnull = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(devnull, STDIN_FILENO) == -1)
		_exit(126);
	if (close_range(3, ~0U, 0) == -1)
		_exit(126);
	n = in->pi.inject == INJECT_AGENT_TURN ? inj_agent_argv(in, job, argv) :
	    inj_event_argv(in, job, port, sizeof(port), argv);
	argv[n] = NULL;
	inj_envp(in, home, sizeof(home), where, sizeof(where), envp);
	execve(j->cfg->openclaw, argv, envp);
	_exit(127);
}

static void
inj_start(struct injector *j, struct inj_inst *in, struct inj_job *job)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe2");
	if ((in->child = fork()) == -1)
		fatal("fork");
	if (in->child == 0)
		inj_exec(j, in, job, p[1]);
	close(p[1]);
	in->out_fd = p[0];
	in->outlen = 0;
	in->overflow = 0;
	in->job = job;
	job->running = 1;
	job->attempts++;
	in->deadline = mqtt_now_ms() + (in->pi.inject == INJECT_AGENT_TURN ?
	    INJ_AGENT_TIMEOUT_MS : INJ_EVENT_TIMEOUT_MS);
	if (j->draining && in->deadline > j->drain_deadline)
		in->deadline = j->drain_deadline;
	log_debug("openclaw %s instance=%s attempt=%d",
	    in->pi.inject == INJECT_AGENT_TURN ? "agent" : "system event",
	    in->pi.node, job->attempts);
}

/* The oldest runnable job of each idle instance starts now. */
static void
inj_schedule(struct injector *j, long long now)
{
	struct inj_job *best;
	size_t i, k;

	if (j->draining)
		return;
	for (i = 0; i < j->ninst; i++) {
		if (j->inst[i].child != 0)
			continue;
		best = NULL;
		for (k = 0; k < INJ_QUEUE; k++) {
			struct inj_job *q = &j->q[k];

			if (q->used && !q->running && q->inst == i &&
			    q->not_before <= now &&
			    (best == NULL || q->seq < best->seq))
				best = q;
		}
		if (best != NULL)
			inj_start(j, &j->inst[i], best);
	}
}

/* --- results ----------------------------------------------------------- */

/* An agent turn's reply: the text of its payloads, one per line, cut
 * (at a character boundary) to what a response envelope carries. */
static void
inj_agent_reply(json_t *o, char *reply, size_t len)
{
	static char all[INJ_OUT_MAX + 1];
	json_t *payloads, *pl;
	size_t i, used = 0;

	all[0] = '\0';
	payloads = json_object_get(json_object_get(o, "result"), "payloads");
	json_array_foreach(payloads, i, pl) {
		const char *t = json_string_value(json_object_get(pl, "text"));

		if (t == NULL || t[0] == '\0' || used >= sizeof(all) - 1)
			continue;
		used += (size_t)snprintf(all + used, sizeof(all) - used,
		    "%s%s", used ? "\n" : "", t);
		if (used > sizeof(all) - 1)
			used = sizeof(all) - 1;
	}
	corr_cut_utf8(reply, len - 1, all);
}

/* Did the CLI say it delivered?  (An agent turn's reply in reply.) */
static int
inj_ok(const struct inj_inst *in, char *reply, size_t len)
{
	json_t *o = json_loadb(in->out, in->outlen, 0, NULL);
	const char *st;
	int ok;

	reply[0] = '\0';
	if (in->pi.inject == INJECT_EVENT)
		ok = json_is_object(o) && json_is_true(json_object_get(o, "ok"));
	else {
		st = json_string_value(json_object_get(o, "status"));
		ok = st != NULL && (strcmp(st, "ok") == 0 ||
		    strcmp(st, "completed") == 0);
		if (ok)
			inj_agent_reply(o, reply, len);
	}
	json_decref(o);
	return ok;
}

/*
 * The CLI's answer, one log line per call: what an operator needs to
 * see why a gateway said no.  Its stdout is the gateway's words, not
 * ours: at most INJ_ANSWER_LOG bytes, printable ASCII only (a run of
 * blanks and line breaks is one space, any other byte '?'), so it can
 * neither forge log lines nor flood the log.  An agent turn's reply is
 * the agent's text, already sent on the bus; it is cut the same way.
 */
static void
inj_log_answer(const struct inj_inst *in, int status, int timed_out)
{
	char line[INJ_ANSWER_LOG + 4];
	size_t i, n = 0;

	for (i = 0; i < in->outlen && n < INJ_ANSWER_LOG; i++) {
		unsigned char c = (unsigned char)in->out[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (n > 0 && line[n - 1] != ' ')
				line[n++] = ' ';
		} else
			line[n++] = c > 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (n > 0 && line[n - 1] == ' ')
		n--;
	if (i < in->outlen) {
		memcpy(line + n, "...", 3);
		n += 3;
	}
	line[n] = '\0';
	if (n == 0)
		hive_strlcpy(line, "(nothing)", sizeof(line));
	if (timed_out)
		log_info("openclaw instance=%s timeout answered: %s",
		    in->pi.node, line);
	else if (WIFEXITED(status))
		log_info("openclaw instance=%s exit=%d answered: %s",
		    in->pi.node, WEXITSTATUS(status), line);
	else
		log_info("openclaw instance=%s signal=%d answered: %s",
		    in->pi.node, WTERMSIG(status), line);
}

/*
 * Why a call did not deliver, in words that lead to the fix: a
 * stand-in openclaw that exits 0 but prints nothing must be told what
 * it was expected to print (docs/openclaw.md, "What openclaw must
 * print").
 */
static void
inj_why(const struct inj_inst *in, int status, int timed_out, char *why,
    size_t len)
{
	if (timed_out)
		snprintf(why, len, "openclaw did not finish in time");
	else if (in->overflow)
		snprintf(why, len, "openclaw printed more than %d bytes",
		    INJ_OUT_MAX);
	else if (!WIFEXITED(status))
		snprintf(why, len, "openclaw was killed by signal %d",
		    WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		snprintf(why, len, "openclaw exited %d", WEXITSTATUS(status));
	else if (in->pi.inject == INJECT_EVENT)
		snprintf(why, len, "openclaw exited 0 but printed no "
		    "{\"ok\":true}; see docs/openclaw.md");
	else
		snprintf(why, len, "openclaw exited 0 but printed no "
		    "{\"status\":\"ok\"}; see docs/openclaw.md");
}

static void
inj_finish(struct injector *j, struct inj_inst *in, int status, int timed_out)
{
	struct inj_job *job = in->job;
	static char reply[INJ_REPLY_MAX + 1];
	char detail[320], why[128] = "";
	int ok = !timed_out && !in->overflow && inj_ok(in, reply, sizeof(reply));
	int retry = in->pi.inject == INJECT_EVENT &&
	    job->attempts < INJ_EVENT_ATTEMPTS;

	inj_log_answer(in, status, timed_out);
	close(in->out_fd);
	in->out_fd = -1;
	in->child = 0;
	in->job = NULL;
	job->running = 0;
	if (!ok)
		inj_why(in, status, timed_out, why, sizeof(why));
	if (!ok && retry && !j->draining) {
		job->not_before = mqtt_now_ms() + (1000LL << (job->attempts - 1));
		log_warnx("openclaw call for %s failed (%s); retrying",
		    in->pi.node, why);
		return;
	}
	snprintf(detail, sizeof(detail), "%s instance=%s attempts=%d%s%s",
	    ok ? "delivered" : j->draining ? "deferred" : "failed", in->pi.node,
	    job->attempts, ok ? "" : ": ", why);
	inj_report(job->tag, ok ? INJECT_DELIVERED : j->draining ?
	    INJECT_DEFERRED : INJECT_FAILED, detail, ok ? reply : "");
	log_info("%s", detail);
	inj_job_free(job);
}

static void
inj_read(struct injector *j, struct inj_inst *in)
{
	ssize_t n = read(in->out_fd, in->out + in->outlen,
	    INJ_OUT_MAX - in->outlen);
	int status = 0;

	if (n > 0) {
		in->outlen += (size_t)n;
		if (in->outlen < INJ_OUT_MAX)
			return;
		kill(-in->child, SIGKILL);	/* too much output: failed */
		in->overflow = 1;
	} else if (n == -1 && errno == EINTR)
		return;
	while (waitpid(in->child, &status, 0) == -1 && errno == EINTR)
		;
	inj_finish(j, in, status, 0);
}

static void
inj_timeout(struct injector *j, struct inj_inst *in)
{
	int status;

	kill(-in->child, SIGKILL);	/* its whole session */
	while (waitpid(in->child, &status, 0) == -1 && errno == EINTR)
		;
	inj_finish(j, in, status, 1);
}

/* --- the loop ---------------------------------------------------------- */

/* SIGTERM: hand every queued job back; running ones get a deadline. */
static void
inj_drain(struct injector *j)
{
	size_t i;

	j->draining = 1;
	j->drain_deadline = mqtt_now_ms() + INJ_DRAIN_MS;
	for (i = 0; i < INJ_QUEUE; i++)
		if (j->q[i].used && !j->q[i].running) {
			inj_report(j->q[i].tag, INJECT_DEFERRED, "draining", "");
			inj_job_free(&j->q[i]);
		}
	for (i = 0; i < j->ninst; i++)
		if (j->inst[i].child && j->inst[i].deadline > j->drain_deadline)
			j->inst[i].deadline = j->drain_deadline;
	log_info("draining: %s", "queued injections deferred to the router");
}

/*
 * However we exit (a link closed, fatal(), the drain's end), a call
 * still running has nobody left to report to: kill its session rather
 * than leave it behind.  Its injection stays in the router's journal.
 */
static void
inj_atexit(void)
{
	struct injector *j = inj_exiting;
	size_t i;
	int status;

	for (i = 0; j != NULL && i < j->ninst; i++) {
		if (j->inst[i].child <= 0)
			continue;
		kill(-j->inst[i].child, SIGKILL);
		while (waitpid(j->inst[i].child, &status, 0) == -1 &&
		    errno == EINTR)
			;
		j->inst[i].child = 0;
	}
}

static int
inj_running(const struct injector *j)
{
	size_t i;

	for (i = 0; i < j->ninst; i++)
		if (j->inst[i].child)
			return 1;
	return 0;
}

static int
inj_wait_ms(const struct injector *j, long long now)
{
	long long t = 1000;
	size_t i;

	for (i = 0; i < j->ninst; i++)
		if (j->inst[i].child && j->inst[i].deadline - now < t)
			t = j->inst[i].deadline - now;
	for (i = 0; i < INJ_QUEUE; i++)
		if (j->q[i].used && !j->q[i].running &&
		    j->q[i].not_before - now < t)
			t = j->q[i].not_before - now;
	return t < 0 ? 0 : (int)t;
}

static const struct ipc_rule inj_from_router[] = {
	{ IMSG_INJECT, ROLE_ROUTER, IPC_MAX, INJECT_TEXT_MAX + 512,
	    inj_request },
};

static void
inj_on_router(struct injector *j)
{
	struct ipc_msg msg;

	if (ipc_recv(DAEMON_FD_PEER, &msg) <= 0)
		inj_link_lost(j);
	ipc_dispatch(inj_from_router, 1, ROLE_ROUTER, &msg, j);
	ipc_msg_free(&msg);
}

static void
inj_poll(struct injector *j)
{
	struct pollfd pfd[2 + CONFIG_MAX_NODES];
	long long now = mqtt_now_ms();
	size_t i;

	inj_schedule(j, now);
	pfd[0] = (struct pollfd){ DAEMON_FD_PEER, (short)(POLLIN |
	    (ipc_queued(DAEMON_FD_PEER) ? POLLOUT : 0)), 0 };
	pfd[1] = (struct pollfd){ DAEMON_FD_MONITOR, POLLIN, 0 };
	for (i = 0; i < j->ninst; i++)
		pfd[2 + i] = (struct pollfd){ j->inst[i].child ?
		    j->inst[i].out_fd : -1, POLLIN, 0 };
	if (poll(pfd, 2 + j->ninst, inj_wait_ms(j, now)) == -1) {
		if (errno != EINTR)
			fatal("poll");
		inj_pass_hup();
		return;
	}
	inj_pass_hup();
	if ((pfd[0].revents & POLLOUT) && ipc_flush(DAEMON_FD_PEER) == -1)
		inj_link_lost(j);
	if (pfd[0].revents & (POLLIN | POLLHUP))
		inj_on_router(j);
	if (pfd[1].revents & (POLLIN | POLLHUP))
		fatalx("monitor link: unexpected message or close");
	now = mqtt_now_ms();
	for (i = 0; i < j->ninst; i++) {
		struct inj_inst *in = &j->inst[i];

		if (in->child && (pfd[2 + i].revents & (POLLIN | POLLHUP)))
			inj_read(j, in);
		else if (in->child && now >= in->deadline)
			inj_timeout(j, in);
	}
}

int
injector_main(const struct daemon_opts *o, const struct config *cfg,
    const struct policy *p)
{
	static struct injector j;	/* large: not on the stack */
	char users[CONFIG_MAX_NODES][POLICY_NAME_MAX + 1];
	size_t nusers = instances_users(p, users);

	if (o->slot < 0 || (size_t)o->slot >= nusers)
		fatalx("injector slot %d: the policy has %zu instance users",
		    o->slot, nusers);
	j.cfg = cfg;
	j.self = getpid();
	inj_exiting = &j;
	if (atexit(inj_atexit) != 0)
		fatalx("atexit");
	daemon_child_signals(inj_on_term, inj_on_hup);
	inj_instances(&j, p, o->slot);
	json_object_seed(0);	/* jansson's lazy /dev/urandom, done now */
	privdrop(users[o->slot], "injector");
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		fatal("PR_SET_PDEATHSIG");
	sandbox_injector();		/* last: see sandbox_injector.c */
	while (!inj_quit)
		inj_poll(&j);
	inj_drain(&j);
	while (inj_running(&j) || ipc_queued(DAEMON_FD_PEER))
		inj_poll(&j);
	return 0;
}
