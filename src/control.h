/*
 * control.h - the local control socket, served by the router.
 *
 * The monitor creates and binds the socket (it may need root for
 * /run/hive) and hands the listening descriptor to the router, which
 * accepts clients, identifies each by SO_PEERCRED and SO_PEERGROUPS,
 * checks the policy's "socket" lines, and parses one JSON request per
 * connection, in one datagram (SOCK_SEQPACKET).  Protocol: docs/cli.md.
 */
#ifndef HIVE_CONTROL_H
#define HIVE_CONTROL_H

#include <sys/types.h>

#include <poll.h>
#include <stdint.h>

#include <jansson.h>

#include "policy.h"

/*
 * Connection limits (control_admit in control.c; docs/architecture.md).
 * A "sender" is root or a peer the policy lets send or reply; every
 * other peer is a "reader".  The handle packs the slot in 8 bits.
 */
#define CONTROL_CLIENTS		64	/* slots, all peers */
#define CONTROL_READERS		32	/* at most, readers together */
#define CONTROL_UID_READER	4	/* per reader uid */
#define CONTROL_UID_SENDER	16	/* per sender uid other than root */
#define CONTROL_MSG_MAX		(192 * 1024)

enum ctl_op {
	CTL_SEND = 1,	/* needs "socket send", or "socket reply" for a
			   response */
	CTL_STATUS,	/* the rest: "socket read" */
	CTL_ROSTER,
	CTL_PENDING,
	CTL_SYNC_STATUS,
};

/* A validated request.  Strings point into root. */
struct ctl_req {
	enum ctl_op	 op;
	json_t		*root;
	const char	*from, *to, *ch, *text, *urgency, *action, *corr;
	const char	*reply_to, *session;
	char		*args;		/* canonical JSON text, or NULL */
	int64_t		 ttl, wait, replies;
	int		 force;	/* send: even to a node nobody knows */
};

struct control;

/*
 * listen_fd: bound and listening, or -1 for none.  policy: read at each
 * request (its "socket" lines), so a reload takes effect for the next
 * request; root may always do everything (policy_socket_allows).  A
 * client that has sent no request idle_secs after it connected is
 * closed.
 */
struct control *control_new(int listen_fd, const struct policy *,
    int64_t idle_secs);
void control_free(struct control *);

/* Fill pfd with what to poll; returns how many were used. */
size_t control_pollfds(struct control *, struct pollfd *, size_t max);

/*
 * After poll: accept and read.  For each valid, permitted request, fn
 * gets the client handle (stable while it is connected) and the
 * request (freed after fn returns).  Refusals are answered here.
 */
void control_io(struct control *, const struct pollfd *, size_t n,
    void (*fn)(uint32_t client, struct ctl_req *, void *), void *arg);

/* Send one JSON object (stolen) to a client; -1 if it is gone (then
 * it is closed).  A client that cannot keep up is closed.  An error
 * is the last word: control_error closes the client after it. */
int control_reply(struct control *, uint32_t client, json_t *obj);
int control_error(struct control *, uint32_t client, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int control_alive(const struct control *, uint32_t client);
void control_close(struct control *, uint32_t client);

/* Clients that went away since the last call: the caller forgets them. */
int control_take_closed(struct control *, uint32_t *client);

#endif
