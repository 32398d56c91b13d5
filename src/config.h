/*
 * config.h - hive.conf: one "keyword value" per line, '#' comments.
 * Grammar and keywords: docs/configuration.md.
 */
#ifndef HIVE_CONFIG_H
#define HIVE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "envelope.h"

#define CONFIG_DEFAULT_PATH	"/etc/hive/hive.conf"
#define CONFIG_PATH_MAX		1024
#define CONFIG_MAX_NODES	8

struct config {
	char	host[256];
	int	port;
	char	prefix[128];
	char	cafile[CONFIG_PATH_MAX];
	char	capath[CONFIG_PATH_MAX];
	char	certfile[CONFIG_PATH_MAX];
	char	keyfile[CONFIG_PATH_MAX];
	char	username[128];
	char	password_file[CONFIG_PATH_MAX];
	char	keys_dir[CONFIG_PATH_MAX];
	char	sign_key[CONFIG_PATH_MAX];
	char	state_dir[CONFIG_PATH_MAX];
	int64_t	window_capacity;
	int64_t	window_share;	/* entries one sender may hold in the
				   window; 0: window_capacity / 4 */
	/* hive-daemon */
	char	nodes[CONFIG_MAX_NODES * 66];	/* "a,b": local node ids */
	char	secret_dir[CONFIG_PATH_MAX];	/* NODE.key files */
	char	user[64];			/* the router's account */
	int64_t	heartbeat_interval;
	char	openclaw[CONFIG_PATH_MAX];	/* absolute path of the CLI */
	int	openclaw_port;	/* 0: leave --port out; -1 ("auto"): the
				   digits after the last '-' of the instance
				   id, as in turq-18789 */
	char	control_socket[CONFIG_PATH_MAX];
	char	pid_file[CONFIG_PATH_MAX];	/* the monitor's pid */
	int64_t	control_timeout;	/* s for a client's request */
	int64_t	corr_ttl;		/* outbound commands tracked */
	int64_t	inject_share;		/* injections held for one peer */
	char	log_dir[CONFIG_PATH_MAX];	/* audit log */
	char	log_timestamps[8];	/* auto, yes, no: RFC 3339 times
					   on stderr lines (auto: unless
					   stderr is the journal) */
	int64_t	audit_max_size;
	int	audit_keep;
	char	role[64];		/* roster: member, master... */
	char	capabilities[512];	/* roster: comma list */
	char	policy_dir[CONFIG_PATH_MAX];	/* hive.policy, seccomp/ */
	char	handlers_dir[CONFIG_PATH_MAX];	/* action handlers */
	char	handler_state_dir[CONFIG_PATH_MAX]; /* theirs, one each */
	struct envelope_limits limits;
};

void config_defaults(struct config *);

/*
 * Parse text (from file name, for messages) into cfg, which must hold
 * defaults.  Returns 0, or -1 with "name:line: why" in err.
 */
int config_parse(struct config *, const char *text, size_t len,
    const char *name, char *err, size_t errlen);

/*
 * Load a file.  Missing and !must_exist: 0 with defaults.  Refuses a
 * file that is group/world-writable or owned by someone other than
 * root or the caller.
 */
int config_load(struct config *, const char *path, int must_exist,
    char *err, size_t errlen);

/*
 * The checks every file we trust as configuration gets (hive.conf,
 * hive.policy), on the opened descriptor: a regular file, not writable
 * by group or others, owned by root or the caller, at most max bytes.
 * 0, or -1 with why in err.
 */
int config_check_fd(int fd, const char *path, off_t max, char *err,
    size_t errlen);

/*
 * The check every directory we trust for configuration gets (keys/,
 * handlers.d/, policy_dir): opened O_DIRECTORY|O_NOFOLLOW, owned by
 * root or the caller, not writable by group or others.  The open
 * descriptor, or -1 with why in err.
 */
int config_open_dir(const char *path, char *err, size_t errlen);

/*
 * A directory only the daemon may use (state_dir, log_dir,
 * secret_dir): not a symbolic link, owned by root, the caller or user
 * (hive.conf's, as uid), no group or other permission bits, and no
 * ancestor that someone else could write (unless sticky, as /tmp).
 * 0 ok, 1 missing, -1 refused; why in err.
 */
int config_check_private_dir(const char *path, uid_t user, char *err,
    size_t errlen);

/* Normalised output: every keyword, sorted, one per line. */
void config_print(const struct config *, FILE *);

/* Split cfg->nodes into out (at most CONFIG_MAX_NODES); returns count. */
/* window_share, or its default when it is 0 */
int64_t config_window_share(const struct config *);
size_t config_nodes(const struct config *, char out[][NODE_MAX + 1]);

/* The --port for an instance: 0 none, -1 "auto" but the id has no
 * port suffix (config check refuses that), else the port. */
int config_instance_port(const struct config *, const char *node);

/* MQTT topic prefix: levels of printable ASCII, no wildcards. */
int config_valid_prefix(const char *);

#endif
