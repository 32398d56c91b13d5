/*
 * router_verify.h - signature checks of a batch on several threads
 * (router process only; see router_verify.c).
 */
#ifndef HIVE_ROUTER_VERIFY_H
#define HIVE_ROUTER_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

struct verify_job {
	const uint8_t		*sig;	/* KEY_SIG_BYTES */
	const struct buf	*msg;	/* envelope_signed_bytes() */
	const uint8_t		*pk;
	int			 ok;	/* set by router_verify_run */
};

/* Before the seccomp filter: start the workers. */
void router_verify_setup(void);
void router_verify_run(struct verify_job *, size_t n);

#endif
