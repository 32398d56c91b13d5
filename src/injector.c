/*
 * injector.c - hive-daemon's smallest role: it wakes the local OpenClaw
 * agent.
 *
 * One request type, {instance, mode, text}, from the router only.  It
 * is validated (a local instance, mode now|next-heartbeat, text length
 * cap, no NUL), queued with a bound, and run by execve() of the
 * configured `openclaw` binary with an argv, never a shell:
 *
 *   openclaw system event --text TEXT --mode MODE --json [--port P]
 *
 * plus --session-key KEY when the router names the OpenClaw session a
 * response belongs to (hive-cli send --session).
 *
 * A call counts as delivered only when it prints a JSON object with
 * "ok": true (the exit status alone is not trusted); failures are
 * retried with backoff, a hung call is killed at its timeout, and a
 * full queue is reported to the router rather than dropped silently.
 * One call runs at a time: a real gateway takes seconds per call and
 * the agent reads events in order anyway.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "corr.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "mqtt.h"
#include "sandbox.h"

#define INJ_QUEUE	64
#define INJ_ATTEMPTS	3
#define INJ_TIMEOUT_MS	30000
#define INJ_OUT_MAX	65536

struct inj_job {
	char		 instance[NODE_MAX + 1];
	char		 mode[16];
	char		 session[CORR_SESSION_MAX + 1];	/* "" : none */
	char		*text;
	int		 attempts;
	long long	 not_before;	/* ms, for retry backoff */
};

struct injector {
	const struct config	*cfg;
	char			 nodes[CONFIG_MAX_NODES][NODE_MAX + 1];
	size_t			 nnodes;
	struct inj_job		 q[INJ_QUEUE];
	size_t			 qhead, qlen;
	pid_t			 child;		/* running call, or 0 */
	int			 out_fd;
	char			 out[INJ_OUT_MAX + 1];
	size_t			 outlen;
	long long		 deadline;
};

static volatile sig_atomic_t inj_quit;

static void
inj_on_term(int sig)
{
	inj_quit = 1;
}

static void
inj_report(int ok, const char *detail)
{
	struct ipc_writer w = { 0 };

	ipc_put_u32(&w, ok ? 1 : 0);
	ipc_put_str(&w, detail);
	if (ipc_send(DAEMON_FD_PEER, IMSG_INJECT_DONE, 0, w.p, w.len) == -1)
		fatal("ipc to router");
	ipc_writer_free(&w);
}

static int
inj_valid(const struct injector *j, const char *instance, const char *mode,
    const char *text)
{
	size_t i;

	if (strcmp(mode, "now") != 0 && strcmp(mode, "next-heartbeat") != 0)
		return 0;
	if (strlen(text) > INJECT_TEXT_MAX)	/* NUL: ipc_get_str refused */
		return 0;
	for (i = 0; i < j->nnodes; i++)
		if (strcmp(j->nodes[i], instance) == 0)
			return 1;
	return 0;
}

/* IMSG_INJECT from the router */
static void
inj_request(const struct ipc_msg *msg, void *arg)
{
	struct injector *j = arg;
	struct ipc_reader rd;
	const char *instance, *mode, *text, *session;
	struct inj_job *job;

	ipc_reader_init(&rd, msg);
	instance = ipc_get_str(&rd);
	mode = ipc_get_str(&rd);
	text = ipc_get_str(&rd);
	session = ipc_get_str(&rd);
	if (ipc_reader_done(&rd) == -1 || instance == NULL || mode == NULL ||
	    text == NULL || session == NULL ||
	    !inj_valid(j, instance, mode, text) ||
	    (session[0] != '\0' && !corr_valid_session(session)))
		fatalx("router sent a malformed injection request");
	if (j->qlen == INJ_QUEUE) {
		log_warnx("queue full (%d): injection refused", INJ_QUEUE);
		inj_report(0, "queue-full");
		return;
	}
	job = &j->q[(j->qhead + j->qlen++) % INJ_QUEUE];
	memset(job, 0, sizeof(*job));
	snprintf(job->instance, sizeof(job->instance), "%s", instance);
	snprintf(job->mode, sizeof(job->mode), "%s", mode);
	snprintf(job->session, sizeof(job->session), "%s", session);
	if ((job->text = strdup(text)) == NULL)
		fatal("strdup");
}

static void
inj_exec(const struct injector *j, const struct inj_job *job, int out)
{
	static char *envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin",
	    "LANG=C.UTF-8", "HOME=/", NULL };
	char port[16], *argv[16];
	int i = 0, devnull;

	if (setsid() == -1 || dup2(out, STDOUT_FILENO) == -1)
		_exit(126);
	if ((devnull = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(devnull, STDIN_FILENO) == -1)
		_exit(126);
	if (close_range(3, ~0U, 0) == -1)
		_exit(126);
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
	if (config_instance_port(j->cfg, job->instance) > 0) {
		snprintf(port, sizeof(port), "%d",
		    config_instance_port(j->cfg, job->instance));
		argv[i++] = "--port";
		argv[i++] = port;
	}
	argv[i] = NULL;
	execve(j->cfg->openclaw, argv, envp);
	_exit(127);
}

