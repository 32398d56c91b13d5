/*
 * monitor_handlers.c - handlers, as the monitor runs them.
 *
 * The monitor discovers {handlers_dir} and compiles the seccomp profile
 * of each handler found (at start and on SIGHUP, all or nothing), tells
 * the router which handlers exist, and runs one when the router asks
 * (IMSG_RUN_HANDLER) or when a sentinel schedule is due.  Each outcome
 * goes back to the router (IMSG_HANDLER_DONE), which publishes it.
 *
 * The monitor never parses bus input: the router sends the verified
 * envelope as opaque bytes for the handler's stdin, beside the fields
 * the monitor needs (node, from, id, ch, action), each checked here
 * against its charset.  As defence in depth the monitor asks its own
 * copy of the policy whether from may send ch/action: a compromised
 * router can at most run a handler some allowed sender could run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "log.h"
#include "monitor_handlers.h"
#include "mqtt.h"
#include "util.h"

/* Meta documents of the daemon's own at {p}/meta/{node}/NAME: a
 * handler of that name would overwrite them. */
static const char *const mh_reserved[] = { "state", "roster" };

static uid_t
mh_owner(void *arg, const char *action)
{
	return policy_handler_for(arg, action)->uid;
}

static void
mh_loaded_free(struct mh_loaded *l)
{
	size_t i;

	if (l->set != NULL) {
		handler_set_free(l->set);
		free(l->set);
	}
	for (i = 0; i < l->nprof; i++)
		seccomp_profile_free(&l->prof[i]);
	free(l->prof);
	memset(l, 0, sizeof(*l));
}

/* Drop the handlers whose names are reserved, as refused ones. */
static void
mh_drop_reserved(struct handler_set *set)
{
	size_t i, k;

	for (i = 0; i < set->n; i++)
		for (k = 0; k < sizeof(mh_reserved) / sizeof(mh_reserved[0]);
		    k++) {
			if (strcmp(set->h[i].action, mh_reserved[k]) != 0)
				continue;
			if (set->nrefused < HANDLER_MAX) {
				struct handler_refusal *r =
				    &set->refused[set->nrefused++];

				hive_strlcpy(r->name, set->h[i].action,
				    sizeof(r->name));
				hive_strlcpy(r->why, "reserved name (the "
				    "daemon's own meta document)",
				    sizeof(r->why));
			}
			close(set->h[i].fd);
			set->h[i--] = set->h[--set->n];
			break;
		}
}

static const struct seccomp_profile *
mh_profile(const struct mh_loaded *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->nprof; i++)
		if (strcmp(l->prof[i].name, name) == 0)
			return &l->prof[i];
	return NULL;
}

/*
 * Each handler found against who it may not be (policy_identity_
 * refused), and against the uid we run as: in a unit of its own that
 * is not root, and a handler as us could read the secret keys.  The
 * blocks were checked at their lines by policy_load; an action without
 * one runs as the default user, known only now that it exists.
 */
static int
mh_check_identities(const struct policy *pol, const struct config *cfg,
    const struct handler_set *set, char *err, size_t errlen)
{
	const struct policy_handler *ph;
	char why[256];
	size_t i;

	for (i = 0; i < set->n; i++) {
		ph = policy_handler_for(pol, set->h[i].action);
		if (ph->uid == getuid())
			(void)snprintf(why, sizeof(why), "runs as uid %u, the "
			    "daemon's own", (unsigned)ph->uid);
		else if (!policy_identity_refused(pol, cfg, ph->uid, why,
		    sizeof(why)))
			continue;
		snprintf(err, errlen, "handlers: %s: %s '%s' %s; a handler "
		    "needs an account of its own", set->h[i].action,
		    ph->line ? "user" : "no handler block, so the default user",
		    ph->user, why);
		return -1;
	}
	return 0;
}

/*
 * Discover and compile.  A missing handlers directory is no handlers
 * (a box may have none); one we must refuse (owner, mode, a link) is
 * an error, as are a handler that would run as a uid it must not have
 * and a profile that does not compile.
 */
