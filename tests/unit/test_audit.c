/*
 * test_audit.c - the audit log writer: lines appended verbatim, bad
 * lines refused and not written, the file's mode and type checks,
 * rotation by size (keep > 0, keep == 0, no limit), a torn tail and a
 * write failure; and the writer's side, audit_put_str: jansson's bytes
 * for valid UTF-8, DEL and invalid UTF-8 escaped, and always a line
 * audit_line_ok takes.
 *
 * usage: test_audit [scratch-dir]
 * A private directory is made inside scratch-dir (default $TMPDIR or
 * /tmp) and removed at the end.
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

#include <jansson.h>

#include "audit.h"
#include "t.h"

static char scratch[4096];
static char err[8192];

/* scratch/name into buf (4200 bytes), for paths a test keeps. */
static void
tname(char *buf, const char *name)
{
	snprintf(buf, 4200, "%s/%s", scratch, name);
}

/* scratch/name in one of 4 rotating buffers: use it at once. */
static const char *
tpath(const char *name)
{
	static char buf[4][4200];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", scratch, name);
	return buf[n];
}

/* The whole file as a string ("" if missing), in a static buffer. */
static const char *
slurp(const char *path)
{
	static char buf[4][65536];
	static int n;
	ssize_t len = 0;
	int fd;

	n = (n + 1) % 4;
	buf[n][0] = '\0';
	if ((fd = open(path, O_RDONLY)) == -1)
		return buf[n];
	len = read(fd, buf[n], sizeof(buf[n]) - 1);
	close(fd);
	buf[n][len > 0 ? len : 0] = '\0';
	return buf[n];
}

static void
spit(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd == -1 || write(fd, s, strlen(s)) != (ssize_t)strlen(s) ||
	    fchmod(fd, mode) == -1) {
		perror(path);
		exit(2);
	}
	close(fd);
}

static int
exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* Line i of the rotation tests: 29 bytes + newline = 30 bytes. */
static const char *
line(int i)
{
	static char buf[4][64];
	static int n;

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "{\"event\":\"accepted\",\"n\":%04d}",
	    i);
	return buf[n];
}

static int
put(struct audit *a, const char *s)
{
	return audit_write(a, s, strlen(s));
}

/* Lines from..to (inclusive) joined with newlines, as in the file. */
static const char *
lines(int from, int to)
{
	static char buf[4][4096];
	static int n;
	size_t off = 0;
	int i;

	n = (n + 1) % 4;
	buf[n][0] = '\0';
	for (i = from; i <= to; i++)
		off += (size_t)snprintf(buf[n] + off, sizeof(buf[n]) - off,
		    "%s\n", line(i));
	return buf[n];
}

static void
test_append_and_mode(void)
{
	char p[4200];
	struct audit *a;
	struct stat sb;

	tname(p, "a.log");
	umask(0);	/* the file must be 0600 whatever the umask */
	a = audit_open(p, 0, 3, err, sizeof(err));
	CHECK(a != NULL);
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0600);
	CHECK(put(a, "{\"ts\":1,\"event\":\"refused\"}") == 0);
	CHECK(put(a, "{}") == 0);
	CHECK_STR(slurp(p), "{\"ts\":1,\"event\":\"refused\"}\n{}\n");
	/* only len bytes are taken: no NUL terminator needed */
	CHECK(audit_write(a, "{\"x\":1}garbage", 7) == 0);
	CHECK(audit_sync(a) == 0);
	audit_close(a);
	/* reopening appends */
	CHECK((a = audit_open(p, 0, 3, err, sizeof(err))) != NULL);
	CHECK(put(a, "{\"y\":2}") == 0);
	audit_close(a);
	CHECK_STR(slurp(p), "{\"ts\":1,\"event\":\"refused\"}\n{}\n"
	    "{\"x\":1}\n{\"y\":2}\n");
	unlink(p);
	umask(022);
}

