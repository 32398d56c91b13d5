/*
 * router_route.c - what the router does with a received message.
 *
 * Every message passes a gate first: inbound_accept() (topic, signature,
 * time, replay window) for messages to us, inbound_meta() for retained
 * meta documents, inbound_observe() for commands other nodes' topics
 * carry (we only look for our own, to track them).  Then by channel:
 *
 *   heartbeat  peer bookkeeping only; never reaches the agent
 *   command    with an action we have a handler for: run by the
 *              monitor, the outcome answered (router_handler.c); with
 *              another action: answered no-handler (to one of our
 *              nodes) and escalated "no handler installed";
 *              without: injected (now -> now, later -> next-heartbeat)
 *   sync       with action: as command (the agent hears of it only
 *              when the handler fails); without: logged
 *   alert      injected, mode now
 *   status     injected if urgency now, else logged
 *   response   accepted only if it answers a command we sent
 *              (router_corr.c), else refused as unsolicited
 *
 * Injection goes to the addressed local instance; a message to "all"
 * goes to every local instance except the one that sent it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "router.h"
#include "router_verify.h"

/* --- the agent's view ---------------------------------------------------- */

/*
 * The text the agent sees: verified provenance first, then the signed
 * text.  Only validated fields (node ids, kid, corr charset) go into
 * the header; the message text is the signed text, framed (frame.h)
 * and cut to fit.
 */
static void
router_frame(const struct envelope *e, int auto_reply, char *out, size_t len)
{
	char corr[96] = "", *said;
	const char *expect = "";

	/* a command always shows the key a reply must carry (create_reply:
	 * its corr, or else its id), so the agent can answer with
	 * hive-cli send --ch response --corr KEY */
	if (e->corr != NULL || e->ch == CH_COMMAND)
		snprintf(corr, sizeof(corr), " [corr:%s]", e->corr != NULL ?
		    e->corr : e->id);
	/* an agent-turn instance's reply is the response: no hive-cli */
	if (e->ch == CH_COMMAND)
		expect = auto_reply ? " Your reply is sent back automatically "
		    "as the response." : " Response expected.";
	said = frame_new(e->text, e->text_len, FRAME_BLOCK, INJECT_SAID_MAX);
	snprintf(out, len, "Hive %s%s from %s (signed, key %s): %s%s "
	    "Use the hive skill for protocol details.",
	    envelope_ch_name(e->ch), corr, e->from, e->kid, said, expect);
	free(said);
}

/* Frame e for each local instance it is for, and inject it. */
static void
router_deliver_framed(struct router *r, const struct envelope *e,
    const char *mode)
{
	char *text;
	size_t i;

	if ((text = malloc(INJECT_TEXT_MAX)) == NULL)
		fatal("malloc");
	for (i = 0; i < r->nnodes; i++) {
		if (router_is_local(r, e->to) ? strcmp(r->nodes[i], e->to) != 0 :
		    strcmp(r->nodes[i], e->from) == 0)
			continue;
		router_frame(e, router_inject_auto_reply(r, r->nodes[i]), text,
		    INJECT_TEXT_MAX);
		router_inject(r, r->nodes[i], mode, text, NULL, e);
	}
	free(text);
}

/* Inject into each local instance the envelope is for. */
static void
router_deliver(struct router *r, const struct envelope *e, const char *mode,
    const char *text)
{
	size_t i;

	if (router_is_local(r, e->to)) {
		router_inject(r, e->to, mode, text, NULL, e);
		return;
	}
	for (i = 0; i < r->nnodes; i++)
		if (strcmp(r->nodes[i], e->from) != 0)
			router_inject(r, r->nodes[i], mode, text, NULL, e);
}

/*
 * An action we have no handler for: the sender is answered no-handler
 * (router_handler.c) when it addressed one of our nodes, and the agent
 * hears of it with the key a reply of its own would carry.
 */
