/*
 * test_ratelog.c - token buckets for refusal log lines: the burst, the
 * suppressed count reported once, refill, independent keys, the shared
 * bucket for out-of-range keys, clamped settings and a clock that goes
 * back.  Time is always an explicit `now`.
 */
#include <stdint.h>

#include "ratelog.h"
#include "refusal.h"
#include "t.h"

_Static_assert(REF__COUNT <= RATELOG_KEYS, "every refusal needs a bucket");

static uint64_t sup;

/* ratelog_allow() with the suppressed count poisoned first. */
static int
allow(struct ratelog *r, int key, int64_t now)
{
	sup = 12345;
	return ratelog_allow(r, key, now, &sup);
}

/* 3 lines per 60 s: the burst goes out at once, then one per 20 s. */
static void
test_burst_and_refill(void)
{
	struct ratelog r;
	int i;

	ratelog_init(&r, 3, 60);
	for (i = 0; i < 3; i++)
		CHECK(allow(&r, REF_REPLAY, 1000) == 1 && sup == 0);
	CHECK(allow(&r, REF_REPLAY, 1000) == 0 && sup == 0);
	CHECK(allow(&r, REF_REPLAY, 1010) == 0 && sup == 0);
	CHECK(allow(&r, REF_REPLAY, 1019) == 0);	/* 19/20 of a line */
	CHECK(allow(&r, REF_REPLAY, 1020) == 1 && sup == 3);
	/* the count was reported once and starts again */
	CHECK(allow(&r, REF_REPLAY, 1020) == 0 && sup == 0);
	CHECK(allow(&r, REF_REPLAY, 1040) == 1 && sup == 1);
	CHECK(allow(&r, REF_REPLAY, 1060) == 1 && sup == 0);
	/* a long quiet spell refills to the burst, not beyond */
	for (i = 0; i < 3; i++)
		CHECK(allow(&r, REF_REPLAY, 5000) == 1);
	CHECK(allow(&r, REF_REPLAY, 5000) == 0);
	/* NULL is accepted for the count */
	CHECK(ratelog_allow(&r, REF_REPLAY, 5000, NULL) == 0);
	CHECK(allow(&r, REF_REPLAY, 5060) == 1 && sup == 2);
}

static void
test_keys_independent(void)
{
	struct ratelog r;

	ratelog_init(&r, 1, 10);
	CHECK(allow(&r, REF_BAD_SIGNATURE, 0) == 1);
	CHECK(allow(&r, REF_BAD_SIGNATURE, 0) == 0);
	CHECK(allow(&r, REF_BAD_SIGNATURE, 1) == 0);
	CHECK(allow(&r, REF_EXPIRED, 1) == 1 && sup == 0);
	CHECK(allow(&r, RATELOG_KEYS - 1, 1) == 1);
	CHECK(allow(&r, REF_BAD_SIGNATURE, 11) == 1 && sup == 2);
	CHECK(allow(&r, REF_EXPIRED, 11) == 1 && sup == 0);
}

/* Keys outside 0..63 never index out of the table: they share one. */
static void
test_other_bucket(void)
{
	struct ratelog r;

	ratelog_init(&r, 2, 10);
	CHECK(allow(&r, -1, 0) == 1);
	CHECK(allow(&r, RATELOG_KEYS, 0) == 1);
	CHECK(allow(&r, 1000000, 0) == 0);
	CHECK(allow(&r, INT32_MIN, 0) == 0);
	CHECK(allow(&r, 0, 0) == 1);		/* a real key is apart */
	CHECK(allow(&r, RATELOG_KEYS - 1, 0) == 1);
	CHECK(allow(&r, -5, 5) == 1 && sup == 2);
}

static void
test_clamp_and_clock(void)
{
	struct ratelog r;

	ratelog_init(&r, 0, -7);		/* 1 line per second */
	CHECK(allow(&r, 1, 100) == 1);
	CHECK(allow(&r, 1, 100) == 0);
	CHECK(allow(&r, 1, 101) == 1 && sup == 1);
	/* the clock goes back: nothing refills until it passes 101 */
	CHECK(allow(&r, 1, 50) == 0);
	CHECK(allow(&r, 1, 101) == 0);
	CHECK(allow(&r, 1, 102) == 1 && sup == 2);
	/* huge settings and gaps do not overflow */
	ratelog_init(&r, 2000000000, 2000000000);
	CHECK(r.burst == RATELOG_MAX && r.per == RATELOG_MAX);
	CHECK(allow(&r, 2, INT64_MIN) == 1);
	CHECK(allow(&r, 2, INT64_MAX) == 1);
	ratelog_init(&r, 1, 1000000);
	CHECK(allow(&r, 2, 0) == 1);
	CHECK(allow(&r, 2, 999999) == 0);
	CHECK(allow(&r, 2, INT64_MAX) == 1 && sup == 1);
}

int
main(void)
{
	test_burst_and_refill();
	test_keys_independent();
	test_other_bucket();
	test_clamp_and_clock();
	return t_done();
}
