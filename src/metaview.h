/*
 * metaview.h - the router's view of the cluster's retained meta
 * documents ({prefix}/meta/...), each verified by inbound_meta(): node
 * state, rosters, action results and correlation entries.  What
 * hive-cli status, roster, pending and sync-status show.
 *
 * Bounded: at most METAVIEW_CAP documents, texts cut at
 * METAVIEW_TEXT_MAX bytes (flagged).  The latest document delivered
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
 * "corr").  Returns 0, or -1 if the view is full (counted). */
int metaview_put(struct metaview *, const char *key, const char *kind,
    const struct envelope *);
void metaview_remove(struct metaview *, const char *key);
const struct meta_doc *metaview_get(const struct metaview *, const char *key);

#endif
