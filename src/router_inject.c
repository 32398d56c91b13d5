/*
 * router_inject.c - handing text to the injectors, and never losing it.
 *
 * Every injection is first written to a journal, one file per
 * injection in {state_dir}/inject/ (write "N.tmp", fsync, rename to
 * "N"), and only then sent to the injector that serves its instance
 * (instances.h).  The file goes when the injector reports the call
 * delivered or finally failed; a call it could not start because it
 * was draining comes back "deferred" and stays.  At the next start the
 * journal is replayed, so an injection the broker saw acknowledged
 * survives SIGTERM, a crash or a reboot (at least once: a call that
 * ran but whose result never reached us runs again).
 *
 * The router keeps at most DAEMON_INJECT_QUEUE calls outstanding per
 * injector and holds the rest here, up to ROUTER_INJECT_MAX; past
 * that an injection is refused, counted, logged and audited (a full
 * queue is reported, never dropped silently).
 *
 * An instance configured for agent turns answers a command itself: the
 * agent's reply comes back with the result and goes to the command's
 * sender as a signed response (create_reply semantics).
 *
 * `openclaw agent` has no deferred mode (only `system event` has
 * --mode next-heartbeat; docs/openclaw.md), so for an agent-turn
 * instance a `later` text is held here, journaled like any other, and
 * released at the instance's next scheduled wake (policy `later-every`,
 * router_inject_timers): one turn each, in arrival order, so that
 * every command's reply still goes to its own sender and no one else.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon.h"
#include "instances.h"
#include "ipc.h"
#include "log.h"
#include "router.h"
#include "util.h"

#define JOURNAL_FILE_MAX	(INJECT_TEXT_MAX * 7 + 4096)	/* escapes */

/* --- the journal --------------------------------------------------- */

static void
rinj_path(const struct router *r, uint64_t seq, const char *suffix,
    char *out, size_t len)
{
	snprintf(out, len, "%s/inject/%016" PRIx64 "%s", r->cfg->state_dir,
	    seq, suffix);
}

static json_t *
rinj_json(const struct router_inj *q)
{
	json_t *o = json_pack("{ssssssss}", "instance", q->instance,
	    "mode", q->mode, "session", q->session, "text", q->text);

	if (o != NULL && q->reply.to[0] != '\0')
		json_object_set_new(o, "reply", json_pack("{ssssssss}",
		    "from", q->reply.from, "to", q->reply.to,
		    "corr", q->reply.corr, "replyTo", q->reply.reply_to));
	if (o == NULL)
		fatalx("journal: cannot build an entry");
	return o;
}

/* Durable before the injector hears of it; -1 if the disk refused. */
static int
rinj_journal_write(struct router *r, const struct router_inj *q)
{
	char tmp[CONFIG_PATH_MAX + 64], path[CONFIG_PATH_MAX + 64];
	json_t *o = rinj_json(q);
	char *s = json_dumps(o, JSON_COMPACT);
	int fd, rv = -1;

	json_decref(o);
	rinj_path(r, q->seq, ".tmp", tmp, sizeof(tmp));
	rinj_path(r, q->seq, "", path, sizeof(path));
	if (s == NULL)
		fatalx("journal: cannot serialise an entry");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600))
	    != -1) {
		if (hive_write_all(fd, s, strlen(s)) == 0 && fsync(fd) == 0 &&
		    rename(tmp, path) == 0 && fsync(r->journal_dirfd) == 0)
			rv = 0;
		close(fd);
		if (rv == -1)
			(void)unlink(tmp);
	}
	free(s);
	return rv;
}

