/*
 * inbound.c - full verification of one received message.
 *
 * The topic must agree with the signed to/ch: the topic is chosen by
 * whoever published (or a broker in the middle) and is not signed, so
 * a signed command for another node re-published on our topic is
 * refused here rather than acted on.
 */
#include <stdio.h>
#include <string.h>

#include "inbound.h"
#include "log.h"

_Static_assert(NODE_MAX <= REFUSAL_FIELD_MAX &&
    ENVELOPE_ID_MAX <= REFUSAL_FIELD_MAX && KID_HEX_LEN <= REFUSAL_FIELD_MAX &&
    ENVELOPE_ACTION_MAX <= REFUSAL_FIELD_MAX,
    "a refusal's signer holds every signed name whole");

/*
 * The refusal names who signed e: e's signature verified, so from, id
 * and kid are the signer's own, and the auditor can tell which peer
 * was refused.  Copied: e is freed before the refusal is said.
 */
void
inbound_refusal_signed(struct refusal *why, const struct envelope *e)
{
	struct refusal_signer *s = &why->signer;

	memset(s, 0, sizeof(*s));
	snprintf(s->from, sizeof(s->from), "%s", e->from);
	snprintf(s->id, sizeof(s->id), "%s", e->id);
	snprintf(s->kid, sizeof(s->kid), "%s", e->kid);
	snprintf(s->to, sizeof(s->to), "%s", e->to);
	snprintf(s->ch, sizeof(s->ch), "%s", envelope_ch_name(e->ch));
	snprintf(s->action, sizeof(s->action), "%s", e->action ? e->action :
	    "");
	snprintf(s->corr, sizeof(s->corr), "%s", e->corr ? e->corr : "");
	s->verified = 1;
}

void
inbound_topic(char *out, size_t len, const char *prefix, const char *to,
    enum envelope_ch ch)
{
	snprintf(out, len, "%s/%s/%s", prefix, to, envelope_ch_name(ch));
}

/* stage: window_stage() (a batch: inbound_accept_commit), else admit */
static int
inbound_window(struct inbound *in, const struct envelope *e, int64_t now,
    int stage, struct refusal *why)
{
	int64_t expires = envelope_window_expiry(e, in->limits);

	switch (stage ? window_stage(in->window, e->from, e->id, e->ts,
	    expires, now) : window_admit(in->window, e->from, e->id, e->ts,
	    expires, now)) {
	case WINDOW_OK:
		return 0;
	case WINDOW_REPLAY:
		refusal_set(why, REF_REPLAY, NULL);
		return -1;
	case WINDOW_FULL:
		refusal_set(why, REF_WINDOW_FULL, NULL);
		return -1;
	case WINDOW_SHARE_FULL:
		refusal_set(why, REF_SHARE_FULL, "window from=%s holds %zu",
		    e->from, window_held(in->window, e->from));
		return -1;
	case WINDOW_BEFORE_FLOOR:
		refusal_set(why, REF_WINDOW_RESET, "ts=%lld", (long long)e->ts);
		return -1;
	case WINDOW_CLOCK:
		refusal_set(why, REF_WINDOW_CLOCK, "expires=%lld",
		    (long long)envelope_window_expiry(e, in->limits));
		return -1;
	case WINDOW_IOERR:
		break;
	}
	refusal_set(why, REF_WINDOW_IO, NULL);
	return -1;
}

/* Size, parse and schema, topic agreement. */
static int
inbound_parse(const struct inbound *in, const char *topic, const void *payload,
    size_t len, struct envelope *e, struct refusal *why)
{
	char want[512];

	memset(e, 0, sizeof(*e));
	if (payload == NULL || len > ENVELOPE_MAX_WIRE) {
		refusal_set(why, REF_OVERSIZE, "%zu bytes", len);
		return -1;
	}
	if (envelope_parse(payload, len, in->limits, 0, e, why) == -1)
		return -1;
	inbound_topic(want, sizeof(want), in->prefix, e->to, e->ch);
	if (strcmp(want, topic) != 0) {
		refusal_set(why, REF_TOPIC_MISMATCH, "to=%s ch=%s", e->to,
		    envelope_ch_name(e->ch));
		return -1;
	}
	return 0;
}

