/*
 * test_inbound.c - the receive gate: every refusal it adds on top of
 * envelope.c (oversize from the transport, topic mismatch, replay,
 * window-full, window-reset, window-io) and its per-reason counters;
 * and that the batch steps (prepare, begin, end, commit: the router's)
 * decide exactly what inbound_accept decides, message by message,
 * the signer a refusal names included: the verified from, id and kid
 * for a refusal after the signature check, nothing before it.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "compose.h"
#include "inbound.h"
#include "t.h"
#include "util.h"

static struct envelope_limits lim;
static struct seckey turq;
static struct trusted_key tk;
static struct keyring kr;

/* Sign r as turq into wire. */
static void
sign(struct buf *wire, const struct compose_req *r)
{
	struct envelope e;
	char err[256];

	buf_init(wire, ENVELOPE_MAX_WIRE);
	CHECK(compose_envelope(r, &turq, &lim, wire, &e, err,
	    sizeof(err)) == 0);
	envelope_free(&e);
}

/* A fresh signed command from turq to pg1 with timestamp ts. */
static void
make(struct buf *wire, int64_t ts, const char *id)
{
	struct compose_req r = { .to = "pg1-18890", .ch = "command",
	    .text = "x", .urgency = "now", .ttl = 60, .ts = ts, .id = id };

	sign(wire, &r);
}

static struct refusal last;	/* feed's last refusal */

static enum refusal_reason
feed(struct inbound *in, const char *topic, const struct buf *w, int64_t now)
{
	struct envelope e;
	struct refusal why = { 0 };
	int rc = inbound_accept(in, topic, w->p, w->len, now, &e, &why);

	last = why;
	if (rc == 0) {
		CHECK(e.root != NULL && strcmp(e.from, "turq-18789") == 0);
		envelope_free(&e);
		return REF_NONE;
	}
	CHECK(e.root == NULL);	/* nothing of a refused message escapes */
	return why.reason;
}

static void
setup(void)
{
	uint8_t seed[32] = { 7 };

	envelope_limits_default(&lim);
	CHECK(seckey_from_seed(seed, "turq-18789", &turq) == 0);
	memcpy(tk.pub.pk, turq.pk, 32);
	hive_strlcpy(tk.pub.node, turq.node, sizeof(tk.pub.node));
	hive_strlcpy(tk.pub.kid, turq.kid, sizeof(tk.pub.kid));
	kr.keys = &tk;
	kr.nkeys = 1;
}

static void
init(struct inbound *in, struct window *w)
{
	memset(in, 0, sizeof(*in));
	in->prefix = "turq/hive";
	in->limits = &lim;
	in->keyring = &kr;
	in->window = w;
}

static void
test_gate(void)
{
	struct inbound in;
	struct buf w;
	const char *topic = "turq/hive/pg1-18890/command";

	init(&in, window_new(64));
	make(&w, 5000, "a1");
	CHECK(feed(&in, topic, &w, 5000) == REF_NONE);
	CHECK(feed(&in, topic, &w, 5000) == REF_REPLAY);
	CHECK(feed(&in, "turq/hive/pg1-18890/alert", &w, 5000) ==
	    REF_TOPIC_MISMATCH);
	CHECK(feed(&in, "turq/hive/other-1/command", &w, 5000) ==
	    REF_TOPIC_MISMATCH);
	CHECK(feed(&in, "hive/pg1-18890/command", &w, 5000) ==
	    REF_TOPIC_MISMATCH);
	CHECK(feed(&in, topic, &w, 5061) == REF_EXPIRED);
	/* replay stays refused until ts + ttl + skew, even if "now" lags */
	CHECK(feed(&in, topic, &w, 4990) == REF_REPLAY);
	buf_free(&w);
	/* the transport flagged a payload it did not copy */
	{
		struct envelope e;
		struct refusal why = { 0 };

		CHECK(inbound_accept(&in, topic, NULL, ENVELOPE_MAX_WIRE + 1,
		    5000, &e, &why) == -1 && why.reason == REF_OVERSIZE);
	}
	CHECK(in.accepted == 1);
	CHECK(in.counters.n[REF_REPLAY] == 2);
	CHECK(in.counters.n[REF_TOPIC_MISMATCH] == 3);
	CHECK(in.counters.n[REF_EXPIRED] == 1);
	CHECK(in.counters.n[REF_OVERSIZE] == 1);
	window_free(in.window);
}

static void
test_window_full(void)
{
	struct inbound in;
	struct buf w;
	char id[16];
	int i, ok = 0;

	init(&in, window_new(16));
	for (i = 0; i < 17; i++) {
		snprintf(id, sizeof(id), "f%d", i);
		make(&w, 5000, id);
		if (feed(&in, "turq/hive/pg1-18890/command", &w, 5000) ==
		    REF_NONE)
			ok++;
		else
			CHECK(in.counters.n[REF_WINDOW_FULL] == 1);
		buf_free(&w);
	}
	CHECK(ok == 16);
	CHECK(in.counters.n[REF_WINDOW_FULL] == 1);
	window_free(in.window);
}

