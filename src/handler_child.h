/*
 * handler_child.h - the confined handler child (src/handler_child.c):
 * forked by the runner, it confines itself and executes the handler.
 * Used by the runner in src/handler.c only.
 */
#ifndef HIVE_HANDLER_CHILD_H
#define HIVE_HANDLER_CHILD_H

#include <sys/types.h>

#include "policy.h"
#include "seccomp_profile.h"

#define CHILD_MSG_MAX	160	/* "STEP: error" from a failed child */

struct child_spawn {
	const struct policy_handler	*pol;
	const struct handler_bpf	*bpf;
	int				 exec_fd;
	int				 script;
	int				 fd_in, fd_out, fd_err;	/* handler's */
	int				 fd_fail;	/* error pipe, write end */
	const char			*argv0;
	char *const			*envp;
};

/*
 * Fork the child: its pid, or -1 (errno).  Every descriptor the caller
 * holds must be close-on-exec or closed by the child (it keeps only
 * the five above).  A setup step that fails writes "STEP: error" to
 * fd_fail and exits 127; EOF there with nothing written, once the
 * child is gone or has exec'd (fd_fail is close-on-exec), means the
 * execve succeeded.
 */
pid_t handler_child_spawn(const struct child_spawn *);

#endif
