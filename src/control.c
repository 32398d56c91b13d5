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
 *
 * Connections are a shared table, so who may hold a slot, and for how
 * long, is bounded too (control_admit): a user with no right to send
 * can never take the slot of one who has it, nor keep a slot without
 * asking for something.  One request per connection; an error is the
 * last word on it.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "corr.h"
#include "envelope.h"
#include "log.h"
#include "ratelog.h"

#define CONTROL_GROUPS_MAX	64
#define CONTROL_ACCEPTS		16	/* per turn: drain the backlog */

struct ctl_client {
	int		 fd;		/* -1: free */
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
	uint32_t	 gen;
	int		 sender;	/* root, or may send or reply */
	int		 asked;		/* its one request has been read */
	long long	 since;		/* accepted at, CLOCK_MONOTONIC ms */
	gid_t		 groups[CONTROL_GROUPS_MAX];	/* supplementary */
	size_t		 ngroups;
};

/* Log keys: a local flood of refusals is not a flood of log lines. */
enum ctl_log {
	CTL_LOG_BAD, CTL_LOG_DENIED, CTL_LOG_OVERSIZE, CTL_LOG_UIDCAP,
	CTL_LOG_FULL, CTL_LOG_EVICT, CTL_LOG_IDLE,
};

struct control {
	int		 listen_fd;
	const struct policy *policy;	/* "socket" lines; the router's */
	long long	 idle_ms;	/* to send the request */
	struct ctl_client c[CONTROL_CLIENTS];
	uint32_t	 closed[CONTROL_CLIENTS];
	size_t		 nclosed;
	struct ratelog	 log;
	char		*buf;
};

static long long
control_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void control_logx(struct control *, enum ctl_log, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* A refusal's log line, at most 10 per 10 s for each kind. */
static void
control_logx(struct control *c, enum ctl_log key, const char *fmt, ...)
{
	char line[256];
	uint64_t n;
	va_list ap;

	if (!ratelog_allow(&c->log, (int)key, control_now_ms() / 1000, &n))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		log_warnx("control: %s (%llu similar suppressed)", line,
		    (unsigned long long)n);
	else
		log_warnx("control: %s", line);
}

struct control *
control_new(int listen_fd, const struct policy *policy, int64_t idle_secs)
{
	struct control *c;
	size_t i;

	if (idle_secs < 1)
		fatalx("control_new: idle timeout %lld", (long long)idle_secs);
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->buf = malloc(CONTROL_MSG_MAX)) == NULL)
		fatal("control_new");
	c->listen_fd = listen_fd;
	c->policy = policy;
	c->idle_ms = idle_secs * 1000;
	ratelog_init(&c->log, 10, 10);
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

/*
 * Only a client that asked for something can be known to the router
 * (a send in flight, a wait): only those are reported gone.  A slot
 * accepted in one turn is read in the next at the earliest, so each
 * slot is reported at most once between two control_take_closed()
 * rounds and the list does not overflow; if it did, a stale handle is
 * harmless (its generation no longer matches).
 */
void
control_close(struct control *c, uint32_t h)
{
	struct ctl_client *cl = control_client(c, h);

	if (cl == NULL)
		return;
	close(cl->fd);
	cl->fd = -1;
	if (cl->asked && c->nclosed < CONTROL_CLIENTS)
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

/* Who is at the other end (the kernel's word), and may it send? */
static int
control_identify(struct control *c, int fd, struct ctl_client *cl)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		return -1;
	}
	*cl = (struct ctl_client){ .fd = fd, .uid = cred.uid, .gid = cred.gid,
	    .pid = cred.pid, .since = control_now_ms() };
	control_peer_groups(cl);
	cl->sender = policy_socket_allows(c->policy, SOCK_SEND, cl->uid,
	    cl->gid, cl->groups, cl->ngroups) ||
	    policy_socket_allows(c->policy, SOCK_REPLY, cl->uid, cl->gid,
	    cl->groups, cl->ngroups);
	return 0;
}

/* How many slots uid holds, how many readers hold, how many are used. */
static void
control_census(const struct control *c, uid_t uid, size_t *mine,
    size_t *readers, size_t *used)
{
	size_t i;

	*mine = *readers = *used = 0;
	for (i = 0; i < CONTROL_CLIENTS; i++) {
		if (c->c[i].fd == -1)
			continue;
		(*used)++;
		if (!c->c[i].sender)
			(*readers)++;
		if (c->c[i].uid == uid)
			(*mine)++;
	}
}

/*
 * The oldest connection that has not sent its request: a reader's, or
 * with senders_too and no reader idle, a sender's.  -1: none (every
 * slot is a request being answered, e.g. a send --wait).
 */
