/*
 * seccomp_profile.h - handler seccomp profiles: a small line-oriented
 * file in {policy_dir}/seccomp/NAME, parsed strictly (file:line
 * errors) and compiled ONCE, at policy load or reload, into two
 * classic-BPF programs: one as written and one that also refuses
 * socket(2) for every family but AF_UNIX (policy "network no"), each
 * also in a user-notification form (struct handler_bpf).  The handler
 * child only loads a program (seccomp(2)); it never calls libseccomp.  Format: docs/handlers.md.
 */
#ifndef HIVE_SECCOMP_PROFILE_H
#define HIVE_SECCOMP_PROFILE_H

#include <linux/filter.h>

#include <stddef.h>
#include <stdint.h>

#define SECCOMP_PROFILE_NAME_MAX	63
#define SECCOMP_PROFILE_FILE_MAX	(64 * 1024)
#define SECCOMP_PROFILE_LINE_MAX	1024
#define SECCOMP_PROFILE_RULES_MAX	1024
#define SECCOMP_PROFILE_DEPTH_MAX	4	/* include nesting */

/*
 * A compiled filter, in two forms: as written (every kill
 * SECCOMP_RET_KILL_PROCESS), and the same with every kill a
 * SECCOMP_RET_USER_NOTIF, for the runner to learn the syscall's name
 * before it kills the run (notify_len 0: libseccomp or the kernel
 * cannot).  A foreign architecture kills the process in both.
 */
struct handler_bpf {
	struct sock_filter	*insn;	/* heap */
	unsigned short		 len;
	struct sock_filter	*notify;	/* heap, or NULL */
	unsigned short		 notify_len;
};

/* One parsed rule: a syscall, an action, at most one argument check. */
struct seccomp_rule {
	int		 nr;
	uint32_t	 action;	/* SCMP_ACT_* */
	int		 arg;		/* -1: unconditional */
	int		 op;		/* SECCOMP_OP_* */
	uint64_t	 value;
	char		 file[SECCOMP_PROFILE_NAME_MAX + 1];
	int		 line;
};

enum { SECCOMP_OP_EQ = 1, SECCOMP_OP_HAS };

struct seccomp_profile {
	char			 name[SECCOMP_PROFILE_NAME_MAX + 1];
	uint32_t		 default_action;
	int			 network_deny;	/* "network deny" */
	struct seccomp_rule	*rules;
	size_t			 nrules;
	struct handler_bpf	 bpf[2];	/* [0] as written,
						   [1] AF_UNIX sockets only */
};

/* Read, check (owner root or us, not group/world-writable) and
 * compile {dir}/{name}.  0, or -1 with "file:line: why" in err. */
int seccomp_profile_load(struct seccomp_profile *, const char *dir,
    const char *name, char *err, size_t errlen);

/* Same from memory; includes are read from dir (NULL: refused). */
int seccomp_profile_parse(struct seccomp_profile *, const char *dir,
    const char *name, const char *text, size_t len, char *err,
    size_t errlen);

/* The program for a handler: network 0 gives the AF_UNIX-only one
 * (always, for a profile that says "network deny"). */
const struct handler_bpf *seccomp_profile_bpf(const struct seccomp_profile *,
    int network);

void seccomp_profile_free(struct seccomp_profile *);

/* A deep copy of a program (the runner keeps one per run). */
int handler_bpf_copy(struct handler_bpf *dst, const struct handler_bpf *src);

/*
 * The notify program behind a prefix that allows sendmsg(2) on
 * descriptor fd only (the full 64 bits of the argument, the native
 * architecture): the one call the child makes after loading the filter
 * and before its execve, to hand the listener to the runner; with
 * recv_too recvmsg(2) there as well, which a zygote reads its requests
 * with (src/handler_zygote.c).  fd must
 * be at or above the handler's hard RLIMIT_NOFILE, so that the handler
 * can never hold a descriptor of that number (docs/handlers.md).
 * dst is a program of its own (insn), to free with handler_bpf_free.
 */
int handler_bpf_notify_handoff(struct handler_bpf *dst,
    const struct handler_bpf *src, int fd, int recv_too);
void handler_bpf_free(struct handler_bpf *);

#endif
