/*
 * sandbox.h - one seccomp filter per hive-daemon role.
 *
 * Each role has its own table (src/sandbox_router.c,
 * src/sandbox_injector.c); src/sandbox.c turns a table into a filter
 * and loads it, every step checked and fatal on failure.  A role calls
 * its sandbox_*() last, after privdrop(): everything it needs is open
 * by then.  Nothing here depends on privdrop(), so a unit test can
 * load a role's filter without root (libseccomp sets no-new-privs).
 *
 * HIVE_SECCOMP_LOG=1 in the environment turns every "kill" into "log"
 * (the kernel audit log then names each syscall the filter would have
 * killed); a role that runs so says it loudly at start.
 */
#ifndef HIVE_SANDBOX_H
#define HIVE_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

#define SANDBOX_ARGS	2

/* One row: a syscall, what to do with it, and up to two conditions on
 * its arguments (all must hold; at most one condition per argument,
 * a libseccomp rule).  Several rows for one syscall are alternatives. */
struct sandbox_rule {
	int			 nr;
	uint32_t		 action;
	unsigned int		 argc;
	struct scmp_arg_cmp	 arg[SANDBOX_ARGS];
};

struct sandbox_table {
	const struct sandbox_rule	*rules;
	size_t				 n;
};

#define SANDBOX_TABLE(t)	{ (t), sizeof(t) / sizeof((t)[0]) }

/* argument conditions */
#define SB_CMP(n, o, a, b)	{ .arg = (n), .op = (o), .datum_a = (a), \
				    .datum_b = (b) }
#define SB_EQ(n, v)		SB_CMP(n, SCMP_CMP_EQ, (v), 0)
#define SB_MASK(n, m, v)	SB_CMP(n, SCMP_CMP_MASKED_EQ, (m), (v))

/* rows */
#define SB_RULE(s, act, c, ...)	{ SCMP_SYS(s), (act), (c), { __VA_ARGS__ } }
#define SB_ALLOW(s)		SB_RULE(s, SCMP_ACT_ALLOW, 0, { 0 })
#define SB_ALLOW_IF(s, a)	SB_RULE(s, SCMP_ACT_ALLOW, 1, a)
#define SB_ALLOW_IF2(s, a, b)	SB_RULE(s, SCMP_ACT_ALLOW, 2, a, b)
#define SB_KILL(s)		SB_RULE(s, SCMP_ACT_KILL_PROCESS, 0, { 0 })
#define SB_KILL_IF(s, a)	SB_RULE(s, SCMP_ACT_KILL_PROCESS, 1, a)
#define SB_ERRNO(s, e)		SB_RULE(s, SCMP_ACT_ERRNO(e), 0, { 0 })

/* sandbox.c: build a filter from the tables, load it, check it took. */
void sandbox_apply(const char *role, uint32_t default_action,
    const struct sandbox_table *tables, size_t ntables);

void sandbox_router(void);
void sandbox_injector(void);

#endif
