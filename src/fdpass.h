/*
 * fdpass.h - descriptors over an AF_UNIX socket (SCM_RIGHTS), for the
 * runner, its confined children and its zygotes (src/fdpass.c).
 */
#ifndef HIVE_FDPASS_H
#define HIVE_FDPASS_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stddef.h>

/* One message of len bytes carrying nfds descriptors (1 to 4): a raw
 * sendmsg(2), the one call a confined child's handoff prefix allows.
 * The bytes sent, or -1 (errno). */
ssize_t fdpass_send(int sock, const void *buf, size_t len, const int *fds,
    int nfds, int flags);

/* Room for the control data of up to four descriptors. */
#define FDPASS_CMSG_SPACE	CMSG_SPACE(sizeof(int) * 4)

/* The descriptors a received message carried: 0 and exactly want of
 * them in fds, or -1 with every one it carried closed. */
int fdpass_take(struct msghdr *, int *fds, int want);

/*
 * The runner's side of a channel: one message into buf (at most len
 * bytes), not blocking, its descriptors close-on-exec, EINTR retried.
 * Its length, 0 at the end, or -1 (errno; EAGAIN: none waiting).  *fd
 * is the one descriptor it carried, else -1 (any others closed; none
 * kept at the end or on error); *flags its msg_flags (MSG_TRUNC,
 * MSG_CTRUNC).
 */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fd, int *flags);

#endif
