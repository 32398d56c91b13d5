/*
 * config.c - the hive.conf parser.
 *
 * A sorted keyword table (bsearch), one value per keyword, duplicates
 * and unknown keywords are errors with file:line, as OpenSMTPD and
 * sshd do it.  Values are single tokens; paths cannot contain blanks.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define CONFIG_FILE_MAX	(256 * 1024)

enum config_type { CT_STR, CT_INT, CT_PREFIX, CT_NODES, CT_ABSPATH, CT_LIST,
	CT_PORT, CT_AUTOYESNO };

struct config_kw {
	const char	*name;
	enum config_type type;
	size_t		 off;	/* offset of the field in struct config */
	size_t		 size;	/* CT_STR: buffer size */
	long long	 min, max;	/* CT_INT */
	int		 is_ll;	/* CT_INT stored as int64_t, else int */
};

#define KW_STR(n, f) { n, CT_STR, offsetof(struct config, f), \
	sizeof(((struct config *)0)->f), 0, 0, 0 }
#define KW_INT(n, f, lo, hi) { n, CT_INT, offsetof(struct config, f), 0, \
	lo, hi, 0 }
#define KW_LL(n, f, lo, hi) { n, CT_INT, offsetof(struct config, f), 0, \
	lo, hi, 1 }

#define KW_T(n, f, t) { n, t, offsetof(struct config, f), \
	sizeof(((struct config *)0)->f), 0, 0, 0 }

/* Sorted by name: config_find() uses bsearch. */
static const struct config_kw config_kws[] = {
	KW_INT("audit_keep", audit_keep, 0, 100),
	KW_LL("audit_max_size", audit_max_size, 4096, 1LL << 40),
	KW_STR("cafile", cafile),
	KW_T("capabilities", capabilities, CT_LIST),
	KW_STR("capath", capath),
	KW_STR("certfile", certfile),
	KW_T("control_socket", control_socket, CT_ABSPATH),
	KW_LL("control_timeout", control_timeout, 1, 3600),
	KW_LL("corr_ttl", corr_ttl, 1, 30 * 86400),
	KW_T("handler_state_dir", handler_state_dir, CT_ABSPATH),
	KW_T("handlers_dir", handlers_dir, CT_ABSPATH),
	KW_LL("heartbeat_interval", heartbeat_interval, 1, 3600),
	KW_STR("host", host),
	KW_LL("inject_share", inject_share, 1, 512),
	KW_STR("keyfile", keyfile),
	KW_STR("keys", keys_dir),
	KW_T("log_dir", log_dir, CT_ABSPATH),
	KW_T("log_timestamps", log_timestamps, CT_AUTOYESNO),
	KW_LL("max_skew", limits.max_skew, 0, 3600),
	KW_LL("max_ttl", limits.max_ttl, 1, 30 * 86400),
	{ "node", CT_NODES, offsetof(struct config, nodes),
	    sizeof(((struct config *)0)->nodes), 0, 0, 0 },
	{ "openclaw", CT_ABSPATH, offsetof(struct config, openclaw),
	    sizeof(((struct config *)0)->openclaw), 0, 0, 0 },
	{ "openclaw_port", CT_PORT, offsetof(struct config, openclaw_port), 0,
	    0, 65535, 0 },
	KW_STR("password_file", password_file),
	KW_T("pid_file", pid_file, CT_ABSPATH),
	KW_T("policy_dir", policy_dir, CT_ABSPATH),
	KW_INT("port", port, 1, 65535),
	{ "prefix", CT_PREFIX, offsetof(struct config, prefix),
	    sizeof(((struct config *)0)->prefix), 0, 0, 0 },
	KW_T("role", role, CT_LIST),
	KW_STR("secret_dir", secret_dir),
	KW_STR("sign_key", sign_key),
	KW_STR("state_dir", state_dir),
	KW_STR("user", user),
	KW_STR("username", username),
	KW_LL("window_capacity", window_capacity, 16, 100000000),
	KW_LL("window_share", window_share, 0, 100000000),
};
#define CONFIG_NKWS (sizeof(config_kws) / sizeof(config_kws[0]))

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	hive_strlcpy(c->host, "localhost", sizeof(c->host));
	c->port = 1883;
	hive_strlcpy(c->prefix, "hive", sizeof(c->prefix));
	hive_strlcpy(c->keys_dir, "/etc/hive/keys", sizeof(c->keys_dir));
	hive_strlcpy(c->state_dir, "/var/lib/hive", sizeof(c->state_dir));
	c->window_capacity = 1000000;
	hive_strlcpy(c->secret_dir, "/etc/hive/secret", sizeof(c->secret_dir));
	hive_strlcpy(c->user, "hive", sizeof(c->user));
	c->heartbeat_interval = 5;
	hive_strlcpy(c->openclaw, "/usr/local/bin/openclaw",
	    sizeof(c->openclaw));
	envelope_limits_default(&c->limits);
	hive_strlcpy(c->control_socket, "/run/hive/hive.sock",
	    sizeof(c->control_socket));
	hive_strlcpy(c->pid_file, "/run/hive/hive-daemon.pid",
	    sizeof(c->pid_file));
	c->control_timeout = 10;
	c->corr_ttl = 3600;
	c->inject_share = 64;
	hive_strlcpy(c->log_dir, "/var/log/hive", sizeof(c->log_dir));
	hive_strlcpy(c->log_timestamps, "auto", sizeof(c->log_timestamps));
	c->audit_max_size = 10 * 1024 * 1024;
	c->audit_keep = 5;
	hive_strlcpy(c->role, "member", sizeof(c->role));
	hive_strlcpy(c->policy_dir, "/etc/hive/policy", sizeof(c->policy_dir));
	hive_strlcpy(c->handlers_dir, "/etc/hive/handlers.d",
	    sizeof(c->handlers_dir));
	hive_strlcpy(c->handler_state_dir, "/var/lib/hive-handlers",
	    sizeof(c->handler_state_dir));
}