static void
test_window_reset_and_io(void)
{
	char dir[] = "/tmp/hive-test-inbound-XXXXXX", path[256];
	struct window *win = NULL;
	struct inbound in;
	struct rlimit saved, rl;
	struct buf w;
	char err[256];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/window", dir);
	CHECK(window_open(path, 64, 5000, 60, WINDOW_RESET, &win, err,
	    sizeof(err)) == WINDOW_CREATED);
	init(&in, win);
	make(&w, 5060, "r1");	/* ts <= now + skew at reset: refused */
	CHECK(feed(&in, "turq/hive/pg1-18890/command", &w, 5000) ==
	    REF_WINDOW_RESET);
	buf_free(&w);
	make(&w, 5061, "r2");
	CHECK(feed(&in, "turq/hive/pg1-18890/command", &w, 5010) == REF_NONE);
	buf_free(&w);
	/* the state file cannot grow: fail closed, nothing admitted */
	signal(SIGXFSZ, SIG_IGN);
	CHECK(getrlimit(RLIMIT_FSIZE, &saved) == 0);
	rl = saved;
	rl.rlim_cur = 0;
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	make(&w, 5062, "r3");
	CHECK(feed(&in, "turq/hive/pg1-18890/command", &w, 5010) ==
	    REF_WINDOW_IO);
	CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
	CHECK(feed(&in, "turq/hive/pg1-18890/command", &w, 5010) == REF_NONE);
	buf_free(&w);
	window_free(win);
	unlink(path);
	rmdir(dir);
}

/* Change one base64 character of the signature. */
static void
flip_sig(struct buf *w)
{
	char *p = memmem(w->p, w->len, "\"sig\":\"", 7);

	CHECK(p != NULL);
	if (p != NULL)
		p[10] = p[10] == 'A' ? 'B' : 'A';
}

/* A signed meta document from turq with corr (may be NULL). */
static void
make_meta(struct buf *wire, const char *corr)
{
	struct compose_req r = { .to = "all", .ch = "status",
	    .text = "{\"status\":\"pending\"}", .urgency = "later",
	    .ttl = 60, .ts = 5000, .corr = corr };

	sign(wire, &r);
}

static enum refusal_reason
feed_meta(struct inbound *in, const char *topic, const struct buf *w,
    const char *want_kind)
{
	struct envelope e;
	struct refusal why = { 0 };
	const char *kind = NULL;

	if (inbound_meta(in, topic, w->p, w->len, &e, &kind, &why) == 0) {
		CHECK_STR(kind, want_kind);
		envelope_free(&e);
		return REF_NONE;
	}
	CHECK(e.root == NULL);
	return why.reason;
}

static void
test_meta(void)
{
	struct inbound in;
	struct buf w, c;

	init(&in, NULL);	/* meta documents never touch the window */
	make_meta(&w, NULL);
	make_meta(&c, "abc-1");
	CHECK(feed_meta(&in, "turq/hive/meta/turq-18789/state", &w, "state") ==
	    REF_NONE);
	/* delivered again on every subscribe: not a replay */
	CHECK(feed_meta(&in, "turq/hive/meta/turq-18789/state", &w, "state") ==
	    REF_NONE);
	CHECK(feed_meta(&in, "turq/hive/meta/turq-18789/git-sync", &w,
	    "git-sync") == REF_NONE);
	CHECK(feed_meta(&in, "turq/hive/meta/pg1-18890/state", &w, NULL) ==
	    REF_META_MISMATCH);		/* another node's topic */
	CHECK(feed_meta(&in, "turq/hive/meta/turq-18789/Bad", &w, NULL) ==
	    REF_META_MISMATCH);		/* not an action name */
	CHECK(feed_meta(&in, "turq/hive/meta/turq-18789/a/b", &w, NULL) ==
	    REF_META_MISMATCH);
	CHECK(feed_meta(&in, "turq/hive/meta/corr/abc-1", &c, "abc-1") ==
	    REF_NONE);
	CHECK(feed_meta(&in, "turq/hive/meta/corr/abc-2", &c, NULL) ==
	    REF_META_MISMATCH);		/* corr level != signed corr */
	CHECK(feed_meta(&in, "turq/hive/meta/corr/abc-1", &w, NULL) ==
	    REF_META_MISMATCH);		/* no corr at all */
	CHECK(feed_meta(&in, "other/meta/turq-18789/state", &w, NULL) ==
	    REF_META_MISMATCH);		/* another prefix */
	flip_sig(&w);
	CHECK(feed_meta(&in, "turq/hive/meta/turq-18789/state", &w, NULL) ==
	    REF_BAD_SIGNATURE);
	CHECK(in.counters.n[REF_META_MISMATCH] == 6);
	buf_free(&w);
	buf_free(&c);
}

