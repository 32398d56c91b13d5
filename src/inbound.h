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

/*
 * The caller's own checks, in the gate (the daemon: rate limits and
 * policy).  INBOUND_PRE_SIG runs after parse and topic, before the
 * signature is checked (known: the kid is in the keyring); POST_SIG
 * after signature and time, before the replay window, so a message
 * refused here takes no window space.  Return -1 with why set to
 * refuse.
 */
enum inbound_stage { INBOUND_PRE_SIG, INBOUND_POST_SIG };
typedef int (*inbound_gate_fn)(void *arg, enum inbound_stage,
    const struct envelope *, int known, struct refusal *why);

struct inbound {
	const char			*prefix;	/* topic prefix */
	inbound_gate_fn			 gate;		/* may be NULL */
	void				*gate_arg;
	const struct envelope_limits	*limits;
	const struct keyring		*keyring;
	struct window			*window;
	struct refusal_counters		 counters;
	uint64_t			 accepted;
	uint64_t			 staged;	/* ends since the commit */
};

/*
 * Check one received message.  len is the real payload length; payload
 * may be NULL when the transport did not copy an oversize one.  On 0,
 * e holds the verified envelope (caller frees); on -1 why names the
 * reason and the refusal is counted, and a refusal decided after the
 * signature verified (expired, future, the post-signature gate, the
 * window) names its signer (why->signer, inbound_refusal_signed).
 * The same holds for the batch steps and inbound_observe below.
 */
int inbound_accept(struct inbound *, const char *topic, const void *payload,
    size_t len, int64_t now, struct envelope *e, struct refusal *why);
/*
 * inbound_accept() in steps, so that a batch can be checked on several
 * threads (router_verify.c).  inbound_prepare is the part that is a
 * pure function of the message, the limits and the keyring: size,
 * parse, schema, topic, the key (binding, revocation) and the Ed25519
 * check over the signed bytes (into p->msg, buf_init'ed by the caller).
 * It may run on any thread and counts nothing.  Then, on the caller's
 * thread and in arrival order: begin takes its result, with the
 * pre-signature gate in its place between the topic and the key (a
 * gate that refuses a known kid makes the check wasted, not wrong;
 * the router's refuses only unknown ones, which are never checked),
 * and end takes the verdict (p->ok) through time, post-signature gate
 * and window.  begin for a whole batch before end for any, they
 * decide exactly what inbound_accept decides: neither prepare nor
 * begin reads state that end writes.  On -1 either has counted the
 * refusal and freed the envelope.
 *
 * end only stages the window entry (window_stage): its 0 is
 * provisional until inbound_accept_commit(), called after the end of
 * every message of the batch and before the caller acts on any, writes
 * the window records of all of them at once (one write()).  On 0 they
 * are admitted (and counted as accepted); on -1 none is, and the
 * caller refuses each message whose end said 0 with
 * inbound_accept_fail() (window-io, counted; frees e), acting on none.
 */
struct inbound_prep {
	struct envelope		 e;
	struct buf		 msg;	/* the signed bytes */
	enum {
		INBOUND_PREP_REFUSED,	/* why; e freed */
		INBOUND_PREP_NO_KEY,	/* why from the key; e parsed */
		INBOUND_PREP_CHECKED	/* ok: the signature's verdict */
	}			 state;
	int			 known;	/* the kid is in the keyring */
	int			 ok;
	struct refusal		 why;
};
void inbound_prepare(const struct inbound *, const char *topic,
    const void *payload, size_t len, struct inbound_prep *p);
int inbound_accept_begin(struct inbound *, struct inbound_prep *p,
    struct refusal *why);
int inbound_accept_end(struct inbound *, struct envelope *e, int ok,
    int64_t now, struct refusal *why);
int inbound_accept_commit(struct inbound *);
void inbound_accept_fail(struct inbound *, struct envelope *e,
    struct refusal *why);

/*
 * A retained meta document at {prefix}/meta/{node}/{kind} or
 * {prefix}/meta/corr/{corr}: size, parse, schema, signature, and the
 * topic agreeing with the signed from (or corr).  No freshness check
 * and no replay window: a meta document is state, re-delivered on
 * every subscribe, and its signed ts says how old it is.  A
 * zero-length payload (a cleared retained message) is not a document:
 * the caller handles it before.  On 0, *kind points into topic.
 */
int inbound_meta(struct inbound *, const char *topic, const void *payload,
    size_t len, struct envelope *e, const char **kind, struct refusal *why);

/*
 * A command seen on another node's topic: is it one of ours?  Parse
 * and topic first; if from is not one of nodes, -1 with why->reason
 * REF_NONE and nothing counted (traffic we merely see).  Otherwise the
 * signature and freshness as inbound_accept() checks them, but no
 * replay window: tracking a command twice is harmless, and others'
 * traffic must not take window space.
 */
int inbound_observe(struct inbound *, const char *topic, const void *payload,
    size_t len, int64_t now, char nodes[][NODE_MAX + 1], size_t nnodes,
    struct envelope *e, struct refusal *why);

/*
 * For a refusal decided after e's signature verified (by the gate
 * above or by its caller, e.g. a response to no command we sent):
 * why->signer gets e's signed from, id, kid, to, ch, action and corr.
 * Call it after refusal_set(), which clears them.  Never for an
 * envelope whose signature was not checked.
 */
void inbound_refusal_signed(struct refusal *why, const struct envelope *e);

/* "{prefix}/{to}/{ch}" */
void inbound_topic(char *out, size_t len, const char *prefix, const char *to,
    enum envelope_ch ch);

#endif
