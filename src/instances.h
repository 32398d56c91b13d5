/*
 * instances.h - which injector process serves which local OpenClaw
 * instance.  One injector runs per distinct instance user (policy
 * `instance NODE { user NAME }`), so a gateway's token is only ever
 * read by a process of that gateway's own account.  Monitor, router
 * and injectors compute the same mapping from the same policy.
 */
#ifndef HIVE_INSTANCES_H
#define HIVE_INSTANCES_H

#include <stddef.h>

#include "policy.h"

/* Distinct instance users, in local node order; returns how many. */
size_t instances_users(const struct policy *,
    char users[CONFIG_MAX_NODES][POLICY_NAME_MAX + 1]);

/* The injector slot serving node, or -1 if node is not local. */
int instances_slot(const struct policy *, const char *node);

/*
 * A reloaded policy keeps the instances the injectors were started
 * with (they cannot change user or secrets while running): fresh gets
 * old's instance table.  Returns 1 if fresh had asked for a change
 * (the caller says a restart is needed), else 0.
 */
int instances_carry(struct policy *fresh, const struct policy *old);

#endif
