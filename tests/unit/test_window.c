/*
 * test_window.c - the replay window: memory semantics, the state file
 * (persistence, torn and corrupt files, reset, compaction, append
 * failure) and the memory bound at a capacity of one million.
 *
 * usage: test_window [scratch-dir]
 * A private directory is made inside scratch-dir (default $TMPDIR or
 * /tmp) and removed at the end.  Time is always an explicit `now`.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "t.h"
#include "window.h"

static char scratch[4096];

static const char *
tpath(const char *name)
{
	static char buf[4][4200];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", scratch, name);
	return buf[n];
}

static const char *
idn(unsigned i)
{
	static char buf[4][32];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "id-%u", i);
	return buf[n];
}

static long long
fsize(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == -1 ? -1 : (long long)sb.st_size;
}

static int
exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* XOR one byte of the file at off. */
static void
flip(const char *path, long long off)
{
	unsigned char c;
	int fd;

	if ((fd = open(path, O_RDWR)) == -1 ||
	    pread(fd, &c, 1, off) != 1) {
		perror(path);
		exit(2);
	}
	c ^= 0x40;
	if (pwrite(fd, &c, 1, off) != 1) {
		perror(path);
		exit(2);
	}
	close(fd);
}

/* A file window holding id-0 .. id-(n-1) from "a", expiring at base+i. */
static void
make_file(const char *path, unsigned n, int64_t base)
{
	struct window *w;
	char err[256];
	unsigned i;

	unlink(path);
	if (window_open(path, 1024, 10, 300, 0, &w, err, sizeof(err)) !=
	    WINDOW_CREATED) {
		fprintf(stderr, "make_file: %s\n", err);
		exit(2);
	}
	for (i = 0; i < n; i++)
		if (window_admit(w, "a", idn(i), 10, base + i, 10) != WINDOW_OK)
			exit(2);
	window_free(w);
}

static void
test_basic(void)
{
	struct window *w = window_new(16);

	CHECK(window_capacity(w) == 16);
	CHECK(window_count(w) == 0);
	CHECK(window_floor(w) == 0);
	CHECK(window_admit(w, "a", "1", 10, 100, 10) == WINDOW_OK);
	CHECK(window_admit(w, "a", "1", 10, 100, 10) == WINDOW_REPLAY);
	CHECK(window_admit(w, "a", "1", 10, 100, 99) == WINDOW_REPLAY);
	/* the same id from another node is another envelope */
	CHECK(window_admit(w, "b", "1", 10, 100, 10) == WINDOW_OK);
	/* the separator keeps ("ab","c") apart from ("a","bc") */
	CHECK(window_admit(w, "ab", "c", 10, 100, 10) == WINDOW_OK);
	CHECK(window_admit(w, "a", "bc", 10, 100, 10) == WINDOW_OK);
	CHECK(window_admit(w, "a", "bc", 10, 100, 10) == WINDOW_REPLAY);
	CHECK(window_count(w) == 4);
	window_free(w);
	window_free(NULL);
}

static void
test_expiry(void)
{
	struct window *w = window_new(16);

	CHECK(window_admit(w, "a", "1", 10, 100, 10) == WINDOW_OK);
	CHECK(window_admit(w, "a", "1", 10, 100, 99) == WINDOW_REPLAY);
	/* expires <= now: gone, so admitted again (reusing its slot) */
	CHECK(window_admit(w, "a", "1", 90, 200, 100) == WINDOW_OK);
	CHECK(window_count(w) == 1);
	CHECK(window_admit(w, "a", "1", 90, 200, 150) == WINDOW_REPLAY);
	/* an already expired envelope needs (and gets) no entry */
	CHECK(window_admit(w, "a", "2", 10, 50, 150) == WINDOW_OK);
	CHECK(window_count(w) == 1);
	CHECK(window_expire(w, 199) == 0);
	CHECK(window_count(w) == 1);
	CHECK(window_expire(w, 200) == 1);
	CHECK(window_count(w) == 0);
	CHECK(window_admit(w, "a", "1", 90, 300, 200) == WINDOW_OK);
	window_free(w);
}

static void
test_expire_count(void)
{
	struct window *w = window_new(10);
	unsigned i;

	for (i = 0; i < 10; i++)
		CHECK(window_admit(w, "a", idn(i), 10, i < 6 ? 50 : 100, 10) ==
		    WINDOW_OK);
	CHECK(window_expire(w, 49) == 0);
	CHECK(window_expire(w, 50) == 6);
	CHECK(window_count(w) == 4);
	for (i = 6; i < 10; i++)
		CHECK(window_admit(w, "a", idn(i), 10, 100, 50) ==
		    WINDOW_REPLAY);
	CHECK(window_expire(w, 1000) == 4);
	CHECK(window_count(w) == 0);
	window_free(w);
}

/*
 * The sweep is skipped before the earliest expiry: an entry that comes
 * later with an earlier expiry (admitted, committed in a batch, or
 * loaded from the file) must still be dropped on time.
 */
