/*
 * handler_reap.h - what a handler left behind (src/handler_reap.c):
 * the runner's process is a child subreaper, and once a handler has
 * exited, its leftover processes, re-parented to us, are found among
 * our children and killed.  Used by the runner in src/handler.c only.
 */
#ifndef HIVE_HANDLER_REAP_H
#define HIVE_HANDLER_REAP_H

#include <sys/types.h>

/* Make the calling process a child subreaper: 0, or -1 (errno). */
int handler_reap_init(void);

/* A pid of ours the sweep must leave alone: a handler still running. */
typedef int (*handler_live_fn)(void *arg, pid_t);

/*
 * Kill every stray: a child of ours that is no live handler and not in
 * our session (the caller's own children, router and injectors, are;
 * no handler process can be), with its descendants; reap the dead
 * ones, adding them to *reaped.  Returns how many strays were found:
 * 0 means there are none (call again a little later otherwise: one
 * reaped just now may have handed us its own children after our list
 * was read), or -1 when our children cannot be listed.  Never blocks.
 */
int handler_sweep(handler_live_fn, void *arg, int *reaped);

/* The parent and session of a process (/proc/PID/stat): 0, or -1
 * when it is gone. */
int handler_proc_stat(pid_t, pid_t *ppid, pid_t *sid);

/* A pidfd for a child of ours just forked, or -1 with the child killed
 * and reaped: what cannot be watched must not run. */
int handler_pidfd(pid_t);

#endif