static ssize_t
control_oldest_idle(const struct control *c, int senders_too)
{
	ssize_t i, best = -1, pass;

	for (pass = 0; pass <= senders_too && best == -1; pass++)
		for (i = 0; i < CONTROL_CLIENTS; i++) {
			const struct ctl_client *cl = &c->c[i];

			if (cl->fd == -1 || cl->asked || cl->sender != pass)
				continue;
			if (best == -1 || cl->since < c->c[best].since)
				best = i;
		}
	return best;
}

/* Closed to make room for a newcomer. */
static void
control_evict(struct control *c, size_t i)
{
	control_logx(c, CTL_LOG_EVICT, "uid=%u closed reason=evicted "
	    "(idle, oldest; for a new client)", (unsigned)c->c[i].uid);
	control_error(c, control_handle(c, i), "busy", "closed to make room: "
	    "no request sent");
}

/*
 * Admission: the slot for newcomer cl, or -1 to turn it away.
 *   - a uid other than root holds at most CONTROL_UID_READER slots, or
 *     CONTROL_UID_SENDER if the policy lets it send or reply;
 *   - readers (everyone else) hold at most CONTROL_READERS of the
 *     table together, so CONTROL_CLIENTS - CONTROL_READERS slots are
 *     the senders' alone;
 *   - when a share is full, the oldest idle connection of that share
 *     (for a sender: a reader's first, then a sender's) is evicted.
 *     A reader's request is answered in the turn it is read, so every
 *     reader slot still open is idle and readers can always make room
 *     among themselves; readers never evict a sender.
 */
static ssize_t
control_admit(struct control *c, const struct ctl_client *cl)
{
	size_t mine, readers, used, i;
	ssize_t v;

	control_census(c, cl->uid, &mine, &readers, &used);
	if (cl->uid != 0 && mine >= (cl->sender ? CONTROL_UID_SENDER :
	    CONTROL_UID_READER)) {
		control_logx(c, CTL_LOG_UIDCAP, "uid=%u refused "
		    "reason=too-many-connections (%zu held)",
		    (unsigned)cl->uid, mine);
		return -1;
	}
	if ((!cl->sender && readers >= CONTROL_READERS) ||
	    used == CONTROL_CLIENTS) {
		if ((v = control_oldest_idle(c, cl->sender)) == -1) {
			control_logx(c, CTL_LOG_FULL, "uid=%u refused "
			    "reason=table-full", (unsigned)cl->uid);
			return -1;
		}
		control_evict(c, (size_t)v);
	}
	for (i = 0; i < CONTROL_CLIENTS; i++)
		if (c->c[i].fd == -1)
			return (ssize_t)i;
	fatalx("control_admit: no free slot after eviction");
}

