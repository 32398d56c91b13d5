/*
 * fdpass.c - SCM_RIGHTS: a message with descriptors, and the
 * descriptors of a message received, nothing it carried left open
 * unless asked for.
 */
#include <sys/syscall.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"

ssize_t
fdpass_send(int sock, const void *buf, size_t len, const int *fds, int nfds,
    int flags)
{
	union {
		struct cmsghdr	h;
		char		b[FDPASS_CMSG_SPACE];
	} c;
	struct iovec iov = { (void *)buf, len };
	struct msghdr m;
	struct cmsghdr *cm;

	if (nfds < 1 || nfds > 4) {
		errno = EINVAL;
		return -1;
	}
	memset(&c, 0, sizeof(c));
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = c.b;
	m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	/* raw: no sanitizer's or libc's wrapper in a confined child */
	return syscall(SYS_sendmsg, sock, &m, flags);
}

int
fdpass_take(struct msghdr *m, int *fds, int want)
{
	struct cmsghdr *cm;
	int got = 0, n, i, one;

	for (cm = CMSG_FIRSTHDR(m); cm != NULL; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (i = 0; i < n; i++) {
			memcpy(&one, CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
			if (n == want && got < want)
				fds[got++] = one;
			else
				syscall(SYS_close, one);
		}
	}
	if (got == want)
		return 0;
	for (i = 0; i < got; i++)
		syscall(SYS_close, fds[i]);
	return -1;
}

ssize_t
fdpass_recv(int sock, void *buf, size_t len, int *fd, int *flags)
{
	union {
		struct cmsghdr	h;
		char		b[FDPASS_CMSG_SPACE];
	} c;
	struct iovec iov = { buf, len };
	struct msghdr m;
	ssize_t n;

	*fd = -1;
	*flags = 0;
	do {
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = c.b;
		m.msg_controllen = sizeof(c.b);
		n = recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	*flags = m.msg_flags;
	if (fdpass_take(&m, fd, 1) == -1)
		*fd = -1;
	else if (n == 0) {
		close(*fd);
		*fd = -1;
	}
	return n;
}
