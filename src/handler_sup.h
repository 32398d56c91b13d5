/*
 * handler_sup.h - the per-run supervisor and the confined handler
 * child (src/handler_sup.c); used by the runner in src/handler.c only.
 */
#ifndef HIVE_HANDLER_SUP_H
#define HIVE_HANDLER_SUP_H

#include <sys/types.h>

#include <stdint.h>

#include "policy.h"
#include "seccomp_profile.h"

/* What the supervisor reports on its status pipe: one record when the
 * handler has started, one when everything is over. */
enum { SUP_STARTED = 1, SUP_DONE = 2 };

#define SUP_TIMED_OUT		0x01	/* SIGTERM was sent at the timeout */
#define SUP_STOPPED		0x02	/* the runner asked for a stop */
#define SUP_SETUP_FAILED	0x04	/* the child never reached execve */

struct sup_status {
	int32_t		 type;
	int32_t		 pid;		/* the handler */
	int32_t		 wstatus;
	int32_t		 flags;
	int32_t		 leftovers;	/* descendants killed after it */
	int32_t		 pad;
	int64_t		 duration_ms;
	char		 msg[160];	/* SUP_SETUP_FAILED: which step */
};

struct sup_spawn {
	const struct policy_handler	*pol;
	const struct handler_bpf	*bpf;
	int				 exec_fd;
	int				 script;
	int				 fd_in, fd_out, fd_err;	/* handler's */
	int				 fd_status;	/* write end */
	int				 fd_ctl;	/* read end */
	const char			*argv0;
	char *const			*envp;
};

/* Fork the supervisor: its pid, or -1. */
pid_t handler_sup_spawn(const struct sup_spawn *);

#endif