static void
test_line_ok(void)
{
	static char big[AUDIT_LINE_MAX + 2];
	const char *why = NULL;

	CHECK(audit_line_ok("{}", 2, &why) == 0 && why == NULL);
	CHECK(audit_line_ok("{\"t\":\"a b ~\"}", 13, NULL) == 0);
	CHECK(audit_line_ok("{", 1, &why) == -1 && why != NULL);
	CHECK(audit_line_ok("", 0, &why) == -1);
	CHECK(audit_line_ok("[1]", 3, &why) == -1);
	CHECK(audit_line_ok("{\"a\":1} ", 8, &why) == -1);
	CHECK(audit_line_ok(" {\"a\":1}", 8, &why) == -1);
	CHECK(audit_line_ok("{\"a\":\"x\ny\"}", 11, &why) == -1);
	CHECK(audit_line_ok("{\"a\":\"x\ty\"}", 11, &why) == -1);
	CHECK(audit_line_ok("{\"a\":\"x\x7fy\"}", 11, &why) == -1);
	CHECK(audit_line_ok("{\"a\":\"\xc3\xa9\"}", 10, &why) == -1);
	CHECK(audit_line_ok("{\"a\":\"\0\"}", 9, &why) == -1);
	CHECK(why != NULL && strstr(why, "control") != NULL);
	memset(big, 'x', sizeof(big));
	big[0] = '{';
	big[AUDIT_LINE_MAX - 1] = '}';
	CHECK(audit_line_ok(big, AUDIT_LINE_MAX, &why) == 0);
	big[AUDIT_LINE_MAX] = '}';
	CHECK(audit_line_ok(big, AUDIT_LINE_MAX + 1, &why) == -1);
	CHECK(why != NULL && strstr(why, "8192") != NULL);
}

static void
test_bad_lines_not_written(void)
{
	static char big[AUDIT_LINE_MAX + 1];
	const char *bad[] = {
		"{\"a\":\"one\ntwo\"}", "{\"a\":\"\x1b[2J\"}",
		"{\"a\":\"\xe2\x82\xac\"}", "x{\"a\":1}", "{\"a\":1}\n", "{",
	};
	char p[4200];
	struct audit *a;
	size_t i;

	tname(p, "bad.log");
	CHECK((a = audit_open(p, 0, 1, err, sizeof(err))) != NULL);
	CHECK(put(a, "{\"first\":1}") == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		CHECK(put(a, bad[i]) == -1 && errno == EINVAL);
	}
	memset(big, 'x', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	CHECK(audit_write(a, big, sizeof(big)) == -1 && errno == EINVAL);
	CHECK(put(a, "{\"last\":1}") == 0);
	audit_close(a);
	CHECK_STR(slurp(p), "{\"first\":1}\n{\"last\":1}\n");
	unlink(p);
}

/* max_size 100 holds three 30-byte lines; keep 2 old files. */
static void
test_rotation(void)
{
	char p[4200];
	struct audit *a;
	struct stat sb;
	int i;

	tname(p, "r.log");
	CHECK((a = audit_open(p, 100, 2, err, sizeof(err))) != NULL);
	CHECK(strlen(line(1)) == 29);	/* + newline: 30 */
	for (i = 1; i <= 3; i++)
		CHECK(put(a, line(i)) == 0);
	CHECK(!exists(tpath("r.log.1")));	/* 90 bytes: no rotation yet */
	CHECK(put(a, line(4)) == 0);
	CHECK_STR(slurp(tpath("r.log.1")), lines(1, 3));
	CHECK_STR(slurp(p), lines(4, 4));
	for (i = 5; i <= 10; i++)
		CHECK(put(a, line(i)) == 0);
	audit_close(a);
	CHECK_STR(slurp(p), lines(10, 10));
	CHECK_STR(slurp(tpath("r.log.1")), lines(7, 9));
	CHECK_STR(slurp(tpath("r.log.2")), lines(4, 6));
	CHECK(!exists(tpath("r.log.3")));
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0600);
	/* a reopened log counts what is already in the file */
	CHECK((a = audit_open(p, 100, 2, err, sizeof(err))) != NULL);
	CHECK(put(a, line(11)) == 0 && put(a, line(12)) == 0);
	CHECK(put(a, line(13)) == 0);
	audit_close(a);
	CHECK_STR(slurp(p), lines(13, 13));
	CHECK_STR(slurp(tpath("r.log.1")), lines(10, 12));
	CHECK_STR(slurp(tpath("r.log.2")), lines(7, 9));
	CHECK(!exists(tpath("r.log.3")));
	unlink(p);
	unlink(tpath("r.log.1"));
	unlink(tpath("r.log.2"));
}

