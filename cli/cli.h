/*
 * cli.h - shared pieces of hive-cli's verbs.
 *
 * Exit codes (documented in docs/cli.md; scripts and agents depend on
 * them):
 *   0  success / valid
 *   1  verification refused (verify) or no reply before the deadline
 *      (send --wait)
 *   2  usage, configuration or local I/O error
 *   3  broker error: cannot connect, subscribe or get a PUBACK
 *   4  send --wait: replies arrived but every one was refused
 * Internal errors (fatal()) also exit 2: never 1, which a script would
 * read as "refused" or "no reply".
 */
#ifndef HIVE_CLI_H
#define HIVE_CLI_H

#include <getopt.h>

#include <jansson.h>

#include "config.h"

#define EXIT_VALID	0
#define EXIT_REFUSED	1
#define EXIT_TIMEOUT	1
#define EXIT_USAGE	2
#define EXIT_BROKER	3
#define EXIT_BAD_REPLY	4
#define EXIT_REMOTE	5	/* a response said the remote work failed */

#define CLI_MAX_PENDING	64

/* Options every verb that may touch the bus or keys accepts. */
struct cli_ctx {
	struct config	 cfg;
	const char	*config_path;	/* NULL: CONFIG_DEFAULT_PATH */
	int		 config_explicit;
	int		 verbose;
	struct {
		int		 code;
		const char	*arg;
	}		 pending[CLI_MAX_PENDING];
	size_t		 npending;
	int		 applied;
};

/* long options shared by verbs; codes are >= 256 or the short letters */
enum {
	OPT_PREFIX = 256, OPT_CAFILE, OPT_CAPATH, OPT_CERT, OPT_KEY,
	OPT_PWFILE, OPT_KEYS, OPT_SIGNKEY, OPT_HELP, OPT_MAXSKEW,
	OPT_MAXTTL, OPT_SOCKET, OPT__FIRST_VERB_OPT
};

#define CLI_COMMON_SHORT "c:h:p:u:v"
#define CLI_COMMON_LONG							\
	{ "config", required_argument, NULL, 'c' },			\
	{ "host", required_argument, NULL, 'h' },			\
	{ "port", required_argument, NULL, 'p' },			\
	{ "username", required_argument, NULL, 'u' },			\
	{ "prefix", required_argument, NULL, OPT_PREFIX },		\
	{ "cafile", required_argument, NULL, OPT_CAFILE },		\
	{ "capath", required_argument, NULL, OPT_CAPATH },		\
	{ "cert", required_argument, NULL, OPT_CERT },			\
	{ "key", required_argument, NULL, OPT_KEY },			\
	{ "password-file", required_argument, NULL, OPT_PWFILE },	\
	{ "keys", required_argument, NULL, OPT_KEYS },			\
	{ "sign-key", required_argument, NULL, OPT_SIGNKEY },		\
	{ "max-skew", required_argument, NULL, OPT_MAXSKEW },		\
	{ "max-ttl", required_argument, NULL, OPT_MAXTTL },		\
	{ "socket", required_argument, NULL, OPT_SOCKET },		\
	{ "verbose", no_argument, NULL, 'v' },				\
	{ "help", no_argument, NULL, OPT_HELP }

/*
 * Each verb's getopt loop hands codes it does not know to
 * cli_common_opt(), which records them (1 handled, 0 not ours, -1 bad);
 * after the loop cli_apply() loads the config file (-c, default
 * /etc/hive/hive.conf, which may be missing) and then applies the
 * recorded flags, so flags override the file whatever their order.
 */
int cli_common_opt(struct cli_ctx *, int c, const char *arg);
int cli_apply(struct cli_ctx *);
void cli_common_usage(FILE *);

/* Read all of FILE or "-" (stdin), at most max bytes; NULL on error
 * (message printed).  *len gets the length; the buffer is NUL-ended. */
char *cli_read_input(const char *path, size_t max, size_t *len);

/*
 * cli_daemon.c: talking to the local hive-daemon over its control
 * socket (send and reply when no signing key was given; the read
 * verbs always).  req is stolen.  Returns an exit code.
 */
int cli_daemon_send(struct cli_ctx *, json_t *req, long long wait);
int cli_daemon_query(struct cli_ctx *, json_t *req, int json_out,
    const char *verb);

/* verbs */
int cmd_keygen(struct cli_ctx *, int, char **);
int cmd_keys(struct cli_ctx *, int, char **);
int cmd_admin(struct cli_ctx *, int, char **);	/* admin keygen */
int cmd_trust(struct cli_ctx *, int, char **);	/* trust show|add|... */
int cmd_verify(struct cli_ctx *, int, char **);
int cmd_send(struct cli_ctx *, int, char **);
int cmd_reply(struct cli_ctx *, int, char **);
int cmd_meta(struct cli_ctx *, int, char **);	/* status, roster, ... */
int cmd_policy(struct cli_ctx *, int, char **);	/* policy explain */
int cmd_reload(struct cli_ctx *, int, char **);
int cmd_setup(struct cli_ctx *, int, char **);

#endif
