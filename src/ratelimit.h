/*
 * ratelimit.h - token buckets per sender (policy "rate" lines).
 *
 * A bucket holds up to burst tokens and refills at per_sec; a message
 * takes one.  Buckets live in a fixed table keyed by sender; when it
 * is full the bucket idle longest is reused (a sender it belonged to
 * starts again with a full bucket, which only errs on the side of the
 * sender that has been quiet the longest).
 */
#ifndef HIVE_RATELIMIT_H
#define HIVE_RATELIMIT_H

#include <stdint.h>

#include "keys.h"

#define RATELIMIT_SLOTS	512

struct ratelimit_bucket {
	char		 key[NODE_MAX + 1];	/* "" : free */
	double		 tokens;
	int64_t		 last_ms;
};

struct ratelimit {
	struct ratelimit_bucket	 b[RATELIMIT_SLOTS];
};

void ratelimit_init(struct ratelimit *);

/* 1: a token was taken (let it through), 0: over the rate. */
int ratelimit_take(struct ratelimit *, const char *key, double per_sec,
    uint32_t burst, int64_t now_ms);

#endif
