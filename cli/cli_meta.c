/*
 * cli_meta.c - status, roster, pending, sync-status: the local
 * daemon's view of the cluster's retained meta documents, each one
 * signed and verified by the daemon before it was kept.
 */
#include <err.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "envelope.h"

enum { OPT_JSON = OPT__FIRST_VERB_OPT, OPT_META_ACTION };

static const struct {
	const char	*verb;
	const char	*what;
} meta_verbs[] = {
	{ "status", "node state from PREFIX/meta/+/state (heartbeats)" },
	{ "roster", "roles, capabilities and handlers from "
	    "PREFIX/meta/+/roster" },
	{ "pending", "outstanding commands from PREFIX/meta/corr/+" },
	{ "sync-status", "latest results of an action (default git-sync) "
	    "from PREFIX/meta/+/ACTION" },
};

static void
meta_usage(FILE *f, const char *verb)
{
	size_t i;

	for (i = 0; i < sizeof(meta_verbs) / sizeof(meta_verbs[0]); i++)
		if (strcmp(meta_verbs[i].verb, verb) == 0)
			fprintf(f, "usage: hive-cli %s [--json]%s "
			    "[--socket PATH] [-c FILE]\nShows %s, as the local "
			    "hive-daemon sees it.\n--json prints a JSON array "
			    "of documents instead of a table.\n"
			    "exit: 0 ok, 2 usage or denied, 3 daemon "
			    "unreachable\n", verb, strcmp(verb, "sync-status")
			    == 0 ? " [--action NAME]" : "", meta_verbs[i].what);
	cli_common_usage(f);
}

/* status, roster, pending, sync-status: the verb is argv[0] */
int
cmd_meta(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *verb = argv[0];
	static const struct option opts[] = {
		CLI_COMMON_LONG,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "action", required_argument, NULL, OPT_META_ACTION },
		{ NULL, 0, NULL, 0 }
	};
	const char *action = NULL;
	json_t *req;
	int c, json_out = 0;

	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			meta_usage(stdout, verb);
			return 0;
		}
		if (c == OPT_JSON)
			json_out = 1;
		else if (c == OPT_META_ACTION &&
		    strcmp(verb, "sync-status") == 0)
			action = optarg;
		else if (cli_common_opt(ctx, c, optarg) != 1) {
			meta_usage(stderr, verb);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		meta_usage(stderr, verb);
		return EXIT_USAGE;
	}
	if (action != NULL && !envelope_valid_action(action)) {
		warnx("--action: not a valid action name");
		return EXIT_USAGE;
	}
	if (cli_apply(ctx) == -1)
		return EXIT_USAGE;
	req = json_pack("{ss}", "op", verb);
	if (action != NULL)
		json_object_set_new(req, "action", json_string(action));
	return cli_daemon_query(ctx, req, json_out, verb);
}
