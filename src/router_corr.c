/*
 * router_corr.c - correlation: the commands this box sent, and the
 * responses to them.
 *
 * Sender side: every command a local node sends (through the control
 * socket, or seen on {p}/+/command when hive-cli was used with a key)
 * is tracked for corr_ttl and mirrored, signed and retained, at
 * {p}/meta/corr/{corr} with status "pending".  A response is accepted
 * only if it answers a tracked command; it goes to the hive-cli that
 * waits for it, or else is injected into the sending instance with the
 * original command quoted (and into its session, if one was given).
 * The sender clears the retained document when the exchange is over.
 * A command that expires unanswered raises an alert to its sender.
 *
 * Receiver side: a command addressed to one of our nodes marks the
 * document "in_progress", and our node's reply marks it "completed"
 * just before the reply itself is published (so the sender's clear,
 * which follows the reply, comes last).  A command the injector
 * finally failed to deliver marks it "failed".
 *
 * After a restart the store is refilled from its journal in state_dir
 * (and from our own pending documents still retained).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "router.h"
#include "util.h"

static void
router_corr_topic(const struct router *r, const char *corr, char *out,
    size_t len)
{
	snprintf(out, len, "%s/meta/corr/%s", r->cfg->prefix, corr);
}

/* The document of the seed's meta/corr section. */
static void
router_corr_doc(struct router *r, const char *signer, const char *corr,
    const char *from, const char *to, int ch, const char *text,
    int64_t sent_at, int64_t ttl, const char *status)
{
	char topic[256], *s;
	json_t *o;

	o = json_pack("{sssssssssssIsssI}", "corr", corr, "from", from,
	    "to", to, "ch", envelope_ch_name(ch), "text", text,
	    "sent_at", (json_int_t)sent_at, "status", status,
	    "ttl", (json_int_t)ttl);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS))
	    == NULL)
		fatalx("router_corr_doc");
	json_decref(o);
	router_corr_topic(r, corr, topic, sizeof(topic));
	/* addressed to the other party of the exchange */
	router_publish_meta(r, signer, strcmp(signer, from) == 0 ? to : from,
	    corr, topic, s);
	free(s);
}

/* --- the journal ----------------------------------------------------------- */

/*
 * {state_dir}/corr/FROM,CORR: each entry of ours, written when it is
 * tracked and removed when it is dropped, so that a restarted router
 * knows what its own nodes sent from its own record, whatever the
 * retained documents on the bus say by then (the addressee's
 * in_progress has replaced our pending one).  Not fsynced: a power
 * loss may forget an entry (its response is then refused as
 * unsolicited), never invent one.  Node ids and the corr charset hold
 * no '/', and FROM is never empty, so the name is one plain file.
 */
static void
router_corr_path(const struct router *r, const struct corr_entry *c,
    const char *sfx, char *out, size_t len)
{
	snprintf(out, len, "%s/corr/%s,%s%s", r->cfg->state_dir, c->from,
	    c->corr, sfx);
}

static void
router_corr_save(struct router *r, const struct corr_entry *c)
{
	char tmp[CONFIG_PATH_MAX + 192], path[CONFIG_PATH_MAX + 192], *s;
	json_t *o;
	int fd, ok = 0;

	o = json_pack("{sssssssssssssssssIsI}", "corr", c->corr, "id", c->id,
	    "from", c->from, "to", c->to, "kid", c->kid, "text", c->text,
	    "session", c->session, "ch", envelope_ch_name(c->ch),
	    "sent_at", (json_int_t)c->sent_at, "expires",
	    (json_int_t)c->expires);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("corr journal: cannot build an entry");
	json_decref(o);
	router_corr_path(r, c, ".tmp", tmp, sizeof(tmp));
	router_corr_path(r, c, "", path, sizeof(path));
	(void)unlink(tmp);		/* a crash's leftover */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600))
	    != -1) {
		ok = hive_write_all(fd, s, strlen(s)) == 0;
		ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
		if (!ok)
			(void)unlink(tmp);
	}
	if (!ok)
		log_warn("corr journal: %s (a restart will not know corr=%s)",
		    path, c->corr);
	free(s);
}