int
inbound_observe(struct inbound *in, const char *topic, const void *payload,
    size_t len, int64_t now, char nodes[][NODE_MAX + 1], size_t nnodes,
    struct envelope *e, struct refusal *why)
{
	size_t i;

	why->reason = REF_NONE;
	if (inbound_parse(in, topic, payload, len, e, why) == 0) {
		for (i = 0; i < nnodes && strcmp(nodes[i], e->from) != 0; i++)
			;
		if (i == nnodes) {
			envelope_free(e);
			why->reason = REF_NONE;	/* not ours: not our business */
			return -1;
		}
		if (envelope_verify_sig(e, in->keyring, why) == 0) {
			if (envelope_check_time(e, in->limits, now, why) == 0)
				return 0;
			inbound_refusal_signed(why, e);
		}
		/* a command claiming to be ours that is not: say so */
		refusal_count(&in->counters, why->reason);
		envelope_free(e);
		return -1;
	}
	envelope_free(e);
	why->reason = REF_NONE;	/* malformed traffic for others: ignored */
	return -1;
}

/*
 * Everything after the signature verified: freshness, the caller's
 * post-signature gate, and last the window (stage: staged, for a
 * batch), so only signed, fresh, admitted envelopes take window space.
 * A refusal here names its signer.
 */
static int
inbound_signed(struct inbound *in, const struct envelope *e, int64_t now,
    int stage, struct refusal *why)
{
	if (envelope_check_time(e, in->limits, now, why) == 0 &&
	    (in->gate == NULL || in->gate(in->gate_arg, INBOUND_POST_SIG, e,
	    1, why) == 0) && inbound_window(in, e, now, stage, why) == 0)
		return 0;
	inbound_refusal_signed(why, e);
	return -1;
}

static int
inbound_check(struct inbound *in, const char *topic, const void *payload,
    size_t len, int64_t now, struct envelope *e, struct refusal *why)
{
	if (inbound_parse(in, topic, payload, len, e, why) == -1)
		return -1;
	if (in->gate != NULL && in->gate(in->gate_arg, INBOUND_PRE_SIG, e,
	    keyring_find(in->keyring, e->kid) != NULL, why) == -1)
		return -1;
	if (envelope_verify_sig(e, in->keyring, why) == -1)
		return -1;
	return inbound_signed(in, e, now, 0, why);
}

/* Split "{prefix}/meta/{a}/{b}": pointers into topic, lengths. */
static int
inbound_meta_topic(const char *prefix, const char *topic, const char **a,
    size_t *alen, const char **b)
{
	size_t n = strlen(prefix);
	const char *slash;

	if (strncmp(topic, prefix, n) != 0 || strncmp(topic + n, "/meta/", 6))
		return -1;
	*a = topic + n + 6;
	if ((slash = strchr(*a, '/')) == NULL || strchr(slash + 1, '/'))
		return -1;
	*alen = (size_t)(slash - *a);
	*b = slash + 1;
	return *alen > 0 && **b != '\0' ? 0 : -1;
}

static int
inbound_meta_check(struct inbound *in, const char *topic, const void *payload,
    size_t len, struct envelope *e, const char **kind, struct refusal *why)
{
	const char *a, *b;
	size_t alen;

	memset(e, 0, sizeof(*e));
	if (payload == NULL || len > ENVELOPE_MAX_WIRE) {
		refusal_set(why, REF_OVERSIZE, "%zu bytes", len);
		return -1;
	}
	if (inbound_meta_topic(in->prefix, topic, &a, &alen, &b) == -1) {
		refusal_set(why, REF_META_MISMATCH, "not a meta topic");
		return -1;
	}
	if (envelope_parse(payload, len, in->limits, 0, e, why) == -1)
		return -1;
	if (alen == 4 && strncmp(a, "corr", 4) == 0) {
		if (e->corr == NULL || strcmp(e->corr, b) != 0) {
			refusal_set(why, REF_META_MISMATCH, "corr");
			return -1;
		}
	} else if (strlen(e->from) != alen || strncmp(e->from, a, alen) != 0 ||
	    (strcmp(b, "state") != 0 && strcmp(b, "roster") != 0 &&
	    !envelope_valid_action(b))) {
		refusal_set(why, REF_META_MISMATCH, "from=%s", e->from);
		return -1;
	}
	*kind = b;
	return envelope_verify_sig(e, in->keyring, why);
}

