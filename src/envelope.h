/*
 * envelope.h - the v2 envelope: parse, validate, canonicalise, sign,
 * verify.  Pure functions over memory: no I/O, no clock (callers pass
 * "now"), so this is the piece fuzzers and unit tests hammer.
 *
 * Normative description: docs/protocol.md.
 */
#ifndef HIVE_ENVELOPE_H
#define HIVE_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "keys.h"
#include "refusal.h"

#define ENVELOPE_VERSION	2
#define ENVELOPE_MAX_WIRE	65536	/* bytes on the wire */
#define ENVELOPE_MAX_DEPTH	8
#define ENVELOPE_ID_MAX		64
#define ENVELOPE_ACTION_MAX	64
#define ENVELOPE_SIG_PREFIX	"hive-envelope-v2\n"
#define ENVELOPE_SAFE_INT	9007199254740991LL	/* 2^53 - 1 */
#define ENVELOPE_DEFAULT_MAX_TTL	86400
#define ENVELOPE_DEFAULT_MAX_SKEW	60

enum envelope_ch {
	CH_COMMAND = 0, CH_RESPONSE, CH_SYNC, CH_HEARTBEAT, CH_STATUS,
	CH_ALERT, CH__COUNT
};

struct envelope_limits {
	int64_t	max_ttl;	/* ttl must be 1..max_ttl */
	int64_t	max_skew;	/* ts may be this far in the future */
};

/* A parsed envelope.  Strings point into root and live as long as it. */
struct envelope {
	json_t		*root;
	int64_t		 ts;
	int64_t		 ttl;
	const char	*id;
	const char	*from;
	const char	*to;
	enum envelope_ch ch;
	int		 urgency_now;	/* 1 = "now", 0 = "later" */
	const char	*text;
	size_t		 text_len;
	const char	*corr;		/* NULL if absent or null */
	const char	*reply_to;	/* NULL if absent or null */
	const char	*outcome;	/* responses only; NULL if absent */
	const char	*action;	/* NULL if absent */
	json_t		*args;		/* NULL if absent */
	const char	*kid;
	int		 has_sig;
	uint8_t		 sig[KEY_SIG_BYTES];
};

/* envelope_parse() flags */
#define ENVELOPE_UNSIGNED	0x1	/* sig may be absent (before signing) */

void envelope_limits_default(struct envelope_limits *);

/*
 * Parse and schema-check wire bytes.  On success fills e (caller frees
 * with envelope_free) and returns 0; otherwise returns -1 with a named
 * reason in why and e->root == NULL.
 */
int envelope_parse(const void *buf, size_t len,
    const struct envelope_limits *, int flags, struct envelope *e,
    struct refusal *why);

/* Schema-check an already built object (used before signing). */
int envelope_from_json(json_t *root, const struct envelope_limits *,
    int flags, struct envelope *e, struct refusal *why);

/* Key binding, revocation and signature.  0 ok, -1 refused. */
int envelope_verify_sig(const struct envelope *, const struct keyring *,
    struct refusal *why);
/*
 * envelope_verify_sig() in three steps, so that the middle one, the
 * Ed25519 check, can run on another thread (router_verify.c): the key
 * (binding, revocation; NULL and why if refused), the check over
 * envelope_signed_bytes() (1 good, 0 bad; no state touched), and what
 * follows it (bad-signature, the node's revocation floor).
 */
const uint8_t *envelope_verify_key(const struct envelope *,
    const struct keyring *, struct refusal *why);
int envelope_verify_bytes(const uint8_t sig[KEY_SIG_BYTES],
    const struct buf *msg, const uint8_t *pk);
int envelope_verify_done(const struct envelope *, const struct keyring *,
    int ok, struct refusal *why);

/* Freshness: future (ts > now + max_skew) and expiry (now > ts + ttl). */
int envelope_check_time(const struct envelope *,
    const struct envelope_limits *, int64_t now, struct refusal *why);

/* ts + ttl + max_skew: how long the replay window must remember it. */
int64_t envelope_window_expiry(const struct envelope *,
    const struct envelope_limits *);

/* The bytes that are signed: prefix + JCS(envelope without sig). */
int envelope_signed_bytes(const json_t *root, struct buf *out);

/* The canonical form of the whole envelope (sig included): what is
 * published, printed, handed to handlers and the agent. */
int envelope_canonical(const json_t *root, struct buf *out);

/* Set kid and sig on root (replacing any) using sk.  0 or -1. */
int envelope_sign(json_t *root, const struct seckey *sk);

const char *envelope_ch_name(enum envelope_ch);
int envelope_ch_parse(const char *, enum envelope_ch *);
int envelope_valid_id(const char *);
int envelope_valid_action(const char *);
int envelope_valid_outcome(const char *);
/* A response whose outcome says the remote work failed (not "ok"). */
int envelope_failed(const struct envelope *);

void envelope_free(struct envelope *);

#endif
