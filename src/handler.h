/*
 * handler.h - discover, confine and run deterministic action handlers.
 *
 * A handler is an executable file {handlers_dir}/{action}: the envelope
 * JSON on stdin, one JSON object on stdout, exit 0 for success, stderr
 * for the error detail.  The runner forks each confined handler
 * itself, enforces its timeout, and kills whatever it left behind (see
 * docs/handlers.md).  The runner is non-blocking: the monitor's poll loop
 * asks it for descriptors (handler_runner_fds), hands back what poll()
 * saw (handler_runner_dispatch) and calls it when poll times out
 * (handler_runner_timeout gives the next deadline).  No MQTT, no IPC.
 *
 * The runner forks, and handler_runner_init makes the calling process
 * a child subreaper: what a handler leaves behind is re-parented to it
 * and killed by the runner.  So the caller must not reap unknown
 * children with waitpid(-1) (the handlers' statuses are the runner's,
 * and so are the strays), must keep its main thread, must leave its
 * own children in its session (the runner tells them from a handler's
 * by that), needs CAP_KILL to run handlers as another user, and must
 * ignore SIGPIPE.
 */
#ifndef HIVE_HANDLER_H
#define HIVE_HANDLER_H

#include <sys/types.h>

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy.h"
#include "seccomp_profile.h"

#define HANDLER_NAME_MAX	64
#define HANDLER_MAX		POLICY_MAX_HANDLERS
#define HANDLER_STDIN_MAX	(1024 * 1024)
#define HANDLER_ERROR_MAX	256
#define HANDLER_SYSCALL_MAX	32	/* a syscall's name, NUL included */
#define HANDLER_STATE_PATH_MAX	1200	/* handler_state_dir/action */

/* ---- discovery ---- */

struct handler_entry {
	char	 action[HANDLER_NAME_MAX + 1];
	int	 fd;		/* O_RDONLY|O_NOFOLLOW|O_CLOEXEC, checked */
	int	 script;	/* starts with "#!" */
};

struct handler_refusal {
	char	 name[HANDLER_NAME_MAX + 1];	/* as much as fits */
	char	 why[128];
};

struct handler_set {
	struct handler_entry	 h[HANDLER_MAX];
	size_t			 n;
	struct handler_refusal	 refused[HANDLER_MAX];
	size_t			 nrefused;
	char			 error[256];	/* the directory itself */
};

/* The run-as uid for an action (the policy's handler block or its
 * defaults); the monitor wraps policy_handler_for(). */
typedef uid_t (*handler_owner_fn)(void *arg, const char *action);

/* 0 and the handlers found (set->refused: names and reasons), or -1
 * when the directory itself is refused (set->error says why). */
int handler_discover(const char *dir, handler_owner_fn, void *arg,
    struct handler_set *);
void handler_set_free(struct handler_set *);
const struct handler_entry *handler_find(const struct handler_set *,
    const char *action);

/* Open and check one handler relative to a directory descriptor.
 * fd, or -1 with a reason in why. */
int handler_open(int dirfd, const char *name, uid_t run_as, int *script,
    char *why, size_t whylen);
int handler_name_ok(const char *);

/* ---- running ---- */

enum handler_outcome {
	HANDLER_OK = 0,
	HANDLER_ERROR,		/* non-zero exit, or the sandbox failed */
	HANDLER_BAD_OUTPUT,	/* not one JSON object, or over the cap */
	HANDLER_TIMEOUT,
	HANDLER_KILLED_BY_SECCOMP,
	HANDLER_KILLED,		/* another signal */
	HANDLER_REFUSED,	/* queue or concurrency limits */
};

const char *handler_outcome_name(enum handler_outcome);

/* The environment a handler gets besides PATH, HOME and LANG. */
struct handler_env {
	const char	*node;
	const char	*action;
	const char	*id;
	const char	*from;
	/* handler_state_dir: the run gets {state_dir}/{action} (made,
	 * owned by its user, 0700) as HIVE_STATE_DIR; NULL: none */
	const char	*state_dir;
};

