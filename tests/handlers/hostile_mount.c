/* hostile_mount - tries to mount a tmpfs over /tmp. */
#include <sys/mount.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
main(void)
{
	int r = mount("none", "/tmp", "tmpfs", 0, NULL);

	printf("{\"mount\":%d,\"errno\":\"%s\"}\n", r, strerror(errno));
	return 0;
}
