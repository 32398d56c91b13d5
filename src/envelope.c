/*
 * envelope.c - v2 envelope parsing, schema, canonical form, signatures.
 *
 * Order of checks (cheapest and least trusting first):
 *   size cap -> nesting pre-scan -> strict JSON parse (duplicate keys,
 *   invalid UTF-8, lone surrogates, NUL refused by jansson) -> number
 *   rules -> version -> field set -> field types and charsets.
 * Signature checks come later, in envelope_verify_sig(), and always
 * over the canonical form, never over the received bytes.
 */
#include <string.h>

#include <sodium.h>

#include "canon.h"
#include "envelope.h"
#include "log.h"

static const char *const envelope_ch_names[CH__COUNT] = {
	[CH_COMMAND] = "command", [CH_RESPONSE] = "response",
	[CH_SYNC] = "sync", [CH_HEARTBEAT] = "heartbeat",
	[CH_STATUS] = "status", [CH_ALERT] = "alert",
};

/* The closed set of top-level fields. */
static const struct {
	const char	*name;
	int		 required;
} envelope_fields[] = {
	{ "action", 0 }, { "args", 0 }, { "ch", 1 }, { "corr", 0 },
	{ "from", 1 }, { "id", 1 }, { "kid", 1 }, { "outcome", 0 },
	{ "replyTo", 0 },
	{ "sig", 1 }, { "text", 1 }, { "to", 1 }, { "ts", 1 },
	{ "ttl", 1 }, { "urgency", 1 }, { "v", 1 },
};
#define ENVELOPE_NFIELDS (sizeof(envelope_fields) / sizeof(envelope_fields[0]))

/*
 * What a response may say about the remote work (docs/protocol.md,
 * 3.2): the handler outcomes of docs/handlers.md, and no-handler.
 */
static const char *const envelope_outcomes[] = {
	"ok", "error", "bad-output", "timeout", "killed-by-seccomp",
	"killed", "refused", "no-handler",
};
#define ENVELOPE_NOUTCOMES \
	(sizeof(envelope_outcomes) / sizeof(envelope_outcomes[0]))

void
envelope_limits_default(struct envelope_limits *l)
{
	l->max_ttl = ENVELOPE_DEFAULT_MAX_TTL;
	l->max_skew = ENVELOPE_DEFAULT_MAX_SKEW;
}

const char *
envelope_ch_name(enum envelope_ch ch)
{
	if ((unsigned)ch >= CH__COUNT)
		fatalx("envelope_ch_name: impossible channel %d", (int)ch);
	return envelope_ch_names[ch];
}

int
envelope_ch_parse(const char *s, enum envelope_ch *out)
{
	int i;

	for (i = 0; i < CH__COUNT; i++) {
		if (strcmp(s, envelope_ch_names[i]) == 0) {
			*out = (enum envelope_ch)i;
			return 0;
		}
	}
	return -1;
}

static int
envelope_charset(const char *s, size_t maxlen, const char *extra, int upper)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (n >= maxlen)
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (upper && c >= 'A' && c <= 'Z')
			continue;
		if (c == '\0' || strchr(extra, c) == NULL)
			return 0;
	}
	return n > 0;
}

int
envelope_valid_id(const char *s)
{
	return envelope_charset(s, ENVELOPE_ID_MAX, "._:-", 1);
}

int
envelope_valid_action(const char *s)
{
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	return envelope_charset(s, ENVELOPE_ACTION_MAX, "_-", 0);
}

int
envelope_valid_outcome(const char *s)
{
	size_t i;

	for (i = 0; i < ENVELOPE_NOUTCOMES; i++)
		if (strcmp(s, envelope_outcomes[i]) == 0)
			return 1;
	return 0;
}

int
envelope_failed(const struct envelope *e)
{
	return e->outcome != NULL && strcmp(e->outcome, "ok") != 0;
}

