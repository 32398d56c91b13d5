/*
 * monitor.c - hive-daemon's privileged parent.
 *
 * It reads the configuration, the policy and the node secret keys,
 * prepares the state directory, starts the router and one injector per
 * instance user (re-executing this binary with -P), and then answers
 * two requests: the router's "sign this envelope", which it rebuilds
 * from fields with compose_envelope() and only for a node this box
 * serves, and "run handler X with this verified envelope"
 * (monitor_handlers.c, which also runs the sentinel schedules).  It
 * never parses bus input.
 *
 * If a child dies, the monitor stops the others and exits non-zero:
 * systemd (Restart=on-failure) restarts the whole unit, so keys, window
 * and subscriptions come back together.  SIGTERM and SIGINT stop the
 * children, which drain (the router keeps signing what they finish),
 * and exit 0; whoever is still running MONITOR_STOP_MS later is killed.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "audit.h"
#include "instances.h"
#include "compose.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "monitor_handlers.h"
#include "mqtt.h"
#include "notify.h"
#include "pidfile.h"
#include "util.h"

/* How long children may drain after SIGTERM: the injector's own drain
 * (20 s) and some.  Keep systemd's TimeoutStopSec above it. */
#define MONITOR_STOP_MS	30000
/* A SIGHUP passed on by a child reloads at most this often: the router
 * faces the network, and a reload compiles every handler's profile. */
#define MONITOR_HUP_MS	1000

struct monitor {
	const struct daemon_opts *opts;
	const struct config	*cfg;
	struct policy		*policy;
	struct seckey		 keys[CONFIG_MAX_NODES];
	size_t			 nkeys;
	int			 fd_router;
	int			 fd_injector[CONFIG_MAX_NODES];
	size_t			 ninjectors;
	int			 fd_control;	/* listening; the router's */
	struct audit		*audit;
	struct monitor_handlers	*mh;
	int			 ready;		/* READY=1 sent */
	long long		 last_alive;	/* ms: the router's last tick */
	long long		 next_tick;	/* ms: monitor_tick due */
	int64_t			 watchdog_ms;
	pid_t			 pid_router;
	pid_t			 pid_injector[CONFIG_MAX_NODES];
	int			 stopping;	/* SIGTERM seen, or a child died */
	int			 exit_code;
	long long		 stop_deadline;	/* ms: then SIGKILL */
	long long		 last_reload;	/* ms */
	long long		 hup_due;	/* ms: a child's SIGHUP; 0: none */
	int			 sent_kill;	/* SIGKILL sent past it */
	char			 self[4096];
	struct mon_attach	*attach;	/* -A: split mode, no children */
};

static int monitor_sigpipe[2] = { -1, -1 };

static void
monitor_signal(int sig)
{
	int saved = errno;
	unsigned char s = (unsigned char)sig;

	/* a full pipe already holds a wake-up: losing this byte is fine */
	if (write(monitor_sigpipe[1], &s, 1) == -1)
		errno = saved;
	errno = saved;
}

static void
monitor_load_keys(struct monitor *m)
{
	char nodes[CONFIG_MAX_NODES][NODE_MAX + 1], path[2048], err[1024];
	size_t i, n = config_nodes(m->cfg, nodes);

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s.key", m->cfg->secret_dir,
		    nodes[i]);
		if (seckey_load(path, &m->keys[i], err, sizeof(err)) == -1)
			fatalx("%s", err);
		if (strcmp(m->keys[i].node, nodes[i]) != 0)
			fatalx("%s: key is for node %s", path, m->keys[i].node);
		log_info("node %s kid %s", nodes[i], m->keys[i].kid);
	}
	m->nkeys = n;
}

/* The router writes the window there: create it, owned by its user.
 * In split mode the router's own unit makes it (StateDirectory=). */
