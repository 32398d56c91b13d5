/*
 * cli_verify.c - "verify": one envelope through parse, schema, key
 * binding, signature and (unless --no-time) freshness.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "envelope.h"

static void
verify_usage(FILE *f)
{
	fprintf(f, "usage: hive-cli verify [--keys DIR] [--no-time] "
	    "[FILE|-]\n"
	    "Prints 'valid ...' or 'refused reason=R ...'.\n"
	    "exit: 0 valid, 1 refused, 2 usage or I/O error\n");
	cli_common_usage(f);
}

/* Returns the verdict for buf; prints one line. */
static int
verify_one(struct cli_ctx *ctx, const char *buf, size_t len, int check_time)
{
	struct envelope e;
	struct refusal why = { 0 };
	struct keyring kr;
	char err[1024];
	int rc = -1;

	if (keyring_load(ctx->cfg.keys_dir, &kr, err, sizeof(err)) == -1) {
		warnx("%s", err);
		return EXIT_USAGE;
	}
	if (envelope_parse(buf, len, &ctx->cfg.limits, 0, &e, &why) == 0) {
		rc = envelope_verify_sig(&e, &kr, &why);
		if (rc == 0 && check_time)
			rc = envelope_check_time(&e, &ctx->cfg.limits,
			    (int64_t)time(NULL), &why);
	}
	if (rc == 0)
		printf("valid from=%s id=%s ch=%s kid=%s\n", e.from, e.id,
		    envelope_ch_name(e.ch), e.kid);
	else
		printf("refused reason=%s detail=\"%s\"\n",
		    refusal_name(why.reason), why.detail);
	envelope_free(&e);
	keyring_free(&kr);
	return rc == 0 ? EXIT_VALID : EXIT_REFUSED;
}

int
cmd_verify(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_LONG,
		{ "no-time", no_argument, NULL, OPT__FIRST_VERB_OPT },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = "-";
	char *buf;
	size_t len;
	int c, r, check_time = 1;

	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			verify_usage(stdout);
			return 0;
		}
		if (c == OPT__FIRST_VERB_OPT) {
			check_time = 0;
			continue;
		}
		if ((r = cli_common_opt(ctx, c, optarg)) != 1) {
			verify_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		verify_usage(stderr);
		return EXIT_USAGE;
	}
	if (cli_apply(ctx) == -1)
		return EXIT_USAGE;
	if (optind < argc)
		path = argv[optind];
	if ((buf = cli_read_input(path, ENVELOPE_MAX_WIRE, &len)) == NULL)
		return EXIT_USAGE;
	r = verify_one(ctx, buf, len, check_time);
	free(buf);
	return r;
}
