/*
 * inbound.h - the one gate every received envelope passes, in hive-cli
 * --wait, the test responder and the daemon's router alike:
 * size, parse and schema, topic agreement, key binding and signature,
 * freshness, replay window.  Only after all of that does a caller look
 * at what the envelope says.
 */
#ifndef HIVE_INBOUND_H
#define HIVE_INBOUND_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "keys.h"
#include "refusal.h"
#include "window.h"

struct inbound {
	const char			*prefix;	/* topic prefix */
	const struct envelope_limits	*limits;
	const struct keyring		*keyring;
	struct window			*window;
	struct refusal_counters		 counters;
	uint64_t			 accepted;
};

/*
 * Check one received message.  len is the real payload length; payload
 * may be NULL when the transport did not copy an oversize one.  On 0,
 * e holds the verified envelope (caller frees); on -1 why names the
 * reason and the refusal is counted.
 */
int inbound_accept(struct inbound *, const char *topic, const void *payload,
    size_t len, int64_t now, struct envelope *e, struct refusal *why);

/* "{prefix}/{to}/{ch}" */
void inbound_topic(char *out, size_t len, const char *prefix, const char *to,
    enum envelope_ch ch);

#endif