/* "a,b": words of [A-Za-z0-9._-] (user names, uids, capability names),
 * or "*" alone */
static int
config_valid_list(const char *val)
{
	size_t i, word = 0;

	if (strcmp(val, "*") == 0)
		return 0;
	for (i = 0; val[i] != '\0'; i++) {
		char ch = val[i];

		if (ch == ',') {
			if (word == 0)
				return -1;
			word = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-')
			word++;
		else
			return -1;
	}
	return word > 0 ? 0 : -1;
}

int
config_valid_prefix(const char *p)
{
	size_t i, n = strlen(p);

	if (n == 0 || n >= 128 || p[0] == '/' || p[n - 1] == '/' ||
	    strstr(p, "//") != NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '+' || p[i] == '#')
			return 0;
	return 1;
}

/* "a,b,c": 1..CONFIG_MAX_NODES distinct valid node ids */
static int
config_valid_nodes(const char *val)
{
	char tmp[CONFIG_MAX_NODES * 66], *p, *save = NULL;
	char seen[CONFIG_MAX_NODES][NODE_MAX + 1];
	size_t n = 0, i;

	if (hive_strlcpy(tmp, val, sizeof(tmp)) >= sizeof(tmp) ||
	    val[0] == ',' || val[strlen(val) - 1] == ',' || strstr(val, ",,"))
		return -1;
	for (p = strtok_r(tmp, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (n == CONFIG_MAX_NODES || !valid_node(p))
			return -1;
		for (i = 0; i < n; i++)
			if (strcmp(seen[i], p) == 0)
				return -1;
		hive_strlcpy(seen[n++], p, NODE_MAX + 1);
	}
	return n > 0 ? 0 : -1;
}

int
config_instance_port(const struct config *c, const char *node)
{
	const char *dash = strrchr(node, '-');
	char *end;
	long n;

	if (c->openclaw_port >= 0)
		return c->openclaw_port;
	if (dash == NULL || dash[1] == '\0')
		return -1;
	n = strtol(dash + 1, &end, 10);
	return *end == '\0' && n >= 1 && n <= 65535 ? (int)n : -1;
}

size_t
config_nodes(const struct config *c, char out[][NODE_MAX + 1])
{
	char tmp[CONFIG_MAX_NODES * 66], *p, *save = NULL;
	size_t n = 0;

	hive_strlcpy(tmp, c->nodes, sizeof(tmp));
	for (p = strtok_r(tmp, ",", &save); p && n < CONFIG_MAX_NODES;
	    p = strtok_r(NULL, ",", &save))
		hive_strlcpy(out[n++], p, NODE_MAX + 1);
	return n;
}

static int
config_kwcmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct config_kw *)elem)->name);
}

static const struct config_kw *
config_find(const char *name)
{
	return bsearch(name, config_kws, CONFIG_NKWS, sizeof(config_kws[0]),
	    config_kwcmp);
}

