/*
 * test_sandbox.c - the role filters enforce: each case runs in a child
 * that loads the filter and then makes one call; a forbidden call must
 * end the child by SIGSYS, an allowed one must let it exit 0.
 */
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "t.h"

/* How the child ended: 0 exit 0, SIGSYS, or -1 for anything else. */
static int
run(void (*filter)(void), int (*call)(void))
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		filter();
		_exit(call() == 0 ? 0 : 3);
	}
	if (pid == -1 || waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGSYS ? SIGSYS : -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int
do_execve(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return -1;
}

static int
do_open_ro(void)
{
	int fd = open("/etc/passwd", O_RDONLY);

	return fd >= 0 ? close(fd) : -1;
}

static int
do_open_rw(void)
{
	int fd = open("/dev/null", O_WRONLY);

	return fd >= 0 ? close(fd) : -1;
}

static int
do_inet(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	return fd >= 0 ? close(fd) : -1;
}

static int
do_packet(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	return fd >= 0 ? close(fd) : 0;	/* EPERM would not prove a thing */
}

static int
do_fork_exec(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(do_execve() == 0 ? 0 : 4);
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int
do_unshare(void)
{
	return unshare(CLONE_NEWUSER) == 0 ? 0 : 0;
}

static int
do_signal_probe(void)
{
	return kill(getpid(), 0);
}

#ifndef HIVE_SANITIZE
static int
do_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return 0;
}
#endif

int
main(void)
{
	log_init("test", LOG_LVL_WARN);
	/* router: an allowlist */
	CHECK(run(sandbox_router, do_open_ro) == 0);
	CHECK(run(sandbox_router, do_inet) == 0);
	CHECK(run(sandbox_router, do_execve) == SIGSYS);
	CHECK(run(sandbox_router, do_packet) == SIGSYS);
#ifndef HIVE_SANITIZE	/* the sanitizer runtime needs clone and any open */
	CHECK(run(sandbox_router, do_fork_exec) == SIGSYS);
	CHECK(run(sandbox_router, do_open_rw) == SIGSYS);
#endif
	/* injector: a deny-list; the CLI it runs must still work */
	CHECK(run(sandbox_injector, do_fork_exec) == 0);
	CHECK(run(sandbox_injector, do_open_rw) == 0);
	CHECK(run(sandbox_injector, do_signal_probe) == 0);
#ifndef HIVE_SANITIZE	/* LeakSanitizer needs ptrace in test builds */
	CHECK(run(sandbox_injector, do_ptrace) == SIGSYS);
#endif
	CHECK(run(sandbox_injector, do_unshare) == SIGSYS);
	return t_done();
}
