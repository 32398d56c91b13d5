/*
 * cli_setup.c - setup: everything one node needs, made in one command.
 *
 * The directories with the owners and modes the daemon insists on
 * (config_check_private_dir, config_open_dir), the run-as account, the
 * node key, a commented hive.conf, a default-deny hive.policy, the
 * seccomp profiles and an empty handlers directory.  With --root DIR
 * every path is under DIR, so several nodes can share one machine for
 * a trial.  Nothing is ever overwritten: every file is created with
 * O_EXCL, and the files setup writes are looked for before anything
 * is made, so a refusal leaves the tree as it was.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "keys.h"
#include "util.h"

#define SETUP_PROFILE_MAX	(64 * 1024)
#define SETUP_USER		"hive"	/* hive.conf's default `user` */

enum {
	OPT_NODE = OPT__FIRST_VERB_OPT, OPT_BROKER, OPT_ROOT, OPT_PROFILES
};

struct setup {
	const char	*node, *prefix, *cafile, *username, *pwfile;
	const char	*root;		/* --root without trailing '/', or NULL */
	char		 rootbuf[PATH_MAX];
	const char	*profiles;	/* --profiles, or NULL */
	char		 host[256];
	int		 port;
	char		 user[64];	/* the daemon's `user` */
	uid_t		 uid;
	gid_t		 gid;
	/* paths, each under root when given */
	char		 etc[PATH_MAX], conf[PATH_MAX], keys[PATH_MAX];
	char		 secret[PATH_MAX], policy[PATH_MAX], seccomp[PATH_MAX];
	char		 policy_file[PATH_MAX], handlers[PATH_MAX];
	char		 state[PATH_MAX], log[PATH_MAX], run[PATH_MAX];
	char		 hstate[PATH_MAX];
	char		 sock[PATH_MAX], pid[PATH_MAX], openclaw[PATH_MAX];
	char		 key[PATH_MAX], pub[PATH_MAX], keys_pub[PATH_MAX];
};

static void
setup_usage(FILE *f)
{
	fprintf(f, "usage: hive-cli setup --node NODE --broker HOST[:PORT] "
	    "[--root DIR] [--prefix P]\n"
	    "       [--cafile F] [--username U --password-file F] "
	    "[--profiles DIR]\n"
	    "Makes everything a node needs: directories with the owners "
	    "and modes\nhive-daemon checks, the account hive (if missing), "
	    "the node key, a\ncommented hive.conf, a default-deny "
	    "hive.policy, the seccomp profiles and\nan empty handlers "
	    "directory.  Never overwrites.  Prints the node's public\nkey "
	    "on stdout and the next step on stderr.\n"
	    "  --node NODE          node id ([a-z0-9._-], 1..64)\n"
	    "  --broker HOST[:PORT] the MQTT broker (port default 1883; "
	    "[ADDR]:PORT for IPv6)\n"
	    "  --root DIR           every path under DIR (DIR/etc/hive/"
	    "hive.conf, DIR/var/lib/hive,\n"
	    "                       DIR/run/hive, ...): several nodes on "
	    "one machine\n"
	    "  --prefix P           topic prefix (default hive)\n"
	    "  --cafile F           CA certificate: TLS to the broker\n"
	    "  --username U         broker user name (with --password-file)\n"
	    "  --password-file F    broker password file (with --username)\n"
	    "  --profiles DIR       copy the seccomp profiles from DIR "
	    "(default: the\n"
	    "                       installed ones, or the source tree's "
	    "for a build-tree\n"
	    "                       hive-cli)\n"
	    "  --help               this help\n"
	    "exit: 0 made, 2 usage, I/O, or a file that exists (nothing "
	    "is overwritten)\n");
}

