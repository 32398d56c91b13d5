/*
 * router_control.c - what the router does for a control-socket client
 * (control.c has already identified it, checked its permission and
 * validated the request's shape).
 *
 *   send      sign (the monitor re-checks every field) and publish
 *             QoS 1; answer {"ok":true,"sent":WIRE} after the broker's
 *             PUBACK; with "wait", stream {"response":WIRE} as verified
 *             responses arrive, then {"done":"complete"|"timeout"}
 *   status, roster, pending, sync-status
 *             stream {"doc":{...}} from the meta view (pending: our
 *             own commands from the correlation store first), then
 *             {"done":"complete","count":N}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "router.h"

#define ROUTER_DEFAULT_TTL	3600
#define ROUTER_KNOWN_LIST	480	/* bytes of known nodes in an error */

/*
 * Could anyone read a message to node?  It is one of ours, has a key
 * in our keyring, or published a roster: a name that is none of these
 * is most likely mistyped, and a message to it would sit on a topic
 * nobody subscribes to.  list (may be NULL) gets the known nodes.
 */
static int
router_node_known(const struct router *r, const char *node, char *list,
    size_t len)
{
	int known = router_is_local(r, node) ||
	    keyring_has_node(&r->keyring, node);
	size_t i;

	if (list != NULL) {
		list[0] = '\0';
		for (i = 0; i < r->nnodes; i++)
			node_list_add(list, len, r->nodes[i]);
		keyring_list_nodes(&r->keyring, list, len);
	}
	for (i = 0; i < METAVIEW_CAP; i++) {
		const struct meta_doc *d = &r->meta->d[i];

		if (!d->used || strcmp(d->kind, "roster") != 0)
			continue;
		if (strcmp(d->from, node) == 0)
			known = 1;
		if (list != NULL)
			node_list_add(list, len, d->from);
	}
	return known;
}

static void
router_control_send(struct router *r, uint32_t client, struct ctl_req *q)
{
	struct router_pending p = { .qos = 1, .client = client };
	struct compose_req c = { .to = q->to, .ch = q->ch, .text = q->text,
	    .urgency = q->urgency ? q->urgency : "now", .action = q->action,
	    .corr = q->corr, .reply_to = q->reply_to, .ttl = q->ttl };
	const char *from = q->from ? q->from : r->nodes[0];
	/* what is answered with responses: a command, a sync's action */
	int command = strcmp(q->ch, "command") == 0 ||
	    (strcmp(q->ch, "sync") == 0 && q->action != NULL);

	if (!router_is_local(r, from)) {
		control_error(r->ctl, client, "not-local", "from must be a node "
		    "this daemon serves");
		return;
	}
	if (!q->force && strcmp(q->to, "all") != 0 &&
	    !router_node_known(r, q->to, NULL, 0)) {
		char known[ROUTER_KNOWN_LIST];

		router_node_known(r, q->to, known, sizeof(known));
		/* to passed valid_node (control.c): safe to repeat */
		control_error(r->ctl, client, "unknown-node", "no node %s in "
		    "the keyring or the rosters (known: %s); --force sends "
		    "anyway", q->to, known[0] ? known : "none");
		return;
	}
	if (!command && (q->wait > 0 || q->session != NULL)) {
		control_error(r->ctl, client, "bad-request", "wait and session "
		    "are for commands (and syncs with an action)");
		return;
	}
	if (c.ttl == 0)
		c.ttl = r->cfg->limits.max_ttl < ROUTER_DEFAULT_TTL ?
		    r->cfg->limits.max_ttl : ROUTER_DEFAULT_TTL;
	p.track = command;
	p.wait = q->wait;
	p.replies = q->replies;
	if (q->session != NULL)
		snprintf(p.session, sizeof(p.session), "%s", q->session);
	if (strcmp(q->ch, "response") == 0)
		router_reply_sending(r, from, q->to, q->corr);
	log_info("control: send from=%s to=%s ch=%s", from, q->to, q->ch);
	router_sign(r, &c, from, q->args, &p);
}

/* One meta document as the client sees it. */
static json_t *
router_doc_json(const struct meta_doc *d)
{
	json_t *data = json_loads(d->text, JSON_REJECT_DUPLICATES, NULL);

	if (data == NULL)
		data = json_string(d->text);	/* not JSON: shown as text */
	return json_pack("{s{sssssssssIsbso}}", "doc", "key", d->key,
	    "kind", d->kind, "from", d->from, "kid", d->kid,
	    "ts", (json_int_t)d->ts, "truncated", d->truncated, "data", data);
}

