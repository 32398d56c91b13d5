/*
 * test_corr.c - the correlation store and the meta view: what counts
 * as an answer, expiry, bounds, UTF-8-safe cuts.
 */
#include <stdlib.h>

#include "corr.h"
#include "metaview.h"
#include "t.h"

static struct envelope
env(const char *from, const char *to, enum envelope_ch ch, const char *id,
    const char *corr, const char *text, int64_t ts)
{
	struct envelope e;

	memset(&e, 0, sizeof(e));
	e.from = from, e.to = to, e.ch = ch, e.id = id, e.corr = corr;
	e.text = text, e.text_len = strlen(text), e.ts = ts, e.kid = "00ff";
	return e;
}

static int expired_calls;

static void
on_expired(struct corr_entry *c, void *arg)
{
	expired_calls++;
	CHECK_STR(c->corr, (const char *)arg);
}

static void
test_match(void)
{
	static struct corr_store s;
	struct envelope cmd = env("turq-18789", "pg1-18890", CH_COMMAND, "id-1",
	    NULL, "check disk", 1000);
	struct envelope bc = env("turq-18789", "all", CH_COMMAND, "id-2",
	    "fan-1", "who", 1000);
	struct envelope r;
	struct corr_entry *c;

	corr_init(&s);
	CHECK((c = corr_track(&s, &cmd, 60, 1000)) != NULL);
	CHECK_STR(c->corr, "id-1");	/* no corr: the id is the key */
	CHECK(corr_track(&s, &cmd, 60, 1001) == c);	/* refreshed, not added */
	CHECK(corr_count(&s) == 1);
	r = env("pg1-18890", "turq-18789", CH_RESPONSE, "r1", "id-1", "ok",
	    1010);
	CHECK(corr_match(&s, &r, 1010) == c);
	r.from = "mini1-18889";		/* not the addressee */
	CHECK(corr_match(&s, &r, 1010) == NULL);
	r.from = "pg1-18890";
	r.to = "other-1";		/* not to the sender */
	CHECK(corr_match(&s, &r, 1010) == NULL);
	r.to = "turq-18789";
	r.corr = "id-9";		/* nothing we sent */
	CHECK(corr_match(&s, &r, 1010) == NULL);
	r.corr = NULL;
	CHECK(corr_match(&s, &r, 1010) == NULL);
	r.corr = "id-1";
	CHECK(corr_match(&s, &r, 1062) == NULL);	/* expired */
	/* to all: any node may answer */
	CHECK(corr_track(&s, &bc, 60, 1000) != NULL);
	r = env("mini1-18889", "turq-18789", CH_RESPONSE, "r2", "fan-1", "me",
	    1010);
	CHECK(corr_match(&s, &r, 1010) != NULL);
	r.from = "pg1-18890";
	CHECK(corr_match(&s, &r, 1010) != NULL);
	expired_calls = 0;
	corr_expire(&s, 1060, NULL, NULL);	/* both live until 1060 */
	CHECK(corr_count(&s) == 2);
	corr_expire(&s, 1061, on_expired, "fan-1");
	CHECK(expired_calls == 1 && corr_count(&s) == 1);
	corr_expire(&s, 1062, on_expired, "id-1");	/* refreshed at 1001 */
	CHECK(expired_calls == 2 && corr_count(&s) == 0);
}

static void
test_bounds(void)
{
	static struct corr_store s;
	struct envelope cmd;
	char id[32], cut[8];
	size_t i;

	corr_init(&s);
	for (i = 0; i < CORR_CAP; i++) {
		snprintf(id, sizeof(id), "id-%zu", i);
		cmd = env("turq-18789", "pg1-18890", CH_COMMAND, id, NULL, "x",
		    1);
		CHECK(corr_track(&s, &cmd, 60, 1) != NULL || (i = CORR_CAP));
	}
	cmd = env("turq-18789", "pg1-18890", CH_COMMAND, "one-more", NULL, "x",
	    1);
	CHECK(corr_track(&s, &cmd, 60, 1) == NULL);	/* full: refused */
	corr_cut_utf8(cut, 4, "ab\xc3\xa9\xc3\xa9");	/* "abéé" */
	CHECK_STR(cut, "ab\xc3\xa9");
	corr_cut_utf8(cut, 3, "ab\xc3\xa9");		/* never half a char */
	CHECK_STR(cut, "ab");
	corr_cut_utf8(cut, 7, "abc");
	CHECK_STR(cut, "abc");
	CHECK(corr_valid_session("sess-42:a.b_c"));
	CHECK(!corr_valid_session(""));
	CHECK(!corr_valid_session("a b"));
	CHECK(!corr_valid_session("a/b"));
}