/* Turned away before it had a slot: the reason, best effort, then close. */
static void
control_turn_away(int fd)
{
	static const char msg[] = "{\"ok\":false,\"code\":\"busy\","
	    "\"error\":\"too many connections\"}";

	(void)send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/* 1 accepted or turned away; 0 nothing (more) to accept */
static int
control_accept(struct control *c)
{
	struct ctl_client cl;
	ssize_t i;
	int fd, sz = CONTROL_MSG_MAX * 2;

	if ((fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno == ECONNABORTED || errno == EINTR)
			return 1;
		if (errno != EAGAIN)
			log_warn("control: accept");
		return 0;
	}
	if (control_identify(c, fd, &cl) == -1) {
		close(fd);
		return 1;
	}
	if ((i = control_admit(c, &cl)) == -1) {
		control_turn_away(fd);
		return 1;
	}
	/* a failure only limits how much one reply may queue */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	cl.gen = (c->c[i].gen + 1) & 0xffffff;
	c->c[i] = cl;
	log_debug("control: client uid=%u pid=%d%s", (unsigned)cl.uid,
	    (int)cl.pid, cl.sender ? " (may send)" : "");
	return 1;
}

/* A connection that has sent no request within idle_ms is closed;
 * one whose request is being answered (a send --wait) is not. */
static void
control_expire(struct control *c)
{
	long long now = control_now_ms();
	size_t i;

	for (i = 0; i < CONTROL_CLIENTS; i++) {
		if (c->c[i].fd == -1 || c->c[i].asked ||
		    now - c->c[i].since < c->idle_ms)
			continue;
		control_logx(c, CTL_LOG_IDLE, "uid=%u closed "
		    "reason=idle-timeout", (unsigned)c->c[i].uid);
		control_error(c, control_handle(c, i), "timeout", "no request "
		    "within %llds", c->idle_ms / 1000);
	}
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

/* The last word: the connection is closed after it. */
int
control_error(struct control *c, uint32_t h, const char *code,
    const char *fmt, ...)
{
	char msg[640];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc = control_reply(c, h, json_pack("{sbssss}", "ok", 0, "code", code,
	    "error", msg));
	control_close(c, h);
	return rc;
}

/* --- requests ------------------------------------------------------------- */

struct ctl_field {
	const char	*name;
	int		 type;		/* JSON_STRING, JSON_INTEGER or
					   JSON_TRUE (a boolean) */
	size_t		 off;		/* in struct ctl_req */
	int64_t		 lo, hi;	/* integers */
};

#define CF_S(n, f) { n, JSON_STRING, offsetof(struct ctl_req, f), 0, 0 }
#define CF_B(n, f) { n, JSON_TRUE, offsetof(struct ctl_req, f), 0, 0 }
#define CF_I(n, f, lo, hi) { n, JSON_INTEGER, offsetof(struct ctl_req, f), \
	lo, hi }

static const struct ctl_field ctl_send_fields[] = {
	CF_S("action", action), CF_S("ch", ch), CF_S("corr", corr),
	CF_B("force", force), CF_S("from", from),
	CF_I("replies", replies, 1, 1000),
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

	if (f->type == JSON_TRUE) {
		if (!json_is_boolean(v))
			return -1;
		*(int *)(void *)p = json_is_true(v);
		return 0;
	}
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
	struct ctl_client *cl = &c->c[i];
	struct ctl_req q;
	json_error_t jerr;
	json_t *root;
	char err[128], why[96];

	root = json_loadb(c->buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		control_logx(c, CTL_LOG_BAD, "uid=%u refused reason=bad-request",
		    (unsigned)cl->uid);
		control_error(c, h, "bad-request", "not one JSON object");
		return;
	}
	if (control_parse(&q, root, err, sizeof(err)) == -1) {
		control_logx(c, CTL_LOG_BAD, "uid=%u refused reason=bad-request "
		    "detail=\"%s\"", (unsigned)cl->uid, err);
		control_error(c, h, "bad-request", "%s", err);
	} else if (!policy_socket_allows(c->policy, control_verb(&q),
	    cl->uid, cl->gid, cl->groups, cl->ngroups)) {
		policy_socket_why(c->policy, control_verb(&q), why,
		    sizeof(why));
		control_logx(c, CTL_LOG_DENIED, "uid=%u refused reason=denied "
		    "op=%s detail=\"%s\"", (unsigned)cl->uid,
		    control_verb_name(&q), why);
		control_error(c, h, "denied", "uid %u may not %s (%s)",
		    (unsigned)cl->uid, control_verb(&q) == SOCK_READ ?
		    "read the daemon's view" : control_verb_name(&q), why);
	} else
		fn(h, &q, arg);
	free(q.args);
	json_decref(root);
}

/*
 * One request per connection, in one datagram (SOCK_SEQPACKET: there
 * is no partial request, only none yet).  recv reports a datagram's
 * real length (MSG_TRUNC), so an oversize one is refused whole, never
 * parsed cut.  A second datagram is refused: what the first asked for
 * ends with it.
 */
static void
control_read(struct control *c, size_t i,
    void (*fn)(uint32_t, struct ctl_req *, void *), void *arg)
{
	uint32_t h = control_handle(c, i);
	ssize_t n = recv(c->c[i].fd, c->buf, CONTROL_MSG_MAX, MSG_TRUNC);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		control_close(c, h);
		return;
	}
	if (c->c[i].asked) {
		control_logx(c, CTL_LOG_BAD, "uid=%u refused reason=bad-request "
		    "detail=\"second request\"", (unsigned)c->c[i].uid);
		control_error(c, h, "bad-request", "one request per connection");
		return;
	}
	c->c[i].asked = 1;
	if ((size_t)n > CONTROL_MSG_MAX) {
		control_logx(c, CTL_LOG_OVERSIZE, "uid=%u refused "
		    "reason=oversize", (unsigned)c->c[i].uid);
		control_error(c, h, "oversize", "request over %d bytes",
		    CONTROL_MSG_MAX);
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

/*
 * Clients first, then the idle clock, then new connections: a client
 * accepted in one turn has its request read in the next, before any
 * newcomer of that turn could evict it.
 */
void
control_io(struct control *c, const struct pollfd *pfd, size_t n,
    void (*fn)(uint32_t, struct ctl_req *, void *), void *arg)
{
	size_t i, k, accepts = 0;
	int listening = 0;

	for (k = 0; k < n; k++) {
		if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (pfd[k].fd == c->listen_fd) {
			listening = 1;
			continue;
		}
		for (i = 0; i < CONTROL_CLIENTS; i++)
			if (c->c[i].fd == pfd[k].fd)
				control_read(c, i, fn, arg);
	}
	control_expire(c);
	while (listening && accepts++ < CONTROL_ACCEPTS &&
	    control_accept(c))
		;
}
