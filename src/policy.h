/*
 * policy.h - the auditor-readable policy: who may make this box do
 * what.  One file, {policy_dir}/hive.policy, plus seccomp profiles in
 * {policy_dir}/seccomp/.  Grammar: docs/policy.md and hive-policy(5).
 *
 * The parser is strict (unknown keywords, duplicate rules and bad
 * values are errors with file:line) and the daemon refuses to start on
 * a bad policy and keeps the old one on a bad reload.  Every structure
 * below holds only resolved, validated values: callers never re-check.
 */
#ifndef HIVE_POLICY_H
#define HIVE_POLICY_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "envelope.h"
#include "keys.h"

#define POLICY_FILE		"hive.policy"
#define POLICY_SECCOMP_DIR	"seccomp"
#define POLICY_NAME_MAX		63	/* group, profile, user names */
#define POLICY_MAX_GROUPS	64
#define POLICY_MAX_MEMBERS	64	/* nodes in one group */
#define POLICY_MAX_RULES	1024
#define POLICY_MAX_RATES	256
#define POLICY_MAX_HANDLERS	128
#define POLICY_MAX_PRINCIPALS	32	/* per socket verb */
#define POLICY_LATER_EVERY_S	1800	/* agent-turn: held `later` texts
					   are delivered every 30 min */
#define POLICY_FILE_MAX		(1024 * 1024)

/* A sender pattern: one node, a group (@name) or anyone (*). */
enum policy_who { WHO_ANY = 0, WHO_NODE, WHO_GROUP };

struct policy_sender {
	enum policy_who	 kind;
	char		 name[NODE_MAX + 1];	/* node id or group name */
};

struct policy_group {
	char	 name[POLICY_NAME_MAX + 1];
	char	 members[POLICY_MAX_MEMBERS][NODE_MAX + 1];
	size_t	 nmembers;
	int	 line;
};

/* "allow|deny from SENDER ch CH [action ACTION|none]"; first match wins */
enum policy_action_match { ACT_ANY = 0, ACT_NONE, ACT_NAME };

struct policy_rule {
	int			 allow;
	struct policy_sender	 from;
	int			 ch;	/* enum envelope_ch, or -1 for "*" */
	enum policy_action_match act;
	char			 action[ENVELOPE_ACTION_MAX + 1];
	int			 line;
};

/* "rate from SENDER N/s burst B" (known senders, after verification)
 * and "rate unknown N/s burst B" (one shared bucket, before it) */
struct policy_rate {
	int			 unknown;	/* the pre-verification bucket */
	struct policy_sender	 from;
	double			 per_sec;
	uint32_t		 burst;
	int			 line;
};

/* Per-handler sandbox.  A handler without a block gets the defaults
 * (policy_handler_defaults), which --check-policy prints. */
struct policy_handler {
	char		 action[ENVELOPE_ACTION_MAX + 1];
	char		 user[POLICY_NAME_MAX + 1];	/* run-as */
	char		 group[POLICY_NAME_MAX + 1];	/* "" : user's primary */
	uid_t		 uid;		/* resolved at load */
	gid_t		 gid;
	int64_t		 timeout_ms;	/* SIGTERM to the process group */
	int64_t		 grace_ms;	/* then SIGKILL */
	int64_t		 cpu_s;		/* RLIMIT_CPU */
	int64_t		 memory;	/* RLIMIT_AS, bytes */
	int64_t		 processes;	/* RLIMIT_NPROC */
	int64_t		 files;		/* RLIMIT_NOFILE */
	int64_t		 fsize;		/* RLIMIT_FSIZE, bytes */
	char		 seccomp[POLICY_NAME_MAX + 1];	/* profile name */
	int		 network;	/* 0: AF_UNIX only (and a new netns
					   where the kernel allows) */
	int		 private_tmp;
	int		 read_only_root;
	int		 concurrency;	/* runs at once of this handler */
	int		 queue;		/* waiting runs beyond that */
	int64_t		 stdout_max;	/* bytes */
	int64_t		 stderr_max;
	int		 alert;		/* non-ok outcome alerts the sender */
	int64_t		 every_s;	/* sentinel period; 0: not scheduled */
	int64_t		 jitter_s;	/* random start delay 0..jitter */
	char		 wake[NODE_MAX + 1];	/* instance a sentinel wakes;
						   "" : the first local node */
	int		 line;		/* 0: defaults, no block */
};

/* How a local OpenClaw instance is woken. */
enum policy_inject { INJECT_EVENT = 0, INJECT_AGENT_TURN };