/* Our own command seen on another node's topic; others' are ignored. */
static void
test_observe(void)
{
	char nodes[2][NODE_MAX + 1] = { "turq-18789", "mini1-18889" };
	char other[1][NODE_MAX + 1] = { "pg1-18890" };
	const char *topic = "turq/hive/pg1-18890/command";
	struct refusal why = { 0 };
	struct inbound in;
	struct envelope e;
	struct buf w;

	init(&in, NULL);
	make(&w, 5000, "o1");
	CHECK(inbound_observe(&in, topic, w.p, w.len, 5000, nodes, 2, &e,
	    &why) == 0 && strcmp(e.id, "o1") == 0);
	envelope_free(&e);
	CHECK(inbound_observe(&in, topic, w.p, w.len, 5000, other, 1, &e,
	    &why) == -1 && why.reason == REF_NONE && e.root == NULL);
	CHECK(inbound_observe(&in, topic, w.p, w.len, 9000, nodes, 2, &e,
	    &why) == -1 && why.reason == REF_EXPIRED);
	CHECK(why.signer.verified && strcmp(why.signer.id, "o1") == 0);
	flip_sig(&w);
	CHECK(inbound_observe(&in, topic, w.p, w.len, 5000, nodes, 2, &e,
	    &why) == -1 && why.reason == REF_BAD_SIGNATURE);
	CHECK(!why.signer.verified);
	CHECK(in.accepted == 0);	/* observing is not accepting */
	buf_free(&w);
}


/* A gate that refuses unknown kids before the signature, as the
 * router's unknown-sender bucket does when it is empty, and one
 * sender (by from) after it, as a policy would. */
static int
deny_gate(void *arg, enum inbound_stage st, const struct envelope *e,
    int known, struct refusal *why)
{
	(void)arg;
	if (st == INBOUND_PRE_SIG && !known) {
		refusal_set(why, REF_RATE_LIMITED, "unknown senders");
		return -1;
	}
	if (st == INBOUND_POST_SIG && strcmp(e->id, "denied") == 0) {
		refusal_set(why, REF_POLICY_DENIED, "id");
		return -1;
	}
	return 0;
}

/* The batch steps over n messages; each one's refusal into why[]. */
static void
feed_batch(struct inbound *in, const char *const *topic, struct buf *w,
    size_t n, int64_t now, struct refusal *why)
{
	struct inbound_prep p[16];
	int ok[16];
	size_t i;

	CHECK(n <= 16);
	for (i = 0; i < n; i++) {
		buf_init(&p[i].msg, 2 * ENVELOPE_MAX_WIRE);
		memset(&why[i], 0, sizeof(why[i]));
		inbound_prepare(in, topic[i], w[i].p, w[i].p == NULL ?
		    ENVELOPE_MAX_WIRE + 1 : w[i].len, &p[i]);
	}
	for (i = 0; i < n; i++)
		ok[i] = inbound_accept_begin(in, &p[i], &why[i]) == 0;
	for (i = 0; i < n; i++)
		if (ok[i])
			ok[i] = inbound_accept_end(in, &p[i].e, p[i].ok, now,
			    &why[i]) == 0;
	CHECK(inbound_accept_commit(in) == 0);
	for (i = 0; i < n; i++) {
		if (ok[i])
			why[i].reason = REF_NONE;
		if (ok[i])
			envelope_free(&p[i].e);
		else
			CHECK(p[i].e.root == NULL);	/* freed */
		buf_free(&p[i].msg);
	}
}

