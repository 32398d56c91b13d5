/*
 * ipc.h - typed messages between hive's own processes (monitor, router,
 * injector), over SOCK_SEQPACKET socketpairs: one datagram per message,
 * so a message can never be split or merged.
 *
 * Every message is a fixed 16-byte header (type, len, peer, pid, as in
 * OpenBSD's imsg) and at most IPC_MAX_PAYLOAD bytes of payload.  A
 * receiver checks the datagram length against the header exactly and
 * then dispatches through a table of (type, allowed sender, size rule,
 * handler).  Anything else from another of our processes is a protocol
 * violation and fatal for that connection: never log and carry on.
 */
#ifndef HIVE_IPC_H
#define HIVE_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_HDR_LEN	16
#define IPC_MAX_PAYLOAD	(192 * 1024)

enum ipc_role { ROLE_MONITOR = 0, ROLE_ROUTER, ROLE_INJECTOR, ROLE__COUNT };

struct ipc_hdr {
	uint32_t	type;
	uint32_t	len;	/* payload bytes after the header */
	uint32_t	peer;	/* request id, echoed in the answer */
	uint32_t	pid;	/* sender's pid, for logs */
};

struct ipc_msg {
	struct ipc_hdr	 hdr;
	uint8_t		*data;	/* len bytes + a NUL not counted in len */
};

/* Size rules for the dispatch table. */
enum ipc_size { IPC_EXACT, IPC_MAX };

struct ipc_rule {
	uint32_t	 type;
	enum ipc_role	 from;		/* the only role that may send it */
	enum ipc_size	 size_rule;
	size_t		 size;		/* exact size, or the maximum */
	void		(*fn)(const struct ipc_msg *, void *arg);
};

int ipc_pair(int fds[2]);
/* 0 sent, -1 error (errno); payload larger than the cap is fatal */
int ipc_send(int fd, uint32_t type, uint32_t peer, const void *p, size_t len);
/*
 * Sending without ever blocking, for a process that also reads from the
 * same peer: two processes each blocked sending to the other, with full
 * buffers, would wait forever (OpenBSD's msgbuf).  What the socket does
 * not take now is queued, in order, and ipc_flush() sends it when poll
 * says POLLOUT.  0 sent or queued, -1 error (errno; EPIPE: peer gone).
 * More than IPC_QUEUE_MAX bytes waiting means the peer stopped reading:
 * fatal.  At most IPC_QUEUES descriptors have a queue.
 */
#define IPC_QUEUES	4
#define IPC_QUEUE_MAX	(64 * 1024 * 1024)
int ipc_send_queued(int fd, uint32_t type, uint32_t peer, const void *p,
    size_t len);
int ipc_flush(int fd);		/* 0, or -1 (errno) */
int ipc_queued(int fd);		/* 1 if anything waits for POLLOUT */
void ipc_queue_drop(int fd);	/* the peer is gone: forget what waits */
/* 1 a message (free with ipc_msg_free), 0 peer closed, -1 I/O error.
 * A datagram whose length disagrees with its header is fatal. */
int ipc_recv(int fd, struct ipc_msg *m);
void ipc_msg_free(struct ipc_msg *);
/* Find the rule, check sender and size, call it; fatal otherwise. */
void ipc_dispatch(const struct ipc_rule *, size_t nrules, enum ipc_role from,
    const struct ipc_msg *, void *arg);
const char *ipc_role_name(enum ipc_role);

/*
 * Payload fields: a writer appends, a reader takes in the same order.
 * Strings travel as u32 length (NUL included) + bytes with exactly one
 * trailing NUL; a reader that finds anything else fails, and the
 * caller treats that as a protocol violation.
 */
struct ipc_writer {
	uint8_t	*p;
	size_t	 len, cap;
};
struct ipc_reader {
	const uint8_t	*p;
	size_t		 len, off;
	int		 bad;
};

void ipc_put_u32(struct ipc_writer *, uint32_t);
void ipc_put_i64(struct ipc_writer *, int64_t);
void ipc_put_str(struct ipc_writer *, const char *);	/* NULL: absent */
void ipc_writer_free(struct ipc_writer *);

void ipc_reader_init(struct ipc_reader *, const struct ipc_msg *);
uint32_t ipc_get_u32(struct ipc_reader *);
int64_t ipc_get_i64(struct ipc_reader *);
const char *ipc_get_str(struct ipc_reader *);	/* NULL if absent or bad */
/* 0 if every byte was consumed and nothing was malformed */
int ipc_reader_done(const struct ipc_reader *);

#endif
