/*
 * test_inbound.c - the receive gate: every refusal it adds on top of
 * envelope.c (oversize from the transport, topic mismatch, replay,
 * window-full, window-reset, window-io) and its per-reason counters.
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

static enum refusal_reason
feed(struct inbound *in, const char *topic, const struct buf *w, int64_t now)
{
	struct envelope e;
	struct refusal why = { 0 };
	int rc = inbound_accept(in, topic, w->p, w->len, now, &e, &why);

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
	flip_sig(&w);
	CHECK(inbound_observe(&in, topic, w.p, w.len, 5000, nodes, 2, &e,
	    &why) == -1 && why.reason == REF_BAD_SIGNATURE);
	CHECK(in.accepted == 0);	/* observing is not accepting */
	buf_free(&w);
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
	seckey_free(&turq);
	return t_done();
}
