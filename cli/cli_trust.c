/*
 * cli_trust.c - "admin keygen" and "trust show|add|remove|revoke".
 *
 * Only hive-cli ever holds an admin secret key; no daemon loads one.
 * The trust verbs work on files here (--from, --out): publishing to
 * the bus is not done yet.
 */
#include <err.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "keys.h"

static void
admin_usage(FILE *f)
{
	fprintf(f, "usage: hive-cli admin keygen [--dir DIR]\n"
	    "Writes DIR/admin.key (mode 0600) and DIR/admin.pub; never\n"
	    "overwrites.  Prints the admin key id (kid).  DIR defaults to '.'.\n"
	    "An admin key signs trust lists; keep it off the bus machines.\n"
	    "Its tags differ from a node key's: neither loads as the other.\n"
	    "Takes no common options and reads no configuration.\n"
	    "  --dir DIR    directory to write into (default .)\n"
	    "  --help       this help\n"
	    "exit: 0 ok, 2 usage, I/O or refusing to overwrite\n");
}

int
cmd_admin(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = ".";
	char kid[KID_HEX_LEN + 1], err[1024];
	int c;

	(void)ctx;
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		admin_usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "keygen") != 0) {
		admin_usage(stderr);
		return EXIT_USAGE;
	}
	argc--, argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case OPT_HELP: admin_usage(stdout); return 0;
		default: admin_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		admin_usage(stderr);
		return EXIT_USAGE;
	}
	if (admin_key_generate(dir, kid, err, sizeof(err)) == -1) {
		warnx("%s", err);
		return EXIT_USAGE;
	}
	printf("%s\n", kid);
	return 0;
}
