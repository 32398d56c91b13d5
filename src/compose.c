/*
 * compose.c - outgoing envelopes.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "compose.h"
#include "log.h"
#include "util.h"

void
compose_uuid4(char out[37])
{
	uint8_t b[16];

	randombytes_buf(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int
compose_str(json_t *o, const char *k, const char *v)
{
	if (v == NULL)
		return 0;
	return json_object_set_new(o, k, json_string(v));
}

static json_t *
compose_build(const struct compose_req *r, const char *from)
{
	char id[37];
	json_t *o;

	if ((o = json_object()) == NULL)
		fatal("json_object");
	if (r->id == NULL)
		compose_uuid4(id);
	json_object_set_new(o, "v", json_integer(ENVELOPE_VERSION));
	json_object_set_new(o, "ts", json_integer(r->ts ? r->ts :
	    (json_int_t)time(NULL)));
	json_object_set_new(o, "ttl", json_integer(r->ttl));
	if (compose_str(o, "id", r->id ? r->id : id) ||
	    compose_str(o, "from", from) || compose_str(o, "to", r->to) ||
	    compose_str(o, "ch", r->ch) || compose_str(o, "text", r->text) ||
	    compose_str(o, "urgency", r->urgency) ||
	    compose_str(o, "action", r->action) ||
	    compose_str(o, "corr", r->corr) ||
	    compose_str(o, "replyTo", r->reply_to) ||
	    compose_str(o, "outcome", r->outcome) ||
	    (r->args && json_object_set(o, "args", r->args))) {
		json_decref(o);
		return NULL;	/* json_string refuses invalid UTF-8 */
	}
	return o;
}

/* A one-key keyring holding our own public key. */
static void
compose_self(const struct seckey *sk, struct keyring *kr,
    struct trusted_key *tk)
{
	memset(kr, 0, sizeof(*kr));
	memset(tk, 0, sizeof(*tk));
	memcpy(tk->pub.pk, sk->pk, sizeof(tk->pub.pk));
	hive_strlcpy(tk->pub.node, sk->node, sizeof(tk->pub.node));
	hive_strlcpy(tk->pub.kid, sk->kid, sizeof(tk->pub.kid));
	kr->keys = tk;
	kr->nkeys = 1;
}

int
compose_envelope(const struct compose_req *r, const struct seckey *sk,
    const struct envelope_limits *lim, struct buf *wire, struct envelope *out,
    char *err, size_t errlen)
{
	struct refusal why = { 0 };
	struct trusted_key tk;
	struct keyring self;
	struct envelope e;
	json_t *o;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((o = compose_build(r, sk->node)) == NULL) {
		snprintf(err, errlen, "a field is not valid UTF-8");
		return -1;
	}
	if (envelope_from_json(o, lim, ENVELOPE_UNSIGNED, &e, &why) == -1)
		snprintf(err, errlen, "envelope refused: %s (%s)",
		    refusal_name(why.reason), why.detail);
	else if (envelope_sign(o, sk) == -1 || envelope_canonical(o, wire))
		snprintf(err, errlen, "signing failed or envelope too large");
	else {
		/* what leaves is what a receiver accepts */
		compose_self(sk, &self, &tk);
		if (envelope_parse(wire->p, wire->len, lim, 0, out, &why) ||
		    envelope_verify_sig(out, &self, &why))
			snprintf(err, errlen, "self-check failed: %s (%s)",
			    refusal_name(why.reason), why.detail);
		else
			rc = 0;
	}
	envelope_free(&e);
	json_decref(o);
	return rc;
}

void
compose_reply(const struct envelope *orig, const char *text,
    struct compose_req *req)
{
	req->to = orig->from;
	req->ch = "response";
	req->corr = orig->corr != NULL ? orig->corr : orig->id;
	req->reply_to = orig->id;
	req->text = text;
}
