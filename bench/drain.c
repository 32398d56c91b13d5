/*
 * drain.c - hive-bench-drain: how long a stopped process takes to work
 * through a backlog, measured by the lines it writes.
 *
 *   hive-bench-drain -p PID -f FILE -n COUNT [-m TEXT] [-w SECONDS]
 *
 * Notes the size of FILE, sends SIGCONT to PID (stopped by the caller
 * while the backlog was published) and starts the clock; then follows
 * FILE from that offset until COUNT new lines containing TEXT (any line
 * without -m) have been written.  Prints "drained COUNT SECONDS RATE".
 * Polls every millisecond with read(2) from the last offset: no
 * process forked, next to nothing taken from the processes measured.
 * Exit 1 if the deadline (-w, default 120 s) passes first, with what
 * was counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct follow {
	int	 fd;
	char	 line[65536];	/* the unfinished line so far */
	size_t	 len;
	int	 overlong;	/* the current line outgrew line[] */
	const char *match;
	long	 count;
};

static void
follow_line(struct follow *f)
{
	f->line[f->len] = '\0';
	if (!f->overlong && (f->match == NULL ||
	    strstr(f->line, f->match) != NULL))
		f->count++;
	f->len = 0;
	f->overlong = 0;
}

/* Read what was appended since the last call; count finished lines. */
static void
follow_read(struct follow *f)
{
	char buf[65536];
	ssize_t n, i;

	while ((n = read(f->fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n')
				follow_line(f);
			else if (f->len < sizeof(f->line) - 1)
				f->line[f->len++] = buf[i];
			else
				f->overlong = 1;
		}
	if (n == -1 && errno != EINTR) {
		perror("read");
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	static struct follow f;
	struct timespec ms = { 0, 1000000 };
	const char *path = NULL;
	long want = 0;
	int64_t t0, deadline;
	double secs;
	pid_t pid = 0;
	int c, wait_s = 120;

	while ((c = getopt(argc, argv, "p:f:n:m:w:")) != -1)
		if (c == 'p')
			pid = (pid_t)atol(optarg);
		else if (c == 'f')
			path = optarg;
		else if (c == 'n')
			want = atol(optarg);
		else if (c == 'm')
			f.match = optarg;
		else if (c == 'w')
			wait_s = atoi(optarg);
		else
			return 2;
	if (pid <= 0 || path == NULL || want <= 0 || wait_s <= 0)
		return 2;
	if ((f.fd = open(path, O_RDONLY)) == -1 ||
	    lseek(f.fd, 0, SEEK_END) == -1) {
		perror(path);
		return 2;
	}
	t0 = now_ns();
	if (kill(pid, SIGCONT) == -1) {
		perror("SIGCONT");
		return 2;
	}
	deadline = t0 + (int64_t)wait_s * 1000000000;
	while (follow_read(&f), f.count < want && now_ns() < deadline)
		nanosleep(&ms, NULL);
	secs = (double)(now_ns() - t0) / 1e9;
	printf("drained %ld %.4f %.0f\n", f.count, secs, f.count / secs);
	return f.count >= want ? 0 : 1;
}
