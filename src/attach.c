/*
 * attach.c - a role's side of split mode (attach.h): connect to the
 * monitor, say which role we are, receive our descriptors and put them
 * where a forked child finds them (daemon.h).  After this the role runs
 * exactly as it does as the monitor's child.
 *
 * What arrives is checked against what this process computes from its
 * own copy of the configuration and policy: the descriptor layout, the
 * number of injectors and, for an injector, that its slot's user is the
 * account we run as.  A monitor that loaded a different policy (edited
 * between two unit starts) is refused here instead of misrouting.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "instances.h"
#include "ipc.h"
#include "log.h"

#define ATTACH_WAIT_S	10	/* the monitor answers at once */
/* The role units start before the monitor's (they are ordered Before=
 * it, so that stopping reaches the monitor first: docs/systemd.md), so
 * the socket may not be there yet. */
#define ATTACH_CONNECT_S	30

static int
attach_connect(const char *path)
{
	struct sockaddr_un sun;
	struct timeval tv = { ATTACH_WAIT_S, 0 };
	int s, tries;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("attach: %s: path too long", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	for (tries = 0;; tries++) {
		if ((s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) ==
		    -1)
			fatal("attach: socket");
		if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			break;
		if ((errno != ENOENT && errno != ECONNREFUSED) ||
		    tries >= ATTACH_CONNECT_S * 10)
			fatal("attach: connect %s (is the monitor running with "
			    "-A?)", path);
		if (tries == 0)
			log_info("waiting for the monitor at %s", path);
		close(s);
		usleep(100000);
	}
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		fatal("attach: SO_RCVTIMEO");
	return s;
}

/* The answer and its descriptors; returns how many arrived. */
static int
attach_recv(int s, struct attach_reply *rep, int *fds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * ATTACH_MAX_FDS)];
	} cm;
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c;
	ssize_t n;
	int nfds = 0;

	do {
		n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		fatal("attach: no answer from the monitor");
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    nfds != 0)
			fatalx("attach: unexpected control message");
		nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)nfds);
	}
	if (n != (ssize_t)sizeof(*rep) || (mh.msg_flags & (MSG_TRUNC |
	    MSG_CTRUNC)) || rep->magic != ATTACH_MAGIC ||
	    rep->version != ATTACH_VERSION)
		fatalx("attach: malformed answer from the monitor");
	return nfds;
}

/* The layout a forked child of this policy would get (daemon.h). */
static uint32_t
attach_layout(int router, size_t ninjectors, int32_t *t)
{
	uint32_t n = 0;
	size_t k;

	t[n++] = DAEMON_FD_MONITOR;
	if (!router) {
		t[n++] = DAEMON_FD_PEER;
		return n;
	}
	t[n++] = DAEMON_FD_CONTROL;
	for (k = 0; k < ninjectors; k++)
		t[n++] = DAEMON_FD_INJECTORS + (int)k;
	return n;
}

/* Every descriptor above 32 first, then to its number, the rest shut:
 * no dup2() overwrites a source (as in monitor_spawn()). */
static void
attach_place(const int32_t *target, const int *fds, uint32_t n)
{
	int moved[ATTACH_MAX_FDS];
	uint32_t i;

	for (i = 0; i < n; i++) {
		if ((moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 32)) == -1)
			fatal("attach: F_DUPFD");
		close(fds[i]);
	}
	for (i = 0; i < n; i++)
		if (dup2(moved[i], target[i]) == -1)
			fatal("attach: dup2");
	if (close_range((unsigned)target[n - 1] + 1, ~0U, 0) == -1)
		fatal("attach: close_range");
}

static void
attach_check_user(const char *user)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL || pw->pw_uid != getuid())
		fatalx("attach: this role runs as user %s, we run as uid %u: "
		    "do the units load the same configuration?", user,
		    (unsigned)getuid());
}

void
attach_role(const char *role, struct daemon_opts *o, const struct config *cfg,
    const struct policy *pol)
{
	char users[CONFIG_MAX_NODES][POLICY_NAME_MAX + 1];
	size_t ninj = instances_users(pol, users);
	int router = strcmp(role, "router") == 0;
	struct attach_hello h = { ATTACH_MAGIC, ATTACH_VERSION,
	    router ? ROLE_ROUTER : ROLE_INJECTOR,
	    o->slot >= 0 ? (uint32_t)o->slot : ATTACH_ANY_SLOT };
	struct attach_reply rep;
	int32_t want[ATTACH_MAX_FDS];
	int fds[ATTACH_MAX_FDS], s, nfds;
	uint32_t n;

	if (!router && strcmp(role, "injector") != 0)
		fatalx("attach: unknown role '%s'", role);
	/* nothing a service manager or a shell left open crosses over */
	if (close_range(3, ~0U, 0) == -1)
		fatal("attach: close_range");
	s = attach_connect(o->attach);
	/* a monitor that refuses us by uid answers without reading: the
	 * send may fail, the answer is still there to read */
	if (send(s, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h))
		log_debug("attach: send: %s", strerror(errno));
	nfds = attach_recv(s, &rep, fds);
	close(s);
	rep.why[sizeof(rep.why) - 1] = '\0';
	if (!rep.ok)
		fatalx("attach: the monitor refused us: %s", rep.why);
	n = attach_layout(router, ninj, want);
	if (rep.ninjectors != ninj || rep.nfds != n || (uint32_t)nfds != n ||
	    memcmp(rep.target, want, n * sizeof(want[0])) != 0 ||
	    (!router && rep.slot >= ninj))
		fatalx("attach: the monitor counts %u injector(s), our policy "
		    "%zu: do the units load the same configuration?",
		    rep.ninjectors, ninj);
	attach_check_user(router ? cfg->user : users[rep.slot]);
	if (!router)
		o->slot = (int)rep.slot;
	attach_place(rep.target, fds, n);
	log_info("attached to the monitor at %s", o->attach);
}
