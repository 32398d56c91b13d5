/*
 * router.c - hive-daemon's network-facing role: setup, the poll loop,
 * the broker connection, and the two things it asks of the others
 * (the monitor signs, the injector wakes the agent).
 *
 * Unprivileged (privdrop(): the configured user, no capabilities,
 * no-new-privs, then its seccomp filter) and without any secret key:
 * what it publishes it asks the monitor to sign, field by field.  The
 * routing table is in router_route.c, correlation in router_corr.c,
 * the control socket in router_control.c (see router.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "instances.h"
#include "ipc.h"
#include "log.h"
#include "router.h"
#include "router_verify.h"
#include "sandbox.h"

static volatile sig_atomic_t router_quit, router_hup;

static void
router_on_term(int sig)
{
	router_quit = 1;
}

static void
router_on_hup(int sig)
{
	router_hup = 1;
}

/* A SIGHUP meant for the monitor (the same program name): pass it on. */
static void
router_pass_hup(void)
{
	if (!router_hup)
		return;
	router_hup = 0;
	log_info("SIGHUP: passed on to the monitor, which reloads");
	router_to_monitor(IMSG_HUP, 0, NULL, 0);
}

int
router_is_local(const struct router *r, const char *node)
{
	size_t i;

	for (i = 0; i < r->nnodes; i++)
		if (strcmp(r->nodes[i], node) == 0)
			return 1;
	return 0;
}

/* --- asking the monitor to sign, publishing the result ----------------- */

static void
router_sign_payload(struct ipc_writer *w, const struct compose_req *q,
    const char *from, const char *args)
{
	ipc_put_str(w, from);
	ipc_put_str(w, q->to);
	ipc_put_str(w, q->ch);
	ipc_put_str(w, q->urgency);
	ipc_put_str(w, q->text);
	ipc_put_str(w, q->action);
	ipc_put_str(w, q->corr);
	ipc_put_str(w, q->reply_to);
	ipc_put_str(w, args);
	ipc_put_i64(w, q->ttl);
	ipc_put_str(w, q->outcome);
}

/* Into a free slot of the pending table, and to the monitor; 0 if the
 * table is full. */
static int
router_sign_send(struct router *r, const struct router_pending *np,
    const uint8_t *payload, size_t len)
{
	struct router_pending *p = NULL;
	size_t i;

	for (i = 0; i < ROUTER_PENDING && p == NULL; i++)
		if (r->pending[i].peer == 0)
			p = &r->pending[i];
	if (p == NULL)
		return 0;
	*p = *np;
	if (++r->next_peer == 0)
		r->next_peer = 1;
	p->peer = r->next_peer;
	router_to_monitor(IMSG_SIGN_REQ, p->peer, payload, len);
	return 1;
}

/* Requests that found the table full wait here, in order: a burst of
 * commands asks for more signatures (progress documents, responses)
 * than the table holds, and each of them is owed to someone. */
struct router_deferred {
	struct router_deferred	*next;
	struct router_pending	 np;
	size_t			 len;
	uint8_t			 payload[];
};

/* A slot came free: the oldest waiting requests take the free slots. */
static void
router_sign_backlog(struct router *r)
{
	struct router_deferred *d;

	while ((d = r->backlog) != NULL &&
	    router_sign_send(r, &d->np, d->payload, d->len)) {
		if ((r->backlog = d->next) == NULL)
			r->backlog_tail = &r->backlog;
		r->backlog_bytes -= sizeof(*d) + d->len;
		free(d);
	}
}

static int
router_sign_defer(struct router *r, const struct router_pending *np,
    const uint8_t *payload, size_t len)
{
	struct router_deferred *d;

	if (r->backlog_bytes + sizeof(*d) + len > ROUTER_BACKLOG_BYTES ||
	    (d = malloc(sizeof(*d) + len)) == NULL)
		return -1;
	d->next = NULL;
	d->np = *np;
	d->len = len;
	memcpy(d->payload, payload, len);
	*r->backlog_tail = d;
	r->backlog_tail = &d->next;
	r->backlog_bytes += sizeof(*d) + len;
	return 0;
}

/*
 * Ask for a signature; tmpl (may be NULL) says what to do with the
 * result.  Its topic "" means the default {p}/{to}/{ch}; to publish
 * only on the meta topic, the caller sets topic to "-".
 */
