/* hostile_ptrace - tries to become traceable (and so to trace); the
 * handler profiles kill it with SIGSYS. */
#include <sys/ptrace.h>

#include <stdio.h>

int
main(void)
{
	long r = ptrace(PTRACE_TRACEME, 0, NULL, NULL);

	printf("{\"ptrace\":%ld}\n", r);
	return 0;
}
