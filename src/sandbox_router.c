/*
 * sandbox_router.c - the router's seccomp allowlist.  Anything not
 * listed kills the process.
 *
 * The router has by then opened the window file, loaded the keyring,
 * connected to the broker and been handed the control socket; what it
 * still does is listed here, group by group, with why.  Found by
 * strace of the integration tests (which all run with the filter on)
 * and by reading what libmosquitto, OpenSSL and glibc's resolver do on
 * a reconnect.
 */
#include <sys/socket.h>

#include <fcntl.h>

#include "log.h"
#include "sandbox.h"

#define OPEN_RDONLY(nr, argno)						\
	SB_ALLOW_IF(nr, SCMP_CMP(argno, SCMP_CMP_MASKED_EQ,		\
	    O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY))
/* exclusive create: a new file, never an existing one reopened for
 * writing (the window's compaction writes "window.tmp" this way) */
#define OPEN_EXCL(nr, argno)						\
	SB_ALLOW_IF(nr, SCMP_CMP(argno, SCMP_CMP_MASKED_EQ,		\
	    O_CREAT | O_EXCL | O_TRUNC, O_CREAT | O_EXCL))
#define SOCKET_FAMILY(f)						\
	SB_ALLOW_IF("socket", SCMP_CMP(0, SCMP_CMP_EQ, f))

static const struct sandbox_rule router_rules[] = {
	/* the poll loop, IPC (SEQPACKET), broker and control sockets */
	SB_ALLOW("poll"), SB_ALLOW("ppoll"), SB_ALLOW("read"),
	SB_ALLOW("write"), SB_ALLOW("readv"), SB_ALLOW("writev"),
	SB_ALLOW("sendmsg"), SB_ALLOW("recvmsg"), SB_ALLOW("sendto"),
	SB_ALLOW("recvfrom"), SB_ALLOW("sendmmsg"), SB_ALLOW("close"),
	SB_ALLOW("accept4"), SB_ALLOW("getsockopt"), SB_ALLOW("setsockopt"),
	SB_ALLOW("shutdown"), SB_ALLOW("fcntl"), SB_ALLOW("dup"),
	/* reconnect: a new TCP socket, the resolver (UDP to the name
	 * server, netlink for AI_ADDRCONFIG, nscd over AF_UNIX) */
	SOCKET_FAMILY(AF_UNIX), SOCKET_FAMILY(AF_INET),
	SOCKET_FAMILY(AF_INET6), SOCKET_FAMILY(AF_NETLINK),
	SB_ALLOW("connect"), SB_ALLOW("bind"), SB_ALLOW("getsockname"),
	SB_ALLOW("getpeername"), SB_ALLOW("uname"), SB_ALLOW("ioctl"),
	/* files: read-only opens (resolv.conf, CA files on a TLS reconnect,
	 * /proc/loadavg, the keyring on SIGHUP), exclusive creation and
	 * the renames of the window's compaction, its fsyncs and lock */
	OPEN_RDONLY("openat", 2), OPEN_EXCL("openat", 2),
	SB_ALLOW("fstat"), SB_ALLOW("newfstatat"), SB_ALLOW("lseek"),
	SB_ALLOW("pread64"), SB_ALLOW("pwrite64"), SB_ALLOW("getdents64"),
	SB_ALLOW("fsync"), SB_ALLOW("fdatasync"), SB_ALLOW("ftruncate"),
	SB_ALLOW("flock"), SB_ALLOW("rename"), SB_ALLOW("renameat"),
	SB_ALLOW("unlink"), SB_ALLOW("unlinkat"),
	/* memory */
	SB_ALLOW("brk"), SB_ALLOW("mmap"), SB_ALLOW("munmap"),
	SB_ALLOW("mremap"), SB_ALLOW("mprotect"), SB_ALLOW("madvise"),
	/* time, randomness, signals, identity, exit */
	SB_ALLOW("clock_gettime"), SB_ALLOW("gettimeofday"),
	SB_ALLOW("nanosleep"), SB_ALLOW("clock_nanosleep"),
	SB_ALLOW("sysinfo"), SB_ALLOW("getrandom"), SB_ALLOW("futex"),
	SB_ALLOW("rt_sigaction"), SB_ALLOW("rt_sigprocmask"),
	SB_ALLOW("rt_sigreturn"), SB_ALLOW("restart_syscall"),
	SB_ALLOW("getpid"), SB_ALLOW("gettid"), SB_ALLOW("getuid"),
	SB_ALLOW("geteuid"), SB_ALLOW("getgid"), SB_ALLOW("getegid"),
	SB_ALLOW("exit"), SB_ALLOW("exit_group"),
};

#ifdef HIVE_SANITIZE
/*
 * Test builds only (cmake -DHIVE_SANITIZE=ON): what the ASan/UBSan
 * runtime needs to report, and LeakSanitizer to stop the world at exit
 * (a tracer thread that ptraces this one).  Never in a release build.
 */
static const struct sandbox_rule router_sanitizer[] = {
	SB_ALLOW("clone"), SB_ALLOW("ptrace"), SB_ALLOW("wait4"),
	SB_ALLOW("sched_yield"), SB_ALLOW("sigaltstack"), SB_ALLOW("prctl"),
	SB_ALLOW("getppid"), SB_ALLOW("readlink"), SB_ALLOW("readlinkat"),
	SB_ALLOW("open"), SB_ALLOW("openat"), SB_ALLOW("process_vm_readv"),
	SB_ALLOW("prlimit64"), SB_ALLOW("getrlimit"), SB_ALLOW("setrlimit"),
	SB_ALLOW("tgkill"), SB_ALLOW("kill"), SB_ALLOW("statfs"),
	SB_ALLOW("getdents"), SB_ALLOW("sched_getaffinity"),
};
#define ROUTER_EXTRA		router_sanitizer
#define ROUTER_NEXTRA		(sizeof(router_sanitizer) / \
	sizeof(router_sanitizer[0]))
#else
#define ROUTER_EXTRA		NULL
#define ROUTER_NEXTRA		0
#endif

void
sandbox_router(void)
{
	sandbox_load("router", SCMP_ACT_KILL_PROCESS, router_rules,
	    sizeof(router_rules) / sizeof(router_rules[0]), ROUTER_EXTRA,
	    ROUTER_NEXTRA);
}
