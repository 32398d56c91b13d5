/*
 * control.c - the router's side of the local control socket.
 *
 * Input here is local but not trusted: any user who can connect may
 * send anything.  So the peer is identified by the kernel
 * (SO_PEERCRED), every request is one size-capped datagram parsed
 * strictly (no duplicate keys, a closed set of fields per verb, typed
 * values), and only then is it handed to the router.  What a request
 * may ask for is narrow: sign-and-send (signed by the monitor, which
 * re-checks every field) or read the daemon's view of the meta topics.
 * Who may do which is the policy's "socket read|send|reply" lines,
 * matched against the kernel's word for the peer's uid, gid and
 * supplementary groups (SO_PEERCRED, SO_PEERGROUPS): no NSS lookup
 * happens per request inside the sandbox.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "corr.h"
#include "envelope.h"
#include "log.h"

#define CONTROL_GROUPS_MAX	64

struct ctl_client {
	int		 fd;		/* -1: free */
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
	uint32_t	 gen;
	gid_t		 groups[CONTROL_GROUPS_MAX];	/* supplementary */
	size_t		 ngroups;
};

struct control {
	int		 listen_fd;
	const struct policy *policy;	/* "socket" lines; the router's */
	struct ctl_client c[CONTROL_CLIENTS];
	uint32_t	 closed[CONTROL_CLIENTS];
	size_t		 nclosed;
	char		*buf;
};

struct control *
control_new(int listen_fd, const struct policy *policy)
{
	struct control *c;
	size_t i;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->buf = malloc(CONTROL_MSG_MAX)) == NULL)
		fatal("control_new");
	c->listen_fd = listen_fd;
	c->policy = policy;
	for (i = 0; i < CONTROL_CLIENTS; i++)
		c->c[i].fd = -1;
	return c;
}

void
control_free(struct control *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < CONTROL_CLIENTS; i++)
		if (c->c[i].fd != -1)
			close(c->c[i].fd);
	free(c->buf);
	free(c);
}

/* --- clients -------------------------------------------------------------- */

static uint32_t
control_handle(const struct control *c, size_t i)
{
	return c->c[i].gen << 8 | (uint32_t)i;
}

static struct ctl_client *
control_client(const struct control *c, uint32_t h)
{
	size_t i = h & 0xff;

	if (i >= CONTROL_CLIENTS || c->c[i].fd == -1 || c->c[i].gen != h >> 8)
		return NULL;
	return (struct ctl_client *)&c->c[i];
}

int
control_alive(const struct control *c, uint32_t h)
{
	return control_client(c, h) != NULL;
}

void
control_close(struct control *c, uint32_t h)
{
	struct ctl_client *cl = control_client(c, h);

	if (cl == NULL)
		return;
	close(cl->fd);
	cl->fd = -1;
	if (c->nclosed < CONTROL_CLIENTS)
		c->closed[c->nclosed++] = h;
}

int
control_take_closed(struct control *c, uint32_t *h)
{
	if (c->nclosed == 0)
		return 0;
	*h = c->closed[--c->nclosed];
	return 1;
}

/* The peer's supplementary groups; more than we keep only matters
 * for ":group" principals, and then errs on the side of refusing. */
static void
control_peer_groups(struct ctl_client *cl)
{
	socklen_t len = sizeof(cl->groups);

	if (getsockopt(cl->fd, SOL_SOCKET, SO_PEERGROUPS, cl->groups, &len)
	    == -1) {
		if (errno != ERANGE)
			log_warn("control: SO_PEERGROUPS");
		cl->ngroups = 0;
		return;
	}
	cl->ngroups = len / sizeof(gid_t);
}

