/*
 * test_envelope.c - the protocol test vector, every schema rule and
 * every refusal reason of envelope.c.
 */
#include <stdlib.h>

#include <sodium.h>

#include "envelope.h"
#include "t.h"
#include "util.h"

#define VECTOR_ENV "{\"v\":2,\"id\":\"6f1c2a0e-5b7d-4c1e-9a3f-2d8e7b6a5c4d\"," \
	"\"ts\":1771143000,\"from\":\"turq-18789\",\"to\":\"pg1-18890\"," \
	"\"ch\":\"command\",\"urgency\":\"now\",\"corr\":null,\"replyTo\":null," \
	"\"ttl\":3600,\"text\":\"Generate meural images for 2026-02-16\"," \
	"\"kid\":\"9d24e2eeaf27c2a0\"}"
#define VECTOR_SIG "zoa4f0zjYsnQYc9lJCZwK1VBE8YbCgVlnv1HrFOoxTe6l2K4eK+K" \
	"Mg2LWehh6MpObzGCQbc6tU6Gt/2XsFoxAQ=="

static struct envelope_limits lim;
static struct seckey turq, pg1;
static struct keyring kr;
static struct trusted_key tks[3];
static char wire[ENVELOPE_MAX_WIRE + 64];

static void
setup_keys(void)
{
	uint8_t seed[32];
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	CHECK(seckey_from_seed(seed, "turq-18789", &turq) == 0);
	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(100 + i);
	CHECK(seckey_from_seed(seed, "pg1-18890", &pg1) == 0);
	memset(tks, 0, sizeof(tks));
	memcpy(tks[0].pub.pk, turq.pk, 32);
	hive_strlcpy(tks[0].pub.node, turq.node, sizeof(tks[0].pub.node));
	hive_strlcpy(tks[0].pub.kid, turq.kid, sizeof(tks[0].pub.kid));
	memcpy(tks[1].pub.pk, pg1.pk, 32);
	hive_strlcpy(tks[1].pub.node, pg1.node, sizeof(tks[1].pub.node));
	hive_strlcpy(tks[1].pub.kid, pg1.kid, sizeof(tks[1].pub.kid));
	kr.keys = tks;
	kr.nkeys = 2;
}

/* Sign a template (unsigned JSON) with k; result in wire, length back. */
static size_t
sign_template(const char *tmpl, const struct seckey *k)
{
	struct envelope e;
	struct refusal why;
	struct buf b;
	json_t *o = json_loads(tmpl, 0, NULL);
	size_t n;

	CHECK(o != NULL);
	CHECK(envelope_from_json(o, &lim, ENVELOPE_UNSIGNED, &e, &why) == 0);
	envelope_free(&e);
	CHECK(envelope_sign(o, k) == 0);
	buf_init(&b, sizeof(wire) - 1);
	CHECK(envelope_canonical(o, &b) == 0);
	memcpy(wire, b.p, b.len);
	wire[b.len] = '\0';
	n = b.len;
	buf_free(&b);
	json_decref(o);
	return n;
}

/* Full receive path (without window); returns the refusal reason. */
static enum refusal_reason
receive(const char *buf, size_t len, int64_t now)
{
	struct envelope e;
	struct refusal why = { 0 };
	int rc;

	rc = envelope_parse(buf, len, &lim, 0, &e, &why);
	if (rc == 0)
		rc = envelope_verify_sig(&e, &kr, &why);
	if (rc == 0)
		rc = envelope_check_time(&e, &lim, now, &why);
	envelope_free(&e);
	return rc == 0 ? REF_NONE : why.reason;
}

static enum refusal_reason
parse_reason(const char *s)
{
	struct envelope e;
	struct refusal why = { 0 };
	int rc = envelope_parse(s, strlen(s), &lim, 0, &e, &why);

	envelope_free(&e);
	return rc == 0 ? REF_NONE : why.reason;
}

static void
test_vector(void)
{
	char b64[64];
	struct buf b;
	json_t *o;

	sodium_bin2base64(b64, sizeof(b64), turq.pk, 32,
	    sodium_base64_VARIANT_ORIGINAL);
	CHECK_STR(b64, "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=");
	CHECK_STR(turq.kid, "9d24e2eeaf27c2a0");
	o = json_loads(VECTOR_ENV, 0, NULL);
	CHECK(envelope_sign(o, &turq) == 0);
	CHECK_STR(json_string_value(json_object_get(o, "sig")), VECTOR_SIG);
	/* the signed bytes are prefix + JCS without sig */
	buf_init(&b, 1 << 16);
	CHECK(envelope_signed_bytes(o, &b) == 0);
	CHECK(b.len > 17 && memcmp(b.p, "hive-envelope-v2\n{\"ch\":\"command\","
	    "\"corr\":null,\"from\":\"turq-18789\",\"id\":", 55) == 0);
	buf_free(&b);
	json_decref(o);
}

