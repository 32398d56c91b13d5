/*
 * router.c - hive-daemon's network-facing role.
 *
 * Unprivileged (privdrop(): the configured user, no capabilities,
 * no-new-privs) and without any secret key: what it publishes it asks
 * the monitor to sign.  It holds the MQTT connection, passes every
 * message through inbound_accept() with the persisted replay window,
 * and routes what survives by channel:
 *
 *   heartbeat  peer bookkeeping only; never reaches the agent
 *   command    without action: injected (now -> now, later ->
 *              next-heartbeat); with action: handlers come with the
 *              handlers issue, until then escalated as "no handler"
 *   sync       as a command with an action
 *   alert      injected, mode now
 *   status     injected if urgency now, else logged
 *   response   logged (correlation arrives in a later step)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "compose.h"
#include "daemon.h"
#include "inbound.h"
#include "ipc.h"
#include "log.h"
#include "mqtt.h"

#define ROUTER_PENDING	64
#define ROUTER_PEERS	256

/* What to do with an envelope once the monitor has signed it. */
struct router_pending {
	uint32_t	 peer;		/* 0: free slot */
	char		 topic[256];
	char		 meta_topic[256];	/* also publish here, retained */
	int		 qos;
};

struct router_peer {
	char		 node[NODE_MAX + 1];
	int64_t		 last_seen;
	int		 lost;
};

struct router {
	const struct config	*cfg;
	char			 nodes[CONFIG_MAX_NODES][NODE_MAX + 1];
	size_t			 nnodes;
	struct keyring		 keyring;
	struct inbound		 in;
	struct mqtt		*mqtt;
	struct router_pending	 pending[ROUTER_PENDING];
	struct router_peer	 peers[ROUTER_PEERS];
	uint32_t		 next_peer;
	int64_t			 started, next_beat, next_sync, backoff;
	int64_t			 next_connect;
	uint64_t		 injected, delivered, inject_failed;
	int			 subscribed;
};

static volatile sig_atomic_t router_quit;

static void
router_on_term(int sig)
{
	router_quit = 1;
}

static int
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
router_sign(struct router *r, const struct compose_req *q, const char *from,
    const char *meta_topic, int qos)
{
	struct router_pending *p = NULL;
	struct ipc_writer w = { 0 };
	size_t i;

	for (i = 0; i < ROUTER_PENDING && p == NULL; i++)
		if (r->pending[i].peer == 0)
			p = &r->pending[i];
	if (p == NULL) {
		log_warnx("sign queue full: dropped ch=%s to=%s", q->ch, q->to);
		return;
	}
	if (++r->next_peer == 0)
		r->next_peer = 1;
	p->peer = r->next_peer;
	p->qos = qos;
	snprintf(p->topic, sizeof(p->topic), "%s/%s/%s", r->cfg->prefix,
	    q->to, q->ch);
	snprintf(p->meta_topic, sizeof(p->meta_topic), "%s", meta_topic ?
	    meta_topic : "");
	ipc_put_str(&w, from);
	ipc_put_str(&w, q->to);
	ipc_put_str(&w, q->ch);
	ipc_put_str(&w, q->urgency);
	ipc_put_str(&w, q->text);
	ipc_put_str(&w, q->action);
	ipc_put_str(&w, q->corr);
	ipc_put_str(&w, q->reply_to);
	ipc_put_i64(&w, q->ttl);
	if (ipc_send(DAEMON_FD_MONITOR, IMSG_SIGN_REQ, p->peer, w.p, w.len))
		fatal("ipc to monitor");
	ipc_writer_free(&w);
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
	else if (mqtt_publish_nowait(r->mqtt, p->topic, wire, strlen(wire),
	    p->qos, 0) == -1 || (p->meta_topic[0] &&
	    mqtt_publish_nowait(r->mqtt, p->meta_topic, wire, strlen(wire),
	    1, 1) == -1))
		log_warnx("publish %s: %s", p->topic, mqtt_error(r->mqtt));
	p->peer = 0;
}

/* --- injection ----------------------------------------------------------- */

static void
router_inject(struct router *r, const struct envelope *e, const char *mode,
    const char *text)
{
	struct ipc_writer w = { 0 };
	const char *instance = router_is_local(r, e->to) ? e->to : r->nodes[0];

	ipc_put_str(&w, instance);
	ipc_put_str(&w, mode);
	ipc_put_str(&w, text);
	if (ipc_send(DAEMON_FD_PEER, IMSG_INJECT, 0, w.p, w.len) == -1)
		fatal("ipc to injector");
	ipc_writer_free(&w);
	r->injected++;
	log_info("inject instance=%s mode=%s from=%s id=%s ch=%s", instance,
	    mode, e->from, e->id, envelope_ch_name(e->ch));
}

