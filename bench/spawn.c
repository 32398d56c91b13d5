/*
 * spawn.c - hive-bench-spawn: the cost of the hardened handler spawn
 * (supervisor, rlimits, uid switch, capability drop, no-new-privs,
 * seccomp, execveat, output checks) against a plain fork + execve of
 * the same trivial handler, interleaved in one process so both see
 * the same machine.  Goal: hardened at most 10% slower.
 *
 *   hive-bench-spawn [-n ITERATIONS] [-p PROFILE] [HANDLER]
 *
 * HANDLER defaults to a two-line /bin/sh script written to a private
 * directory; PROFILE to "default" from the source tree.  As root the
 * handler runs as nobody, otherwise as ourselves.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "handler.h"
#include "seccomp_profile.h"
#include "util.h"

#define GOAL	1.10

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* plain: pipes, fork, execve, write stdin, read stdout, wait */
static void
plain_run(const char *path)
{
	int in[2], out[2], st;
	char buf[4096];
	pid_t pid;

	if (pipe(in) == -1 || pipe(out) == -1)
		exit(1);
	if ((pid = fork()) == 0) {
		char *argv[] = { "bench", NULL };
		/* the environment the hardened run gets */
		char *envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin",
		    "HOME=/", "LANG=C.UTF-8", "HIVE_NODE=bench",
		    "HIVE_ACTION=trivial", "HIVE_ID=1", "HIVE_FROM=bench",
		    NULL };

		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		execve(path, argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (write(in[1], "{}", 2) != 2 && errno != EPIPE)
		exit(1);
	close(in[1]);
	while (read(out[0], buf, sizeof(buf)) > 0)
		;
	close(out[0]);
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "plain run failed\n");
		exit(1);
	}
}

/* the floor of the supervisor design: plain, from a middle process */
static void
plain2_run(const char *path)
{
	int st;
	pid_t pid;

	if ((pid = fork()) == 0) {
		plain_run(path);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		exit(1);
}

static int hardened_ok;

static void
done(void *arg, const struct handler_result *res)
{
	hardened_ok = res->outcome == HANDLER_OK;
	if (!hardened_ok)
		fprintf(stderr, "hardened run: %s: %s\n",
		    handler_outcome_name(res->outcome), res->error);
}

static void
hardened_run(struct handler_runner *r, const struct policy_handler *p,
    const struct handler_bpf *bpf, const struct handler_entry *h)
{
	struct handler_env env = { "bench", p->action, "1", "bench" };
	struct pollfd pfd[8];
	char why[256];
	size_t n;

	if (handler_run_start(r, p, bpf, h->fd, h->script, "{}", 2, &env, why,
	    sizeof(why)) == 0) {
		fprintf(stderr, "refused: %s\n", why);
		exit(1);
	}
	while (handler_runner_active(r) > 0) {
		n = handler_runner_fds(r, pfd, 8);
		if (poll(pfd, n, handler_runner_timeout(r)) == -1 &&
		    errno != EINTR)
			exit(1);
		handler_runner_dispatch(r, pfd, n);
	}
	if (!hardened_ok)
		exit(1);
}

static void
policy_for(struct policy_handler *p, const char *action)
{
	struct passwd *pw = getpwnam(geteuid() == 0 ? "nobody" : "root");

	memset(p, 0, sizeof(*p));
	hive_strlcpy(p->action, action, sizeof(p->action));
	p->uid = geteuid() == 0 ? pw->pw_uid : getuid();
	p->gid = geteuid() == 0 ? pw->pw_gid : getgid();
	p->timeout_ms = 10000;
	p->grace_ms = 1000;
	p->cpu_s = 10;
	p->memory = 512LL << 20;
	p->processes = 64;
	p->files = 64;
	p->fsize = 16LL << 20;
	p->concurrency = 1;
	p->queue = 1;
	p->stdout_max = 65536;
	p->stderr_max = 8192;
}

static uid_t bench_uid;

static uid_t
owner(void *arg, const char *action)
{
	return bench_uid;
}

/* the default handler: a private directory with a /bin/sh script */
static const char *
make_handler(char *dir, size_t len)
{
	static char path[600];
	FILE *f;

	snprintf(dir, len, "/tmp/hive-bench.XXXXXX");
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) == -1)
		exit(1);
	snprintf(path, sizeof(path), "%s/trivial", dir);
	if ((f = fopen(path, "w")) == NULL)
		exit(1);
	fprintf(f, "#!/bin/sh\necho '{\"ok\":true}'\n");
	fclose(f);
	chmod(path, 0755);
	return path;
}

int
main(int argc, char **argv)
{
	const char *profile = "default", *path = NULL, *base;
	static struct handler_set set;
	struct seccomp_profile prof;
	struct handler_runner r;
	struct policy_handler p;
	char dir[512], err[512];
	int64_t t, plain = 0, plain2 = 0, hard = 0;
	int i, n = 300, c;

	while ((c = getopt(argc, argv, "n:p:")) != -1)
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 'p')
			profile = optarg;
		else
			return 2;
	signal(SIGPIPE, SIG_IGN);
	if (optind < argc) {
		path = argv[optind];
		hive_strlcpy(dir, path, sizeof(dir));
		*strrchr(dir, '/') = '\0';
	} else
		path = make_handler(dir, sizeof(dir));
	base = strrchr(path, '/') + 1;
	policy_for(&p, base);
	bench_uid = p.uid;
	if (handler_discover(dir, owner, NULL, &set) == -1 ||
	    handler_find(&set, base) == NULL) {
		fprintf(stderr, "%s: not a usable handler %s\n", path, set.error);
		return 1;
	}
	if (seccomp_profile_load(&prof, HIVE_SRC "/policy/seccomp", profile,
	    err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	handler_runner_init(&r, 1, done, NULL);
	for (i = 0; i < 20; i++) {		/* warm up both paths */
		plain_run(path);
		hardened_run(&r, &p, seccomp_profile_bpf(&prof, 0),
		    handler_find(&set, base));
	}
	for (i = 0; i < n; i++) {
		t = now_ns();
		plain_run(path);
		plain += now_ns() - t;
		t = now_ns();
		hardened_run(&r, &p, seccomp_profile_bpf(&prof, 0),
		    handler_find(&set, base));
		hard += now_ns() - t;
		t = now_ns();
		plain2_run(path);
		plain2 += now_ns() - t;
	}
	printf("spawn %s, %d runs each, interleaved\n", path, n);
	printf("  plain fork+execve: %8.1f us/run\n", plain / 1e3 / n);
	printf("  plain, two forks:  %8.1f us/run (the supervisor's "
	    "extra fork alone)\n", plain2 / 1e3 / n);
	printf("  hardened:          %8.1f us/run\n", hard / 1e3 / n);
	printf("  hardened / two-fork plain: %.3f (the sandbox steps)\n",
	    (double)hard / plain2);
	printf("  ratio %.3f, goal <= %.2f: %s\n", (double)hard / plain, GOAL,
	    (double)hard / plain <= GOAL ? "MET" : "MISSED");
	seccomp_profile_free(&prof);
	handler_set_free(&set);
	if (optind >= argc && (unlink(path) == -1 || rmdir(dir) == -1))
		perror(dir);
	return 0;
}