static void
test_vector_verifies(void)
{
	char env[1024];

	snprintf(env, sizeof(env), "%.*s,\"sig\":\"%s\"}",
	    (int)strlen(VECTOR_ENV) - 1, VECTOR_ENV, VECTOR_SIG);
	CHECK(receive(env, strlen(env), 1771143000) == REF_NONE);
	/* whitespace and key order of the wire bytes do not matter */
	snprintf(env, sizeof(env), "{ \"sig\" : \"%s\",\n%s", VECTOR_SIG,
	    VECTOR_ENV + 1);
	CHECK(receive(env, strlen(env), 1771143000) == REF_NONE);
}

#define T_BASE "\"v\":2,\"id\":\"m1\",\"ts\":1000,\"from\":\"turq-18789\"," \
	"\"to\":\"pg1-18890\",\"ch\":\"command\",\"urgency\":\"now\"," \
	"\"ttl\":60,\"text\":\"hello\""

static void
test_signed_roundtrip_and_flips(void)
{
	size_t n = sign_template("{" T_BASE ",\"action\":\"echo\","
	    "\"args\":{\"k\":[1,2,{\"x\":null}]},\"corr\":\"c1\"}", &turq);
	/* one bit flipped in each signed field; a flip that leaves the
	 * schema (urgency "oow") is refused before the signature check */
	static const struct { const char *field; enum refusal_reason r; } f[] = {
		{ "\"m1\"", REF_BAD_SIGNATURE }, { "1000", REF_BAD_SIGNATURE },
		{ "\"pg1-18890\"", REF_BAD_SIGNATURE }, { "\"now\"", REF_SCHEMA },
		{ "60", REF_BAD_SIGNATURE }, { "\"hello\"", REF_BAD_SIGNATURE },
		{ "\"echo\"", REF_BAD_SIGNATURE }, { "\"c1\"", REF_BAD_SIGNATURE },
		{ "[1,2", REF_BAD_SIGNATURE }, { "\"x\"", REF_BAD_SIGNATURE },
		{ "\"turq-18789\"", REF_KEY_NODE_MISMATCH },
		{ "\"9d24e2eeaf27c2a0\"", REF_UNKNOWN_KEY },
	};
	char copy[sizeof(wire)], *p;
	size_t i;

	CHECK(receive(wire, n, 1000) == REF_NONE);
	/* flip one bit in every signed field: signature must fail */
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		memcpy(copy, wire, n + 1);
		p = strstr(copy, f[i].field);
		CHECK(p != NULL);
		if (p == NULL)
			continue;
		p[strlen(f[i].field) - 1 - (f[i].field[0] == '"')] ^= 0x01;
		if (receive(copy, n, 1000) != f[i].r)
			fprintf(stderr, "  flip in %s -> %s\n", f[i].field,
			    refusal_name(receive(copy, n, 1000)));
		CHECK(receive(copy, n, 1000) == f[i].r);
	}
}

static void
test_key_refusals(void)
{
	size_t n;
	struct node_floor fl = { "turq-18789", 1001 };
	char *revoked[] = { turq.kid };

	/* signed by pg1 but claims from turq: kid bound to pg1 */
	n = sign_template("{" T_BASE "}", &pg1);
	CHECK(receive(wire, n, 1000) == REF_KEY_NODE_MISMATCH);
	n = sign_template("{" T_BASE "}", &turq);
	kr.nkeys = 1;
	tks[0] = tks[1];	/* only pg1 known now */
	CHECK(receive(wire, n, 1000) == REF_UNKNOWN_KEY);
	setup_keys();
	tks[0].state = KEY_REVOKED;
	CHECK(receive(wire, n, 1000) == REF_REVOKED);
	tks[0].state = KEY_CONFLICT;
	CHECK(receive(wire, n, 1000) == REF_KEY_NODE_MISMATCH);
	tks[0].state = KEY_TRUSTED;
	kr.floors = &fl;
	kr.nfloors = 1;
	CHECK(receive(wire, n, 1000) == REF_REVOKED);	/* ts 1000 < 1001 */
	fl.before = 1000;
	CHECK(receive(wire, n, 1000) == REF_NONE);
	kr.floors = NULL;
	kr.nfloors = 0;
	(void)revoked;
}

