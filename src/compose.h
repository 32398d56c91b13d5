/*
 * compose.h - build and sign an outgoing envelope, then check it as a
 * receiver would.  Used by hive-cli and, later, by the monitor when it
 * signs on behalf of the router: it rebuilds from fields and re-checks
 * rather than signing bytes it was handed.
 */
#ifndef HIVE_COMPOSE_H
#define HIVE_COMPOSE_H

#include <stdint.h>

#include "buf.h"
#include "envelope.h"
#include "keys.h"

struct compose_req {
	const char	*to, *ch, *text, *urgency, *action, *corr, *reply_to;
	const char	*outcome;	/* responses only; NULL: absent */
	json_t		*args;		/* borrowed; may be NULL */
	int64_t		 ttl;
	int64_t		 ts;		/* 0: now */
	const char	*id;		/* NULL: a fresh UUIDv4 */
};

/*
 * Build, schema-check, sign and self-verify.  On 0 wire holds the
 * canonical signed form and out the parsed result (caller frees).
 * On -1 err says why.
 */
int compose_envelope(const struct compose_req *, const struct seckey *,
    const struct envelope_limits *, struct buf *wire, struct envelope *out,
    char *err, size_t errlen);

/* create_reply semantics: to = orig from, ch = response, corr = orig corr
 * or else orig id, replyTo = orig id. */
void compose_reply(const struct envelope *orig, const char *text,
    struct compose_req *req);

void compose_uuid4(char out[37]);

#endif