static void
monitor_state_dir(const struct monitor *m)
{
	struct passwd *pw;

	if (m->opts->attach != NULL)
		return;
	if (mkdir(m->cfg->state_dir, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", m->cfg->state_dir);
	if (!privdrop_has_cap(CAP_CHOWN))
		return;
	if ((pw = getpwnam(m->cfg->user)) == NULL)
		fatalx("no such user '%s'", m->cfg->user);
	if (chown(m->cfg->state_dir, pw->pw_uid, pw->pw_gid) == -1)
		fatal("chown %s", m->cfg->state_dir);
}

/*
 * state_dir (the window, the injection journal injected at the next
 * start), log_dir (the audit log) and secret_dir (the node keys): no
 * one but root, us and hive.conf's user may reach into them, and so no
 * handler, whose uid is none of those (policy_identity_refused).
 * missing_ok: --check-policy before a first start, and split mode,
 * where the router's unit makes state_dir.  0, or -1 with why in err.
 */
int
monitor_check_dirs(const struct config *cfg, int missing_ok, char *err,
    size_t errlen)
{
	const char *dirs[] = { cfg->state_dir, cfg->log_dir, cfg->secret_dir };
	struct passwd *pw = getpwnam(cfg->user);
	size_t i;
	int rc;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		rc = config_check_private_dir(dirs[i], pw ? pw->pw_uid : 0, err,
		    errlen);
		if (rc == -1 || (rc == 1 && !missing_ok))
			return -1;
	}
	return 0;
}

/* The audit log: log_dir (0700) of the monitor's own, never the router's. */
static void
monitor_audit_open(struct monitor *m)
{
	char path[CONFIG_PATH_MAX + 16], err[512];

	if (mkdir(m->cfg->log_dir, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", m->cfg->log_dir);
	snprintf(path, sizeof(path), "%s/audit.log", m->cfg->log_dir);
	if ((m->audit = audit_open(path, (off_t)m->cfg->audit_max_size,
	    m->cfg->audit_keep, err, sizeof(err))) == NULL)
		fatalx("audit log: %s", err);
}

/*
 * The local control socket: created here because /run/hive may need
 * root, served by the router.  Mode 0666: who may do what is decided
 * per request from SO_PEERCRED (the policy's "socket" lines), so the
 * file mode is not the access control.  A stale socket from a crash is
 * replaced; anything else at that path is left alone and fatal.
 */
static void
monitor_control_socket(struct monitor *m)
{
	struct sockaddr_un sun;
	struct stat st;
	char dir[sizeof(sun.sun_path)], *slash;
	const char *path = m->cfg->control_socket;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("control_socket %s: path too long", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	memcpy(dir, path, strlen(path) + 1);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			fatal("mkdir %s", dir);
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			fatalx("control_socket %s exists and is not a socket",
			    path);
		if (unlink(path) == -1)
			fatal("unlink %s", path);
	}
	if ((m->fd_control = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (bind(m->fd_control, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	if (chmod(path, 0666) == -1 || listen(m->fd_control, 16) == -1)
		fatal("control socket %s", path);
	log_info("control socket %s", path);
}

/*
 * pid_file names a running monitor (another daemon with this
 * configuration): refuse to start, before the control socket is taken
 * from it.  A file that names anything else is stale and replaced
 * (monitor_pid_file_write).
 */
static void
monitor_pid_file_check(const struct monitor *m)
{
	char err[1024];
	pid_t pid;

	if (pidfile_read(m->cfg->pid_file, &pid, err, sizeof(err)) == -1) {
		if (errno != ENOENT)
			log_warnx("pid_file %s; replacing it", err);
		return;
	}
	if (pid != getpid() && pidfile_is_monitor(pid))
		fatalx("pid_file %s: hive-daemon is running as pid %ld; "
		    "refusing to start a second one", m->cfg->pid_file,
		    (long)pid);
}

/* Once set up: our pid, for "hive-cli reload" and kill -HUP. */
static void
monitor_pid_file_write(const struct monitor *m)
{
	char dir[CONFIG_PATH_MAX], err[1024], *slash;

	hive_strlcpy(dir, m->cfg->pid_file, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			fatal("mkdir %s", dir);
	}
	if (pidfile_write(m->cfg->pid_file, getpid(), err, sizeof(err)) == -1)
		fatalx("pid_file %s", err);
	log_debug("pid file %s", m->cfg->pid_file);
}

/*
 * Fork and re-execute as role.  fds[k] becomes descriptor 3 + k in the
 * child (-1: left closed); nothing else of ours crosses exec.
 */
static pid_t
monitor_spawn(struct monitor *m, const char *role, int slot, const int *fds,
    size_t nfds)
{
	int moved[3 + CONFIG_MAX_NODES];
	char *argv[12], slotarg[16];
	size_t k;
	int i = 0;
	pid_t pid;

	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid != 0)
		return pid;
	/* move every source above the targets first, so that no dup2()
	 * overwrites a source and none is its own target (dup2 onto
	 * itself would keep close-on-exec) */
	for (k = 0; k < nfds; k++)
		if (fds[k] != -1 && (moved[k] = fcntl(fds[k], F_DUPFD_CLOEXEC,
		    32)) == -1)
			fatal("F_DUPFD");
	for (k = 0; k < nfds; k++)
		if (fds[k] != -1 && dup2(moved[k], 3 + (int)k) == -1)
			fatal("dup2");
	if (close_range(3 + (unsigned)nfds, ~0U, 0) == -1)
		fatal("close_range");
	argv[i++] = "hive-daemon";
	argv[i++] = "-P";
	argv[i++] = (char *)role;
	if (slot >= 0) {
		snprintf(slotarg, sizeof(slotarg), "%d", slot);
		argv[i++] = "-I";
		argv[i++] = slotarg;
	}
	argv[i++] = "-c";
	argv[i++] = (char *)m->opts->config_path;
	/* the child writes to our stderr: it stamps lines as we do */
	argv[i++] = "-T";
	argv[i++] = m->opts->log_ts ? "yes" : "no";
	if (m->opts->debug)
		argv[i++] = "-d";
	argv[i] = NULL;
	execv(m->self, argv);
	fatal("execv %s", m->self);
}

/*
 * The router, and one injector per instance user, each linked to the
 * monitor and every injector linked to the router (fds: daemon.h).
 */
static void
monitor_start_children(struct monitor *m)
{
	int mr[2], mi[CONFIG_MAX_NODES][2], ri[CONFIG_MAX_NODES][2];
	int rfds[3 + CONFIG_MAX_NODES], ifds[2];
	size_t k;

	if (ipc_pair(mr) == -1)
		fatal("socketpair");
	for (k = 0; k < m->ninjectors; k++)
		if (ipc_pair(mi[k]) == -1 || ipc_pair(ri[k]) == -1)
			fatal("socketpair");
	rfds[0] = mr[1];
	rfds[1] = -1;
	rfds[2] = m->fd_control;
	for (k = 0; k < m->ninjectors; k++)
		rfds[3 + k] = ri[k][0];
	m->pid_router = monitor_spawn(m, "router", -1, rfds, 3 + m->ninjectors);
	for (k = 0; k < m->ninjectors; k++) {
		ifds[0] = mi[k][1];
		ifds[1] = ri[k][1];
		m->pid_injector[k] = monitor_spawn(m, "injector", (int)k, ifds, 2);
		close(mi[k][1]);
		close(ri[k][0]);
		close(ri[k][1]);
		m->fd_injector[k] = mi[k][0];
		log_info("started injector %zu pid %d", k,
		    (int)m->pid_injector[k]);
	}
	close(m->fd_control);	/* the router's now */
	close(mr[1]);
	m->fd_router = mr[0];
	log_info("started router pid %d", (int)m->pid_router);
}

static const struct seckey *
monitor_key(const struct monitor *m, const char *node)
{
	size_t i;

	for (i = 0; node != NULL && i < m->nkeys; i++)
		if (strcmp(m->keys[i].node, node) == 0)
			return &m->keys[i];
	return NULL;
}

static void
monitor_sign_reply(struct monitor *m, uint32_t peer, int ok, const char *s)
{
	struct ipc_writer w = { 0 };

	ipc_put_u32(&w, ok ? 1 : 0);
	ipc_put_str(&w, s);
	/* EPIPE/ECONNRESET: the router exited with a request in flight (a
	 * heartbeat while it drained); the link's EOF tells the rest */
	if (ipc_send_queued(m->fd_router, IMSG_SIGN_REP, peer, w.p,
	    w.len) == -1 &&
	    errno != EPIPE && errno != ECONNRESET)
		fatal("ipc_send to router");
	ipc_writer_free(&w);
}

/* An optional field travels as "" */
static void
monitor_opt(const char **s)
{
	if (*s != NULL && (*s)[0] == '\0')
		*s = NULL;
}

/* IMSG_SIGN_REQ: rebuild, re-check and sign; never sign bytes. */
static void
monitor_sign(const struct ipc_msg *msg, void *arg)
{
	struct monitor *m = arg;
	struct compose_req r = { 0 };
	struct ipc_reader rd;
	const struct seckey *k;
	const char *from, *args;
	struct envelope e;
	struct buf wire;
	char err[512];

	ipc_reader_init(&rd, msg);
	from = ipc_get_str(&rd);
	r.to = ipc_get_str(&rd);
	r.ch = ipc_get_str(&rd);
	r.urgency = ipc_get_str(&rd);
	r.text = ipc_get_str(&rd);
	r.action = ipc_get_str(&rd);
	r.corr = ipc_get_str(&rd);
	r.reply_to = ipc_get_str(&rd);
	args = ipc_get_str(&rd);
	r.ttl = ipc_get_i64(&rd);
	r.outcome = ipc_get_str(&rd);
	if (ipc_reader_done(&rd) == -1 || from == NULL || r.to == NULL ||
	    r.ch == NULL || r.urgency == NULL || r.text == NULL ||
	    !valid_node(from))
		fatalx("router sent a malformed sign request");
	monitor_opt(&r.action);
	monitor_opt(&r.corr);
	monitor_opt(&r.reply_to);
	monitor_opt(&r.outcome);
	/* args: rebuilt from text like every other field; compose checks
	 * that it is an object within the envelope's limits */
	if (args != NULL && args[0] != '\0' && (r.args = json_loads(args,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL) {
		log_warnx("refused to sign for %s: args not JSON", from);
		monitor_sign_reply(m, msg->hdr.peer, 0, "args: not JSON");
		return;
	}
	/* from is a valid node id now: safe to log */
	if ((k = monitor_key(m, from)) == NULL) {
		log_warnx("refused to sign: from=%s is not a local node", from);
		monitor_sign_reply(m, msg->hdr.peer, 0, "not a local node");
		return;
	}
	buf_init(&wire, ENVELOPE_MAX_WIRE);
	if (compose_envelope(&r, k, &m->cfg->limits, &wire, &e, err,
	    sizeof(err)) == -1) {
		log_warnx("refused to sign for %s: %s", from, err);
		monitor_sign_reply(m, msg->hdr.peer, 0, err);
	} else {
		if (buf_cstr(&wire) == NULL)
			fatalx("monitor_sign: buffer");
		monitor_sign_reply(m, msg->hdr.peer, 1, wire.p);
		envelope_free(&e);
	}
	buf_free(&wire);
	json_decref(r.args);
}

/* IMSG_AUDIT: append the router's lines, in order; a line we cannot
 * write stops the daemon (fail closed), a batch the router should
 * never have built is a protocol violation, and nothing of it is
 * written: every line is checked before the first is appended. */
static void
monitor_audit(const struct ipc_msg *msg, void *arg)
{
	struct monitor *m = arg;
	struct ipc_reader rd;
	const char *lines[AUDIT_BATCH_LINES], *why = NULL;
	uint32_t i, n;

	ipc_reader_init(&rd, msg);
	n = ipc_get_u32(&rd);
	if (n < 1 || n > AUDIT_BATCH_LINES)
		fatalx("router sent a batch of %u audit lines", n);
	for (i = 0; i < n; i++)
		if ((lines[i] = ipc_get_str(&rd)) == NULL ||
		    audit_line_ok(lines[i], strlen(lines[i]), &why) == -1)
			break;
	if (i < n || ipc_reader_done(&rd) == -1)
		fatalx("router sent a malformed audit line (%s)",
		    why ? why : "framing");
	if (audit_write_lines(m->audit, lines, n) == -1)
		fatal("audit log %s/audit.log: write failed; stopping rather "
		    "than running unaudited", m->cfg->log_dir);
}

/* IMSG_READY: the router's connection state, for systemd. */
static void
monitor_ready(const struct ipc_msg *msg, void *arg)
{
	struct monitor *m = arg;
	struct ipc_reader rd;
	const char *status;
	char state[400];

	ipc_reader_init(&rd, msg);
	status = ipc_get_str(&rd);
	if (ipc_reader_done(&rd) == -1 || status == NULL)
		fatalx("router sent a malformed ready message");
	snprintf(state, sizeof(state), "%sSTATUS=%s", m->ready ? "" :
	    "READY=1\n", status);
	if (strncmp(status, "connected", 9) == 0) {
		m->ready = 1;
		mh_go(m->mh);
	}
	else
		snprintf(state, sizeof(state), "STATUS=%s", status);
	if (notify_send(state) == -1)
		log_warnx("sd_notify failed");
}

static void
monitor_alive(const struct ipc_msg *msg, void *arg)
{
	struct monitor *m = arg;

	m->last_alive = mqtt_now_ms();
}

/* IMSG_RUN_HANDLER: monitor_handlers.c checks and runs it. */
static void
monitor_run_handler(const struct ipc_msg *msg, void *arg)
{
	struct monitor *m = arg;

	mh_request(m->mh, msg);
}

/*
 * IMSG_HUP: a SIGHUP reached the router or an injector, which cannot
 * signal us (another uid): reload as if it had reached us, at most
 * once per MONITOR_HUP_MS (monitor_hup_tick).
 */
static void
monitor_child_hup(const struct ipc_msg *msg, void *arg)
{
	struct monitor *m = arg;
	long long due = m->last_reload + MONITOR_HUP_MS, now = mqtt_now_ms();

	if (m->stopping || m->hup_due != 0)
		return;
	log_info("SIGHUP passed on by pid %u: reloading", msg->hdr.pid);
	m->hup_due = due > now ? due : now;
}

static const struct ipc_rule monitor_from_router[] = {
	{ IMSG_SIGN_REQ, ROLE_ROUTER, IPC_MAX, ENVELOPE_MAX_WIRE + 4096,
	    monitor_sign },
	{ IMSG_AUDIT, ROLE_ROUTER, IPC_MAX, AUDIT_BATCH_BYTES,
	    monitor_audit },
	{ IMSG_READY, ROLE_ROUTER, IPC_MAX, 512, monitor_ready },
	{ IMSG_ALIVE, ROLE_ROUTER, IPC_EXACT, 0, monitor_alive },
	{ IMSG_RUN_HANDLER, ROLE_ROUTER, IPC_MAX, IPC_MAX_PAYLOAD,
	    monitor_run_handler },
	{ IMSG_HUP, ROLE_ROUTER, IPC_EXACT, 0, monitor_child_hup },
};

static const struct ipc_rule monitor_from_injector[] = {
	{ IMSG_HUP, ROLE_INJECTOR, IPC_EXACT, 0, monitor_child_hup },
};

/* SIGTERM to every child still running; they drain (router.c,
 * injector.c) while the loop keeps answering the router. */
static void
monitor_stop_children(struct monitor *m)
{
	size_t k;

	if (m->attach != NULL) {
		(void)monitor_attach_stop(m->attach, SIGTERM);
		return;
	}
	if (m->pid_router > 0)
		kill(m->pid_router, SIGTERM);
	for (k = 0; k < m->ninjectors; k++)
		if (m->pid_injector[k] > 0)
			kill(m->pid_injector[k], SIGTERM);
}

/* Split mode: the roles attached whose link is still open. */
static int
monitor_attach_left(const struct monitor *m)
{
	size_t k;
	int n = m->fd_router != -1 && monitor_attach_attached(m->attach, -1);

	for (k = 0; k < m->ninjectors; k++)
		n += m->fd_injector[k] != -1 &&
		    monitor_attach_attached(m->attach, (int)k);
	return n;
}

static int
monitor_children_left(const struct monitor *m)
{
	size_t k;
	int n = m->pid_router > 0;

	if (m->attach != NULL)
		return monitor_attach_left(m);
	for (k = 0; k < m->ninjectors; k++)
		n += m->pid_injector[k] > 0;
	return n;
}

/* Which child was pid ("" when none of ours), and forget it. */
static const char *
monitor_forget(struct monitor *m, pid_t pid)
{
	size_t k;

	if (pid == m->pid_router) {
		m->pid_router = 0;
		return "router";
	}
	for (k = 0; k < m->ninjectors; k++)
		if (pid == m->pid_injector[k]) {
			m->pid_injector[k] = 0;
			return "injector";
		}
	return "";
}

/* SIGTERM, or a child died: stop everything, within a deadline that
 * leaves accepted handler runs their timeout. */
static void
monitor_begin_stop(struct monitor *m)
{
	int64_t budget = mh_stop_budget_ms(m->mh);

	m->stopping = 1;
	m->stop_deadline = mqtt_now_ms() + (budget > MONITOR_STOP_MS ?
	    budget : MONITOR_STOP_MS);
	mh_stop(m->mh);
	monitor_stop_children(m);
}

/* A child that has exited, by pid: never waitpid(-1), which would take
 * the handlers and their strays from the runner (handler.h). */
static pid_t
monitor_wait_child(struct monitor *m, int *st)
{
	size_t k;

	if (m->pid_router > 0 && waitpid(m->pid_router, st, WNOHANG) ==
	    m->pid_router)
		return m->pid_router;
	for (k = 0; k < m->ninjectors; k++)
		if (m->pid_injector[k] > 0 && waitpid(m->pid_injector[k], st,
		    WNOHANG) == m->pid_injector[k])
			return m->pid_injector[k];
	return 0;
}

/*
 * A child went away.  While running that is fatal for the unit: stop
 * the others and exit non-zero so the service manager restarts all of
 * us together.  While stopping it is what we asked for.
 */
static void
monitor_reap(struct monitor *m)
{
	const char *who;
	int st;
	pid_t pid;

	while ((pid = monitor_wait_child(m, &st)) > 0) {
		who = monitor_forget(m, pid);
		/* stopping, a signal we did not send is still news: a
		 * child killed first may be reaped after another that its
		 * death made exit (a router's threads take a while to go,
		 * its injector sees its link close at once) */
		if (m->stopping && !(WIFSIGNALED(st) && WTERMSIG(st) !=
		    SIGTERM && !(WTERMSIG(st) == SIGKILL && m->sent_kill))) {
			log_debug("%s (pid %d) stopped", who, (int)pid);
			continue;
		}
		if (WIFSIGNALED(st))
			log_warnx("%s (pid %d) killed by signal %d; exiting so "
			    "the service manager restarts us", who, (int)pid,
			    WTERMSIG(st));
		else
			log_warnx("%s (pid %d) exited with status %d; exiting",
			    who, (int)pid, WEXITSTATUS(st));
		m->exit_code = 1;
		if (!m->stopping)
			monitor_begin_stop(m);
	}
}

/* Split mode: a role's link closing is its death (we have no SIGCHLD
 * for it), with monitor_reap()'s consequences. */
static void
monitor_link_lost(struct monitor *m, const char *who)
{
	if (m->attach == NULL)
		return;		/* SIGCHLD tells the rest */
	if (m->stopping) {
		log_debug("%s closed its link", who);
		return;
	}
	log_warnx("%s closed its link; exiting so the service manager "
	    "restarts us", who);
	m->exit_code = 1;
	monitor_begin_stop(m);
}

/* The node secret keys again, into fresh: 0, or -1 (logged, none kept). */
static int
monitor_reload_keys(struct monitor *m, struct seckey *fresh)
{
	char path[2048], err[1024];
	size_t i, n;

	for (n = 0; n < m->nkeys; n++) {
		snprintf(path, sizeof(path), "%s/%s.key", m->cfg->secret_dir,
		    m->keys[n].node);
		if (seckey_load(path, &fresh[n], err, sizeof(err)) == 0 &&
		    strcmp(fresh[n].node, m->keys[n].node) != 0) {
			snprintf(err, sizeof(err), "key is for node %.64s",
			    fresh[n].node);
			seckey_free(&fresh[n]);	/* loaded, but wrong */
		} else if (fresh[n].sk != NULL)
			continue;
		log_warnx("SIGHUP: %s: %s; nothing reloaded", path, err);
		for (i = 0; i < n; i++)
			seckey_free(&fresh[i]);
		return -1;
	}
	return 0;
}

/*
 * SIGHUP: the node secret keys (a rotated key takes effect without a
 * restart), the policy and the handlers (discovered and their profiles
 * compiled again), then the router re-reads the trusted keyring and
 * the policy.  All or nothing on our side: if a key, the policy, the
 * handlers directory or a profile fails, everything in use stays and
 * the router is not asked.  The broker connection is not touched.
 * node, user and the other settings of hive.conf need a restart
 * (docs/configuration.md).
 */
static void
monitor_reload(struct monitor *m)
{
	static struct policy fresh_pol;	/* large: not on the stack */
	struct seckey fresh[CONFIG_MAX_NODES];
	char err[1024];
	size_t i;

	m->last_reload = mqtt_now_ms();
	(void)notify_send("RELOADING=1");
	if (monitor_reload_keys(m, fresh) == -1) {
		(void)notify_send("READY=1");
		return;
	}
	if (policy_load(&fresh_pol, m->cfg, err, sizeof(err)) == 0)
		/* instances: the injectors run on (the router warns) */
		(void)instances_carry(&fresh_pol, m->policy);
	else
		goto fail;
	if (mh_reload(m->mh, m->policy, &fresh_pol, err, sizeof(err)) == -1) {
 fail:
		log_warnx("SIGHUP: %s; nothing reloaded", err);
		policy_free(&fresh_pol);
		for (i = 0; i < m->nkeys; i++)
			seckey_free(&fresh[i]);
		(void)notify_send("READY=1");
		return;
	}
	for (i = 0; i < m->nkeys; i++) {
		seckey_free(&m->keys[i]);
		m->keys[i] = fresh[i];
		log_info("SIGHUP: node %s kid %s", m->keys[i].node,
		    m->keys[i].kid);
	}
	if (m->fd_router != -1) {
		mh_send_names(m->mh);
		if (ipc_send_queued(m->fd_router, IMSG_RELOAD, 0, NULL, 0) == -1)
			fatal("ipc to router");
	}
	(void)notify_send("READY=1");
}

static void
monitor_hup_tick(struct monitor *m)
{
	if (m->hup_due == 0 || mqtt_now_ms() < m->hup_due)
		return;
	m->hup_due = 0;
	if (!m->stopping)
		monitor_reload(m);
}

static void
monitor_on_signal(struct monitor *m)
{
	unsigned char s;

	while (read(monitor_sigpipe[0], &s, 1) == 1) {
		if (s == SIGCHLD)
			monitor_reap(m);
		else if (s == SIGHUP && !m->stopping)
			monitor_reload(m);
		else if ((s == SIGTERM || s == SIGINT) && !m->stopping) {
			log_info("stopping: draining (%zu handler run(s))",
			    mh_active(m->mh));
			(void)notify_send("STOPPING=1");
			monitor_begin_stop(m);
		}
	}
}

static void
monitor_on_router(struct monitor *m)
{
	struct ipc_msg msg;
	int r = ipc_recv(m->fd_router, &msg);

	if (r == 1) {
		ipc_dispatch(monitor_from_router, sizeof(monitor_from_router) /
		    sizeof(monitor_from_router[0]), ROLE_ROUTER, &msg, m);
		ipc_msg_free(&msg);
	} else if (r == 0 || errno == ECONNRESET) {
		/* ECONNRESET: it exited with an answer of ours unread (a
		 * heartbeat signed while it drained): a close all the same */
		ipc_queue_drop(m->fd_router);
		close(m->fd_router);
		m->fd_router = -1;	/* SIGCHLD tells the rest */
		monitor_link_lost(m, "router");
	} else if (errno != EAGAIN)
		fatal("ipc from router");
}

static void
monitor_signals(void)
{
	struct sigaction sa;

	if (pipe2(monitor_sigpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe2");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = monitor_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Once a second (more often under a short watchdog): fsync the audit
 * log, and tell systemd's watchdog we are well only if the router has
 * ticked within the watchdog interval, so a hung router restarts the
 * unit.  Only when due: the loop turns once per message from the
 * router, and an fsync per audit line held a flood to the disk's pace
 * (bench/bus.sh throughput: a fifteenth of the verify rate).
 */
static void
monitor_tick(struct monitor *m, int tick)
{
	long long now = mqtt_now_ms();

	if (now < m->next_tick)
		return;
	m->next_tick = now + tick;
	if (audit_sync(m->audit) == -1)
		fatal("audit log: fsync failed");
	if (m->watchdog_ms > 0 && m->ready &&
	    mqtt_now_ms() - m->last_alive < m->watchdog_ms)
		(void)notify_send("WATCHDOG=1");
}

/* An injector sends us one thing, a SIGHUP it received; then EOF. */
static void
monitor_on_injector(struct monitor *m, size_t k)
{
	struct ipc_msg msg;
	int r = ipc_recv(m->fd_injector[k], &msg);

	if (r == 1) {
		ipc_dispatch(monitor_from_injector,
		    sizeof(monitor_from_injector) /
		    sizeof(monitor_from_injector[0]), ROLE_INJECTOR, &msg, m);
		ipc_msg_free(&msg);
	} else if (r == 0 || errno == ECONNRESET) {
		close(m->fd_injector[k]);
		m->fd_injector[k] = -1;
		monitor_link_lost(m, "injector");
	} else if (errno != EAGAIN)
		fatal("ipc from injector");
}

/* Past the drain deadline, whoever is left is killed. */
static void
monitor_stop_overdue(struct monitor *m)
{
	size_t k;

	if (!m->stopping || mqtt_now_ms() < m->stop_deadline)
		return;
	log_warnx("children still running %d s after SIGTERM: killing",
	    MONITOR_STOP_MS / 1000);
	if (m->attach != NULL) {
		(void)monitor_attach_stop(m->attach, SIGKILL);
		m->stop_deadline = mqtt_now_ms() + 1000;
		return;
	}
	m->sent_kill = 1;
	if (m->pid_router > 0)
		kill(m->pid_router, SIGKILL);
	for (k = 0; k < m->ninjectors; k++)
		if (m->pid_injector[k] > 0)
			kill(m->pid_injector[k], SIGKILL);
	m->stop_deadline = mqtt_now_ms() + 1000;
}

/* poll()'s timeout: the next tick, or sooner for a handler or sentinel. */
static int
monitor_poll_timeout(const struct monitor *m)
{
	long long due = m->next_tick - mqtt_now_ms();
	int t = mh_timeout(m->mh), tick = due > 0 ? (int)due : 0;

	return t >= 0 && t < tick ? t : tick;
}

/* Until asked to stop and every child is gone. */
static void
monitor_loop(struct monitor *m)
{
	static struct pollfd pfd[3 + CONFIG_MAX_NODES + MH_FDS];
	int tick = m->watchdog_ms > 0 && m->watchdog_ms / 2 < 1000 ?
	    (int)(m->watchdog_ms / 2) : 1000;
	size_t k, n, nh;

	while (!m->stopping || monitor_children_left(m) > 0) {
		pfd[0] = (struct pollfd){ monitor_sigpipe[0], POLLIN, 0 };
		/* our answers never block us: what the router has not
		 * taken yet waits for POLLOUT (ipc_send_queued) */
		pfd[1] = (struct pollfd){ m->fd_router, (short)(POLLIN |
		    (ipc_queued(m->fd_router) ? POLLOUT : 0)), 0 };
		for (k = 0; k < m->ninjectors; k++)
			pfd[2 + k] = (struct pollfd){ m->fd_injector[k],
			    POLLIN, 0 };
		n = 2 + m->ninjectors;
		pfd[n++] = (struct pollfd){ m->attach != NULL ?
		    monitor_attach_fd(m->attach) : -1, POLLIN, 0 };
		nh = mh_fds(m->mh, pfd + n, MH_FDS);
		monitor_tick(m, tick);
		monitor_hup_tick(m);
		monitor_stop_overdue(m);
		if (poll(pfd, n + nh, monitor_poll_timeout(m)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents & POLLIN)
			monitor_on_signal(m);
		if ((pfd[1].revents & POLLOUT) && ipc_flush(m->fd_router) ==
		    -1 && errno != EPIPE && errno != ECONNRESET)
			fatal("ipc to router");
		if (pfd[1].revents & (POLLIN | POLLHUP))
			monitor_on_router(m);
		for (k = 0; k < m->ninjectors; k++)
			if (pfd[2 + k].revents & (POLLIN | POLLHUP))
				monitor_on_injector(m, k);
		if (pfd[n - 1].revents & POLLIN)
			monitor_attach_accept(m->attach);
		/* results first: a finished sentinel may run again now */
		mh_dispatch(m->mh, pfd + n, nh);
		mh_tick(m->mh);
	}
}

int
monitor_main(const struct daemon_opts *o, const struct config *cfg,
    struct policy *pol)
{
	struct monitor m;
	char users[CONFIG_MAX_NODES][POLICY_NAME_MAX + 1], errbuf[1024];
	ssize_t n;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.opts = o;
	m.cfg = cfg;
	m.policy = pol;
	m.ninjectors = instances_users(pol, users);
	if ((n = readlink("/proc/self/exe", m.self, sizeof(m.self) - 1)) <= 0)
		fatal("readlink /proc/self/exe");
	m.self[n] = '\0';
	notify_init();		/* before any child could inherit it */
	m.watchdog_ms = notify_watchdog_usec() / 1000;
	monitor_signals();
	monitor_load_keys(&m);
	monitor_state_dir(&m);
	monitor_audit_open(&m);
	if (monitor_check_dirs(cfg, o->attach != NULL, errbuf,
	    sizeof(errbuf)) == -1)
		fatalx("%s", errbuf);
	if ((m.mh = malloc(sizeof(*m.mh))) == NULL)
		fatal("malloc");
	mh_init(m.mh, cfg, pol, &m.fd_router);
	monitor_pid_file_check(&m);
	monitor_control_socket(&m);
	if (o->attach != NULL) {	/* the attach socket has it now */
		m.attach = monitor_attach_open(o->attach, cfg, pol,
		    m.fd_control, &m.fd_router, m.fd_injector);
		m.fd_control = -1;
	} else
		monitor_start_children(&m);
	mh_send_names(m.mh);
	monitor_pid_file_write(&m);
	monitor_loop(&m);
	if (mh_active(m.mh) > 0)
		log_warnx("%zu handler run(s) still going: killed",
		    mh_active(m.mh));
	mh_free(m.mh);
	free(m.mh);
	log_info("stopped");
	audit_close(m.audit);
	monitor_attach_close(m.attach);
	(void)unlink(cfg->control_socket);
	pidfile_remove(cfg->pid_file, getpid());
	for (i = 0; i < m.nkeys; i++)
		seckey_free(&m.keys[i]);
	return m.exit_code;
}
