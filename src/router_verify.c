/*
 * router_verify.c - a batch of received messages parsed and their
 * Ed25519 signatures checked on more than one core.
 *
 * The check is two thirds of what a message costs the router, and the
 * parse and canonical form most of the rest; all of it is a pure
 * function of the message bytes, the limits and the keyring
 * (inbound_prepare: size, parse, schema, topic, key, signed bytes,
 * signature).  So the main thread hands a batch here
 * (router_verify_start), finishes the batch before it meanwhile, then
 * takes its own share of what is left of this one, waits for the rest
 * (router_verify_wait), and finishes every message in arrival order
 * (inbound_accept_begin: the refusals counted and the pre-signature
 * gate; inbound_accept_end: time, policy, replay window; the window
 * records of the batch in one write; then routing, router_route.c).  The workers touch nothing but their jobs: no
 * counter, no window, no rate bucket, no log, no I/O.  The keyring and
 * the limits are only read; the main thread changes them (SIGHUP) only
 * between batches, never while one is here.
 *
 * The workers are made before the seccomp filter, which is then
 * synchronised to every thread (TSYNC, sandbox.c), so the filter never
 * has to allow clone.  They wait on a condition variable (futex) and
 * die with the process.  One worker per online CPU beyond the first, at
 * most VERIFY_WORKERS; none on a single CPU, where the main thread
 * does everything itself.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "router_verify.h"

#define VERIFY_WORKERS	3

static struct {
	pthread_mutex_t		 mu;
	pthread_cond_t		 go, done;
	const struct inbound	*in;
	struct verify_job	*jobs;
	size_t			 n;
	/* the round's low 32 bits << 32 | the next job to take: a worker
	 * that wakes late, after its round is over, finds another round
	 * there and takes nothing (a bare index, reset by the next round,
	 * would let it take the new round's jobs by the old round's
	 * count and array) */
	_Atomic uint64_t	 take;
	size_t			 finished;	/* jobs done, under mu */
	uint64_t		 round;		/* a new batch: round++ */
	int			 nworkers;
	int			 started;	/* workers in their loop */
} vp = { .mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER };

static void
verify_one(const struct inbound *in, struct verify_job *j)
{
	inbound_prepare(in, j->topic, j->payload, j->len, j->p);
}

/* Take jobs of ROUND until none is left; how many this thread did. */
static size_t
verify_take(uint64_t round, const struct inbound *in, struct verify_job *jobs,
    size_t n)
{
	uint64_t v = atomic_load(&vp.take);
	size_t did = 0;

	for (;;) {
		if ((v >> 32) != (round & 0xffffffffu) ||
		    (v & 0xffffffffu) >= n)
			return did;
		if (!atomic_compare_exchange_weak(&vp.take, &v, v + 1))
			continue;	/* v is the current value now */
		verify_one(in, &jobs[(size_t)(v & 0xffffffffu)]);
		did++;
		v = atomic_load(&vp.take);
	}
}

static void
verify_finish(size_t did)
{
	if (did == 0)
		return;
	pthread_mutex_lock(&vp.mu);
	vp.finished += did;
	if (vp.finished == vp.n)
		pthread_cond_signal(&vp.done);
	pthread_mutex_unlock(&vp.mu);
}

static void *
verify_worker(void *arg)
{
	uint64_t seen = 0;
	const struct inbound *in;
	struct verify_job *jobs;
	size_t n;

	pthread_mutex_lock(&vp.mu);
	vp.started++;
	pthread_cond_signal(&vp.done);
	pthread_mutex_unlock(&vp.mu);
	for (;;) {
		pthread_mutex_lock(&vp.mu);
		while (vp.round == seen)
			pthread_cond_wait(&vp.go, &vp.mu);
		seen = vp.round;
		in = vp.in;
		jobs = vp.jobs;
		n = vp.n;
		pthread_mutex_unlock(&vp.mu);
		verify_finish(verify_take(seen, in, jobs, n));
	}
	return NULL;
}

void
router_verify_setup(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t t;
	int i, n = cpus > 1 ? (int)cpus - 1 : 0;

	if (n > VERIFY_WORKERS)
		n = VERIFY_WORKERS;
	/* jansson's hash seed is made once, by the first object; made
	 * here, before any worker parses (a no-op if it exists) */
	json_object_seed(0);
	for (i = 0; i < n; i++) {
		if ((errno = pthread_create(&t, NULL, verify_worker, NULL)) != 0)
			fatal("verify worker");
		pthread_detach(t);
	}
	/* a thread's own start-up (rseq, set_robust_list) is over before
	 * the filter goes on, which allows neither */
	pthread_mutex_lock(&vp.mu);
	while (vp.started < n)
		pthread_cond_wait(&vp.done, &vp.mu);
	pthread_mutex_unlock(&vp.mu);
	vp.nworkers = n;
	log_info("signatures checked on %d thread(s)", n + 1);
}

/* With one job or no worker, router_verify_wait does it all. */
void
router_verify_start(const struct inbound *in, struct verify_job *jobs, size_t n)
{
	if (vp.nworkers == 0 || n < 2)
		return;
	pthread_mutex_lock(&vp.mu);
	if (vp.finished != vp.n)
		fatalx("router_verify_start: a batch is still out");
	vp.in = in;
	vp.jobs = jobs;
	vp.n = n;
	vp.finished = 0;
	vp.round++;
	atomic_store(&vp.take, (vp.round & 0xffffffffu) << 32);
	pthread_cond_broadcast(&vp.go);
	pthread_mutex_unlock(&vp.mu);
}

void
router_verify_wait(const struct inbound *in, struct verify_job *jobs, size_t n)
{
	if (vp.nworkers == 0 || n < 2) {
		for (size_t i = 0; i < n; i++)
			verify_one(in, &jobs[i]);
		return;
	}
	if (vp.jobs != jobs || vp.n != n)
		fatalx("router_verify_wait: not the batch started");
	/* vp.round is written only by this thread: no lock to read it */
	verify_finish(verify_take(vp.round, in, jobs, n));
	pthread_mutex_lock(&vp.mu);
	while (vp.finished < n)
		pthread_cond_wait(&vp.done, &vp.mu);
	pthread_mutex_unlock(&vp.mu);
}
