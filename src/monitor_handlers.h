/*
 * monitor_handlers.h - the monitor's part of handlers (monitor process
 * only): which handlers exist, their compiled seccomp profiles, the
 * runner, sentinel schedules, and the router's RUN_HANDLER requests.
 * See docs/handlers.md ("In the daemon").
 */
#ifndef HIVE_MONITOR_HANDLERS_H
#define HIVE_MONITOR_HANDLERS_H

#include <poll.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "handler.h"
#include "ipc.h"
#include "policy.h"
#include "seccomp_profile.h"

#define MH_RUNS		512		/* accepted, running or queued */
#define MH_RESULT_MAX	(32 * 1024)	/* compact JSON sent on */
#define MH_ERROR_MAX	2048		/* error text sent on */
#define MH_FDS		(HANDLER_RUN_FDS * 256 + HANDLER_ZYGOTE_FDS * \
			    HANDLER_ZYGOTE_MAX)	/* runner descriptors at most */

/* What one loaded set of handlers needs: swapped whole on reload. */
struct mh_loaded {
	struct handler_set	*set;
	struct seccomp_profile	*prof;		/* one per profile named */
	size_t			 nprof;
};

struct mh_run {
	uint64_t	 id;		/* the runner's; 0: free */
	uint32_t	 tag;		/* the router's; 0: a sentinel */
	char		 node[NODE_MAX + 1];
	char		 action[HANDLER_NAME_MAX + 1];
	int64_t		 ts;		/* started (queued), seconds */
};

struct mh_sentinel {
	char		 action[HANDLER_NAME_MAX + 1];
	char		 node[NODE_MAX + 1];	/* the instance it wakes */
	int64_t		 base_ms;	/* the period's start */
	int64_t		 next_ms;	/* base + jitter: when it runs */
	int		 busy;		/* a run of it is not done */
};

struct monitor_handlers {
	const struct config	*cfg;
	const struct policy	*policy;	/* the monitor's (reloaded) */
	struct mh_loaded	 cur;
	struct handler_runner	 runner;
	struct mh_run		 runs[MH_RUNS];
	struct mh_sentinel	 sent[HANDLER_MAX];
	size_t			 nsent;
	int			*fd_router;	/* the monitor's; -1: gone */
	int			 stopping;
	int			 go;		/* the router is connected */
};

/* At start: fatal on a handlers directory or profile we must refuse. */
void mh_init(struct monitor_handlers *, const struct config *,
    const struct policy *, int *fd_router);
/* SIGHUP, with the policy just loaded: 0 and *cur replaced by *fresh
 * (fresh is left empty), or -1 and nothing changed (err says why). */
int mh_reload(struct monitor_handlers *, struct policy *cur,
    struct policy *fresh, char *err, size_t errlen);
/* IMSG_HANDLERS to the router. */
void mh_send_names(struct monitor_handlers *);
/* IMSG_RUN_HANDLER from the router. */
void mh_request(struct monitor_handlers *, const struct ipc_msg *);

size_t mh_fds(const struct monitor_handlers *, struct pollfd *, size_t max);
void mh_dispatch(struct monitor_handlers *, const struct pollfd *, size_t n);
/* Milliseconds until mh_tick is needed (runner deadlines, sentinels). */
int mh_timeout(const struct monitor_handlers *);
/* Start sentinel runs that are due, once mh_go was called. */
void mh_tick(struct monitor_handlers *);
/* The router is connected (its first READY): schedules start now, so
 * that a result always has a router that can publish it. */
void mh_go(struct monitor_handlers *);

/* SIGTERM: refuse new runs, start no sentinel; accepted runs go on. */
void mh_stop(struct monitor_handlers *);
size_t mh_active(const struct monitor_handlers *);
/* The longest a run accepted now may take (timeout, grace, a margin). */
int64_t mh_stop_budget_ms(const struct monitor_handlers *);
/* Kill whatever still runs, and free. */
void mh_free(struct monitor_handlers *);

/* Everything mh_init loads, for hive-daemon --check-policy: 0, or -1
 * with the reason; warnings (refused handlers) printed to fp. */
int mh_check(const struct config *, const struct policy *, FILE *fp,
    char *err, size_t errlen);

#endif