static void
router_no_handler(struct router *r, const struct envelope *e)
{
	char *text = malloc(INJECT_TEXT_MAX), *said;
	int answered = router_is_local(r, e->to);

	if (text == NULL)
		fatal("malloc");
	router_no_handler_respond(r, e);
	said = frame_new(e->text, e->text_len, FRAME_BLOCK, INJECT_SAID_MAX);
	snprintf(text, INJECT_TEXT_MAX, "Hive %s [corr:%s] from %s (signed, "
	    "key %s): Received action '%s' but no handler installed. Text: "
	    "%s%s Use the hive skill for protocol details.",
	    envelope_ch_name(e->ch), e->corr != NULL ? e->corr : e->id,
	    e->from, e->kid, e->action, said, answered ? " The daemon "
	    "answered no-handler." : "");
	router_deliver(r, e, "now", text);
	free(said);
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

	char *frame;
	size_t i;

	if (q.ttl > r->cfg->limits.max_ttl)
		q.ttl = r->cfg->limits.max_ttl;
	router_sign(r, &q, r->nodes[0], NULL, NULL);
	/* our own copy comes back on {p}/all/...; deliver() skips the
	 * sender, so the local agents hear it here, directly */
	if (strcmp(ch, "alert") != 0 && strcmp(urgency, "now") != 0)
		return;
	if ((frame = malloc(INJECT_TEXT_MAX)) == NULL)
		fatal("malloc");
	snprintf(frame, INJECT_TEXT_MAX, "Hive %s from %s (this box's "
	    "daemon): %s Use the hive skill for protocol details.", ch,
	    r->nodes[0], text);
	for (i = 0; i < r->nnodes; i++)
		router_inject(r, r->nodes[i], "now", frame, NULL, NULL);
	free(frame);
}

/* A heartbeat whose state says "stopped": the peer's clean stop. */
static int
router_said_stopped(const struct envelope *e)
{
	json_t *o = json_loadb(e->text, e->text_len, JSON_REJECT_DUPLICATES,
	    NULL);
	int stopped = json_is_object(o) && json_is_string(json_object_get(o,
	    "status")) && strcmp(json_string_value(json_object_get(o,
	    "status")), "stopped") == 0;

	json_decref(o);
	return stopped;
}

static void
router_peer_seen(struct router *r, const struct envelope *e, int64_t now)
{
	struct router_peer *p = router_peer(r, e->from);
	char text[256];

	if (p == NULL) {
		log_warnx("peer table full: %s not tracked", e->from);
		return;
	}
	p->last_seen = now;
	if (router_said_stopped(e)) {
		/* planned: its silence from now on is no loss */
		if (!p->stopped)
			log_info("peer %s stopped", e->from);
		p->stopped = 1;
		p->lost = 0;
		return;
	}
	p->stopped = 0;
	if (p->lost) {
		p->lost = 0;
		snprintf(text, sizeof(text), "hive: peer %s is back online "
		    "(seen by %s)", e->from, r->nodes[0]);
		log_info("peer %s is back", e->from);
		router_announce(r, "status", "later", text);
	}
}

void
router_check_peers(struct router *r, int64_t now)
{
	int64_t limit = 3 * r->cfg->heartbeat_interval;
	char text[256];
	size_t i;

	for (i = 0; i < ROUTER_PEERS; i++) {
		struct router_peer *p = &r->peers[i];

		if (p->node[0] == '\0' || p->lost || p->stopped ||
		    now - p->last_seen <= limit)
			continue;
		p->lost = 1;	/* one alert per loss, not one per interval */
		snprintf(text, sizeof(text), "hive: peer %s missed 3 heartbeats "
		    "(last seen %lld, noticed by %s)", p->node,
		    (long long)p->last_seen, r->nodes[0]);
		log_warnx("peer %s lost", p->node);
		router_announce(r, "alert", "now", text);
	}
}

/*
 * A write to the state directory failed (disk full, I/O error): what
 * we cannot record we refuse (window-io) or cannot hand on
 * (journal-io), each counted, logged and audited where it happens.
 * Here the operator and the cluster hear of it once: an alert to all
 * (the local agent's copy needs the journal, so it may not arrive).
 */
void
router_state_failed(struct router *r, const char *reason)
{
	char text[512];

	r->state_failed_at = (int64_t)time(NULL);
	r->state_accepted_at = r->in.accepted;
	if (r->state_failing)
		return;
	r->state_failing = 1;	/* first: the alert may fail here too */
	log_warnx("state directory %s refuses writes (%s): refusing what "
	    "cannot be recorded until it recovers", r->cfg->state_dir, reason);
	snprintf(text, sizeof(text), "hive: node %s cannot write its state "
	    "(%s, %.256s): messages it cannot record are refused until it "
	    "recovers", r->nodes[0], reason, r->cfg->state_dir);
	router_announce(r, "alert", "now", text);
}