static void
router_injected(const struct ipc_msg *msg, void *arg)
{
	struct router *r = arg;
	struct ipc_reader rd;
	const char *detail;
	uint32_t ok;

	ipc_reader_init(&rd, msg);
	ok = ipc_get_u32(&rd);
	detail = ipc_get_str(&rd);
	if (ipc_reader_done(&rd) == -1 || detail == NULL)
		fatalx("injector sent a malformed result");
	if (ok)
		r->delivered++;
	else {
		r->inject_failed++;
		log_warnx("injection failed: %s", detail);
	}
}

/*
 * The text the agent sees: verified provenance first, then the signed
 * text.  Only validated fields (node ids, kid, corr charset) go into
 * the frame; the message text is the signed text, cut to fit.
 */
static void
router_frame(const struct envelope *e, char *out, size_t len)
{
	char corr[96] = "";

	if (e->corr != NULL)
		snprintf(corr, sizeof(corr), " [corr:%s]", e->corr);
	snprintf(out, len, "Hive %s%s from %s (signed, key %s): %s%s "
	    "Use the hive skill for protocol details.",
	    envelope_ch_name(e->ch), corr, e->from, e->kid, e->text,
	    e->ch == CH_COMMAND ? " Response expected." : "");
}

static void
router_no_handler(struct router *r, const struct envelope *e)
{
	char *text = malloc(INJECT_TEXT_MAX);

	if (text == NULL)
		fatal("malloc");
	snprintf(text, INJECT_TEXT_MAX, "Hive %s from %s (signed, key %s): "
	    "Received action '%s' but no handler installed. Text: %s Use the "
	    "hive skill for protocol details.", envelope_ch_name(e->ch),
	    e->from, e->kid, e->action, e->text);
	router_inject(r, e, "now", text);
	free(text);
}

/* --- peers and heartbeats ------------------------------------------------ */

static struct router_peer *
router_peer(struct router *r, const char *node)
{
	size_t i;

	for (i = 0; i < ROUTER_PEERS; i++)
		if (strcmp(r->peers[i].node, node) == 0)
			return &r->peers[i];
	for (i = 0; i < ROUTER_PEERS; i++)
		if (r->peers[i].node[0] == '\0') {
			snprintf(r->peers[i].node, sizeof(r->peers[i].node),
			    "%s", node);
			return &r->peers[i];
		}
	return NULL;
}

static void
router_announce(struct router *r, const char *ch, const char *urgency,
    const char *text)
{
	struct compose_req q = { .to = "all", .ch = ch, .urgency = urgency,
	    .text = text, .ttl = 3600 };

	router_sign(r, &q, r->nodes[0], NULL, 1);
}

static void
router_peer_seen(struct router *r, const char *node, int64_t now)
{
	struct router_peer *p = router_peer(r, node);
	char text[256];

	if (p == NULL) {
		log_warnx("peer table full: %s not tracked", node);
		return;
	}
	p->last_seen = now;
	if (p->lost) {
		p->lost = 0;
		snprintf(text, sizeof(text), "hive: peer %s is back online "
		    "(seen by %s)", node, r->nodes[0]);
		log_info("peer %s is back", node);
		router_announce(r, "status", "later", text);
	}
}

static void
router_check_peers(struct router *r, int64_t now)
{
	int64_t limit = 3 * r->cfg->heartbeat_interval;
	char text[256];
	size_t i;

	for (i = 0; i < ROUTER_PEERS; i++) {
		struct router_peer *p = &r->peers[i];

		if (p->node[0] == '\0' || p->lost || now - p->last_seen <= limit)
			continue;
		p->lost = 1;	/* one alert per loss, not one per interval */
		snprintf(text, sizeof(text), "hive: peer %s missed 3 heartbeats "
		    "(last seen %lld, noticed by %s)", p->node,
		    (long long)p->last_seen, r->nodes[0]);
		log_warnx("peer %s lost", p->node);
		router_announce(r, "alert", "now", text);
	}
}

