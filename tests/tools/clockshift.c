/*
 * clockshift.c - test tool, an LD_PRELOAD library: shifts the wall
 * clock (time(), gettimeofday(), clock_gettime() of the CLOCK_REALTIME
 * family) of the process by a number of seconds the test changes while
 * the process runs, so the daemon's own clock can jump forward and back
 * without touching the machine's (tests/integration/test_faults_state.sh).
 * Monotonic clocks pass through: timeouts and libmosquitto's keepalive
 * do not see the jump, as with an NTP step.
 *
 *   HIVE_TEST_CLOCK_FILE=FILE LD_PRELOAD=.../libhive-test-clockshift.so CMD
 *
 * FILE holds a signed decimal offset in seconds, padded with spaces to
 * at least 32 bytes, and is rewritten in place (dd conv=notrunc): it is
 * mapped shared once, by the constructor, before the daemon's seccomp
 * filters and privilege drops, so every later read is a memory read.
 * Without the variable, or with an unreadable file, the offset is 0.
 */
#include <sys/mman.h>
#include <sys/time.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SHIFT_BYTES 32

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime;
static const volatile char *shift_map;

/* Also called before our constructor, by other libraries' own. */
static clock_gettime_fn
real(void)
{
	if (real_clock_gettime == NULL)
		real_clock_gettime = (clock_gettime_fn)dlsym(RTLD_NEXT,
		    "clock_gettime");
	return real_clock_gettime;
}

__attribute__((constructor)) static void
shift_init(void)
{
	const char *path = getenv("HIVE_TEST_CLOCK_FILE");
	void *p;
	int fd;

	(void)real();
	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	p = mmap(NULL, SHIFT_BYTES, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p != MAP_FAILED)
		shift_map = p;
}

static time_t
shift_seconds(void)
{
	char buf[SHIFT_BYTES + 1];
	size_t i;

	if (shift_map == NULL)
		return 0;
	for (i = 0; i < SHIFT_BYTES; i++)
		buf[i] = shift_map[i];
	buf[SHIFT_BYTES] = '\0';
	return (time_t)strtoll(buf, NULL, 10);
}

static int
is_realtime(clockid_t id)
{
	return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc = real()(id, ts);

	if (rc == 0 && is_realtime(id))
		ts->tv_sec += shift_seconds();
	return rc;
}

time_t
time(time_t *t)
{
	struct timespec ts;
	time_t now;

	real()(CLOCK_REALTIME, &ts);
	now = ts.tv_sec + shift_seconds();
	if (t != NULL)
		*t = now;
	return now;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	(void)tz;
	real()(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec + shift_seconds();
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}
