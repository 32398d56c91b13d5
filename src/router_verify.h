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
/* Every job prepared when this returns; jobs[] and in stay ours. */
void router_verify_run(const struct inbound *in, struct verify_job *,
    size_t n);

#endif
