/* hostile_socket - AF_UNIX must work; then an AF_INET socket (argv
 * "raw": a raw one).  Refused: the error on stderr and exit 3. */
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	int u, s;

	if ((u = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		fprintf(stderr, "unix: %s\n", strerror(errno));
		return 4;
	}
	close(u);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s == -1) {
		fprintf(stderr, "inet: %s\n", strerror(errno));
		return 3;
	}
	printf("{\"inet\":\"open\"}\n");
	return 0;
}
