/*
 * fuzz_ipc.c - the IPC decoders between hive's own processes: framing
 * (ipc_recv on a real SOCK_SEQPACKET pair), the dispatch checks
 * (ipc_dispatch: type, sender, size rule) and the field readers
 * (ipc_get_u32/i64/str, ipc_reader_done) over every payload layout of
 * daemon.h.  Protocol violations call fatal(); stub_log.c turns that
 * into a longjmp back here, so the harness checks that the fatal cases
 * are exactly the ones the rules say.
 *
 * The first input byte picks the mode, the rest is the message:
 *   0  payload: byte 1 picks a message layout, the rest is the payload
 *   1  dispatch: byte 1 picks a receiver table and sender role, then a
 *      16-byte header (the payload is not read by the size checks)
 *   2  datagram: the rest is sent as one datagram and received with
 *      ipc_recv; a well-framed one is then decoded as in mode 0
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "daemon.h"
#include "envelope.h"
#include "ipc.h"
#include "stub_log.h"

#include "fuzz.h"

/*
 * fatal() exits in the daemon, so ipc_recv does not free its buffer
 * before calling it; here it returns to the harness, which frees the
 * buffer itself: the link wraps malloc (-Wl,--wrap=malloc) and the
 * wrapper remembers what ipc_recv allocated.  (A leak would make
 * libFuzzer run a full leak check after every such input.)
 */
void *__real_malloc(size_t);
void *__wrap_malloc(size_t);
static int fuzz_track;
static void *fuzz_tracked;

void *
__wrap_malloc(size_t n)
{
	void *p = __real_malloc(n);

	if (fuzz_track)
		fuzz_tracked = p;
	return p;
}

/* Payload layouts by message type, as daemon.h documents them:
 * u = u32, i = i64, s = string. */
static const char *const fuzz_layouts[] = {
	[IMSG_SIGN_REQ] = "sssssssssi",
	[IMSG_SIGN_REP] = "us",
	[IMSG_INJECT] = "ussss",
	[IMSG_INJECT_DONE] = "uuss",
	[IMSG_AUDIT] = "us",	/* a batch of one; more are more "s" */
	[IMSG_READY] = "s",
	[IMSG_ALIVE] = "",
	[IMSG_RELOAD] = "",
	[IMSG_HANDLERS] = "s",
	[IMSG_RUN_HANDLER] = "ussssss",
	[IMSG_HANDLER_DONE] = "usssiiiisss",
};
#define FUZZ_NLAYOUTS	(sizeof(fuzz_layouts) / sizeof(fuzz_layouts[0]))

static int fuzz_calls;

static void
fuzz_handler(const struct ipc_msg *m, void *arg)
{
	fuzz_calls++;
}

/* The receivers' tables (monitor.c, router.c, router_inject.c,
 * injector.c), with the handlers replaced by a counter. */
static const struct ipc_rule fuzz_monitor[] = {
	{ IMSG_SIGN_REQ, ROLE_ROUTER, IPC_MAX, ENVELOPE_MAX_WIRE + 4096,
	    fuzz_handler },
	{ IMSG_AUDIT, ROLE_ROUTER, IPC_MAX, AUDIT_BATCH_BYTES, fuzz_handler },
	{ IMSG_READY, ROLE_ROUTER, IPC_MAX, 512, fuzz_handler },
	{ IMSG_ALIVE, ROLE_ROUTER, IPC_EXACT, 0, fuzz_handler },
	{ IMSG_RUN_HANDLER, ROLE_ROUTER, IPC_MAX, IPC_MAX_PAYLOAD,
	    fuzz_handler },
};
static const struct ipc_rule fuzz_router[] = {
	{ IMSG_SIGN_REP, ROLE_MONITOR, IPC_MAX, ENVELOPE_MAX_WIRE + 1024,
	    fuzz_handler },
	{ IMSG_RELOAD, ROLE_MONITOR, IPC_EXACT, 0, fuzz_handler },
	{ IMSG_HANDLERS, ROLE_MONITOR, IPC_MAX, 16 * 1024, fuzz_handler },
	{ IMSG_HANDLER_DONE, ROLE_MONITOR, IPC_MAX, IPC_MAX_PAYLOAD,
	    fuzz_handler },
};
static const struct ipc_rule fuzz_router_inj[] = {
	{ IMSG_INJECT_DONE, ROLE_INJECTOR, IPC_MAX, INJECT_TEXT_MAX + 1024,
	    fuzz_handler },
};
static const struct ipc_rule fuzz_injector[] = {
	{ IMSG_INJECT, ROLE_ROUTER, IPC_MAX, INJECT_TEXT_MAX + 512,
	    fuzz_handler },
};
static const struct {
	const struct ipc_rule	*t;
	size_t			 n;
} fuzz_tables[] = {
	{ fuzz_monitor, sizeof(fuzz_monitor) / sizeof(fuzz_monitor[0]) },
	{ fuzz_router, sizeof(fuzz_router) / sizeof(fuzz_router[0]) },
	{ fuzz_router_inj, 1 },
	{ fuzz_injector, 1 },
};

/* Read the fields of layout; if the reader accepts the payload, the
 * writer must give back exactly the same bytes. */
