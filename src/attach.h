/*
 * attach.h - split mode: the router and the injectors run as service
 * units of their own instead of as the monitor's children.
 *
 * The monitor (hive-daemon -A PATH) makes the very socketpairs and the
 * control socket it would hand to forked children (daemon.h), but
 * forks nothing: it listens on PATH.  A role started as
 * "hive-daemon -P router -A PATH" (or "-P injector -A PATH") connects,
 * says which role it is, and receives its descriptors with
 * SCM_RIGHTS; it puts them at the fixed numbers of daemon.h and runs
 * router_main()/injector_main() exactly as a forked child would.
 *
 * The monitor decides who is who from the kernel's word (SO_PEERCRED):
 * the router must run as hive.conf's `user`, injector k as its
 * instance user.  Each role attaches once; a refused peer learns why
 * and is closed, and never costs the monitor more than that.
 *
 * One request, one answer, both fixed-size and checked exactly; the
 * descriptors travel with the answer.
 */
#ifndef HIVE_ATTACH_H
#define HIVE_ATTACH_H

#include <stdint.h>

#include "config.h"
#include "daemon.h"
#include "policy.h"

#define ATTACH_MAGIC		0x68697661u	/* "hiva" */
#define ATTACH_VERSION		1u
#define ATTACH_ANY_SLOT		0xffffffffu	/* injector: the monitor picks */
#define ATTACH_MAX_FDS		(3 + CONFIG_MAX_NODES)
#define ATTACH_WHY_MAX		128

/* role -> monitor */
struct attach_hello {
	uint32_t	magic;
	uint32_t	version;
	uint32_t	role;		/* ROLE_ROUTER or ROLE_INJECTOR (ipc.h) */
	uint32_t	slot;		/* injector slot, or ATTACH_ANY_SLOT */
};

/* monitor -> role, with nfds descriptors (SCM_RIGHTS) when ok */
struct attach_reply {
	uint32_t	magic;
	uint32_t	version;
	uint32_t	ok;		/* 1: attached; 0: refused, see why */
	uint32_t	slot;		/* the injector's slot */
	uint32_t	ninjectors;	/* as the monitor's policy counts them */
	uint32_t	nfds;
	int32_t		target[ATTACH_MAX_FDS];	/* fd i goes to target[i] */
	char		why[ATTACH_WHY_MAX];	/* NUL-terminated */
};

/* attach.c, the role's side: connect, receive, place the descriptors;
 * sets o->slot for an injector.  Fatal on any failure. */
void attach_role(const char *role, struct daemon_opts *o,
    const struct config *, const struct policy *);

/* monitor_attach.c, the monitor's side */
struct mon_attach;

/* Make the links (fd_router, fd_injector[k]: the monitor's ends) and
 * listen on path.  Fatal on failure. */
struct mon_attach *monitor_attach_open(const char *path,
    const struct config *, const struct policy *, int fd_control,
    int *fd_router, int *fd_injector);
/* The listening socket, for poll; -1 once every role attached or
 * after monitor_attach_stop(). */
int monitor_attach_fd(const struct mon_attach *);
/* POLLIN on it: one peer, answered (attached or refused) and closed. */
void monitor_attach_accept(struct mon_attach *);
/* 1 if the role (slot -1: the router) has attached. */
int monitor_attach_attached(const struct mon_attach *, int slot);
/* No more attaching; sig (0: none) to every role that attached, by
 * pidfd.  Returns how many were signalled. */
int monitor_attach_stop(struct mon_attach *, int sig);
/* Close everything, unlink the socket. */
void monitor_attach_close(struct mon_attach *);

#endif
