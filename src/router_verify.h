/*
 * router_verify.h - a batch's received messages parsed and their
 * signatures checked on several threads
 * (router process only; see router_verify.c).
 */
#ifndef HIVE_ROUTER_VERIFY_H
#define HIVE_ROUTER_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "inbound.h"

/* One received message: inbound_prepare() of it, into *p. */
struct verify_job {
	const char		*topic;
	const void		*payload;	/* NULL: oversize */
	size_t			 len;
	struct inbound_prep	*p;
};

/* Before the seccomp filter: start the workers. */
void router_verify_setup(void);
/*
 * A batch's jobs to the workers, then (the caller may do other work
 * meanwhile, reading and writing none of jobs[] or their messages)
 * the caller's own share of what is left, and the wait for the rest:
 * every job prepared when router_verify_wait returns.  One batch at a
 * time: every start is followed by its wait before the next start.
 * The same in, jobs and n to both.
 */
void router_verify_start(const struct inbound *in, struct verify_job *,
    size_t n);
void router_verify_wait(const struct inbound *in, struct verify_job *,
    size_t n);

#endif
