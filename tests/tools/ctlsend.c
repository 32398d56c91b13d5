/*
 * ctlsend.c - test tool: send stdin as one raw datagram to a hive
 * control socket and print every reply, one per line, until the daemon
 * closes or 5 s pass.  For hostile requests hive-cli would never build.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	static char buf[256 * 1024];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	size_t len;
	ssize_t n;
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: hive-test-ctlsend SOCKET <request\n");
		return 2;
	}
	memcpy(sun.sun_path, argv[1], strlen(argv[1]));
	len = fread(buf, 1, sizeof(buf), stdin);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    send(fd, buf, len, 0) == -1) {
		perror(argv[1]);
		return 2;
	}
	pfd = (struct pollfd){ fd, POLLIN, 0 };
	while (poll(&pfd, 1, 5000) == 1 &&
	    (n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0)
		printf("%.*s\n", (int)n, buf);
	return 0;
}