static void
fuzz_decode(const struct ipc_msg *m, const char *layout)
{
	struct ipc_writer w = { 0 };
	struct ipc_reader r;
	uint32_t u[16];
	int64_t i64[16];
	const char *s[16];
	size_t k, n = strlen(layout);

	ipc_reader_init(&r, m);
	for (k = 0; k < n; k++) {
		if (layout[k] == 'u')
			u[k] = ipc_get_u32(&r);
		else if (layout[k] == 'i')
			i64[k] = ipc_get_i64(&r);
		else if ((s[k] = ipc_get_str(&r)) != NULL)
			FUZZ_ASSERT((const uint8_t *)s[k] >= m->data &&
			    (const uint8_t *)s[k] + strlen(s[k]) <
			    m->data + m->hdr.len);
	}
	if (ipc_reader_done(&r) == -1) {
		/* once bad, always bad: nothing more comes out */
		if (r.bad)
			FUZZ_ASSERT(ipc_get_u32(&r) == 0 &&
			    ipc_get_i64(&r) == 0 && ipc_get_str(&r) == NULL);
		return;
	}
	for (k = 0; k < n; k++) {
		if (layout[k] == 'u')
			ipc_put_u32(&w, u[k]);
		else if (layout[k] == 'i')
			ipc_put_i64(&w, i64[k]);
		else
			ipc_put_str(&w, s[k]);
	}
	FUZZ_ASSERT(w.len == m->hdr.len &&
	    (w.len == 0 || memcmp(w.p, m->data, w.len) == 0));
	ipc_writer_free(&w);
}

static void
fuzz_payload(const uint8_t *data, size_t size)
{
	struct ipc_msg m;
	size_t t;

	if (size < 1)
		return;
	t = data[0] % FUZZ_NLAYOUTS;
	if (fuzz_layouts[t] == NULL)
		t = IMSG_SIGN_REQ;
	memset(&m, 0, sizeof(m));
	m.hdr.type = (uint32_t)t;
	m.hdr.len = (uint32_t)(size - 1);
	/* as ipc_recv leaves it: len bytes and a NUL not counted */
	FUZZ_ASSERT((m.data = malloc(size)) != NULL);
	memcpy(m.data, data + 1, size - 1);
	m.data[size - 1] = '\0';
	fuzz_decode(&m, fuzz_layouts[t]);
	ipc_msg_free(&m);
}

/* Does the table accept this header from this role? */
static int
fuzz_allowed(const struct ipc_rule *t, size_t n, enum ipc_role from,
    const struct ipc_hdr *h)
{
	size_t i;

	for (i = 0; i < n && t[i].type != h->type; i++)
		;
	if (i == n || t[i].from != from)
		return 0;
	if (t[i].size_rule == IPC_EXACT)
		return h->len == t[i].size;
	return h->len <= t[i].size;
}

static void
fuzz_dispatch(const uint8_t *data, size_t size)
{
	const struct ipc_rule *t;
	struct ipc_msg m;
	enum ipc_role from;
	jmp_buf jb;
	size_t n;
	volatile int allowed;

	if (size < 1 + IPC_HDR_LEN)
		return;
	t = fuzz_tables[data[0] % 4].t;
	n = fuzz_tables[data[0] % 4].n;
	from = (enum ipc_role)((data[0] >> 2) % ROLE__COUNT);
	memset(&m, 0, sizeof(m));
	memcpy(&m.hdr, data + 1, IPC_HDR_LEN);
	/* small types and sizes near the rules are the interesting ones */
	if (data[0] & 0x80) {
		m.hdr.type %= 16;
		m.hdr.len %= 2 * IPC_MAX_PAYLOAD;
	}
	allowed = fuzz_allowed(t, n, from, &m.hdr);
	fuzz_calls = 0;
	stub_fatal_count = 0;
	if (setjmp(jb) == 0) {
		stub_fatal_jmp = &jb;
		ipc_dispatch(t, n, from, &m, NULL);
		stub_fatal_jmp = NULL;
		FUZZ_ASSERT(allowed && fuzz_calls == 1);
	} else
		FUZZ_ASSERT(!allowed && fuzz_calls == 0);
}

static void
fuzz_datagram(const uint8_t *data, size_t size)
{
	struct ipc_msg m;
	struct ipc_hdr h;
	jmp_buf jb;
	int fds[2];
	volatile int framed, rc = -2;

	memset(&h, 0, sizeof(h));
	if (size >= IPC_HDR_LEN)
		memcpy(&h, data, IPC_HDR_LEN);
	framed = size >= IPC_HDR_LEN && h.len == size - IPC_HDR_LEN;
	FUZZ_ASSERT(ipc_pair(fds) == 0);
	FUZZ_ASSERT(send(fds[0], data, size, 0) == (ssize_t)size);
	fuzz_tracked = NULL;
	if (setjmp(jb) == 0) {
		stub_fatal_jmp = &jb;
		fuzz_track = 1;
		rc = ipc_recv(fds[1], &m);
		fuzz_track = 0;
		stub_fatal_jmp = NULL;
	} else {
		fuzz_track = 0;
		free(fuzz_tracked);	/* the daemon would have exited */
	}
	close(fds[0]);
	close(fds[1]);
	if (size == 0) {
		/* SOCK_SEQPACKET: an empty datagram reads as the peer
		 * closing; ipc_send never sends one (the header is 16) */
		FUZZ_ASSERT(rc == 0);
		return;
	}
	if (!framed) {
		FUZZ_ASSERT(rc == -2);		/* fatal */
		return;
	}
	FUZZ_ASSERT(rc == 1);
	FUZZ_ASSERT(memcmp(&m.hdr, &h, sizeof(h)) == 0);
	FUZZ_ASSERT(memcmp(m.data, data + IPC_HDR_LEN, m.hdr.len) == 0 &&
	    m.data[m.hdr.len] == '\0');
	fuzz_decode(&m, fuzz_layouts[m.hdr.type % FUZZ_NLAYOUTS] != NULL ?
	    fuzz_layouts[m.hdr.type % FUZZ_NLAYOUTS] : "s");
	ipc_msg_free(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_payload(data + 1, size - 1);
		break;
	case 1:
		fuzz_dispatch(data + 1, size - 1);
		break;
	default:
		fuzz_datagram(data + 1, size - 1);
		break;
	}
	return 0;
}