static void
test_time(void)
{
	size_t n = sign_template("{" T_BASE "}", &turq);

	CHECK(receive(wire, n, 1000 + 60) == REF_NONE);	/* now == ts+ttl */
	CHECK(receive(wire, n, 1000 + 61) == REF_EXPIRED);
	CHECK(receive(wire, n, 1000 - 60) == REF_NONE);	/* skew limit */
	CHECK(receive(wire, n, 1000 - 61) == REF_FUTURE);
}

static void
test_json_refusals(void)
{
	char *big;

	CHECK(parse_reason("") == REF_BAD_JSON);
	CHECK(parse_reason("{" T_BASE) == REF_BAD_JSON);
	CHECK(parse_reason("{" T_BASE "} x") == REF_BAD_JSON);
	CHECK(parse_reason("[1]") == REF_BAD_JSON);
	CHECK(parse_reason("\"s\"") == REF_BAD_JSON);
	CHECK(parse_reason("{\"a\":1,\"a\":2}") == REF_DUPLICATE_KEY);
	CHECK(parse_reason("{\"text\":\"\xff\"}") == REF_BAD_UTF8);
	CHECK(parse_reason("{\"text\":\"\xc0\xaf\"}") == REF_BAD_UTF8);
	CHECK(parse_reason("{\"text\":\"\xed\xa0\x80\"}") == REF_BAD_UTF8);
	CHECK(parse_reason("{\"text\":\"\\ud800\"}") == REF_BAD_JSON);
	CHECK(parse_reason("{\"text\":\"\\udc00x\"}") == REF_BAD_JSON);
	CHECK(parse_reason("{\"text\":\"a\\u0000b\"}") == REF_BAD_JSON);
	CHECK(parse_reason("{\"v\":2.0}") == REF_BAD_NUMBER);
	CHECK(parse_reason("{\"v\":2e0}") == REF_BAD_NUMBER);
	CHECK(parse_reason("{\"v\":2,\"args\":{\"a\":[0.5]}}") == REF_BAD_NUMBER);
	CHECK(parse_reason("{\"v\":2,\"ts\":9007199254740992}") == REF_BAD_NUMBER);
	CHECK(parse_reason("{\"v\":2,\"ts\":-9007199254740992}") == REF_BAD_NUMBER);
	CHECK(parse_reason("{\"v\":2,\"ts\":99999999999999999999}") ==
	    REF_BAD_NUMBER);
	CHECK(parse_reason("{\"v\":1}") == REF_BAD_VERSION);
	CHECK(parse_reason("{\"v\":3}") == REF_BAD_VERSION);
	CHECK(parse_reason("{\"v\":\"2\"}") == REF_SCHEMA);
	CHECK(parse_reason("{\"x\":1}") == REF_SCHEMA);
	big = malloc(ENVELOPE_MAX_WIRE + 2);
	memset(big, ' ', ENVELOPE_MAX_WIRE + 1);
	big[ENVELOPE_MAX_WIRE + 1] = '\0';
	CHECK(parse_reason(big) == REF_OVERSIZE);
	free(big);
}

static void
test_depth(void)
{
	size_t n;

	/* top-level object = 1, args = 2, ... 8 levels accepted */
	n = sign_template("{" T_BASE ",\"args\":{\"a\":[[[[[[1]]]]]]}}", &turq);
	CHECK(receive(wire, n, 1000) == REF_NONE);
	CHECK(parse_reason("{" T_BASE ",\"args\":{\"a\":[[[[[[[1]]]]]]]}}") ==
	    REF_TOO_DEEP);
	/* brackets inside strings do not count */
	n = sign_template("{" T_BASE ",\"args\":{\"a\":\"[[[[[[[[[[{{{{\"}}",
	    &turq);
	CHECK(receive(wire, n, 1000) == REF_NONE);
	CHECK(parse_reason("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[") ==
	    REF_TOO_DEEP);
}

/* Replace the value of field in T_BASE-based template and parse it. */
static enum refusal_reason
schema_with(const char *extra)
{
	char tmpl[2048];
	struct envelope e;
	struct refusal why = { 0 };
	json_t *o;
	int rc;

	/* extra comes last: without JSON_REJECT_DUPLICATES jansson keeps
	 * the last value, so extra overrides the base field */
	snprintf(tmpl, sizeof(tmpl), "{%s,%.*s}", T_BASE,
	    (int)strlen(extra) - 1, extra);
	o = json_loads(tmpl, 0, NULL);
	CHECK(o != NULL);
	rc = envelope_from_json(o, &lim, ENVELOPE_UNSIGNED, &e, &why);
	envelope_free(&e);
	json_decref(o);
	return rc == 0 ? REF_NONE : why.reason;
}

