/*
 * router_handler.c - handler runs, as the router sees them.
 *
 * A verified command or sync with an action this box has a handler for
 * becomes a RUN_HANDLER request to the monitor, which runs it confined
 * (monitor_handlers.c).  The outcome comes back as HANDLER_DONE and is
 * published here, every part signed by the monitor:
 *
 *   {p}/meta/{node}/{action}  retained: node, action, trigger_id,
 *                             status (the outcome), ts, duration_ms,
 *                             result or error
 *   response to the sender    create_reply of the request; text = the
 *                             handler's JSON result, or "error: ..."
 *   alert to the sender       when the outcome is not ok and the
 *                             handler's policy block says "alert yes"
 *   the local agent           only when a sync fails (the routing
 *                             table's "escalates only on failure")
 *
 * Sentinel runs (tag 0, started by the monitor's schedule) publish the
 * same meta document; their result wakes the local agent only if it
 * asks to ({"wake": "alert"|"command", "text": "..."}) and its "state",
 * if it gives one, is not the one its last run gave (router_sentinel.c),
 * or on failure with "alert yes".  Otherwise nothing reaches the agent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "router.h"
#include "util.h"

#define RUN_TEXT_MAX	(48 * 1024)	/* response and meta texts */
#define WAKE_TEXT_MAX	4000		/* what a sentinel may say */

/* --- the handlers the monitor found --------------------------------------- */

/* IMSG_HANDLERS: comma-separated action names. */
void
router_handlers_msg(const struct ipc_msg *msg, void *arg)
{
	struct router *r = arg;
	struct ipc_reader rd;
	const char *names;
	char *copy, *w, *save = NULL;

	ipc_reader_init(&rd, msg);
	names = ipc_get_str(&rd);
	if (ipc_reader_done(&rd) == -1 || names == NULL ||
	    (copy = strdup(names)) == NULL)
		fatalx("monitor sent a malformed handler list");
	r->nhandlers = 0;
	for (w = strtok_r(copy, ",", &save); w != NULL;
	    w = strtok_r(NULL, ",", &save)) {
		if (!envelope_valid_action(w) || r->nhandlers == ROUTER_HANDLERS)
			fatalx("monitor sent a bad handler list");
		hive_strlcpy(r->handlers[r->nhandlers++], w,
		    sizeof(r->handlers[0]));
	}
	free(copy);
	log_info("%zu handler(s) installed", r->nhandlers);
}

int
router_has_handler(const struct router *r, const char *action)
{
	size_t i;

	for (i = 0; action != NULL && i < r->nhandlers; i++)
		if (strcmp(r->handlers[i], action) == 0)
			return 1;
	return 0;
}

json_t *
router_handler_names(const struct router *r)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < r->nhandlers; i++)
		json_array_append_new(a, json_string(r->handlers[i]));
	if (a == NULL)
		fatal("json_array");
	return a;
}

size_t
router_runs_active(const struct router *r)
{
	size_t i, n = 0;

	for (i = 0; i < ROUTER_RUNS; i++)
		n += r->runs[i].tag != 0;
	return n;
}

/* --- asking for a run ----------------------------------------------------- */

/* The envelope for a run: which of our nodes, the run record. */
static struct router_run *
router_run_alloc(struct router *r)
{
	size_t i;

	for (i = 0; i < ROUTER_RUNS; i++)
		if (r->runs[i].tag == 0) {
			if (++r->next_run_tag == 0)
				r->next_run_tag = 1;
			r->runs[i].tag = r->next_run_tag;
			return &r->runs[i];
		}
	return NULL;
}

static void router_run_outcome(struct router *, const struct router_run *,
    const char *outcome, int64_t duration_ms, int64_t ts,
    const char *result, const char *error);

/*
 * A verified command or sync with an action we have a handler for.
 * Addressed to "all", it runs once on this box, as our first node; not
 * at all when one of our own nodes sent it (the box it came from).
 */
