/*
 * ratelog.c - token buckets that keep refusal floods out of the logs.
 *
 * Integer arithmetic only: a bucket holds tokens in units of
 * 1/per_seconds of a line, so one line costs `per` units, a full
 * bucket is burst * per units and every second adds `burst` units.
 * With both capped at 10^6 nothing overflows, whatever the time gap.
 */
#include <string.h>

#include "ratelog.h"

static int64_t
ratelog_clamp(int v)
{
	if (v < 1)
		return 1;
	if (v > RATELOG_MAX)
		return RATELOG_MAX;
	return v;
}

void
ratelog_init(struct ratelog *r, int burst, int per_seconds)
{
	memset(r, 0, sizeof(*r));
	r->burst = ratelog_clamp(burst);
	r->per = ratelog_clamp(per_seconds);
}

static void
ratelog_refill(const struct ratelog *r, struct ratelog_bucket *b,
    int64_t now)
{
	int64_t full = r->burst * r->per;
	uint64_t elapsed;

	if (!b->started) {
		b->started = 1;
		b->tokens = full;
		b->last = now;
		return;
	}
	if (now <= b->last)
		return;		/* no time passed, or the clock went back */
	/* unsigned: exact even from INT64_MIN to INT64_MAX */
	elapsed = (uint64_t)now - (uint64_t)b->last;
	if (elapsed >= (uint64_t)r->per)
		b->tokens = full;
	else if ((b->tokens += (int64_t)elapsed * r->burst) > full)
		b->tokens = full;
	b->last = now;
}

int
ratelog_allow(struct ratelog *r, int key, int64_t now,
    uint64_t *suppressed_out)
{
	struct ratelog_bucket *b;

	if (key < 0 || key >= RATELOG_KEYS)
		key = RATELOG_OTHER;
	b = &r->b[key];
	ratelog_refill(r, b, now);
	if (suppressed_out != NULL)
		*suppressed_out = 0;
	if (b->tokens < r->per) {
		if (b->suppressed < UINT64_MAX)
			b->suppressed++;
		return 0;
	}
	b->tokens -= r->per;
	if (suppressed_out != NULL)
		*suppressed_out = b->suppressed;
	b->suppressed = 0;
	return 1;
}