/* Recovered: no failure for ROUTER_STATE_QUIET s and a message admitted
 * (its window record written) since the last one. */
void
router_state_check(struct router *r, int64_t now)
{
	char text[256];

	if (!r->state_failing || now - r->state_failed_at < ROUTER_STATE_QUIET ||
	    r->in.accepted == r->state_accepted_at)
		return;
	r->state_failing = 0;
	log_info("state directory %s writable again", r->cfg->state_dir);
	snprintf(text, sizeof(text), "hive: node %s can write its state "
	    "again", r->nodes[0]);
	router_announce(r, "status", "later", text);
}

static json_t *
router_instances(const struct router *r)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < r->nnodes; i++)
		json_array_append_new(a, json_string(r->nodes[i]));
	if (a == NULL)
		fatal("json_array");
	return a;
}

/* {"reason": count} for every reason counted so far: which kind of bad
 * input a node sees, for an operator reading another node's state. */
static json_t *
router_refused_by(const struct refusal_counters *c)
{
	json_t *o = json_object();
	int i;

	if (o == NULL)
		fatal("json_object");
	for (i = REF_NONE + 1; i < REF__COUNT; i++)
		if (c->n[i] != 0 && json_object_set_new(o, refusal_name(i),
		    json_integer((json_int_t)c->n[i])) == -1)
			fatalx("router_refused_by");
	return o;
}

static char *
router_state_text(struct router *r, const char *node, int64_t now)
{
	double load[1] = { 0 };
	json_t *o;
	char *s;

	if (getloadavg(load, 1) != 1)
		load[0] = -1;
	o = json_pack("{sssssIsIsIsIsfsosIsIsosIsIsIsIsI}", "node", node,
	    "status", "online", "since", (json_int_t)r->started,
	    "heartbeat_interval", (json_int_t)r->cfg->heartbeat_interval,
	    "uptime", (json_int_t)(now - r->started),
	    "last_heartbeat", (json_int_t)now, "load", load[0],
	    "instances", router_instances(r),
	    "accepted", (json_int_t)r->in.accepted,
	    "refused", (json_int_t)refusal_total(&r->in.counters),
	    "refused_by", router_refused_by(&r->in.counters),
	    "injected", (json_int_t)r->injected,
	    "delivered", (json_int_t)r->delivered,
	    "inject_failed", (json_int_t)r->inject_failed,
	    "pending", (json_int_t)corr_count(r->corr),
	    "jobs_active", (json_int_t)router_runs_active(r));
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS))
	    == NULL)
		fatalx("router_state_text");
	json_decref(o);
	return s;
}

/* Signed heartbeat to {p}/all/heartbeat, and the same envelope retained
 * at {p}/meta/{node}/state. */
void
router_heartbeat(struct router *r, int64_t now)
{
	struct compose_req q = { .to = "all", .ch = "heartbeat",
	    .urgency = "later" };
	struct router_pending p = { .qos = 0 };
	char *text;
	size_t i;

	q.ttl = 3 * r->cfg->heartbeat_interval + r->cfg->limits.max_skew;
	if (q.ttl > r->cfg->limits.max_ttl)
		q.ttl = r->cfg->limits.max_ttl;
	for (i = 0; i < r->nnodes; i++) {
		text = router_state_text(r, r->nodes[i], now);
		q.text = text;
		snprintf(p.meta_topic, sizeof(p.meta_topic), "%s/meta/%s/state",
		    r->cfg->prefix, r->nodes[i]);
		router_sign(r, &q, r->nodes[i], NULL, &p);
		free(text);
	}
}

/*
 * A clean stop, the drain done: each node's retained state becomes
 * "stopped" (the broker keeps it; our will is only for an unclean
 * end), and the same envelope on {p}/all/heartbeat tells the peers at
 * once that our silence is planned, not a loss to alert about.
 */