static void
router_run_fill(struct router_run *run, const struct envelope *e,
    const char *node)
{
	run->ch = e->ch;
	hive_strlcpy(run->node, node, sizeof(run->node));
	hive_strlcpy(run->from, e->from, sizeof(run->from));
	hive_strlcpy(run->id, e->id, sizeof(run->id));
	hive_strlcpy(run->corr, e->corr ? e->corr : e->id, sizeof(run->corr));
	hive_strlcpy(run->kid, e->kid, sizeof(run->kid));
	hive_strlcpy(run->action, e->action, sizeof(run->action));
}

void
router_run_handler(struct router *r, const struct envelope *e)
{
	struct router_run *run, busy = { .tag = 0 };
	struct ipc_writer w = { 0 };
	struct buf canon;
	const char *node = router_is_local(r, e->to) ? e->to : r->nodes[0];

	if (!router_is_local(r, e->to) && router_is_local(r, e->from))
		return;
	if ((run = router_run_alloc(r)) == NULL) {
		/* answered at once, from a record that takes no slot */
		log_warnx("handler %s: %d runs outstanding; refused",
		    e->action, ROUTER_RUNS);
		router_run_fill(&busy, e, node);
		busy.exit_status = -1;
		router_run_outcome(r, &busy, "refused", 0, (int64_t)time(NULL),
		    "", "busy: too many handler runs outstanding");
		return;
	}
	router_run_fill(run, e, node);
	buf_init(&canon, 2 * ENVELOPE_MAX_WIRE);
	if (envelope_canonical(e->root, &canon) == -1 ||
	    buf_cstr(&canon) == NULL)
		fatalx("canonical form of a verified envelope");
	ipc_put_u32(&w, run->tag);
	ipc_put_str(&w, run->node);
	ipc_put_str(&w, run->from);
	ipc_put_str(&w, run->id);
	ipc_put_str(&w, envelope_ch_name(e->ch));
	ipc_put_str(&w, run->action);
	ipc_put_str(&w, canon.p);
	router_to_monitor(IMSG_RUN_HANDLER, 0, w.p, w.len);
	ipc_writer_free(&w);
	buf_free(&canon);
	log_info("handler %s asked for from=%s id=%s node=%s", run->action,
	    run->from, run->id, run->node);
}

/* --- publishing an outcome ------------------------------------------------ */

