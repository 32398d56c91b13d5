/*
 * corr.h - the router's correlation store: the commands this box sent,
 * so that a response is accepted only if it answers one of them, and
 * can be shown to the agent together with what was asked.
 *
 * In memory and bounded; time is passed in.  The retained documents at
 * {prefix}/meta/corr/{corr} (signed by us while a command is pending)
 * let a restarted router fill the store again: see router.c.
 */
#ifndef HIVE_CORR_H
#define HIVE_CORR_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

#define CORR_CAP		4096
#define CORR_TEXT_MAX		200	/* of the command, for enrichment */
#define CORR_SESSION_MAX	128

struct corr_entry {
	char		 corr[ENVELOPE_ID_MAX + 1];	/* what replies carry */
	char		 id[ENVELOPE_ID_MAX + 1];	/* the command's id */
	char		 from[NODE_MAX + 1];		/* our node that sent it */
	char		 kid[KID_HEX_LEN + 1];		/* ...and its key */
	char		 to[NODE_MAX + 1];		/* addressee or "all" */
	char		 text[CORR_TEXT_MAX + 1];	/* cut at a UTF-8 boundary */
	char		 session[CORR_SESSION_MAX + 1];	/* "" : none */
	int		 ch;		/* CH_COMMAND, or CH_SYNC (an action) */
	int64_t		 sent_at, expires;
	unsigned	 responses;
	int		 in_progress;	/* the addressee said it works on it */
	int		 failed;	/* ...or that it never reached its agent */
	uint32_t	 client;	/* control client waiting, or 0 */
	unsigned	 wanted;	/* replies the client waits for */
	int64_t		 wait_until;	/* when the client stops waiting */
	int		 used;
};

struct corr_store {
	struct corr_entry	 e[CORR_CAP];
};

void corr_init(struct corr_store *);

/*
 * Track a command, or a sync with an action (verified, signed by a
 * local node: nothing a peer signed ever creates an entry): both are answered with responses.  The key is its corr,
 * or its id when it has none (create_reply copies exactly that).  An
 * entry for the same corr and sender is refreshed, keeping its session
 * and waiter.  Returns the entry, or NULL if the store is full.
 */
struct corr_entry *corr_track(struct corr_store *, const struct envelope *cmd,
    int64_t ttl, int64_t now);

/*
 * The entry a verified response answers: same corr, sent to the node
 * that sent the command, from the addressee (any node if it went to
 * "all"), not expired.  NULL: unsolicited.
 */
struct corr_entry *corr_match(struct corr_store *, const struct envelope *resp,
    int64_t now);

/* The entry for corr sent by from, or NULL. */
struct corr_entry *corr_find(struct corr_store *, const char *corr,
    const char *from);

/* Remove expired entries, calling fn on each first (may be NULL). */
void corr_expire(struct corr_store *, int64_t now,
    void (*fn)(struct corr_entry *, void *), void *arg);

void corr_drop(struct corr_entry *);
size_t corr_count(const struct corr_store *);

/* Copy at most max bytes of s into out (size max+1), never splitting a
 * UTF-8 sequence. */
void corr_cut_utf8(char *out, size_t max, const char *s);

/* A session key: [A-Za-z0-9._:-]{1,128}, never sent on the bus. */
int corr_valid_session(const char *);

#endif
