/*
 * sandbox.c - building and loading a role's seccomp filter.
 *
 * As chrony and OpenSSH do it: libseccomp, a table per role, default
 * action kill-process (not kill-thread), foreign architectures killed
 * too, and every call checked, because a filter that silently failed
 * to load would leave a role believed confined and not.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sandbox.h"

static uint32_t
sandbox_act(uint32_t act, int logging)
{
	return logging && act == SCMP_ACT_KILL_PROCESS ? SCMP_ACT_LOG : act;
}

static void
sandbox_add(scmp_filter_ctx ctx, const char *role,
    const struct sandbox_rule *r, int logging)
{
	int nr = seccomp_syscall_resolve_name(r->name);
	int rc;

	if (nr == __NR_SCMP_ERROR)
		fatalx("%s: seccomp: unknown syscall %s", role, r->name);
	if (r->has_arg)
		rc = seccomp_rule_add(ctx, sandbox_act(r->action, logging), nr,
		    1, r->arg);
	else
		rc = seccomp_rule_add(ctx, sandbox_act(r->action, logging), nr,
		    0);
	/* -EACCES: libseccomp refuses a rule equal to the default action */
	if (rc < 0 && rc != -EACCES)
		fatalx("%s: seccomp: rule for %s: %s", role, r->name,
		    strerror(-rc));
}

void
sandbox_load(const char *role, uint32_t def, const struct sandbox_rule *rules,
    size_t n, const struct sandbox_rule *extra, size_t nextra)
{
	const char *env = getenv("HIVE_SECCOMP_LOG");
	int logging = env != NULL && strcmp(env, "1") == 0;
	scmp_filter_ctx ctx;
	size_t i;

	if (logging)
		log_warnx("%s: HIVE_SECCOMP_LOG=1: seccomp violations are "
		    "LOGGED, NOT BLOCKED; never run like this in production",
		    role);
	if ((ctx = seccomp_init(sandbox_act(def, logging))) == NULL)
		fatalx("%s: seccomp_init", role);
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    sandbox_act(SCMP_ACT_KILL_PROCESS, logging)) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) != 0)
		fatalx("%s: seccomp attributes", role);
	for (i = 0; i < n; i++)
		sandbox_add(ctx, role, &rules[i], logging);
	for (i = 0; i < nextra; i++)
		sandbox_add(ctx, role, &extra[i], logging);
	if (seccomp_load(ctx) != 0)
		fatalx("%s: seccomp_load failed", role);
	seccomp_release(ctx);
	log_debug("%s: seccomp filter loaded", role);
}
