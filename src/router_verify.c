/*
 * router_verify.c - Ed25519 checks of one batch of received messages on
 * more than one core.
 *
 * The check is two thirds of what a message costs the router, and it
 * is a pure function of bytes the main thread has already prepared
 * (envelope_verify_bytes: the signed bytes, the signature, the public
 * key).  So the main thread prepares a batch (parse, topic, gate, key:
 * inbound_accept_begin), hands the checks here, takes its own share of
 * them, waits for the rest, and then finishes every message in arrival
 * order (inbound_accept_end: time, policy, replay window; the window
 * records of the batch in one write; then routing, router_route.c).
 * The workers touch nothing but their jobs: no window, no keyring
 * lookup, no log, no I/O.  A job's key points into the keyring, which
 * only the main thread changes (SIGHUP) and never during a batch.
 *
 * The workers are made before the seccomp filter, which is then
 * synchronised to every thread (TSYNC, sandbox.c), so the filter never
 * has to allow clone.  They wait on a condition variable (futex) and
 * die with the process.  One worker per online CPU beyond the first, at
 * most VERIFY_WORKERS; none on a single CPU, where the main thread
 * checks everything itself.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "log.h"
#include "router_verify.h"

#define VERIFY_WORKERS	3

static struct {
	pthread_mutex_t		 mu;
	pthread_cond_t		 go, done;
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

/* Take jobs of ROUND until none is left; how many this thread did. */
static size_t
verify_take(uint64_t round, struct verify_job *jobs, size_t n)
{
	uint64_t v = atomic_load(&vp.take);
	size_t i, did = 0;

	for (;;) {
		if ((v >> 32) != (round & 0xffffffffu) ||
		    (v & 0xffffffffu) >= n)
			return did;
		if (!atomic_compare_exchange_weak(&vp.take, &v, v + 1))
			continue;	/* v is the current value now */
		i = (size_t)(v & 0xffffffffu);
		jobs[i].ok = envelope_verify_bytes(jobs[i].sig, jobs[i].msg,
		    jobs[i].pk);
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
		jobs = vp.jobs;
		n = vp.n;
		pthread_mutex_unlock(&vp.mu);
		verify_finish(verify_take(seen, jobs, n));
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

/* Every job's ok set when this returns; jobs[] stays ours. */
void
router_verify_run(struct verify_job *jobs, size_t n)
{
	uint64_t round;

	if (n == 0)
		return;
	if (vp.nworkers == 0 || n == 1) {
		for (size_t i = 0; i < n; i++)
			jobs[i].ok = envelope_verify_bytes(jobs[i].sig,
			    jobs[i].msg, jobs[i].pk);
		return;
	}
	pthread_mutex_lock(&vp.mu);
	vp.jobs = jobs;
	vp.n = n;
	vp.finished = 0;
	vp.round++;
	atomic_store(&vp.take, (vp.round & 0xffffffffu) << 32);
	round = vp.round;
	pthread_cond_broadcast(&vp.go);
	pthread_mutex_unlock(&vp.mu);
	verify_finish(verify_take(round, jobs, n));
	pthread_mutex_lock(&vp.mu);
	while (vp.finished < n)
		pthread_cond_wait(&vp.done, &vp.mu);
	pthread_mutex_unlock(&vp.mu);
}
