/*
 * ipc.c - framing, dispatch and field encoding of hive's internal
 * messages.  See ipc.h for the rules; this file enforces them.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"

static const char *const ipc_role_names[ROLE__COUNT] = {
	[ROLE_MONITOR] = "monitor", [ROLE_ROUTER] = "router",
	[ROLE_INJECTOR] = "injector",
};

const char *
ipc_role_name(enum ipc_role r)
{
	if ((unsigned)r >= ROLE__COUNT)
		fatalx("ipc_role_name: impossible role %d", (int)r);
	return ipc_role_names[r];
}

int
ipc_pair(int fds[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds);
}

int
ipc_send(int fd, uint32_t type, uint32_t peer, const void *p, size_t len)
{
	struct ipc_hdr h = { type, (uint32_t)len, peer, (uint32_t)getpid() };
	struct iovec iov[2] = { { &h, IPC_HDR_LEN }, { (void *)p, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (len > IPC_MAX_PAYLOAD)
		fatalx("ipc_send: type %u payload %zu over the cap", type, len);
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != IPC_HDR_LEN + len)
		fatalx("ipc_send: short datagram");
	return 0;
}

/* --- the send queues (ipc.h: ipc_send_queued) ------------------------- */

struct ipc_qmsg {
	struct ipc_qmsg	*next;
	size_t		 len;
	uint8_t		 data[];	/* header and payload */
};

static struct ipc_queue {
	int		 fd;		/* -1: unused */
	struct ipc_qmsg	*head, *tail;
	size_t		 bytes;
} ipc_queues[IPC_QUEUES] = { { -1, NULL, NULL, 0 }, { -1, NULL, NULL, 0 },
    { -1, NULL, NULL, 0 }, { -1, NULL, NULL, 0 } };

static struct ipc_queue *
ipc_queue(int fd, int create)
{
	size_t i;

	for (i = 0; i < IPC_QUEUES; i++)
		if (ipc_queues[i].fd == fd)
			return &ipc_queues[i];
	for (i = 0; create && i < IPC_QUEUES; i++)
		if (ipc_queues[i].fd == -1) {
			ipc_queues[i].fd = fd;
			return &ipc_queues[i];
		}
	if (create)
		fatalx("ipc: more than %d send queues", IPC_QUEUES);
	return NULL;
}

/* 1 sent, 0 the socket is full, -1 error */
static int
ipc_send_now(int fd, const uint8_t *data, size_t len)
{
	ssize_t n;

	do {
		n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	if ((size_t)n != len)
		fatalx("ipc_send: short datagram");
	return 1;
}

int
ipc_flush(int fd)
{
	struct ipc_queue *q = ipc_queue(fd, 0);
	struct ipc_qmsg *m;
	int r;

	while (q != NULL && (m = q->head) != NULL) {
		if ((r = ipc_send_now(fd, m->data, m->len)) <= 0)
			return r;
		q->head = m->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->bytes -= m->len;
		free(m);
	}
	return 0;
}

int
ipc_send_queued(int fd, uint32_t type, uint32_t peer, const void *p,
    size_t len)
{
	struct ipc_hdr h = { type, (uint32_t)len, peer, (uint32_t)getpid() };
	struct ipc_queue *q;
	struct ipc_qmsg *m;
	int r;

	if (len > IPC_MAX_PAYLOAD)
		fatalx("ipc_send: type %u payload %zu over the cap", type, len);
	if ((m = malloc(sizeof(*m) + IPC_HDR_LEN + len)) == NULL)
		fatal("ipc_send_queued");
	m->next = NULL;
	m->len = IPC_HDR_LEN + len;
	memcpy(m->data, &h, IPC_HDR_LEN);
	if (len > 0)
		memcpy(m->data + IPC_HDR_LEN, p, len);
	q = ipc_queue(fd, 1);
	if (q->head == NULL) {	/* nothing before it: straight out */
		if ((r = ipc_send_now(fd, m->data, m->len)) != 0) {
			free(m);
			return r == 1 ? 0 : -1;
		}
	}
	if (q->bytes + m->len > IPC_QUEUE_MAX)
		fatalx("ipc: peer on fd %d stopped reading (%zu bytes queued)",
		    fd, q->bytes);
	if (q->tail != NULL)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->bytes += m->len;
	return 0;
}

int
ipc_queued(int fd)
{
	struct ipc_queue *q = ipc_queue(fd, 0);

	return q != NULL && q->head != NULL;
}

void
ipc_queue_drop(int fd)
{
	struct ipc_queue *q = ipc_queue(fd, 0);
	struct ipc_qmsg *m;

	if (q == NULL)
		return;
	while ((m = q->head) != NULL) {
		q->head = m->next;
		free(m);
	}
	q->tail = NULL;
	q->bytes = 0;
	q->fd = -1;
}

int
ipc_recv(int fd, struct ipc_msg *m)
{
	uint8_t *buf;
	ssize_t n, got;

	memset(m, 0, sizeof(*m));
	/* learn the datagram's size first, so the buffer fits it exactly */
	do {
		n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	} while (n == -1 && errno == EINTR);
	if (n <= 0)
		return n == 0 ? 0 : -1;
	if ((size_t)n < IPC_HDR_LEN || (size_t)n > IPC_HDR_LEN + IPC_MAX_PAYLOAD) {
		(void)recv(fd, NULL, 0, MSG_TRUNC);	/* consume, then die */
		fatalx("ipc_recv: datagram of %zd bytes", n);
	}
	if ((buf = malloc((size_t)n + 1)) == NULL)
		fatal("ipc_recv");
	do {
		got = recv(fd, buf, (size_t)n, MSG_TRUNC);
	} while (got == -1 && errno == EINTR);
	if (got != n)
		fatalx("ipc_recv: datagram changed size (%zd, %zd)", n, got);
	memcpy(&m->hdr, buf, IPC_HDR_LEN);
	if (m->hdr.len != (size_t)n - IPC_HDR_LEN)
		fatalx("ipc_recv: type %u header says %u bytes, datagram %zd",
		    m->hdr.type, m->hdr.len, n - IPC_HDR_LEN);
	memmove(buf, buf + IPC_HDR_LEN, m->hdr.len);
	buf[m->hdr.len] = '\0';
	m->data = buf;
	return 1;
}

void
ipc_msg_free(struct ipc_msg *m)
{
	free(m->data);
	memset(m, 0, sizeof(*m));
}

void
ipc_dispatch(const struct ipc_rule *t, size_t n, enum ipc_role from,
    const struct ipc_msg *m, void *arg)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].type == m->hdr.type)
			break;
	if (i == n)
		fatalx("ipc: unknown message type %u from %s", m->hdr.type,
		    ipc_role_name(from));
	if (t[i].from != from)
		fatalx("ipc: type %u from %s, only %s may send it", m->hdr.type,
		    ipc_role_name(from), ipc_role_name(t[i].from));
	if ((t[i].size_rule == IPC_EXACT && m->hdr.len != t[i].size) ||
	    (t[i].size_rule == IPC_MAX && m->hdr.len > t[i].size))
		fatalx("ipc: type %u from %s has %u bytes", m->hdr.type,
		    ipc_role_name(from), m->hdr.len);
	t[i].fn(m, arg);
}

