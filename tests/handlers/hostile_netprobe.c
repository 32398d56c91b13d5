/* hostile_netprobe - one socket per family (AF_UNIX, AF_INET stream
 * and raw, AF_INET6, AF_NETLINK, AF_PACKET); prints what each gave:
 * "open" or the error. */
#include <sys/socket.h>

#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
probe(const char *name, int family, int type, int proto, int last)
{
	int s = socket(family, type, proto);

	printf("\"%s\":\"%s\"%s", name, s == -1 ? strerror(errno) : "open",
	    last ? "" : ",");
	if (s != -1)
		close(s);
}

int
main(void)
{
	printf("{");
	probe("unix", AF_UNIX, SOCK_DGRAM, 0, 0);
	probe("inet", AF_INET, SOCK_STREAM, 0, 0);
	probe("raw", AF_INET, SOCK_RAW, IPPROTO_ICMP, 0);
	probe("inet6", AF_INET6, SOCK_DGRAM, 0, 0);
	probe("netlink", AF_NETLINK, SOCK_RAW, 0, 0);
	probe("packet", AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), 1);
	printf("}\n");
	return 0;
}
