/* hostile_unshare - tries to enter a new user namespace, the usual
 * first step to "root" inside one. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

int
main(void)
{
	int r = unshare(CLONE_NEWUSER | CLONE_NEWNS);

	printf("{\"unshare\":%d,\"errno\":\"%s\"}\n", r, strerror(errno));
	return 0;
}
