/*
 * test_ratelimit.c - token buckets: burst, refill, per-key isolation,
 * eviction of the idlest bucket.
 */
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"
#include "t.h"

static struct ratelimit rl;

static int
take_n(const char *key, int n, double rate, uint32_t burst, int64_t now)
{
	int i, got = 0;

	for (i = 0; i < n; i++)
		got += ratelimit_take(&rl, key, rate, burst, now);
	return got;
}

int
main(void)
{
	char key[32];
	int i;

	ratelimit_init(&rl);
	/* a fresh sender gets its burst at once, then nothing */
	CHECK(take_n("a", 10, 2.0, 5, 1000) == 5);
	/* half a second at 2/s is one token */
	CHECK(take_n("a", 10, 2.0, 5, 1500) == 1);
	/* refill never exceeds the burst */
	CHECK(take_n("a", 100, 2.0, 5, 1000000) == 5);
	/* another sender has its own bucket */
	CHECK(take_n("b", 3, 2.0, 5, 1000000) == 3);
	/* time going backwards gives nothing back */
	CHECK(take_n("b", 10, 2.0, 5, 999000) == 2);
	/* fractional rates: 1/m */
	CHECK(take_n("c", 2, 1.0 / 60, 1, 0) == 1);
	CHECK(take_n("c", 1, 1.0 / 60, 1, 59000) == 0);
	CHECK(take_n("c", 1, 1.0 / 60, 1, 61000) == 1);
	/* a full table reuses the idlest bucket, never the busy one */
	ratelimit_init(&rl);
	CHECK(take_n("busy", 1, 1.0, 1, 5000000) == 1);
	for (i = 0; i < RATELIMIT_SLOTS; i++) {
		snprintf(key, sizeof(key), "n%d", i);
		ratelimit_take(&rl, key, 1.0, 1, 1000 + i);
	}
	CHECK(take_n("busy", 1, 1.0, 1, 5000000) == 0);	/* kept: empty */
	return t_done();
}
