/*
 * cli_reload.c - reload: SIGHUP to the local hive-daemon's monitor.
 *
 * The router and the injectors are re-executed copies of the same
 * program, so "pidof hive-daemon" cannot tell the monitor from them.
 * The monitor writes its pid to hive.conf's pid_file; the pid read
 * there is checked to be a running hive-daemon monitor (not a child
 * role, not a process that took a stale file's pid) before it is
 * signalled.
 */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pidfile.h"

enum { OPT_PIDFILE = OPT__FIRST_VERB_OPT };

static void
reload_usage(FILE *f)
{
	fprintf(f, "usage: hive-cli reload [-c FILE] [--pid-file FILE]\n"
	    "SIGHUP to the local hive-daemon's monitor, whose pid is in "
	    "hive.conf's\npid_file: it reloads node keys, keyring, policy "
	    "and handlers (all or\nnothing) and logs the outcome.\n"
	    "  -c, --config FILE    configuration naming pid_file "
	    "(default %s)\n"
	    "      --pid-file FILE  the pid file (default: pid_file's, "
	    "/run/hive/hive-daemon.pid)\n"
	    "      --help           this help\n"
	    "exit: 0 signalled, 2 usage, configuration or permission,\n"
	    "      3 hive-daemon not running (no pid file, or a stale one)\n",
	    CONFIG_DEFAULT_PATH);
}

/* SIGHUP to the monitor named in path: an exit code. */
static int
reload_signal(const char *path)
{
	char err[1024];
	pid_t pid;

	if (pidfile_read(path, &pid, err, sizeof(err)) == -1) {
		if (errno != ENOENT) {
			warnx("%s", err);
			return EXIT_USAGE;
		}
		warnx("%s: no pid file: hive-daemon is not running (or "
		    "pid_file names another file)", path);
		return EXIT_BROKER;
	}
	if (!pidfile_is_monitor(pid)) {
		warnx("%s: pid %ld is not a running hive-daemon: stale pid "
		    "file", path, (long)pid);
		return EXIT_BROKER;
	}
	if (kill(pid, SIGHUP) == -1) {
		warn("SIGHUP to hive-daemon pid %ld", (long)pid);
		return errno == ESRCH ? EXIT_BROKER : EXIT_USAGE;
	}
	printf("hive-daemon pid %ld: SIGHUP sent; it reloads and logs the "
	    "outcome\n", (long)pid);
	return EXIT_VALID;
}

int
cmd_reload(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pid-file", required_argument, NULL, OPT_PIDFILE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	const char *pid_file = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			reload_usage(stdout);
			return EXIT_VALID;
		}
		if (c == OPT_PIDFILE)
			pid_file = optarg;
		else if (c != 'c' || cli_common_opt(ctx, c, optarg) != 1) {
			reload_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		reload_usage(stderr);
		return EXIT_USAGE;
	}
	if (cli_apply(ctx) == -1)
		return EXIT_USAGE;
	return reload_signal(pid_file != NULL ? pid_file : ctx->cfg.pid_file);
}