void
router_stopped(struct router *r, int64_t now)
{
	struct compose_req q = { .to = "all", .ch = "heartbeat",
	    .urgency = "later" };
	struct router_pending p = { .qos = 1 };
	json_t *o;
	char *text;
	size_t i;

	q.ttl = r->cfg->limits.max_ttl;
	for (i = 0; i < r->nnodes; i++) {
		o = json_pack("{sssssIsIsIso}", "node", r->nodes[i], "status",
		    "stopped", "since", (json_int_t)now, "started",
		    (json_int_t)r->started, "last_heartbeat", (json_int_t)now,
		    "instances", router_instances(r));
		if (o == NULL || (text = json_dumps(o, JSON_COMPACT |
		    JSON_SORT_KEYS)) == NULL)
			fatalx("router_stopped");
		json_decref(o);
		q.text = text;
		snprintf(p.meta_topic, sizeof(p.meta_topic), "%s/meta/%s/state",
		    r->cfg->prefix, r->nodes[i]);
		router_sign(r, &q, r->nodes[i], NULL, &p);
		free(text);
	}
}

/* {p}/meta/{node}/roster, retained: who we are and what we handle. */
void
router_roster(struct router *r)
{
	char topic[256], tmp[512], *text, *w, *save = NULL;
	json_t *o, *caps = json_array();
	size_t i;

	snprintf(tmp, sizeof(tmp), "%s", r->cfg->capabilities);
	for (w = strtok_r(tmp, ",", &save); w; w = strtok_r(NULL, ",", &save))
		json_array_append_new(caps, json_string(w));
	for (i = 0; i < r->nnodes; i++) {
		o = json_pack("{sssssOsososs}", "node", r->nodes[i],
		    "role", r->cfg->role, "capabilities", caps,
		    "handlers", router_handler_names(r),
		    "instances", router_instances(r),
		    "version", HIVE_VERSION);
		if (o == NULL || (text = json_dumps(o, JSON_COMPACT |
		    JSON_SORT_KEYS)) == NULL)
			fatalx("router_roster");
		json_decref(o);
		snprintf(topic, sizeof(topic), "%s/meta/%s/roster",
		    r->cfg->prefix, r->nodes[i]);
		router_publish_meta(r, r->nodes[i], "all", NULL, topic, text);
		free(text);
	}
	json_decref(caps);
}

/* --- the gate: rates and policy ------------------------------------------ */

/*
 * The daemon's part of the inbound gate (inbound.h).  Before the
 * signature: a sender whose key we do not know shares one bucket
 * ("rate unknown"), so a flood of forgeries costs us no Ed25519 work.
 * After it: the sender's own bucket, then the policy's allow/deny.
 * Our own nodes (our heartbeats and alerts, signed by our monitor,
 * coming back from the broker) pass both.
 */
int
router_gate(void *arg, enum inbound_stage st, const struct envelope *e,
    int known, struct refusal *why)
{
	struct router *r = arg;
	const struct policy_rate *rt;
	struct policy_verdict v;
	int64_t now = mqtt_now_ms();

	if (st == INBOUND_PRE_SIG) {
		rt = &r->policy->rate_unknown;
		/* a table of its own: the senders' buckets, touched after
		 * the signature (inbound_accept_end), never evict it */
		if (known || ratelimit_take(&r->rates_unknown, "", rt->per_sec,
		    rt->burst, now))
			return 0;
		refusal_set(why, REF_RATE_LIMITED, "unknown senders");
		return -1;
	}
	if (router_is_local(r, e->from))
		return 0;
	rt = policy_rate_for(r->policy, e->from);
	if (!ratelimit_take(&r->rates, e->from, rt->per_sec, rt->burst, now)) {
		refusal_set(why, REF_RATE_LIMITED, "from=%s", e->from);
		return -1;
	}
	policy_check(r->policy, e->from, e->ch, e->action, &v);
	if (!v.allow) {
		refusal_set(why, REF_POLICY_DENIED, "%s", v.why);
		return -1;
	}
	/* the agent is the scarce part: a peer whose messages fill its
	 * share of the injections held waits until they are delivered */
	if (e->ch != CH_HEARTBEAT && router_inject_held(r, e->from) >=
	    (size_t)r->cfg->inject_share) {
		refusal_set(why, REF_SHARE_FULL, "inject from=%s holds %lld",
		    e->from, (long long)r->cfg->inject_share);
		return -1;
	}
	return 0;
}

