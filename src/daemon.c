/*
 * daemon.c - hive-daemon's entry point: options, configuration, and
 * the choice of role.  The monitor re-executes this binary with
 * "-P router" and "-P injector", so each child starts from a fresh
 * address space holding none of the monitor's heap (secret keys
 * included), as OpenNTPD and OpenSMTPD do.
 */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "attach.h"
#include "daemon.h"
#include "monitor_handlers.h"
#include "keys.h"
#include "log.h"
#include "policy.h"
#include "window.h"

/*
 * A child role stops on SIGTERM/SIGINT through its own flag and never
 * dies of SIGPIPE: a closed link is seen as an error return instead.
 * SIGHUP, whose default would kill it (and so the whole daemon), sets
 * another flag: the role passes it on to the monitor.  A handler, not
 * SIG_IGN, which the openclaw CLI would inherit across execve.
 */
void
daemon_child_signals(void (*on_term)(int), void (*on_hup)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("sigaction");
	sa.sa_handler = on_hup;
	if (sigaction(SIGHUP, &sa, NULL) == -1)
		fatal("sigaction");
}

/* -I N: an injector slot, 0..CONFIG_MAX_NODES-1 */
static int
daemon_slot(const char *s)
{
	if (s[0] < '0' || s[0] >= '0' + CONFIG_MAX_NODES || s[1] != '\0')
		errx(2, "bad injector slot '%s'", s);
	return s[0] - '0';
}

static int
daemon_yesno(const char *s)
{
	if (strcmp(s, "yes") == 0)
		return 1;
	if (strcmp(s, "no") == 0)
		return 0;
	errx(2, "-T: expected yes or no, not '%s'", s);
}

/*
 * log_timestamps: "auto" stamps lines unless stderr is the journal,
 * which stamps them itself.  Only a process that systemd started can
 * tell (JOURNAL_STREAM against its own fd 2): the monitor decides and
 * hands the decision to the children it executes (-T), whose
 * environment need not hold the variable; a role started on its own
 * (split mode) decides for itself.
 */
static void
daemon_log_timestamps(struct daemon_opts *o, const struct config *cfg)
{
	if (o->log_ts == -1) {
		if (strcmp(cfg->log_timestamps, "auto") == 0)
			o->log_ts = !log_stderr_is_journal();
		else
			o->log_ts = strcmp(cfg->log_timestamps, "yes") == 0;
	}
	log_set_timestamps(o->log_ts);
}

/* --help: the usage on stdout, exit 0; a usage error: on stderr, exit 2 */
static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: hive-daemon [-dfn] [-A socket] [-c FILE]\n"
	    "       hive-daemon --check-policy [-c FILE]\n"
	    "       hive-daemon --reset-window [-c FILE]\n"
	    "       hive-daemon -h | --help | --version\n"
	    "  -A socket  split mode (one service unit per role): the "
	    "monitor\n"
	    "           listens there for the router and the injectors and\n"
	    "           starts no children (hive-daemon(8), docs/systemd.md)\n"
	    "  -c FILE  configuration (default %s)\n"
	    "  -d       debug logging\n"
	    "  -f       foreground (logs to stderr; the default under systemd)\n"
	    "  -n       check the configuration, print it normalised, exit\n"
	    "  --check-policy  load the configuration, the policy and the\n"
	    "           keyring; print the effective policy; exit 0, or 1\n"
	    "  --reset-window  with the daemon stopped: replace the replay\n"
	    "           window by an empty one whose floor is now + max_skew\n"
	    "           (docs/operations.md); exit 0, or 1\n"
	    "  -h, --help  this text on stdout, exit 0\n"
	    "  --version  print \"hive-daemon %s\", exit 0\n",
	    CONFIG_DEFAULT_PATH, HIVE_VERSION);
	exit(status);
}

static int
daemon_role(const char *role, const struct daemon_opts *o,
    const struct config *cfg, struct policy *pol)
{
	if (strcmp(role, "router") == 0)
		return router_main(o, cfg, pol);
	if (strcmp(role, "injector") == 0)
		return injector_main(o, cfg, pol);
	errx(2, "unknown role '%s'", role);
}

/* What every role needs from the file: refuse to start without it. */
static void
daemon_check_config(const struct config *cfg)
{
	char nodes[CONFIG_MAX_NODES][NODE_MAX + 1];
	size_t i, n;

	if (cfg->nodes[0] == '\0')
		errx(2, "configuration names no 'node'");
	n = config_nodes(cfg, nodes);
	for (i = 0; i < n; i++)
		if (config_instance_port(cfg, nodes[i]) == -1)
			errx(2, "openclaw_port auto: node %s does not end in "
			    "-PORT", nodes[i]);
}

/* What the daemon loads before it starts, in that order; the first
 * error in err.  0 or -1. */
