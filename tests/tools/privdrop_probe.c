/*
 * privdrop_probe.c - run src/privdrop.c's privdrop(USER) in this
 * process, then print what it left: "uid U gid G caps C nnp N" and
 * whether the old uid or root can be regained.  test_split.sh runs it
 * as a non-root account holding CAP_SETUID/SETGID/SETPCAP (the split
 * monitor unit's ambient set), and without them.
 */
#include <sys/prctl.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cap-ng.h>

#include "daemon.h"
#include "log.h"

int
main(int argc, char *argv[])
{
	uid_t old = getuid();
	int regain;

	if (argc != 2) {
		fprintf(stderr, "usage: hive-test-privdrop USER\n");
		return 2;
	}
	log_init("probe", LOG_LVL_INFO);
	privdrop(argv[1], "probe");
	regain = setuid(0) == 0 || seteuid(0) == 0 ||
	    (old != getuid() && (setuid(old) == 0 || seteuid(old) == 0));
	if (capng_get_caps_process() != 0)
		return 1;
	printf("uid %u gid %u caps %s bounding %s nnp %d regain %s\n",
	    (unsigned)getuid(), (unsigned)getgid(),
	    capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE ?
	    "none" : "some",
	    capng_have_capabilities(CAPNG_SELECT_BOUNDS) == CAPNG_NONE ?
	    "none" : "some",
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), regain ? "yes" : "no");
	return 0;
}
