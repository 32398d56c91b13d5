/*
 * window.h - the replay window: remembers (from, id) until the
 * envelope can no longer be accepted (ts + ttl + max_skew).
 *
 * Memory is bounded by a capacity fixed at open; when full the window
 * refuses (WINDOW_FULL) and never evicts an unexpired entry.  Within
 * it, each sender (the from of window_admit) may hold at most its
 * share (window_set_share; WINDOW_SHARE_FULL past it), so one sender
 * cannot take the capacity the others need.  A window
 * opened on a file appends every admitted entry to it before
 * window_admit() returns (or, for a batch, before window_commit()
 * returns, with one write() for the whole batch), so a crash or
 * restart never lets a replay through; fsync is batched through
 * window_sync().
 */
#ifndef HIVE_WINDOW_H
#define HIVE_WINDOW_H

#include <stddef.h>
#include <stdint.h>

struct window;

/* entries window_stage() keeps before a window_commit() */
#define WINDOW_BATCH_MAX	64

/* the latest expires a slot can hold (40 bits of seconds: year 36812) */
#define WINDOW_EXPIRES_MAX	((INT64_C(1) << 40) - 1)
/* named senders a window can tell apart at once */
#define WINDOW_SENDERS_MAX	((1U << 24) - 1)

enum window_verdict {
	WINDOW_OK = 0,		/* new: remembered (and on disk) */
	WINDOW_REPLAY,		/* seen, not yet expired */
	WINDOW_FULL,		/* at capacity with unexpired entries (or
				   the table of senders is full) */
	WINDOW_SHARE_FULL,	/* the sender holds its share already */
	WINDOW_IOERR,		/* could not append to the state file */
	WINDOW_BEFORE_FLOOR,	/* ts <= floor of a reset window */
	WINDOW_CLOCK,		/* expires <= a time the window already
				   forgot up to: our clock went back; or
				   expires > WINDOW_EXPIRES_MAX */
};

enum window_open_status {
	WINDOW_OPENED = 0,	/* existing state file loaded */
	WINDOW_CREATED,		/* no state file: a new one was created */
	WINDOW_CORRUPT,		/* bad magic, header or record checksum */
	WINDOW_TORN,		/* file ends in a partial record */
	WINDOW_OVERCAPACITY,	/* more live entries than the capacity */
	WINDOW_OPEN_IOERR,	/* open/read/write failed (errno kept) */
	WINDOW_MISSING,		/* no state file, and WINDOW_NOCREATE */
};

/* window_open() flags */
#define WINDOW_RESET	0x1	/* discard the file, start anew with a floor */
#define WINDOW_NOCREATE	0x2	/* no file: WINDOW_MISSING, create nothing */

/* An in-memory window (hive-cli send --wait); never fails but fatal()s
 * on allocation failure. */
struct window *window_new(size_t capacity);

/*
 * Open or create the window persisted at path.  With WINDOW_RESET the
 * old file is replaced and the floor is set to now + max_skew: any
 * envelope with ts <= floor is refused, because a previous incarnation
 * may have accepted it.  Without a file, a new one is created with no
 * floor (CREATED), or with WINDOW_NOCREATE nothing is (MISSING).  On
 * CORRUPT/TORN/OVERCAPACITY/IOERR/MISSING *out is NULL and err says
 * why (file and offset); the caller refuses to run.
 */
enum window_open_status window_open(const char *path, size_t capacity,
    int64_t now, int64_t max_skew, int flags, struct window **out,
    char *err, size_t errlen);

/*
 * Admit (from, id) of an envelope with timestamp ts that stays
 * acceptable until expires (ts + ttl + max_skew).  Only WINDOW_OK
 * admits.  WINDOW_CLOCK: now is behind the latest time entries were
 * dropped at (the horizon), and expires is not after it, so an entry
 * for this envelope may have been dropped already: a clock that went
 * back must not reopen what its future self forgot.
 */
enum window_verdict window_admit(struct window *, const char *from,
    const char *id, int64_t ts, int64_t expires, int64_t now);

/*
 * window_admit() in two steps, for a batch: window_stage() decides as
 * window_admit() would, counting the entries staged since the last
 * commit as if admitted (the same from and id twice in a batch: the
 * second is WINDOW_REPLAY; each takes capacity), but writes nothing
 * and leaves the table alone: its WINDOW_OK is provisional.
 * window_commit() appends the records of every entry staged since the
 * last commit with a single write() and only then enters them in the
 * table: 0; or -1 if the write failed or was short (cut off again),
 * and then none of them is admitted, so the caller refuses every
 * message it staged since the last commit as window-io, and acts on
 * none before the commit.  At most WINDOW_BATCH_MAX entries may be
 * staged (fatal beyond); window_admit() with entries staged is fatal.
 */
enum window_verdict window_stage(struct window *, const char *from,
    const char *id, int64_t ts, int64_t expires, int64_t now);
int window_commit(struct window *);

/*
 * Entries one sender may hold, staged ones included: 1..capacity
 * (fatal otherwise); a new window's share is its capacity.  Senders
 * given to window_exempt() and the entries loaded from the state file
 * (which does not record senders: they are unattributed) are bound by
 * the capacity only.
 */
void window_set_share(struct window *, size_t share);
/* from's entries are bound by the capacity only: this box's own nodes */
void window_exempt(struct window *, const char *from);
size_t window_share(const struct window *);
/* entries from holds (staged ones included); NULL: the unattributed */
size_t window_held(const struct window *, const char *from);
/* named senders that hold entries (or are exempt) */
size_t window_senders(const struct window *);

/* Drop entries with expires <= now; compacts the state file when it
 * holds many more records than live entries.  Returns entries dropped. */
size_t window_expire(struct window *, int64_t now);

/* fsync the state file if anything was appended since the last call.
 * 0 on success (or nothing to do), -1 on error. */
int window_sync(struct window *);

size_t window_count(const struct window *);
size_t window_capacity(const struct window *);
int64_t window_floor(const struct window *);
/* the latest now entries were dropped at (or the file was loaded at) */
int64_t window_horizon(const struct window *);
/* bytes of table memory allocated for a capacity (for docs and bench) */
size_t window_table_bytes(size_t capacity);
const char *window_open_status_name(enum window_open_status);

void window_free(struct window *);

#endif
