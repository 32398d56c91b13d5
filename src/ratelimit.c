/*
 * ratelimit.c - token buckets (see ratelimit.h).
 */
#include <string.h>

#include "ratelimit.h"
#include "util.h"

void
ratelimit_init(struct ratelimit *rl)
{
	memset(rl, 0, sizeof(*rl));
}

static struct ratelimit_bucket *
ratelimit_bucket(struct ratelimit *rl, const char *key, uint32_t burst,
    int64_t now_ms)
{
	struct ratelimit_bucket *idle = &rl->b[0];
	size_t i;

	for (i = 0; i < RATELIMIT_SLOTS; i++) {
		if (strcmp(rl->b[i].key, key) == 0)
			return &rl->b[i];
		if (rl->b[i].key[0] == '\0' || (idle->key[0] != '\0' &&
		    rl->b[i].last_ms < idle->last_ms))
			idle = &rl->b[i];
	}
	hive_strlcpy(idle->key, key, sizeof(idle->key));
	idle->tokens = burst;
	idle->last_ms = now_ms;
	return idle;
}

int
ratelimit_take(struct ratelimit *rl, const char *key, double per_sec,
    uint32_t burst, int64_t now_ms)
{
	struct ratelimit_bucket *b = ratelimit_bucket(rl, key, burst, now_ms);

	if (now_ms > b->last_ms) {
		b->tokens += per_sec * (double)(now_ms - b->last_ms) / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	b->last_ms = now_ms;
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}
