/*
 * zygote.h - the handler zygote (src/zygote.c) and what the runner and
 * it say to each other over their channel (an AF_UNIX SOCK_SEQPACKET
 * pair: one message is one record, never split or merged).
 *
 * A zygote is forked by the runner for one handler configuration and
 * confined exactly as that handler's child would be (session, ids,
 * capabilities, no-new-privs, the profile's filter with a listener the
 * runner holds), once.  For each run it is sent the run's stdin,
 * stdout and stderr and its environment, and clones a child with
 * CLONE_PARENT: a child of the runner's, already confined, which sets
 * its per-run limits and session and executes the handler.  Why and
 * what it costs: docs/handlers.md, "The zygote".
 */
#ifndef HIVE_ZYGOTE_H
#define HIVE_ZYGOTE_H

#include <sys/types.h>

#include <stdint.h>

#include "policy.h"

/*
 * Every message starts with this header.  Kinds:
 *   runner to zygote:
 *     ZYG_RUN      id, the environment block after the header
 *                  (argv[0], then "NAME=value" strings, each NUL-ended),
 *                  SCM_RIGHTS: stdin, stdout, stderr of the run
 *   zygote (or its child before execve) to runner:
 *     ZYG_STARTED  id, pid: the child is cloned
 *     ZYG_NOFORK   id, err: clone failed, nothing runs
 *     ZYG_RUNFAIL  id, err, "STEP: error" after the header: the child
 *                  failed before its execve and exits 127
 * (and before the loop, the CHILD_MSG_* of src/handler_child.h: the
 * listener, or why not, or a failed setup.)
 */
struct zyg_hdr {
	char		 kind;
	char		 pad[3];
	int32_t		 pid;
	int32_t		 err;	/* errno */
	uint32_t	 len;	/* bytes after the header */
	uint64_t	 id;
};

#define ZYG_RUN		'R'
#define ZYG_STARTED	'P'
#define ZYG_NOFORK	'X'
#define ZYG_RUNFAIL	'E'

#define ZYG_ENV_MAX	2048	/* the environment block of one run */
#define ZYG_ENV_N	9	/* strings in it, argv[0] included */
#define ZYG_MSG_MAX	(sizeof(struct zyg_hdr) + ZYG_ENV_MAX)

/*
 * The zygote's loop, in the forked and confined child (handler_child.c
 * calls it once its filter is loaded): requests on chan until EOF.
 * Raw system calls only, the ones src/handler_zygote.c checks the
 * profile allows.  runner: the pid every child's parent must be.
 */
void zygote_main(int chan, const struct policy_handler *, pid_t runner)
    __attribute__((noreturn));

#endif