static void
test_schema_fields(void)
{
	static const char *const bad[] = {
		"\"id\":\"\",", "\"id\":\"a/b\",", "\"id\":7,",
		"\"id\":\"0123456789012345678901234567890123456789012345678901234567890123x\",",
		"\"from\":\"Turq\",", "\"from\":\"all\",", "\"from\":\"meta\",",
		"\"from\":null,", "\"to\":\"meta\",", "\"to\":\"a b\",",
		"\"ch\":\"chat\",", "\"ch\":\"Command\",", "\"urgency\":\"soon\",",
		"\"ttl\":0,", "\"ttl\":86401,", "\"ttl\":\"60\",", "\"ts\":-1,",
		"\"ts\":\"1000\",", "\"text\":null,", "\"text\":5,",
		"\"corr\":\"a b\",", "\"corr\":5,", "\"replyTo\":\"\",",
		"\"action\":\"../x\",", "\"action\":\"a/b\",", "\"action\":\"Echo\",",
		"\"action\":\"-x\",", "\"action\":\"\",", "\"args\":[1],",
		"\"args\":\"x\",", "\"args\":{\"\\u0001\":1},",
		"\"args\":{\"a\":{\"\xc3\xa9\":1}},", "\"kid\":\"9D24E2EEAF27C2A0\",",
		"\"kid\":\"9d24\",", "\"sig\":\"abc\",", "\"extra\":1,",
	};
	static const char *const good[] = {
		"\"corr\":null,", "\"replyTo\":\"x:y.z-1_\",", "\"to\":\"all\",",
		"\"action\":\"0a_b-c\",", "\"args\":{},", "\"text\":\"\",",
		"\"ttl\":86400,", "\"ch\":\"alert\",", "\"urgency\":\"later\",",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum refusal_reason r = schema_with(bad[i]);

		if (r != REF_SCHEMA)
			fprintf(stderr, "  case: %s -> %s\n", bad[i],
			    refusal_name(r));
		CHECK(r == REF_SCHEMA);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		enum refusal_reason r = schema_with(good[i]);

		if (r != REF_NONE)
			fprintf(stderr, "  case: %s -> %s\n", good[i],
			    refusal_name(r));
		CHECK(r == REF_NONE);
	}
}

/* outcome: a closed word, only on a response, signed like the rest. */
static void
test_outcome(void)
{
	static const char *const ok[] = { "ok", "error", "bad-output",
	    "timeout", "killed-by-seccomp", "killed", "refused", "no-handler" };
	static const char *const bad[] = {
		/* a good word on another channel */
		"\"outcome\":\"error\",",
		"\"ch\":\"alert\",\"outcome\":\"ok\",",
		"\"ch\":\"sync\",\"outcome\":\"no-handler\",",
		"\"ch\":\"status\",\"outcome\":\"timeout\",",
		/* a response with a word outside the list, or not a word */
		"\"ch\":\"response\",\"outcome\":\"fine\",",
		"\"ch\":\"response\",\"outcome\":\"Error\",",
		"\"ch\":\"response\",\"outcome\":\"\",",
		"\"ch\":\"response\",\"outcome\":\"error \",",
		"\"ch\":\"response\",\"outcome\":null,",
		"\"ch\":\"response\",\"outcome\":5,",
		"\"ch\":\"response\",\"outcome\":[\"error\"],",
	};
	char extra[128], *p;
	struct envelope e;
	struct refusal why = { 0 };
	size_t i, n;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(extra, sizeof(extra),
		    "\"ch\":\"response\",\"outcome\":\"%s\",", ok[i]);
		CHECK(schema_with(extra) == REF_NONE);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum refusal_reason r = schema_with(bad[i]);

		if (r != REF_SCHEMA)
			fprintf(stderr, "  case: %s -> %s\n", bad[i],
			    refusal_name(r));
		CHECK(r == REF_SCHEMA);
	}
	/* signed: it verifies, says failed, and cannot be changed */
	n = sign_template("{" T_BASE ",\"ch\":\"response\","
	    "\"outcome\":\"error\"}", &turq);
	CHECK(receive(wire, n, 1000) == REF_NONE);
	CHECK(envelope_parse(wire, n, &lim, 0, &e, &why) == 0);
	CHECK(e.outcome != NULL && strcmp(e.outcome, "error") == 0);
	CHECK(envelope_failed(&e));
	envelope_free(&e);
	CHECK((p = strstr(wire, "\"outcome\":\"error\"")) != NULL);
	memcpy(p, "\"outcome\":\"ok\"   ", 17);
	CHECK(receive(wire, n, 1000) == REF_BAD_SIGNATURE);
	/* ok and absent: nothing failed */
	n = sign_template("{" T_BASE ",\"ch\":\"response\","
	    "\"outcome\":\"ok\"}", &turq);
	CHECK(envelope_parse(wire, n, &lim, 0, &e, &why) == 0);
	CHECK(!envelope_failed(&e));
	envelope_free(&e);
	n = sign_template("{" T_BASE ",\"ch\":\"response\"}", &turq);
	CHECK(envelope_parse(wire, n, &lim, 0, &e, &why) == 0);
	CHECK(e.outcome == NULL && !envelope_failed(&e));
	envelope_free(&e);
}