static int
mh_load(const struct config *cfg, const struct policy *pol,
    struct mh_loaded *l, char *err, size_t errlen)
{
	const struct policy_handler *ph;
	struct stat st;
	char dir[CONFIG_PATH_MAX + 16];
	size_t i;

	memset(l, 0, sizeof(*l));
	if ((l->set = calloc(1, sizeof(*l->set))) == NULL ||
	    (l->prof = calloc(HANDLER_MAX, sizeof(*l->prof))) == NULL)
		fatal("calloc");
	if (lstat(cfg->handlers_dir, &st) == -1 && errno == ENOENT)
		return 0;
	if (handler_discover(cfg->handlers_dir, mh_owner, (void *)pol,
	    l->set) == -1) {
		snprintf(err, errlen, "handlers: %s", l->set->error);
		mh_loaded_free(l);
		return -1;
	}
	mh_drop_reserved(l->set);
	if (mh_check_identities(pol, cfg, l->set, err, errlen) == -1) {
		mh_loaded_free(l);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/%s", cfg->policy_dir,
	    POLICY_SECCOMP_DIR);
	for (i = 0; i < l->set->n; i++) {
		ph = policy_handler_for(pol, l->set->h[i].action);
		if (mh_profile(l, ph->seccomp) != NULL)
			continue;
		if (seccomp_profile_load(&l->prof[l->nprof], dir, ph->seccomp,
		    err, errlen) == -1) {
			mh_loaded_free(l);
			return -1;
		}
		l->nprof++;
	}
	return 0;
}

static void
mh_report(const struct mh_loaded *l, const char *when)
{
	size_t i;

	for (i = 0; i < l->set->nrefused; i++)
		log_warnx("%s: handler %s refused: %s", when,
		    l->set->refused[i].name, l->set->refused[i].why);
	log_info("%s: %zu handler(s)", when, l->set->n);
}

/* A random start delay in 0..jitter (ms): sentinels of many boxes do
 * not all run at once. */
static int64_t
mh_jitter_ms(const struct policy_handler *ph)
{
	return ph->jitter_s > 0 ? (int64_t)randombytes_uniform(
	    (uint32_t)ph->jitter_s * 1000 + 1) : 0;
}

/* The sentinels of a policy, for the handlers that exist. */
static void
mh_schedule(struct monitor_handlers *mh)
{
	char nodes[CONFIG_MAX_NODES][NODE_MAX + 1];
	const struct policy_handler *ph;
	int64_t now = mqtt_now_ms();
	size_t i;

	(void)config_nodes(mh->cfg, nodes);
	mh->nsent = 0;
	for (i = 0; i < mh->policy->nhandlers; i++) {
		struct mh_sentinel *s;

		ph = &mh->policy->handlers[i];
		if (ph->every_s <= 0)
			continue;
		if (handler_find(mh->cur.set, ph->action) == NULL) {
			log_warnx("sentinel %s: no such handler in %s; not "
			    "scheduled", ph->action, mh->cfg->handlers_dir);
			continue;
		}
		s = &mh->sent[mh->nsent++];
		memset(s, 0, sizeof(*s));
		hive_strlcpy(s->action, ph->action, sizeof(s->action));
		hive_strlcpy(s->node, ph->wake[0] != '\0' ? ph->wake :
		    nodes[0], sizeof(s->node));
		s->base_ms = now;
		s->next_ms = now + mh_jitter_ms(ph);
		log_info("sentinel %s every %llds (jitter %llds) wakes %s",
		    s->action, (long long)ph->every_s,
		    (long long)ph->jitter_s, s->node);
	}
}

