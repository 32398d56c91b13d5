/*
 * runhandler.c - hive-test-runhandler: discover a handlers directory,
 * run one handler (N times at once) through the real runner with the
 * sandbox settings given as flags, print one JSON line per run.
 *
 *   hive-test-runhandler --dir D --profiles P --action A [--user U]
 *       [--seccomp NAME] [--network 0|1] [--timeout-ms N] [--grace-ms N]
 *       [--cpu S] [--memory B] [--procs N] [--files N] [--fsize B]
 *       [--stdout-max B] [--stderr-max B] [--stdin TEXT]
 *       [--runs N] [--concurrency N] [--queue N] [--max N]
 *       [--private-tmp 0|1] [--read-only-root 0|1] [--pidfile F]
 *       [--zygote off|auto|always]
 *   hive-test-runhandler --discover --dir D [--user U]
 *
 * The policy block is built here with local defaults (the values
 * policy_handler_defaults() is documented to give), so this tool does
 * not depend on the policy parser.
 */
#include <sys/prctl.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <jansson.h>

#include "handler.h"
#include "seccomp_profile.h"
#include "util.h"

static void
defaults(struct policy_handler *p)
{
	memset(p, 0, sizeof(*p));
	hive_strlcpy(p->user, "nobody", sizeof(p->user));
	p->timeout_ms = 10000;
	p->grace_ms = 2000;
	p->cpu_s = 10;
	p->memory = 512LL * 1024 * 1024;
	p->processes = 64;
	p->files = 64;
	p->fsize = 16LL * 1024 * 1024;
	hive_strlcpy(p->seccomp, "default", sizeof(p->seccomp));
	p->network = 0;
	p->concurrency = 1;
	p->queue = 8;
	p->stdout_max = 64 * 1024;
	p->stderr_max = 8 * 1024;
}

static uid_t the_uid;
static const char *pidfile;

static uid_t
owner(void *arg, const char *action)
{
	return the_uid;
}

static void
started(void *arg, uint64_t id, pid_t pid)
{
	FILE *f;

	if (pidfile == NULL || (f = fopen(pidfile, "w")) == NULL)
		return;
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
}

static void
print_result(const struct handler_result *res)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "id", json_integer((json_int_t)res->id));
	json_object_set_new(o, "outcome",
	    json_string(handler_outcome_name(res->outcome)));
	json_object_set_new(o, "exit", json_integer(res->exit_status));
	json_object_set_new(o, "signal", json_integer(res->signal));
	json_object_set_new(o, "duration_ms", json_integer(res->duration_ms));
	json_object_set_new(o, "pid", json_integer(res->pid));
	json_object_set_new(o, "leftovers", json_integer(res->leftovers));
	json_object_set(o, "stdout", res->output ? res->output : json_null());
	json_object_set_new(o, "error", json_string(res->error));
	json_object_set_new(o, "syscall", json_string(res->syscall));
	json_object_set_new(o, "zygote", json_boolean(res->zygote));
	json_object_set_new(o, "stderr", json_stringn(res->err ? res->err : "",
	    res->errlen));
	s = json_dumps(o, JSON_COMPACT);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);
}

static void
done(void *arg, const struct handler_result *res)
{
	print_result(res);
}

static void
refused(const char *action, const char *why)
{
	struct handler_result res;

	memset(&res, 0, sizeof(res));
	hive_strlcpy(res.action, action, sizeof(res.action));
	res.outcome = HANDLER_REFUSED;
	res.exit_status = -1;
	hive_strlcpy(res.error, why, sizeof(res.error));
	print_result(&res);
}

static int
discover(const char *dir)
{
	struct handler_set *set = calloc(1, sizeof(*set));
	json_t *o = json_object(), *found = json_array(), *bad = json_object();
	size_t i;
	char *s;

	if (set == NULL || handler_discover(dir, owner, NULL, set) == -1) {
		fprintf(stderr, "discover: %s\n", set ? set->error : "memory");
		return 1;
	}
	for (i = 0; i < set->n; i++)
		json_array_append_new(found, json_string(set->h[i].action));
	for (i = 0; i < set->nrefused; i++)
		json_object_set_new(bad, set->refused[i].name,
		    json_string(set->refused[i].why));
	json_object_set_new(o, "handlers", found);
	json_object_set_new(o, "refused", bad);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", s);
	free(s);
	json_decref(o);
	handler_set_free(set);
	free(set);
	return 0;
}

struct opts {
	const char	*dir, *profiles, *action, *in;
	int		 runs, max, discover, zygote;
};

static int64_t
num(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno != 0 || *end != '\0') {
		fprintf(stderr, "bad number: %s\n", s);
		exit(2);
	}
	return v;
}