/* HOST, HOST:PORT, [ADDR] or [ADDR]:PORT; 0 or -1 (message printed) */
static int
setup_broker(struct setup *s, const char *arg)
{
	const char *end = arg + strlen(arg), *colon = NULL, *host = arg;
	size_t hlen;
	char *e;
	long n;

	if (arg[0] == '[') {
		if ((end = strchr(arg, ']')) == NULL || (end[1] != '\0' &&
		    end[1] != ':'))
			goto bad;
		host = arg + 1;
		colon = end[1] == ':' ? end + 1 : NULL;
	} else if ((colon = strchr(arg, ':')) != NULL) {
		if (strchr(colon + 1, ':') != NULL)
			goto bad;	/* a bare IPv6 address: use [ADDR] */
		end = colon;
	}
	s->port = 1883;
	if (colon != NULL) {
		errno = 0;
		n = strtol(colon + 1, &e, 10);
		if (errno || e == colon + 1 || *e || n < 1 || n > 65535)
			goto bad;
		s->port = (int)n;
	}
	if ((hlen = (size_t)(end - host)) == 0 || hlen >= sizeof(s->host) ||
	    strcspn(host, " \t#") < hlen)
		goto bad;
	memcpy(s->host, host, hlen);
	s->host[hlen] = '\0';
	return 0;
 bad:
	warnx("--broker %s: expected HOST, HOST:PORT or [ADDR]:PORT", arg);
	return -1;
}

/* dst = root + path; 0 or -1 (too long) */
static int
setup_path(const struct setup *s, char *dst, const char *path)
{
	int n = snprintf(dst, PATH_MAX, "%s%s", s->root ? s->root : "", path);

	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

static int
setup_paths(struct setup *s)
{
	int rc = 0;

	rc |= setup_path(s, s->etc, "/etc/hive");
	rc |= setup_path(s, s->conf, "/etc/hive/hive.conf");
	rc |= setup_path(s, s->keys, "/etc/hive/keys");
	rc |= setup_path(s, s->secret, "/etc/hive/secret");
	rc |= setup_path(s, s->policy, "/etc/hive/policy");
	rc |= setup_path(s, s->seccomp, "/etc/hive/policy/seccomp");
	rc |= setup_path(s, s->policy_file, "/etc/hive/policy/hive.policy");
	rc |= setup_path(s, s->handlers, "/etc/hive/handlers.d");
	rc |= setup_path(s, s->state, "/var/lib/hive");
	rc |= setup_path(s, s->hstate, "/var/lib/hive-handlers");
	rc |= setup_path(s, s->log, "/var/log/hive");
	rc |= setup_path(s, s->run, "/run/hive");
	rc |= setup_path(s, s->sock, "/run/hive/hive.sock");
	rc |= setup_path(s, s->pid, "/run/hive/hive-daemon.pid");
	rc |= setup_path(s, s->openclaw, "/usr/local/bin/openclaw");
	if (rc != 0 || (size_t)snprintf(s->key, PATH_MAX, "%s/%s.key",
	    s->secret, s->node) >= PATH_MAX || (size_t)snprintf(s->pub,
	    PATH_MAX, "%s/%s.pub", s->secret, s->node) >= PATH_MAX ||
	    (size_t)snprintf(s->keys_pub, PATH_MAX, "%s/%s.pub", s->keys,
	    s->node) >= PATH_MAX) {
		warnx("--root %s: path too long", s->root);
		return -1;
	}
	return 0;
}

/* Before anything is made: no file setup writes may exist. */
static int
setup_refuse_existing(const struct setup *s)
{
	const char *files[] = { s->conf, s->policy_file, s->key, s->pub,
	    s->keys_pub };
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (lstat(files[i], &st) == 0) {
			warnx("%s exists; refusing to overwrite (setup makes "
			    "a node once; remove it or choose another "
			    "--root)", files[i]);
			return -1;
		}
		if (errno != ENOENT && errno != ENOTDIR) {
			warn("%s", files[i]);
			return -1;
		}
	}
	return 0;
}