/* --- received messages --------------------------------------------------- */

/*
 * What wakes the agent needs an allow rule, never a default: a status
 * is allowed by default as state, and injected (urgency now) only when
 * a rule allows it; a peer's silence raises an alert only when a rule
 * lets that peer alert this box, as its own alert would need.  Our own
 * nodes are always heard.
 */
static int
router_ruled(const struct router *r, const char *from, enum envelope_ch ch)
{
	struct policy_verdict v;

	if (router_is_local(r, from))
		return 1;
	policy_check(r->policy, from, ch, NULL, &v);
	return v.allow && v.line != 0;
}

static void
router_route(struct router *r, const struct envelope *e, int64_t now)
{
	switch (e->ch) {
	case CH_HEARTBEAT:
		if (!router_is_local(r, e->from) && router_ruled(r, e->from,
		    CH_ALERT))
			router_peer_seen(r, e, now);
		return;
	case CH_RESPONSE:
		return;		/* router_response() took it */
	case CH_STATUS:
		if (!e->urgency_now || !router_ruled(r, e->from, CH_STATUS)) {
			log_info("status from=%s id=%s (logged)", e->from, e->id);
			return;
		}
		break;
	case CH_COMMAND:
	case CH_SYNC:
		router_command_seen(r, e);
		if (e->action != NULL && router_has_handler(r, e->action)) {
			router_run_handler(r, e);
			return;
		}
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
	router_deliver_framed(r, e, e->ch == CH_ALERT || e->urgency_now ?
	    "now" : "next-heartbeat");
}


/* A verified meta document: into the view, within its signer's share
 * (a correlation document about our own command: the store's). */
static void
router_meta_keep(struct router *r, const char *key, const char *kind,
    const struct envelope *e, struct refusal *why)
{
	int local = router_is_local(r, e->from);

	if (strncmp(key, "corr/", 5) == 0) {
		kind = "corr";
		if (router_meta_corr(r, e, (int64_t)time(NULL), why) != 1)
			return;
	}
	/* full: counted in the view's dropped, as before any share */
	if (metaview_put(r->meta, key, kind, e, local) == METAVIEW_OVER_SHARE)
		refusal_set(why, REF_SHARE_FULL, "meta from=%s holds %d",
		    e->from, METAVIEW_SHARE);
}

/* {p}/meta/...: a document for the view, or a cleared one. */
static void
router_meta(struct router *r, const struct mqtt_msg *m, const char *key)
{
	struct refusal why = { 0 };
	struct envelope e;
	const char *kind;

	if (m->len == 0 && !m->oversize) {
		metaview_remove(r->meta, key);
		return;
	}
	if (inbound_meta(&r->in, m->topic, m->payload, m->len, &e, &kind,
	    &why) == -1) {
		router_refused(r, m->topic, &why);
		return;
	}
	router_meta_keep(r, key, kind, &e, &why);
	if (why.reason != REF_NONE) {
		inbound_refusal_signed(&why, &e);	/* after the signature */
		refusal_count(&r->in.counters, why.reason);
		router_refused(r, m->topic, &why);
	}
	envelope_free(&e);
}

/*
 * {p}/X/command for X neither ours nor "all": another node's command.
 * Only our own nodes' commands matter (hive-cli used directly with a
 * key sends them without us); anything else is ignored uncounted, as
 * traffic we merely see.
 */
static void
router_observe(struct router *r, const struct mqtt_msg *m, int64_t now)
{
	struct refusal why = { 0 };
	struct envelope e;

	r->observed++;
	if (inbound_observe(&r->in, m->topic, m->payload, m->len, now,
	    r->nodes, r->nnodes, &e, &why) == 0) {
		router_observed(r, &e, now);
		envelope_free(&e);
	} else if (why.reason != REF_NONE)
		router_refused(r, m->topic, &why);
}

/* The level after the prefix, and whether it is one of ours or all. */
static int
router_topic_is_ours(const struct router *r, const char *topic)
{
	size_t n = strlen(r->cfg->prefix);
	const char *to = topic + n + 1, *slash;
	char node[NODE_MAX + 1];

	if (strncmp(topic, r->cfg->prefix, n) != 0 || topic[n] != '/' ||
	    (slash = strchr(to, '/')) == NULL || slash - to > NODE_MAX)
		return 1;	/* not a {p}/X/Y topic: the gate refuses it */
	memcpy(node, to, (size_t)(slash - to));
	node[slash - to] = '\0';
	return strcmp(node, "all") == 0 || router_is_local(r, node);
}

/* A message for us, verified: to whom, and then the routing table. */
static void
router_accepted(struct router *r, const struct mqtt_msg *m, struct envelope *e,
    int64_t now)
{
	struct refusal why = { 0 };

	/* the broker chose what to deliver: only our nodes and "all" */
	if (strcmp(e->to, "all") != 0 && !router_is_local(r, e->to)) {
		refusal_set(&why, REF_NOT_FOR_US, "to=%s", e->to);
		inbound_refusal_signed(&why, e);
		refusal_count(&r->in.counters, REF_NOT_FOR_US);
		router_refused(r, m->topic, &why);
	} else if (e->ch == CH_RESPONSE && router_response(r, e, now) == -1) {
		refusal_set(&why, REF_UNSOLICITED, "corr=%s", e->corr ? e->corr :
		    "-");
		inbound_refusal_signed(&why, e);
		refusal_count(&r->in.counters, REF_UNSOLICITED);
		router_refused(r, m->topic, &why);
	} else {
		/* the audit log has every one: info would be a line per
		 * message, a write(2) each, in a flood (bench/bus.sh) */
		log_debug("accepted from=%s id=%s ch=%s action=%s", e->from,
		    e->id, envelope_ch_name(e->ch), e->action ? e->action : "-");
		router_audit(r, "accepted", e, NULL, NULL);
		if (router_is_local(r, e->from))
			router_observed(r, e, now);
		router_route(r, e, now);
	}
	envelope_free(e);
}

/* One received message of a batch, between the steps below. */
struct router_in {
	enum { RIN_META, RIN_OBSERVE, RIN_ACCEPT, RIN_REFUSED } kind;
	struct inbound_prep	 p;	/* the envelope, the verdict */
	struct refusal		 why;
	int64_t			 now;
};

_Static_assert(ROUTER_BATCH <= WINDOW_BATCH_MAX,
    "a batch's window entries must fit one window_commit()");

/* What kind; for ours, the job that parses and checks it. */
static void
router_in_kind(struct router *r, const struct mqtt_msg *m,
    struct router_in *in, struct verify_job *job, size_t *njobs)
{
	size_t n = strlen(r->cfg->prefix);

	memset(&in->why, 0, sizeof(in->why));
	if (strncmp(m->topic, r->cfg->prefix, n) == 0 &&
	    strncmp(m->topic + n, "/meta/", 6) == 0)
		in->kind = RIN_META;
	else if (!router_topic_is_ours(r, m->topic))
		in->kind = RIN_OBSERVE;
	else {
		in->kind = RIN_ACCEPT;
		buf_init(&in->p.msg, 2 * ENVELOPE_MAX_WIRE);
		*job = (struct verify_job){ m->topic, m->payload, m->len,
		    &in->p };
		(*njobs)++;
	}
}

/* First half, in arrival order, after the jobs: the refusals that
 * preparing found counted, the pre-signature gate; nothing said. */
static void
router_in_begin(struct router *r, struct router_in *in)
{
	if (in->kind == RIN_ACCEPT &&
	    inbound_accept_begin(&r->in, &in->p, &in->why) == -1)
		in->kind = RIN_REFUSED;
}

/* Second half, in arrival order: the verdict, the window entry staged;
 * nothing said or done yet. */
static void
router_in_check(struct router *r, struct router_in *in)
{
	in->now = (int64_t)time(NULL);
	if (in->kind == RIN_ACCEPT && inbound_accept_end(&r->in, &in->p.e,
	    in->p.ok, in->now, &in->why) == -1)
		in->kind = RIN_REFUSED;
}

/*
 * The window records of every message the batch admitted, with one
 * write(); if it fails, none of them is admitted: each is refused as
 * window-io, as one that failed alone would be, and none is acted on.
 */
static void
router_in_commit(struct router *r, struct router_in *in, size_t n)
{
	size_t i;

	if (inbound_accept_commit(&r->in) == 0)
		return;
	for (i = 0; i < n; i++)
		if (in[i].kind == RIN_ACCEPT) {
			inbound_accept_fail(&r->in, &in[i].p.e, &in[i].why);
			in[i].kind = RIN_REFUSED;
		}
}

/* Last, in arrival order: everything a message does. */
static void
router_in_end(struct router *r, const struct mqtt_msg *m,
    struct router_in *in)
{
	switch (in->kind) {
	case RIN_META:
		router_meta(r, m, m->topic + strlen(r->cfg->prefix) + 6);
		return;
	case RIN_OBSERVE:
		router_observe(r, m, in->now);
		return;
	case RIN_REFUSED:
		router_refused(r, m->topic, &in->why);
		break;
	case RIN_ACCEPT:
		router_accepted(r, m, &in->p.e, in->now);
		break;
	}
	buf_free(&in->p.msg);
}

/* A batch: the messages, their state between the steps, their jobs. */
struct router_batch {
	struct mqtt_msg		 m[ROUTER_BATCH];
	struct router_in	 in[ROUTER_BATCH];
	struct verify_job	 jobs[ROUTER_BATCH];
	size_t			 n, njobs;
};

/* The next batch from the receive queue, its jobs handed to the
 * workers (router_verify_start); how many messages it has. */
static size_t
router_batch_take(struct router *r, struct router_batch *b)
{
	size_t i;

	for (b->n = 0; b->n < ROUTER_BATCH; ) {
		if (router_held_take(r, &b->m[b->n]) != 1 &&
		    mqtt_take(r->mqtt, &b->m[b->n]) != 1)
			break;
		/* draining: a command waits for the next start */
		if (router_held_wanted(r, &b->m[b->n]) &&
		    router_held_put(r, &b->m[b->n]) == 0)
			mqtt_msg_free(&b->m[b->n]);
		else
			b->n++;
	}
	b->njobs = 0;
	for (i = 0; i < b->n; i++)
		router_in_kind(r, &b->m[i], &b->in[i], &b->jobs[b->njobs],
		    &b->njobs);
	router_verify_start(&r->in, b->jobs, b->njobs);
	return b->n;
}

/* Everything after the jobs, on this thread, in arrival order. */
static void
router_batch_finish(struct router *r, struct router_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		router_in_begin(r, &b->in[i]);
	for (i = 0; i < b->n; i++)
		router_in_check(r, &b->in[i]);
	router_in_commit(r, b->in, b->n);
	for (i = 0; i < b->n; i++) {
		router_in_end(r, &b->m[i], &b->in[i]);
		mqtt_msg_free(&b->m[i]);
	}
}

/*
 * The received messages, in batches, as if one by one: each message's
 * kind; the parse and signature check of ours on several threads
 * (router_verify.c: nothing counted, nothing said, nothing admitted);
 * then in arrival order every first half (the refusals counted, the
 * pre-signature gate) and every second half (time, policy, replay
 * window: staged), the window records of the whole batch in one write,
 * then what each message does, in arrival order (refusals said,
 * routing).
 *
 * Two batches overlap: while this thread finishes one, the workers
 * prepare the next, and this thread then takes its own share of what
 * is left of it.  That is sound because nothing the finishing of a
 * batch changes is read by the threads: the keyring, the limits and
 * the policy change only between calls of this function (IMSG_RELOAD
 * is read by the poll loop), and the pool holds one batch at a time.
 * Nor does anything a message does (routing, meta documents, observed
 * commands) change what a later message's halves read: only the rate
 * buckets (the unknown-sender bucket a table of its own) and the
 * window.
 *
 * The batches are static: the router has one main thread, and this
 * function is not re-entered (nothing it calls reads the queue).
 */
void
router_messages(struct router *r)
{
	static struct router_batch rb[2];
	struct router_batch *cur = &rb[0], *next = &rb[1], *t;
	size_t more;

	if (router_batch_take(r, cur) == 0)
		return;
	for (;;) {
		router_verify_wait(&r->in, cur->jobs, cur->njobs);
		more = router_batch_take(r, next);
		router_batch_finish(r, cur);
		if (more == 0)
			break;
		t = cur, cur = next, next = t;
	}
}