static void
test_expire_earliest(void)
{
	const char *p = tpath("earliest.win");
	struct window *w = window_new(10);
	char err[256];

	CHECK(window_expire(w, 10) == 0);		/* empty */
	CHECK(window_admit(w, "a", "late", 10, 500, 10) == WINDOW_OK);
	CHECK(window_expire(w, 100) == 0);
	CHECK(window_admit(w, "a", "soon", 10, 150, 100) == WINDOW_OK);
	CHECK(window_stage(w, "a", "sooner", 10, 120, 100) == WINDOW_OK);
	CHECK(window_commit(w) == 0);
	CHECK(window_expire(w, 119) == 0);
	CHECK(window_expire(w, 120) == 1);
	CHECK(window_expire(w, 149) == 0);
	CHECK(window_expire(w, 150) == 1);
	CHECK(window_count(w) == 1);
	CHECK(window_expire(w, 500) == 1);
	CHECK(window_count(w) == 0);
	window_free(w);

	make_file(p, 3, 100);		/* expires 100, 101, 102 */
	CHECK(window_open(p, 16, 50, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	if (w == NULL)
		return;
	CHECK(window_expire(w, 99) == 0);
	CHECK(window_expire(w, 101) == 2);
	CHECK(window_count(w) == 1);
	window_free(w);
	unlink(p);
}

static void
test_capacity(void)
{
	struct window *w = window_new(8);
	unsigned i, replays = 0;

	for (i = 0; i < 8; i++)
		CHECK(window_admit(w, "a", idn(i), 10, 100, 10) == WINDOW_OK);
	CHECK(window_admit(w, "a", idn(8), 10, 100, 10) == WINDOW_FULL);
	CHECK(window_admit(w, "a", idn(9), 10, 100, 50) == WINDOW_FULL);
	CHECK(window_count(w) == 8);
	/* nothing was evicted to make room */
	for (i = 0; i < 8; i++)
		replays += window_admit(w, "a", idn(i), 10, 100, 50) ==
		    WINDOW_REPLAY;
	CHECK(replays == 8);
	/* time passes: the sweep run by admit frees the room */
	CHECK(window_admit(w, "a", idn(8), 90, 200, 100) == WINDOW_OK);
	CHECK(window_count(w) == 1);
	CHECK(window_admit(w, "a", idn(0), 90, 200, 100) == WINDOW_OK);
	window_free(w);

	w = window_new(0);
	CHECK(window_admit(w, "a", "1", 10, 100, 10) == WINDOW_FULL);
	window_free(w);
}

/* xorshift64: a fixed, portable sequence */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Random admits and sweeps against a plain array: exercises probing
 * and backward-shift deletion with chains that wrap the table.
 */
static void
test_model(void)
{
	enum { IDS = 3000, OPS = 40000 };
	static int64_t model[IDS];	/* expires; 0: never admitted */
	struct window *w = window_new(4096);
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	int64_t now = 1000, exp;
	unsigned op, id, bad = 0, live, i;
	enum window_verdict want, got;

	for (op = 0; op < OPS; op++) {
		id = (unsigned)(rnd(&seed) % IDS);
		exp = now + 1 + (int64_t)(rnd(&seed) % 60);
		want = model[id] > now ? WINDOW_REPLAY : WINDOW_OK;
		got = window_admit(w, "n", idn(id), now, exp, now);
		bad += got != want;
		if (want == WINDOW_OK)
			model[id] = exp;
		if (op % 97 == 0)
			now++;
		if (op % 1009 == 0) {
			window_expire(w, now);
			for (i = 0, live = 0; i < IDS; i++)
				live += model[i] > now;
			bad += window_count(w) != live;
		}
	}
	CHECK(bad == 0);
	window_free(w);
}

static void
test_create_and_persist(void)
{
	const char *p = tpath("persist.win");
	struct window *w;
	struct stat sb;
	char err[256];
	unsigned i, replays = 0, oks = 0;

	CHECK(window_open(p, 256, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CREATED);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(fsize(p) == 56);
	CHECK(window_floor(w) == 0);
	for (i = 0; i < 100; i++)
		CHECK(window_admit(w, "a", idn(i), 10, 1000 + i, 10) ==
		    WINDOW_OK);
	CHECK(fsize(p) == 56 + 100 * 32);
	CHECK(window_sync(w) == 0);
	CHECK(window_sync(w) == 0);
	window_free(w);

	CHECK(window_open(p, 256, 20, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	if (w == NULL)
		return;
	CHECK(window_count(w) == 100);
	for (i = 0; i < 100; i++)
		replays += window_admit(w, "a", idn(i), 10, 1000 + i, 20) ==
		    WINDOW_REPLAY;
	CHECK(replays == 100);
	CHECK(window_admit(w, "b", idn(0), 10, 1000, 20) == WINDOW_OK);
	window_free(w);

	/* later: expires <= now are dropped on load */
	CHECK(window_open(p, 256, 1050, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	if (w == NULL)
		return;
	CHECK(window_count(w) == 49);
	for (i = 0; i < 100; i++) {
		if (i <= 50)
			oks += window_admit(w, "a", idn(i), 10, 2000, 1050) ==
			    WINDOW_OK;
		else
			replays += window_admit(w, "a", idn(i), 10, 2000,
			    1050) == WINDOW_REPLAY;
	}
	CHECK(oks == 51);
	CHECK(replays == 100 + 49);
	window_free(w);
	unlink(p);
}

/* A digest recorded twice keeps the later expiry. */
static void
test_duplicate_records(void)
{
	const char *p = tpath("dup.win");
	struct window *w;
	char err[256];

	make_file(p, 1, 100);		/* id-0 expires 100 */
	CHECK(window_open(p, 4, 100, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	if (w == NULL)
		return;
	CHECK(window_admit(w, "a", idn(0), 90, 500, 100) == WINDOW_OK);
	window_free(w);
	CHECK(fsize(p) == 56 + 2 * 32);
	/* at 50 both records are live: still one entry, the later one */
	CHECK(window_open(p, 1, 50, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	if (w == NULL)
		return;
	CHECK(window_count(w) == 1);
	CHECK(window_admit(w, "a", idn(0), 90, 500, 200) == WINDOW_REPLAY);
	window_free(w);
	unlink(p);
}

static void
test_torn(void)
{
	const char *p = tpath("torn.win");
	struct window *w = (struct window *)1;
	char err[256];

	make_file(p, 3, 1000);
	CHECK(truncate(p, 56 + 3 * 32 - 5) == 0);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_TORN);
	CHECK(w == NULL);
	CHECK(strstr(err, p) != NULL);
	CHECK(strstr(err, "offset 120") != NULL);
	CHECK(fsize(p) == 56 + 3 * 32 - 5);	/* left for the operator */
	CHECK_STR(window_open_status_name(WINDOW_TORN), "torn");
	unlink(p);
}

static void
test_corrupt_record(void)
{
	const char *p = tpath("badrec.win");
	struct window *w = (struct window *)1;
	char err[256];

	make_file(p, 3, 1000);
	flip(p, 56 + 32 + 5);			/* record 1's digest */
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CORRUPT);
	CHECK(w == NULL);
	CHECK(strstr(err, p) != NULL);
	CHECK(strstr(err, "offset 88") != NULL);

	/* a flipped check byte, in an already expired record, still counts */
	make_file(p, 3, 1000);
	flip(p, 56 + 2 * 32 + 31);
	CHECK(window_open(p, 16, 5000, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CORRUPT);
	CHECK(strstr(err, "offset 120") != NULL);
	unlink(p);
}

static void
test_corrupt_header(void)
{
	const char *p = tpath("badhdr.win");
	struct window *w = (struct window *)1;
	char err[256];
	long long off[] = { 0, 8, 12, 20, 33, 41, 50 };
	unsigned i, corrupt = 0;

	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		make_file(p, 2, 1000);
		flip(p, off[i]);
		corrupt += window_open(p, 16, 10, 300, 0, &w, err,
		    sizeof(err)) == WINDOW_CORRUPT && w == NULL;
	}
	CHECK(corrupt == sizeof(off) / sizeof(off[0]));
	CHECK(strstr(err, p) != NULL);

	/* shorter than a header: never an empty window */
	make_file(p, 0, 1000);
	CHECK(truncate(p, 20) == 0);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CORRUPT);
	CHECK(truncate(p, 0) == 0);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CORRUPT);
	CHECK(w == NULL);
	unlink(p);
}

static void
test_reset(void)
{
	const char *p = tpath("reset.win");
	struct window *w;
	char err[256];

	make_file(p, 3, 1000);
	flip(p, 3);
	CHECK(window_open(p, 16, 1000, 300, WINDOW_RESET, &w, err,
	    sizeof(err)) == WINDOW_CREATED);
	if (w == NULL)
		return;
	CHECK(window_floor(w) == 1300);
	CHECK(window_count(w) == 0);
	CHECK(fsize(p) == 56);
	CHECK(!exists(tpath("reset.win.tmp")));
	CHECK(window_admit(w, "a", "x", 1300, 2000, 1000) ==
	    WINDOW_BEFORE_FLOOR);
	CHECK(window_admit(w, "a", "x", 1000, 2000, 1000) ==
	    WINDOW_BEFORE_FLOOR);
	CHECK(window_admit(w, "a", "x", 1301, 2000, 1000) == WINDOW_OK);
	CHECK(window_admit(w, "a", "x", 1301, 2000, 1000) == WINDOW_REPLAY);
	window_free(w);

	/* the floor survives a restart */
	CHECK(window_open(p, 16, 1001, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	if (w == NULL)
		return;
	CHECK(window_floor(w) == 1300);
	CHECK(window_admit(w, "a", "x", 1301, 2000, 1001) == WINDOW_REPLAY);
	CHECK(window_admit(w, "a", "y", 1200, 2000, 1001) ==
	    WINDOW_BEFORE_FLOOR);
	window_free(w);

	/* reset also works where there was no file at all */
	unlink(p);
	CHECK(window_open(p, 16, 50, 10, WINDOW_RESET, &w, err,
	    sizeof(err)) == WINDOW_CREATED);
	CHECK(w != NULL && window_floor(w) == 60);
	window_free(w);
	unlink(p);
}

/*
 * A state directory in use with no window file: the daemon asks for
 * WINDOW_NOCREATE and gets MISSING, and no file appears.
 */
static void
test_missing(void)
{
	const char *p = tpath("missing.win");
	struct window *w = (struct window *)1;
	char err[256];

	unlink(p);
	CHECK(window_open(p, 16, 10, 300, WINDOW_NOCREATE, &w, err,
	    sizeof(err)) == WINDOW_MISSING);
	CHECK(w == NULL);
	CHECK(strstr(err, "no state file") != NULL);
	CHECK(!exists(p));
	/* an existing file opens as usual with the flag */
	make_file(p, 2, 1000);
	CHECK(window_open(p, 16, 10, 300, WINDOW_NOCREATE, &w, err,
	    sizeof(err)) == WINDOW_OPENED);
	CHECK(w != NULL && window_count(w) == 2);
	window_free(w);
	unlink(p);
}

/*
 * The clock jumps forward (entries expire early), then back: an
 * envelope whose entry was dropped in the future must not come back
 * as new.  In memory through the horizon, across a restart through
 * the compacted file's created time.
 */
static void
test_clock_back(void)
{
	const char *p = tpath("clock.win");
	struct window *w = window_new(16);
	char err[256];
	unsigned i;

	CHECK(window_admit(w, "a", "x", 100, 500, 100) == WINDOW_OK);
	CHECK(window_expire(w, 1000) == 1);	/* forward: x dropped */
	CHECK(window_horizon(w) == 1000);
	CHECK(window_admit(w, "a", "x", 100, 500, 200) == WINDOW_CLOCK);
	CHECK(window_admit(w, "a", "y", 100, 1000, 200) == WINDOW_CLOCK);
	CHECK(window_admit(w, "a", "z", 200, 1001, 200) == WINDOW_OK);
	/* already expired by the clock we have: no entry, the caller
	 * refuses it as expired */
	CHECK(window_admit(w, "a", "old", 100, 150, 200) == WINDOW_OK);
	window_free(w);

	unlink(p);
	CHECK(window_open(p, 4096, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CREATED);
	if (w == NULL)
		return;
	for (i = 0; i < 2000; i++)
		window_admit(w, "a", idn(i), 10, 100, 10);
	CHECK(window_admit(w, "a", "x", 10, 500, 10) == WINDOW_OK);
	CHECK(window_expire(w, 1000) == 2001);	/* compacts */
	CHECK(fsize(p) == 56);
	window_free(w);
	/* restarted with the clock back at 200: x is gone from the file,
	 * the header remembers up to when */
	CHECK(window_open(p, 4096, 200, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	if (w == NULL)
		return;
	CHECK(window_horizon(w) == 1000);
	CHECK(window_admit(w, "a", "x", 10, 500, 200) == WINDOW_CLOCK);
	window_free(w);

	/* no compaction: the records are still there, a replay is named */
	unlink(p);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CREATED);
	CHECK(w != NULL && window_admit(w, "a", "x", 10, 500, 10) ==
	    WINDOW_OK);
	window_free(w);
	CHECK(window_open(p, 16, 1000, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	CHECK(w != NULL && window_count(w) == 0);
	window_free(w);
	CHECK(window_open(p, 16, 200, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	CHECK(w != NULL && window_admit(w, "a", "x", 10, 500, 200) ==
	    WINDOW_REPLAY);
	window_free(w);
	unlink(p);
}

static void
test_overcapacity(void)
{
	const char *p = tpath("over.win");
	struct window *w = (struct window *)1;
	char err[256];

	make_file(p, 10, 1000);		/* expiring at 1000 .. 1009 */
	CHECK(window_open(p, 9, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OVERCAPACITY);
	CHECK(w == NULL);
	CHECK(strstr(err, p) != NULL);
	CHECK(window_open(p, 10, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	CHECK(w != NULL && window_count(w) == 10);
	window_free(w);
	/* once half of them expired, the smaller capacity fits */
	CHECK(window_open(p, 5, 1004, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	CHECK(w != NULL && window_count(w) == 5);
	window_free(w);
	unlink(p);
}

static void
test_compaction(void)
{
	const char *p = tpath("compact.win");
	struct window *w;
	char err[256];
	unsigned i, replays = 0;

	unlink(p);
	CHECK(window_open(p, 4096, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CREATED);
	if (w == NULL)
		return;
	for (i = 0; i < 2000; i++)
		window_admit(w, "a", idn(i), 10, 100, 10);
	for (i = 2000; i < 2010; i++)
		window_admit(w, "a", idn(i), 10, 1000, 10);
	CHECK(fsize(p) == 56 + 2010 * 32);
	CHECK(window_expire(w, 100) == 2000);
	CHECK(window_count(w) == 10);
	CHECK(fsize(p) == 56 + 10 * 32);
	CHECK(!exists(tpath("compact.win.tmp")));
	/* appends go to the new file */
	CHECK(window_admit(w, "a", "new", 100, 1000, 100) == WINDOW_OK);
	CHECK(fsize(p) == 56 + 11 * 32);
	CHECK(window_sync(w) == 0);
	window_free(w);

	CHECK(window_open(p, 4096, 200, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	if (w == NULL)
		return;
	CHECK(window_count(w) == 11);
	for (i = 2000; i < 2010; i++)
		replays += window_admit(w, "a", idn(i), 10, 1000, 200) ==
		    WINDOW_REPLAY;
	CHECK(replays == 10);
	CHECK(window_admit(w, "a", "new", 100, 1000, 200) == WINDOW_REPLAY);

	/* below the threshold (records <= 2 * live + 1024) no rewrite */
	for (i = 0; i < 1000; i++)
		window_admit(w, "b", idn(i), 200, 300, 200);
	CHECK(window_expire(w, 300) == 1000);
	CHECK(fsize(p) == 56 + 1011 * 32);
	window_free(w);
	unlink(p);
}

static void
set_fsize_limit(rlim_t cur)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_FSIZE, &rl) == -1)
		exit(2);
	rl.rlim_cur = cur;
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1) {
		perror("setrlimit");
		exit(2);
	}
}

/*
 * RLIMIT_FSIZE makes the real append fail: at the limit write() fails
 * (EFBIG), just below it write() is short.  Either way the entry must
 * not be admitted and the file must stay a whole number of records.
 */
static void
test_ioerr(void)
{
	const char *p = tpath("ioerr.win");
	struct window *w;
	struct rlimit saved;
	char err[256];
	long long size;

	unlink(p);
	signal(SIGXFSZ, SIG_IGN);
	CHECK(getrlimit(RLIMIT_FSIZE, &saved) == 0);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CREATED);
	if (w == NULL)
		return;
	CHECK(window_admit(w, "a", "1", 10, 1000, 10) == WINDOW_OK);
	size = fsize(p);
	set_fsize_limit((rlim_t)size);
	CHECK(window_admit(w, "a", "2", 10, 1000, 10) == WINDOW_IOERR);
	CHECK(window_admit(w, "a", "2", 10, 1000, 10) == WINDOW_IOERR);
	CHECK(window_count(w) == 1);
	set_fsize_limit((rlim_t)size + 10);
	CHECK(window_admit(w, "a", "2", 10, 1000, 10) == WINDOW_IOERR);
	CHECK(fsize(p) == size);	/* the partial record was cut off */
	CHECK(window_count(w) == 1);
	CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
	CHECK(window_admit(w, "a", "2", 10, 1000, 10) == WINDOW_OK);
	CHECK(window_admit(w, "a", "2", 10, 1000, 10) == WINDOW_REPLAY);
	window_free(w);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	CHECK(w != NULL && window_count(w) == 2);
	window_free(w);
	signal(SIGXFSZ, SIG_DFL);
	unlink(p);
}

/*
 * A batch: window_stage() decides, window_commit() writes every record
 * with one write() and only then admits.  In memory and on a file.
 */
static void
test_batch_stage(struct window *w, const char *p)
{
	long long size = p != NULL ? fsize(p) : 0;
	unsigned i;

	for (i = 0; i < 5; i++)
		CHECK(window_stage(w, "a", idn(i), 10, 1000, 10) == WINDOW_OK);
	/* the same from and id twice in a batch: the second is a replay */
	CHECK(window_stage(w, "a", idn(2), 10, 1000, 10) == WINDOW_REPLAY);
	CHECK(window_stage(w, "b", idn(2), 10, 1000, 10) == WINDOW_OK);
	/* expired already: admitted, nothing to keep */
	CHECK(window_stage(w, "a", "old", 5, 10, 10) == WINDOW_OK);
	/* staged is not admitted yet: nothing written, nothing in the table */
	CHECK(window_count(w) == 0);
	if (p != NULL)
		CHECK(fsize(p) == size);
	CHECK(window_commit(w) == 0);
	CHECK(window_count(w) == 6);
	if (p != NULL)
		CHECK(fsize(p) == size + 6 * 32);
	for (i = 0; i < 5; i++)
		CHECK(window_admit(w, "a", idn(i), 10, 1000, 20) ==
		    WINDOW_REPLAY);
	CHECK(window_stage(w, "b", idn(2), 10, 1000, 20) == WINDOW_REPLAY);
	/* an empty batch writes nothing */
	CHECK(window_commit(w) == 0);
	if (p != NULL)
		CHECK(fsize(p) == size + 6 * 32);
	/* staged entries take capacity (16): 10 more fit, not 11 */
	for (i = 10; i < 20; i++)
		CHECK(window_stage(w, "c", idn(i), 10, 1000, 20) == WINDOW_OK);
	CHECK(window_stage(w, "c", idn(20), 10, 1000, 20) == WINDOW_FULL);
	CHECK(window_commit(w) == 0);
	CHECK(window_count(w) == 16);
}

static void
test_batch(void)
{
	const char *p = tpath("batch.win");
	struct window *w;
	char err[256];

	w = window_new(16);
	test_batch_stage(w, NULL);
	window_free(w);

	unlink(p);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CREATED);
	if (w == NULL)
		return;
	test_batch_stage(w, p);
	window_free(w);
	CHECK(window_open(p, 16, 20, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	CHECK(w != NULL && window_count(w) == 16);
	CHECK(w != NULL && window_admit(w, "b", idn(2), 10, 1000, 20) ==
	    WINDOW_REPLAY);
	window_free(w);
	unlink(p);
}

/*
 * A sweep while staging (the window full of expired entries) compacts
 * the file under the batch: the commit appends to the new file.
 */
static void
test_batch_compaction(void)
{
	const char *p = tpath("batchcompact.win");
	struct window *w;
	char err[256];
	unsigned i;

	unlink(p);
	CHECK(window_open(p, 1100, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CREATED);
	if (w == NULL)
		return;
	for (i = 0; i < 1100; i++)
		window_admit(w, "a", idn(i), 10, 100, 10);
	CHECK(window_count(w) == 1100);
	CHECK(window_stage(w, "b", "1", 200, 1000, 200) == WINDOW_OK);
	CHECK(fsize(p) == 56);			/* compacted: nothing live */
	CHECK(window_stage(w, "b", "2", 200, 1000, 200) == WINDOW_OK);
	CHECK(window_commit(w) == 0);
	CHECK(fsize(p) == 56 + 2 * 32);
	CHECK(window_count(w) == 2);
	window_free(w);
	CHECK(window_open(p, 1100, 200, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	CHECK(w != NULL && window_count(w) == 2);
	window_free(w);
	unlink(p);
}

/*
 * The commit's write fails (EFBIG at the limit) or is short (below
 * it): no entry of the batch is admitted, the file keeps exactly the
 * records before the batch, and the same entries go in once the disk
 * takes them.  The loader on a batch's partial write: a cut inside a
 * record is torn, a cut between records keeps the whole ones (entries
 * for messages never acted on: a refusal of their replay, never a
 * replay let through).
 */
static void
test_batch_ioerr(void)
{
	const char *p = tpath("batchio.win");
	struct window *w;
	struct rlimit saved;
	char err[256];
	long long size;
	unsigned i;

	unlink(p);
	signal(SIGXFSZ, SIG_IGN);
	CHECK(getrlimit(RLIMIT_FSIZE, &saved) == 0);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CREATED);
	if (w == NULL)
		return;
	CHECK(window_admit(w, "a", "0", 10, 1000, 10) == WINDOW_OK);
	size = fsize(p);
	set_fsize_limit((rlim_t)size);
	for (i = 1; i <= 4; i++)
		CHECK(window_stage(w, "a", idn(i), 10, 1000, 10) == WINDOW_OK);
	CHECK(window_held(w, "a") == 5);	/* staged ones count */
	CHECK(window_commit(w) == -1);
	CHECK(window_count(w) == 1);
	CHECK(window_held(w, "a") == 1);	/* ...and go when not written */
	CHECK(fsize(p) == size);
	/* room for two records and a half: a short write, cut off */
	set_fsize_limit((rlim_t)size + 2 * 32 + 16);
	for (i = 1; i <= 4; i++)
		CHECK(window_stage(w, "a", idn(i), 10, 1000, 10) == WINDOW_OK);
	CHECK(window_commit(w) == -1);
	CHECK(window_count(w) == 1);
	CHECK(fsize(p) == size);
	CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
	for (i = 1; i <= 4; i++)
		CHECK(window_stage(w, "a", idn(i), 10, 1000, 10) == WINDOW_OK);
	CHECK(window_commit(w) == 0);
	CHECK(window_count(w) == 5);
	CHECK(window_held(w, "a") == 5);
	CHECK(fsize(p) == size + 4 * 32);
	window_free(w);

	CHECK(truncate(p, size + 2 * 32 + 16) == 0);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_TORN);
	CHECK(w == NULL);
	CHECK(truncate(p, size + 2 * 32) == 0);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	CHECK(w != NULL && window_count(w) == 3);
	window_free(w);
	signal(SIGXFSZ, SIG_DFL);
	unlink(p);
}

static void
test_open_errors(void)
{
	const char *p = tpath("lock.win"), *l = tpath("link.win");
	struct window *w, *w2 = (struct window *)1;
	char err[256];

	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CREATED);
	/* a second user of the same file is refused, reset or not */
	CHECK(window_open(p, 16, 10, 300, 0, &w2, err, sizeof(err)) ==
	    WINDOW_OPEN_IOERR);
	CHECK(w2 == NULL);
	CHECK(strstr(err, p) != NULL);
	CHECK(window_open(p, 16, 10, 300, WINDOW_RESET, &w2, err,
	    sizeof(err)) == WINDOW_OPEN_IOERR);
	window_free(w);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	window_free(w);

	/* symlinks are not followed */
	CHECK(symlink(p, l) == 0);
	CHECK(window_open(l, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPEN_IOERR);
	CHECK(w == NULL);
	unlink(l);
	unlink(p);

	CHECK(window_open(tpath("nodir/x.win"), 16, 10, 300, 0, &w, err,
	    sizeof(err)) == WINDOW_OPEN_IOERR);
	CHECK(strstr(err, "nodir/x.win") != NULL);
	CHECK(!exists(tpath("nodir")));
}

static void
test_names(void)
{
	CHECK_STR(window_open_status_name(WINDOW_OPENED), "opened");
	CHECK_STR(window_open_status_name(WINDOW_CREATED), "created");
	CHECK_STR(window_open_status_name(WINDOW_CORRUPT), "corrupt");
	CHECK_STR(window_open_status_name(WINDOW_TORN), "torn");
	CHECK_STR(window_open_status_name(WINDOW_OVERCAPACITY),
	    "over-capacity");
	CHECK_STR(window_open_status_name(WINDOW_OPEN_IOERR), "io-error");
	CHECK_STR(window_open_status_name(WINDOW_MISSING), "missing");
}

/* VmRSS in kB, or -1. */
/* Append a record with a good check: rec's digest, this expires. */
static int
append_record(const char *path, const uint8_t *rec, int64_t expires)
{
	uint8_t h[56], r[32];
	int fd, i, rv = -1;

	if ((fd = open(path, O_RDWR | O_APPEND)) == -1)
		return -1;
	if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h)) {
		memcpy(r, rec, 16);
		for (i = 0; i < 8; i++)
			r[16 + i] = (uint8_t)((uint64_t)expires >> (8 * i));
		crypto_generichash(r + 24, 8, r, 24, h + 16, 16);
		if (write(fd, r, sizeof(r)) == (ssize_t)sizeof(r))
			rv = 0;
	}
	close(fd);
	return rv;
}
/*
 * The share: a sender at its share is refused while another is still
 * admitted; a replay is still a replay; an exempt sender is bound by
 * the capacity only; the capacity still holds for everyone.
 */
static void
test_share(void)
{
	struct window *w = window_new(32);
	unsigned i, ok = 0;

	CHECK(window_share(w) == 32);	/* a new window: its capacity */
	window_set_share(w, 8);
	CHECK(window_share(w) == 8);
	for (i = 0; i < 8; i++)
		CHECK(window_admit(w, "a", idn(i), 10, 100, 10) == WINDOW_OK);
	CHECK(window_admit(w, "a", idn(8), 10, 100, 10) == WINDOW_SHARE_FULL);
	CHECK(window_admit(w, "a", idn(0), 10, 100, 10) == WINDOW_REPLAY);
	CHECK(window_held(w, "a") == 8);
	CHECK(window_count(w) == 8);
	CHECK(window_admit(w, "b", idn(8), 10, 100, 10) == WINDOW_OK);
	CHECK(window_held(w, "b") == 1);
	CHECK(window_held(w, "nobody") == 0);
	CHECK(window_held(w, NULL) == 0);
	CHECK(window_senders(w) == 2);
	/* an expired envelope takes no entry, so no share either */
	CHECK(window_admit(w, "a", "late", 5, 10, 10) == WINDOW_OK);
	/* the box's own node: past the share, up to the capacity */
	window_exempt(w, "self");
	CHECK(window_senders(w) == 3);
	for (i = 0; i < 30; i++)
		ok += window_admit(w, "self", idn(i), 10, 100, 10) == WINDOW_OK;
	CHECK(ok == 32 - 9);
	CHECK(window_held(w, "self") == 23);
	CHECK(window_admit(w, "self", idn(99), 10, 100, 10) == WINDOW_FULL);
	CHECK(window_admit(w, "c", idn(99), 10, 100, 10) == WINDOW_FULL);
	window_free(w);

	w = window_new(16);
	window_set_share(w, 16);	/* share == capacity: window-full */
	for (i = 0; i < 16; i++)
		CHECK(window_admit(w, "a", idn(i), 10, 100, 10) == WINDOW_OK);
	CHECK(window_admit(w, "a", idn(16), 10, 100, 10) == WINDOW_FULL);
	window_free(w);
}

/*
 * A sender's entries expire: its share frees (at the sweep before a
 * refusal, or window_expire), and a sender holding nothing leaves the
 * table, its index reused by the next; an exempt sender stays.
 */
static void
test_share_expiry(void)
{
	struct window *w = window_new(64);
	unsigned i;

	window_set_share(w, 4);
	window_exempt(w, "self");
	for (i = 0; i < 4; i++)
		CHECK(window_admit(w, "a", idn(i), 10, 100, 10) == WINDOW_OK);
	CHECK(window_admit(w, "self", "x", 10, 100, 10) == WINDOW_OK);
	CHECK(window_admit(w, "a", idn(4), 10, 200, 99) == WINDOW_SHARE_FULL);
	/* at 100 they have expired: the sweep before refusing frees them */
	CHECK(window_admit(w, "a", idn(4), 10, 200, 100) == WINDOW_OK);
	CHECK(window_held(w, "a") == 1);
	CHECK(window_held(w, "self") == 0);
	CHECK(window_senders(w) == 2);
	CHECK(window_expire(w, 200) == 1);
	CHECK(window_held(w, "a") == 0);
	CHECK(window_senders(w) == 1);	/* "a" left, "self" stays */
	CHECK(window_count(w) == 0);
	for (i = 0; i < 4; i++)
		CHECK(window_admit(w, "b", idn(i), 200, 300, 200) == WINDOW_OK);
	CHECK(window_admit(w, "b", idn(4), 200, 300, 200) ==
	    WINDOW_SHARE_FULL);
	CHECK(window_admit(w, "a", idn(9), 200, 300, 200) == WINDOW_OK);
	CHECK(window_senders(w) == 3);
	/* the same (from, id) again after it expired: the slot is reused,
	 * its sender's hold moves with it, nothing is counted twice */
	CHECK(window_admit(w, "a", idn(9), 300, 400, 300) == WINDOW_OK);
	CHECK(window_held(w, "a") == 1);
	CHECK(window_count(w) == 5);
	window_free(w);
}

/* Staged entries count toward the share, within a batch and across. */
static void
test_share_batch(void)
{
	struct window *w = window_new(64);
	unsigned i;

	window_set_share(w, 6);
	for (i = 0; i < 4; i++)
		CHECK(window_admit(w, "a", idn(i), 10, 100, 10) == WINDOW_OK);
	CHECK(window_stage(w, "a", idn(4), 10, 100, 10) == WINDOW_OK);
	CHECK(window_stage(w, "b", idn(4), 10, 100, 10) == WINDOW_OK);
	CHECK(window_stage(w, "a", idn(5), 10, 100, 10) == WINDOW_OK);
	CHECK(window_held(w, "a") == 6);
	CHECK(window_stage(w, "a", idn(6), 10, 100, 10) == WINDOW_SHARE_FULL);
	CHECK(window_stage(w, "b", idn(6), 10, 100, 10) == WINDOW_OK);
	CHECK(window_commit(w) == 0);
	CHECK(window_held(w, "a") == 6);
	CHECK(window_held(w, "b") == 2);
	CHECK(window_count(w) == 8);
	CHECK(window_stage(w, "a", idn(6), 10, 100, 10) == WINDOW_SHARE_FULL);
	CHECK(window_commit(w) == 0);
	window_free(w);
}

/*
 * The state file names no sender: entries loaded from it are
 * unattributed, taking capacity but no one's share; their records are
 * unchanged (32 bytes, as before the share).
 */
static void
test_share_loaded(void)
{
	const char *p = tpath("share.win");
	struct window *w;
	char err[256];
	unsigned i;

	unlink(p);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CREATED);
	if (w == NULL)
		return;
	window_set_share(w, 4);
	for (i = 0; i < 4; i++)
		CHECK(window_admit(w, "a", idn(i), 10, 1000, 10) == WINDOW_OK);
	CHECK(window_admit(w, "a", idn(4), 10, 1000, 10) == WINDOW_SHARE_FULL);
	CHECK(fsize(p) == 56 + 4 * 32);
	window_free(w);

	CHECK(window_open(p, 16, 20, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	if (w == NULL)
		return;
	window_set_share(w, 4);
	CHECK(window_count(w) == 4);
	CHECK(window_held(w, NULL) == 4);
	CHECK(window_held(w, "a") == 0);
	CHECK(window_senders(w) == 0);
	CHECK(window_admit(w, "a", idn(0), 10, 1000, 20) == WINDOW_REPLAY);
	for (i = 4; i < 8; i++)
		CHECK(window_admit(w, "a", idn(i), 10, 1000, 20) == WINDOW_OK);
	CHECK(window_admit(w, "a", idn(8), 10, 1000, 20) == WINDOW_SHARE_FULL);
	for (i = 0; i < 4; i++) {
		CHECK(window_admit(w, "b", idn(i), 10, 1000, 20) == WINDOW_OK);
		CHECK(window_admit(w, "c", idn(i), 10, 1000, 20) == WINDOW_OK);
	}
	CHECK(window_count(w) == 16);
	CHECK(window_admit(w, "d", idn(0), 10, 1000, 20) == WINDOW_FULL);
	/* they expire like any other */
	CHECK(window_expire(w, 1000) == 16);
	CHECK(window_held(w, NULL) == 0);
	CHECK(window_senders(w) == 0);
	window_free(w);
	unlink(p);
}

/*
 * A slot keeps expires in 40 bits beside the sender's index: the
 * largest value round-trips through the table and the file, with a
 * sender index above 0 in the high bits; one past it is refused as a
 * clock gone wrong, and a file record past it is corrupt.
 */
static void
test_expires_bound(void)
{
	const int64_t max = WINDOW_EXPIRES_MAX;
	const char *p = tpath("bound.win");
	struct window *w;
	char err[256];
	uint8_t rec[32];
	int fd;

	CHECK(max == 1099511627775LL);
	unlink(p);
	CHECK(window_open(p, 16, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CREATED);
	if (w == NULL)
		return;
	CHECK(window_admit(w, "a", "1", 10, 100, 10) == WINDOW_OK);
	CHECK(window_admit(w, "b", "1", 10, max, 10) == WINDOW_OK);
	CHECK(window_admit(w, "b", "2", 10, max - 1, 10) == WINDOW_OK);
	CHECK(window_admit(w, "b", "3", 10, max + 1, 10) == WINDOW_CLOCK);
	CHECK(window_admit(w, "b", "4", 10, INT64_MAX, 10) == WINDOW_CLOCK);
	CHECK(window_held(w, "b") == 2);
	CHECK(window_admit(w, "b", "1", 10, max, max - 1) == WINDOW_REPLAY);
	CHECK(window_expire(w, max - 2) == 1);	/* a's only */
	CHECK(window_held(w, "b") == 2);
	CHECK(window_admit(w, "b", "2", 10, max, max - 2) == WINDOW_REPLAY);
	CHECK(window_expire(w, max - 1) == 1);
	CHECK(window_admit(w, "b", "1", 10, max, max - 1) == WINDOW_REPLAY);
	CHECK(window_held(w, "b") == 1);
	window_free(w);

	CHECK(window_open(p, 16, 20, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	if (w == NULL)
		return;
	CHECK(window_count(w) == 3);
	CHECK(window_admit(w, "b", "1", 10, max, 20) == WINDOW_REPLAY);
	CHECK(window_admit(w, "b", "2", 10, max, 20) == WINDOW_REPLAY);
	window_free(w);

	/* a well-checked record past the bound: not one this code wrote */
	CHECK((fd = open(p, O_RDONLY)) != -1);
	CHECK(pread(fd, rec, sizeof(rec), 56) == (ssize_t)sizeof(rec));
	close(fd);
	CHECK(window_open(p, 16, 20, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	window_free(w);
	CHECK(append_record(p, rec, max + 1) == 0);
	CHECK(window_open(p, 16, 20, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CORRUPT);
	CHECK(w == NULL && strstr(err, "past what the window holds") != NULL);
	unlink(p);
}

/*
 * Compaction rewrites the file and leaves the table, senders and
 * shares alone; the rewritten file loads unattributed.
 */
static void
test_share_compaction(void)
{
	const char *p = tpath("sharecompact.win");
	struct window *w;
	char err[256];
	unsigned i;

	unlink(p);
	CHECK(window_open(p, 4096, 10, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_CREATED);
	if (w == NULL)
		return;
	window_set_share(w, 2000);
	for (i = 0; i < 2000; i++)
		CHECK(window_admit(w, "a", idn(i), 10, 100, 10) == WINDOW_OK);
	for (i = 0; i < 10; i++)
		CHECK(window_admit(w, "b", idn(i), 10, 1000, 10) == WINDOW_OK);
	CHECK(window_admit(w, "a", "more", 10, 1000, 10) == WINDOW_SHARE_FULL);
	CHECK(window_expire(w, 100) == 2000);
	CHECK(fsize(p) == 56 + 10 * 32);
	CHECK(window_held(w, "a") == 0);
	CHECK(window_held(w, "b") == 10);
	CHECK(window_admit(w, "a", "more", 100, 1000, 100) == WINDOW_OK);
	CHECK(window_admit(w, "b", idn(0), 100, 1000, 100) == WINDOW_REPLAY);
	window_free(w);
	CHECK(window_open(p, 4096, 200, 300, 0, &w, err, sizeof(err)) ==
	    WINDOW_OPENED);
	CHECK(w != NULL && window_count(w) == 11 && window_held(w, NULL) == 11);
	window_free(w);
	unlink(p);
}

/*
 * Many senders: the sender table and its buckets grow past their first
 * size, every sender is found again, and those that hold nothing leave
 * (their indices reused) so the table does not grow with turnover.
 */
static void
test_share_many_senders(void)
{
	struct window *w = window_new(8192);
	char from[32];
	unsigned i, round, bad = 0;

	window_set_share(w, 2);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 3000; i++) {
			snprintf(from, sizeof(from), "n%u-%u", round, i);
			bad += window_admit(w, from, "1", 10, 100 + round, 10) !=
			    WINDOW_OK;
			bad += window_admit(w, from, "2", 10, 100 + round, 10) !=
			    WINDOW_OK;
			bad += window_admit(w, from, "3", 10, 100 + round, 10) !=
			    WINDOW_SHARE_FULL;
		}
		for (i = 0; i < 3000; i++) {
			snprintf(from, sizeof(from), "n%u-%u", round, i);
			bad += window_held(w, from) != 2;
		}
		CHECK(window_senders(w) == 3000);
		CHECK(window_expire(w, 100 + round) == 6000);
		CHECK(window_senders(w) == 0);
	}
	CHECK(bad == 0);
	window_free(w);
}

/*
 * Random admits and sweeps from several senders against a model:
 * after every sweep each sender holds exactly its live entries (the
 * index moves with its entry through backward-shift deletion), and a
 * sender is refused as share-full only when it holds its share.
 */
static void
test_share_model(void)
{
	enum { IDS = 3000, SENDERS = 5, OPS = 60000, SHARE = 300 };
	static int64_t model[IDS];
	static const char *names[SENDERS] = { "s0", "s1", "s2", "s3", "s4" };
	struct window *w = window_new(4096);
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	int64_t now = 1000, exp;
	unsigned op, id, bad = 0, shared = 0, i, k, live[SENDERS];
	enum window_verdict got;

	window_set_share(w, SHARE);
	for (op = 0; op < OPS; op++) {
		id = (unsigned)(rnd(&seed) % IDS);
		exp = now + 1 + (int64_t)(rnd(&seed) % 90);
		got = window_admit(w, names[id % SENDERS], idn(id), now, exp,
		    now);
		if (model[id] > now)
			bad += got != WINDOW_REPLAY;
		else if (got == WINDOW_SHARE_FULL) {
			shared++;
			bad += window_held(w, names[id % SENDERS]) < SHARE;
		} else {
			bad += got != WINDOW_OK;
			model[id] = exp;
		}
		if (op % 97 == 0)
			now++;
		if (op % 1009 == 0) {
			window_expire(w, now);
			memset(live, 0, sizeof(live));
			for (i = 0; i < IDS; i++)
				live[i % SENDERS] += model[i] > now;
			for (k = 0, i = 0; k < SENDERS; k++) {
				bad += window_held(w, names[k]) != live[k];
				i += live[k];
			}
			bad += window_count(w) != i;
		}
	}
	CHECK(bad == 0);
	CHECK(shared > 0);	/* the share was reached, or this tests less */
	window_free(w);
}

static long
rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void
test_memory(void)
{
	const unsigned n = 1000000;
	struct window *w;
	long before, after;
	unsigned i, ok = 0;

	CHECK(window_table_bytes(1000000) <= 64u * 1024 * 1024);
	CHECK(window_table_bytes(1000000) == ((size_t)1 << 21) * 24);
	CHECK(window_table_bytes(6) == 8 * 24);
	CHECK(window_table_bytes(7) == 16 * 24);	/* 7/8 > 3/4 */
	CHECK(window_table_bytes(SIZE_MAX) == SIZE_MAX);

	before = rss_kb();
	w = window_new(n);
	for (i = 0; i < n; i++)
		ok += window_admit(w, "node-a", idn(i), 10, 1000, 10) ==
		    WINDOW_OK;
	after = rss_kb();
	CHECK(ok == n);
	CHECK(window_count(w) == n);
	CHECK(window_admit(w, "node-a", idn(n), 10, 1000, 10) ==
	    WINDOW_FULL);
	CHECK(before > 0 && after > 0);
	CHECK(after - before <= 64L * 1024);
	fprintf(stderr, "memory: %u entries, rss growth %ld kB\n", n,
	    after - before);
	window_free(w);
}

static void
rm_scratch(void)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(scratch)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			unlink(tpath(de->d_name));
	closedir(d);
	if (rmdir(scratch) == -1)
		perror(scratch);
}

int
main(int argc, char *argv[])
{
	const char *base = argc > 1 ? argv[1] : getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/test_window.XXXXXX", base);
	if (mkdtemp(scratch) == NULL) {
		perror(scratch);
		return 2;
	}
	test_basic();
	test_expiry();
	test_expire_count();
	test_expire_earliest();
	test_capacity();
	test_model();
	test_create_and_persist();
	test_duplicate_records();
	test_torn();
	test_corrupt_record();
	test_corrupt_header();
	test_reset();
	test_missing();
	test_clock_back();
	test_overcapacity();
	test_compaction();
	test_ioerr();
	test_batch();
	test_batch_compaction();
	test_batch_ioerr();
	test_open_errors();
	test_names();
	test_share();
	test_share_expiry();
	test_share_batch();
	test_share_loaded();
	test_expires_bound();
	test_share_compaction();
	test_share_many_senders();
	test_share_model();
	test_memory();
	rm_scratch();
	return t_done();
}