struct handler_result {
	uint64_t		 id;
	char			 action[HANDLER_NAME_MAX + 1];
	enum handler_outcome	 outcome;
	int			 exit_status;	/* -1 unless it exited */
	int			 signal;	/* 0 unless killed */
	int64_t			 duration_ms;
	pid_t			 pid;		/* the handler, 0 if never */
	int			 leftovers;	/* processes reaped after it */
	int			 zygote;	/* started by a zygote */
	/* killed-by-seccomp: the syscall's name, as libseccomp knows it;
	 * "" when it could not be learned */
	char			 syscall[HANDLER_SYSCALL_MAX];
	json_t			*output;	/* ok: the object (borrowed) */
	char			 error[HANDLER_ERROR_MAX]; /* why, stderr */
	const char		*err;		/* stderr bytes (borrowed) */
	size_t			 errlen;
};

typedef void (*handler_done_fn)(void *arg, const struct handler_result *);

struct handler_run;
struct zygote;

/* Zygotes (docs/handlers.md, "The zygote"): off; from a handler's
 * second run within a minute (the default); or from its first run,
 * waited for (tests). */
enum { HANDLER_ZYGOTE_OFF, HANDLER_ZYGOTE_AUTO, HANDLER_ZYGOTE_ALWAYS };

struct handler_runner {
	struct handler_run	*runs;		/* running and queued */
	int			 max_handlers;	/* all handlers at once */
	uint64_t		 next_id;
	handler_done_fn		 done;
	void			*arg;
	int			 reaper;	/* we are a child subreaper */
	size_t			 notif_size;	/* the kernel's seccomp_notif;
						   0: no user notification */
	int			 notify_warned;	/* said once why not */
	struct zygote		*zygotes;
	int			 zygote_mode;	/* HANDLER_ZYGOTE_* */
	/* a hook for tests: called with the handler's pid once started */
	void			(*started)(void *arg, uint64_t id, pid_t pid);
};

/* handler_state.c: make {dir}/{action} the block's user's own, 0700;
 * its path.  0, or -1 with why. */
int handler_state_prepare(const char *dir, const struct policy_handler *,
    char *path, size_t pathlen, char *why, size_t whylen);

void handler_runner_init(struct handler_runner *, int max_handlers,
    handler_done_fn, void *arg);
void handler_runner_set_max(struct handler_runner *, int max_handlers);
void handler_runner_set_zygote(struct handler_runner *, int mode);
/* Kills every run and what it left, and waits for them. */
void handler_runner_free(struct handler_runner *);

/*
 * Run (or queue) one handler.  Everything is copied: the policy block,
 * the BPF program, stdin and the environment strings; exec_fd is
 * duplicated.  Returns the run id (> 0), or 0 when refused, with the
 * reason in why (outcome "refused": the caller reports it): over the
 * limits, run-as root, no timeout (timeout_ms <= 0), stdin over
 * HANDLER_STDIN_MAX, private_tmp/read_only_root when not root, or no
 * resources.
 */
uint64_t handler_run_start(struct handler_runner *,
    const struct policy_handler *, const struct handler_bpf *, int exec_fd,
    int script, const char *stdin_json, size_t stdin_len,
    const struct handler_env *, char *why, size_t whylen);

/* Runs in flight or queued. */
size_t handler_runner_active(const struct handler_runner *);

/* The descriptors to poll (POLLIN each): returns how many were written
 * (at most max; HANDLER_RUN_FDS per running handler and
 * HANDLER_ZYGOTE_FDS * HANDLER_ZYGOTE_MAX is enough). */
#define HANDLER_RUN_FDS		5
#define HANDLER_ZYGOTE_FDS	3
#define HANDLER_ZYGOTE_MAX	16	/* zygotes at once */
size_t handler_runner_fds(const struct handler_runner *, struct pollfd *,
    size_t max);

/* What poll() saw (pfd may hold other descriptors too), and deadlines:
 * completion callbacks are called from here. */
void handler_runner_dispatch(struct handler_runner *, const struct pollfd *,
    size_t n);

/* Milliseconds until the runner needs handler_runner_dispatch() even
 * without events, -1 for none. */
int handler_runner_timeout(const struct handler_runner *);

#endif
