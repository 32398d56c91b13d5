/*
 * metaview.h - the router's view of the cluster's retained meta
 * documents ({prefix}/meta/...), each verified by inbound_meta(): node
 * state, rosters, action results and correlation entries.  What
 * hive-cli status, roster, pending and sync-status show.
 *
 * Bounded: at most METAVIEW_CAP documents, texts cut at
 * METAVIEW_TEXT_MAX bytes (flagged).  Each signer has a share: a peer
 * holds at most METAVIEW_SHARE documents, and peers together leave
 * METAVIEW_RESERVED slots to the box's own nodes, so no peer can crowd
 * out the others or the box itself.  The latest document delivered
 * for a topic replaces the previous one, as a retained message does on
 * the broker; a zero-length retained message removes it.
 */
#ifndef HIVE_METAVIEW_H
#define HIVE_METAVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

#define METAVIEW_CAP		2048
#define METAVIEW_TEXT_MAX	8192
#define METAVIEW_SHARE		128	/* documents one peer signed */
#define METAVIEW_RESERVED	256	/* slots only our own nodes take */
#define METAVIEW_KEY_MAX	(NODE_MAX + 1 + ENVELOPE_ID_MAX)

struct meta_doc {
	char		 key[METAVIEW_KEY_MAX + 1];	/* "node/kind", "corr/ID" */
	char		 kind[ENVELOPE_ID_MAX + 1];	/* state, roster, an action
							   name, or "corr" */
	char		 from[NODE_MAX + 1];
	char		 kid[17];
	int64_t		 ts;
	char		*text;		/* the signed text, maybe cut */
	int		 truncated;
	int		 used;
};

struct metaview {
	struct meta_doc	 d[METAVIEW_CAP];
	size_t		 n;
	uint64_t	 dropped;	/* documents that found no room */
};

void metaview_init(struct metaview *);
void metaview_free(struct metaview *);

/* key: the topic after "{prefix}/meta/"; kind: its last level (or
 * "corr"); local: signed by one of our own nodes (no share, and the
 * reserved slots).  Returns 0, METAVIEW_FULL (counted in dropped) or
 * METAVIEW_OVER_SHARE (the signer holds its share already). */
#define METAVIEW_FULL		(-1)
#define METAVIEW_OVER_SHARE	(-2)
int metaview_put(struct metaview *, const char *key, const char *kind,
    const struct envelope *, int local);
void metaview_remove(struct metaview *, const char *key);
const struct meta_doc *metaview_get(const struct metaview *, const char *key);

#endif
