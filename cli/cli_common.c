/*
 * cli_common.c - configuration and options shared by hive-cli verbs.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "util.h"

static int
cli_set_str(char *dst, size_t size, const char *arg, const char *what)
{
	if (hive_strlcpy(dst, arg, size) >= size) {
		warnx("%s: too long (at most %zu bytes)", what, size - 1);
		return -1;
	}
	return 1;
}

static int
cli_set_int(long long *out, const char *arg, long long lo, long long hi,
    const char *what)
{
	char *end;

	errno = 0;
	*out = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || *out < lo || *out > hi) {
		warnx("%s: expected an integer in %lld..%lld", what, lo, hi);
		return -1;
	}
	return 1;
}

int
cli_common_opt(struct cli_ctx *ctx, int c, const char *arg)
{
	switch (c) {
	case 'c':
		ctx->config_path = arg;
		ctx->config_explicit = 1;
		return 1;
	case 'v':
		ctx->verbose++;
		return 1;
	case 'h': case 'p': case 'u': case OPT_PREFIX: case OPT_CAFILE:
	case OPT_CAPATH: case OPT_CERT: case OPT_KEY: case OPT_PWFILE:
	case OPT_KEYS: case OPT_SIGNKEY: case OPT_MAXSKEW: case OPT_MAXTTL:
	case OPT_SOCKET:
		if (ctx->npending == CLI_MAX_PENDING) {
			warnx("too many options");
			return -1;
		}
		ctx->pending[ctx->npending].code = c;
		ctx->pending[ctx->npending++].arg = arg;
		return 1;
	}
	return 0;
}

static int
cli_apply_one(struct cli_ctx *ctx, int c, const char *arg)
{
	struct config *cfg = &ctx->cfg;
	long long n;

	switch (c) {
	case 'h':
		return cli_set_str(cfg->host, sizeof(cfg->host), arg, "--host");
	case 'p':
		if (cli_set_int(&n, arg, 1, 65535, "--port") == -1)
			return -1;
		cfg->port = (int)n;
		return 1;
	case 'u':
		return cli_set_str(cfg->username, sizeof(cfg->username), arg,
		    "--username");
	case OPT_PREFIX:
		if (!config_valid_prefix(arg)) {
			warnx("--prefix: not a valid topic prefix");
			return -1;
		}
		return cli_set_str(cfg->prefix, sizeof(cfg->prefix), arg,
		    "--prefix");
	case OPT_CAFILE:
		return cli_set_str(cfg->cafile, sizeof(cfg->cafile), arg,
		    "--cafile");
	case OPT_CAPATH:
		return cli_set_str(cfg->capath, sizeof(cfg->capath), arg,
		    "--capath");
	case OPT_CERT:
		return cli_set_str(cfg->certfile, sizeof(cfg->certfile), arg,
		    "--cert");
	case OPT_KEY:
		return cli_set_str(cfg->keyfile, sizeof(cfg->keyfile), arg,
		    "--key");
	case OPT_PWFILE:
		return cli_set_str(cfg->password_file,
		    sizeof(cfg->password_file), arg, "--password-file");
	case OPT_KEYS:
		return cli_set_str(cfg->keys_dir, sizeof(cfg->keys_dir), arg,
		    "--keys");
	case OPT_SIGNKEY:
		return cli_set_str(cfg->sign_key, sizeof(cfg->sign_key), arg,
		    "--sign-key");
	case OPT_SOCKET:
		if (arg[0] != '/') {
			warnx("--socket: expected an absolute path");
			return -1;
		}
		return cli_set_str(cfg->control_socket,
		    sizeof(cfg->control_socket), arg, "--socket");
	case OPT_MAXSKEW:
		if (cli_set_int(&n, arg, 0, 3600, "--max-skew") == -1)
			return -1;
		cfg->limits.max_skew = n;
		return 1;
	case OPT_MAXTTL:
		if (cli_set_int(&n, arg, 1, 30 * 86400, "--max-ttl") == -1)
			return -1;
		cfg->limits.max_ttl = n;
		return 1;
	}
	fatalx("cli_apply_one: impossible option %d", c);
}

/*
 * Options are collected during getopt and applied after the config
 * file is loaded, so flags override the file whatever their order and
 * -c may appear anywhere in any spelling getopt accepts.
 */
int
cli_apply(struct cli_ctx *ctx)
{
	char err[512];
	size_t i;

	if (ctx->applied++)
		return 0;
	log_init("hive-cli", ctx->verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	config_defaults(&ctx->cfg);
	if (ctx->config_path == NULL)
		ctx->config_path = CONFIG_DEFAULT_PATH;
	if (config_load(&ctx->cfg, ctx->config_path, ctx->config_explicit,
	    err, sizeof(err)) == -1) {
		warnx("%s", err);
		return -1;
	}
	for (i = 0; i < ctx->npending; i++)
		if (cli_apply_one(ctx, ctx->pending[i].code,
		    ctx->pending[i].arg) == -1)
			return -1;
	return 0;
}

void
cli_common_usage(FILE *f)
{
	fprintf(f,
	    "common options:\n"
	    "  -c, --config FILE        configuration file (default %s)\n"
	    "  -h, --host HOST          broker host (default localhost)\n"
	    "  -p, --port PORT          broker port (default 1883)\n"
	    "  -u, --username USER      broker user name\n"
	    "      --password-file FILE broker password, first line of FILE\n"
	    "      --prefix PREFIX      topic prefix (default hive)\n"
	    "      --cafile FILE        CA certificates; enables TLS\n"
	    "      --capath DIR         CA directory; enables TLS\n"
	    "      --cert FILE          client certificate (TLS)\n"
	    "      --key FILE           client certificate's key (TLS)\n"
	    "      --keys DIR           trusted keyring (default /etc/hive/keys)\n"
	    "      --sign-key FILE      sign with this key and publish directly,\n"
	    "                           instead of through the local daemon\n"
	    "      --socket PATH        the daemon's control socket\n"
	    "                           (default /run/hive/hive.sock)\n"
	    "      --max-skew S         accepted clock skew (default 60)\n"
	    "      --max-ttl S          largest accepted ttl (default 86400)\n"
	    "  -v, --verbose            more log output\n"
	    "      --help               this help\n", CONFIG_DEFAULT_PATH);
}

char *
cli_read_input(const char *path, size_t max, size_t *len)
{
	char *buf;
	size_t n = 0;
	ssize_t r = 0;
	int fd = 0;

	if (strcmp(path, "-") != 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		warn("%s", path);
		return NULL;
	}
	if ((buf = malloc(max + 2)) == NULL)
		err(EXIT_USAGE, "malloc");
	/* read one byte past max so that oversize input is seen as such */
	while (n < max + 1) {
		r = read(fd, buf + n, max + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (fd != 0)
		close(fd);
	if (r == -1) {
		warn("%s", path);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}
