/*
 * window_mem.c - hive-bench-window: the memory of a full replay window,
 * against the 64 MB goal for a whole daemon process.
 *
 *   hive-bench-window [-n CAPACITY] [-f STATEFILE]
 *
 * Opens a window of CAPACITY entries (default 1000000, the daemon's
 * default) on STATEFILE (default a private temporary file, removed
 * after), admits CAPACITY distinct (from, id) pairs as the router would
 * (36-character UUID-like ids from 256 senders, live for an hour), and
 * prints this process's VmRSS and VmHWM before and after, the table's
 * size (window_table_bytes) and the ratio of the peak to the goal.
 * With -f naming the daemon's {state_dir}/window, the file is left full
 * for the daemon to load (bench/bus.sh memory), which is how the
 * daemon's own figure at a full window is measured without a million
 * signed messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "window.h"

#define GOAL_KB	(64 * 1024)

/* VmRSS and VmHWM of this process, in kB */
static void
self_mem(long *rss, long *hwm)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	*rss = *hwm = -1;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = atol(line + 6);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = atol(line + 6);
	}
	fclose(f);
}

static void
window_fill(struct window *w, size_t n, int64_t now)
{
	char from[32], id[64];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(from, sizeof(from), "bpeer-%zu", i % 256);
		snprintf(id, sizeof(id), "%08zx-0000-4000-8000-%012zx",
		    i, i * 2654435761u);
		if (window_admit(w, from, id, now, now + 3600, now) !=
		    WINDOW_OK) {
			fprintf(stderr, "entry %zu not admitted\n", i);
			exit(1);
		}
	}
}

int
main(int argc, char **argv)
{
	char tmp[] = "/tmp/hive-bench-window.XXXXXX", err[512];
	const char *path = NULL;
	struct window *w;
	size_t cap = 1000000;
	int64_t now = time(NULL);
	long rss0, hwm0, rss1, hwm1;
	int c, fd;

	while ((c = getopt(argc, argv, "n:f:")) != -1)
		if (c == 'n')
			cap = strtoul(optarg, NULL, 10);
		else if (c == 'f')
			path = optarg;
		else
			return 2;
	if (cap < 16)
		return 2;
	if (path == NULL) {
		if ((fd = mkstemp(tmp)) == -1)
			return 2;
		close(fd);
		unlink(tmp);	/* window_open creates it */
	}
	self_mem(&rss0, &hwm0);
	if (window_open(path != NULL ? path : tmp, cap, now, 60, 0, &w, err,
	    sizeof(err)), w == NULL) {
		fprintf(stderr, "window_open: %s\n", err);
		return 1;
	}
	window_fill(w, cap - window_count(w), now);
	if (window_sync(w) == -1)
		return 1;
	self_mem(&rss1, &hwm1);
	printf("window %zu entries: table %.1f MB; process VmRSS %.1f MB "
	    "(%.1f before), VmHWM %.1f MB\n", window_count(w),
	    window_table_bytes(cap) / 1048576.0, rss1 / 1024.0, rss0 / 1024.0,
	    hwm1 / 1024.0);
	printf("  ratio %.3f (VmHWM / 64 MB), goal <= 1: %s\n",
	    (double)hwm1 / GOAL_KB, hwm1 <= GOAL_KB ? "MET" : "MISSED");
	window_free(w);
	if (path == NULL)
		unlink(tmp);
	return 0;
}
