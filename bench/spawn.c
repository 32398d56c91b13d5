/*
 * spawn.c - hive-bench-spawn: the cost of the hardened handler spawn
 * (rlimits, uid switch, capability drop, no-new-privs, seccomp,
 * execveat, the sweep for leftovers, output checks) against a plain fork + execve of
 * the same trivial handler, interleaved in one process so both see
 * the same machine.  Goal: hardened at most 10% slower, as the ratio
 * of the median times of one run.  The hardened runs are those of a
 * handler that runs often: through its zygote (docs/handlers.md, "The
 * zygote"); the same runs forked by the runner (no zygote: a handler's
 * first run, or one its profile does not allow) are measured beside
 * them and printed too.
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

/* Read stdout and stderr to EOF, as the runner does (it keeps
 * both); stdout into buf. */
static size_t
plain_read(int out, int err, char *buf, size_t size)
{
	struct pollfd pfd[2] = { { out, POLLIN, 0 }, { err, POLLIN, 0 } };
	char tmp[4096];
	size_t len = 0;
	ssize_t n;
	int i;

	while (pfd[0].fd != -1 || pfd[1].fd != -1) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			exit(1);
		for (i = 0; i < 2; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (i == 0 && len < size)
				n = read(out, buf + len, size - len);
			else
				n = read(pfd[i].fd, tmp, sizeof(tmp));
			if (i == 0 && n > 0)
				len += (size_t)n;
			if (n <= 0)
				pfd[i].fd = -1;
		}
	}
	return len;
}

/* plain: pipes, fork, execve, write stdin, read stdout and stderr,
 * wait, parse stdout: what the hardened run does too, minus the
 * sandbox */
static void
plain_run(const char *path)
{
	int in[2], out[2], err[2], st;
	char buf[4096];
	json_t *j;
	size_t len;
	pid_t pid;

	if (pipe(in) == -1 || pipe(out) == -1 || pipe(err) == -1)
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
		dup2(err[1], 2);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		close(err[0]); close(err[1]);
		execve(path, argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (write(in[1], "{}", 2) != 2 && errno != EPIPE)
		exit(1);
	close(in[1]);
	len = plain_read(out[0], err[0], buf, sizeof(buf));
	close(out[0]);
	close(err[0]);
	waitpid(pid, &st, 0);
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !json_is_object(j)) {
		fprintf(stderr, "plain run failed\n");
		exit(1);
	}
	json_decref(j);
}

/* plain, from a middle process: the floor of any design with a
 * process per run between the runner and the handler (the per-run
 * supervisor this code had until 2026-11) */
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
	struct handler_env env = { "bench", p->action, "1", "bench", NULL };
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

static int
cmp_ns(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double
mean_us(const int64_t *v, int n)
{
	double sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += (double)v[i];
	return sum / n / 1e3;
}

/* the median of n samples, in us (sorts them) */
static double
median_us(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_ns);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) / 1e3;
}

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
	int64_t t, *plain, *plain2, *hard, *cold;
	double mp, mp2, mh, mc, mean_ratio;
	int i, n = 300, c;

	while ((c = getopt(argc, argv, "n:p:")) != -1)
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 'p')
			profile = optarg;
		else
			return 2;
	if (n < 1)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	plain = calloc((size_t)n, sizeof(*plain));
	plain2 = calloc((size_t)n, sizeof(*plain2));
	hard = calloc((size_t)n, sizeof(*hard));
	cold = calloc((size_t)n, sizeof(*cold));
	if (plain == NULL || plain2 == NULL || hard == NULL)
		return 1;
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
		plain[i] = now_ns() - t;
		t = now_ns();
		hardened_run(&r, &p, seccomp_profile_bpf(&prof, 0),
		    handler_find(&set, base));
		hard[i] = now_ns() - t;
		/* the same runner (its sweep would take another runner's
		 * zygote for a stray), its zygote left idle */
		handler_runner_set_zygote(&r, HANDLER_ZYGOTE_OFF);
		t = now_ns();
		hardened_run(&r, &p, seccomp_profile_bpf(&prof, 0),
		    handler_find(&set, base));
		cold[i] = now_ns() - t;
		handler_runner_set_zygote(&r, HANDLER_ZYGOTE_AUTO);
		t = now_ns();
		plain2_run(path);
		plain2[i] = now_ns() - t;
	}
	mean_ratio = mean_us(hard, n) / mean_us(plain, n);
	mp = median_us(plain, n);
	mp2 = median_us(plain2, n);
	mh = median_us(hard, n);
	mc = median_us(cold, n);
	printf("spawn %s, %d runs each, interleaved; medians\n", path, n);
	printf("  plain fork+execve: %8.1f us/run\n", mp);
	printf("  plain, two forks:  %8.1f us/run (the floor of a process "
	    "per run in between)\n", mp2);
	printf("  hardened (zygote): %8.1f us/run\n", mh);
	printf("  hardened, forked:  %8.1f us/run (no zygote: %.3f of plain)\n",
	    mc, mc / mp);
	printf("  hardened / two-fork plain: %.3f\n", mh / mp2);
	printf("  hardened / plain, means: %.3f\n", mean_ratio);
	printf("  ratio %.3f, goal <= %.2f: %s\n", mh / mp, GOAL,
	    mh / mp <= GOAL ? "MET" : "MISSED");
	free(plain);
	free(plain2);
	free(hard);
	free(cold);
	handler_runner_free(&r);
	seccomp_profile_free(&prof);
	handler_set_free(&set);
	if (optind >= argc && (unlink(path) == -1 || rmdir(dir) == -1))
		perror(dir);
	return 0;
}
