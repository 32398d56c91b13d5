/*
 * notify.c - sd_notify(3) readiness and watchdog, without libsystemd.
 *
 * NOTIFY_SOCKET is either a filesystem path ("/run/systemd/notify") or
 * an abstract socket name written with a leading '@'.  We send one
 * SOCK_DGRAM datagram per call from a fresh SOCK_CLOEXEC socket, so no
 * descriptor stays open to leak into a child.  systemd learns the
 * sender's pid from the socket credentials, so under privilege
 * separation only the process systemd started (the monitor, with
 * NotifyAccess=main) should call notify_send().
 *
 * Only absolute paths and abstract names are accepted: a relative
 * path would depend on the working directory, and systemd never hands
 * one out.  ("vsock:" addresses of systemd >= 254 are not supported.)
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

enum notify_state { NOTIFY_UNSET = 0, NOTIFY_OK, NOTIFY_BAD };

static enum notify_state notify_st;
static struct sockaddr_un notify_addr;
static socklen_t notify_addrlen;
static int64_t notify_wd_usec;

/* Fill notify_addr from the value of NOTIFY_SOCKET; 0 or -1. */
static int
notify_parse_socket(const char *s)
{
	size_t len = strlen(s);

	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	if (s[0] == '@') {
		/* abstract: a leading NUL, no terminating one */
		if (len < 2 || len > sizeof(notify_addr.sun_path))
			return -1;
		memcpy(notify_addr.sun_path + 1, s + 1, len - 1);
	} else if (s[0] == '/') {
		if (len >= sizeof(notify_addr.sun_path))
			return -1;
		memcpy(notify_addr.sun_path, s, len + 1);
	} else
		return -1;
	notify_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    len + (s[0] == '/'));
	return 0;
}

/* A positive decimal integer without sign, space or overflow; or -1. */
static int64_t
notify_parse_pos(const char *s)
{
	int64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v > 0 ? v : -1;
}

static void
notify_init_socket(const char *sock)
{
	notify_st = NOTIFY_UNSET;
	if (sock == NULL)
		return;
	if (notify_parse_socket(sock) == -1) {
		log_warnx("NOTIFY_SOCKET is not an absolute path or @name "
		    "that fits in sun_path; readiness will not be sent");
		notify_st = NOTIFY_BAD;
		return;
	}
	notify_st = NOTIFY_OK;
}

static void
notify_init_watchdog(const char *usec, const char *pid)
{
	int64_t v;

	notify_wd_usec = 0;
	if (usec == NULL)
		return;
	if ((v = notify_parse_pos(usec)) == -1) {
		log_warnx("WATCHDOG_USEC is not a positive integer; "
		    "watchdog off");
		return;
	}
	if (pid != NULL && notify_parse_pos(pid) != (int64_t)getpid())
		return;		/* meant for another process */
	notify_wd_usec = v;
}

void
notify_init(void)
{
	notify_init_socket(getenv("NOTIFY_SOCKET"));
	notify_init_watchdog(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"));
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int
notify_send(const char *state)
{
	size_t len = strlen(state);
	ssize_t n;
	int fd, saved;

	if (notify_st == NOTIFY_UNSET)
		return 0;
	if (notify_st == NOTIFY_BAD || len == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	n = sendto(fd, state, len, MSG_NOSIGNAL,
	    (const struct sockaddr *)&notify_addr, notify_addrlen);
	saved = errno;
	close(fd);
	if (n != (ssize_t)len) {
		errno = n == -1 ? saved : EMSGSIZE;
		return -1;
	}
	return 1;
}

int64_t
notify_watchdog_usec(void)
{
	return notify_wd_usec;
}
