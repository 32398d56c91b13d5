/*
 * monitor_attach.c - the monitor's side of split mode (attach.h).
 *
 * The links are made exactly as monitor_start_children() makes them
 * for forked children; the child ends wait here until their role
 * attaches.  A peer is judged before we read a byte from it: its uid
 * (SO_PEERCRED) must be the user of a role that has not attached yet,
 * else it is told so and closed.  A peer that passes has a second to
 * say which role it is.  Every role attaches once.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "instances.h"
#include "ipc.h"
#include "log.h"
#include "notify.h"
#include "util.h"

#define ATTACH_HELLO_MS	1000	/* an authenticated peer's time to speak */

/* One role's descriptors, waiting for it: [0] the router, [1 + k]
 * injector k. */
struct attach_role {
	uid_t		 uid;
	char		 user[POLICY_NAME_MAX + 1];
	int		 fds[ATTACH_MAX_FDS];
	int32_t		 target[ATTACH_MAX_FDS];
	uint32_t	 nfds;
	int		 attached;
	int		 pidfd;		/* the attached process, to stop it */
};

struct mon_attach {
	int		 fd;		/* listening, -1 when done */
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t		 ninjectors;
	struct attach_role role[1 + CONFIG_MAX_NODES];
};

static uid_t
attach_uid(const char *user)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL)
		fatalx("attach: no such user '%s'", user);
	if (pw->pw_uid == 0)
		fatalx("attach: user '%s' is root; split mode runs every "
		    "role as its own unprivileged account", user);
	return pw->pw_uid;
}

static void
attach_add_fd(struct attach_role *r, int fd, int target)
{
	r->fds[r->nfds] = fd;
	r->target[r->nfds++] = target;
}

/* The same links as monitor_start_children(), held for the roles. */
static void
attach_links(struct mon_attach *a, int fd_control, int *fd_router,
    int *fd_injector)
{
	int mr[2], mi[2], ri[2];
	size_t k;

	if (ipc_pair(mr) == -1)
		fatal("socketpair");
	*fd_router = mr[0];
	attach_add_fd(&a->role[0], mr[1], DAEMON_FD_MONITOR);
	attach_add_fd(&a->role[0], fd_control, DAEMON_FD_CONTROL);
	for (k = 0; k < a->ninjectors; k++) {
		if (ipc_pair(mi) == -1 || ipc_pair(ri) == -1)
			fatal("socketpair");
		fd_injector[k] = mi[0];
		attach_add_fd(&a->role[0], ri[0], DAEMON_FD_INJECTORS + (int)k);
		attach_add_fd(&a->role[1 + k], mi[1], DAEMON_FD_MONITOR);
		attach_add_fd(&a->role[1 + k], ri[1], DAEMON_FD_PEER);
	}
}

/* Like the control socket: a stale socket is replaced, anything else
 * at the path is fatal.  Mode 0666: SO_PEERCRED decides, not the mode. */
