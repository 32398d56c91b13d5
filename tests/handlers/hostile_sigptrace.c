/* hostile_sigptrace - calls ptrace (which the profiles kill) again and
 * again under a fast timer whose handler has no SA_RESTART: a call
 * interrupted before the runner has read its notification is
 * withdrawn and returns EINTR instead of waiting to be killed.  The
 * run must still end killed-by-seccomp; printing means it escaped. */
#include <sys/syscall.h>
#include <sys/time.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
on_alarm(int sig)
{
	(void)sig;
}

int
main(void)
{
	struct itimerval it = { { 0, 20 }, { 0, 20 } };
	struct sigaction sa;
	long i, eintr = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART */
	if (sigaction(SIGALRM, &sa, NULL) == -1 ||
	    setitimer(ITIMER_REAL, &it, NULL) == -1)
		return 2;
	for (i = 0; i < 200000; i++)
		if (syscall(SYS_ptrace, 0 /* TRACEME */, 0, 0, 0) == -1 &&
		    errno == EINTR)
			eintr++;
	printf("{\"escaped\":true,\"eintr\":%ld}\n", eintr);
	return 0;
}