/* Run argv (no shell), wait; 0 if it exited 0. */
static int
setup_run(char *const argv[])
{
	pid_t pid;
	int st;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		execv(argv[0], argv);
		warn("%s", argv[0]);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/*
 * The daemon's `user`: hive, made as a system account if missing (as
 * root).  Not root, the daemon cannot switch users and runs as the
 * invoking one, so that one is the `user`.
 */
static int
setup_account(struct setup *s)
{
	char *useradd[] = { "/usr/sbin/useradd", "--system", "--user-group",
	    "--no-create-home", "--home-dir", "/nonexistent", "--shell",
	    "/usr/sbin/nologin", SETUP_USER, NULL };
	struct passwd *pw;

	if (geteuid() != 0) {
		if ((pw = getpwuid(geteuid())) == NULL) {
			warnx("uid %u has no name", (unsigned)geteuid());
			return -1;
		}
	} else if ((pw = getpwnam(SETUP_USER)) == NULL) {
		if (setup_run(useradd) == -1 ||
		    (pw = getpwnam(SETUP_USER)) == NULL) {
			warnx("useradd %s failed", SETUP_USER);
			return -1;
		}
		fprintf(stderr, "hive-cli: made the system account %s\n",
		    SETUP_USER);
	}
	if (hive_strlcpy(s->user, pw->pw_name, sizeof(s->user)) >=
	    sizeof(s->user)) {
		warnx("user name %s too long", pw->pw_name);
		return -1;
	}
	s->uid = pw->pw_uid;
	s->gid = pw->pw_gid;
	return 0;
}

/* One directory: made with exactly mode and owner; one that exists is
 * left as it is (setup_check says if the daemon would refuse it). */
static int
setup_dir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	if (mkdir(path, 0700) == -1) {
		if (errno == EEXIST)
			return 0;
		warn("mkdir %s", path);
		return -1;
	}
	if ((geteuid() == 0 && chown(path, uid, gid) == -1) ||
	    chmod(path, mode) == -1) {
		warn("%s", path);
		return -1;
	}
	return 0;
}

/* Every missing ancestor of path (root's, 0755), not path itself. */
static int
setup_parents(const char *path)
{
	char tmp[PATH_MAX], *p;

	hive_strlcpy(tmp, path, sizeof(tmp));
	for (p = tmp + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (setup_dir(tmp, 0755, 0, 0) == -1)
			return -1;
		*p = '/';
	}
	return 0;
}

/*
 * The tree, as docs/operations.md's table has it: configuration root's
 * and not writable by others; secret_dir and log_dir 0700 (the
 * monitor's, root here); state_dir 0700, the daemon's user's.
 */
static int
setup_dirs(const struct setup *s)
{
	const struct {
		const char	*path;
		mode_t		 mode;
		int		 user;	/* owned by the daemon's user */
	} dirs[] = {
		{ s->etc, 0755, 0 }, { s->keys, 0755, 0 },
		{ s->secret, 0700, 0 }, { s->policy, 0755, 0 },
		{ s->seccomp, 0755, 0 }, { s->handlers, 0755, 0 },
		{ s->state, 0700, 1 }, { s->log, 0700, 0 },
		{ s->run, 0755, 0 }, { s->hstate, 0755, 0 },
	};
	size_t i;

	if (s->root != NULL && (setup_parents(s->root) == -1 ||
	    setup_dir(s->root, 0755, 0, 0) == -1))
		return -1;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (setup_parents(dirs[i].path) == -1 ||
		    setup_dir(dirs[i].path, dirs[i].mode,
		    dirs[i].user ? s->uid : 0, dirs[i].user ? s->gid : 0) == -1)
			return -1;
	return 0;
}