static void
test_missing_fields(void)
{
	static const char *const req[] = { "v", "id", "ts", "from", "to", "ch",
	    "urgency", "ttl", "text", "kid", "sig" };
	size_t n = sign_template("{" T_BASE "}", &turq), i;
	json_t *o;
	char *s;

	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		o = json_loadb(wire, n, 0, NULL);
		json_object_del(o, req[i]);
		s = json_dumps(o, JSON_COMPACT);
		CHECK(parse_reason(s) == REF_SCHEMA);
		free(s);
		json_decref(o);
	}
}

static void
test_sig_encoding(void)
{
	size_t n = sign_template("{" T_BASE "}", &turq);
	json_t *o = json_loadb(wire, n, 0, NULL);
	char sig[100], orig[100], *s;
	static const char *const muts[] = { "short", "long", "nopad", "bad" };
	size_t i;

	snprintf(orig, sizeof(orig), "%s",
	    json_string_value(json_object_get(o, "sig")));
	for (i = 0; i < 4; i++) {
		snprintf(sig, sizeof(sig), "%s", orig);
		if (i == 0)
			sig[84] = '\0';
		else if (i == 1)
			strcat(sig, "AAAA");
		else if (i == 2)
			sig[86] = '\0';
		else
			sig[10] = '*';
		json_object_set_new(o, "sig", json_string(sig));
		s = json_dumps(o, JSON_COMPACT);
		if (parse_reason(s) != REF_SCHEMA)
			fprintf(stderr, "  sig case %s\n", muts[i]);
		CHECK(parse_reason(s) == REF_SCHEMA);
		free(s);
	}
	/* valid base64 of 64 other bytes: parses, then fails to verify */
	sig[0] = orig[0] == 'A' ? 'B' : 'A';
	memcpy(sig + 1, orig + 1, 88);
	json_object_set_new(o, "sig", json_string(sig));
	s = json_dumps(o, JSON_COMPACT);
	if (receive(s, strlen(s), 1000) != REF_BAD_SIGNATURE)
		fprintf(stderr, "  other sig -> %s\n",
		    refusal_name(receive(s, strlen(s), 1000)));
	CHECK(receive(s, strlen(s), 1000) == REF_BAD_SIGNATURE);
	free(s);
	json_decref(o);
}

static void
test_exact_size_limit(void)
{
	char tmpl[ENVELOPE_MAX_WIRE + 512], *text;
	size_t n, base;

	base = sign_template("{" T_BASE "}", &turq);
	text = malloc(ENVELOPE_MAX_WIRE);
	/* grow text so that the wire form is exactly the limit */
	memset(text, 'x', ENVELOPE_MAX_WIRE - base + 5);
	text[ENVELOPE_MAX_WIRE - base + 5] = '\0';
	snprintf(tmpl, sizeof(tmpl), "{\"v\":2,\"id\":\"m1\",\"ts\":1000,"
	    "\"from\":\"turq-18789\",\"to\":\"pg1-18890\",\"ch\":\"command\","
	    "\"urgency\":\"now\",\"ttl\":60,\"text\":\"%s\"}", text);
	n = sign_template(tmpl, &turq);
	CHECK(n == ENVELOPE_MAX_WIRE);
	CHECK(receive(wire, n, 1000) == REF_NONE);
	free(text);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	envelope_limits_default(&lim);
	setup_keys();
	test_vector();
	test_vector_verifies();
	test_signed_roundtrip_and_flips();
	test_key_refusals();
	test_time();
	test_json_refusals();
	test_depth();
	test_schema_fields();
	test_outcome();
	test_missing_fields();
	test_sig_encoding();
	test_exact_size_limit();
	seckey_free(&turq);
	seckey_free(&pg1);
	return t_done();
}