static int
config_set(struct config *c, const struct config_kw *kw, const char *val)
{
	char *end, *field = (char *)c + kw->off;
	long long n;

	switch (kw->type) {
	case CT_NODES:
		if (config_valid_nodes(val) == -1)
			return -1;
		return hive_strlcpy(field, val, kw->size) < kw->size ? 0 : -1;
	case CT_LIST:
		if (config_valid_list(val) == -1)
			return -1;
		return hive_strlcpy(field, val, kw->size) < kw->size ? 0 : -1;
	case CT_AUTOYESNO:
		if (strcmp(val, "auto") != 0 && strcmp(val, "yes") != 0 &&
		    strcmp(val, "no") != 0)
			return -1;
		return hive_strlcpy(field, val, kw->size) < kw->size ? 0 : -1;
	case CT_ABSPATH:
		if (val[0] != '/')
			return -1;
		return hive_strlcpy(field, val, kw->size) < kw->size ? 0 : -1;
	case CT_PREFIX:
		if (!config_valid_prefix(val))
			return -1;
		/* FALLTHROUGH */
	case CT_STR:
		return hive_strlcpy(field, val, kw->size) < kw->size ? 0 : -1;
	case CT_PORT:		/* "auto": from the instance id, see config.h */
		if (strcmp(val, "auto") == 0) {
			*(int *)(void *)field = -1;
			return 0;
		}
		/* FALLTHROUGH */
	case CT_INT:
		errno = 0;
		n = strtoll(val, &end, 10);
		if (errno || end == val || *end || n < kw->min || n > kw->max)
			return -1;
		if (kw->is_ll)
			*(int64_t *)(void *)field = n;
		else
			*(int *)(void *)field = (int)n;
		return 0;
	}
	fatalx("config_set: impossible type");
}

/* What a keyword takes, for the error that refuses its value */
static void
config_expect(const struct config_kw *kw, char *buf, size_t len)
{
	switch (kw->type) {
	case CT_INT:
		snprintf(buf, len, "an integer in %lld..%lld", kw->min, kw->max);
		return;
	case CT_PORT:
		snprintf(buf, len, "auto, or an integer in %lld..%lld",
		    kw->min, kw->max);
		return;
	case CT_AUTOYESNO:
		snprintf(buf, len, "auto, yes or no");
		return;
	case CT_ABSPATH:
		snprintf(buf, len, "an absolute path of at most %zu bytes",
		    kw->size - 1);
		return;
	case CT_NODES:
		snprintf(buf, len, "1 to %d distinct node ids, comma-separated",
		    CONFIG_MAX_NODES);
		return;
	case CT_LIST:
		snprintf(buf, len, "* or words of [A-Za-z0-9._-], "
		    "comma-separated, at most %zu bytes", kw->size - 1);
		return;
	case CT_PREFIX:
		snprintf(buf, len, "printable ASCII levels, no + or #, none "
		    "empty");
		return;
	case CT_STR:
		snprintf(buf, len, "at most %zu bytes", kw->size - 1);
		return;
	}
	fatalx("config_expect: impossible type");
}

/* Split a line into keyword and single value; 0 blank, 1 ok, -1 bad. */
static int
config_split(char *line, char **kw, char **val)
{
	char *save = NULL;

	line[strcspn(line, "#\r")] = '\0';
	if ((*kw = strtok_r(line, " \t", &save)) == NULL)
		return 0;
	*val = strtok_r(NULL, " \t", &save);
	if (*val == NULL || strtok_r(NULL, " \t", &save) != NULL)
		return -1;
	return 1;
}

static int
config_line(struct config *c, char *line, int *seen,
    const char *name, int lineno, char *err, size_t errlen)
{
	const struct config_kw *kw;
	char *k, *v, want[96];
	int r;

	if ((r = config_split(line, &k, &v)) <= 0) {
		if (r < 0)
			snprintf(err, errlen, "%s:%d: expected 'keyword value'",
			    name, lineno);
		return r;
	}
	if ((kw = config_find(k)) == NULL) {
		snprintf(err, errlen, "%s:%d: unknown keyword '%.64s'", name,
		    lineno, k);
		return -1;
	}
	if (seen[kw - config_kws] != 0) {
		snprintf(err, errlen, "%s:%d: duplicate keyword '%s'", name,
		    lineno, kw->name);
		return -1;
	}
	seen[kw - config_kws] = lineno;
	if (config_set(c, kw, v) == -1) {
		config_expect(kw, want, sizeof(want));
		snprintf(err, errlen, "%s:%d: bad value for '%s' (%s)", name,
		    lineno, kw->name, want);
		return -1;
	}
	return 1;
}

int64_t
config_window_share(const struct config *c)
{
	return c->window_share != 0 ? c->window_share :
	    c->window_capacity / 4;
}

/* What one keyword cannot check alone; seen[] holds each one's line. */
static int
config_finish(struct config *c, const int *seen, const char *name,
    char *err, size_t errlen)
{
	int line = seen[config_find("window_share") - config_kws];

	if (c->window_share > c->window_capacity) {
		snprintf(err, errlen, "%s:%d: window_share %lld is more than "
		    "window_capacity %lld", name, line,
		    (long long)c->window_share,
		    (long long)c->window_capacity);
		return -1;
	}
	c->window_share = config_window_share(c);
	return 0;
}

