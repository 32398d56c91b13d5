/*
 * handler_zygote.h - the runner's zygotes (src/handler_zygote.c): one
 * per handler configuration that runs often, each a process confined
 * as that handler (src/zygote.h), asked for runs instead of a fork.
 * Internal to the runner (src/handler.c).
 */
#ifndef HIVE_HANDLER_ZYGOTE_H
#define HIVE_HANDLER_ZYGOTE_H

#include <sys/types.h>

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "handler.h"
#include "handler_run.h"

/*
 * Ask the run's zygote for it, with the run's stdin, stdout and stderr
 * (the caller keeps and closes its copies): 1 when asked (run->zyg set;
 * the pid comes in zyg_dispatch), 0 when the runner must fork it the
 * cold way (no zygote for it yet, or none possible: it may start one).
 */
int zyg_request(struct handler_runner *, struct handler_run *, int in,
    int out, int err);

size_t zyg_fds(const struct handler_runner *, struct pollfd *, size_t max);

/* Replies, notifications and deaths of zygotes, and idle ones retired:
 * 1 if a run went back to the queue (to be forked cold). */
int zyg_dispatch(struct handler_runner *, const struct pollfd *, size_t n,
    int64_t now);

/* The next idle retirement (monotonic ms), -1 for none. */
int64_t zyg_next(const struct handler_runner *);

/* Whether pid is one of our zygotes (not a stray). */
int zyg_owns(const struct handler_runner *, pid_t);

/* Runs asked of a zygote whose pid has not come yet. */
int zyg_pending(const struct handler_runner *);

/* A zygote that did not answer in time: killed, its runs failed. */
void zyg_stuck(struct handler_runner *, struct zygote *);

/* Every zygote killed and reaped, their unanswered runs failed (their
 * listeners kept for the runs they started). */
void zyg_end_all(struct handler_runner *);

/* Every zygote forgotten: no run of theirs may be left. */
void zyg_free_all(struct handler_runner *);

/* A run a zygote started is freed (run->zsrc). */
void zyg_run_done(struct handler_run *);

#endif