/* A new file with text: O_EXCL, never a replacement. */
static int
setup_write(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		warnx("%s: %s", path, errno == EEXIST ?
		    "exists; refusing to overwrite" : strerror(errno));
		return -1;
	}
	if (hive_write_all(fd, text, len) == -1 || fchmod(fd, mode) == -1 ||
	    fsync(fd) == -1) {
		warn("%s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

/* Read a small file whole; NULL (message printed) on error. */
static char *
setup_read(const char *path, size_t max, size_t *len)
{
	char *buf;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		warn("%s", path);
		return NULL;
	}
	if ((buf = malloc(max + 1)) == NULL)
		err(EXIT_USAGE, "malloc");
	if ((n = read(fd, buf, max + 1)) < 0 || (size_t)n > max) {
		warnx("%s: unreadable or larger than %zu bytes", path, max);
		free(buf);
		close(fd);
		return NULL;
	}
	close(fd);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* The node key: secret_dir/NODE.key and .pub, the .pub also in keys/. */
static int
setup_key(const struct setup *s)
{
	char kid[KID_HEX_LEN + 1], err[1024], *pub;
	size_t len;
	int rc;

	if (key_generate(s->secret, s->node, kid, err, sizeof(err)) == -1) {
		warnx("%s", err);
		return -1;
	}
	if ((pub = setup_read(s->pub, 4096, &len)) == NULL)
		return -1;
	rc = setup_write(s->keys_pub, pub, len, 0644);
	free(pub);
	return rc;
}

static void
setup_conf_text(const struct setup *s, FILE *f)
{
	fprintf(f, "# %s - node %s, made by hive-cli setup.\n"
	    "# One 'keyword value' per line; every keyword: hive.conf(5).\n"
	    "# Check it: hive-daemon -n -c %s\n\n"
	    "node            %s\n\n"
	    "# the MQTT broker\n"
	    "host            %s\n"
	    "port            %d\n"
	    "prefix          %s\n",
	    s->conf, s->node, s->conf, s->node, s->host, s->port,
	    s->prefix ? s->prefix : "hive");
	if (s->cafile != NULL)
		fprintf(f, "cafile          %s     # TLS, always verified\n",
		    s->cafile);
	if (s->username != NULL)
		fprintf(f, "username        %s\n"
		    "password_file   %s     # first line; owner %s, mode "
		    "0600\n", s->username, s->pwfile, s->user);
	fprintf(f, "\n# the router runs as this account and owns state_dir\n"
	    "user            %s\n\n"
	    "# trusted public keys (*.pub, revoked): copy each peer's "
	    "NODE.pub here\n"
	    "keys            %s\n"
	    "# this node's secret key, %s.key (0700 directory, 0600 file)\n"
	    "secret_dir      %s\n"
	    "# hive.policy and seccomp/\n"
	    "policy_dir      %s\n"
	    "# action handlers: one executable per action, root's, 0755\n"
	    "handlers_dir    %s\n"
	    "# replay window and journals (0700, the user's)\n"
	    "state_dir       %s\n"
	    "# each handler's own HIVE_STATE_DIR, made per action at its "
	    "run\n"
	    "handler_state_dir %s\n"
	    "# audit.log (0700)\n"
	    "log_dir         %s\n"
	    "# hive-cli talks to the daemon here; hive-cli reload reads "
	    "the pid file\n"
	    "control_socket  %s\n"
	    "pid_file        %s\n\n"
	    "# the OpenClaw CLI that wakes this node's agent "
	    "(docs/openclaw.md)\n"
	    "openclaw        %s\n",
	    s->user, s->keys, s->node, s->secret, s->policy, s->handlers,
	    s->state, s->hstate, s->log, s->sock, s->pid, s->openclaw);
}

static int
setup_conf(const struct setup *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if ((f = open_memstream(&text, &len)) == NULL)
		err(EXIT_USAGE, "open_memstream");
	setup_conf_text(s, f);
	if (fclose(f) != 0)
		err(EXIT_USAGE, "open_memstream");
	rc = setup_write(s->conf, text, len, 0644);
	free(text);
	return rc;
}

static int
setup_policy(const struct setup *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if ((f = open_memstream(&text, &len)) == NULL)
		err(EXIT_USAGE, "open_memstream");
	fprintf(f, "# %s - who may make node %s do what.\n"
	    "# Made by hive-cli setup: nothing is allowed yet.  Grammar: "
	    "hive-policy(5).\n"
	    "# Check after every edit, then reload:\n"
	    "#\thive-daemon --check-policy -c %s\n"
	    "#\thive-cli reload -c %s\n"
	    "#\n"
	    "# Without a matching line, heartbeat, status and response are "
	    "allowed and\n"
	    "# command, sync and alert are denied.  The first matching "
	    "line decides.\n"
	    "# Examples (PEER is a node id whose .pub is in the keys "
	    "directory):\n"
	    "#\n"
	    "# allow from PEER ch command action echo\t# one action\n"
	    "# allow from PEER ch command\t\t\t# every action, and "
	    "the agent\n"
	    "# allow from * ch alert\t\t\t# any known node may alert\n"
	    "# rate from * 20/s burst 100\n"
	    "#\n"
	    "# Local users of hive-cli (root always may): read is status, "
	    "roster, pending.\n"
	    "# socket read *\n"
	    "# socket send root\n", s->policy_file, s->node, s->conf,
	    s->conf);
	if (fclose(f) != 0)
		err(EXIT_USAGE, "open_memstream");
	rc = setup_write(s->policy_file, text, len, 0644);
	free(text);
	return rc;
}

/*
 * Where the profiles come from: --profiles; the source tree's when
 * this hive-cli is the build tree's (its directory is the build
 * directory); else the installed ones (make install puts them under
 * HIVE_CONFDIR whatever the prefix).
 */
static const char *
setup_profiles_src(const struct setup *s)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (s->profiles != NULL)
		return s->profiles;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		if (strcmp(exe, HIVE_BUILD_DIR) == 0)
			return HIVE_SOURCE_DIR "/policy/seccomp";
	}
	return HIVE_CONFDIR "/policy/seccomp";
}

