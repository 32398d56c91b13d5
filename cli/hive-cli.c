/*
 * hive-cli - sign, send, verify and reply to hive envelopes.
 *
 * One verb per invocation; each verb lives in its own file.  Errors go
 * to stderr through err(3)/warnx(3); results go to stdout.
 */
#include <err.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "log.h"

static const struct {
	const char	*name;
	int		(*fn)(struct cli_ctx *, int, char **);
	const char	*summary;
} verbs[] = {
	{ "admin", cmd_admin, "admin keygen: generate the admin key that "
	    "signs trust lists" },
	{ "keygen", cmd_keygen, "generate a node key pair" },
	{ "keys", cmd_keys, "keys list: show the trusted keyring" },
	{ "pending", cmd_meta, "outstanding commands (via the daemon)" },
	{ "policy", cmd_policy, "policy explain: what hive.policy decides, "
	    "and why" },
	{ "reload", cmd_reload, "SIGHUP to the local hive-daemon "
	    "(its pid file)" },
	{ "reply", cmd_reply, "reply to a received envelope" },
	{ "roster", cmd_meta, "node roles and handlers (via the daemon)" },
	{ "send", cmd_send, "sign and publish an envelope (optionally wait)" },
	{ "setup", cmd_setup, "make everything one node needs "
	    "(directories, key, hive.conf, policy)" },
	{ "status", cmd_meta, "cluster state (via the daemon)" },
	{ "sync-status", cmd_meta, "latest action results (via the "
	    "daemon)" },
	{ "trust", cmd_trust, "trust show|add|remove|revoke: trust list "
	    "files" },
	{ "verify", cmd_verify, "verify one envelope" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: hive-cli VERB [options]\n"
	    "       hive-cli --help | -h | help\n"
	    "       hive-cli --version\n\nverbs:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\n'hive-cli VERB --help' describes a verb.\n"
	    "exit: 0 ok, 1 refused/timeout, 2 usage or I/O, 3 broker or daemon, "
	    "4 only refused replies\n");
}

int
main(int argc, char *argv[])
{
	struct cli_ctx ctx;
	size_t i;

	memset(&ctx, 0, sizeof(ctx));
	log_init("hive-cli", LOG_LVL_INFO);
	log_set_fatal_status(EXIT_USAGE);
	if (sodium_init() < 0)
		errx(EXIT_USAGE, "libsodium failed to initialise");
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* asked for, the help is the output: stdout, exit 0 (| less works) */
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("hive-cli %s\n", HIVE_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].name) != 0)
			continue;
		return verbs[i].fn(&ctx, argc - 1, argv + 1);
	}
	warnx("unknown verb '%s'", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
