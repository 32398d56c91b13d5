/*
 * ratelog.h - rate limiting for log lines about refused input.
 *
 * A flood of hostile messages must not become a flood of log lines.
 * Each key (a refusal reason, enum refusal_reason) has a token bucket
 * of `burst` lines that refills at `burst` lines per `per_seconds`
 * seconds.  A line that finds the bucket empty is counted, not
 * logged; the next line allowed for that key reports the count so the
 * caller can append "(N similar suppressed)".
 *
 * Time is passed in (seconds, e.g. CLOCK_MONOTONIC), so the table
 * holds no clock and tests are deterministic.  A clock that goes back
 * refills nothing until it passes the last time seen again.
 */
#ifndef HIVE_RATELOG_H
#define HIVE_RATELOG_H

#include <stdint.h>

#define RATELOG_KEYS	64		/* keys 0..63 */
#define RATELOG_OTHER	RATELOG_KEYS	/* the bucket for any other key */
#define RATELOG_MAX	1000000		/* cap on burst and per_seconds */

struct ratelog_bucket {
	int64_t		tokens;		/* in units of 1/per_seconds line */
	int64_t		last;		/* time of the last refill */
	uint64_t	suppressed;	/* since the last allowed line */
	int		started;
};

struct ratelog {
	int64_t			burst;
	int64_t			per;
	struct ratelog_bucket	b[RATELOG_KEYS + 1];
};

/*
 * All buckets start full.  burst and per_seconds are clamped to
 * 1..RATELOG_MAX, so a zero from a config file means "1", never "log
 * nothing" or a division by zero.
 */
void ratelog_init(struct ratelog *, int burst, int per_seconds);

/*
 * 1 if a line for key may be logged at time now; *suppressed_out (if
 * not NULL) is then the number of lines for key suppressed since the
 * last allowed one, and that count restarts at 0.  Else 0, the line is
 * counted as suppressed and *suppressed_out is 0.  A key outside
 * 0..RATELOG_KEYS-1 is not an error: it shares the RATELOG_OTHER
 * bucket, because the router must not die of a log line.
 */
int ratelog_allow(struct ratelog *, int key, int64_t now,
    uint64_t *suppressed_out);

#endif
