/*
 * cli_keys.c - "keygen" and "keys list".
 */
#include <err.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "keys.h"

static void
keygen_usage(FILE *f)
{
	fprintf(f, "usage: hive-cli keygen --node NAME [--dir DIR]\n"
	    "Writes DIR/NAME.key (mode 0600) and DIR/NAME.pub; never\n"
	    "overwrites.  Prints the key id (kid).  DIR defaults to '.'.\n"
	    "Takes no common options and reads no configuration.\n"
	    "  --node NAME  node id (required)\n"
	    "  --dir DIR    directory to write into (default .)\n"
	    "  --help       this help\n"
	    "exit: 0 ok, 2 usage, I/O or refusing to overwrite\n");
}

int
cmd_keygen(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	const char *node = NULL, *dir = ".";
	char kid[KID_HEX_LEN + 1], err[1024];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': node = optarg; break;
		case 'd': dir = optarg; break;
		case OPT_HELP: keygen_usage(stdout); return 0;
		default: keygen_usage(stderr); return EXIT_USAGE;
		}
	}
	if (node == NULL || optind != argc) {
		keygen_usage(stderr);
		return EXIT_USAGE;
	}
	if (key_generate(dir, node, kid, err, sizeof(err)) == -1) {
		warnx("%s", err);
		return EXIT_USAGE;
	}
	printf("%s\n", kid);
	return 0;
}

static void
keys_usage(FILE *f)
{
	fprintf(f, "usage: hive-cli keys list [--keys DIR] [-c FILE]\n"
	    "Lists the trusted keyring: node, kid, fingerprint, state, file,\n"
	    "then node-wide revocations.\n");
	cli_common_usage(f);
}

static void
keys_print(const struct keyring *kr)
{
	char fp[80];
	size_t i, j;
	int found;

	printf("%-24s %-16s %-72s %-8s %s\n", "NODE", "KID", "FINGERPRINT",
	    "STATE", "FILE");
	for (i = 0; i < kr->nkeys; i++) {
		key_fingerprint(kr->keys[i].pub.pk, fp, sizeof(fp));
		printf("%-24s %-16s %-72s %-8s %s\n", kr->keys[i].pub.node,
		    kr->keys[i].pub.kid, fp, key_state_name(kr->keys[i].state),
		    kr->keys[i].file);
	}
	for (j = 0; j < kr->nrevoked; j++) {
		for (found = 0, i = 0; i < kr->nkeys; i++)
			found |= strcmp(kr->keys[i].pub.kid,
			    kr->revoked_kids[j]) == 0;
		if (!found)
			printf("%-24s %-16s %-72s %-8s %s\n", "-",
			    kr->revoked_kids[j], "-", "revoked", "revoked");
	}
	for (i = 0; i < kr->nfloors; i++)
		printf("node %s: envelopes with ts before %lld revoked\n",
		    kr->floors[i].node, (long long)kr->floors[i].before);
}

int
cmd_keys(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_LONG,
		{ NULL, 0, NULL, 0 }
	};
	struct keyring kr;
	char err[1024];
	int c, r;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		keys_usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "list") != 0) {
		keys_usage(stderr);
		return EXIT_USAGE;
	}
	argc--, argv++;
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			keys_usage(stdout);
			return 0;
		}
		if ((r = cli_common_opt(ctx, c, optarg)) != 1) {
			keys_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || cli_apply(ctx) == -1)
		return EXIT_USAGE;
	if (keyring_load(ctx->cfg.keys_dir, &kr, err, sizeof(err)) == -1) {
		warnx("%s", err);
		return EXIT_USAGE;
	}
	keys_print(&kr);
	if (kr.skipped)
		warnx("%zu .pub file(s) skipped; see the warnings above",
		    kr.skipped);
	keyring_free(&kr);
	return 0;
}