int
valid_node(const char *s)
{
	if (strcmp(s, "all") == 0 || strcmp(s, "meta") == 0 ||
	    strcmp(s, "corr") == 0)
		return 0;	/* reserved topic levels */
	return envelope_charset(s, NODE_MAX, "._-", 0);
}

int
valid_kid(const char *s)
{
	size_t i;

	for (i = 0; i < KID_HEX_LEN; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return s[KID_HEX_LEN] == '\0';
}

/*
 * Nesting pre-scan on the raw bytes, before the parser recurses: a
 * 64 KiB payload of '[' must cost a linear scan, not a deep descent.
 */
static int
envelope_depth_ok(const unsigned char *p, size_t len)
{
	int depth = 0, in_str = 0, esc = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (in_str) {
			if (esc)
				esc = 0;
			else if (p[i] == '\\')
				esc = 1;
			else if (p[i] == '"')
				in_str = 0;
		} else if (p[i] == '"')
			in_str = 1;
		else if (p[i] == '{' || p[i] == '[') {
			if (++depth > ENVELOPE_MAX_DEPTH)
				return 0;
		} else if (p[i] == '}' || p[i] == ']')
			depth--;
	}
	return 1;
}

static enum refusal_reason
envelope_json_error(const json_error_t *jerr)
{
	switch (json_error_code(jerr)) {
	case json_error_duplicate_key:
		return REF_DUPLICATE_KEY;
	case json_error_invalid_utf8:
		return REF_BAD_UTF8;
	case json_error_numeric_overflow:
		return REF_BAD_NUMBER;
	case json_error_stack_overflow:
		return REF_TOO_DEEP;
	default:
		return REF_BAD_JSON;
	}
}

/* Reals anywhere, integers beyond +-(2^53-1), non-printable-ASCII keys. */
static int
envelope_check_values(const json_t *v, int top, struct refusal *why)
{
	const char *k;
	const unsigned char *c;
	json_t *m;
	size_t i;
	json_int_t n;

	switch (json_typeof(v)) {
	case JSON_REAL:
		refusal_set(why, REF_BAD_NUMBER, "float");
		return -1;
	case JSON_INTEGER:
		n = json_integer_value(v);
		if (n > ENVELOPE_SAFE_INT || n < -ENVELOPE_SAFE_INT) {
			refusal_set(why, REF_BAD_NUMBER, "integer beyond 2^53-1");
			return -1;
		}
		return 0;
	case JSON_ARRAY:
		for (i = 0; i < json_array_size(v); i++)
			if (envelope_check_values(json_array_get(v, i), 0, why))
				return -1;
		return 0;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, k, m) {
			for (c = (const unsigned char *)k; !top && *c; c++) {
				if (*c < 0x20 || *c > 0x7e) {
					refusal_set(why, REF_SCHEMA,
					    "nested key not printable ASCII");
					return -1;
				}
			}
			if (envelope_check_values(m, 0, why) == -1)
				return -1;
		}
		return 0;
	default:
		return 0;
	}
}

static int
envelope_known_fields(const json_t *root, int flags, struct refusal *why)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)root, k, v) {
		for (i = 0; i < ENVELOPE_NFIELDS; i++)
			if (strcmp(k, envelope_fields[i].name) == 0)
				break;
		if (i == ENVELOPE_NFIELDS) {
			/* the key itself is attacker text: do not echo it */
			refusal_set(why, REF_SCHEMA, "unknown field");
			return -1;
		}
	}
	for (i = 0; i < ENVELOPE_NFIELDS; i++) {
		if (!envelope_fields[i].required)
			continue;
		if ((flags & ENVELOPE_UNSIGNED) &&
		    (strcmp(envelope_fields[i].name, "sig") == 0 ||
		    strcmp(envelope_fields[i].name, "kid") == 0))
			continue;
		if (json_object_get(root, envelope_fields[i].name) == NULL) {
			refusal_set(why, REF_SCHEMA, "missing %s",
			    envelope_fields[i].name);
			return -1;
		}
	}
	return 0;
}

