/*
 * notifysink.c - test tool: play systemd's side of sd_notify.  Binds a
 * datagram socket at PATH, prints "ready" and then each datagram on
 * one line (its newlines as spaces), until killed.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096];
	ssize_t n, i;
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: hive-test-notifysink PATH\n");
		return 2;
	}
	memcpy(sun.sun_path, argv[1], strlen(argv[1]));
	unlink(argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror(argv[1]);
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	while ((n = recv(fd, buf, sizeof(buf), 0)) >= 0) {
		for (i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = ' ';
		printf("%.*s\n", (int)n, buf);
		fflush(stdout);
	}
	return 1;
}