static void
router_corr_unsave(struct router *r, const struct corr_entry *c)
{
	char path[CONFIG_PATH_MAX + 192];

	router_corr_path(r, c, "", path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("corr journal: unlink %s", path);
}

/* One journal file back into the store: 0, 1 if it has expired since
 * (to be removed), -1 if it is not one of ours. */
static int
router_corr_load(struct router *r, const char *dir, const char *name,
    int64_t now)
{
	char path[CONFIG_PATH_MAX + 300];
	struct envelope cmd = { 0 };
	const char *ch, *session;
	json_int_t expires;
	struct corr_entry *c;
	json_t *o;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((o = json_load_file(path, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	if (json_unpack(o, "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, "
	    "s:I}", "corr", &cmd.corr, "id", &cmd.id, "from", &cmd.from,
	    "to", &cmd.to, "kid", &cmd.kid, "text", &cmd.text, "session",
	    &session, "ch", &ch, "sent_at", &cmd.ts, "expires", &expires) == 0 &&
	    router_is_local(r, cmd.from) && (valid_node(cmd.to) ||
	    strcmp(cmd.to, "all") == 0) && envelope_valid_id(cmd.corr) &&
	    envelope_valid_id(cmd.id) && strlen(cmd.text) <= CORR_TEXT_MAX &&
	    (session[0] == '\0' || corr_valid_session(session)) &&
	    (strcmp(ch, "command") == 0 || strcmp(ch, "sync") == 0)) {
		rc = expires > now ? 0 : 1;
		cmd.ch = strcmp(ch, "sync") == 0 ? CH_SYNC : CH_COMMAND;
		if (rc == 0 && (c = corr_track(r->corr, &cmd, expires - now,
		    now)) != NULL)
			hive_strlcpy(c->session, session, sizeof(c->session));
	}
	json_decref(o);
	return rc;
}

/* Before the sandbox: the journal's directory, read back. */
void
router_corr_setup(struct router *r)
{
	char dir[CONFIG_PATH_MAX + 16], path[CONFIG_PATH_MAX + 300];
	int64_t now = (int64_t)time(NULL);
	struct dirent *de;
	DIR *d;
	int rc;

	snprintf(dir, sizeof(dir), "%s/corr", r->cfg->state_dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", dir);
	if ((d = opendir(dir)) == NULL)
		fatal("corr journal %s", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (strstr(de->d_name, ".tmp") != NULL)
			(void)unlink(path);	/* never renamed */
		else if ((rc = router_corr_load(r, dir, de->d_name, now)) == -1)
			log_warnx("corr journal: ignoring %s", path);
		else if (rc == 1 && unlink(path) == -1)	/* over while we slept */
			log_warn("corr journal: unlink %s", path);
	}
	closedir(d);
	if (corr_count(r->corr) > 0)
		log_info("corr journal: tracking %zu command(s) again",
		    corr_count(r->corr));
}

/* The exchange is over: its retained document and its journal go. */
static void
router_corr_clear(struct router *r, const struct corr_entry *c)
{
	char topic[256];

	router_corr_topic(r, c->corr, topic, sizeof(topic));
	router_clear_retained(r, topic);
	router_corr_unsave(r, c);
}

/* --- sender side ---------------------------------------------------------- */

void
router_track(struct router *r, const struct envelope *cmd,
    const struct router_pending *p, int64_t now)
{
	struct corr_entry *c = corr_track(r->corr, cmd, r->cfg->corr_ttl, now);

	if (c == NULL) {
		log_warnx("correlation table full (%d): corr of id=%s not "
		    "tracked; its responses will be refused", CORR_CAP, cmd->id);
		return;
	}
	if (p != NULL) {
		snprintf(c->session, sizeof(c->session), "%s", p->session);
		if (p->client != 0 && p->wait > 0) {
			c->client = p->client;
			c->wanted = p->replies > 0 ? (unsigned)p->replies : 1;
			c->wait_until = now + p->wait;
		}
	}
	log_info("tracking corr=%s id=%s to=%s", c->corr, cmd->id, cmd->to);
	router_corr_save(r, c);
	router_corr_doc(r, cmd->from, c->corr, cmd->from, cmd->to, c->ch,
	    c->text, cmd->ts, r->cfg->corr_ttl, "pending");
}

/* A command (or a sync with an action: answered the same way) is
 * tracked so that its responses are accepted. */
int
router_answered(const struct envelope *e)
{
	return e->ch == CH_COMMAND || (e->ch == CH_SYNC && e->action != NULL);
}

/* A verified command from one of our nodes (hive-cli with a key, or
 * ours coming back): track it once. */
void
router_observed(struct router *r, const struct envelope *cmd, int64_t now)
{
	const char *key = cmd->corr != NULL ? cmd->corr : cmd->id;

	if (!router_answered(cmd) || corr_find(r->corr, key, cmd->from) != NULL)
		return;
	router_track(r, cmd, NULL, now);
}

static void
router_client_done(struct router *r, struct corr_entry *c, const char *why)
{
	control_reply(r->ctl, c->client, json_pack("{sssI}", "done", why,
	    "responses", (json_int_t)c->responses));
	control_close(r->ctl, c->client);
	c->client = 0;
}

static void
router_enriched(struct router *r, const struct corr_entry *c,
    const struct envelope *e)
{
	char *text = malloc(INJECT_TEXT_MAX), asked[FRAME_SIZE(CORR_TEXT_MAX)];
	char *said = frame_new(e->text, e->text_len, FRAME_BLOCK,
	    INJECT_SAID_MAX);

	if (text == NULL)
		fatal("malloc");
	frame_text(asked, sizeof(asked), c->text, strlen(c->text),
	    FRAME_QUOTED);
	snprintf(text, INJECT_TEXT_MAX, "Hive response [corr:%s] from %s "
	    "(signed, key %s) re: \"%s\" (command to %s): %s Use the hive "
	    "skill for protocol details.", c->corr, e->from, e->kid, asked,
	    c->to, said);
	router_inject(r, c->from, "now", text, c->session[0] ? c->session :
	    NULL, e);
	free(said);
	free(text);
}

static void
router_to_client(struct router *r, struct corr_entry *c,
    const struct envelope *e)
{
	struct buf out;

	buf_init(&out, 2 * ENVELOPE_MAX_WIRE);
	if (envelope_canonical(e->root, &out) == -1 || buf_cstr(&out) == NULL)
		fatalx("canonical form of a verified envelope");
	control_reply(r->ctl, c->client, json_pack("{ss}", "response", out.p));
	buf_free(&out);
	if (c->responses >= c->wanted)
		router_client_done(r, c, "complete");
}

/* A verified response to one of our nodes: 0 handled, -1 unsolicited. */
int
router_response(struct router *r, const struct envelope *e, int64_t now)
{
	struct corr_entry *c = corr_match(r->corr, e, now);

	if (c == NULL)
		return -1;
	c->responses++;
	log_info("response from=%s corr=%s (%u so far)", e->from, c->corr,
	    c->responses);
	router_audit(r, "accepted", e, NULL, c->client != 0 ? "to-client" :
	    "injected");
	if (c->client != 0 && control_alive(r->ctl, c->client))
		router_to_client(r, c, e);
	else if (c->ch == CH_SYNC)	/* results: meta; failures: alerts */
		log_info("sync result from=%s corr=%s (logged, not injected)",
		    e->from, c->corr);
	else
		router_enriched(r, c, e);
	/* one addressee answered and nobody waits for more: over */
	if (strcmp(c->to, "all") != 0 && c->client == 0) {
		router_corr_clear(r, c);
		corr_drop(c);
	}
	return 0;
}

static void
router_corr_expired(struct corr_entry *c, void *arg)
{
	struct router *r = arg;
	struct envelope e = { .from = c->to, .id = c->id, .ch = CH_ALERT };
	char asked[FRAME_SIZE(CORR_TEXT_MAX)], text[sizeof(asked) + 512];

	if (c->client != 0)
		router_client_done(r, c, "timeout");
	router_corr_clear(r, c);
	if (c->responses > 0)
		return;
	frame_text(asked, sizeof(asked), c->text, strlen(c->text),
	    FRAME_QUOTED);
	snprintf(text, sizeof(text), "Hive alert: no response to %s "
	    "[corr:%s] sent to %s within %llds: \"%s\". Use the hive skill for "
	    "protocol details.", envelope_ch_name(c->ch), c->corr, c->to,
	    (long long)r->cfg->corr_ttl, asked);
	log_warnx("corr=%s expired without a response", c->corr);
	router_inject(r, c->from, "now", text, c->session[0] ? c->session :
	    NULL, &e);
}

void
router_corr_timers(struct router *r, int64_t now)
{
	size_t i;

	for (i = 0; i < CORR_CAP; i++) {
		struct corr_entry *c = &r->corr->e[i];

		if (c->used && c->client != 0 && now >= c->wait_until) {
			router_client_done(r, c, "timeout");
			if (c->responses > 0 && strcmp(c->to, "all") != 0) {
				router_corr_clear(r, c);
				corr_drop(c);
			}
		}
	}
	corr_expire(r->corr, now, router_corr_expired, r);
}

void
router_client_gone(struct router *r, uint32_t client)
{
	size_t i;

	for (i = 0; i < CORR_CAP; i++)
		if (r->corr->e[i].used && r->corr->e[i].client == client)
			r->corr->e[i].client = 0;	/* later replies: inject */
}

/* The fields of a {p}/meta/corr document (protocol.md, 9.1). */
struct corr_doc {
	const char	*from, *to, *text, *status, *ch;
	json_int_t	 sent_at, ttl;
};

static int
corr_doc_parse(json_t *doc, struct corr_doc *d)
{
	d->ch = "command";
	if (doc == NULL || json_unpack(doc, "{s:s, s:s, s:s, s:s, s:I, s:I}",
	    "from", &d->from, "to", &d->to, "text", &d->text, "status",
	    &d->status, "sent_at", &d->sent_at, "ttl", &d->ttl) == -1 ||
	    json_unpack(doc, "{s?s}", "ch", &d->ch) == -1)
		return -1;
	return (strcmp(d->ch, "command") == 0 || strcmp(d->ch, "sync") == 0) &&
	    valid_node(d->from) && (valid_node(d->to) ||
	    strcmp(d->to, "all") == 0) && d->ttl > 0 ? 0 : -1;
}

/*
 * Who may say what: the command's sender publishes "pending", its
 * addressee "in_progress" and "completed".  A document signed by
 * anyone else is a claim about a conversation it is not part of.
 */
static int
corr_doc_signer_ok(const struct corr_doc *d, const char *signer)
{
	if (strcmp(d->status, "pending") == 0)
		return strcmp(signer, d->from) == 0;
	if (strcmp(d->status, "in_progress") == 0 ||
	    strcmp(d->status, "completed") == 0 ||
	    strcmp(d->status, "failed") == 0)
		return strcmp(signer, d->to) == 0;
	return 0;
}

/* Our own pending document, read back after a restart: what we were
 * waiting for, signed by the node that sent it. */
static void
router_corr_restore(struct router *r, const struct envelope *e,
    const struct corr_doc *d, int64_t now)
{
	struct envelope cmd;
	struct corr_entry *c;

	if (corr_find(r->corr, e->corr, d->from) != NULL ||
	    d->sent_at + d->ttl <= now)
		return;
	memset(&cmd, 0, sizeof(cmd));
	cmd.from = d->from, cmd.to = d->to, cmd.id = e->corr;
	cmd.corr = e->corr, cmd.text = d->text, cmd.ts = d->sent_at;
	cmd.kid = e->kid;
	cmd.ch = strcmp(d->ch, "sync") == 0 ? CH_SYNC : CH_COMMAND;
	if ((c = corr_track(r->corr, &cmd, d->sent_at + d->ttl - now, now))
	    != NULL) {
		log_info("tracking corr=%s again (from its retained document)",
		    c->corr);
		router_corr_save(r, c);
	}
}

/* The addressee's word on a command we sent: only forward, never back
 * to pending (a "completed" document is followed by the response). */
static void
router_corr_progress(struct corr_entry *c, const char *status)
{
	if (strcmp(status, "in_progress") == 0 && !c->failed)
		c->in_progress = 1;
	else if (strcmp(status, "failed") == 0) {
		c->failed = 1;
		log_info("corr=%s: %s says its delivery failed", c->corr,
		    c->to);
	}
}

/*
 * A retained {p}/meta/corr document, signature verified.  Returns 1:
 * show it in the meta view; 0: it is about a command one of our nodes
 * sent, which the correlation store shows instead (router_control.c);
 * -1: refused (why).
 *
 * Entries about our own commands come only from what our own node
 * signed: our pending document brings back, after a restart, what we
 * were waiting for.  The addressee's document may only move an entry
 * we hold, sent to it, forward to in_progress or failed; it never creates one,
 * nor changes its text, sender or ttl, so what we inject or alert
 * "re:" a command is always the text we signed.
 */
int
router_meta_corr(struct router *r, const struct envelope *e, int64_t now,
    struct refusal *why)
{
	json_t *doc = json_loads(e->text, JSON_REJECT_DUPLICATES, NULL);
	struct corr_entry *c;
	struct corr_doc d;
	int rc = 1;

	if (corr_doc_parse(doc, &d) == -1) {
		refusal_set(why, REF_SCHEMA, "corr document");
		rc = -1;
	} else if (!corr_doc_signer_ok(&d, e->from)) {
		refusal_set(why, REF_META_MISMATCH, "corr %s signed by from=%s",
		    d.status, e->from);
		rc = -1;
	} else if (router_is_local(r, d.from)) {
		rc = 0;
		if (strcmp(e->from, d.from) == 0)
			router_corr_restore(r, e, &d, now);
		else if ((c = corr_find(r->corr, e->corr, d.from)) != NULL &&
		    strcmp(c->to, e->from) == 0)
			router_corr_progress(c, d.status);
	}
	json_decref(doc);
	return rc;
}

/* --- receiver side -------------------------------------------------------- */

/* A command or sync for one of our nodes, about to be acted on. */
void
router_command_seen(struct router *r, const struct envelope *e)
{
	struct router_seen *s;
	const char *key = e->corr != NULL ? e->corr : e->id;

	if (!router_is_local(r, e->to) || !router_answered(e))
		return;
	s = &r->seen[r->seen_next++ % ROUTER_SEEN];
	memset(s, 0, sizeof(*s));
	snprintf(s->corr, sizeof(s->corr), "%s", key);
	snprintf(s->from, sizeof(s->from), "%s", e->from);
	snprintf(s->to, sizeof(s->to), "%s", e->to);
	corr_cut_utf8(s->text, CORR_TEXT_MAX, e->text);
	s->sent_at = e->ts;
	s->ttl = r->cfg->corr_ttl;
	s->ch = e->ch;
	router_corr_doc(r, e->to, key, e->from, e->to, s->ch, s->text, e->ts,
	    s->ttl, "in_progress");
}

/* The command our node `node` got from sender with corr is over:
 * publish its document's last status and forget it. */
static void
router_seen_done(struct router *r, const char *node, const char *sender,
    const char *corr, const char *status)
{
	size_t i;

	for (i = 0; corr != NULL && i < ROUTER_SEEN; i++) {
		struct router_seen *s = &r->seen[i];

		if (strcmp(s->corr, corr) != 0 || strcmp(s->to, node) != 0 ||
		    strcmp(s->from, sender) != 0)
			continue;
		router_corr_doc(r, node, corr, s->from, s->to, s->ch, s->text,
		    s->sent_at, s->ttl, status);
		memset(s, 0, sizeof(*s));
		return;
	}
}

/* Our node from is about to reply to with corr: mark it completed. */
void
router_reply_sending(struct router *r, const char *from, const char *to,
    const char *corr)
{
	router_seen_done(r, from, to, corr, "completed");
}

/*
 * The command never reached our node's agent (the injector gave up):
 * mark it failed, so the sender's `pending` does not show it in
 * progress until it expires.
 */
void
router_delivery_failed(struct router *r, const char *node,
    const char *sender, const char *corr)
{
	router_seen_done(r, node, sender, corr, "failed");
}