static char *
router_run_doc(const struct router_run *run, const char *outcome,
    int64_t duration_ms, int64_t ts, const char *result, const char *error)
{
	json_t *o, *res = NULL;
	char *s;

	o = json_pack("{sssssssssIsI}", "node", run->node, "action",
	    run->action, "trigger_id", !run->sentinel ? run->id : "sentinel",
	    "status", outcome, "ts", (json_int_t)ts,
	    "duration_ms", (json_int_t)duration_ms);
	if (o == NULL)
		fatalx("router_run_doc");
	if (!run->sentinel)
		json_object_set_new(o, "from", json_string(run->from));
	if (run->exit_status >= 0)
		json_object_set_new(o, "exit", json_integer(run->exit_status));
	if (run->signal > 0)
		json_object_set_new(o, "signal", json_integer(run->signal));
	if (run->syscall[0] != '\0')
		json_object_set_new(o, "syscall", json_string(run->syscall));
	if (result[0] != '\0' && (res = json_loads(result,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		fatalx("monitor sent a handler result that is not JSON");
	if (res != NULL)
		json_object_set_new(o, "result", res);
	else
		json_object_set_new(o, "error", json_string(error));
	if ((s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		fatalx("router_run_doc");
	json_decref(o);
	return s;
}

static void
router_run_meta(struct router *r, const struct router_run *run,
    const char *doc)
{
	char topic[512];

	if ((size_t)snprintf(topic, sizeof(topic), "%s/meta/%s/%s",
	    r->cfg->prefix, run->node, run->action) >=
	    sizeof(((struct router_pending *)0)->meta_topic)) {
		log_warnx("handler %s: meta topic too long; not published",
		    run->action);
		return;
	}
	router_publish_meta(r, run->node, "all", NULL, topic, doc);
}

/* create_reply of the request: the result, or the error. */
static void
router_run_respond(struct router *r, const struct router_run *run,
    int ok, const char *outcome, const char *result, const char *error)
{
	struct compose_req q = { .to = run->from, .ch = "response",
	    .urgency = "now", .corr = run->corr, .reply_to = run->id,
	    .ttl = 3600 };
	char *text;

	if ((text = malloc(RUN_TEXT_MAX)) == NULL)
		fatal("malloc");
	if (ok)
		snprintf(text, RUN_TEXT_MAX, "%s", result);
	else
		snprintf(text, RUN_TEXT_MAX, "error: handler %s on %s: %s%s%s",
		    run->action, run->node, outcome, error[0] ? ": " : "",
		    error);
	q.text = text;
	/* absent on success, so that a receiver that predates the field
	 * still accepts every answer that succeeded (protocol.md, 14) */
	q.outcome = ok ? NULL : outcome;
	if (q.ttl > r->cfg->limits.max_ttl)
		q.ttl = r->cfg->limits.max_ttl;
	router_reply_sending(r, run->node, run->from, run->corr);
	router_sign(r, &q, run->node, NULL, NULL);
	free(text);
}

/*
 * A command or sync for one of our nodes whose action has no handler
 * here: answered at once as a run would be, outcome no-handler, so
 * that a sender waiting for it hears why instead of timing out.  One
 * to "all" is answered by the boxes that can act on it, not by every
 * box that cannot.  No meta document: a peer's action names do not
 * become retained topics.
 */
void
router_no_handler_respond(struct router *r, const struct envelope *e)
{
	struct router_run run;

	if (!router_is_local(r, e->to))
		return;
	memset(&run, 0, sizeof(run));
	router_run_fill(&run, e, e->to);
	log_info("handler %s on %s: no-handler (answered id=%s from=%s)",
	    run.action, run.node, run.id, run.from);
	router_run_respond(r, &run, 0, "no-handler", "",
	    "no handler is installed for this action");
}

static void
router_run_alert(struct router *r, const struct router_run *run,
    const char *outcome, const char *error)
{
	struct compose_req q = { .to = run->from, .ch = "alert",
	    .urgency = "now", .corr = run->corr, .ttl = 3600 };
	char text[1024];

	snprintf(text, sizeof(text), "hive: handler %s on %s failed (%s)%s%.800s",
	    run->action, run->node, outcome, error[0] ? ": " : "", error);
	q.text = text;
	if (q.ttl > r->cfg->limits.max_ttl)
		q.ttl = r->cfg->limits.max_ttl;
	router_sign(r, &q, run->node, NULL, NULL);
}

/* A sync that failed, or a sentinel's failure: tell our own agent. */
static void
router_run_escalate(struct router *r, const struct router_run *run,
    const char *outcome, const char *error)
{
	char *text, detail[2001];	/* the handler's words, framed */

	if ((text = malloc(INJECT_TEXT_MAX)) == NULL)
		fatal("malloc");
	frame_text(detail, sizeof(detail), error, strlen(error), FRAME_BLOCK);
	if (!run->sentinel)
		snprintf(text, INJECT_TEXT_MAX, "Hive %s [corr:%s] from %s "
		    "(signed, key %s): action '%s' failed on %s (%s)%s%s "
		    "Use the hive skill for protocol details.",
		    envelope_ch_name(run->ch), run->corr, run->from, run->kid,
		    run->action, run->node, outcome, error[0] ? ": " : "",
		    detail);
	else
		snprintf(text, INJECT_TEXT_MAX, "Hive alert from sentinel %s on "
		    "%s (this box's daemon): it failed (%s)%s%s Use the "
		    "hive skill for protocol details.", run->action, run->node,
		    outcome, error[0] ? ": " : "", detail);
	router_inject(r, run->node, "now", text, NULL, NULL);
	free(text);
}

/* A sentinel result's "state": 1..SENTINEL_STATE_MAX bytes, or none
 * (NULL; a malformed one is said and counts as none). */
static const char *
router_run_state(const struct router_run *run, json_t *o)
{
	json_t *v = json_object_get(o, "state");
	const char *s;

	if (v == NULL)
		return NULL;
	if (!json_is_string(v) || (s = json_string_value(v))[0] == '\0' ||
	    strlen(s) > SENTINEL_STATE_MAX) {
		log_warnx("sentinel %s: \"state\" needs a string of 1..%d "
		    "bytes; ignored", run->action, SENTINEL_STATE_MAX);
		return NULL;
	}
	return s;
}

/*
 * A sentinel's result: {"wake": "alert"|"command", "text": "...",
 * "state": "..."}.  With a state it already said on its last ok run,
 * it wakes nobody (router_sentinel.c).
 */
static void
router_run_wake(struct router *r, const struct router_run *run,
    const char *result)
{
	json_t *o = json_loads(result, JSON_REJECT_DUPLICATES, NULL);
	const char *wake = NULL, *said = NULL, *state;
	char *text, *framed;
	int changed;

	if (o == NULL)
		fatalx("monitor sent a handler result that is not JSON");
	state = router_run_state(run, o);
	changed = router_sentinel_changed(r, run->action, state);
	if (json_unpack(o, "{s?s, s?s}", "wake", &wake, "text", &said) == -1 ||
	    wake == NULL) {
		if (json_object_get(o, "wake") != NULL)
			log_warnx("sentinel %s: \"wake\" is not a string; "
			    "nobody woken", run->action);
		json_decref(o);
		return;		/* the quiet day: nothing to say */
	}
	if ((strcmp(wake, "alert") != 0 && strcmp(wake, "command") != 0) ||
	    said == NULL || said[0] == '\0' || strlen(said) > WAKE_TEXT_MAX) {
		log_warnx("sentinel %s: wake needs \"alert\" or \"command\" "
		    "and a text of 1..%d bytes; nobody woken", run->action,
		    WAKE_TEXT_MAX);
		json_decref(o);
		return;
	}
	if (!changed) {
		log_info("sentinel %s: state unchanged; %s not woken again",
		    run->action, run->node);
		json_decref(o);
		return;
	}
	if ((text = malloc(INJECT_TEXT_MAX)) == NULL)
		fatal("malloc");
	framed = frame_new(said, strlen(said), FRAME_BLOCK, INJECT_SAID_MAX);
	snprintf(text, INJECT_TEXT_MAX, "Hive %s from sentinel %s on %s (this "
	    "box's daemon): %s Use the hive skill for protocol details.", wake,
	    run->action, run->node, framed);
	log_info("sentinel %s wakes %s (%s)", run->action, run->node, wake);
	router_inject(r, run->node, "now", text, NULL, NULL);
	free(framed);
	free(text);
	json_decref(o);
}

static void
router_run_audit(struct router *r, const struct router_run *run,
    const char *outcome, int64_t duration_ms)
{
	struct envelope e;
	char detail[128];

	memset(&e, 0, sizeof(e));
	e.from = !run->sentinel ? run->from : run->node;
	e.to = run->node;
	e.id = !run->sentinel ? run->id : "sentinel";
	e.ch = !run->sentinel ? (enum envelope_ch)run->ch : CH_STATUS;
	e.action = run->action;
	e.corr = !run->sentinel ? run->corr : NULL;
	snprintf(detail, sizeof(detail), "%s%s ms=%lld", !run->sentinel ? "" :
	    "sentinel ", outcome, (long long)duration_ms);
	router_audit(r, "handler", &e, strcmp(outcome, "ok") == 0 ? NULL :
	    outcome, detail);
}

static void
router_run_outcome(struct router *r, const struct router_run *run,
    const char *outcome, int64_t duration_ms, int64_t ts,
    const char *result, const char *error)
{
	int ok = strcmp(outcome, "ok") == 0;
	char *doc = router_run_doc(run, outcome, duration_ms, ts, result,
	    error);

	router_run_audit(r, run, outcome, duration_ms);
	router_run_meta(r, run, doc);
	free(doc);
	if (run->sentinel) {			/* a sentinel */
		if (ok)
			router_run_wake(r, run, result);
		else if (policy_handler_for(r->policy, run->action)->alert)
			router_run_escalate(r, run, outcome, error);
		return;
	}
	router_run_respond(r, run, ok, outcome, result, error);
	if (ok)
		return;
	if (policy_handler_for(r->policy, run->action)->alert)
		router_run_alert(r, run, outcome, error);
	if (run->ch == CH_SYNC)
		router_run_escalate(r, run, outcome, error);
}

/* A syscall's name as libseccomp spells them, and only for a seccomp
 * kill. */
static int
router_syscall_ok(const char *s, const char *outcome)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) >= sizeof(((struct router_run *)0)->
	    syscall) || (n > 0 && strcmp(outcome, "killed-by-seccomp") != 0))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* IMSG_HANDLER_DONE */
void
router_handler_done(const struct ipc_msg *msg, void *arg)
{
	struct router *r = arg;
	struct router_run *run = NULL, sentinel;
	struct ipc_reader rd;
	const char *node, *action, *outcome, *result, *error, *sc;
	int64_t duration, ts, exit_status, sig;
	uint32_t tag;
	size_t i;

	ipc_reader_init(&rd, msg);
	tag = ipc_get_u32(&rd);
	node = ipc_get_str(&rd);
	action = ipc_get_str(&rd);
	outcome = ipc_get_str(&rd);
	exit_status = ipc_get_i64(&rd);
	sig = ipc_get_i64(&rd);
	duration = ipc_get_i64(&rd);
	ts = ipc_get_i64(&rd);
	result = ipc_get_str(&rd);
	error = ipc_get_str(&rd);
	sc = ipc_get_str(&rd);
	if (ipc_reader_done(&rd) == -1 || node == NULL || action == NULL ||
	    outcome == NULL || result == NULL || error == NULL ||
	    !router_syscall_ok(sc, outcome) ||
	    !router_is_local(r, node) || !envelope_valid_action(action) ||
	    strlen(outcome) > 32 || (result[0] != '\0' &&
	    strcmp(outcome, "ok") != 0))
		fatalx("monitor sent a malformed handler outcome");
	if (tag == 0) {
		memset(&sentinel, 0, sizeof(sentinel));
		sentinel.sentinel = 1;
		hive_strlcpy(sentinel.node, node, sizeof(sentinel.node));
		hive_strlcpy(sentinel.action, action, sizeof(sentinel.action));
		run = &sentinel;
	}
	for (i = 0; run == NULL && i < ROUTER_RUNS; i++)
		if (r->runs[i].tag == tag)
			run = &r->runs[i];
	if (run == NULL || strcmp(run->action, action) != 0 ||
	    strcmp(run->node, node) != 0)
		fatalx("monitor answered handler run %u never asked for", tag);
	log_info("handler %s on %s: %s (%lld ms)", action, node, outcome,
	    (long long)duration);
	run->exit_status = exit_status;
	run->signal = sig;
	hive_strlcpy(run->syscall, sc, sizeof(run->syscall));
	router_run_outcome(r, run, outcome, duration, ts, result, error);
	memset(run, 0, sizeof(*run));
}

void
router_handler_setup(struct router *r)
{
	if ((r->runs = calloc(ROUTER_RUNS, sizeof(*r->runs))) == NULL)
		fatal("calloc");
}

void
router_handler_free(struct router *r)
{
	free(r->runs);
	r->runs = NULL;
}