/* Sentinels carried over a reload keep their phase. */
static void
mh_reschedule(struct monitor_handlers *mh, const struct mh_sentinel *old,
    size_t nold)
{
	size_t i, k;

	mh_schedule(mh);
	for (i = 0; i < mh->nsent; i++)
		for (k = 0; k < nold; k++)
			if (strcmp(mh->sent[i].action, old[k].action) == 0) {
				mh->sent[i].base_ms = old[k].base_ms;
				mh->sent[i].next_ms = old[k].next_ms;
				mh->sent[i].busy = old[k].busy;
			}
}

/* --- results to the router ---------------------------------------------- */

static void
mh_send(struct monitor_handlers *mh, uint32_t tag, const char *node,
    const char *action, const char *outcome, int64_t exit_status,
    int64_t sig, int64_t duration_ms, int64_t ts, const char *result,
    const char *error, const char *syscall)
{
	struct ipc_writer w = { 0 };

	if (*mh->fd_router == -1) {
		log_warnx("handler %s (%s): the router is gone; outcome not "
		    "published", action, outcome);
		return;
	}
	ipc_put_u32(&w, tag);
	ipc_put_str(&w, node);
	ipc_put_str(&w, action);
	ipc_put_str(&w, outcome);
	ipc_put_i64(&w, exit_status);
	ipc_put_i64(&w, sig);
	ipc_put_i64(&w, duration_ms);
	ipc_put_i64(&w, ts);
	ipc_put_str(&w, result);
	ipc_put_str(&w, error);
	ipc_put_str(&w, syscall);
	if (ipc_send_queued(*mh->fd_router, IMSG_HANDLER_DONE, 0, w.p,
	    w.len) == -1)
		log_warn("handler %s: outcome to the router", action);
	ipc_writer_free(&w);
}

static void
mh_refuse(struct monitor_handlers *mh, uint32_t tag, const char *node,
    const char *action, const char *why)
{
	log_warnx("handler %s for %s refused: %s", action, node, why);
	mh_send(mh, tag, node, action, "refused", -1, 0, 0,
	    (int64_t)time(NULL), "", why, "");
}