/* A batch: in order, one file when it fits, rotated between lines when
 * the limit falls inside it, nothing written when one line is bad. */
static void
test_batch(void)
{
	char p[4200];
	const char *b[4];
	struct audit *a;

	tname(p, "b.log");
	CHECK((a = audit_open(p, 100, 2, err, sizeof(err))) != NULL);
	b[0] = "{\"a\":1}";
	b[1] = "{\"x\":\u00e9}";	/* not ASCII: the whole batch is refused */
	CHECK(audit_write_lines(a, b, 2) == -1 && errno == EINVAL);
	CHECK(!exists(p) || strcmp(slurp(p), "") == 0);
	b[0] = strdup(line(1));
	b[1] = strdup(line(2));
	CHECK(audit_write_lines(a, b, 2) == 0);
	CHECK_STR(slurp(p), lines(1, 2));
	free((void *)b[0]);
	free((void *)b[1]);
	/* 60 bytes used: 3, 4 and 5 cross the 100-byte limit after 3 */
	b[0] = strdup(line(3));
	b[1] = strdup(line(4));
	b[2] = strdup(line(5));
	CHECK(audit_write_lines(a, b, 3) == 0);
	audit_close(a);
	CHECK_STR(slurp(tpath("b.log.1")), lines(1, 3));
	CHECK_STR(slurp(p), lines(4, 5));
	for (int i = 0; i < 3; i++)
		free((void *)b[i]);
	unlink(p);
	unlink(tpath("b.log.1"));
}

/* A line bigger than max_size is written whole, in a file of its own. */
static void
test_rotation_big_line(void)
{
	char p[4200];
	struct audit *a;

	tname(p, "big.log");
	CHECK((a = audit_open(p, 10, 1, err, sizeof(err))) != NULL);
	CHECK(put(a, line(1)) == 0);		/* empty file: no rotation */
	CHECK(!exists(tpath("big.log.1")));
	CHECK(put(a, line(2)) == 0);
	audit_close(a);
	CHECK_STR(slurp(p), lines(2, 2));
	CHECK_STR(slurp(tpath("big.log.1")), lines(1, 1));
	unlink(p);
	unlink(tpath("big.log.1"));
}

/*
 * keep == 0: nothing is renamed or lost; at the size limit the log is
 * only reopened, which follows an outside rotation.  max_size == 0:
 * never rotates.
 */
static void
test_keep_zero_and_no_limit(void)
{
	char p[4200];
	struct audit *a;
	int i;

	tname(p, "k.log");
	CHECK((a = audit_open(p, 100, 0, err, sizeof(err))) != NULL);
	for (i = 1; i <= 7; i++)
		CHECK(put(a, line(i)) == 0);
	CHECK(!exists(tpath("k.log.1")));
	CHECK_STR(slurp(p), lines(1, 7));
	/*
	 * Reopens happened after lines 3 and 6 (30 bytes counted since);
	 * logrotate moves the file away, and the reopen before line 10
	 * follows it.
	 */
	CHECK(rename(p, tpath("k.log.old")) == 0);
	for (i = 8; i <= 10; i++)
		CHECK(put(a, line(i)) == 0);
	audit_close(a);
	CHECK_STR(slurp(tpath("k.log.old")), lines(1, 9));
	CHECK_STR(slurp(p), lines(10, 10));
	unlink(p);
	unlink(tpath("k.log.old"));
	CHECK((a = audit_open(p, 0, 5, err, sizeof(err))) != NULL);
	for (i = 1; i <= 50; i++)
		CHECK(put(a, line(i)) == 0);
	audit_close(a);
	CHECK(!exists(tpath("k.log.1")));
	CHECK_STR(slurp(p), lines(1, 50));
	unlink(p);
}