int
inbound_meta(struct inbound *in, const char *topic, const void *payload,
    size_t len, struct envelope *e, const char **kind, struct refusal *why)
{
	if (inbound_meta_check(in, topic, payload, len, e, kind, why) == 0)
		return 0;
	envelope_free(e);
	refusal_count(&in->counters, why->reason);
	return -1;
}

int
inbound_accept(struct inbound *in, const char *topic, const void *payload,
    size_t len, int64_t now, struct envelope *e, struct refusal *why)
{
	if (inbound_check(in, topic, payload, len, now, e, why) == 0) {
		in->accepted++;
		return 0;
	}
	envelope_free(e);
	refusal_count(&in->counters, why->reason);
	return -1;
}

/*
 * inbound_check up to and including the Ed25519 check, as far as it is
 * a pure function of the message, the limits and the keyring: it runs
 * on any thread (router_verify.c), counts nothing and writes only *p.
 */
void
inbound_prepare(const struct inbound *in, const char *topic,
    const void *payload, size_t len, struct inbound_prep *p)
{
	const uint8_t *pk;

	p->known = 0;
	p->ok = 0;
	memset(&p->why, 0, sizeof(p->why));
	if (inbound_parse(in, topic, payload, len, &p->e, &p->why) == -1) {
		envelope_free(&p->e);
		p->state = INBOUND_PREP_REFUSED;
		return;
	}
	/* one lookup: the kid is known unless the key step says unknown
	 * (a parse without ENVELOPE_UNSIGNED leaves kid and sig set) */
	pk = envelope_verify_key(&p->e, in->keyring, &p->why);
	p->known = pk != NULL || p->why.reason != REF_UNKNOWN_KEY;
	if (pk == NULL) {
		p->state = INBOUND_PREP_NO_KEY;
		return;
	}
	if (envelope_signed_bytes(p->e.root, &p->msg) == -1)
		fatalx("inbound: canonical form of a parsed envelope");
	p->ok = envelope_verify_bytes(p->e.sig, &p->msg, pk);
	p->state = INBOUND_PREP_CHECKED;
}

/*
 * What inbound_prepare found, taken in arrival order: a refusal
 * counted, and the pre-signature gate in its place between the topic
 * and the key, so the reason is the one inbound_check would give.
 */
int
inbound_accept_begin(struct inbound *in, struct inbound_prep *p,
    struct refusal *why)
{
	if (p->state == INBOUND_PREP_REFUSED)
		*why = p->why;
	else if (in->gate != NULL && in->gate(in->gate_arg, INBOUND_PRE_SIG,
	    &p->e, p->known, why) == -1)
		envelope_free(&p->e);
	else if (p->state == INBOUND_PREP_NO_KEY) {
		*why = p->why;
		envelope_free(&p->e);
	} else
		return 0;
	refusal_count(&in->counters, why->reason);
	return -1;
}

/*
 * The rest of inbound_check, after the check said ok (1) or not; the
 * window entry only staged: counted as accepted at the commit.
 */
int
inbound_accept_end(struct inbound *in, struct envelope *e, int ok,
    int64_t now, struct refusal *why)
{
	if (envelope_verify_done(e, in->keyring, ok, why) == 0 &&
	    inbound_signed(in, e, now, 1, why) == 0) {
		in->staged++;
		return 0;
	}
	envelope_free(e);
	refusal_count(&in->counters, why->reason);
	return -1;
}

int
inbound_accept_commit(struct inbound *in)
{
	uint64_t n = in->staged;

	in->staged = 0;
	if (window_commit(in->window) == -1)
		return -1;
	in->accepted += n;
	return 0;
}

/* The same reason, counter and detail as a window_admit() failure. */
void
inbound_accept_fail(struct inbound *in, struct envelope *e,
    struct refusal *why)
{
	refusal_set(why, REF_WINDOW_IO, NULL);
	inbound_refusal_signed(why, e);
	refusal_count(&in->counters, why->reason);
	envelope_free(e);
}
