/*
 * fuzz_envelope.c - the receive path of every envelope: parse and
 * schema (envelope_parse), canonical form and signed bytes (canon.c),
 * key binding and signature against a fixed test keyring, freshness,
 * and the whole gate (inbound_accept, inbound_meta) with an in-memory
 * replay window.
 *
 * Properties checked beyond "no crash":
 *  - the canonical form of anything accepted parses again and is a
 *    fixed point (what the router republishes and hands to handlers
 *    is itself acceptable);
 *  - an accepted envelope verifies the same way from its canonical
 *    form as from the wire bytes (whitespace and key order are not
 *    signed);
 *  - anything that passes the schema unsigned and names a test node
 *    as sender, once signed with that node's key, verifies.
 */
#include <string.h>

#include <sodium.h>

#include "envelope.h"
#include "inbound.h"
#include "util.h"
#include "window.h"

#include "fuzz.h"

#define FUZZ_NOW	1771143000	/* ts of the protocol test vector */

static struct envelope_limits lim;
static struct seckey keys[2];
static struct trusted_key tks[2];
static struct keyring kr;

/* The keys of tests/unit/test_envelope.c: seeds 0..31 and 100..131. */
static void
fuzz_init(void)
{
	static const char *const nodes[2] = { "turq-18789", "pg1-18890" };
	static int done;
	uint8_t seed[32];
	int i, k;

	if (done)
		return;
	if (sodium_init() < 0)
		abort();
	envelope_limits_default(&lim);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 32; i++)
			seed[i] = (uint8_t)(k * 100 + i);
		if (seckey_from_seed(seed, nodes[k], &keys[k]) != 0)
			abort();
		memcpy(tks[k].pub.pk, keys[k].pk, sizeof(tks[k].pub.pk));
		hive_strlcpy(tks[k].pub.node, keys[k].node,
		    sizeof(tks[k].pub.node));
		hive_strlcpy(tks[k].pub.kid, keys[k].kid,
		    sizeof(tks[k].pub.kid));
		tks[k].state = KEY_TRUSTED;
	}
	kr.keys = tks;
	kr.nkeys = 2;
	done = 1;
}

/* Canonical bytes of root into out (caller frees); -1 if refused. */
static int
fuzz_canonical(const json_t *root, struct buf *out)
{
	buf_init(out, 4 * ENVELOPE_MAX_WIRE);
	if (envelope_canonical(root, out) == -1 || buf_cstr(out) == NULL) {
		buf_free(out);
		return -1;
	}
	return 0;
}

/* The canonical form parses again, verifies alike (verified: 1 or 0;
 * -1 not checked), and is a fixed point. */
static void
fuzz_canonical_roundtrip(const struct envelope *e, int flags, int verified)
{
	struct envelope e2;
	struct refusal why = { 0 };
	struct buf c1, c2;

	FUZZ_ASSERT(fuzz_canonical(e->root, &c1) == 0);
	FUZZ_ASSERT(envelope_parse(c1.p, c1.len, &lim, flags, &e2, &why) == 0);
	FUZZ_ASSERT(fuzz_canonical(e2.root, &c2) == 0);
	FUZZ_ASSERT(c1.len == c2.len && memcmp(c1.p, c2.p, c1.len) == 0);
	if (verified != -1)
		FUZZ_ASSERT((envelope_verify_sig(&e2, &kr, &why) == 0) ==
		    verified);
	envelope_free(&e2);
	buf_free(&c1);
	buf_free(&c2);
}