static int
daemon_load_policy(const char *config_path, struct config *cfg,
    struct policy *pol, struct keyring *kr, char *err, size_t errlen)
{
	config_defaults(cfg);
	if (config_load(cfg, config_path, 1, err, errlen) == -1)
		return -1;
	if (cfg->nodes[0] == '\0') {
		snprintf(err, errlen, "%s: configuration names no 'node'",
		    config_path);
		return -1;
	}
	if (monitor_check_dirs(cfg, 1, err, errlen) == -1)
		return -1;
	if (policy_load(pol, cfg, err, errlen) == -1)
		return -1;
	if (keyring_load(cfg->keys_dir, kr, err, errlen) == -1) {
		policy_free(pol);
		return -1;
	}
	return 0;
}

/*
 * --check-policy: everything the daemon would refuse to start on, then
 * the effective policy on stdout.  Exit 1 on the first error
 * ("hive-daemon: FILE:LINE: why"), so a deploy script can gate on it.
 */
static int
daemon_check_policy(const char *config_path)
{
	static struct policy pol;	/* large: not on the stack */
	struct config cfg;
	struct keyring kr;
	char err[1024];

	if (daemon_load_policy(config_path, &cfg, &pol, &kr, err,
	    sizeof(err)) == -1) {
		warnx("%s", err);
		return 1;
	}
	policy_print(&pol, stdout);
	/* the handlers directory against the policy's blocks, and each
	 * handler's seccomp profile compiled, as the monitor will */
	if (mh_check(&cfg, &pol, stdout, err, sizeof(err)) == -1) {
		warnx("%s", err);
		keyring_free(&kr);
		policy_free(&pol);
		return 1;
	}
	keyring_free(&kr);
	policy_free(&pol);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

/*
 * --reset-window: the operator's way out of a torn or corrupt window
 * file, or of one restored from a backup (docs/operations.md).  The new
 * window refuses every envelope with ts <= now + max_skew as
 * window-reset, since the forgotten one may have accepted it.  It runs
 * as the router would (privdrop to `user` when we can switch), so the
 * file belongs to the account that will open it, and it fails while a
 * daemon holds the file's lock.
 */
static int
daemon_reset_window(const char *config_path)
{
	struct config cfg;
	struct window *w;
	enum window_open_status st;
	char path[2048], err[1024];
	int64_t floor;

	config_defaults(&cfg);
	if (config_load(&cfg, config_path, 1, err, sizeof(err)) == -1)
		errx(2, "%s", err);
	privdrop(cfg.user, "reset-window");
	snprintf(path, sizeof(path), "%s/window", cfg.state_dir);
	st = window_open(path, (size_t)cfg.window_capacity, time(NULL),
	    cfg.limits.max_skew, WINDOW_RESET, &w, err, sizeof(err));
	if (w == NULL) {
		warnx("replay window %s: %s", window_open_status_name(st), err);
		return 1;
	}
	floor = window_floor(w);
	window_free(w);
	printf("%s: reset; envelopes with ts <= %lld are refused as "
	    "window-reset\n", path, (long long)floor);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check-policy", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'H' },
		{ "reset-window", no_argument, NULL, 'R' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon_opts o = { CONFIG_DEFAULT_PATH, 0, 0, -1, NULL, -1 };
	static struct policy pol;
	struct config cfg;
	const char *role = NULL;
	char errbuf[1024];
	int c, check = 0, check_policy = 0, reset_window = 0;

	while ((c = getopt_long(argc, argv, "A:c:dfhI:nP:T:", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'A': o.attach = optarg; break;
		case 'C': check_policy = 1; break;
		case 'c': o.config_path = optarg; break;
		case 'd': o.debug = 1; break;
		case 'f': o.foreground = 1; break;
		case 'h':
		case 'H': usage(stdout, 0); break;
		case 'I': o.slot = daemon_slot(optarg); break;
		case 'n': check = 1; break;
		case 'P': role = optarg; break;
		case 'R': reset_window = 1; break;
		case 'T': o.log_ts = daemon_yesno(optarg); break;
		case 'V':
			printf("hive-daemon %s\n", HIVE_VERSION);
			return 0;
		default: usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	log_init(role ? role : "monitor", o.debug ? LOG_LVL_DEBUG :
	    LOG_LVL_INFO);
	if (sodium_init() < 0)
		errx(2, "libsodium failed to initialise");
	if (check_policy)
		return daemon_check_policy(o.config_path);
	if (reset_window)
		return daemon_reset_window(o.config_path);
	config_defaults(&cfg);
	if (config_load(&cfg, o.config_path, 1, errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", errbuf);
	daemon_check_config(&cfg);
	daemon_log_timestamps(&o, &cfg);
	if (check) {
		config_print(&cfg, stdout);
		return 0;
	}
	if (policy_load(&pol, &cfg, errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", errbuf);
	if (role != NULL && o.attach != NULL)
		attach_role(role, &o, &cfg, &pol);
	if (role != NULL)
		return daemon_role(role, &o, &cfg, &pol);
	return monitor_main(&o, &cfg, &pol);
}