/* One profile, unless one of that name is there already (the installed
 * one, when setup makes /etc/hive itself): 0 or -1. */
static int
setup_profile(const char *src, const char *dst)
{
	struct stat st;
	size_t len;
	char *text;
	int rc;

	if (lstat(dst, &st) == 0)
		return 0;
	if ((text = setup_read(src, SETUP_PROFILE_MAX, &len)) == NULL)
		return -1;
	rc = setup_write(dst, text, len, 0644);
	free(text);
	return rc;
}

static int
setup_profiles(const struct setup *s)
{
	const char *src = setup_profiles_src(s);
	char from[PATH_MAX], to[PATH_MAX];
	struct dirent *de;
	int rc = 0, n = 0;
	DIR *d;

	if ((d = opendir(src)) == NULL) {
		warn("seccomp profiles %s (--profiles DIR)", src);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || (de->d_type != DT_REG &&
		    de->d_type != DT_UNKNOWN))
			continue;
		if ((size_t)snprintf(from, sizeof(from), "%s/%s", src,
		    de->d_name) >= sizeof(from) || (size_t)snprintf(to,
		    sizeof(to), "%s/%s", s->seccomp, de->d_name) >= sizeof(to))
			rc = -1;
		else
			rc = setup_profile(from, to);
		n++;
	}
	closedir(d);
	if (rc == 0 && n == 0) {
		warnx("seccomp profiles %s: no profile there", src);
		return -1;
	}
	return rc;
}

/*
 * The router, as the daemon's user, opens state_dir by its path: every
 * ancestor there is must let that user through (a --root under a 0700
 * home would not).  Supplementary groups are not counted.
 */
static int
setup_reachable(const struct setup *s, char *err, size_t errlen)
{
	char up[PATH_MAX], *slash;
	struct stat st;
	mode_t need;

	hive_strlcpy(up, s->state, sizeof(up));
	while ((slash = strrchr(up, '/')) != NULL && slash != up) {
		*slash = '\0';
		if (stat(up, &st) == -1)
			continue;	/* made by setup_dirs: 0755 */
		need = st.st_uid == s->uid ? S_IXUSR : st.st_gid == s->gid ?
		    S_IXGRP : S_IXOTH;
		if ((st.st_mode & need) == 0) {
			snprintf(err, errlen, "%s: mode %04o; %s (the daemon's "
			    "user) cannot reach %s through it (chmod o+x, "
			    "or another --root)", up,
			    (unsigned)(st.st_mode & 07777), s->user, s->state);
			return -1;
		}
	}
	return 0;
}

/*
 * What the daemon will check at its start, checked now.  existing:
 * before anything is made, only the directories already there (one
 * the daemon would refuse stops setup before it changes anything).
 */
static int
setup_check(const struct setup *s, int existing)
{
	const char *priv[] = { s->state, s->log, s->secret };
	const char *conf[] = { s->keys, s->policy, s->seccomp, s->handlers };
	struct config cfg;
	char err[3 * PATH_MAX];
	size_t i;
	int fd;

	config_defaults(&cfg);
	if (setup_reachable(s, err, sizeof(err)) == -1)
		goto bad;
	if (!existing && config_load(&cfg, s->conf, 1, err, sizeof(err)) == -1)
		goto bad;
	for (i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
		if (existing && access(priv[i], F_OK) == -1)
			continue;
		if (config_check_private_dir(priv[i], s->uid, err,
		    sizeof(err)) != 0)
			goto bad;
	}
	for (i = 0; i < sizeof(conf) / sizeof(conf[0]); i++) {
		if (existing && access(conf[i], F_OK) == -1)
			continue;
		if ((fd = config_open_dir(conf[i], err, sizeof(err))) == -1)
			goto bad;
		close(fd);
	}
	return 0;
 bad:
	warnx("%s", err);
	warnx("hive-daemon would refuse this tree; fix the above and see "
	    "docs/operations.md");
	return -1;
}

