/*
 * privdrop.c - give up privileges, checked at every step.
 *
 * With CAP_SETUID and CAP_SETGID in the effective set (root, or an
 * account handed them through systemd's AmbientCapabilities=): the
 * supplementary groups, gid and uid switch to the configured user
 * through libcap-ng, which also clears the permitted, effective,
 * inheritable and ambient sets, and the bounding set when CAP_SETPCAP
 * allows (a plain setresuid() leaves ambient capabilities in place).
 * Then we prove that neither uid 0 nor the old uid can be regained.
 * Without them (development, tests, a split-mode unit that starts the
 * role as its user already) there is nobody to switch to: capabilities
 * are still cleared and that is logged once.  What decides is the
 * capability, not uid 0: root without CAP_SETUID cannot switch either.
 * Always: PR_SET_NO_NEW_PRIVS.  Any failure is fatal.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <pwd.h>
#include <unistd.h>

#include <cap-ng.h>

#include "daemon.h"
#include "log.h"

/* CAP_SETUID and CAP_SETGID effective: we can (and so must) switch. */
static int
privdrop_can_switch(void)
{
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) &&
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID);
}

static void
privdrop_switch(const char *user)
{
	struct passwd *pw;
	uid_t old = getuid();
	int flags = CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_AMBIENT;

	if ((pw = getpwnam(user)) == NULL)
		fatalx("privdrop: no such user '%s'", user);
	if (pw->pw_uid == 0)
		fatalx("privdrop: user '%s' is root", user);
	/* the bounding set: root always has CAP_SETPCAP; an account
	 * without it starts from a unit's CapabilityBoundingSet= */
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP))
		flags |= CAPNG_CLEAR_BOUNDING;
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_change_id((int)pw->pw_uid, (int)pw->pw_gid, flags) != 0)
		fatalx("privdrop: cannot switch to user '%s'", user);
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("privdrop: uid 0 could be regained");
	if (old != pw->pw_uid && (setuid(old) != -1 || seteuid(old) != -1))
		fatalx("privdrop: uid %u could be regained", (unsigned)old);
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != pw->pw_gid || getegid() != pw->pw_gid)
		fatalx("privdrop: ids did not change as asked");
}

/* Clear what remains in the process's own sets; the bounding set was
 * cleared by capng_change_id() if we held CAP_SETPCAP (without it the
 * kernel refuses, and an empty permitted set cannot come back anyway:
 * no-new-privs below stops file capabilities and setuid binaries). */
static void
privdrop_caps(void)
{
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS) != 0)
		fatalx("privdrop: cannot clear capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		fatal("privdrop: cannot clear the ambient set");
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		fatalx("privdrop: capabilities remain");
}

int
privdrop_has_cap(int cap)
{
	if (capng_get_caps_process() != 0)
		fatalx("privdrop: cannot read our capabilities");
	return capng_have_capability(CAPNG_EFFECTIVE, (unsigned)cap);
}

void
privdrop(const char *user, const char *role)
{
	if (capng_get_caps_process() != 0)
		fatalx("privdrop: cannot read our capabilities");
	if (privdrop_can_switch())
		privdrop_switch(user);
	else
		log_info("%s: no CAP_SETUID/CAP_SETGID: running as uid %u, no "
		    "user switch", role, (unsigned)getuid());
	privdrop_caps();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("privdrop: PR_SET_NO_NEW_PRIVS");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		fatalx("privdrop: no-new-privs did not stick");
}
