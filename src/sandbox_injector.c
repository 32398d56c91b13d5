/*
 * sandbox_injector.c - the injector's seccomp deny-list.
 *
 * The injector forks and execve()s the openclaw CLI, and a seccomp
 * filter is inherited across fork and execve.  That CLI is a Node.js
 * program (in the tests, a bash script calling jq): the dynamic
 * loader, V8, libuv's thread pool and whatever the CLI does next run
 * under this filter, and we do not control that syscall set.  A tight
 * allowlist would break the agent on any Node or OpenClaw upgrade, so
 * this filter is a deny-list in the spirit of container runtimes'
 * default profiles: everything is allowed except what a program of
 * this kind never needs and an attacker wants for a kernel attack or
 * an escape: other processes' memory, kernel modules and keyrings,
 * mounts and namespaces, BPF and perf, the clock, reboot, swap.  Those
 * kill the process.
 *
 * Two calls are refused with an error instead of killed, because
 * libraries fall back gracefully:
 *   - clone3(): its flags live in a struct seccomp cannot read, so it
 *     returns ENOSYS and glibc falls back to clone(), whose flags we
 *     check (a new namespace kills);
 *   - io_uring: a large kernel attack surface that Node's libuv uses
 *     only when available; ENOSYS makes it use its thread pool.
 */
#include <sys/ioctl.h>
#include <sys/personality.h>

#include <errno.h>
#include <sched.h>

#include "sandbox.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP	0x02000000
#endif

/* a namespace flag in clone()'s first argument kills */
#define SB_CLONE_NS(f)	SB_KILL_IF(clone, SB_MASK(0, (f), (f)))
/* an ioctl request (32 bits) that kills */
#define SB_IOCTL(r)	SB_KILL_IF(ioctl, SB_MASK(1, 0xffffffffU, (r)))

static const struct sandbox_rule injector_rules[] = {
	/* other processes: tracing, their memory, comparing their fds */
#ifndef HIVE_SANITIZE
	/* ASan/UBSan builds only leave ptrace out: LeakSanitizer's check
	 * at exit attaches to the process's own threads with it */
	SB_KILL(ptrace),
#endif
	SB_KILL(process_vm_readv), SB_KILL(process_vm_writev),
	SB_KILL(kcmp), SB_KILL(pidfd_getfd),

	/* filesystems and namespaces (old and new mount APIs) */
	SB_KILL(mount), SB_KILL(umount2), SB_KILL(pivot_root),
	SB_KILL(chroot), SB_KILL(fsopen), SB_KILL(fsconfig),
	SB_KILL(fsmount), SB_KILL(fspick), SB_KILL(move_mount),
	SB_KILL(open_tree), SB_KILL(mount_setattr),
	SB_KILL(unshare), SB_KILL(setns),
	SB_CLONE_NS(CLONE_NEWNS), SB_CLONE_NS(CLONE_NEWUSER),
	SB_CLONE_NS(CLONE_NEWPID), SB_CLONE_NS(CLONE_NEWNET),
	SB_CLONE_NS(CLONE_NEWUTS), SB_CLONE_NS(CLONE_NEWIPC),
	SB_CLONE_NS(CLONE_NEWCGROUP),
	SB_ERRNO(clone3, ENOSYS),

	/* the kernel itself: modules, kexec, BPF, perf, keyrings,
	 * userfaultfd (a favourite of race exploits), io_uring */
	SB_KILL(init_module), SB_KILL(finit_module),
	SB_KILL(delete_module), SB_KILL(kexec_load),
	SB_KILL(kexec_file_load), SB_KILL(bpf), SB_KILL(perf_event_open),
	SB_KILL(keyctl), SB_KILL(add_key), SB_KILL(request_key),
	SB_KILL(userfaultfd), SB_KILL(lookup_dcookie),
	SB_ERRNO(io_uring_setup, ENOSYS), SB_ERRNO(io_uring_enter, ENOSYS),
	SB_ERRNO(io_uring_register, ENOSYS),

	/* the machine: reboot, swap, clocks, accounting, quotas, kernel
	 * log, raw I/O ports, terminals, obsolete calls */
	SB_KILL(reboot), SB_KILL(swapon), SB_KILL(swapoff),
	SB_KILL(settimeofday), SB_KILL(clock_settime),
	SB_KILL(clock_adjtime), SB_KILL(adjtimex), SB_KILL(acct),
	SB_KILL(quotactl), SB_KILL(quotactl_fd), SB_KILL(syslog),
	SB_KILL(iopl), SB_KILL(ioperm), SB_KILL(vhangup),
	SB_KILL(nfsservctl), SB_KILL(uselib), SB_KILL(_sysctl),
	SB_KILL(open_by_handle_at), SB_KILL(name_to_handle_at),
	SB_KILL(fanotify_init),
	SB_IOCTL(TIOCSTI), SB_IOCTL(TIOCLINUX),
};

/*
 * personality(): querying (0xffffffff) and plain Linux are fine; the
 * flags that weaken the exec'd program (executable data, no ASLR,
 * page zero mapped, legacy layout) kill.  libseccomp allows one
 * condition per argument, so "flag F set and not the query" is written
 * as "F set and bit B clear", one rule for every other bit B.
 */
static const unsigned long injector_persona[] = {
	READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, MMAP_PAGE_ZERO,
	ADDR_COMPAT_LAYOUT,
};
#define NPERSONA	(sizeof(injector_persona) / sizeof(injector_persona[0]))
#define PERSONA_RULES	(NPERSONA * 31)

static void
sandbox_injector_persona(struct sandbox_rule *r)
{
	size_t i, n = 0;
	unsigned int b;

	for (i = 0; i < NPERSONA; i++)
		for (b = 0; b < 32; b++) {
			unsigned long bit = 1UL << b, f = injector_persona[i];

			if (bit == f)
				continue;
			r[n++] = (struct sandbox_rule)SB_KILL_IF(personality,
			    SB_MASK(0, f | bit, f));
		}
}

void
sandbox_injector(void)
{
	static struct sandbox_rule persona[PERSONA_RULES];
	struct sandbox_table tables[] = {
		SANDBOX_TABLE(injector_rules),
		SANDBOX_TABLE(persona),
	};

	sandbox_injector_persona(persona);
	sandbox_apply("injector", SCMP_ACT_ALLOW, tables,
	    sizeof(tables) / sizeof(tables[0]));
}