void
router_sign(struct router *r, const struct compose_req *q, const char *from,
    const char *args, struct router_pending *tmpl)
{
	struct router_pending np;
	struct ipc_writer w = { 0 };

	if (tmpl != NULL)
		np = *tmpl;
	else
		memset(&np, 0, sizeof(np));
	np.peer = 0;
	if (np.qos == 0 && tmpl == NULL)
		np.qos = 1;
	if (strcmp(np.topic, "-") == 0)
		np.topic[0] = '\0';
	else
		snprintf(np.topic, sizeof(np.topic), "%s/%s/%s",
		    r->cfg->prefix, q->to, q->ch);
	router_sign_payload(&w, q, from, args);
	if (r->backlog == NULL && router_sign_send(r, &np, w.p, w.len))
		;
	else if (router_sign_defer(r, &np, w.p, w.len) == -1) {
		log_warnx("sign queue full (%zu bytes waiting): dropped "
		    "ch=%s to=%s", r->backlog_bytes, q->ch, q->to);
		if (np.client != 0)
			control_error(r->ctl, np.client, "busy",
			    "sign queue full");
	}
	ipc_writer_free(&w);
}

/* A signed, retained document on a meta topic only. */
void
router_publish_meta(struct router *r, const char *from, const char *to,
    const char *corr, const char *meta_topic, const char *text)
{
	struct router_pending p = { .topic = "-", .qos = 1 };
	struct compose_req q = { .to = to, .ch = "status", .urgency = "later",
	    .text = text, .corr = corr };

	q.ttl = r->cfg->corr_ttl < r->cfg->limits.max_ttl ? r->cfg->corr_ttl :
	    r->cfg->limits.max_ttl;
	snprintf(p.meta_topic, sizeof(p.meta_topic), "%s", meta_topic);
	router_sign(r, &q, from, NULL, &p);
}

/* A zero-length retained message removes the retained one. */
void
router_clear_retained(struct router *r, const char *topic)
{
	if (mqtt_publish_nowait(r->mqtt, topic, "", 0, 1, 1) == -1)
		log_warnx("clear %s: %s", topic, mqtt_error(r->mqtt));
}

static int
router_publish(struct router *r, const struct router_pending *p,
    const char *wire, int *mid)
{
	size_t len = strlen(wire);

	*mid = 0;
	if (p->topic[0] != '\0' && mqtt_publish_mid(r->mqtt, p->topic, wire,
	    len, p->qos, 0, mid) == -1) {
		log_warnx("publish %s: %s", p->topic, mqtt_error(r->mqtt));
		return -1;
	}
	if (p->meta_topic[0] != '\0' && mqtt_publish_nowait(r->mqtt,
	    p->meta_topic, wire, len, 1, 1) == -1) {
		log_warnx("publish %s: %s", p->meta_topic, mqtt_error(r->mqtt));
		return -1;
	}
	return 0;
}

/* What we published, parsed back: our own signed output. */
static void
router_after_publish(struct router *r, const struct router_pending *p,
    const char *wire)
{
	struct refusal why = { 0 };
	struct envelope e;

	if (!p->track && p->client == 0)
		return;
	if (envelope_parse(wire, strlen(wire), &r->cfg->limits, 0, &e,
	    &why) == -1)
		fatalx("monitor signed an envelope we cannot parse: %s",
		    refusal_name(why.reason));
	if (p->track && (e.ch == CH_COMMAND || e.ch == CH_SYNC))
		router_track(r, &e, p, (int64_t)time(NULL));
	envelope_free(&e);
}

static void
router_signed(const struct ipc_msg *msg, void *arg)
{
	struct router *r = arg;
	struct router_pending *p = NULL;
	struct ipc_reader rd;
	const char *wire;
	uint32_t ok;
	size_t i;
	int mid = 0;

	ipc_reader_init(&rd, msg);
	ok = ipc_get_u32(&rd);
	wire = ipc_get_str(&rd);
	if (ipc_reader_done(&rd) == -1 || wire == NULL)
		fatalx("monitor sent a malformed sign reply");
	for (i = 0; i < ROUTER_PENDING && p == NULL; i++)
		if (r->pending[i].peer == msg->hdr.peer)
			p = &r->pending[i];
	if (p == NULL)
		fatalx("monitor answered sign request %u never made",
		    msg->hdr.peer);
	if (!ok)
		log_warnx("monitor refused to sign for %s: %s", p->topic, wire);
	else if (router_publish(r, p, wire, &mid) == -1)
		ok = 2;
	else
		router_after_publish(r, p, wire);
	if (p->client != 0)
		router_control_signed(r, p, (int)ok, wire, mid);
	p->peer = 0;
	router_sign_backlog(r);
}

