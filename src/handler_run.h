/*
 * handler_run.h - one handler run, as the runner (src/handler.c) and
 * its zygotes (src/handler_zygote.c) both see it.  Internal to those
 * two files.
 */
#ifndef HIVE_HANDLER_RUN_H
#define HIVE_HANDLER_RUN_H

#include <sys/types.h>

#include <linux/seccomp.h>

#include <stdint.h>

#include "handler.h"
#include "handler_child.h"

struct zygote;

#define RUN_ENV		9
#define RUN_SWEEP_MS	2	/* between sweeps while strays die */

/* flags */
#define RUN_TIMED_OUT		0x01	/* SIGTERM was sent at the timeout */
#define RUN_STOPPED		0x02	/* stopped at once: over the cap, or
					 * the runner going away */
#define RUN_SETUP_FAILED	0x04	/* the child never reached execve */
#define RUN_LOST		0x08	/* its status was taken elsewhere */
#define RUN_SECCOMP		0x10	/* a profile's kill, notified */
#define RUN_COLD		0x20	/* not through a zygote (it could
					 * not clone): the runner forks */

struct handler_run {
	struct handler_run	*next;
	uint64_t		 id;
	struct policy_handler	 pol;
	struct handler_bpf	 bpf;
	struct handler_bpf	 handoff;	/* notify form with the prefix;
						   len 0: the kill program */
	int			 chan_at;	/* the child's channel number */
	int			 exec_fd, script;
	char			*in;
	size_t			 inlen;
	char			*env[RUN_ENV];
	char			*state;		/* HIVE_STATE_DIR, or NULL */
	int			 running;	/* forked, or asked of a zygote */
	struct zygote		*zyg;		/* asked, its pid not yet known */
	struct zygote		*zsrc;		/* the zygote that started it */
	pid_t			 hpid;		/* 0 until known */
	int			 fd_pid;	/* pidfd, until reaped */
	int			 fd_out, fd_err, fd_chan;
	int			 fd_notify;	/* seccomp listener, or -1 */
	char			*out, *err;
	size_t			 outlen, errlen;
	int			 over_cap;
	int			 reaped, wstatus, flags, leftovers;
	int			 sweeping;	/* strays still dying */
	int64_t			 start, t_term, t_kill, t_sweep;
	char			 msg[CHILD_MSG_MAX];
	int			 nr;		/* RUN_SECCOMP: the syscall */
	uint32_t		 arch;
	char			 syscall[HANDLER_SYSCALL_MAX];
};

/* Monotonic milliseconds. */
int64_t handler_now_ms(void);
/* What poll(2) said of fd among pfd[0..n); 0 for fd -1 or absent. */
struct pollfd;
short handler_revents(const struct pollfd *, size_t n, int fd);

/* Stop everything of the run now (idempotent). */
void handler_run_stop(struct handler_run *);

/* A notification read from listener names the run's end; the notifying
 * process is killed once the kernel says it is still the one asking. */
void handler_run_notified(struct handler_run *, const struct seccomp_notif *,
    int listener);

/* The handler is started: its pid and pidfd known (the runner's
 * started hook called). */
void handler_run_started(struct handler_runner *, struct handler_run *);

#endif