static void
router_heartbeat(struct router *r, int64_t now)
{
	struct compose_req q = { .to = "all", .ch = "heartbeat",
	    .urgency = "later" };
	char text[1024], meta[256];
	size_t i;

	q.ttl = 3 * r->cfg->heartbeat_interval + r->cfg->limits.max_skew;
	if (q.ttl > r->cfg->limits.max_ttl)
		q.ttl = r->cfg->limits.max_ttl;
	for (i = 0; i < r->nnodes; i++) {
		snprintf(text, sizeof(text), "{\"node\":\"%s\",\"status\":"
		    "\"online\",\"since\":%lld,\"uptime\":%lld,"
		    "\"accepted\":%llu,\"refused\":%llu,\"injected\":%llu,"
		    "\"jobs_active\":0}", r->nodes[i], (long long)r->started,
		    (long long)(now - r->started),
		    (unsigned long long)r->in.accepted,
		    (unsigned long long)refusal_total(&r->in.counters),
		    (unsigned long long)r->injected);
		q.text = text;
		snprintf(meta, sizeof(meta), "%s/meta/%s/state", r->cfg->prefix,
		    r->nodes[i]);
		router_sign(r, &q, r->nodes[i], meta, 0);
	}
}

/* --- received messages --------------------------------------------------- */

static void
router_route(struct router *r, const struct envelope *e, int64_t now)
{
	char *text;

	switch (e->ch) {
	case CH_HEARTBEAT:
		if (!router_is_local(r, e->from))
			router_peer_seen(r, e->from, now);
		return;
	case CH_RESPONSE:
		log_info("response from=%s id=%s corr=%s (logged)", e->from,
		    e->id, e->corr ? e->corr : "-");
		return;
	case CH_STATUS:
		if (!e->urgency_now) {
			log_info("status from=%s id=%s (logged)", e->from, e->id);
			return;
		}
		break;
	case CH_COMMAND:
	case CH_SYNC:
		if (e->action != NULL) {
			router_no_handler(r, e);
			return;
		}
		if (e->ch == CH_SYNC) {
			log_info("sync from=%s id=%s without action (logged)",
			    e->from, e->id);
			return;
		}
		break;
	default:
		break;
	}
	if ((text = malloc(INJECT_TEXT_MAX)) == NULL)
		fatal("malloc");
	router_frame(e, text, INJECT_TEXT_MAX);
	router_inject(r, e, e->ch == CH_ALERT || e->urgency_now ? "now" :
	    "next-heartbeat", text);
	free(text);
}

static void
router_message(struct router *r, const struct mqtt_msg *m)
{
	struct refusal why = { 0 };
	struct envelope e;
	int64_t now = (int64_t)time(NULL);

	if (inbound_accept(&r->in, m->topic, m->payload, m->len, now, &e,
	    &why) == -1) {
		log_warnx("refused reason=%s detail=\"%s\"",
		    refusal_name(why.reason), why.detail);
		return;
	}
	/* the broker chose what to deliver: only our nodes and "all" */
	if (strcmp(e.to, "all") != 0 && !router_is_local(r, e.to)) {
		refusal_count(&r->in.counters, REF_NOT_FOR_US);
		log_warnx("refused reason=not-for-us detail=\"to=%s\"", e.to);
		envelope_free(&e);
		return;
	}
	log_info("accepted from=%s id=%s ch=%s action=%s", e.from, e.id,
	    envelope_ch_name(e.ch), e.action ? e.action : "-");
	router_route(r, &e, now);
	envelope_free(&e);
}

/* --- the connection ------------------------------------------------------ */

static void
router_subscribe(struct router *r)
{
	char topic[256];
	size_t i;

	for (i = 0; i < r->nnodes; i++) {
		snprintf(topic, sizeof(topic), "%s/%s/+", r->cfg->prefix,
		    r->nodes[i]);
		if (mqtt_subscribe_nowait(r->mqtt, topic, 1) == -1)
			fatalx("%s", mqtt_error(r->mqtt));
	}
	snprintf(topic, sizeof(topic), "%s/all/+", r->cfg->prefix);
	if (mqtt_subscribe_nowait(r->mqtt, topic, 1) == -1)
		fatalx("%s", mqtt_error(r->mqtt));
	r->subscribed = 1;
}

