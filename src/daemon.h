/*
 * daemon.h - what hive-daemon's three roles share: the closed list of
 * IPC message types, the fixed descriptor numbers children inherit,
 * and each role's entry point.  See docs/architecture.md.
 */
#ifndef HIVE_DAEMON_H
#define HIVE_DAEMON_H

#include "config.h"

/*
 * Message types.  Who may send each one is fixed in the receiver's
 * dispatch table (monitor.c, router.c, injector.c).
 *
 * SIGN_REQ     router -> monitor  str from, to, ch, urgency, text,
 *                                 action, corr, replyTo, args (JSON
 *                                 object text or ""); i64 ttl
 * SIGN_REP     monitor -> router  u32 ok; str wire (ok) or error
 * INJECT       router -> injector str instance, mode, text, session
 * INJECT_DONE  injector -> router u32 delivered; str detail
 * AUDIT        router -> monitor  str line (one JSON object, printable
 *                                 ASCII; the monitor appends it)
 * READY        router -> monitor  str status (connected, subscribed)
 * ALIVE        router -> monitor  (empty) once a second: the watchdog
 * RELOAD       monitor -> router  (empty) SIGHUP: re-read the keyring,
 *                                 publish the roster again
 */
enum imsg_type {
	IMSG_SIGN_REQ = 1,
	IMSG_SIGN_REP,
	IMSG_INJECT,
	IMSG_INJECT_DONE,
	IMSG_AUDIT,
	IMSG_READY,
	IMSG_ALIVE,
	IMSG_RELOAD,
};

/* Descriptors a child finds after exec: its link to the monitor,
 * (router and injector) their link to each other, and (router only)
 * the listening control socket. */
#define DAEMON_FD_MONITOR	3
#define DAEMON_FD_PEER		4
#define DAEMON_FD_CONTROL	5

#define INJECT_TEXT_MAX		16384

struct daemon_opts {
	const char	*config_path;
	int		 foreground;
	int		 debug;
};

int monitor_main(const struct daemon_opts *, const struct config *);
int router_main(const struct daemon_opts *, const struct config *);
int injector_main(const struct daemon_opts *, const struct config *);

/* daemon.c: SIGTERM/SIGINT call on_term, SIGPIPE ignored */
void daemon_child_signals(void (*on_term)(int));

/* privdrop.c: switch to user (if root) and lock down; fatal on failure */
void privdrop(const char *user, const char *role);

#endif
