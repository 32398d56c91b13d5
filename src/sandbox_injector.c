/*
 * sandbox_injector.c - the injector's seccomp filter: a deny-list.
 *
 * The injector runs the OpenClaw CLI, a Node.js program, and a seccomp
 * filter is inherited across execve: an allowlist tight enough to mean
 * something for our forty lines of fork/exec/poll would kill Node,
 * whose syscall set we do not control and which changes with every
 * Node release.  So, like container runtimes' default profiles, the
 * injector (and the CLI it runs) may not use the syscalls that attack
 * the kernel or other processes, or escape into new namespaces; the
 * rest of its confinement is the unprivileged user, no capabilities
 * and no-new-privs.
 */
#include <sched.h>
#include <errno.h>

#include "sandbox.h"

/* clone with this namespace flag set: one rule per flag, since a
 * filter can test "these bits all set" but not "any of them set" */
#define CLONE_NS(f)	SB_KILL_IF("clone", SCMP_CMP(0, SCMP_CMP_MASKED_EQ, \
	(f), (f)))

static const struct sandbox_rule injector_rules[] = {
	/* other processes' memory (test builds: LeakSanitizer's exit-time
	 * check ptraces the process's own threads) */
#ifndef HIVE_SANITIZE
	SB_KILL("ptrace"), SB_KILL("process_vm_readv"),
#endif
	SB_KILL("process_vm_writev"), SB_KILL("kcmp"),
	/* namespaces and mounts: no escape hatches.  clone3 passes its
	 * flags in memory a filter cannot read, so it is answered ENOSYS
	 * and libc falls back to clone, whose flags are checked */
	SB_KILL("unshare"), SB_KILL("setns"), SB_ERRNO("clone3", ENOSYS),
	CLONE_NS(CLONE_NEWNS), CLONE_NS(CLONE_NEWUTS), CLONE_NS(CLONE_NEWIPC),
	CLONE_NS(CLONE_NEWUSER), CLONE_NS(CLONE_NEWPID),
	CLONE_NS(CLONE_NEWNET), CLONE_NS(CLONE_NEWCGROUP),
	SB_KILL("mount"), SB_KILL("umount2"), SB_KILL("pivot_root"),
	SB_KILL("chroot"), SB_KILL("open_tree"), SB_KILL("move_mount"),
	SB_KILL("fsopen"), SB_KILL("fsmount"), SB_KILL("fsconfig"),
	SB_KILL("fspick"), SB_KILL("mount_setattr"),
	/* the kernel itself */
	SB_KILL("bpf"), SB_KILL("perf_event_open"), SB_KILL("userfaultfd"),
	SB_KILL("kexec_load"), SB_KILL("kexec_file_load"),
	SB_KILL("init_module"), SB_KILL("finit_module"),
	SB_KILL("delete_module"), SB_KILL("iopl"), SB_KILL("ioperm"),
	SB_KILL("keyctl"), SB_KILL("add_key"), SB_KILL("request_key"),
	SB_KILL("lookup_dcookie"), SB_KILL("open_by_handle_at"),
	SB_KILL("name_to_handle_at"), SB_KILL("syslog"),
	SB_KILL("quotactl"), SB_KILL("acct"), SB_KILL("vhangup"),
	/* the machine */
	SB_KILL("reboot"), SB_KILL("swapon"), SB_KILL("swapoff"),
	SB_KILL("settimeofday"), SB_KILL("clock_settime"),
	SB_KILL("clock_adjtime"), SB_KILL("adjtimex"),
	SB_KILL("sethostname"), SB_KILL("setdomainname"),
};

void
sandbox_injector(void)
{
	sandbox_load("injector", SCMP_ACT_ALLOW, injector_rules,
	    sizeof(injector_rules) / sizeof(injector_rules[0]), NULL, 0);
}
