/*
 * fuzz_policy.c - hive.policy from memory (policy_parse) against a
 * fixed configuration with two local nodes, as tests/unit/test_policy.c
 * sets it up.
 *
 * Properties: a refused text names the file in its message and leaves
 * the policy empty; an accepted one prints (policy_print, what
 * hive-daemon --check-policy shows), and the printed form parses again
 * and prints identically; the lookups the daemon makes on a loaded
 * policy do not crash.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy.h"

#include "fuzz.h"

static struct config cfg;
static struct policy pol, pol2;	/* large: off the stack */

static void
fuzz_init(void)
{
	static int done;

	if (done)
		return;
	config_defaults(&cfg);
	snprintf(cfg.nodes, sizeof(cfg.nodes), "turq-18789,mini1-18889");
	snprintf(cfg.user, sizeof(cfg.user), "nobody");
	cfg.openclaw_port = -1;		/* auto: from the node id */
	done = 1;
}

static char *
fuzz_print(const struct policy *p, size_t *len)
{
	char *buf = NULL;
	FILE *fp;

	*len = 0;
	FUZZ_ASSERT((fp = open_memstream(&buf, len)) != NULL);
	policy_print(p, fp);
	FUZZ_ASSERT(fclose(fp) == 0);
	return buf;
}

/* What the router and monitor ask a loaded policy. */
static void
fuzz_lookups(const struct policy *p)
{
	static const char *const from[] = { "turq-18789", "guest-1", "x" };
	static const char *const act[] = { NULL, "git-sync", "reboot" };
	static const gid_t groups[] = { 0, 65534 };
	struct policy_verdict v;
	size_t i, k;
	int ch;

	for (i = 0; i < 3; i++) {
		for (ch = 0; ch < CH__COUNT; ch++)
			for (k = 0; k < 3; k++)
				policy_check(p, from[i], (enum envelope_ch)ch,
				    act[k], &v);
		FUZZ_ASSERT(policy_rate_for(p, from[i]) != NULL);
		FUZZ_ASSERT(policy_handler_for(p, act[i % 2 + 1]) != NULL);
	}
	FUZZ_ASSERT(policy_rate_for(p, NULL) != NULL);
	FUZZ_ASSERT(policy_instance_for(p, "turq-18789") != NULL);
	for (k = 0; k < SOCK__COUNT; k++) {
		(void)policy_socket_allows(p, (enum policy_sock_verb)k, 0, 0,
		    NULL, 0);
		(void)policy_socket_allows(p, (enum policy_sock_verb)k, 1000,
		    1000, groups, 2);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], *a, *b;
	size_t alen, blen;

	fuzz_init();
	err[0] = '\0';
	if (policy_parse(&pol, &cfg, (const char *)data, size, "f.policy", err,
	    sizeof(err)) == -1) {
		FUZZ_ASSERT(strncmp(err, "f.policy", 8) == 0);
		FUZZ_ASSERT(pol.rules == NULL && pol.handlers == NULL);
		return 0;
	}
	fuzz_lookups(&pol);
	a = fuzz_print(&pol, &alen);
	if (policy_parse(&pol2, &cfg, a, alen, "printed", err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "printed policy refused: %s\n%s", err, a);
		FUZZ_ASSERT(!"the printed policy parses");
	}
	b = fuzz_print(&pol2, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0)
		fprintf(stderr, "first print:\n%s\nsecond print:\n%s", a, b);
	FUZZ_ASSERT(alen == blen && memcmp(a, b, alen) == 0);
	free(a);
	free(b);
	policy_free(&pol2);
	policy_free(&pol);
	return 0;
}