/* --- refusal logs (audit lines: router_audit.c) ----------------------- */

/*
 * A refused message: counted already; audited always; logged at most
 * ten lines per reason per ten seconds, so that a flood of hostile
 * input cannot become a flood of log lines.
 */
void
router_refused(struct router *r, const char *topic, const struct refusal *why)
{
	uint64_t suppressed = 0;
	char detail[384];

	snprintf(detail, sizeof(detail), "%s; topic=%.128s", why->detail,
	    topic);
	router_audit_refusal(r, why, detail);
	if (why->reason == REF_WINDOW_IO)
		router_state_failed(r, "window-io");
	if (!ratelog_allow(&r->ratelog, (int)why->reason, mqtt_now_ms() / 1000,
	    &suppressed))
		return;
	if (suppressed > 0)
		log_warnx("refused reason=%s detail=\"%s\" (%llu similar "
		    "suppressed)", refusal_name(why->reason), why->detail,
		    (unsigned long long)suppressed);
	else
		log_warnx("refused reason=%s detail=\"%s\"",
		    refusal_name(why->reason), why->detail);
}

/* --- the connection ------------------------------------------------------ */

static void
router_subscribe(struct router *r)
{
	char topic[256];
	size_t i;
	int rc = 0;

	for (i = 0; i < r->nnodes; i++) {
		snprintf(topic, sizeof(topic), "%s/%s/+", r->cfg->prefix,
		    r->nodes[i]);
		rc |= mqtt_subscribe_nowait(r->mqtt, topic, 1);
	}
	snprintf(topic, sizeof(topic), "%s/all/+", r->cfg->prefix);
	rc |= mqtt_subscribe_nowait(r->mqtt, topic, 1);
	/* our own outbound commands, however they were sent */
	snprintf(topic, sizeof(topic), "%s/+/command", r->cfg->prefix);
	rc |= mqtt_subscribe_nowait(r->mqtt, topic, 1);
	snprintf(topic, sizeof(topic), "%s/meta/#", r->cfg->prefix);
	rc |= mqtt_subscribe_nowait(r->mqtt, topic, 1);
	if (rc != 0)
		fatalx("%s", mqtt_error(r->mqtt));
	r->subscribed = 1;
	router_roster(r);
}

/* Only IMSG_HANDLERS may come before the will's signature. */
static const struct ipc_rule router_early[] = {
	{ IMSG_HANDLERS, ROLE_MONITOR, IPC_MAX, 16 * 1024,
	    router_handlers_msg },
};

