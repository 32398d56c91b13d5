/*
 * test_sandbox.c - the role filters, enforcing, in forked children:
 * a forbidden syscall must kill the child with SIGSYS, and what the
 * role legitimately does must still work.  Runs as any user (the
 * filters do not need root; libseccomp sets no-new-privs itself).
 */
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "sandbox.h"
#include "t.h"

static char tmpdir[] = "/tmp/hive-sandbox.XXXXXX";

/* Run fn in a child under the role's filter; its wait status. */
static int
in_child(void (*sandbox)(void), void (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		alarm(20);	/* a hang (e.g. LeakSanitizer's tracer killed) fails */
		sandbox();
		fn();
		exit(0);	/* exit, not _exit: atexit handlers run filtered */
	}
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return status;
}

static int
killed_by_sigsys(int status)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

static int
exited_zero(int status)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
fail_if(int cond, int code)
{
	if (cond)
		exit(code);
}

/* --- router: allowed -------------------------------------------------- */

static void
router_allowed(void)
{
	char path[256], buf[64];
	int fd;

	/* read-only opens (resolver and CA files on reconnect) */
	fail_if((fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC)) == -1, 10);
	fail_if(read(fd, buf, sizeof(buf)) < 0, 11);
	close(fd);
	/* the window's compaction: a file that must not exist yet */
	snprintf(path, sizeof(path), "%s/window.tmp", tmpdir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	fail_if(fd == -1, 12);
	fail_if(write(fd, "x", 1) != 1 || fsync(fd) == -1, 13);
	close(fd);
	fail_if(unlink(path) == -1, 14);
	/* sockets of the families it uses */
	fail_if((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1, 15);
	close(fd);
	fail_if((fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 &&
	    errno != EAFNOSUPPORT, 16);
	if (fd != -1)
		close(fd);
	fail_if((fd = socket(AF_UNIX, SOCK_SEQPACKET, 0)) == -1, 17);
	close(fd);
	free(malloc(1 << 20));	/* mmap-backed */
}

/* --- router: forbidden ------------------------------------------------ */

static void
router_execve(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	execve("/bin/true", argv, envp);
}

static void
router_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
}

static void
router_open_write(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/existing", tmpdir);
	open(path, O_WRONLY);
}

static void
router_open_trunc(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/existing", tmpdir);
	open(path, O_RDONLY | O_TRUNC);
}

static void
router_open_create(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/new", tmpdir);
	open(path, O_WRONLY | O_CREAT, 0600);	/* no O_EXCL */
}

static void
router_packet(void)
{
	socket(AF_PACKET, SOCK_RAW, 0);
}

static void
router_netlink_other(void)
{
	socket(AF_NETLINK, SOCK_RAW, 9);	/* NETLINK_AUDIT */
}

static void
router_exec_mapping(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
}

static void
router_listen(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	listen(fd, 1);
}

static void
router_setuid(void)
{
	if (setresuid(65534, 65534, 65534) == 0)
		_exit(3);
}

/* --- injector --------------------------------------------------------- */

static void
injector_allowed(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };
	int status;
	pid_t pid;

	/* the openclaw call: fork, exec, wait */
	fail_if((pid = fork()) == -1, 20);
	if (pid == 0) {
		execve("/bin/true", argv, envp);
		_exit(127);
	}
	fail_if(waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0, 21);
	/* clone3 refused with ENOSYS, so libc falls back to clone */
	fail_if(syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS, 22);
	/* querying the personality is fine */
	fail_if(personality(0xffffffff) == -1, 23);
	fail_if(personality(PER_LINUX) == -1, 24);
}

static void
injector_unshare(void)
{
	unshare(CLONE_NEWUSER);
}

static void
injector_clone_ns(void)
{
	syscall(SYS_clone, (unsigned long)(CLONE_NEWNS | SIGCHLD), 0, 0, 0, 0);
}

static void
injector_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static void
injector_mount(void)
{
	syscall(SYS_mount, "none", "/mnt", "tmpfs", 0UL, NULL);
}

static void
injector_persona(void)
{
	personality(PER_LINUX | READ_IMPLIES_EXEC);
}

static void
injector_persona_trick(void)
{
	/* every bit but one set: not the query, still READ_IMPLIES_EXEC */
	personality(0xbfffffffU);
}

static void
injector_bpf(void)
{
	syscall(SYS_bpf, 0, NULL, 0);
}

int
main(void)
{
	char path[256];
	int fd;

	if (mkdtemp(tmpdir) == NULL)
		return 2;
	snprintf(path, sizeof(path), "%s/existing", tmpdir);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) == -1)
		return 2;
	close(fd);

	CHECK(exited_zero(in_child(sandbox_router, router_allowed)));
	CHECK(killed_by_sigsys(in_child(sandbox_router, router_execve)));
	CHECK(killed_by_sigsys(in_child(sandbox_router, router_fork)));
	CHECK(killed_by_sigsys(in_child(sandbox_router, router_open_write)));
	CHECK(killed_by_sigsys(in_child(sandbox_router, router_open_trunc)));
	CHECK(killed_by_sigsys(in_child(sandbox_router, router_open_create)));
	CHECK(killed_by_sigsys(in_child(sandbox_router, router_packet)));
	CHECK(killed_by_sigsys(in_child(sandbox_router,
	    router_netlink_other)));
	CHECK(killed_by_sigsys(in_child(sandbox_router, router_exec_mapping)));
	CHECK(killed_by_sigsys(in_child(sandbox_router, router_listen)));
	CHECK(killed_by_sigsys(in_child(sandbox_router, router_setuid)));

	CHECK(exited_zero(in_child(sandbox_injector, injector_allowed)));
	CHECK(killed_by_sigsys(in_child(sandbox_injector, injector_unshare)));
	CHECK(killed_by_sigsys(in_child(sandbox_injector, injector_clone_ns)));
	CHECK(killed_by_sigsys(in_child(sandbox_injector, injector_mount)));
	CHECK(killed_by_sigsys(in_child(sandbox_injector, injector_persona)));
	CHECK(killed_by_sigsys(in_child(sandbox_injector,
	    injector_persona_trick)));
	CHECK(killed_by_sigsys(in_child(sandbox_injector, injector_bpf)));
#ifndef HIVE_SANITIZE	/* LeakSanitizer needs ptrace: see sandbox_injector.c */
	CHECK(killed_by_sigsys(in_child(sandbox_injector, injector_ptrace)));
#else
	(void)injector_ptrace;
#endif

	unlink(path);
	rmdir(tmpdir);
	return t_done();
}
