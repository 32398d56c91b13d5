/*
 * test_ipc.c - framing, dispatch rules and field decoding of ipc.c.
 * Protocol violations must be fatal: those cases run in a child and
 * the test checks that it died with fatal()'s status.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <stdlib.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "t.h"

enum { T_PING = 1, T_BLOB = 2 };

static int called;

static void
on_ping(const struct ipc_msg *m, void *arg)
{
	called = *(int *)arg + (int)m->hdr.len;
}

static const struct ipc_rule rules[] = {
	{ T_PING, ROLE_ROUTER, IPC_EXACT, 4, on_ping },
	{ T_BLOB, ROLE_MONITOR, IPC_MAX, 8, on_ping },
};

/* Run fn in a child; 1 if it exited with status 1 (fatal), else 0. */
static int
dies(void (*fn)(int), int fd)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		if (freopen("/dev/null", "w", stderr) == NULL)	/* expected fatal */
			_exit(3);
		fn(fd);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 1;
}

static int sv[2];

static void
recv_and_dispatch(int fd)
{
	struct ipc_msg m;
	int base = 0;

	if (ipc_recv(fd, &m) == 1)
		ipc_dispatch(rules, 2, ROLE_ROUTER, &m, &base);
}

static void
test_roundtrip_and_dispatch(void)
{
	struct ipc_msg m;
	int base = 10;

	CHECK(ipc_send(sv[0], T_PING, 77, "abcd", 4) == 0);
	CHECK(ipc_recv(sv[1], &m) == 1);
	CHECK(m.hdr.type == T_PING && m.hdr.len == 4 && m.hdr.peer == 77);
	CHECK(m.hdr.pid == (uint32_t)getpid());
	CHECK(memcmp(m.data, "abcd", 5) == 0);	/* NUL-terminated copy */
	ipc_dispatch(rules, 2, ROLE_ROUTER, &m, &base);
	CHECK(called == 14);
	ipc_msg_free(&m);
	/* empty payload */
	CHECK(ipc_send(sv[0], T_BLOB, 1, NULL, 0) == 0);
	CHECK(ipc_recv(sv[1], &m) == 1 && m.hdr.len == 0);
	ipc_msg_free(&m);
}

static void
test_violations(void)
{
	struct ipc_hdr h = { T_PING, 10, 0, 0 };
	char raw[IPC_HDR_LEN + 4];

	/* wrong size for an exact rule */
	ipc_send(sv[0], T_PING, 0, "abc", 3);
	CHECK(dies(recv_and_dispatch, sv[1]));
	/* unknown type */
	ipc_send(sv[0], 99, 0, "abcd", 4);
	CHECK(dies(recv_and_dispatch, sv[1]));
	/* allowed type, wrong sender (T_BLOB is the monitor's) */
	ipc_send(sv[0], T_BLOB, 0, "ab", 2);
	CHECK(dies(recv_and_dispatch, sv[1]));
	/* header length disagrees with the datagram */
	memcpy(raw, &h, IPC_HDR_LEN);
	memcpy(raw + IPC_HDR_LEN, "abcd", 4);
	CHECK(send(sv[0], raw, sizeof(raw), 0) == (ssize_t)sizeof(raw));
	CHECK(dies(recv_and_dispatch, sv[1]));
	/* a datagram shorter than a header */
	CHECK(send(sv[0], "abc", 3, 0) == 3);
	CHECK(dies(recv_and_dispatch, sv[1]));
	/* still in sync afterwards: a good message dispatches */
	called = 0;
	ipc_send(sv[0], T_PING, 0, "wxyz", 4);
	CHECK(!dies(recv_and_dispatch, sv[1]));
}

static void
test_big(void)
{
	struct ipc_msg m;
	char *big = calloc(1, IPC_MAX_PAYLOAD);
	int sz = 4 * IPC_MAX_PAYLOAD;

	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	memset(big, 'x', IPC_MAX_PAYLOAD);
	CHECK(ipc_send(sv[0], T_BLOB, 0, big, IPC_MAX_PAYLOAD) == 0);
	CHECK(ipc_recv(sv[1], &m) == 1 && m.hdr.len == IPC_MAX_PAYLOAD);
	ipc_msg_free(&m);
	free(big);
}

static void
send_oversize(int fd)
{
	static char big[IPC_MAX_PAYLOAD + 1];

	ipc_send(fd, T_BLOB, 0, big, sizeof(big));
}

static void
test_fields(void)
{
	struct ipc_writer w = { 0 };
	struct ipc_reader r;
	struct ipc_msg m;
	uint32_t bad[2] = { 3, 0 };

	ipc_put_u32(&w, 7);
	ipc_put_str(&w, "hello");
	ipc_put_str(&w, NULL);
	ipc_put_i64(&w, -5);
	m.hdr.len = (uint32_t)w.len;
	m.data = w.p;
	ipc_reader_init(&r, &m);
	CHECK(ipc_get_u32(&r) == 7);
	CHECK_STR(ipc_get_str(&r), "hello");
	CHECK(ipc_get_str(&r) == NULL);
	CHECK(ipc_get_i64(&r) == -5);
	CHECK(ipc_reader_done(&r) == 0);
	/* reading past the end */
	CHECK(ipc_get_u32(&r) == 0 && ipc_reader_done(&r) == -1);
	/* trailing bytes left over */
	ipc_reader_init(&r, &m);
	(void)ipc_get_u32(&r);
	CHECK(ipc_reader_done(&r) == -1);
	ipc_writer_free(&w);
	/* a string of 3 bytes "a\0b": NUL inside, none at the end */
	memcpy((char *)bad + 4, "a\0b", 3);
	m.hdr.len = 7;
	m.data = (uint8_t *)bad;
	ipc_reader_init(&r, &m);
	CHECK(ipc_get_str(&r) == NULL && ipc_reader_done(&r) == -1);
	/* a length beyond the payload */
	bad[0] = 1000;
	m.hdr.len = 4;
	ipc_reader_init(&r, &m);
	CHECK(ipc_get_str(&r) == NULL && ipc_reader_done(&r) == -1);
}

int
main(void)
{
	if (ipc_pair(sv) == -1)
		return 1;
	test_roundtrip_and_dispatch();
	test_violations();
	test_big();
	CHECK(dies(send_oversize, sv[0]));
	test_fields();
	return t_done();
}
