/*
 * refusal.h - the closed list of reasons an input is refused.
 *
 * Every refusal carries one of these names into logs, counters and
 * hive-cli's verdicts.  The names are part of the user interface:
 * scripts and dashboards match on them, so never rename one.
 */
#ifndef HIVE_REFUSAL_H
#define HIVE_REFUSAL_H

#include <stdint.h>

enum refusal_reason {
	REF_NONE = 0,
	REF_OVERSIZE,		/* more than 64 KiB on the wire */
	REF_TOO_DEEP,		/* nesting deeper than 8 */
	REF_BAD_JSON,		/* not one well-formed JSON object */
	REF_BAD_UTF8,		/* invalid UTF-8 in the raw bytes */
	REF_DUPLICATE_KEY,	/* a key twice in one object */
	REF_BAD_NUMBER,		/* a float, or an integer beyond +-(2^53-1) */
	REF_BAD_VERSION,	/* v is not 2 */
	REF_SCHEMA,		/* missing/unknown field, wrong type or charset */
	REF_UNKNOWN_KEY,	/* no trusted key with that kid */
	REF_REVOKED,		/* kid or node revoked in the keyring */
	REF_KEY_NODE_MISMATCH,	/* kid is bound to another node than from */
	REF_BAD_SIGNATURE,	/* Ed25519 verification failed */
	REF_EXPIRED,		/* now > ts + ttl */
	REF_FUTURE,		/* ts more than max_skew ahead */
	REF_REPLAY,		/* (from, id) seen within its window */
	REF_WINDOW_FULL,	/* window at capacity: fail closed */
	REF_WINDOW_IO,		/* window could not be persisted: fail closed */
	REF_WINDOW_RESET,	/* ts not after the floor of a reset window */
	REF_WINDOW_CLOCK,	/* our clock went back behind what the window
				   already forgot: fail closed */
	REF_TOPIC_MISMATCH,	/* topic disagrees with the signed to/ch */
	REF_NOT_FOR_US,		/* signed to a node this daemon does not serve */
	REF_UNSOLICITED,	/* a response to no command this box sent */
	REF_META_MISMATCH,	/* meta topic disagrees with the signed from/corr */
	REF_POLICY_DENIED,	/* the policy does not let from send this */
	REF_RATE_LIMITED,	/* the sender (or unknown senders) over its rate */
	REF_SHARE_FULL,		/* the sender holds its share of a bounded
				   table already (meta documents, the
				   replay window) */
	REF__COUNT
};

#define REFUSAL_FIELD_MAX	64	/* a node id, an id, a kid, an action */

/*
 * Who signed what was refused, for the audit log: set (verified = 1)
 * only by a refusal decided after the Ed25519 check passed, from the
 * envelope that passed it (inbound_refusal_signed).  Before that check
 * from, id and kid are whatever the publisher wrote, so they are not
 * kept at all; refusal_set() clears verified.  Fields the envelope
 * does not have (action, corr) are empty.
 */
struct refusal_signer {
	int	 verified;
	char	 from[REFUSAL_FIELD_MAX + 1];
	char	 id[REFUSAL_FIELD_MAX + 1];
	char	 kid[REFUSAL_FIELD_MAX + 1];
	char	 to[REFUSAL_FIELD_MAX + 1];
	char	 ch[16];
	char	 action[REFUSAL_FIELD_MAX + 1];
	char	 corr[REFUSAL_FIELD_MAX + 1];
};

struct refusal {
	enum refusal_reason reason;
	char detail[128];	/* which field or rule; never message text */
	struct refusal_signer signer;
};

const char *refusal_name(enum refusal_reason);
/* reason and detail; the signer cleared (not verified) */
void refusal_set(struct refusal *, enum refusal_reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Per-reason counters, for status output and tests. */
struct refusal_counters {
	uint64_t n[REF__COUNT];
};

void refusal_count(struct refusal_counters *, enum refusal_reason);
uint64_t refusal_total(const struct refusal_counters *);

#endif
