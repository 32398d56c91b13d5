/*
 * cli_policy.c - "hive-cli policy explain": what the local policy
 * would decide for one sender, channel and action, and which line
 * decides it.  It reads the same files with the same parser as the
 * daemon (no daemon needed), so an auditor can ask "could node X make
 * this box run Y?" and get the line number to look at.
 */
#include <err.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "envelope.h"
#include "keys.h"
#include "policy.h"

enum { OPT_FROM = OPT__FIRST_VERB_OPT, OPT_CH, OPT_ACTION };

static void
policy_usage(FILE *f)
{
	fprintf(f, "usage: hive-cli policy explain --from NODE --ch CH "
	    "[--action ACTION] [-c FILE]\n"
	    "Prints what {policy_dir}/hive.policy decides for a verified "
	    "message from NODE\non channel CH (with ACTION, or without an "
	    "action), and why; then the rate\nthat applies to NODE.\n"
	    "exit: 0 allow, 1 deny, 2 usage or policy error\n");
	cli_common_usage(f);
}

/* "rate<TAB>20/s burst 100 (hive.policy:7)" or "(default)" */
static void
policy_explain_rate(const struct policy *p, const char *from)
{
	const struct policy_rate *r = policy_rate_for(p, from);
	char rate[32];

	policy_fmt_rate(r->per_sec, rate, sizeof(rate));
	if (r->line > 0)
		printf("rate\t%s burst %u (%s:%d)\n", rate, r->burst,
		    POLICY_FILE, r->line);
	else
		printf("rate\t%s burst %u (default)\n", rate, r->burst);
}

static int
policy_explain(struct cli_ctx *ctx, const char *from, const char *chname,
    const char *action)
{
	static struct policy pol;	/* large: not on the stack */
	struct policy_verdict v;
	enum envelope_ch ch;
	char err[1024];

	if (!valid_node(from)) {
		warnx("--from: not a valid node id");
		return EXIT_USAGE;
	}
	if (envelope_ch_parse(chname, &ch) == -1) {
		warnx("--ch: expected heartbeat, status, command, response, "
		    "alert or sync");
		return EXIT_USAGE;
	}
	if (action != NULL && !envelope_valid_action(action)) {
		warnx("--action: not a valid action name");
		return EXIT_USAGE;
	}
	if (cli_apply(ctx) == -1)
		return EXIT_USAGE;
	if (policy_load(&pol, &ctx->cfg, err, sizeof(err)) == -1) {
		warnx("%s", err);
		return EXIT_USAGE;
	}
	policy_check(&pol, from, ch, action, &v);
	printf("%s\t%s\n", v.allow ? "allow" : "deny", v.why);
	policy_explain_rate(&pol, from);
	policy_free(&pol);
	if (fflush(stdout) != 0)
		return EXIT_USAGE;
	return v.allow ? 0 : EXIT_REFUSED;
}

/* policy explain --from NODE --ch CH [--action A] */
int
cmd_policy(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_LONG,
		{ "from", required_argument, NULL, OPT_FROM },
		{ "ch", required_argument, NULL, OPT_CH },
		{ "action", required_argument, NULL, OPT_ACTION },
		{ NULL, 0, NULL, 0 }
	};
	const char *from = NULL, *ch = NULL, *action = NULL;
	int c;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		policy_usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "explain") != 0) {
		policy_usage(stderr);
		return EXIT_USAGE;
	}
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, opts, NULL)) !=
	    -1) {
		if (c == OPT_HELP) {
			policy_usage(stdout);
			return 0;
		} else if (c == OPT_FROM)
			from = optarg;
		else if (c == OPT_CH)
			ch = optarg;
		else if (c == OPT_ACTION)
			action = optarg;
		else if (cli_common_opt(ctx, c, optarg) != 1) {
			policy_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || from == NULL || ch == NULL) {
		policy_usage(stderr);
		return EXIT_USAGE;
	}
	return policy_explain(ctx, from, ch, action);
}
