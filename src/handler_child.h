/*
 * handler_child.h - the confined handler child (src/handler_child.c):
 * forked by the runner, it confines itself and executes the handler.
 * Used by the runner in src/handler.c only.
 */
#ifndef HIVE_HANDLER_CHILD_H
#define HIVE_HANDLER_CHILD_H

#include <sys/types.h>

#include <stdint.h>

#include "policy.h"
#include "seccomp_profile.h"

#define CHILD_MSG_MAX	160	/* "STEP: error" from a failed child */
#define CHILD_FD_MIN	5	/* the lowest chan_at: above stdio, the
				   handler at 3 and a listener at 4 */

/*
 * What the child says on its channel (an AF_UNIX SOCK_SEQPACKET pair,
 * close-on-exec): one message each, the first byte its kind.
 */
#define CHILD_MSG_LISTENER	'L'	/* + SCM_RIGHTS: the seccomp listener */
#define CHILD_MSG_NO_LISTENER	'N'	/* + why: the kill program instead */
#define CHILD_MSG_FAILED	'F'	/* + "STEP: error", then exit 127 */

struct child_spawn {
	const struct policy_handler	*pol;
	const struct handler_bpf	*bpf;	/* the kill program (insn) */
	/* the notify program with its handoff prefix (insn), or NULL */
	const struct handler_bpf	*notify;
	int				 chan_at; /* the channel's number
						     with notify: the prefix's */
	int				 exec_fd;
	int				 script;
	int				 fd_in, fd_out, fd_err;	/* handler's */
	int				 fd_chan;	/* channel, child's end */
	const char			*argv0;
	char *const			*envp;
	/* a zygote (src/zygote.h): confined the same, with no per-run
	 * limits, no mounts and no kill-program fallback; after its
	 * listener it serves runs instead of executing the handler */
	int				 zygote;
	/* the run's state directory (HIVE_STATE_DIR), or NULL: kept
	 * writable under read_only_root */
	const char			*state;
};

/*
 * Fork the child: its pid, or -1 (errno).  Every descriptor the caller
 * holds must be close-on-exec or closed by the child (it keeps only
 * the five above).  With notify, the child loads that program with a
 * new listener and sends the listener on the channel (placed at
 * chan_at) just before its execve, or says why not and loads the kill
 * program.  A setup step that fails sends CHILD_MSG_FAILED and exits
 * 127; EOF with no such message, once the child is gone or has exec'd
 * (the channel is close-on-exec), means the execve succeeded.
 */
pid_t handler_child_spawn(const struct child_spawn *);

/* "STEP: error" (errno e, untranslated: nothing allocated) written into
 * buf from off, NUL-ended; the length.  For a child that fails. */
size_t handler_child_why(char *buf, size_t size, size_t off,
    const char *step, int e);

/* A handler's limit (policy value v, <= 0: not set), hard and soft,
 * RLIMIT_CPU's hard one second above (SIGXCPU, then SIGKILL): a raw
 * prlimit64.  0, or -1 (errno). */
int handler_child_rlimit(int res, int64_t v);

#endif
