/*
 * sandbox.c - turn a role's table into a seccomp filter and load it.
 *
 * Every step is checked and any failure is fatal: a role never runs
 * without the filter it asked for.  Syscalls from a foreign
 * architecture (and x86_64's x32 ABI) kill the whole process, not only
 * the thread (libseccomp's default for them kills the thread), and
 * TSYNC puts every thread of the process under the filter, should a
 * library ever have started one.
 *
 * HIVE_SECCOMP_LOG=1 is the one debugging mode: every kill action
 * becomes SCMP_ACT_LOG, so the process runs on and the kernel's audit
 * log (journalctl -k, dmesg) names each syscall the filter would have
 * killed.  It is read when the filter is built and announced with a
 * warning, so a confined-in-name-only role cannot go unnoticed.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <seccomp.h>

#include "log.h"
#include "sandbox.h"

static int
sandbox_log_mode(void)
{
	const char *v = getenv("HIVE_SECCOMP_LOG");

	return v != NULL && strcmp(v, "1") == 0;
}

/* In log mode "kill" means "log"; every other action is kept. */
static uint32_t
sandbox_action(uint32_t action, int logmode)
{
	if (logmode && (action == SCMP_ACT_KILL_PROCESS ||
	    action == SCMP_ACT_KILL_THREAD))
		return SCMP_ACT_LOG;
	return action;
}

static void
sandbox_attr(scmp_filter_ctx ctx, const char *role, enum scmp_filter_attr a,
    uint32_t v, const char *what)
{
	int rc;

	if ((rc = seccomp_attr_set(ctx, a, v)) != 0)
		fatalx("%s: seccomp: cannot set %s: %s", role, what,
		    strerror(-rc));
}

static void
sandbox_add(scmp_filter_ctx ctx, const char *role, const struct sandbox_rule *r,
    int logmode)
{
	char *name;
	int rc;

	rc = seccomp_rule_add_array(ctx, sandbox_action(r->action, logmode),
	    r->nr, r->argc, r->arg);
	if (rc == 0)
		return;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r->nr);
	fatalx("%s: seccomp: cannot add the rule for %s: %s", role,
	    name != NULL ? name : "an unknown syscall", strerror(-rc));
}

/* The checks after loading: two read-only prctl() queries. */
static const struct sandbox_rule sandbox_self_check[] = {
	SB_ALLOW_IF(prctl, SB_EQ(0, PR_GET_SECCOMP)),
	SB_ALLOW_IF(prctl, SB_EQ(0, PR_GET_NO_NEW_PRIVS)),
};

void
sandbox_apply(const char *role, uint32_t default_action,
    const struct sandbox_table *tables, size_t ntables)
{
	scmp_filter_ctx ctx;
	int logmode = sandbox_log_mode(), rc;
	size_t t, i;

	if (logmode)
		log_warnx("%s: HIVE_SECCOMP_LOG=1: the seccomp filter only LOGS "
		    "what it would kill; this process is NOT confined", role);
	if ((ctx = seccomp_init(sandbox_action(default_action, logmode)))
	    == NULL)
		fatalx("%s: seccomp_init failed", role);
	sandbox_attr(ctx, role, SCMP_FLTATR_ACT_BADARCH,
	    sandbox_action(SCMP_ACT_KILL_PROCESS, logmode), "ACT_BADARCH");
	sandbox_attr(ctx, role, SCMP_FLTATR_CTL_NNP, 1, "CTL_NNP");
	sandbox_attr(ctx, role, SCMP_FLTATR_CTL_TSYNC, 1, "CTL_TSYNC");
	for (t = 0; t < ntables; t++)
		for (i = 0; i < tables[t].n; i++)
			sandbox_add(ctx, role, &tables[t].rules[i], logmode);
	for (i = 0; default_action != SCMP_ACT_ALLOW && i < 2; i++)
		sandbox_add(ctx, role, &sandbox_self_check[i], logmode);
	if ((rc = seccomp_load(ctx)) != 0)
		fatalx("%s: seccomp_load: %s", role, strerror(-rc));
	seccomp_release(ctx);
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2)	/* SECCOMP_MODE_FILTER */
		fatalx("%s: seccomp filter is not in force after loading",
		    role);
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		fatalx("%s: no-new-privs is not set under the filter", role);
}