static void
test_batch_same(void)
{
	const char *ours = "turq/hive/pg1-18890/command";
	const char *topic[16];
	struct inbound one, batch;
	struct buf w[16];
	enum refusal_reason want[16], got[16];
	struct refusal want_why[16], got_why[16];
	struct seckey stranger, pg1;
	struct trusted_key keys[2];
	struct keyring kr2 = { .keys = keys, .nkeys = 2 };
	uint8_t seed[32] = { 9 }, seed2[32] = { 11 };
	size_t i, n = 0;

	/* turq's key, and pg1's bound to another node */
	CHECK(seckey_from_seed(seed, "stranger-1", &stranger) == 0);
	CHECK(seckey_from_seed(seed2, "pg1-18890", &pg1) == 0);
	keys[0] = tk;
	memset(&keys[1], 0, sizeof(keys[1]));
	memcpy(keys[1].pub.pk, pg1.pk, 32);
	hive_strlcpy(keys[1].pub.node, "other-9", sizeof(keys[1].pub.node));
	hive_strlcpy(keys[1].pub.kid, pg1.kid, sizeof(keys[1].pub.kid));

	make(&w[n], 5000, "b1"), topic[n++] = ours;		/* fine */
	make(&w[n], 5000, "b1"), topic[n++] = ours;		/* replay */
	make(&w[n], 5000, "b2"), topic[n++] = "turq/hive/x/command";
	make(&w[n], 5000, "b3"), flip_sig(&w[n]), topic[n++] = ours;
	make(&w[n], 4000, "b4"), topic[n++] = ours;		/* expired */
	make(&w[n], 5000, "denied"), topic[n++] = ours;		/* gate, post */
	buf_init(&w[n], 1), w[n].p = NULL, topic[n++] = ours;	/* oversize */
	buf_init(&w[n], 64), buf_adds(&w[n], "{\"v\":2"), topic[n++] = ours;
	{	/* an unknown kid: the gate's refusal, before the key's */
		struct compose_req q = { .to = "pg1-18890", .ch = "command",
		    .text = "x", .urgency = "now", .ttl = 60, .ts = 5000,
		    .id = "b5" };
		struct envelope e;
		char err[256];

		buf_init(&w[n], ENVELOPE_MAX_WIRE);
		CHECK(compose_envelope(&q, &stranger, &lim, &w[n], &e, err,
		    sizeof(err)) == 0);
		envelope_free(&e);
		topic[n++] = ours;
		/* signed by pg1's key, which the keyring binds to
		 * another node: the key's binding */
		buf_init(&w[n], ENVELOPE_MAX_WIRE);
		q.id = "b6";
		CHECK(compose_envelope(&q, &pg1, &lim, &w[n], &e, err,
		    sizeof(err)) == 0);
		envelope_free(&e);
		topic[n++] = ours;
	}
	make(&w[n], 5000, "b7"), topic[n++] = ours;		/* fine */

	init(&one, window_new(64));
	init(&batch, window_new(64));
	one.keyring = batch.keyring = &kr2;
	one.gate = batch.gate = deny_gate;
	for (i = 0; i < n; i++) {
		want[i] = feed(&one, topic[i], &w[i], 5010);
		want_why[i] = last;
	}
	feed_batch(&batch, topic, w, n, 5010, got_why);
	for (i = 0; i < n; i++) {
		got[i] = got_why[i].reason;
		if (got[i] != want[i])
			fprintf(stderr, "message %zu: batch %s, one by one %s\n",
			    i, refusal_name(got[i]), refusal_name(want[i]));
		CHECK(got[i] == want[i]);
	}
	/* the reasons themselves, so that both cannot be wrong alike */
	CHECK(want[0] == REF_NONE && want[1] == REF_REPLAY &&
	    want[2] == REF_TOPIC_MISMATCH && want[3] == REF_BAD_SIGNATURE &&
	    want[4] == REF_EXPIRED && want[5] == REF_POLICY_DENIED &&
	    want[6] == REF_OVERSIZE && want[7] == REF_BAD_JSON &&
	    want[8] == REF_RATE_LIMITED && want[9] == REF_KEY_NODE_MISMATCH &&
	    want[10] == REF_NONE && n == 11);
	/* after the signature (replay, expired, the post-signature gate):
	 * the signer; before it (topic, signature, size, parse, the
	 * pre-signature gate, the key's binding): nothing */
	for (i = 0; i < n; i++) {
		const struct refusal_signer *a = &want_why[i].signer;
		const struct refusal_signer *b = &got_why[i].signer;
		int after = i == 1 || i == 4 || i == 5;

		if (want[i] == REF_NONE)
			continue;
		CHECK(a->verified == after && b->verified == after);
		if (!after)
			continue;
		CHECK(strcmp(a->from, "turq-18789") == 0 &&
		    strcmp(a->kid, turq.kid) == 0 && strcmp(a->to,
		    "pg1-18890") == 0 && strcmp(a->ch, "command") == 0);
		CHECK(strcmp(a->id, i == 1 ? "b1" : i == 4 ? "b4" : "denied")
		    == 0);
		CHECK(memcmp(a, b, sizeof(*a)) == 0);
	}
	CHECK(memcmp(&one.counters, &batch.counters, sizeof(one.counters))
	    == 0);
	CHECK(one.accepted == 2 && batch.accepted == 2);
	for (i = 0; i < n; i++)
		if (w[i].p != NULL)
			buf_free(&w[i]);
	window_free(one.window);
	window_free(batch.window);
	seckey_free(&stranger);
	seckey_free(&pg1);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	setup();
	test_gate();
	test_window_full();
	test_window_reset_and_io();
	test_meta();
	test_observe();
	test_batch_same();
	seckey_free(&turq);
	return t_done();
}