static void
rinj_journal_remove(struct router *r, uint64_t seq)
{
	char path[CONFIG_PATH_MAX + 64];

	rinj_path(r, seq, "", path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("journal: unlink %s", path);
}

/* --- the table --------------------------------------------------------- */

static struct router_inj *
rinj_alloc(struct router *r)
{
	size_t i;

	for (i = 0; i < ROUTER_INJECT_MAX; i++)
		if (!r->inj[i].used) {
			memset(&r->inj[i], 0, sizeof(r->inj[i]));
			r->inj[i].used = 1;
			r->ninj++;
			return &r->inj[i];
		}
	return NULL;
}

static void
rinj_free(struct router *r, struct router_inj *q)
{
	if (q->used)
		r->ninj--;
	free(q->text);
	memset(q, 0, sizeof(*q));
}

/*
 * Injections held for peer's messages.  Below the share in all, no
 * peer can hold its share: the common case costs no scan.
 */
size_t
router_inject_held(const struct router *r, const char *peer)
{
	size_t i, n = 0;

	if (r->ninj < (size_t)r->cfg->inject_share)
		return 0;
	for (i = 0; i < ROUTER_INJECT_MAX; i++)
		n += r->inj[i].used && strcmp(r->inj[i].origin, peer) == 0;
	return n;
}

/*
 * Whose message an injection carries: a verified envelope has its kid,
 * and a peer's counts against that peer's share; our own nodes' and
 * the daemon's own texts (alerts naming a peer included) are ours.
 */
static const char *
rinj_origin(const struct router *r, const struct envelope *e)
{
	return e != NULL && e->kid != NULL && !router_is_local(r, e->from) ?
	    e->from : "";
}

/*
 * Room for one more: the last ROUTER_INJECT_RESERVED slots are the
 * box's own, and a peer past its share (the gate refuses it at
 * inject_share; a batch already past the gate may add up to
 * ROUTER_BATCH more) gets none.  NULL: refused, why says as what.
 */
static struct router_inj *
rinj_take(struct router *r, const char *origin, const char **why)
{
	struct router_inj *q;

	*why = "queue-full";
	if (origin[0] != '\0' && (r->ninj >= ROUTER_INJECT_MAX -
	    ROUTER_INJECT_RESERVED))
		return NULL;
	if (origin[0] != '\0' && router_inject_held(r, origin) >=
	    (size_t)r->cfg->inject_share + ROUTER_BATCH) {
		*why = "share-full";
		return NULL;
	}
	if ((q = rinj_alloc(r)) != NULL)
		hive_strlcpy(q->origin, origin, sizeof(q->origin));
	return q;
}

static void
rinj_send(struct router *r, struct router_inj *q)
{
	struct ipc_writer w = { 0 };

	ipc_put_u32(&w, q->tag);
	ipc_put_str(&w, q->instance);
	ipc_put_str(&w, q->mode);
	ipc_put_str(&w, q->text);
	ipc_put_str(&w, q->session);
	router_audit_flush();	/* the lines that record why go first */
	if (ipc_send(DAEMON_FD_INJECTORS + q->slot, IMSG_INJECT, 0, w.p,
	    w.len) == -1)
		fatal("ipc to injector %d", q->slot);
	ipc_writer_free(&w);
	q->sent = 1;
	r->inj_out[q->slot]++;
}

/* Fill the injectors' queues, oldest first. */
static void
rinj_pump(struct router *r)
{
	struct router_inj *best;
	size_t i;
	int k;

	for (k = 0; k < (int)r->ninjectors; k++) {
		while (!r->inj_closed[k] && r->inj_out[k] < DAEMON_INJECT_QUEUE) {
			best = NULL;
			for (i = 0; i < ROUTER_INJECT_MAX; i++) {
				struct router_inj *q = &r->inj[i];

				if (q->used && !q->sent && !q->held &&
				    q->slot == k &&
				    (best == NULL || q->seq < best->seq))
					best = q;
			}
			if (best == NULL)
				break;
			rinj_send(r, best);
		}
	}
}

/* Queue one injection: journal, table, injector. */
static int
rinj_queue(struct router *r, struct router_inj *q, int journal)
{
	int slot = instances_slot(r->policy, q->instance);

	if (slot < 0)
		fatalx("inject: %s is not a local instance", q->instance);
	q->slot = slot;
	if (++r->next_tag == 0)
		r->next_tag = 1;
	q->tag = r->next_tag;
	if (journal) {
		q->seq = ++r->next_seq;
		if (rinj_journal_write(r, q) == -1) {
			log_warn("journal: cannot write injection %016" PRIx64,
			    q->seq);
			return -1;
		}
	}
	rinj_pump(r);
	return 0;
}

/* --- injecting --------------------------------------------------------- */

/* A `later` text for an agent-turn instance waits for its wake. */
static int
rinj_holds(const struct router *r, const struct router_inj *q)
{
	const struct policy_instance *pi = policy_instance_for(r->policy,
	    q->instance);

	return pi != NULL && pi->inject == INJECT_AGENT_TURN &&
	    strcmp(q->mode, "next-heartbeat") == 0;
}

int
router_inject_auto_reply(const struct router *r, const char *instance)
{
	const struct policy_instance *pi = policy_instance_for(r->policy,
	    instance);

	return pi != NULL && pi->inject == INJECT_AGENT_TURN;
}

/* The response an agent turn's reply becomes (create_reply of cmd). */
static void
rinj_reply_ctx(struct router_inj *q, const char *instance,
    const struct envelope *cmd)
{
	hive_strlcpy(q->reply.from, instance, sizeof(q->reply.from));
	hive_strlcpy(q->reply.to, cmd->from, sizeof(q->reply.to));
	hive_strlcpy(q->reply.corr, cmd->corr != NULL ? cmd->corr : cmd->id,
	    sizeof(q->reply.corr));
	hive_strlcpy(q->reply.reply_to, cmd->id, sizeof(q->reply.reply_to));
}

void
router_inject(struct router *r, const char *instance, const char *mode,
    const char *text, const char *session, const struct envelope *e)
{
	const char *origin = rinj_origin(r, e), *why;
	struct router_inj *q;

	if ((q = rinj_take(r, origin, &why)) == NULL) {
		r->inject_failed++;
		log_warnx("inject instance=%s: %s (%zu held, %s); refused",
		    instance, why, r->ninj, origin[0] ? origin : "ours");
		router_audit(r, "inject-result", e, why, instance);
		return;
	}
	hive_strlcpy(q->instance, instance, sizeof(q->instance));
	hive_strlcpy(q->mode, mode, sizeof(q->mode));
	hive_strlcpy(q->session, session ? session : "", sizeof(q->session));
	if ((q->text = strdup(text)) == NULL)
		fatal("strdup");
	q->held = rinj_holds(r, q);
	if (e != NULL && e->ch == CH_COMMAND &&
	    router_inject_auto_reply(r, instance))
		rinj_reply_ctx(q, instance, e);
	if (e != NULL && router_answered(e)) {
		hive_strlcpy(q->cmd.sender, e->from, sizeof(q->cmd.sender));
		hive_strlcpy(q->cmd.corr, e->corr != NULL ? e->corr : e->id,
		    sizeof(q->cmd.corr));
	}
	if (rinj_queue(r, q, 1) == -1) {
		r->inject_failed++;
		router_audit(r, "inject-result", e, "journal-io", instance);
		rinj_free(r, q);
		router_state_failed(r, "journal-io");
		return;
	}
	r->injected++;
	if (e == NULL)
		log_info("inject instance=%s mode=%s origin=daemon%s", instance,
		    mode, q->held ? " held=next-wake" : "");
	else
		log_info("inject instance=%s mode=%s from=%s id=%s ch=%s%s",
		    instance, mode, e->from, e->id, envelope_ch_name(e->ch),
		    q->held ? " held=next-wake" : "");
	router_audit(r, "inject", e, NULL, instance);
}

/* An agent turn answered (or failed) a command: tell its sender. */
static void
rinj_answer(struct router *r, const struct router_inj *q, int ok,
    const char *reply, const char *detail)
{
	struct compose_req c = { .to = q->reply.to, .ch = "response",
	    .urgency = "now", .corr = q->reply.corr,
	    .reply_to = q->reply.reply_to, .ttl = 3600 };
	char *text;

	if ((text = malloc(INJECT_TEXT_MAX)) == NULL)
		fatal("malloc");
	if (ok)
		snprintf(text, INJECT_TEXT_MAX, "%s", reply[0] != '\0' ? reply :
		    "(the agent gave no reply text)");
	else
		snprintf(text, INJECT_TEXT_MAX, "error: the agent turn on %s "
		    "failed (%s)", q->reply.from, detail);
	c.text = text;
	c.outcome = ok ? NULL : "error";
	if (c.ttl > r->cfg->limits.max_ttl)
		c.ttl = r->cfg->limits.max_ttl;
	router_reply_sending(r, q->reply.from, q->reply.to, q->reply.corr);
	router_sign(r, &c, q->reply.from, NULL, NULL);
	log_info("agent reply from=%s to=%s corr=%s", q->reply.from,
	    q->reply.to, q->reply.corr);
	free(text);
}

struct rinj_from {
	struct router	*r;
	int		 slot;
};

/* IMSG_INJECT_DONE from injector slot */
static void
rinj_done(const struct ipc_msg *msg, void *arg)
{
	struct router *r = ((struct rinj_from *)arg)->r;
	int slot = ((struct rinj_from *)arg)->slot;
	struct ipc_reader rd;
	const char *detail, *reply;
	uint32_t tag, st;
	size_t i;

	ipc_reader_init(&rd, msg);
	tag = ipc_get_u32(&rd);
	st = ipc_get_u32(&rd);
	detail = ipc_get_str(&rd);
	reply = ipc_get_str(&rd);
	if (ipc_reader_done(&rd) == -1 || detail == NULL || reply == NULL ||
	    st > INJECT_DEFERRED)
		fatalx("injector sent a malformed result");
	for (i = 0; i < ROUTER_INJECT_MAX; i++)
		if (r->inj[i].used && r->inj[i].sent && r->inj[i].tag == tag &&
		    r->inj[i].slot == slot)
			break;
	if (i == ROUTER_INJECT_MAX)
		fatalx("injector %d reported an unknown injection", slot);
	r->inj_out[slot]--;
	if (st == INJECT_DEFERRED) {
		log_info("injection %016" PRIx64 " deferred: kept in the "
		    "journal for the next start", r->inj[i].seq);
		rinj_free(r, &r->inj[i]);
		return;
	}
	if (st == INJECT_DELIVERED)
		r->delivered++;
	else {
		r->inject_failed++;
		log_warnx("injection failed: %s", detail);
		if (r->inj[i].cmd.sender[0] != '\0')
			router_delivery_failed(r, r->inj[i].instance,
			    r->inj[i].cmd.sender, r->inj[i].cmd.corr);
	}
	router_audit(r, "inject-result", NULL, st == INJECT_DELIVERED ?
	    "delivered" : "failed", detail);
	if (r->inj[i].reply.to[0] != '\0')
		rinj_answer(r, &r->inj[i], st == INJECT_DELIVERED, reply,
		    detail);
	rinj_journal_remove(r, r->inj[i].seq);
	rinj_free(r, &r->inj[i]);
	rinj_pump(r);
}

static const struct ipc_rule rinj_from_injector[] = {
	{ IMSG_INJECT_DONE, ROLE_INJECTOR, IPC_MAX, INJECT_TEXT_MAX + 1024,
	    rinj_done },
};

void
router_injector_msg(struct router *r, int slot, const struct ipc_msg *msg)
{
	struct rinj_from from = { r, slot };

	ipc_dispatch(rinj_from_injector, 1, ROLE_INJECTOR, msg, &from);
}

/* --- start: the journal of the last run ------------------------------- */

static int
rinj_load_str(json_t *o, const char *k, char *out, size_t len)
{
	const char *s = json_string_value(json_object_get(o, k));

	if (s == NULL || strlen(s) >= len)
		return -1;
	hive_strlcpy(out, s, len);
	return 0;
}

/*
 * A journal file is ours, but a damaged one must not reach the
 * injector, which treats a malformed request as fatal: check what it
 * checks (mode, session) and what the reply will be signed with.
 */
static int
rinj_valid_fields(const struct router_inj *q, int has_reply)
{
	if (strcmp(q->mode, "now") != 0 && strcmp(q->mode, "next-heartbeat"))
		return 0;
	if (q->session[0] != '\0' && !corr_valid_session(q->session))
		return 0;
	return !has_reply || (valid_node(q->reply.from) &&
	    valid_node(q->reply.to) && envelope_valid_id(q->reply.corr) &&
	    envelope_valid_id(q->reply.reply_to));
}

/* One journal file back into the table; -1 if it is not ours. */
static int
rinj_load(struct router *r, const char *name, uint64_t seq)
{
	char path[CONFIG_PATH_MAX + 300];
	struct router_inj *q;
	json_t *o, *rep;
	const char *text;

	snprintf(path, sizeof(path), "%s/inject/%s", r->cfg->state_dir, name);
	if ((o = json_load_file(path, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	text = json_string_value(json_object_get(o, "text"));
	rep = json_object_get(o, "reply");
	if ((q = rinj_alloc(r)) == NULL)
		fatalx("journal holds more than %d injections",
		    ROUTER_INJECT_MAX);
	q->seq = seq;
	if (text == NULL || strlen(text) > INJECT_TEXT_MAX ||
	    rinj_load_str(o, "instance", q->instance, sizeof(q->instance)) ||
	    rinj_load_str(o, "mode", q->mode, sizeof(q->mode)) ||
	    rinj_load_str(o, "session", q->session, sizeof(q->session)) ||
	    instances_slot(r->policy, q->instance) < 0 ||
	    (rep != NULL && (rinj_load_str(rep, "from", q->reply.from,
	    sizeof(q->reply.from)) || rinj_load_str(rep, "to", q->reply.to,
	    sizeof(q->reply.to)) || rinj_load_str(rep, "corr", q->reply.corr,
	    sizeof(q->reply.corr)) || rinj_load_str(rep, "replyTo",
	    q->reply.reply_to, sizeof(q->reply.reply_to)))) ||
	    !rinj_valid_fields(q, rep != NULL)) {	/* after the reply */
		json_decref(o);
		rinj_free(r, q);
		return -1;
	}
	if ((q->text = strdup(text)) == NULL)
		fatal("strdup");
	q->held = rinj_holds(r, q);
	json_decref(o);
	if (seq > r->next_seq)
		r->next_seq = seq;
	return 0;
}

/* A journal name is 16 hex digits; "*.tmp" are writes a crash cut. */
static int
rinj_name(const char *name, uint64_t *seq)
{
	size_t i;

	for (i = 0; i < 16; i++)
		if (strchr("0123456789abcdef", name[i]) == NULL ||
		    name[i] == '\0')
			return -1;
	if (name[16] != '\0')
		return -1;
	*seq = strtoull(name, NULL, 16);
	return 0;
}

static void
rinj_replay(struct router *r)
{
	char path[CONFIG_PATH_MAX + 300];
	struct dirent *de;
	size_t n = 0;
	uint64_t seq;
	DIR *d;

	snprintf(path, sizeof(path), "%s/inject", r->cfg->state_dir);
	if ((d = opendir(path)) == NULL)
		fatal("journal %s", path);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (rinj_name(de->d_name, &seq) == -1) {
			snprintf(path, sizeof(path), "%s/inject/%s",
			    r->cfg->state_dir, de->d_name);
			if (strstr(de->d_name, ".tmp") != NULL)
				(void)unlink(path);	/* never renamed */
			else
				log_warnx("journal: ignoring %s", path);
			continue;
		}
		if (rinj_load(r, de->d_name, seq) == -1)
			log_warnx("journal: %s is damaged or names an instance "
			    "we no longer serve: left in place", de->d_name);
		else
			n++;
	}
	closedir(d);
	if (n > 0)
		log_info("journal: %zu injection(s) from the last run queued "
		    "again", n);
}

/* Before the sandbox: create the journal directory, read it back. */
void
router_inject_setup(struct router *r)
{
	char path[CONFIG_PATH_MAX + 16];
	char users[CONFIG_MAX_NODES][POLICY_NAME_MAX + 1];
	size_t i;

	r->ninjectors = instances_users(r->policy, users);
	if ((r->inj = calloc(ROUTER_INJECT_MAX, sizeof(*r->inj))) == NULL)
		fatal("calloc");
	snprintf(path, sizeof(path), "%s/inject", r->cfg->state_dir);
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", path);
	if ((r->journal_dirfd = open(path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		fatal("open %s", path);
	rinj_replay(r);
	for (i = 0; i < ROUTER_INJECT_MAX; i++)
		if (r->inj[i].used) {
			r->inj[i].slot = instances_slot(r->policy,
			    r->inj[i].instance);
			if (++r->next_tag == 0)
				r->next_tag = 1;
			r->inj[i].tag = r->next_tag;
			r->injected++;
		}
	rinj_pump(r);
}

/*
 * An agent-turn instance's scheduled wake: every later-every seconds
 * from the start, the `later` texts held for it go to its injector,
 * oldest first.  Not while draining: they stay in the journal, held
 * again at the next start.
 */
static size_t
rinj_release(struct router *r, const char *instance)
{
	size_t i, n = 0;

	for (i = 0; i < ROUTER_INJECT_MAX; i++)
		if (r->inj[i].used && r->inj[i].held &&
		    strcmp(r->inj[i].instance, instance) == 0) {
			r->inj[i].held = 0;
			n++;
		}
	return n;
}

void
router_inject_timers(struct router *r, int64_t now)
{
	const struct policy_instance *pi;
	size_t i, n;

	for (i = 0; i < r->policy->ninstances && !r->draining; i++) {
		pi = &r->policy->instances[i];
		if (pi->inject != INJECT_AGENT_TURN)
			continue;
		if (r->later_next[i] == 0)
			r->later_next[i] = now + pi->later_every_s;
		if (now < r->later_next[i])
			continue;
		r->later_next[i] = now + pi->later_every_s;
		if ((n = rinj_release(r, pi->node)) == 0)
			continue;
		log_info("instance %s: scheduled wake: %zu held later "
		    "injection(s) delivered, next in %llds", pi->node, n,
		    (long long)pi->later_every_s);
		rinj_pump(r);
	}
}

/* Calls the injectors still owe us an answer for. */
int
router_inject_outstanding(const struct router *r)
{
	size_t k;
	int n = 0;

	for (k = 0; k < r->ninjectors; k++)
		if (!r->inj_closed[k])
			n += r->inj_out[k];
	return n;
}

void
router_inject_free(struct router *r)
{
	size_t i;

	for (i = 0; r->inj != NULL && i < ROUTER_INJECT_MAX; i++)
		if (r->inj[i].used)
			rinj_free(r, &r->inj[i]);
	free(r->inj);
	r->inj = NULL;
	if (r->journal_dirfd > 0)
		close(r->journal_dirfd);
}