static void
parse_opts(int argc, char **argv, struct opts *o, struct policy_handler *p)
{
	static const struct option lo[] = {
		{ "dir", 1, 0, 'd' }, { "profiles", 1, 0, 'P' },
		{ "action", 1, 0, 'a' }, { "user", 1, 0, 'u' },
		{ "seccomp", 1, 0, 's' }, { "network", 1, 0, 'n' },
		{ "timeout-ms", 1, 0, 't' }, { "grace-ms", 1, 0, 'g' },
		{ "cpu", 1, 0, 'c' }, { "memory", 1, 0, 'm' },
		{ "procs", 1, 0, 'p' }, { "files", 1, 0, 'f' },
		{ "fsize", 1, 0, 'F' }, { "stdout-max", 1, 0, 'o' },
		{ "stderr-max", 1, 0, 'e' }, { "stdin", 1, 0, 'i' },
		{ "runs", 1, 0, 'r' }, { "concurrency", 1, 0, 'C' },
		{ "queue", 1, 0, 'q' }, { "max", 1, 0, 'M' },
		{ "pidfile", 1, 0, 'x' }, { "discover", 0, 0, 'D' },
		{ "private-tmp", 1, 0, 'T' }, { "read-only-root", 1, 0, 'R' },
		{ "zygote", 1, 0, 'z' }, { 0, 0, 0, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 'P': o->profiles = optarg; break;
		case 'a': hive_strlcpy(p->action, optarg, sizeof(p->action));
			  o->action = optarg; break;
		case 'u': hive_strlcpy(p->user, optarg, sizeof(p->user)); break;
		case 's': hive_strlcpy(p->seccomp, optarg, sizeof(p->seccomp));
			  break;
		case 'n': p->network = (int)num(optarg); break;
		case 't': p->timeout_ms = num(optarg); break;
		case 'g': p->grace_ms = num(optarg); break;
		case 'c': p->cpu_s = num(optarg); break;
		case 'm': p->memory = num(optarg); break;
		case 'p': p->processes = num(optarg); break;
		case 'f': p->files = num(optarg); break;
		case 'F': p->fsize = num(optarg); break;
		case 'o': p->stdout_max = num(optarg); break;
		case 'e': p->stderr_max = num(optarg); break;
		case 'i': o->in = optarg; break;
		case 'r': o->runs = (int)num(optarg); break;
		case 'C': p->concurrency = (int)num(optarg); break;
		case 'q': p->queue = (int)num(optarg); break;
		case 'M': o->max = (int)num(optarg); break;
		case 'x': pidfile = optarg; break;
		case 'D': o->discover = 1; break;
		case 'T': p->private_tmp = (int)num(optarg); break;
		case 'R': p->read_only_root = (int)num(optarg); break;
		case 'z':
			if (strcmp(optarg, "off") == 0)
				o->zygote = HANDLER_ZYGOTE_OFF;
			else if (strcmp(optarg, "auto") == 0)
				o->zygote = HANDLER_ZYGOTE_AUTO;
			else if (strcmp(optarg, "always") == 0)
				o->zygote = HANDLER_ZYGOTE_ALWAYS;
			else
				exit(2);
			break;
		default: exit(2);
		}
	}
}

static void
resolve_user(struct policy_handler *p)
{
	struct passwd *pw;

	if ((pw = getpwnam(p->user)) == NULL) {
		fprintf(stderr, "no user %s\n", p->user);
		exit(2);
	}
	p->uid = the_uid = pw->pw_uid;
	p->gid = pw->pw_gid;
}

/* Our children left after every run ended: we are a subreaper, so a
 * process that escaped the runner's sweep would be re-parented to us
 * (the runner makes us a subreaper, and so did we). */
static int
survivors(void)
{
	char path[300], buf[512], *p;
	struct dirent *d;
	int n = 0, fd;
	long pp;
	ssize_t len;
	DIR *dir = opendir("/proc");

	while (dir != NULL && (d = readdir(dir)) != NULL) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		if ((p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %*c %ld", &pp) == 1 && pp == getpid())
			n++;
	}
	if (dir != NULL)
		closedir(dir);
	return n;
}

static void
loop(struct handler_runner *r)
{
	struct pollfd pfd[256];
	size_t n;

	while (handler_runner_active(r) > 0) {
		n = handler_runner_fds(r, pfd, 256);
		if (poll(pfd, n, handler_runner_timeout(r)) == -1 &&
		    errno != EINTR) {
			perror("poll");
			exit(2);
		}
		handler_runner_dispatch(r, pfd, n);
	}
}

int
main(int argc, char **argv)
{
	struct opts o = { NULL, NULL, NULL, "{}", 1, 16, 0,
	    HANDLER_ZYGOTE_AUTO };
	struct handler_env env = { "box", NULL, "id-1", "peer", NULL };
	struct seccomp_profile prof;
	static struct handler_set set;
	const struct handler_entry *h;
	struct handler_runner r;
	struct policy_handler p;
	char err[512];
	int i;

	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		return 2;
	json_object_seed(0);
	defaults(&p);
	parse_opts(argc, argv, &o, &p);
	resolve_user(&p);
	if (o.discover)
		return discover(o.dir);
	if (o.dir == NULL || o.profiles == NULL || o.action == NULL)
		return 2;
	if (handler_discover(o.dir, owner, NULL, &set) == -1 ||
	    (h = handler_find(&set, o.action)) == NULL) {
		fprintf(stderr, "no handler %s in %s %s\n", o.action, o.dir,
		    set.error);
		return 2;
	}
	if (seccomp_profile_load(&prof, o.profiles, p.seccomp, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	env.action = o.action;
	handler_runner_init(&r, o.max, done, NULL);
	handler_runner_set_zygote(&r, o.zygote);
	r.started = started;
	for (i = 0; i < o.runs; i++)
		if (handler_run_start(&r, &p, seccomp_profile_bpf(&prof,
		    p.network), h->fd, h->script, o.in, strlen(o.in), &env, err,
		    sizeof(err)) == 0)
			refused(o.action, err);
	loop(&r);
	handler_runner_free(&r);
	printf("{\"survivors\":%d}\n", survivors());
	seccomp_profile_free(&prof);
	handler_set_free(&set);
	return 0;
}