static void
test_metaview(void)
{
	static struct metaview v;
	struct envelope a = env("pg1-18890", "all", CH_HEARTBEAT, "1", NULL,
	    "{\"status\":\"online\"}", 10);
	struct envelope b = env("pg1-18890", "all", CH_HEARTBEAT, "2", NULL,
	    "{\"status\":\"offline\"}", 5);
	char *big = malloc(METAVIEW_TEXT_MAX + 100);
	const struct meta_doc *d;
	char key[32];
	size_t i;

	metaview_init(&v);
	CHECK(metaview_put(&v, "pg1-18890/state", "state", &a, 0) == 0);
	/* the latest delivered wins, as on the broker (a will is older) */
	CHECK(metaview_put(&v, "pg1-18890/state", "state", &b, 0) == 0);
	CHECK((d = metaview_get(&v, "pg1-18890/state")) != NULL &&
	    strstr(d->text, "offline") != NULL && d->ts == 5);
	CHECK(v.n == 1);
	metaview_remove(&v, "pg1-18890/state");
	CHECK(metaview_get(&v, "pg1-18890/state") == NULL && v.n == 0);
	memset(big, 'x', METAVIEW_TEXT_MAX + 99);
	big[METAVIEW_TEXT_MAX + 99] = '\0';
	a.text = big, a.text_len = strlen(big);
	CHECK(metaview_put(&v, "pg1-18890/roster", "roster", &a, 0) == 0);
	d = metaview_get(&v, "pg1-18890/roster");
	CHECK(d != NULL && d->truncated && strlen(d->text) == METAVIEW_TEXT_MAX);
	/* one peer: its share, then share-full, however many keys */
	for (i = 1; i < METAVIEW_SHARE; i++) {
		snprintf(key, sizeof(key), "pg1-18890/act%zu", i);
		CHECK(metaview_put(&v, key, "act", &b, 0) == 0 ||
		    (i = METAVIEW_CAP));
	}
	CHECK(metaview_put(&v, "pg1-18890/one-more", "x", &b, 0) ==
	    METAVIEW_OVER_SHARE);
	/* ...a document it already holds can still be replaced */
	CHECK(metaview_put(&v, "pg1-18890/act1", "act", &a, 0) == 0);
	CHECK(v.n == METAVIEW_SHARE && v.dropped == 0);
	/* many peers: all but the reserved slots, which our nodes keep */
	for (i = 0; v.n < METAVIEW_CAP - METAVIEW_RESERVED; i++) {
		snprintf(key, sizeof(key), "p%zu/state", i);
		b.from = key;
		CHECK(metaview_put(&v, key, "state", &b, 0) == 0 ||
		    (v.n = METAVIEW_CAP));
	}
	snprintf(key, sizeof(key), "q/state");
	b.from = "q";
	CHECK(metaview_put(&v, key, "state", &b, 0) == METAVIEW_FULL);
	CHECK(v.dropped == 1);
	for (i = 0; v.n < METAVIEW_CAP; i++) {
		snprintf(key, sizeof(key), "turq-18789/a%zu", i);
		b.from = "turq-18789";
		CHECK(metaview_put(&v, key, "a", &b, 1) == 0 ||
		    (v.n = METAVIEW_CAP));
	}
	CHECK(i == METAVIEW_RESERVED);
	CHECK(metaview_put(&v, "turq-18789/more", "a", &b, 1) == METAVIEW_FULL);
	CHECK(v.dropped == 2 && v.n == METAVIEW_CAP);
	metaview_free(&v);
	free(big);
}

int
main(void)
{
	test_match();
	test_bounds();
	test_metaview();
	return t_done();
}
