/*
 * test_notify.c - sd_notify without libsystemd: a datagram reaches a
 * socket bound at a path and at an abstract name, nothing is sent
 * without NOTIFY_SOCKET, bad addresses fail, WATCHDOG_USEC and
 * WATCHDOG_PID are parsed strictly, and the variables are gone from
 * the environment after notify_init().
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"
#include "t.h"

static char scratch[96];	/* sun_path is 108 bytes */

/* A datagram socket bound at addr; exits on failure. */
static int
bound(const struct sockaddr_un *sun, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd == -1 || bind(fd, (const struct sockaddr *)sun, len) == -1) {
		perror("bind");
		exit(2);
	}
	return fd;
}

/* The datagram waiting on fd as a string, or "" if none. */
static const char *
got(int fd)
{
	static char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
env_gone(void)
{
	CHECK(getenv("NOTIFY_SOCKET") == NULL);
	CHECK(getenv("WATCHDOG_USEC") == NULL);
	CHECK(getenv("WATCHDOG_PID") == NULL);
}

static void
test_path_socket(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/notify", scratch);
	fd = bound(&sun, sizeof(sun));
	setenv("NOTIFY_SOCKET", sun.sun_path, 1);
	notify_init();
	env_gone();
	CHECK(notify_send("READY=1") == 1);
	CHECK_STR(got(fd), "READY=1");
	CHECK(notify_send("READY=1\nSTATUS=connected") == 1);
	CHECK_STR(got(fd), "READY=1\nSTATUS=connected");
	CHECK(notify_send("") == -1 && errno == EINVAL);
	CHECK_STR(got(fd), "");
	/* the receiver went away: an error, not a crash */
	close(fd);
	unlink(sun.sun_path);
	CHECK(notify_send("STOPPING=1") == -1);
}

static void
test_abstract_socket(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char name[64], env[80];
	socklen_t len;
	int fd;

	snprintf(name, sizeof(name), "hive-test-notify-%ld", (long)getpid());
	memcpy(sun.sun_path + 1, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(name));
	fd = bound(&sun, len);
	snprintf(env, sizeof(env), "@%s", name);
	setenv("NOTIFY_SOCKET", env, 1);
	notify_init();
	env_gone();
	CHECK(notify_send("READY=1") == 1);
	CHECK_STR(got(fd), "READY=1");
	close(fd);
}

static void
test_unset(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/quiet", scratch);
	fd = bound(&sun, sizeof(sun));
	unsetenv("NOTIFY_SOCKET");
	notify_init();
	CHECK(notify_send("READY=1") == 0);
	CHECK_STR(got(fd), "");
	/* a second init after the first cleared the env: still unset */
	setenv("NOTIFY_SOCKET", sun.sun_path, 1);
	notify_init();
	notify_init();
	CHECK(notify_send("READY=1") == 0);
	CHECK_STR(got(fd), "");
	close(fd);
	unlink(sun.sun_path);
}

static void
test_bad_socket(void)
{
	char longpath[200];

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longpath, 1);
	notify_init();
	env_gone();
	CHECK(notify_send("READY=1") == -1);
	setenv("NOTIFY_SOCKET", longpath + 50, 1);	/* relative */
	notify_init();
	CHECK(notify_send("READY=1") == -1);
	setenv("NOTIFY_SOCKET", "@", 1);
	notify_init();
	CHECK(notify_send("READY=1") == -1);
	setenv("NOTIFY_SOCKET", "", 1);
	notify_init();
	CHECK(notify_send("READY=1") == -1);
}

/* Set (or unset, for NULL) both variables, init, return the interval. */
static int64_t
watchdog(const char *usec, const char *pid)
{
	if (usec != NULL)
		setenv("WATCHDOG_USEC", usec, 1);
	else
		unsetenv("WATCHDOG_USEC");
	if (pid != NULL)
		setenv("WATCHDOG_PID", pid, 1);
	else
		unsetenv("WATCHDOG_PID");
	notify_init();
	env_gone();
	return notify_watchdog_usec();
}

static void
test_watchdog(void)
{
	char me[32], other[32];

	snprintf(me, sizeof(me), "%ld", (long)getpid());
	snprintf(other, sizeof(other), "%ld", (long)getpid() + 1);
	CHECK(watchdog(NULL, NULL) == 0);
	CHECK(watchdog("30000000", NULL) == 30000000);
	CHECK(watchdog("30000000", me) == 30000000);
	CHECK(watchdog("30000000", other) == 0);
	CHECK(watchdog("30000000", "") == 0);
	CHECK(watchdog("30000000", "x") == 0);
	CHECK(watchdog(NULL, me) == 0);
	CHECK(watchdog("9223372036854775807", NULL) == INT64_MAX);
	CHECK(watchdog("9223372036854775808", NULL) == 0);
	CHECK(watchdog("0", NULL) == 0);
	CHECK(watchdog("-5", NULL) == 0);
	CHECK(watchdog("+5", NULL) == 0);
	CHECK(watchdog(" 5", NULL) == 0);
	CHECK(watchdog("5s", NULL) == 0);
	CHECK(watchdog("", NULL) == 0);
	CHECK(watchdog("1", NULL) == 1);
	/* captured once: a later init with a clean env resets it */
	notify_init();
	CHECK(notify_watchdog_usec() == 0);
}

int
main(void)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/test_notify.XXXXXX", base);
	if (strlen(scratch) > 80 || mkdtemp(scratch) == NULL) {
		perror(scratch);
		return 2;
	}
	test_path_socket();
	test_abstract_socket();
	test_unset();
	test_bad_socket();
	test_watchdog();
	if (rmdir(scratch) == -1)
		perror(scratch);
	return t_done();
}