static int
setup_make(struct setup *s)
{
	char *pub;
	size_t len;

	if (setup_paths(s) == -1 || setup_refuse_existing(s) == -1 ||
	    setup_account(s) == -1 || setup_check(s, 1) == -1 ||
	    setup_dirs(s) == -1 ||
	    setup_key(s) == -1 || setup_conf(s) == -1 ||
	    setup_policy(s) == -1 || setup_profiles(s) == -1 ||
	    setup_check(s, 0) == -1)
		return EXIT_USAGE;
	if ((pub = setup_read(s->keys_pub, 4096, &len)) == NULL)
		return EXIT_USAGE;
	fwrite(pub, 1, len, stdout);
	free(pub);
	fprintf(stderr, "hive-cli: node %s is ready in %s.  Next:\n"
	    "  1. copy %s into each peer's keys directory, and each peer's "
	    ".pub into %s/\n"
	    "  2. allow what peers may ask in %s\n"
	    "  3. hive-daemon -c %s\n", s->node, s->etc, s->keys_pub,
	    s->keys, s->policy_file, s->conf);
	return 0;
}

/* an absolute path without blanks (hive.conf values are one token) */
static int
setup_abspath(const char *opt, const char *arg)
{
	if (arg[0] != '/' || strcspn(arg, " \t#") != strlen(arg)) {
		warnx("%s %s: expected an absolute path without blanks", opt,
		    arg);
		return -1;
	}
	return 0;
}

static int
setup_validate(struct setup *s, const char *broker)
{
	if (s->node == NULL || broker == NULL) {
		warnx("--node and --broker are required");
		return -1;
	}
	if (!valid_node(s->node)) {
		warnx("invalid node id '%s' ([a-z0-9._-], 1..64, not 'all' or "
		    "'meta')", s->node);
		return -1;
	}
	if ((s->username == NULL) != (s->pwfile == NULL)) {
		warnx("--username and --password-file go together");
		return -1;
	}
	if (s->prefix != NULL && !config_valid_prefix(s->prefix)) {
		warnx("--prefix %s: levels of printable ASCII, no wildcards",
		    s->prefix);
		return -1;
	}
	if (s->username != NULL && strcspn(s->username, " \t#") !=
	    strlen(s->username)) {
		warnx("--username %s: no blanks", s->username);
		return -1;
	}
	if (s->root != NULL) {
		if (setup_abspath("--root", s->root) == -1)
			return -1;
		hive_strlcpy(s->rootbuf, s->root, sizeof(s->rootbuf));
		while (strlen(s->rootbuf) > 1 &&
		    s->rootbuf[strlen(s->rootbuf) - 1] == '/')
			s->rootbuf[strlen(s->rootbuf) - 1] = '\0';
		/* "/" is no root at all */
		s->root = strcmp(s->rootbuf, "/") == 0 ? NULL : s->rootbuf;
	}
	if (
	    (s->cafile && setup_abspath("--cafile", s->cafile) == -1) ||
	    (s->pwfile && setup_abspath("--password-file", s->pwfile) == -1) ||
	    (s->profiles && setup_abspath("--profiles", s->profiles) == -1))
		return -1;
	return setup_broker(s, broker);
}

int
cmd_setup(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, OPT_NODE },
		{ "broker", required_argument, NULL, OPT_BROKER },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "prefix", required_argument, NULL, OPT_PREFIX },
		{ "cafile", required_argument, NULL, OPT_CAFILE },
		{ "username", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, OPT_PWFILE },
		{ "profiles", required_argument, NULL, OPT_PROFILES },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	struct setup s;
	const char *broker = NULL;
	int c;

	memset(&s, 0, sizeof(s));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_NODE: s.node = optarg; break;
		case OPT_BROKER: broker = optarg; break;
		case OPT_ROOT: s.root = optarg; break;
		case OPT_PREFIX: s.prefix = optarg; break;
		case OPT_CAFILE: s.cafile = optarg; break;
		case 'u': s.username = optarg; break;
		case OPT_PWFILE: s.pwfile = optarg; break;
		case OPT_PROFILES: s.profiles = optarg; break;
		case OPT_HELP: setup_usage(stdout); return 0;
		default: setup_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc || setup_validate(&s, broker) == -1) {
		setup_usage(stderr);
		return EXIT_USAGE;
	}
	return setup_make(&s);
}
