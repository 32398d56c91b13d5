/*
 * refusal.c - names of refusal reasons.
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "refusal.h"

static const char *const refusal_names[REF__COUNT] = {
	[REF_NONE] = "none",
	[REF_OVERSIZE] = "oversize",
	[REF_TOO_DEEP] = "too-deep",
	[REF_BAD_JSON] = "bad-json",
	[REF_BAD_UTF8] = "bad-utf8",
	[REF_DUPLICATE_KEY] = "duplicate-key",
	[REF_BAD_NUMBER] = "bad-number",
	[REF_BAD_VERSION] = "bad-version",
	[REF_SCHEMA] = "schema",
	[REF_UNKNOWN_KEY] = "unknown-key",
	[REF_REVOKED] = "revoked",
	[REF_KEY_NODE_MISMATCH] = "key-node-mismatch",
	[REF_BAD_SIGNATURE] = "bad-signature",
	[REF_EXPIRED] = "expired",
	[REF_FUTURE] = "future",
	[REF_REPLAY] = "replay",
	[REF_WINDOW_FULL] = "window-full",
	[REF_WINDOW_IO] = "window-io",
	[REF_WINDOW_RESET] = "window-reset",
	[REF_WINDOW_CLOCK] = "window-clock",
	[REF_TOPIC_MISMATCH] = "topic-mismatch",
	[REF_NOT_FOR_US] = "not-for-us",
	[REF_UNSOLICITED] = "unsolicited",
	[REF_META_MISMATCH] = "meta-mismatch",
	[REF_POLICY_DENIED] = "policy-denied",
	[REF_RATE_LIMITED] = "rate-limited",
	[REF_SHARE_FULL] = "share-full",
};

const char *
refusal_name(enum refusal_reason r)
{
	if ((unsigned)r >= REF__COUNT || refusal_names[r] == NULL)
		fatalx("refusal_name: impossible reason %d", (int)r);
	return refusal_names[r];
}

void
refusal_set(struct refusal *why, enum refusal_reason r, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL)
		return;
	why->reason = r;
	why->detail[0] = '\0';
	why->signer.verified = 0;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(why->detail, sizeof(why->detail), fmt, ap);
		va_end(ap);
	}
}

void
refusal_count(struct refusal_counters *c, enum refusal_reason r)
{
	if ((unsigned)r >= REF__COUNT)
		fatalx("refusal_count: impossible reason %d", (int)r);
	c->n[r]++;
}

uint64_t
refusal_total(const struct refusal_counters *c)
{
	uint64_t t = 0;
	int i;

	for (i = 0; i < REF__COUNT; i++)
		t += c->n[i];
	return t;
}
