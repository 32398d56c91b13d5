/*
 * daemon.c - hive-daemon's entry point: options, configuration, and
 * the choice of role.  The monitor re-executes this binary with
 * "-P router" and "-P injector", so each child starts from a fresh
 * address space holding none of the monitor's heap (secret keys
 * included), as OpenNTPD and OpenSMTPD do.
 */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "log.h"

/* A child role stops on SIGTERM/SIGINT through its own flag and never
 * dies of SIGPIPE: a closed link is seen as an error return instead. */
void
daemon_child_signals(void (*on_term)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR)
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

static void
usage(void)
{
	fprintf(stderr, "usage: hive-daemon [-dfn] [-c FILE]\n"
	    "  -c FILE  configuration (default %s)\n"
	    "  -d       debug logging\n"
	    "  -f       foreground (logs to stderr; the default under systemd)\n"
	    "  -n       check the configuration, print it normalised, exit\n",
	    CONFIG_DEFAULT_PATH);
	exit(2);
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

int
main(int argc, char *argv[])
{
	struct daemon_opts o = { CONFIG_DEFAULT_PATH, 0, 0, -1 };
	static struct policy pol;
	struct config cfg;
	const char *role = NULL;
	char errbuf[1024];
	int c, check = 0;

	while ((c = getopt(argc, argv, "c:dfI:nP:")) != -1) {
		switch (c) {
		case 'c': o.config_path = optarg; break;
		case 'd': o.debug = 1; break;
		case 'f': o.foreground = 1; break;
		case 'I': o.slot = daemon_slot(optarg); break;
		case 'n': check = 1; break;
		case 'P': role = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init(role ? role : "monitor", o.debug ? LOG_LVL_DEBUG :
	    LOG_LVL_INFO);
	if (sodium_init() < 0)
		errx(2, "libsodium failed to initialise");
	config_defaults(&cfg);
	if (config_load(&cfg, o.config_path, 1, errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", errbuf);
	daemon_check_config(&cfg);
	if (check) {
		config_print(&cfg, stdout);
		return 0;
	}
	if (policy_load(&pol, &cfg, errbuf, sizeof(errbuf)) == -1)
		errx(2, "%s", errbuf);
	if (role != NULL)
		return daemon_role(role, &o, &cfg, &pol);
	return monitor_main(&o, &cfg, &pol);
}