/* Append s (len bytes) in printable ASCII: a line break is a space. */
static size_t
mh_printable(char *out, size_t n, size_t cap, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		out[n++] = c == '\n' || c == '\t' ? ' ' :
		    (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[n] = '\0';
	return n;
}

/* The error text: why ("exit N" for a plain failure, whose runner
 * text quotes a part of stderr), then stderr, in printable ASCII. */
static void
mh_error_text(const struct handler_result *res, char *out, size_t len)
{
	size_t n;

	if (res->outcome == HANDLER_ERROR && strncmp(res->error, "exit ", 5)
	    == 0)
		n = (size_t)snprintf(out, len, "exit %d", res->exit_status);
	else
		n = mh_printable(out, 0, len, res->error, strlen(res->error));
	if (res->errlen == 0 || n + 16 >= len)
		return;
	n += (size_t)snprintf(out + n, len - n, "%sstderr: ", n ? "; " : "");
	n = mh_printable(out, n, len, res->err, res->errlen);
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static void
mh_done(void *arg, const struct handler_result *res)
{
	struct monitor_handlers *mh = arg;
	struct mh_run *run = NULL;
	char *result = NULL, error[MH_ERROR_MAX], big[96];
	size_t i, len;

	for (i = 0; i < MH_RUNS && run == NULL; i++)
		if (mh->runs[i].id == res->id)
			run = &mh->runs[i];
	if (run == NULL)
		fatalx("handler run %llu finished, but was never started",
		    (unsigned long long)res->id);
	if (res->outcome == HANDLER_OK && res->output != NULL &&
	    (result = json_dumps(res->output, JSON_COMPACT)) == NULL)
		fatalx("json_dumps of a handler's output");
	if (result != NULL && (len = strlen(result)) > MH_RESULT_MAX) {
		/* a bus envelope cannot carry it: say so, and how big */
		snprintf(big, sizeof(big), "{\"truncated\":true,\"bytes\":%zu}",
		    len);
		free(result);
		if ((result = strdup(big)) == NULL)
			fatal("strdup");
	}
	mh_error_text(res, error, sizeof(error));
	log_info("handler %s for %s: %s in %lld ms%s%s", run->action,
	    run->node, handler_outcome_name(res->outcome),
	    (long long)res->duration_ms, error[0] ? ": " : "", error);
	mh_send(mh, run->tag, run->node, run->action,
	    handler_outcome_name(res->outcome), res->exit_status, res->signal,
	    res->duration_ms, run->ts, result ? result : "", error,
	    res->syscall);
	if (run->tag == 0)
		for (i = 0; i < mh->nsent; i++)
			if (strcmp(mh->sent[i].action, run->action) == 0)
				mh->sent[i].busy = 0;
	memset(run, 0, sizeof(*run));
	free(result);
}

/* --- starting runs -------------------------------------------------------- */

static uint64_t
mh_start(struct monitor_handlers *mh, uint32_t tag, const char *node,
    const char *from, const char *id, const char *action, const char *in,
    size_t inlen, char *why, size_t whylen)
{
	const struct handler_entry *h = handler_find(mh->cur.set, action);
	const struct seccomp_profile *prof;
	struct policy_handler ph;
	struct handler_env env = { node, action, id, from,
	    mh->cfg->handler_state_dir };
	struct mh_run *run = NULL;
	uint64_t rid;
	size_t i;

	if (h == NULL) {
		snprintf(why, whylen, "no handler '%s' installed", action);
		return 0;
	}
	for (i = 0; i < MH_RUNS && run == NULL; i++)
		if (mh->runs[i].id == 0)
			run = &mh->runs[i];
	if (run == NULL) {
		snprintf(why, whylen, "too many runs (%d)", MH_RUNS);
		return 0;
	}
	ph = *policy_handler_for(mh->policy, action);
	hive_strlcpy(ph.action, action, sizeof(ph.action));
	if ((prof = mh_profile(&mh->cur, ph.seccomp)) == NULL)
		fatalx("handler %s: profile %s was not compiled", action,
		    ph.seccomp);
	if ((rid = handler_run_start(&mh->runner, &ph, seccomp_profile_bpf(prof,
	    ph.network), h->fd, h->script, in, inlen, &env, why, whylen)) == 0)
		return 0;
	run->id = rid;
	run->tag = tag;
	run->ts = (int64_t)time(NULL);
	hive_strlcpy(run->node, node, sizeof(run->node));
	hive_strlcpy(run->action, action, sizeof(run->action));
	return rid;
}

static int
mh_local(const struct monitor_handlers *mh, const char *node)
{
	char nodes[CONFIG_MAX_NODES][NODE_MAX + 1];
	size_t i, n = config_nodes(mh->cfg, nodes);

	for (i = 0; i < n; i++)
		if (strcmp(nodes[i], node) == 0)
			return 1;
	return 0;
}

/* IMSG_RUN_HANDLER.  Bad fields are a protocol violation: the router
 * checked them all already. */
void
mh_request(struct monitor_handlers *mh, const struct ipc_msg *msg)
{
	struct policy_verdict v;
	struct ipc_reader rd;
	const char *node, *from, *id, *ch, *action, *json;
	char why[256];
	uint32_t tag;
	enum envelope_ch c;

	ipc_reader_init(&rd, msg);
	tag = ipc_get_u32(&rd);
	node = ipc_get_str(&rd);
	from = ipc_get_str(&rd);
	id = ipc_get_str(&rd);
	ch = ipc_get_str(&rd);
	action = ipc_get_str(&rd);
	json = ipc_get_str(&rd);
	if (ipc_reader_done(&rd) == -1 || tag == 0 || node == NULL ||
	    from == NULL || id == NULL || ch == NULL || action == NULL ||
	    json == NULL || !valid_node(node) || !mh_local(mh, node) ||
	    !valid_node(from) || !envelope_valid_id(id) ||
	    !handler_name_ok(action) || json[0] != '{' ||
	    strlen(json) > HANDLER_STDIN_MAX)
		fatalx("router sent a malformed run-handler request");
	if (strcmp(ch, "command") == 0)
		c = CH_COMMAND;
	else if (strcmp(ch, "sync") == 0)
		c = CH_SYNC;
	else
		fatalx("router asked to run a handler for ch=%.16s", ch);
	/* stopping: the router asked before it saw SIGTERM (it holds
	 * what it reads after, router_held.c), so the run was accepted
	 * from the broker already: it runs, within the stop budget */
	policy_check(mh->policy, from, c, action, &v);
	if (!v.allow) {
		/* the router checks first: this should never happen */
		log_warnx("router asked to run %s for from=%s, which the policy "
		    "denies (%s)", action, from, v.why);
		mh_refuse(mh, tag, node, action, v.why);
		return;
	}
	if (mh_start(mh, tag, node, from, id, action, json, strlen(json), why,
	    sizeof(why)) == 0)
		mh_refuse(mh, tag, node, action, why);
	else
		log_info("handler %s started for from=%s id=%s", action, from,
		    id);
}

/* --- sentinels ------------------------------------------------------------ */

static void
mh_sentinel_run(struct monitor_handlers *mh, struct mh_sentinel *s,
    int64_t now_ms)
{
	const struct policy_handler *ph = policy_handler_for(mh->policy,
	    s->action);
	char in[512], id[64], why[256];
	int64_t ts = (int64_t)time(NULL);

	s->base_ms += ph->every_s * 1000;
	if (s->base_ms < now_ms)	/* a stopped clock or a long stall */
		s->base_ms = now_ms;
	s->next_ms = s->base_ms + mh_jitter_ms(ph);
	if (s->busy) {
		log_warnx("sentinel %s: the last run is not done; skipped",
		    s->action);
		return;
	}
	snprintf(id, sizeof(id), "sentinel-%lld", (long long)ts);
	snprintf(in, sizeof(in), "{\"sentinel\":true,\"action\":\"%s\","
	    "\"node\":\"%s\",\"ts\":%lld}", s->action, s->node, (long long)ts);
	if (mh_start(mh, 0, s->node, s->node, id, s->action, in, strlen(in),
	    why, sizeof(why)) == 0) {
		mh_refuse(mh, 0, s->node, s->action, why);
		return;
	}
	s->busy = 1;
	log_debug("sentinel %s started", s->action);
}

void
mh_go(struct monitor_handlers *mh)
{
	if (mh->go)
		return;
	mh->go = 1;
	mh_schedule(mh);	/* phases count from now */
}

void
mh_tick(struct monitor_handlers *mh)
{
	int64_t now = mqtt_now_ms();
	size_t i;

	for (i = 0; mh->go && !mh->stopping && i < mh->nsent; i++)
		if (now >= mh->sent[i].next_ms)
			mh_sentinel_run(mh, &mh->sent[i], now);
}

/* --- the poll loop -------------------------------------------------------- */

size_t
mh_fds(const struct monitor_handlers *mh, struct pollfd *pfd, size_t max)
{
	return handler_runner_fds(&mh->runner, pfd, max);
}

void
mh_dispatch(struct monitor_handlers *mh, const struct pollfd *pfd, size_t n)
{
	handler_runner_dispatch(&mh->runner, pfd, n);
}

int
mh_timeout(const struct monitor_handlers *mh)
{
	int64_t now = mqtt_now_ms(), d;
	int t = handler_runner_timeout(&mh->runner);
	size_t i;

	for (i = 0; mh->go && !mh->stopping && i < mh->nsent; i++) {
		d = mh->sent[i].next_ms - now;
		d = d < 0 ? 0 : d > 60000 ? 60000 : d;
		if (t < 0 || d < t)
			t = (int)d;
	}
	return t;
}

/* --- life cycle ----------------------------------------------------------- */

void
mh_init(struct monitor_handlers *mh, const struct config *cfg,
    const struct policy *pol, int *fd_router)
{
	char err[1024];

	memset(mh, 0, sizeof(*mh));
	mh->cfg = cfg;
	mh->policy = pol;
	mh->fd_router = fd_router;
	if (mh_load(cfg, pol, &mh->cur, err, sizeof(err)) == -1)
		fatalx("%s", err);
	mh_report(&mh->cur, "start");
	handler_runner_init(&mh->runner, pol->max_handlers, mh_done, mh);
}

int
mh_reload(struct monitor_handlers *mh, struct policy *cur,
    struct policy *fresh, char *err, size_t errlen)
{
	static struct mh_sentinel old[HANDLER_MAX];
	struct mh_loaded l;
	size_t nold = mh->nsent;

	if (cur != mh->policy)
		fatalx("mh_reload: not the policy in use");
	if (mh_load(mh->cfg, fresh, &l, err, errlen) == -1)
		return -1;
	/* runs in flight hold their own copies (handler_run_start) */
	mh_loaded_free(&mh->cur);
	mh->cur = l;
	policy_free(cur);
	*cur = *fresh;		/* same object: mh->policy stays valid */
	memset(fresh, 0, sizeof(*fresh));
	mh_report(&mh->cur, "SIGHUP");
	handler_runner_set_max(&mh->runner, cur->max_handlers);
	memcpy(old, mh->sent, sizeof(old));
	mh_reschedule(mh, old, nold);
	return 0;
}

void
mh_send_names(struct monitor_handlers *mh)
{
	struct ipc_writer w = { 0 };
	char *names;
	size_t i, len = 1;

	for (i = 0; i < mh->cur.set->n; i++)
		len += strlen(mh->cur.set->h[i].action) + 1;
	if ((names = calloc(1, len)) == NULL)
		fatal("calloc");
	for (i = 0; i < mh->cur.set->n; i++) {
		if (i > 0)
			strcat(names, ",");
		strcat(names, mh->cur.set->h[i].action);
	}
	ipc_put_str(&w, names);
	if (*mh->fd_router != -1 && ipc_send_queued(*mh->fd_router,
	    IMSG_HANDLERS, 0, w.p, w.len) == -1)
		fatal("ipc to router");
	ipc_writer_free(&w);
	free(names);
}

void
mh_stop(struct monitor_handlers *mh)
{
	mh->stopping = 1;
}

size_t
mh_active(const struct monitor_handlers *mh)
{
	return handler_runner_active(&mh->runner);
}

int64_t
mh_stop_budget_ms(const struct monitor_handlers *mh)
{
	const struct policy_handler *ph;
	int64_t most = 0, t;
	size_t i;

	for (i = 0; i < mh->cur.set->n; i++) {
		ph = policy_handler_for(mh->policy, mh->cur.set->h[i].action);
		t = ph->timeout_ms + ph->grace_ms;
		if (t > most)
			most = t;
	}
	return most + 5000;
}

void
mh_free(struct monitor_handlers *mh)
{
	handler_runner_free(&mh->runner);
	mh_loaded_free(&mh->cur);
}

int
mh_check(const struct config *cfg, const struct policy *pol, FILE *fp,
    char *err, size_t errlen)
{
	struct mh_loaded l;
	size_t i;

	if (mh_load(cfg, pol, &l, err, errlen) == -1)
		return -1;
	for (i = 0; i < l.set->nrefused; i++)
		fprintf(fp, "# refused handler %s: %s\n", l.set->refused[i].name,
		    l.set->refused[i].why);
	for (i = 0; i < l.set->n; i++)
		fprintf(fp, "# handler %s (seccomp %s)\n", l.set->h[i].action,
		    policy_handler_for(pol, l.set->h[i].action)->seccomp);
	/* the daemon runs without them; a deploy gate should not */
	if (l.set->nrefused > 0)
		snprintf(err, errlen, "%s: %zu handler(s) refused",
		    cfg->handlers_dir, l.set->nrefused);
	i = l.set->nrefused;
	mh_loaded_free(&l);
	return i > 0 ? -1 : 0;
}