static void
attach_listen(struct mon_attach *a, const char *path)
{
	struct sockaddr_un sun;
	struct stat st;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("attach socket %s: path too long", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	memcpy(a->path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			fatalx("attach socket %s exists and is not a socket",
			    path);
		if (unlink(path) == -1)
			fatal("unlink %s", path);
	}
	if ((a->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (bind(a->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	if (chmod(path, 0666) == -1 || listen(a->fd, 8) == -1)
		fatal("attach socket %s", path);
}

struct mon_attach *
monitor_attach_open(const char *path, const struct config *cfg,
    const struct policy *pol, int fd_control, int *fd_router,
    int *fd_injector)
{
	char users[CONFIG_MAX_NODES][POLICY_NAME_MAX + 1];
	struct mon_attach *a;
	size_t k;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	a->ninjectors = instances_users(pol, users);
	a->role[0].uid = attach_uid(cfg->user);
	hive_strlcpy(a->role[0].user, cfg->user, sizeof(a->role[0].user));
	for (k = 0; k < a->ninjectors; k++) {
		a->role[1 + k].uid = attach_uid(users[k]);
		hive_strlcpy(a->role[1 + k].user, users[k],
		    sizeof(a->role[1 + k].user));
	}
	for (k = 0; k < 1 + a->ninjectors; k++)
		a->role[k].pidfd = -1;
	attach_links(a, fd_control, fd_router, fd_injector);
	attach_listen(a, path);
	log_info("split mode: waiting on %s for the router (user %s) and "
	    "%zu injector(s)", path, cfg->user, a->ninjectors);
	/* ready for the role units, which are ordered after us */
	if (notify_send("READY=1\nSTATUS=waiting for the router and the "
	    "injectors to attach") == -1)
		log_warnx("sd_notify failed");
	return a;
}

int
monitor_attach_fd(const struct mon_attach *a)
{
	return a->fd;
}

int
monitor_attach_attached(const struct mon_attach *a, int slot)
{
	if (slot < -1 || slot >= (int)a->ninjectors)
		return 0;
	return a->role[1 + slot].attached;
}

/* Answer one peer; fds only with ok.  -1 if it could not be sent. */
static int
attach_answer(int fd, const struct attach_role *r, uint32_t slot,
    size_t ninjectors, const char *why)
{
	struct attach_reply rep;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * ATTACH_MAX_FDS)];
	} cm;
	struct iovec iov = { &rep, sizeof(rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	memset(&rep, 0, sizeof(rep));
	rep.magic = ATTACH_MAGIC;
	rep.version = ATTACH_VERSION;
	rep.ninjectors = (uint32_t)ninjectors;
	if (r != NULL) {
		rep.ok = 1;
		rep.slot = slot;
		rep.nfds = r->nfds;
		memcpy(rep.target, r->target, sizeof(rep.target));
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * r->nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * r->nfds);
		memcpy(CMSG_DATA(c), r->fds, sizeof(int) * r->nfds);
	} else
		snprintf(rep.why, sizeof(rep.why), "%s", why);
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(rep) ? 0 : -1;
}

/* The hello, within ATTACH_HELLO_MS; 0 or -1 (why says). */
static int
attach_hello(int fd, struct attach_hello *h, const char **why)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t n;

	*why = "no hello in time";
	if (poll(&pfd, 1, ATTACH_HELLO_MS) != 1)
		return -1;
	*why = "malformed hello";
	n = recv(fd, h, sizeof(*h), MSG_DONTWAIT | MSG_TRUNC);
	if (n != (ssize_t)sizeof(*h) || h->magic != ATTACH_MAGIC)
		return -1;
	*why = "attach protocol version mismatch (restart every hive unit "
	    "after an upgrade)";
	if (h->version != ATTACH_VERSION)
		return -1;
	*why = "unknown role";
	return h->role == ROLE_ROUTER || h->role == ROLE_INJECTOR ? 0 : -1;
}

/* Which waiting role this peer may be: 0 the router, 1 + k injector k,
 * or -1 (why says). */
static int
attach_pick(const struct mon_attach *a, const struct attach_hello *h,
    uid_t uid, const char **why)
{
	size_t k;

	if (h->role == ROLE_ROUTER) {
		*why = a->role[0].attached ? "the router is attached already" :
		    "wrong uid for the router (hive.conf's user)";
		return !a->role[0].attached && a->role[0].uid == uid ? 0 : -1;
	}
	*why = "no injector slot waits for this uid";
	for (k = 0; k < a->ninjectors; k++) {
		if (h->slot != ATTACH_ANY_SLOT && h->slot != k)
			continue;
		if (!a->role[1 + k].attached && a->role[1 + k].uid == uid)
			return 1 + (int)k;
	}
	return -1;
}

/* Is uid the user of a role still waiting?  Checked before reading. */
static int
attach_expected(const struct mon_attach *a, uid_t uid)
{
	size_t k;

	for (k = 0; k < 1 + a->ninjectors; k++)
		if (!a->role[k].attached && a->role[k].uid == uid)
			return 1;
	return 0;
}

static void
attach_done(struct mon_attach *a, int i, pid_t pid)
{
	struct attach_role *r = &a->role[i];
	uint32_t k;

	for (k = 0; k < r->nfds; k++)
		close(r->fds[k]);
	r->nfds = 0;
	r->attached = 1;
	if ((r->pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		log_warn("attach: pidfd_open %d (stopping it will rest on "
		    "its link closing)", (int)pid);
	if (i == 0)
		log_info("router attached: pid %d, user %s", (int)pid, r->user);
	else
		log_info("injector %d attached: pid %d, user %s", i - 1,
		    (int)pid, r->user);
	for (k = 0; k < 1 + a->ninjectors; k++)
		if (!a->role[k].attached)
			return;
	log_info("split mode: every role attached");
	close(a->fd);
	a->fd = -1;
}

void
monitor_attach_accept(struct mon_attach *a)
{
	struct attach_hello h;
	struct ucred uc;
	socklen_t len = sizeof(uc);
	const char *why = "not a user of any hive role waiting to attach";
	int fd, i = -1;

	if ((fd = accept4(a->fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("attach: accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    len != sizeof(uc)) {
		log_warn("attach: SO_PEERCRED");
		close(fd);
		return;
	}
	if (attach_expected(a, uc.uid) && attach_hello(fd, &h, &why) == 0)
		i = attach_pick(a, &h, uc.uid, &why);
	if (i == -1) {
		log_warnx("attach: refused pid %d uid %u: %s", (int)uc.pid,
		    (unsigned)uc.uid, why);
		(void)attach_answer(fd, NULL, 0, a->ninjectors, why);
	} else if (attach_answer(fd, &a->role[i], i == 0 ? 0 :
	    (uint32_t)(i - 1), a->ninjectors, NULL) == -1)
		log_warn("attach: answering pid %d", (int)uc.pid);
	else
		attach_done(a, i, uc.pid);
	/* unread data at close would reset the peer before it reads */
	while (recv(fd, &h, sizeof(h), MSG_DONTWAIT | MSG_TRUNC) > 0)
		continue;
	close(fd);
}

int
monitor_attach_stop(struct mon_attach *a, int sig)
{
	size_t k;
	int n = 0;

	if (a->fd != -1) {
		close(a->fd);
		a->fd = -1;
	}
	for (k = 0; sig != 0 && k < 1 + a->ninjectors; k++) {
		if (a->role[k].pidfd == -1)
			continue;
		if (syscall(SYS_pidfd_send_signal, a->role[k].pidfd, sig, NULL,
		    0) == 0)
			n++;
		else if (errno != ESRCH)
			log_warn("attach: signal %d to %s", sig, k == 0 ?
			    "the router" : "an injector");
	}
	return n;
}

void
monitor_attach_close(struct mon_attach *a)
{
	size_t k;
	uint32_t i;

	if (a == NULL)
		return;
	(void)monitor_attach_stop(a, 0);
	for (k = 0; k < 1 + a->ninjectors; k++) {
		for (i = 0; i < a->role[k].nfds; i++)
			close(a->role[k].fds[i]);
		if (a->role[k].pidfd != -1)
			close(a->role[k].pidfd);
	}
	(void)unlink(a->path);
	free(a);
}
