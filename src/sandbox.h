/*
 * sandbox.h - one seccomp filter per daemon role, loaded last in the
 * confinement order (after the user switch, the capability drop and
 * no-new-privs).  Tables: src/sandbox_router.c, src/sandbox_injector.c;
 * the rationale per syscall group is beside each table and in
 * docs/security.md.
 */
#ifndef HIVE_SANDBOX_H
#define HIVE_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

/* One rule: a syscall, an action, and at most one argument test. */
struct sandbox_rule {
	const char	*name;		/* resolved with seccomp_syscall_resolve_name */
	uint32_t	 action;	/* SCMP_ACT_ALLOW, SCMP_ACT_KILL_PROCESS... */
	int		 has_arg;
	struct scmp_arg_cmp arg;
};

#define SB_ALLOW(n)		{ n, SCMP_ACT_ALLOW, 0, { 0, 0, 0, 0 } }
#define SB_ALLOW_IF(n, c)	{ n, SCMP_ACT_ALLOW, 1, c }
#define SB_KILL(n)		{ n, SCMP_ACT_KILL_PROCESS, 0, { 0, 0, 0, 0 } }
#define SB_KILL_IF(n, c)	{ n, SCMP_ACT_KILL_PROCESS, 1, c }
#define SB_ERRNO(n, e)		{ n, SCMP_ACT_ERRNO(e), 0, { 0, 0, 0, 0 } }

/*
 * Build and load a filter: default action def (kill-process for an
 * allowlist, allow for a deny-list), foreign architectures killed.
 * Every step is checked and fatal.  HIVE_SECCOMP_LOG=1 in the
 * environment at start turns kills into log entries (audit log) for
 * finding a missing syscall; it announces itself loudly.
 */
void sandbox_load(const char *role, uint32_t def,
    const struct sandbox_rule *, size_t n,
    const struct sandbox_rule *extra, size_t nextra);

void sandbox_router(void);
void sandbox_injector(void);

#endif