/*
 * A command one of our nodes sent, as its {p}/meta/corr document would
 * show it, from the correlation store: what we signed, never a peer's
 * account of it (router_meta_corr).
 */
static json_t *
router_corr_json(const struct router *r, const struct corr_entry *c)
{
	char key[METAVIEW_KEY_MAX + 1];

	snprintf(key, sizeof(key), "corr/%s", c->corr);
	return json_pack("{s{sssssssssIsbs{sssssssssssIsssI}}}", "doc",
	    "key", key, "kind", "corr", "from", c->from, "kid", c->kid,
	    "ts", (json_int_t)c->sent_at, "truncated", 0, "data",
	    "corr", c->corr, "from", c->from, "to", c->to,
	    "ch", envelope_ch_name(c->ch), "text", c->text,
	    "sent_at", (json_int_t)c->sent_at, "status", c->failed ? "failed" :
	    c->in_progress ? "in_progress" : "pending",
	    "ttl", (json_int_t)r->cfg->corr_ttl);
}

/* pending: our own commands from the store, then the view's others */
static json_int_t
router_control_corr(struct router *r, uint32_t client)
{
	json_int_t n = 0;
	size_t i;

	for (i = 0; i < CORR_CAP; i++) {
		if (!r->corr->e[i].used)
			continue;
		if (control_reply(r->ctl, client, router_corr_json(r,
		    &r->corr->e[i])) == -1)
			return -1;
		n++;
	}
	return n;
}

static void
router_control_query(struct router *r, uint32_t client, struct ctl_req *q)
{
	const char *kind = q->op == CTL_STATUS ? "state" : q->op == CTL_ROSTER ?
	    "roster" : q->op == CTL_PENDING ? "corr" : q->action ? q->action :
	    "git-sync";
	json_int_t n = 0;
	size_t i;

	if (q->op == CTL_PENDING && (n = router_control_corr(r, client)) == -1)
		return;
	for (i = 0; i < METAVIEW_CAP; i++) {
		const struct meta_doc *d = &r->meta->d[i];

		if (!d->used || strcmp(d->kind, kind) != 0)
			continue;
		if (control_reply(r->ctl, client, router_doc_json(d)) == -1)
			return;
		n++;
	}
	control_reply(r->ctl, client, json_pack("{sssI}", "done", "complete",
	    "count", n));
	control_close(r->ctl, client);
}

void
router_control_request(uint32_t client, struct ctl_req *q, void *arg)
{
	struct router *r = arg;

	if (q->op == CTL_SEND)
		router_control_send(r, client, q);
	else
		router_control_query(r, client, q);
}

void
router_control_signed(struct router *r, const struct router_pending *p,
    int st, const char *wire, int mid)
{
	struct router_ack *a = NULL;
	size_t i;

	if (st == 0) {
		control_error(r->ctl, p->client, "refused", "%s", wire);
		return;
	}
	if (st == 2) {
		control_error(r->ctl, p->client, "broker", "not connected to "
		    "the broker; nothing was sent");
		return;
	}
	for (i = 0; i < ROUTER_ACKS && a == NULL; i++)
		if (r->acks[i].client == 0)
			a = &r->acks[i];
	if (a == NULL) {
		/* published; we just cannot promise the PUBACK */
		control_error(r->ctl, p->client, "busy", "too many sends in "
		    "flight");
		return;
	}
	if ((a->wire = strdup(wire)) == NULL)
		fatal("strdup");
	a->mid = mid;
	a->client = p->client;
	a->waits = p->wait > 0;
}

/* The broker has the message: now the client may hear "sent". */
void
router_control_acked(struct router *r, int mid)
{
	struct router_ack *a;
	size_t i;

	for (i = 0; i < ROUTER_ACKS; i++) {
		a = &r->acks[i];
		if (a->client == 0 || a->mid != mid)
			continue;
		if (a->waits)
			control_reply(r->ctl, a->client, json_pack("{sbss}",
			    "ok", 1, "sent", a->wire));
		else {
			control_reply(r->ctl, a->client, json_pack("{sbssss}",
			    "ok", 1, "sent", a->wire, "done", "sent"));
			control_close(r->ctl, a->client);
		}
		free(a->wire);
		memset(a, 0, sizeof(*a));
		return;
	}
}
