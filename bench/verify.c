/*
 * verify.c - hive-bench-verify: the raw crypto_sign_verify_detached
 * rate of this machine, the limit the router's throughput is divided
 * by (bench/bus.sh throughput).
 *
 *   hive-bench-verify [-t MILLISECONDS] [-j PROCESSES] [ENVELOPE]
 *
 * ENVELOPE is a file whose first line is a signed envelope (the bench
 * passes one of its flood's heartbeats): the message verified is its
 * signed bytes (prefix and canonical form), so the limit has the size
 * of what the router verifies; without it a heartbeat of the same shape
 * is made and signed with a fresh key.  Only the Ed25519 verification
 * is timed, nothing of the parse.  With -j N, N processes verify at
 * once and the sum of their rates is printed too (the stretch goal: a
 * router verifying on more than one core).
 *
 * Prints "verify_per_s RATE" (one process) and, with -j, "verify_per_s_j
 * N RATE".
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "envelope.h"

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The message: an envelope's signed bytes, from a file or made here. */
static json_t *
load_envelope(const char *path)
{
	json_error_t jerr;
	char *line = NULL;
	size_t cap = 0;
	json_t *root;
	FILE *f;

	if (path == NULL)
		return json_pack("{sisssIsssssssssIss}", "v", 2, "id",
		    "bench-00000000-0000-4000-8000-000000000000", "ts",
		    (json_int_t)time(NULL), "from", "bpeer-1", "to", "all",
		    "ch", "heartbeat", "urgency", "later", "ttl",
		    (json_int_t)3600, "text", "bench heartbeat 0");
	if ((f = fopen(path, "r")) == NULL || getline(&line, &cap, f) < 1) {
		perror(path);
		exit(2);
	}
	fclose(f);
	root = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	free(line);
	if (!json_is_object(root)) {
		fprintf(stderr, "%s: not an envelope: %s\n", path, jerr.text);
		exit(2);
	}
	return root;
}

/* Verify for ms milliseconds (in batches, so the clock costs nothing);
 * the rate per second. */
static double
verify_rate(const struct buf *msg, const unsigned char *sig,
    const unsigned char *pk, int ms)
{
	int64_t t0 = now_ns(), t, end = t0 + (int64_t)ms * 1000000;
	long n = 0;
	int i;

	do {
		for (i = 0; i < 64; i++)
			if (crypto_sign_verify_detached(sig,
			    (const unsigned char *)msg->p, msg->len, pk) != 0) {
				fprintf(stderr, "verification failed\n");
				exit(1);
			}
		n += 64;
	} while ((t = now_ns()) < end);
	return (double)n * 1e9 / (double)(t - t0);
}

/* N processes at once; each writes its rate to a pipe. */
static double
verify_parallel(const struct buf *msg, const unsigned char *sig,
    const unsigned char *pk, int ms, int jobs)
{
	double sum = 0, r;
	int fd[2], i, st;

	if (pipe(fd) == -1)
		exit(1);
	for (i = 0; i < jobs; i++)
		if (fork() == 0) {
			r = verify_rate(msg, sig, pk, ms);
			if (write(fd[1], &r, sizeof(r)) != sizeof(r))
				_exit(1);
			_exit(0);
		}
	close(fd[1]);
	for (i = 0; i < jobs; i++) {
		if (read(fd[0], &r, sizeof(r)) != sizeof(r))
			exit(1);
		sum += r;
	}
	close(fd[0]);
	while (wait(&st) > 0)
		;
	return sum;
}

int
main(int argc, char **argv)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char sig[crypto_sign_BYTES];
	struct buf msg;
	json_t *root;
	int c, ms = 1000, jobs = 0;

	while ((c = getopt(argc, argv, "t:j:")) != -1)
		if (c == 't')
			ms = atoi(optarg);
		else if (c == 'j')
			jobs = atoi(optarg);
		else
			return 2;
	if (ms < 1 || jobs < 0 || sodium_init() < 0)
		return 2;
	root = load_envelope(optind < argc ? argv[optind] : NULL);
	buf_init(&msg, 2 * ENVELOPE_MAX_WIRE);
	if (envelope_signed_bytes(root, &msg) == -1)
		return 2;
	/* the key and signature are ours: only the sizes matter */
	crypto_sign_keypair(pk, sk);
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg.p, msg.len,
	    sk);
	printf("verify_per_s %.0f\n", verify_rate(&msg, sig, pk, ms));
	if (jobs > 0)
		printf("verify_per_s_j %d %.0f\n", jobs,
		    verify_parallel(&msg, sig, pk, ms, jobs));
	sodium_memzero(sk, sizeof(sk));
	buf_free(&msg);
	json_decref(root);
	return 0;
}