static void
inj_start(struct injector *j)
{
	struct inj_job *job = &j->q[j->qhead];
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe2");
	if ((j->child = fork()) == -1)
		fatal("fork");
	if (j->child == 0)
		inj_exec(j, job, p[1]);
	close(p[1]);
	j->out_fd = p[0];
	j->outlen = 0;
	j->deadline = mqtt_now_ms() + INJ_TIMEOUT_MS;
	job->attempts++;
	log_debug("openclaw system event instance=%s mode=%s attempt=%d",
	    job->instance, job->mode, job->attempts);
}

/* Did the CLI answer {"ok": true}? */
static int
inj_ok(const char *out, size_t len)
{
	json_t *o = json_loadb(out, len, 0, NULL);
	int ok = json_is_object(o) && json_is_true(json_object_get(o, "ok"));

	json_decref(o);
	return ok;
}

static void
inj_finish(struct injector *j, int status, int timed_out)
{
	struct inj_job *job = &j->q[j->qhead];
	char detail[128];
	int ok = !timed_out && inj_ok(j->out, j->outlen);

	close(j->out_fd);
	j->out_fd = -1;
	j->child = 0;
	if (!ok && job->attempts < INJ_ATTEMPTS) {
		job->not_before = mqtt_now_ms() + (1000LL << (job->attempts - 1));
		log_warnx("openclaw call failed (%s); retrying", timed_out ?
		    "timeout" : "no \"ok\": true");
		return;
	}
	snprintf(detail, sizeof(detail), "%s instance=%s attempts=%d%s",
	    ok ? "delivered" : "failed", job->instance, job->attempts,
	    timed_out ? " timeout" : WIFEXITED(status) ? "" : " signal");
	inj_report(ok, detail);
	log_info("%s", detail);
	free(job->text);
	j->qhead = (j->qhead + 1) % INJ_QUEUE;
	j->qlen--;
}

static void
inj_read(struct injector *j)
{
	ssize_t n = read(j->out_fd, j->out + j->outlen,
	    INJ_OUT_MAX - j->outlen);
	int status = 0;

	if (n > 0) {
		j->outlen += (size_t)n;
		if (j->outlen < INJ_OUT_MAX)
			return;
		kill(-j->child, SIGKILL);	/* too much output: treat as failed */
		j->outlen = 0;
	} else if (n == -1 && errno == EINTR)
		return;
	while (waitpid(j->child, &status, 0) == -1 && errno == EINTR)
		;
	inj_finish(j, status, 0);
}

static void
inj_timeout(struct injector *j)
{
	int status;

	kill(-j->child, SIGKILL);	/* its whole session */
	while (waitpid(j->child, &status, 0) == -1 && errno == EINTR)
		;
	inj_finish(j, status, 1);
}

static const struct ipc_rule inj_from_router[] = {
	{ IMSG_INJECT, ROLE_ROUTER, IPC_MAX, INJECT_TEXT_MAX + 512,
	    inj_request },
};

static int
inj_wait_ms(const struct injector *j, long long now)
{
	long long t = 1000;

	if (j->child)
		t = j->deadline - now;
	else if (j->qlen)
		t = j->q[j->qhead].not_before - now;
	return t < 0 ? 0 : t > 1000 ? 1000 : (int)t;
}

static void
inj_poll(struct injector *j)
{
	struct pollfd pfd[3];
	struct ipc_msg msg;
	long long now = mqtt_now_ms();
	int n;

	if (!j->child && j->qlen && now >= j->q[j->qhead].not_before)
		inj_start(j);
	pfd[0] = (struct pollfd){ DAEMON_FD_PEER, POLLIN, 0 };
	pfd[1] = (struct pollfd){ DAEMON_FD_MONITOR, POLLIN, 0 };
	pfd[2] = (struct pollfd){ j->child ? j->out_fd : -1, POLLIN, 0 };
	if (poll(pfd, 3, inj_wait_ms(j, now)) == -1) {
		if (errno != EINTR)
			fatal("poll");
		return;
	}
	if (pfd[0].revents & (POLLIN | POLLHUP)) {
		if ((n = ipc_recv(DAEMON_FD_PEER, &msg)) <= 0)
			fatalx("router link closed");
		ipc_dispatch(inj_from_router, 1, ROLE_ROUTER, &msg, j);
		ipc_msg_free(&msg);
	}
	if (pfd[1].revents & (POLLIN | POLLHUP))
		fatalx("monitor link: unexpected message or close");
	if (j->child && (pfd[2].revents & (POLLIN | POLLHUP)))
		inj_read(j);
	else if (j->child && mqtt_now_ms() >= j->deadline)
		inj_timeout(j);
}

int
injector_main(const struct daemon_opts *o, const struct config *cfg)
{
	struct injector j;

	memset(&j, 0, sizeof(j));
	j.cfg = cfg;
	j.out_fd = -1;
	j.nnodes = config_nodes(cfg, j.nodes);
	daemon_child_signals(inj_on_term);
	json_object_seed(0);	/* jansson's lazy /dev/urandom, done now */
	privdrop(cfg->user, "injector");
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		fatal("PR_SET_PDEATHSIG");
	sandbox_injector();		/* last: see sandbox_injector.c */
	while (!inj_quit)
		inj_poll(&j);
	if (j.child)
		kill(-j.child, SIGKILL);
	return 0;
}