int
config_parse(struct config *c, const char *text, size_t len,
    const char *name, char *err, size_t errlen)
{
	int seen[CONFIG_NKWS] = { 0 };
	char *copy, *line, *next;
	int lineno = 0, rc = 0;

	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: NUL byte in file", name);
		return -1;
	}
	if ((copy = malloc(len + 1)) == NULL)
		fatal("config_parse");
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line != NULL && rc != -1; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		lineno++;
		rc = config_line(c, line, seen, name, lineno, err, errlen);
	}
	free(copy);
	if (rc == -1)
		return -1;
	return config_finish(c, seen, name, err, errlen);
}

int
config_check_fd(int fd, const char *path, off_t max, char *err,
    size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: writable by group or others; "
		    "refusing", path);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not root or the "
		    "caller; refusing", path, (unsigned)st.st_uid);
		return -1;
	}
	if (st.st_size > max) {
		snprintf(err, errlen, "%s: too large", path);
		return -1;
	}
	return 0;
}

int
config_open_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, errno == ENOTDIR ||
		    errno == ELOOP ? "not a directory (or a symbolic link)" :
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || (st.st_uid != 0 &&
	    st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "%s: not owned by root (or us), or "
		    "group/world writable; refusing", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* An ancestor of a private directory: whoever can write it can swap
 * the directory for one of their own, unless the sticky bit stops
 * them (/tmp). */
static int
config_ancestor_ok(const struct stat *st, uid_t user)
{
	if (st->st_uid != 0 && st->st_uid != geteuid() && st->st_uid != user)
		return 0;
	return (st->st_mode & (S_IWGRP | S_IWOTH)) == 0 ||
	    (st->st_mode & S_ISVTX) != 0;
}

int
config_check_private_dir(const char *path, uid_t user, char *err,
    size_t errlen)
{
	char up[CONFIG_PATH_MAX], *slash;
	struct stat st;
	int fd, e;

	/* O_PATH: the router's state_dir is not ours to read */
	if ((fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, e == ENOTDIR ||
		    e == ELOOP ? "not a directory (or a symbolic link)" :
		    strerror(e));
		return e == ENOENT ? 1 : -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISDIR(st.st_mode))
		fatal("fstat %s", path);
	close(fd);
	if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != user) {
		snprintf(err, errlen, "%s: owned by uid %u, not root, us or "
		    "hive.conf's user; refusing", path, (unsigned)st.st_uid);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "%s: mode %04o, open to group or "
		    "others; refusing (chmod 700)", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (hive_strlcpy(up, path, sizeof(up)) >= sizeof(up))
		fatalx("config_check_private_dir: path too long");
	while ((slash = strrchr(up, '/')) != NULL) {
		if (slash == up)
			slash[1] = '\0';	/* "/" itself, last */
		else
			*slash = '\0';
		if (stat(up, &st) == -1 || !config_ancestor_ok(&st, user)) {
			snprintf(err, errlen, "%s: its parent %s is writable by "
			    "someone other than root, us or hive.conf's user; "
			    "refusing", path, up);
			return -1;
		}
		if (slash == up)
			break;
	}
	return 0;
}

int
config_load(struct config *c, const char *path, int must_exist, char *err,
    size_t errlen)
{
	char *text;
	ssize_t n;
	int fd, rc = -1;

	/* O_NONBLOCK: a FIFO put there must not hang us in open() before
	 * config_check_fd can refuse it */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((text = malloc(CONFIG_FILE_MAX + 1)) == NULL)
		fatal("config_load");
	if (config_check_fd(fd, path, CONFIG_FILE_MAX, err, errlen) == 0) {
		n = read(fd, text, CONFIG_FILE_MAX + 1);
		if (n < 0 || n > CONFIG_FILE_MAX)
			snprintf(err, errlen, "%s: read failed", path);
		else
			rc = config_parse(c, text, (size_t)n, path, err, errlen);
	}
	free(text);
	close(fd);
	return rc;
}

void
config_print(const struct config *c, FILE *fp)
{
	const struct config_kw *kw;
	const char *field;
	size_t i;

	for (i = 0; i < CONFIG_NKWS; i++) {
		kw = &config_kws[i];
		field = (const char *)c + kw->off;
		if (kw->type == CT_PORT && *(const int *)(const void *)field < 0)
			fprintf(fp, "%s auto\n", kw->name);
		else if (kw->type != CT_INT && kw->type != CT_PORT) {
			if (field[0] != '\0')
				fprintf(fp, "%s %s\n", kw->name, field);
		} else if (kw->is_ll)
			fprintf(fp, "%s %lld\n", kw->name,
			    (long long)*(const int64_t *)(const void *)field);
		else
			fprintf(fp, "%s %d\n", kw->name,
			    *(const int *)(const void *)field);
	}
}