static void
router_connect(struct router *r)
{
	char id[128], err[512];
	int local;

	/* a stable client id and a persistent session: QoS 1 messages
	 * queued while we were away are delivered when we come back */
	snprintf(id, sizeof(id), "hive-%s", r->nodes[0]);
	r->mqtt = mqtt_connect(r->cfg, id, 0, ENVELOPE_MAX_WIRE, 10000,
	    &local, err, sizeof(err));
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

/* --- setup and loop ------------------------------------------------------ */

static const struct ipc_rule router_from_monitor[] = {
	{ IMSG_SIGN_REP, ROLE_MONITOR, IPC_MAX, ENVELOPE_MAX_WIRE + 1024,
	    router_signed },
};
static const struct ipc_rule router_from_injector[] = {
	{ IMSG_INJECT_DONE, ROLE_INJECTOR, IPC_MAX, 1024, router_injected },
};

static void
router_ipc(struct router *r, int fd, const struct ipc_rule *rules,
    enum ipc_role from)
{
	struct ipc_msg msg;
	int n = ipc_recv(fd, &msg);

	if (n == 0) {
		log_info("%s closed its link; exiting", ipc_role_name(from));
		exit(from == ROLE_MONITOR ? 0 : 1);
	}
	if (n == -1)
		fatal("ipc from %s", ipc_role_name(from));
	ipc_dispatch(rules, 1, from, &msg, r);
	ipc_msg_free(&msg);
}

static void
router_open_window(struct router *r)
{
	enum window_open_status st;
	char path[2048], err[1024];

	snprintf(path, sizeof(path), "%s/window", r->cfg->state_dir);
	st = window_open(path, (size_t)r->cfg->window_capacity, time(NULL),
	    r->cfg->limits.max_skew, 0, &r->in.window, err, sizeof(err));
	if (r->in.window == NULL)
		fatalx("replay window %s: %s (refusing to run with an empty "
		    "window)", window_open_status_name(st), err);
	log_info("replay window %s: %zu entries", window_open_status_name(st),
	    window_count(r->in.window));
}

static void
router_setup(struct router *r, const struct config *cfg)
{
	char err[1024];

	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->nnodes = config_nodes(cfg, r->nodes);
	if (keyring_load(cfg->keys_dir, &r->keyring, err, sizeof(err)) == -1)
		fatalx("%s", err);
	r->in.prefix = cfg->prefix;
	r->in.limits = &cfg->limits;
	r->in.keyring = &r->keyring;
	router_open_window(r);
	router_connect(r);	/* resolves and connects before the drop */
	privdrop(cfg->user, "router");
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)	/* cleared by setuid */
		fatal("PR_SET_PDEATHSIG");
	r->started = (int64_t)time(NULL);
	r->next_beat = r->started;
	r->next_sync = r->started + 1;
}

static void
router_timers(struct router *r, int64_t now)
{
	if (now >= r->next_beat && mqtt_connected(r->mqtt)) {
		router_heartbeat(r, now);
		router_check_peers(r, now);
		r->next_beat = now + r->cfg->heartbeat_interval;
	}
	if (now >= r->next_sync) {
		if (window_sync(r->in.window) == -1)
			fatalx("replay window: fsync failed");
		window_expire(r->in.window, now);
		r->next_sync = now + 1;
	}
}

static void
router_poll(struct router *r)
{
	struct pollfd pfd[3];
	struct mqtt_msg m;
	int64_t now;
	int fd = mqtt_fd(r->mqtt);

	pfd[0] = (struct pollfd){ DAEMON_FD_MONITOR, POLLIN, 0 };
	pfd[1] = (struct pollfd){ DAEMON_FD_PEER, POLLIN, 0 };
	pfd[2] = (struct pollfd){ fd, (short)(POLLIN |
	    (mqtt_want_write(r->mqtt) ? POLLOUT : 0)), 0 };
	if (poll(pfd, fd >= 0 ? 3 : 2, 200) == -1) {
		if (errno == EINTR)
			return;
		fatal("poll");
	}
	now = (int64_t)time(NULL);
	if (pfd[0].revents & (POLLIN | POLLHUP))
		router_ipc(r, DAEMON_FD_MONITOR, router_from_monitor,
		    ROLE_MONITOR);
	if (pfd[1].revents & (POLLIN | POLLHUP))
		router_ipc(r, DAEMON_FD_PEER, router_from_injector,
		    ROLE_INJECTOR);
	if (fd < 0 || mqtt_io(r->mqtt, fd >= 0 && (pfd[2].revents & POLLIN),
	    fd >= 0 && (pfd[2].revents & POLLOUT)) == -1)
		router_reconnect(r, now);
	else if (!r->subscribed && mqtt_connected(r->mqtt))
		router_subscribe(r);
	while (mqtt_take(r->mqtt, &m) == 1) {
		router_message(r, &m);
		mqtt_msg_free(&m);
	}
	router_timers(r, now);
}

int
router_main(const struct daemon_opts *o, const struct config *cfg)
{
	struct router r;

	daemon_child_signals(router_on_term);
	router_setup(&r, cfg);
	while (!router_quit)
		router_poll(&r);
	if (window_sync(r.in.window) == -1)
		log_warnx("replay window: final fsync failed");
	window_free(r.in.window);
	mqtt_close(r.mqtt);
	keyring_free(&r.keyring);
	log_info("stopped");
	return 0;
}
