/*
 * sandbox_router.c - the router's seccomp allowlist.
 *
 * The router is the role that parses bus input, so it gets the
 * tightest filter: anything not listed here kills the process.  By the
 * time it is loaded (router_setup(), after privdrop()) the router has
 * its keyring in memory, the replay window open and locked, the broker
 * connected, the control socket listening and jansson seeded.  What it
 * still does is listed below, from `strace -f` of the integration tests
 * (a broker restart included), of a TLS connection to a broker by a
 * name with IPv4 and IPv6 addresses, and of every integration test run
 * with HIVE_SECCOMP_LOG=1: see docs/security.md.
 *
 * Three paths make it open files after the filter, which a path-blind
 * filter can only bound by flags:
 *   - mosquitto_reconnect() resolves the broker's name again
 *     (/etc/hosts, /etc/resolv.conf, /etc/gai.conf) and, with TLS,
 *     re-reads the CA file or directory: read-only opens only;
 *   - SIGHUP reloads the keyring directory: read-only opens only;
 *   - the replay window compacts itself into "<state>/window.tmp" and
 *     renames it over the window: a create that must not exist before
 *     (O_CREAT|O_EXCL, which never follows a symlink), never a write
 *     open of an existing file nor a truncating one.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <sched.h>
#include <linux/netlink.h>

#include "sandbox.h"

/* (flags & OPEN_MASK) == O_RDONLY: read-only, no create, no truncate */
#define OPEN_MASK	(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC)
#define OPEN_CREATE	(O_WRONLY | O_CREAT | O_EXCL)

static const struct sandbox_rule router_rules[] = {
	/* descriptors it holds: IPC links, MQTT socket, window file,
	 * control clients; stderr for the log */
	SB_ALLOW(read), SB_ALLOW(readv), SB_ALLOW(pread64),
	SB_ALLOW(write), SB_ALLOW(writev), SB_ALLOW(pwrite64),
	SB_ALLOW(close), SB_ALLOW(lseek), SB_ALLOW(fstat),
	SB_ALLOW(newfstatat), SB_ALLOW(fcntl), SB_ALLOW(dup),
	SB_ALLOW(poll), SB_ALLOW(ppoll), SB_ALLOW(select),
	SB_ALLOW(pselect6),
	/* ioctl: FIONREAD (resolver), TCGETS (stdio's isatty) only */
	SB_ALLOW_IF(ioctl, SB_MASK(1, 0xffffffffU, FIONREAD)),
	SB_ALLOW_IF(ioctl, SB_MASK(1, 0xffffffffU, TCGETS)),

	/* replay window: append, sync, compaction (see above) */
	SB_ALLOW(fsync), SB_ALLOW(fdatasync), SB_ALLOW(ftruncate),
	SB_ALLOW(flock), SB_ALLOW(msync), SB_ALLOW(rename),
	SB_ALLOW(renameat), SB_ALLOW(renameat2), SB_ALLOW(unlink),
	SB_ALLOW(unlinkat),
	SB_ALLOW_IF(openat, SB_MASK(2, OPEN_MASK, OPEN_CREATE)),
	SB_ALLOW_IF(open, SB_MASK(1, OPEN_MASK, OPEN_CREATE)),

	/* resolver and TLS files on reconnect, jansson's /dev/urandom:
	 * read-only, never created or truncated */
	SB_ALLOW_IF(openat, SB_MASK(2, OPEN_MASK, O_RDONLY)),
	SB_ALLOW_IF(open, SB_MASK(1, OPEN_MASK, O_RDONLY)),
	SB_ALLOW(uname),		/* res_init */
	/* SIGHUP: the keyring directory is read again (fdopendir on a
	 * dup of the directory's descriptor) */
	SB_ALLOW(getdents64),
	/* heartbeat state: getloadavg() */
	SB_ALLOW(sysinfo),

	/* sockets: the broker (TCP over IPv4/IPv6), the resolver (UDP,
	 * nscd over AF_UNIX, and rtnetlink for getaddrinfo's address
	 * sorting), the IPC links and control clients (AF_UNIX).
	 * socketpair and listen are not needed: they exist already. */
	SB_ALLOW_IF(socket, SB_EQ(0, AF_UNIX)),
	SB_ALLOW_IF(socket, SB_EQ(0, AF_INET)),
	SB_ALLOW_IF(socket, SB_EQ(0, AF_INET6)),
	SB_ALLOW_IF2(socket, SB_EQ(0, AF_NETLINK), SB_EQ(2, NETLINK_ROUTE)),
	SB_ALLOW(connect), SB_ALLOW(bind), SB_ALLOW(getsockname),
	SB_ALLOW(getpeername), SB_ALLOW(getsockopt), SB_ALLOW(setsockopt),
	SB_ALLOW(shutdown), SB_ALLOW(accept4),
	SB_ALLOW(sendto), SB_ALLOW(recvfrom), SB_ALLOW(sendmsg),
	SB_ALLOW(recvmsg), SB_ALLOW(sendmmsg),

	/* memory: malloc and OpenSSL; never executable mappings */
	SB_ALLOW(brk), SB_ALLOW(munmap), SB_ALLOW(mremap),
	SB_ALLOW(madvise),
	SB_ALLOW_IF(mmap, SB_MASK(2, PROT_EXEC, 0)),
	SB_ALLOW_IF(mprotect, SB_MASK(2, PROT_EXEC, 0)),

	/* time, randomness, locks */
	SB_ALLOW(clock_gettime), SB_ALLOW(clock_getres),
	SB_ALLOW(gettimeofday), SB_ALLOW(time), SB_ALLOW(nanosleep),
	SB_ALLOW(clock_nanosleep), SB_ALLOW(getrandom), SB_ALLOW(futex),

	/* signals (SIGTERM handler, a poll restarted after SIGSTOP),
	 * ids for IPC headers, and leaving */
	SB_ALLOW(rt_sigaction), SB_ALLOW(rt_sigprocmask),
	SB_ALLOW(rt_sigreturn), SB_ALLOW(restart_syscall),
	SB_ALLOW(getpid), SB_ALLOW(gettid), SB_ALLOW(exit),
	SB_ALLOW(exit_group),
};