static void
control_accept(struct control *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	size_t i;
	int fd, sz = CONTROL_MSG_MAX * 2;

	if ((fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
			log_warn("control: accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	for (i = 0; i < CONTROL_CLIENTS && c->c[i].fd != -1; i++)
		;
	if (i == CONTROL_CLIENTS) {
		log_warnx("control: too many clients; refused uid %u",
		    (unsigned)cred.uid);
		close(fd);
		return;
	}
	/* a failure only limits how much one reply may queue */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	c->c[i] = (struct ctl_client){ .fd = fd, .uid = cred.uid,
	    .gid = cred.gid, .pid = cred.pid,
	    .gen = (c->c[i].gen + 1) & 0xffffff };
	control_peer_groups(&c->c[i]);
	log_debug("control: client uid=%u pid=%d", (unsigned)cred.uid,
	    (int)cred.pid);
}

/* The policy verb a request needs: a response is a reply. */
static enum policy_sock_verb
control_verb(const struct ctl_req *q)
{
	if (q->op != CTL_SEND)
		return SOCK_READ;
	return strcmp(q->ch, "response") == 0 ? SOCK_REPLY : SOCK_SEND;
}

static const char *
control_verb_name(const struct ctl_req *q)
{
	switch (control_verb(q)) {
	case SOCK_SEND:
		return "send";
	case SOCK_REPLY:
		return "reply";
	default:
		return "read";
	}
}

/* --- replies -------------------------------------------------------------- */

int
control_reply(struct control *c, uint32_t h, json_t *obj)
{
	struct ctl_client *cl = control_client(c, h);
	char *s;
	int rc = 0;

	if (obj == NULL)
		fatalx("control_reply: no object");
	if (cl == NULL) {
		json_decref(obj);
		return -1;
	}
	if ((s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII)) == NULL)
		fatalx("control_reply: json_dumps");
	json_decref(obj);
	if (strlen(s) > CONTROL_MSG_MAX)
		fatalx("control_reply: %zu bytes", strlen(s));
	if (send(cl->fd, s, strlen(s), MSG_NOSIGNAL) == -1) {
		log_warnx("control: client uid=%u %s; closed", (unsigned)cl->uid,
		    errno == EAGAIN ? "not reading" : strerror(errno));
		control_close(c, h);
		rc = -1;
	}
	free(s);
	return rc;
}

int
control_error(struct control *c, uint32_t h, const char *code,
    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return control_reply(c, h, json_pack("{sbssss}", "ok", 0, "code", code,
	    "error", msg));
}

/* --- requests ------------------------------------------------------------- */

struct ctl_field {
	const char	*name;
	int		 type;		/* JSON_STRING or JSON_INTEGER */
	size_t		 off;		/* in struct ctl_req */
	int64_t		 lo, hi;	/* integers */
};

#define CF_S(n, f) { n, JSON_STRING, offsetof(struct ctl_req, f), 0, 0 }
#define CF_I(n, f, lo, hi) { n, JSON_INTEGER, offsetof(struct ctl_req, f), \
	lo, hi }

static const struct ctl_field ctl_send_fields[] = {
	CF_S("action", action), CF_S("ch", ch), CF_S("corr", corr),
	CF_S("from", from), CF_I("replies", replies, 1, 1000),
	CF_S("reply_to", reply_to), CF_S("session", session),
	CF_S("text", text), CF_S("to", to), CF_I("ttl", ttl, 1, 30 * 86400),
	CF_S("urgency", urgency), CF_I("wait", wait, 0, 86400),
};
static const struct ctl_field ctl_sync_fields[] = {
	CF_S("action", action),
};

static const struct {
	const char		*name;
	enum ctl_op		 op;
	const struct ctl_field	*fields;
	size_t			 nfields;
} ctl_ops[] = {
	{ "pending", CTL_PENDING, NULL, 0 },
	{ "roster", CTL_ROSTER, NULL, 0 },
	{ "send", CTL_SEND, ctl_send_fields,
	    sizeof(ctl_send_fields) / sizeof(ctl_send_fields[0]) },
	{ "status", CTL_STATUS, NULL, 0 },
	{ "sync-status", CTL_SYNC_STATUS, ctl_sync_fields, 1 },
};

static int
control_field(struct ctl_req *q, const struct ctl_field *f, json_t *v)
{
	char *p = (char *)q + f->off;

	if (json_typeof(v) != (json_type)f->type)
		return -1;
	if (f->type == JSON_STRING) {
		/* no NUL inside: strings go on to C code and the monitor */
		if (strlen(json_string_value(v)) != json_string_length(v))
			return -1;
		*(const char **)(void *)p = json_string_value(v);
		return 0;
	}
	if (json_integer_value(v) < f->lo || json_integer_value(v) > f->hi)
		return -1;
	*(int64_t *)(void *)p = json_integer_value(v);
	return 0;
}

/*
 * The identifiers of a send, checked here, once, so that what the
 * router logs and routes on is never a client's raw text (the monitor
 * checks the whole envelope again before signing).
 */
static int
control_send_shape(const struct ctl_req *q, char *err, size_t errlen)
{
	enum envelope_ch ch;
	const char *bad = NULL;

	if (!valid_node(q->to) && strcmp(q->to, "all") != 0)
		bad = "to";
	else if (envelope_ch_parse(q->ch, &ch) == -1)
		bad = "ch";
	else if (q->from != NULL && !valid_node(q->from))
		bad = "from";
	else if (q->action != NULL && !envelope_valid_action(q->action))
		bad = "action";
	else if ((q->corr != NULL && !envelope_valid_id(q->corr)) ||
	    (q->reply_to != NULL && !envelope_valid_id(q->reply_to)))
		bad = "corr or reply_to";
	else if (q->urgency != NULL && strcmp(q->urgency, "now") != 0 &&
	    strcmp(q->urgency, "later") != 0)
		bad = "urgency";
	if (bad == NULL)
		return 0;
	snprintf(err, errlen, "bad value for %s", bad);
	return -1;
}

/* 0 valid; -1 with a reason in err */
static int
control_parse(struct ctl_req *q, json_t *root, char *err, size_t errlen)
{
	const struct ctl_field *fs = NULL;
	const char *key, *op;
	json_t *v;
	size_t i, nf = 0, j;

	memset(q, 0, sizeof(*q));
	q->root = root;
	if (json_unpack(root, "{s:s}", "op", &op) == -1) {
		snprintf(err, errlen, "no op");
		return -1;
	}
	for (i = 0; i < sizeof(ctl_ops) / sizeof(ctl_ops[0]); i++)
		if (strcmp(ctl_ops[i].name, op) == 0) {
			q->op = ctl_ops[i].op;
			fs = ctl_ops[i].fields;
			nf = ctl_ops[i].nfields;
		}
	if (q->op == 0) {
		snprintf(err, errlen, "unknown op");
		return -1;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "op") == 0)
			continue;
		if (strcmp(key, "args") == 0 && q->op == CTL_SEND &&
		    json_is_object(v)) {
			q->args = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
			continue;
		}
		for (j = 0; j < nf && strcmp(fs[j].name, key) != 0; j++)
			;
		if (j == nf || control_field(q, &fs[j], v) == -1) {
			/* the name is the client's text: never echoed */
			if (j == nf)
				snprintf(err, errlen, "unknown field");
			else
				snprintf(err, errlen, "bad value for %s",
				    fs[j].name);
			return -1;
		}
	}
	if (q->op == CTL_SEND && (q->to == NULL || q->ch == NULL ||
	    q->text == NULL)) {
		snprintf(err, errlen, "send needs to, ch and text");
		return -1;
	}
	if (q->session != NULL && !corr_valid_session(q->session)) {
		snprintf(err, errlen, "bad session key");
		return -1;
	}
	return q->op == CTL_SEND ? control_send_shape(q, err, errlen) : 0;
}