static void
ipc_put(struct ipc_writer *w, const void *p, size_t len)
{
	size_t ncap;

	if (w->len + len > w->cap) {
		ncap = w->cap ? w->cap : 256;
		while (ncap < w->len + len)
			ncap *= 2;
		if ((w->p = realloc(w->p, ncap)) == NULL)
			fatal("ipc_put");
		w->cap = ncap;
	}
	memcpy(w->p + w->len, p, len);
	w->len += len;
}

void
ipc_put_u32(struct ipc_writer *w, uint32_t v)
{
	ipc_put(w, &v, sizeof(v));
}

void
ipc_put_i64(struct ipc_writer *w, int64_t v)
{
	ipc_put(w, &v, sizeof(v));
}

void
ipc_put_str(struct ipc_writer *w, const char *s)
{
	uint32_t len = s == NULL ? 0 : (uint32_t)strlen(s) + 1;

	ipc_put_u32(w, len);
	if (len > 0)
		ipc_put(w, s, len);
}

void
ipc_writer_free(struct ipc_writer *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

void
ipc_reader_init(struct ipc_reader *r, const struct ipc_msg *m)
{
	r->p = m->data;
	r->len = m->hdr.len;
	r->off = 0;
	r->bad = 0;
}

static const uint8_t *
ipc_take(struct ipc_reader *r, size_t len)
{
	const uint8_t *p;

	if (r->bad || len > r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += len;
	return p;
}

uint32_t
ipc_get_u32(struct ipc_reader *r)
{
	const uint8_t *p = ipc_take(r, sizeof(uint32_t));
	uint32_t v = 0;

	if (p != NULL)
		memcpy(&v, p, sizeof(v));
	return v;
}

int64_t
ipc_get_i64(struct ipc_reader *r)
{
	const uint8_t *p = ipc_take(r, sizeof(int64_t));
	int64_t v = 0;

	if (p != NULL)
		memcpy(&v, p, sizeof(v));
	return v;
}

const char *
ipc_get_str(struct ipc_reader *r)
{
	uint32_t len = ipc_get_u32(r);
	const char *s;

	if (r->bad || len == 0)
		return NULL;
	if ((s = (const char *)ipc_take(r, len)) == NULL)
		return NULL;
	/* exactly one trailing NUL */
	if (s[len - 1] != '\0' || strlen(s) != len - 1) {
		r->bad = 1;
		return NULL;
	}
	return s;
}

int
ipc_reader_done(const struct ipc_reader *r)
{
	return (!r->bad && r->off == r->len) ? 0 : -1;
}
