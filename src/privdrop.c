/*
 * privdrop.c - give up privileges, checked at every step.
 *
 * As root: supplementary groups, gid and uid switch to the configured
 * user through libcap-ng, which also clears the permitted, effective,
 * inheritable, bounding and ambient capability sets (a plain
 * setresuid() leaves capabilities handed in through systemd's
 * AmbientCapabilities= in place).  Then we prove that uid 0 cannot be
 * regained.  As another user (development, tests) there is nobody to
 * switch to: capabilities are still cleared and that is logged once.
 * Always: PR_SET_NO_NEW_PRIVS.  Any failure is fatal.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <pwd.h>
#include <unistd.h>

#include <cap-ng.h>

#include "daemon.h"
#include "log.h"

static void
privdrop_switch(const char *user)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL)
		fatalx("privdrop: no such user '%s'", user);
	if (pw->pw_uid == 0)
		fatalx("privdrop: user '%s' is root", user);
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
	    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING | CAPNG_CLEAR_AMBIENT)
	    != 0)
		fatalx("privdrop: cannot switch to user '%s'", user);
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("privdrop: uid 0 could be regained");
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != pw->pw_gid || getegid() != pw->pw_gid)
		fatalx("privdrop: ids did not change as asked");
}

/* Clear what remains in the process's own sets; the bounding set was
 * cleared by capng_change_id() as root (a non-root process may not). */
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

void
privdrop(const char *user, const char *role)
{
	if (geteuid() == 0)
		privdrop_switch(user);
	else
		log_info("%s: not started as root: running as uid %u, no user "
		    "switch", role, (unsigned)getuid());
	privdrop_caps();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("privdrop: PR_SET_NO_NEW_PRIVS");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		fatalx("privdrop: no-new-privs did not stick");
}
