/*
 * daemon.h - what hive-daemon's three roles share: the closed list of
 * IPC message types, the fixed descriptor numbers children inherit,
 * and each role's entry point.  See docs/architecture.md.
 */
#ifndef HIVE_DAEMON_H
#define HIVE_DAEMON_H

#include "config.h"
#include "policy.h"

/*
 * Message types.  Who may send each one is fixed in the receiver's
 * dispatch table (monitor.c, router.c, injector.c).
 *
 * SIGN_REQ     router -> monitor  str from, to, ch, urgency, text,
 *                                 action, corr, replyTo, args (JSON
 *                                 object text or ""); i64 ttl
 * SIGN_REP     monitor -> router  u32 ok; str wire (ok) or error
 * INJECT       router -> injector u32 tag; str instance, mode, text,
 *                                 session
 * INJECT_DONE  injector -> router u32 tag, status (INJECT_*); str
 *                                 detail, reply (an agent turn's reply
 *                                 text, else "")
 * AUDIT        router -> monitor  u32 n (1..AUDIT_BATCH_LINES); n x str
 *                                 line (one JSON object, printable
 *                                 ASCII; the monitor appends them in
 *                                 order; router_audit.c batches them)
 * READY        router -> monitor  str status (connected, subscribed)
 * ALIVE        router -> monitor  (empty) once a second: the watchdog
 * RELOAD       monitor -> router  (empty) SIGHUP: re-read the keyring,
 *                                 publish the roster again
 * HANDLERS     monitor -> router  str names (the handlers found, comma
 *                                 separated; at start and each reload,
 *                                 before RELOAD)
 * RUN_HANDLER  router -> monitor  u32 tag; str node (ours, who runs
 *                                 it), from, id, ch (command|sync),
 *                                 action, envelope (canonical JSON,
 *                                 verified: the handler's stdin)
 * HANDLER_DONE monitor -> router  u32 tag (0: a sentinel run); str node,
 *                                 action, outcome; i64 exit, signal,
 *                                 duration_ms, ts (start); str result
 *                                 (compact JSON object or ""), error,
 *                                 syscall (killed-by-seccomp: the
 *                                 call's name, [a-z0-9_], else "")
 * HUP          router, injector   (empty) a SIGHUP reached the sender,
 *              -> monitor         which cannot signal the monitor
 *                                 (another uid): it reloads as if
 *                                 signalled, at most once a second
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
	IMSG_HANDLERS,
	IMSG_RUN_HANDLER,
	IMSG_HANDLER_DONE,
	IMSG_HUP,
};

/* Descriptors a child finds after exec: its link to the monitor; an
 * injector's link to the router; the router's listening control socket
 * and its links to injectors 0..n-1 (one per instance user). */
#define DAEMON_FD_MONITOR	3
#define DAEMON_FD_PEER		4
#define DAEMON_FD_CONTROL	5
#define DAEMON_FD_INJECTORS	6

#define INJECT_TEXT_MAX		16384
/* of which a peer's framed text may take this much (frame.h); hive's
 * own words around it (header, a quoted command, the closing
 * sentences) take at most the rest */
#define INJECT_SAID_MAX		(INJECT_TEXT_MAX - 2048)
/* IMSG_AUDIT: lines per message, and its payload (a line is at most
 * AUDIT_LINE_MAX bytes, so one always fits) */
#define AUDIT_BATCH_LINES	64
#define AUDIT_BATCH_BYTES	(64 * 1024)
#define DAEMON_INJECT_QUEUE	64	/* per injector, the router keeps to it */

/* INJECT_DONE status */
#define INJECT_FAILED		0	/* final: retries exhausted, refused */
#define INJECT_DELIVERED	1
#define INJECT_DEFERRED		2	/* not run (draining): keep it */

struct daemon_opts {
	const char	*config_path;
	int		 foreground;
	int		 debug;
	int		 slot;		/* -I: which injector, else -1 */
	const char	*attach;	/* -A: split mode's socket (attach.h) */
	int		 log_ts;	/* -T: the monitor's decision on log
					   timestamps (1/0), else -1 */
};

int monitor_main(const struct daemon_opts *, const struct config *,
    struct policy *);
int router_main(const struct daemon_opts *, const struct config *,
    struct policy *);
int injector_main(const struct daemon_opts *, const struct config *,
    const struct policy *);

/* monitor.c: state_dir, log_dir, secret_dir are the daemon's alone */
int monitor_check_dirs(const struct config *, int missing_ok, char *err,
    size_t errlen);

/* daemon.c: SIGTERM/SIGINT call on_term, SIGHUP on_hup (which passes
 * it on to the monitor: IMSG_HUP), SIGPIPE ignored */
void daemon_child_signals(void (*on_term)(int), void (*on_hup)(int));

/* privdrop.c: switch to user (given CAP_SETUID/CAP_SETGID) and lock
 * down; fatal on failure */
void privdrop(const char *user, const char *role);
/* 1 if cap (CAP_*) is in our effective set */
int privdrop_has_cap(int cap);

#endif
