/*
 * instances.c - the instance-to-injector mapping (see instances.h).
 */
#include <string.h>

#include "instances.h"
#include "util.h"

size_t
instances_users(const struct policy *p,
    char users[CONFIG_MAX_NODES][POLICY_NAME_MAX + 1])
{
	size_t i, j, n = 0;

	for (i = 0; i < p->ninstances; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(users[j], p->instances[i].user) == 0)
				break;
		if (j == n)
			hive_strlcpy(users[n++], p->instances[i].user,
			    POLICY_NAME_MAX + 1);
	}
	return n;
}

int
instances_slot(const struct policy *p, const char *node)
{
	char users[CONFIG_MAX_NODES][POLICY_NAME_MAX + 1];
	size_t i, j, n = instances_users(p, users);

	for (i = 0; i < p->ninstances; i++) {
		if (strcmp(p->instances[i].node, node) != 0)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(users[j], p->instances[i].user) == 0)
				return (int)j;
	}
	return -1;
}

int
instances_carry(struct policy *fresh, const struct policy *old)
{
	int changed = fresh->ninstances != old->ninstances ||
	    memcmp(fresh->instances, old->instances,
	    sizeof(old->instances[0]) * old->ninstances) != 0;

	memcpy(fresh->instances, old->instances, sizeof(old->instances));
	fresh->ninstances = old->ninstances;
	return changed;
}