static const char *
envelope_str(const json_t *root, const char *name)
{
	json_t *v = json_object_get(root, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Optional string-or-null with the id charset (corr, replyTo). */
static int
envelope_opt_id(const json_t *root, const char *name, const char **out,
    struct refusal *why)
{
	json_t *v = json_object_get(root, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !envelope_valid_id(json_string_value(v))) {
		refusal_set(why, REF_SCHEMA, "%s", name);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int
envelope_ints(const json_t *root, const struct envelope_limits *lim,
    struct envelope *e, struct refusal *why)
{
	json_t *ts = json_object_get(root, "ts");
	json_t *ttl = json_object_get(root, "ttl");

	if (!json_is_integer(ts) || json_integer_value(ts) < 0) {
		refusal_set(why, REF_SCHEMA, "ts");
		return -1;
	}
	if (!json_is_integer(ttl) || json_integer_value(ttl) < 1 ||
	    json_integer_value(ttl) > lim->max_ttl) {
		refusal_set(why, REF_SCHEMA, "ttl");
		return -1;
	}
	e->ts = json_integer_value(ts);
	e->ttl = json_integer_value(ttl);
	return 0;
}

static int
envelope_addressing(const json_t *root, struct envelope *e,
    struct refusal *why)
{
	const char *u;

	e->id = envelope_str(root, "id");
	e->from = envelope_str(root, "from");
	e->to = envelope_str(root, "to");
	if (e->id == NULL || !envelope_valid_id(e->id))
		return refusal_set(why, REF_SCHEMA, "id"), -1;
	if (e->from == NULL || !valid_node(e->from))
		return refusal_set(why, REF_SCHEMA, "from"), -1;
	if (e->to == NULL || (strcmp(e->to, "all") != 0 && !valid_node(e->to)))
		return refusal_set(why, REF_SCHEMA, "to"), -1;
	u = envelope_str(root, "ch");
	if (u == NULL || envelope_ch_parse(u, &e->ch) == -1)
		return refusal_set(why, REF_SCHEMA, "ch"), -1;
	u = envelope_str(root, "urgency");
	if (u == NULL || (strcmp(u, "now") != 0 && strcmp(u, "later") != 0))
		return refusal_set(why, REF_SCHEMA, "urgency"), -1;
	e->urgency_now = strcmp(u, "now") == 0;
	return 0;
}

/* The remote work's outcome: a closed word, and only on a response. */
static int
envelope_outcome(const json_t *root, struct envelope *e, struct refusal *why)
{
	json_t *v = json_object_get(root, "outcome");

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || !envelope_valid_outcome(json_string_value(v)))
		return refusal_set(why, REF_SCHEMA, "outcome"), -1;
	if (e->ch != CH_RESPONSE)
		return refusal_set(why, REF_SCHEMA, "outcome on a %s",
		    envelope_ch_name(e->ch)), -1;
	e->outcome = json_string_value(v);
	return 0;
}

static int
envelope_payload(const json_t *root, struct envelope *e, struct refusal *why)
{
	json_t *text = json_object_get(root, "text");
	json_t *action = json_object_get(root, "action");
	json_t *args = json_object_get(root, "args");

	if (!json_is_string(text))
		return refusal_set(why, REF_SCHEMA, "text"), -1;
	e->text = json_string_value(text);
	e->text_len = json_string_length(text);
	if (action != NULL) {
		if (!json_is_string(action) ||
		    !envelope_valid_action(json_string_value(action)))
			return refusal_set(why, REF_SCHEMA, "action"), -1;
		e->action = json_string_value(action);
	}
	if (args != NULL) {
		if (!json_is_object(args))
			return refusal_set(why, REF_SCHEMA, "args"), -1;
		e->args = args;
	}
	if (envelope_opt_id(root, "corr", &e->corr, why) == -1 ||
	    envelope_opt_id(root, "replyTo", &e->reply_to, why) == -1)
		return -1;
	return envelope_outcome(root, e, why);
}

static int
envelope_signature(const json_t *root, int flags, struct envelope *e,
    struct refusal *why)
{
	json_t *kid = json_object_get(root, "kid");
	json_t *sig = json_object_get(root, "sig");
	size_t binlen = 0;
	const char *end = NULL;

	if (kid != NULL) {
		if (!json_is_string(kid) || !valid_kid(json_string_value(kid)))
			return refusal_set(why, REF_SCHEMA, "kid"), -1;
		e->kid = json_string_value(kid);
	}
	if (sig == NULL && (flags & ENVELOPE_UNSIGNED))
		return 0;
	/* exactly 88 characters: standard base64, padded, of 64 bytes */
	if (!json_is_string(sig) || json_string_length(sig) != 88 ||
	    sodium_base642bin(e->sig, sizeof(e->sig), json_string_value(sig),
	    88, NULL, &binlen, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    binlen != KEY_SIG_BYTES || end != json_string_value(sig) + 88)
		return refusal_set(why, REF_SCHEMA, "sig"), -1;
	e->has_sig = 1;
	return 0;
}

int
envelope_from_json(json_t *root, const struct envelope_limits *lim,
    int flags, struct envelope *e, struct refusal *why)
{
	json_t *v;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(root))
		return refusal_set(why, REF_BAD_JSON, "not an object"), -1;
	if (envelope_check_values(root, 1, why) == -1)
		return -1;
	v = json_object_get(root, "v");
	if (v == NULL)
		return refusal_set(why, REF_SCHEMA, "missing v"), -1;
	if (!json_is_integer(v))
		return refusal_set(why, REF_SCHEMA, "v"), -1;
	if (json_integer_value(v) != ENVELOPE_VERSION)
		return refusal_set(why, REF_BAD_VERSION, "v=%lld",
		    (long long)json_integer_value(v)), -1;
	if (envelope_known_fields(root, flags, why) == -1 ||
	    envelope_ints(root, lim, e, why) == -1 ||
	    envelope_addressing(root, e, why) == -1 ||
	    envelope_payload(root, e, why) == -1 ||
	    envelope_signature(root, flags, e, why) == -1)
		return -1;
	e->root = json_incref(root);
	return 0;
}

int
envelope_parse(const void *buf, size_t len, const struct envelope_limits *lim,
    int flags, struct envelope *e, struct refusal *why)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(e, 0, sizeof(*e));
	if (len > ENVELOPE_MAX_WIRE)
		return refusal_set(why, REF_OVERSIZE, "%zu bytes", len), -1;
	if (!envelope_depth_ok(buf, len))
		return refusal_set(why, REF_TOO_DEEP, "depth > %d",
		    ENVELOPE_MAX_DEPTH), -1;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		/* jerr.text may quote input: keep only its position */
		refusal_set(why, envelope_json_error(&jerr), "at byte %d",
		    jerr.position);
		return -1;
	}
	rc = envelope_from_json(root, lim, flags, e, why);
	json_decref(root);
	return rc;
}

int
envelope_signed_bytes(const json_t *root, struct buf *out)
{
	buf_adds(out, ENVELOPE_SIG_PREFIX);
	return canon_write(out, root, "sig");
}

int
envelope_canonical(const json_t *root, struct buf *out)
{
	return canon_write(out, root, NULL);
}

/* Key binding and revocation: the key to verify with, or NULL. */
const uint8_t *
envelope_verify_key(const struct envelope *e, const struct keyring *kr,
    struct refusal *why)
{
	const struct trusted_key *k;

	if (e->kid == NULL || !e->has_sig)
		return refusal_set(why, REF_SCHEMA, "unsigned"), NULL;
	if ((k = keyring_find(kr, e->kid)) == NULL)
		return refusal_set(why, REF_UNKNOWN_KEY, "kid=%s", e->kid), NULL;
	if (k->state == KEY_REVOKED)
		return refusal_set(why, REF_REVOKED, "kid=%s", e->kid), NULL;
	if (k->state == KEY_CONFLICT)
		return refusal_set(why, REF_KEY_NODE_MISMATCH,
		    "kid=%s bound to several nodes", e->kid), NULL;
	if (strcmp(k->pub.node, e->from) != 0)
		return refusal_set(why, REF_KEY_NODE_MISMATCH,
		    "kid=%s node=%s", e->kid, k->pub.node), NULL;
	return k->pub.pk;
}

/* The Ed25519 check alone: no state, safe on any thread. */
int
envelope_verify_bytes(const uint8_t sig[KEY_SIG_BYTES], const struct buf *msg,
    const uint8_t *pk)
{
	return crypto_sign_verify_detached(sig, (const unsigned char *)msg->p,
	    msg->len, pk) == 0;
}

/* What follows a signature check that said ok (1) or not (0). */
int
envelope_verify_done(const struct envelope *e, const struct keyring *kr,
    int ok, struct refusal *why)
{
	if (!ok)
		return refusal_set(why, REF_BAD_SIGNATURE, "kid=%s", e->kid), -1;
	/* after the signature, so a forgery is reported as one */
	if (keyring_node_revoked(kr, e->from, e->ts))
		return refusal_set(why, REF_REVOKED, "node %s before floor",
		    e->from), -1;
	return 0;
}

int
envelope_verify_sig(const struct envelope *e, const struct keyring *kr,
    struct refusal *why)
{
	const uint8_t *pk;
	struct buf msg;
	int ok;

	if ((pk = envelope_verify_key(e, kr, why)) == NULL)
		return -1;
	buf_init(&msg, 2 * ENVELOPE_MAX_WIRE);
	if (envelope_signed_bytes(e->root, &msg) == -1)
		fatalx("envelope_verify_sig: canonical form of a parsed envelope");
	ok = envelope_verify_bytes(e->sig, &msg, pk);
	buf_free(&msg);
	return envelope_verify_done(e, kr, ok, why);
}

int
envelope_check_time(const struct envelope *e, const struct envelope_limits *l,
    int64_t now, struct refusal *why)
{
	if (e->ts > now + l->max_skew)
		return refusal_set(why, REF_FUTURE, "ts=%lld now=%lld",
		    (long long)e->ts, (long long)now), -1;
	if (now > e->ts + e->ttl)
		return refusal_set(why, REF_EXPIRED, "ts=%lld ttl=%lld now=%lld",
		    (long long)e->ts, (long long)e->ttl, (long long)now), -1;
	return 0;
}

int64_t
envelope_window_expiry(const struct envelope *e, const struct envelope_limits *l)
{
	return e->ts + e->ttl + l->max_skew;
}

int
envelope_sign(json_t *root, const struct seckey *sk)
{
	uint8_t sig[KEY_SIG_BYTES];
	char b64[sodium_base64_ENCODED_LEN(KEY_SIG_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	struct buf msg;
	int rc = -1;

	if (json_object_set_new(root, "kid", json_string(sk->kid)) == -1)
		return -1;
	json_object_del(root, "sig");
	buf_init(&msg, 2 * ENVELOPE_MAX_WIRE);
	if (envelope_signed_bytes(root, &msg) == 0 &&
	    crypto_sign_detached(sig, NULL, (const unsigned char *)msg.p,
	    msg.len, sk->sk) == 0) {
		sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig),
		    sodium_base64_VARIANT_ORIGINAL);
		rc = json_object_set_new(root, "sig", json_string(b64));
	}
	buf_free(&msg);
	return rc;
}

void
envelope_free(struct envelope *e)
{
	if (e->root != NULL)
		json_decref(e->root);
	memset(e, 0, sizeof(*e));
}
