/*
 * fuzz_control.c - the control socket's request path as the router
 * runs it: a real SOCK_SEQPACKET listening socket, one connection per
 * input, accepted by control_io(); the input is sent as that
 * connection's one datagram and read, bounded and parsed by
 * control_io() (control_read, control_request, control_parse), against
 * a policy that lets every local user do everything, so that every
 * valid request reaches the callback.
 *
 * Properties: a request handed to the callback is one of the ops, and
 * a send has to, ch and text, each without NUL; every reply is one
 * JSON object; and every input ends with the daemon closing the
 * connection (an error is the last word on it, and the callback here
 * answers and closes as the router does), so no input leaves a slot
 * taken.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "control.h"
#include "log.h"
#include "policy.h"

#include "fuzz.h"

static struct config cfg;
static struct policy pol;
static struct control *ctl;
static struct sockaddr_un sun = { .sun_family = AF_UNIX };
static socklen_t sunlen;
static char reply[CONTROL_MSG_MAX + 1];

static void
fuzz_init(void)
{
	static const char text[] = "socket send *\nsocket reply *\n";
	char err[256];
	int fd;

	if (ctl != NULL)
		return;
	log_init("fuzz", 0);
	config_defaults(&cfg);
	snprintf(cfg.nodes, sizeof(cfg.nodes), "turq-18789");
	snprintf(cfg.user, sizeof(cfg.user), "nobody");
	if (policy_parse(&pol, &cfg, text, strlen(text), "fuzz", err,
	    sizeof(err)) == -1)
		fuzz_fail(__FILE__, __LINE__, err);
	/* autobind: an abstract name of the kernel's choosing, no file */
	sunlen = sizeof(sa_family_t);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sunlen) == -1 ||
	    listen(fd, 4) == -1)
		abort();
	sunlen = sizeof(sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &sunlen) == -1)
		abort();
	ctl = control_new(fd, &pol, 3600);
}

/* As the router answers: one reply, then the connection is closed. */
static void
fuzz_request(uint32_t client, struct ctl_req *q, void *arg)
{
	(void)arg;
	FUZZ_ASSERT(q->op >= CTL_SEND && q->op <= CTL_SYNC_STATUS);
	if (q->op == CTL_SEND) {
		FUZZ_ASSERT(q->to != NULL && q->ch != NULL && q->text != NULL);
		FUZZ_ASSERT(strlen(q->text) ==
		    json_string_length(json_object_get(q->root, "text")));
	}
	control_reply(ctl, client, json_pack("{ss}", "done", "complete"));
	control_close(ctl, client);
}

/* One turn of the router's loop, the listener or the client ready. */
static void
fuzz_turn(void)
{
	struct pollfd pfd[1 + CONTROL_CLIENTS];
	size_t n, k;
	uint32_t gone;

	n = control_pollfds(ctl, pfd, 1 + CONTROL_CLIENTS);
	for (k = 0; k < n; k++)
		pfd[k].revents = POLLIN;
	control_io(ctl, pfd, n, fuzz_request, NULL);
	while (control_take_closed(ctl, &gone))
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd, sz = 1 << 20, closed = 0;
	ssize_t n;
	json_t *o;

	fuzz_init();
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sunlen) == -1)
		abort();
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	fuzz_turn();			/* accepted */
	if (send(fd, data, size, MSG_NOSIGNAL) == -1) {
		close(fd);		/* too big for any socket: not ours */
		fuzz_turn();
		return 0;
	}
	fuzz_turn();			/* read, answered */
	while (!closed) {
		if ((n = recv(fd, reply, sizeof(reply), 0)) <= 0) {
			FUZZ_ASSERT(n == 0);	/* closed, not left waiting */
			closed = 1;
			continue;
		}
		o = json_loadb(reply, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
		FUZZ_ASSERT(json_is_object(o));
		json_decref(o);
	}
	close(fd);
	return 0;
}