/* The last will, signed now by the monitor: "offline" for our nodes. */
static char *
router_will(struct router *r)
{
	struct compose_req q = { .to = "all", .ch = "heartbeat",
	    .urgency = "later", .ttl = r->cfg->limits.max_ttl };
	struct ipc_writer w = { 0 };
	struct ipc_reader rd;
	struct ipc_msg msg;
	json_t *doc, *inst = json_array();
	char *text, *wire;
	size_t i;

	for (i = 0; i < r->nnodes; i++)
		json_array_append_new(inst, json_string(r->nodes[i]));
	doc = json_pack("{sssssIso}", "node", r->nodes[0], "status", "offline",
	    "since", (json_int_t)time(NULL), "instances", inst);
	if (doc == NULL || (text = json_dumps(doc, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL)
		fatalx("router_will: json");
	json_decref(doc);
	q.text = text;
	router_sign_payload(&w, &q, r->nodes[0], NULL);
	router_to_monitor(IMSG_SIGN_REQ, 0, w.p, w.len);
	ipc_writer_free(&w);
	free(text);
	/* nothing else is in flight yet: the next message is the answer,
	 * after the handler list the monitor sends as we start */
	for (;;) {
		if (ipc_recv(DAEMON_FD_MONITOR, &msg) != 1)
			fatalx("monitor did not answer the will");
		if (msg.hdr.type != IMSG_HANDLERS)
			break;
		ipc_dispatch(router_early, 1, ROLE_MONITOR, &msg, r);
		ipc_msg_free(&msg);
	}
	if (msg.hdr.type != IMSG_SIGN_REP || msg.hdr.peer != 0)
		fatalx("monitor did not answer the will");
	ipc_reader_init(&rd, &msg);
	if (ipc_get_u32(&rd) != 1 || (wire = (char *)ipc_get_str(&rd)) == NULL ||
	    ipc_reader_done(&rd) == -1 || (wire = strdup(wire)) == NULL)
		fatalx("monitor refused to sign the will");
	ipc_msg_free(&msg);
	return wire;
}

static void
router_connect(struct router *r)
{
	struct mqtt_will will;
	char id[128], err[512], topic[256], *wire = router_will(r);
	int local;

	snprintf(topic, sizeof(topic), "%s/meta/%s/state", r->cfg->prefix,
	    r->nodes[0]);
	will = (struct mqtt_will){ topic, wire, strlen(wire) };
	/* a stable client id and a persistent session: QoS 1 messages
	 * queued while we were away are delivered when we come back */
	snprintf(id, sizeof(id), "hive-%s", r->nodes[0]);
	r->mqtt = mqtt_connect_will(r->cfg, id, 0, ENVELOPE_MAX_WIRE, 10000,
	    &will, &local, err, sizeof(err));
	free(wire);
	if (r->mqtt == NULL)
		fatalx("broker: %s", err);
	router_subscribe(r);
	log_info("connected to %s:%d, subscribed; ready", r->cfg->host,
	    r->cfg->port);
}

static void
router_reconnect(struct router *r, int64_t now)
{
	if (now < r->next_connect)
		return;
	if (mqtt_reconnect(r->mqtt) == -1) {
		r->backoff = r->backoff ? (r->backoff * 2 > 30 ? 30 :
		    r->backoff * 2) : 1;
		r->next_connect = now + r->backoff;
		log_warnx("broker: %s; retry in %llds", mqtt_error(r->mqtt),
		    (long long)r->backoff);
		return;
	}
	r->backoff = 0;
	r->subscribed = 0;
	log_info("reconnecting to the broker");
}

/* Tell the monitor (and through it systemd) whether we are connected. */
static void
router_ready(struct router *r)
{
	char status[320];

	snprintf(status, sizeof(status), "%s %s:%d", r->ready ?
	    "connected to" : "reconnecting to", r->cfg->host, r->cfg->port);
	struct ipc_writer w = { 0 };

	ipc_put_str(&w, status);
	router_to_monitor(IMSG_READY, 0, w.p, w.len);
	ipc_writer_free(&w);
}

/* --- setup and loop ------------------------------------------------------ */

/*
 * IMSG_RELOAD (SIGHUP): the trusted keyring and its revocations, and
 * the policy, read again as the router's user (the keys directory and
 * the policy must be readable by it).  All or nothing: if either fails
 * to load, both old ones stay: a typo must not open or close the door
 * to everyone.  Instance settings need a restart (instances_carry).
 */
static void
router_reload(const struct ipc_msg *msg, void *arg)
{
	struct router *r = arg;
	static struct policy pol;	/* large: not on the stack */
	struct keyring fresh;
	char err[1024];

	memset(&fresh, 0, sizeof(fresh));
	if (keyring_load(r->cfg->keys_dir, &fresh, err, sizeof(err)) == -1 ||
	    policy_load(&pol, r->cfg, err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: keyring and policy not reloaded: %s", err);
		keyring_free(&fresh);
		return;
	}
	if (instances_carry(&pol, r->policy))
		log_warnx("SIGHUP: instance settings changed: they take "
		    "effect when hive-daemon restarts");
	keyring_free(&r->keyring);
	r->keyring = fresh;
	policy_free(r->policy);
	*r->policy = pol;	/* same object: control.c reads it too */
	memset(&pol, 0, sizeof(pol));
	log_info("SIGHUP: keyring and policy reloaded");
	router_audit(r, "reload", NULL, NULL, "keyring,policy");
	if (mqtt_connected(r->mqtt))
		router_roster(r);
}

static const struct ipc_rule router_from_monitor[] = {
	{ IMSG_SIGN_REP, ROLE_MONITOR, IPC_MAX, ENVELOPE_MAX_WIRE + 1024,
	    router_signed },
	{ IMSG_RELOAD, ROLE_MONITOR, IPC_EXACT, 0, router_reload },
	{ IMSG_HANDLERS, ROLE_MONITOR, IPC_MAX, 16 * 1024,
	    router_handlers_msg },
	{ IMSG_HANDLER_DONE, ROLE_MONITOR, IPC_MAX, IPC_MAX_PAYLOAD,
	    router_handler_done },
};
static void
router_on_monitor(struct router *r)
{
	struct ipc_msg msg;
	int n = ipc_recv(DAEMON_FD_MONITOR, &msg);

	if (n == 0) {
		log_info("monitor closed its link; exiting");
		exit(0);
	}
	if (n == -1)
		fatal("ipc from monitor");
	ipc_dispatch(router_from_monitor, sizeof(router_from_monitor) /
	    sizeof(router_from_monitor[0]), ROLE_MONITOR, &msg, r);
	ipc_msg_free(&msg);
}

/*
 * An injector's result.  Its link closing is fatal while we run (the
 * monitor restarts the unit) and expected while we drain.
 */
static void
router_on_injector(struct router *r, int k)
{
	struct ipc_msg msg;
	int n = ipc_recv(DAEMON_FD_INJECTORS + k, &msg);

	/* SIGTERM reaches the injectors too: one may close before our
	 * own loop has seen the signal */
	if (n == 0 && (r->draining || router_quit)) {
		r->inj_closed[k] = 1;
		return;
	}
	if (n == 0) {
		log_warnx("injector %d closed its link; exiting", k);
		exit(1);
	}
	if (n == -1)
		fatal("ipc from injector %d", k);
	router_injector_msg(r, k, &msg);
	ipc_msg_free(&msg);
}

/*
 * A first start: the state directory holds nothing yet (the journal
 * directory comes after the window).  Anything else means a window
 * existed, so its absence is a loss, not a beginning.
 */
static int
router_state_fresh(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int fresh = 1;

	if ((d = opendir(dir)) == NULL)
		fatal("state_dir %s", dir);
	while (fresh && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			fresh = 0;
	closedir(d);
	return fresh;
}

/*
 * Each peer holds at most window_share entries, so that one cannot
 * fill the window against the others; our own nodes (the box's own
 * traffic back from the broker) are bound by the capacity only.
 */
static void
router_window_shares(struct router *r)
{
	size_t i;

	window_set_share(r->in.window, (size_t)config_window_share(r->cfg));
	for (i = 0; i < r->nnodes; i++)
		window_exempt(r->in.window, r->nodes[i]);
}

/*
 * Never run with a window that forgot what it admitted: corrupt, torn
 * or missing (the state directory was in use) stops us until the
 * operator resets it (hive-daemon --reset-window: a floor, not a gap).
 */
static void
router_open_window(struct router *r)
{
	enum window_open_status st;
	char path[2048], err[1024];
	int flags = router_state_fresh(r->cfg->state_dir) ? 0 :
	    WINDOW_NOCREATE;

	snprintf(path, sizeof(path), "%s/window", r->cfg->state_dir);
	st = window_open(path, (size_t)r->cfg->window_capacity, time(NULL),
	    r->cfg->limits.max_skew, flags, &r->in.window, err, sizeof(err));
	if (r->in.window == NULL)
		fatalx("replay window %s: %s (refusing to run with an empty "
		    "window; after investigating, 'hive-daemon --reset-window' "
		    "starts a new one with a floor)",
		    window_open_status_name(st), err);
	log_info("replay window %s: %zu entries%s", window_open_status_name(st),
	    window_count(r->in.window), st == WINDOW_CREATED ?
	    " (first start: empty state directory)" : "");
	router_window_shares(r);
	if (window_floor(r->in.window) != 0)
		log_info("replay window floor %lld: envelopes stamped at or "
		    "before it are refused (window-reset)",
		    (long long)window_floor(r->in.window));
}

static void
router_setup(struct router *r, const struct config *cfg, struct policy *pol)
{
	char err[1024];

	memset(r, 0, sizeof(*r));
	r->backlog_tail = &r->backlog;
	r->cfg = cfg;
	r->policy = pol;
	r->nnodes = config_nodes(cfg, r->nodes);
	if (keyring_load(cfg->keys_dir, &r->keyring, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((r->corr = malloc(sizeof(*r->corr))) == NULL ||
	    (r->meta = malloc(sizeof(*r->meta))) == NULL)
		fatal("malloc");
	corr_init(r->corr);
	metaview_init(r->meta);
	ratelog_init(&r->ratelog, 10, 10);
	r->in.prefix = cfg->prefix;
	r->in.limits = &cfg->limits;
	r->in.keyring = &r->keyring;
	r->in.gate = router_gate;
	r->in.gate_arg = r;
	ratelimit_init(&r->rates);
	ratelimit_init(&r->rates_unknown);
	json_object_seed(0);	/* jansson's lazy /dev/urandom, done now */
	router_open_window(r);
	r->ctl = control_new(fcntl(DAEMON_FD_CONTROL, F_GETFD) != -1 ?
	    DAEMON_FD_CONTROL : -1, pol, cfg->control_timeout);
	router_connect(r);	/* resolves and connects before the drop */
	privdrop(cfg->user, "router");
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)	/* cleared by setuid */
		fatal("PR_SET_PDEATHSIG");
	router_inject_setup(r);	/* as our user: the journal is ours */
	router_corr_setup(r);	/* ...and so is the correlation journal */
	router_held_load(r);	/* ...and what the last drain held */
	router_handler_setup(r);
	router_sentinel_setup(r);	/* ...and so are the sentinel states */
	router_verify_setup();	/* threads, then the filter on all of them */
	sandbox_router();		/* last: see sandbox_router.c */
	r->started = (int64_t)time(NULL);
	r->next_beat = r->started;
	r->next_sync = r->started + 1;
}

static void
router_timers(struct router *r, int64_t now)
{
	/* draining 2: our state says stopped; no heartbeat may undo it */
	if (r->draining < 2 && now >= r->next_beat && mqtt_connected(r->mqtt)) {
		router_heartbeat(r, now);
		router_check_peers(r, now);
		r->next_beat = now + r->cfg->heartbeat_interval;
	}
	if (now >= r->next_sync) {
		if (window_sync(r->in.window) == -1)
			fatalx("replay window: fsync failed");
		/* the monitor feeds systemd's watchdog only while we tick */
		router_to_monitor(IMSG_ALIVE, 0, NULL, 0);
		window_expire(r->in.window, now);
		router_state_check(r, now);
		r->next_sync = now + 1;
	}
	router_corr_timers(r, now);
	router_inject_timers(r, now);
}

static void
router_mqtt(struct router *r, const struct pollfd *pfd, int64_t now)
{
	int fd = mqtt_fd(r->mqtt), mid;

	if (fd < 0 || mqtt_io(r->mqtt, fd >= 0 && (pfd->revents & POLLIN),
	    fd >= 0 && (pfd->revents & POLLOUT)) == -1)
		router_reconnect(r, now);
	else if (!r->subscribed && mqtt_connected(r->mqtt))
		router_subscribe(r);
	if (r->ready != mqtt_connected(r->mqtt)) {
		r->ready = mqtt_connected(r->mqtt);
		router_ready(r);
	}
	/* acknowledgements first: a client hears "sent" before replies */
	while (mqtt_take_ack(r->mqtt, &mid) == 1)
		router_control_acked(r, mid);
	router_messages(r);
	/* never expected (the queue grows up to 65,536 messages and is
	 * drained after every read), but an acknowledged message lost
	 * must not go unsaid */
	if (mqtt_dropped(r->mqtt) != r->dropped_seen) {
		log_warnx("receive queue full: %zu message(s) the broker had "
		    "delivered were lost", mqtt_dropped(r->mqtt) -
		    r->dropped_seen);
		router_audit(r, "lost", NULL, "queue-full", "receive queue");
		r->dropped_seen = mqtt_dropped(r->mqtt);
	}
}

static void
router_poll(struct router *r)
{
	struct pollfd pfd[2 + CONFIG_MAX_NODES + 1 + CONTROL_CLIENTS];
	uint32_t gone;
	int64_t now;
	size_t nctl, k, ni = r->ninjectors;
	int fd = mqtt_fd(r->mqtt);

	pfd[0] = (struct pollfd){ DAEMON_FD_MONITOR, POLLIN, 0 };
	pfd[1] = (struct pollfd){ fd, (short)(POLLIN |
	    (mqtt_want_write(r->mqtt) ? POLLOUT : 0)), 0 };
	for (k = 0; k < ni; k++)
		pfd[2 + k] = (struct pollfd){ r->inj_closed[k] ? -1 :
		    DAEMON_FD_INJECTORS + (int)k, POLLIN, 0 };
	nctl = control_pollfds(r->ctl, pfd + 2 + ni, 1 + CONTROL_CLIENTS);
	if (poll(pfd, 2 + ni + nctl, 200) == -1) {
		if (errno == EINTR)
			return;
		fatal("poll");
	}
	now = (int64_t)time(NULL);
	if (pfd[0].revents & (POLLIN | POLLHUP))
		router_on_monitor(r);
	for (k = 0; k < ni; k++)
		if (pfd[2 + k].revents & (POLLIN | POLLHUP))
			router_on_injector(r, (int)k);
	router_mqtt(r, &pfd[1], now);
	router_held_done(r);
	control_io(r->ctl, pfd + 2 + ni, nctl, router_control_request, r);
	while (control_take_closed(r->ctl, &gone))
		router_client_gone(r, gone);
	router_timers(r, now);
	router_pass_hup();
	router_audit_flush();	/* this turn's lines, before poll waits */
}

/* Sign requests the monitor has not answered yet. */
static int
router_signing(const struct router *r)
{
	size_t i;

	if (r->backlog != NULL)
		return 1;
	for (i = 0; i < ROUTER_PENDING; i++)
		if (r->pending[i].peer != 0)
			return 1;
	return 0;
}

/*
 * Every injector gone (or the time is up), no handler run owed and
 * nothing left to sign:
 * the monitor answers each one, within its timeout, or refuses it at
 * once while stopping.
 */
static int
router_drained(const struct router *r, long long deadline)
{
	size_t k;

	if (router_runs_active(r) > 0 || router_signing(r))
		return 0;
	for (k = 0; k < r->ninjectors; k++)
		if (!r->inj_closed[k])
			break;
	if (k == r->ninjectors)
		return 1;
	return mqtt_now_ms() >= deadline;
}

/*
 * SIGTERM: keep serving while the injectors finish their running calls
 * (results, agent replies to sign and publish), until each has closed
 * its link or ROUTER_DRAIN_MS pass.  What they deferred stays in the
 * journal.  Then the window is flushed.
 */
static void
router_drain(struct router *r)
{
	long long deadline = mqtt_now_ms() + ROUTER_DRAIN_MS;

	r->draining = 1;
	log_info("draining: %d injection(s), %zu handler run(s)",
	    router_inject_outstanding(r), router_runs_active(r));
	while (!router_drained(r, deadline))
		router_poll(r);
	/*
	 * Our state says "stopped" (router_stopped), then what the drain
	 * published is acknowledged by the broker before we go (3 s at
	 * most).  Waiting for those PUBACKs reads the socket, and
	 * libmosquitto acknowledges every PUBLISH it reads before we see
	 * it: so this is a whole turn of the loop, which routes what
	 * arrives instead of dropping messages the broker has already
	 * been told we have (a command or sync is held for the next
	 * start: router_held.c).
	 */
	if (mqtt_connected(r->mqtt))
		router_stopped(r, (int64_t)time(NULL));
	r->draining = 2;
	deadline = mqtt_now_ms() + 3000;
	while (mqtt_connected(r->mqtt) && (mqtt_want_write(r->mqtt) ||
	    mqtt_unacked(r->mqtt) > 0 || router_runs_active(r) > 0 ||
	    router_signing(r)) && mqtt_now_ms() < deadline)
		router_poll(r);
}

int
router_main(const struct daemon_opts *o, const struct config *cfg,
    struct policy *pol)
{
	static struct router r;	/* large: not on the stack */

	daemon_child_signals(router_on_term, router_on_hup);
	router_setup(&r, cfg, pol);
	while (!router_quit)
		router_poll(&r);
	router_drain(&r);
	if (window_sync(r.in.window) == -1)
		log_warnx("replay window: final fsync failed");
	window_free(r.in.window);
	mqtt_close(r.mqtt);
	control_free(r.ctl);
	metaview_free(r.meta);
	free(r.meta);
	free(r.corr);
	router_inject_free(&r);
	router_handler_free(&r);
	router_sentinel_free(&r);
	keyring_free(&r.keyring);
	log_info("stopped");
	return 0;
}