struct policy_instance {
	char		 node[NODE_MAX + 1];	/* one of config `node` */
	int		 port;			/* 0: none */
	char		 url[CONFIG_PATH_MAX];	/* "" : none; ws:// or wss:// */
	char		 user[POLICY_NAME_MAX + 1];	/* OS user to inject as */
	uid_t		 uid;
	gid_t		 gid;
	char		 token_file[CONFIG_PATH_MAX];	/* "" : none */
	char		 password_file[CONFIG_PATH_MAX];/* "" : none */
	enum policy_inject inject;
	char		 agent[POLICY_NAME_MAX + 1];	/* agent-turn --agent */
	char		 session[POLICY_NAME_MAX + 1];	/* agent-turn
							   --session-id */
	int64_t		 later_every_s;	/* agent-turn: the scheduled wake
					   that delivers held `later` texts */
	int		 line;		/* 0: defaults, no block */
};

/* Local control socket: who may do what (SO_PEERCRED). */
enum policy_sock_verb { SOCK_READ = 0, SOCK_SEND, SOCK_REPLY, SOCK__COUNT };

struct policy_principal {
	int	 any;		/* "*" */
	int	 is_group;	/* ":name" */
	uid_t	 uid;
	gid_t	 gid;
	char	 name[POLICY_NAME_MAX + 1];
};

struct policy_socket {
	struct policy_principal	 p[POLICY_MAX_PRINCIPALS];
	size_t			 n;
	int			 line;	/* 0: default */
};

struct policy {
	struct policy_group	 groups[POLICY_MAX_GROUPS];
	size_t			 ngroups;
	struct policy_rule	*rules;		/* heap, nrules */
	size_t			 nrules;
	struct policy_rate	 rates[POLICY_MAX_RATES];
	size_t			 nrates;
	struct policy_rate	 rate_unknown;	/* always set (default) */
	struct policy_rate	 rate_default;	/* known senders, no match */
	struct policy_handler	*handlers;	/* heap, nhandlers */
	size_t			 nhandlers;
	struct policy_instance	 instances[CONFIG_MAX_NODES];
	size_t			 ninstances;	/* == number of config nodes */
	struct policy_socket	 sock[SOCK__COUNT];
	int			 max_handlers;	/* runs at once, all handlers */
};

/*
 * Load {cfg->policy_dir}/hive.policy against cfg (local nodes, default
 * user and port).  File checks as for hive.conf.  Every local node gets
 * an instance entry (defaults where no block names it).  Returns 0, or
 * -1 with "file:line: why" in err; on error p is left empty (freed).
 */
int policy_load(struct policy *, const struct config *, char *err,
    size_t errlen);

/* Same from memory (tests, fuzzing); name is used in messages. */
int policy_parse(struct policy *, const struct config *, const char *text,
    size_t len, const char *name, char *err, size_t errlen);

void policy_free(struct policy *);

/* The decision for one verified message, and why. */
struct policy_verdict {
	int		 allow;
	int		 line;		/* deciding rule, 0: built-in default */
	char		 why[160];	/* "hive.policy:12: deny from @guests
					   ch command" or "default: command
					   needs an allow rule" */
};

/* Who may send ch (and action, NULL if none) to this box. */
void policy_check(const struct policy *, const char *from,
    enum envelope_ch ch, const char *action, struct policy_verdict *);

/* The rate for a known sender (first matching "rate from", else the
 * default) or, with from == NULL, the pre-verification bucket. */
const struct policy_rate *policy_rate_for(const struct policy *,
    const char *from);

/* The sandbox for an action: its block, or the defaults (never NULL;
 * the defaults live in a static).  policy_handler_defaults leaves uid
 * and gid at (uid_t)-1 if user nobody does not exist; policy_parse
 * refuses that case. */
const struct policy_handler *policy_handler_for(const struct policy *,
    const char *action);
void policy_handler_defaults(struct policy_handler *);

/*
 * May a handler run as uid?  Never as root, hive.conf's user (the
 * router's) or an instance's user (an injector's).  1 refused, with
 * why in buf ("runs as root"), or 0.  policy_load applies it to every
 * handler block; the monitor to every handler it finds.
 */
int policy_identity_refused(const struct policy *, const struct config *,
    uid_t uid, char *buf, size_t len);

const struct policy_instance *policy_instance_for(const struct policy *,
    const char *node);

/* May this peer (SO_PEERCRED uid/gid, plus its supplementary groups
 * looked up by the caller) use verb?  1 yes, 0 no. */
int policy_socket_allows(const struct policy *, enum policy_sock_verb,
    uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups);
/* What decides a refused socket verb, for the refusal the client reads:
 * "hive.policy:LINE: socket VERB does not name it", or that there is no
 * such line and the default (root only) applies. */
void policy_socket_why(const struct policy *, enum policy_sock_verb,
    char *buf, size_t len);

/* Normalised form: every setting, defaults included, one per line,
 * in a fixed order (hive-daemon --check-policy). */
void policy_print(const struct policy *, FILE *);

/* A rate as policy_print writes it: "20/s", "0.5/s", "1/m". */
void policy_fmt_rate(double per_sec, char *buf, size_t len);

#endif