static void
test_refused_files(void)
{
	char p[4200], target[4200];

	tname(p, "f.log");
	tname(target, "target");

	/* a symlink at path, even to a good 0600 file */
	spit(target, "", 0600);
	CHECK(symlink(target, p) == 0);
	CHECK(audit_open(p, 0, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "symbolic link") != NULL);
	unlink(p);
	/* an existing 0644 file is refused, not chmod-ed */
	spit(p, "{\"old\":1}\n", 0644);
	CHECK(audit_open(p, 0, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "group or others") != NULL);
	CHECK(strstr(err, "0644") != NULL);
	spit(p, "{\"old\":1}\n", 0640);
	CHECK(audit_open(p, 0, 1, err, sizeof(err)) == NULL);
	CHECK_STR(slurp(p), "{\"old\":1}\n");
	unlink(p);
	/* a directory, and a FIFO (must not block the open) */
	CHECK(mkdir(p, 0700) == 0);
	CHECK(audit_open(p, 0, 1, err, sizeof(err)) == NULL);
	rmdir(p);
	CHECK(mkfifo(p, 0600) == 0);
	CHECK(audit_open(p, 0, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not a regular file") != NULL);
	unlink(p);
	/* bad arguments */
	CHECK(audit_open(p, 0, AUDIT_KEEP_MAX + 1, err, sizeof(err)) == NULL);
	CHECK(audit_open(p, -1, 1, err, sizeof(err)) == NULL);
	CHECK(!exists(p));
	unlink(target);
}

/* A file ending in a torn line gets a newline before the next line. */
static void
test_torn_tail(void)
{
	char p[4200];
	struct audit *a;

	tname(p, "t.log");
	spit(p, "{\"a\":1}\n{\"b\":", 0600);
	CHECK((a = audit_open(p, 0, 1, err, sizeof(err))) != NULL);
	CHECK(put(a, "{\"c\":3}") == 0);
	audit_close(a);
	CHECK_STR(slurp(p), "{\"a\":1}\n{\"b\":\n{\"c\":3}\n");
	unlink(p);
}

/*
 * RLIMIT_FSIZE makes a real write fail part-way: the writer reports
 * the errno of the failure (EFBIG here, ENOSPC on a full disk), and
 * the next open closes the torn line.
 */
static void
test_write_failure(void)
{
	char p[4200];
	struct rlimit saved, rl;
	struct audit *a;

	tname(p, "w.log");
	signal(SIGXFSZ, SIG_IGN);
	CHECK(getrlimit(RLIMIT_FSIZE, &saved) == 0);
	CHECK((a = audit_open(p, 0, 1, err, sizeof(err))) != NULL);
	rl = saved;
	rl.rlim_cur = 45;
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	CHECK(put(a, line(1)) == 0);
	errno = 0;
	CHECK(put(a, line(2)) == -1 && errno == EFBIG);
	CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
	signal(SIGXFSZ, SIG_DFL);
	audit_close(a);
	CHECK(strlen(slurp(p)) == 45);
	CHECK((a = audit_open(p, 0, 1, err, sizeof(err))) != NULL);
	CHECK(put(a, line(3)) == 0);
	audit_close(a);
	CHECK(strncmp(slurp(p), lines(1, 1), 30) == 0);
	CHECK(strcmp(slurp(p) + 45, "\n{\"event\":\"accepted\",\"n\":0003}\n")
	    == 0);
	unlink(p);
}

static void
rm_scratch(void)
{
	struct dirent *de;
	DIR *d = opendir(scratch);

	if (d != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				unlink(tpath(de->d_name));
		closedir(d);
	}
	if (rmdir(scratch) == -1)
		perror(scratch);
}

/* audit_put_str(s) against json_dumps(JSON_ENSURE_ASCII) of the same
 * string; and {"k":...} a line the monitor takes. */
static void
put_like_jansson(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char *want = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) :
	    NULL;
	struct buf b;

	CHECK(want != NULL);
	if (want == NULL)
		fprintf(stderr, "jansson refused %zu bytes: %.*s\n", n, (int)n, s);
	buf_init(&b, 1 << 20);
	buf_adds(&b, "{\"k\":");
	audit_put_str(&b, s, n);
	buf_addc(&b, '}');
	CHECK(buf_cstr(&b) != NULL);
	if (want != NULL) {
		CHECK(b.len == strlen(want) + 6 &&
		    memcmp(b.p + 5, want, strlen(want)) == 0);
		if (b.len != strlen(want) + 6)
			fprintf(stderr, "got %s, jansson %s\n", b.p, want);
	}
	CHECK(audit_line_ok(b.p, b.len, NULL) == 0);
	free(want);
	json_decref(j);
	buf_free(&b);
}

/* the string audit_put_str makes of s[0..n) */
static const char *
escaped(const char *s, size_t n)
{
	static char out[256];
	struct buf b;

	buf_init(&b, sizeof(out) - 1);
	audit_put_str(&b, s, n);
	snprintf(out, sizeof(out), "%s", buf_cstr(&b) ? b.p : "(error)");
	buf_free(&b);
	return out;
}

/* one code point as UTF-8 into p; its length */
static size_t
utf8(uint32_t cp, char *p)
{
	if (cp < 0x80)
		return p[0] = (char)cp, 1;
	if (cp < 0x800)
		return p[0] = (char)(0xc0 | cp >> 6),
		    p[1] = (char)(0x80 | (cp & 0x3f)), 2;
	if (cp < 0x10000)
		return p[0] = (char)(0xe0 | cp >> 12),
		    p[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
		    p[2] = (char)(0x80 | (cp & 0x3f)), 3;
	return p[0] = (char)(0xf0 | cp >> 18),
	    p[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
	    p[2] = (char)(0x80 | (cp >> 6 & 0x3f)),
	    p[3] = (char)(0x80 | (cp & 0x3f)), 4;
}

static void
test_put_str(void)
{
	char s[4096];
	size_t n;
	uint32_t cp, seed = 12345;
	int i, k;

	put_like_jansson("", 0);
	put_like_jansson("pg1-18890", 9);
	put_like_jansson("a \"quoted\" \\ back/slash", 24);
	for (cp = 1; cp < 0x20; cp++) {		/* every control character */
		s[0] = 'x', s[1] = (char)cp, s[2] = 'y';
		put_like_jansson(s, 3);
	}
	put_like_jansson("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80", 14);
	/* random valid UTF-8: every range, surrogates skipped */
	for (i = 0; i < 200; i++) {
		for (n = 0, k = 0; k < 40; k++) {
			seed = seed * 1103515245 + 12345;
			switch (seed >> 28 & 3) {
			case 0: cp = 0x20 + (seed >> 8) % 0x5f; break;
			case 1: cp = 0x80 + (seed >> 4) % 0x780; break;
			case 2: cp = 0x800 + (seed >> 4) % 0xf800; break;
			default: cp = 0x10000 + (seed >> 2) % 0x100000; break;
			}
			if (cp == 0x7f || (cp >= 0xd800 && cp <= 0xdfff))
				cp = 'z';
			n += utf8(cp, s + n);
		}
		put_like_jansson(s, n);
	}
	/* where jansson's output is not a line the monitor takes */
	CHECK_STR(escaped("a\x7f", 2), "\"a\\u007F\"");
	CHECK_STR(escaped("\xc3", 1), "\"\\uFFFD\"");	/* cut */
	CHECK_STR(escaped("a\xe4\xb8", 3), "\"a\\uFFFD\\uFFFD\"");
	CHECK_STR(escaped("\xc0\xaf", 2), "\"\\uFFFD\\uFFFD\"");	/* overlong */
	CHECK_STR(escaped("\xed\xa0\x80", 3),			/* a surrogate */
	    "\"\\uFFFD\\uFFFD\\uFFFD\"");
	CHECK_STR(escaped("\xf4\x90\x80\x80", 4),		/* > U+10FFFF */
	    "\"\\uFFFD\\uFFFD\\uFFFD\\uFFFD\"");
	CHECK_STR(escaped("\xff!", 2), "\"\\uFFFD!\"");
	CHECK_STR(escaped("nul\0in", 6), "\"nul\\u0000in\"");
}

int
main(int argc, char *argv[])
{
	const char *base = argc > 1 ? argv[1] : getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/test_audit.XXXXXX", base);
	if (mkdtemp(scratch) == NULL) {
		perror(scratch);
		return 2;
	}
	test_append_and_mode();
	test_line_ok();
	test_bad_lines_not_written();
	test_rotation();
	test_batch();
	test_rotation_big_line();
	test_keep_zero_and_no_limit();
	test_refused_files();
	test_torn_tail();
	test_write_failure();
	test_put_str();
	rm_scratch();
	return t_done();
}
