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
	CHECK(window_commit(w) == -1);
	CHECK(window_count(w) == 1);
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
	test_memory();
	rm_scratch();
	return t_done();
}