static void
control_request(struct control *c, size_t i, size_t len,
    void (*fn)(uint32_t, struct ctl_req *, void *), void *arg)
{
	uint32_t h = control_handle(c, i);
	struct ctl_req q;
	json_error_t jerr;
	json_t *root;
	char err[128];

	root = json_loadb(c->buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		log_warnx("control: uid=%u refused reason=bad-request",
		    (unsigned)c->c[i].uid);
		control_error(c, h, "bad-request", "not one JSON object");
		return;
	}
	if (control_parse(&q, root, err, sizeof(err)) == -1) {
		log_warnx("control: uid=%u refused reason=bad-request "
		    "detail=\"%s\"", (unsigned)c->c[i].uid, err);
		control_error(c, h, "bad-request", "%s", err);
	} else if (!policy_socket_allows(c->policy, control_verb(&q),
	    c->c[i].uid, c->c[i].gid, c->c[i].groups, c->c[i].ngroups)) {
		log_warnx("control: uid=%u refused reason=denied op=%s",
		    (unsigned)c->c[i].uid, control_verb_name(&q));
		control_error(c, h, "denied", "uid %u may not %s",
		    (unsigned)c->c[i].uid, control_verb(&q) == SOCK_READ ?
		    "read the daemon's view" : control_verb_name(&q));
	} else
		fn(h, &q, arg);
	free(q.args);
	json_decref(root);
}

static void
control_read(struct control *c, size_t i,
    void (*fn)(uint32_t, struct ctl_req *, void *), void *arg)
{
	ssize_t n = recv(c->c[i].fd, c->buf, CONTROL_MSG_MAX, MSG_TRUNC);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		control_close(c, control_handle(c, i));
		return;
	}
	if ((size_t)n > CONTROL_MSG_MAX) {
		log_warnx("control: uid=%u refused reason=oversize",
		    (unsigned)c->c[i].uid);
		control_error(c, control_handle(c, i), "oversize",
		    "request over %d bytes", CONTROL_MSG_MAX);
		return;
	}
	control_request(c, i, (size_t)n, fn, arg);
}

size_t
control_pollfds(struct control *c, struct pollfd *pfd, size_t max)
{
	size_t i, n = 0;

	if (c->listen_fd != -1 && n < max)
		pfd[n++] = (struct pollfd){ c->listen_fd, POLLIN, 0 };
	for (i = 0; i < CONTROL_CLIENTS && n < max; i++)
		if (c->c[i].fd != -1)
			pfd[n++] = (struct pollfd){ c->c[i].fd, POLLIN, 0 };
	return n;
}

void
control_io(struct control *c, const struct pollfd *pfd, size_t n,
    void (*fn)(uint32_t, struct ctl_req *, void *), void *arg)
{
	size_t i, k;

	for (k = 0; k < n; k++) {
		if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (pfd[k].fd == c->listen_fd) {
			control_accept(c);
			continue;
		}
		for (i = 0; i < CONTROL_CLIENTS; i++)
			if (c->c[i].fd == pfd[k].fd)
				control_read(c, i, fn, arg);
	}
}