#ifdef HIVE_SANITIZE
/*
 * ASan/UBSan builds only (CMake option HIVE_SANITIZE): what their
 * runtime does under this filter, found with HIVE_SECCOMP_LOG=1.  A
 * report reads /proc/self/exe (readlink) and the maps (a read-only
 * open, allowed above).  At exit LeakSanitizer stops the world: it
 * makes the process dumpable and ptraceable by its tracer (prctl),
 * clones that tracer with exactly these flags, which asks for a
 * parent-death signal (prctl), lists /proc/self/task (getdents), attaches to every thread (ptrace) and is
 * waited for (wait4).  Never compiled into a release build: release
 * filters allow neither clone nor ptrace.
 */
#define LSAN_CLONE	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED)

static const struct sandbox_rule router_sanitizer_rules[] = {
	SB_ALLOW(readlink), SB_ALLOW(readlinkat), SB_ALLOW(sigaltstack),
	SB_ALLOW(getppid), SB_ALLOW(sched_yield),
	SB_ALLOW_IF(prctl, SB_EQ(0, PR_GET_DUMPABLE)),
	SB_ALLOW_IF(prctl, SB_EQ(0, PR_SET_DUMPABLE)),
	SB_ALLOW_IF(prctl, SB_EQ(0, PR_SET_PTRACER)),
	SB_ALLOW_IF(prctl, SB_EQ(0, PR_SET_PDEATHSIG)),
	SB_ALLOW_IF(clone, SB_EQ(0, LSAN_CLONE)),
	SB_ALLOW(getdents), SB_ALLOW(getdents64), SB_ALLOW(ptrace),
	SB_ALLOW(wait4),
};
#endif

void
sandbox_router(void)
{
	static const struct sandbox_table tables[] = {
		SANDBOX_TABLE(router_rules),
#ifdef HIVE_SANITIZE
		SANDBOX_TABLE(router_sanitizer_rules),
#endif
	};

	sandbox_apply("router", SCMP_ACT_KILL_PROCESS, tables,
	    sizeof(tables) / sizeof(tables[0]));
}