static void
fuzz_signed(const uint8_t *data, size_t size)
{
	struct envelope e;
	struct refusal why = { 0 };
	struct buf sb;
	int verified;

	if (envelope_parse(data, size, &lim, 0, &e, &why) == -1) {
		FUZZ_ASSERT(e.root == NULL && why.reason != REF_NONE);
		return;
	}
	verified = envelope_verify_sig(&e, &kr, &why) == 0;
	(void)envelope_check_time(&e, &lim, FUZZ_NOW, &why);
	(void)envelope_window_expiry(&e, &lim);
	buf_init(&sb, 4 * ENVELOPE_MAX_WIRE);
	FUZZ_ASSERT(envelope_signed_bytes(e.root, &sb) == 0);
	buf_free(&sb);
	fuzz_canonical_roundtrip(&e, 0, verified);
	envelope_free(&e);
}

/* Unsigned: sign it as its sender (if a test node) and verify. */
static void
fuzz_unsigned(const uint8_t *data, size_t size)
{
	struct envelope e, e2;
	struct refusal why = { 0 };
	const struct seckey *k = NULL;
	struct buf c;
	json_t *copy;

	if (envelope_parse(data, size, &lim, ENVELOPE_UNSIGNED, &e, &why) == -1)
		return;
	fuzz_canonical_roundtrip(&e, ENVELOPE_UNSIGNED, -1);
	if (strcmp(e.from, keys[0].node) == 0)
		k = &keys[0];
	else if (strcmp(e.from, keys[1].node) == 0)
		k = &keys[1];
	if (k != NULL) {
		FUZZ_ASSERT((copy = json_deep_copy(e.root)) != NULL);
		FUZZ_ASSERT(envelope_sign(copy, k) == 0);
		FUZZ_ASSERT(fuzz_canonical(copy, &c) == 0);
		json_decref(copy);
		/* signing adds ~130 bytes: it may go over the wire cap */
		if (envelope_parse(c.p, c.len, &lim, 0, &e2, &why) == 0) {
			FUZZ_ASSERT(envelope_verify_sig(&e2, &kr, &why) == 0);
			envelope_free(&e2);
		} else
			FUZZ_ASSERT(why.reason == REF_OVERSIZE);
		buf_free(&c);
	}
	envelope_free(&e);
}

/* The gate, with the topic the envelope claims (or a fixed one). */
static void
fuzz_inbound(const uint8_t *data, size_t size)
{
	struct inbound in;
	static char nodes[1][NODE_MAX + 1] = { "pg1-18890" };
	struct envelope e, peek;
	struct refusal why = { 0 };
	const char *kind;
	char topic[256], meta[256];

	memset(&in, 0, sizeof(in));
	in.prefix = "hive";
	in.limits = &lim;
	in.keyring = &kr;
	if ((in.window = window_new(4)) == NULL)
		abort();
	snprintf(topic, sizeof(topic), "hive/pg1-18890/command");
	snprintf(meta, sizeof(meta), "hive/meta/turq-18789/state");
	if (envelope_parse(data, size, &lim, 0, &peek, &why) == 0) {
		inbound_topic(topic, sizeof(topic), "hive", peek.to, peek.ch);
		if (peek.corr != NULL && size % 2)
			snprintf(meta, sizeof(meta), "hive/meta/corr/%s",
			    peek.corr);
		else
			snprintf(meta, sizeof(meta), "hive/meta/%s/state",
			    peek.from);
		envelope_free(&peek);
	}
	if (inbound_observe(&in, topic, data, size, FUZZ_NOW, nodes, 1, &e,
	    &why) == 0)
		envelope_free(&e);
	if (inbound_accept(&in, topic, data, size, FUZZ_NOW, &e, &why) == 0) {
		envelope_free(&e);
		/* the same bytes again: a replay */
		FUZZ_ASSERT(inbound_accept(&in, topic, data, size, FUZZ_NOW,
		    &e, &why) == -1 && why.reason == REF_REPLAY);
	}
	envelope_free(&e);
	if (inbound_meta(&in, meta, data, size, &e, &kind, &why) == 0)
		envelope_free(&e);
	window_free(in.window);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	fuzz_signed(data, size);
	fuzz_unsigned(data, size);
	fuzz_inbound(data, size);
	return 0;
}
