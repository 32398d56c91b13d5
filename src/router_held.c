/*
 * router_held.c - commands that arrive while the router drains.
 *
 * Once SIGTERM has begun the drain, the monitor starts no new work we
 * could wait for, yet libmosquitto has already acknowledged to the
 * broker every message we read (PUBACK before on_message), so the
 * broker will not deliver it again.  A command or sync for us read
 * during the drain is therefore held, before any gate has looked at
 * it (the replay window never saw it), in {state_dir}/held: topic and
 * payload as received.  The next start feeds the held messages to the
 * router ahead of the broker's, through the whole gate as if they had
 * just arrived.  Nothing acknowledged is lost and nobody is told of a
 * failure for a planned restart.  The file is removed once its
 * messages have been routed; if we die before that, the next start
 * routes them again and the replay window refuses what it admitted.
 *
 * Record: the topic with its NUL, a 4-byte length (host order: the
 * file never leaves the box), the payload.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "router.h"
#include "util.h"

#define HELD_MAX	1024	/* messages one drain may hold */

static void
router_held_path(const struct router *r, char *out, size_t len)
{
	snprintf(out, len, "%s/held", r->cfg->state_dir);
}

/* A command or sync to one of our nodes or all: what the drain holds. */
int
router_held_wanted(const struct router *r, const struct mqtt_msg *m)
{
	const char *ch = strrchr(m->topic, '/');

	if (!r->draining || m->oversize || m->payload == NULL || ch == NULL)
		return 0;
	return strcmp(ch, "/command") == 0 || strcmp(ch, "/sync") == 0;
}

/* Append m to the held file; 0, or -1 (logged: route it as before). */
int
router_held_put(struct router *r, const struct mqtt_msg *m)
{
	char path[CONFIG_PATH_MAX + 16];
	uint32_t len = (uint32_t)m->len;
	int fd, ok;

	if (r->nheld >= HELD_MAX)
		return -1;
	router_held_path(r, path, sizeof(path));
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1) {
		log_warn("held %s", path);
		return -1;
	}
	ok = hive_write_all(fd, m->topic, strlen(m->topic) + 1) == 0 &&
	    hive_write_all(fd, &len, sizeof(len)) == 0 &&
	    hive_write_all(fd, m->payload, m->len) == 0;
	if (close(fd) == -1 || !ok) {
		/* a torn record ends the file's reading at start: the
		 * records before it are still delivered */
		log_warn("held %s: write failed", path);
		return -1;
	}
	r->nheld++;
	log_info("draining: %s held for the next start", m->topic);
	return 0;
}

/* One record at *off of buf (n bytes) into m; 0 at the end or torn. */
static int
router_held_next(const char *buf, size_t n, size_t *off, struct mqtt_msg *m)
{
	const char *t = buf + *off, *nul;
	uint32_t len;
	size_t tl;

	if ((nul = memchr(t, '\0', n - *off)) == NULL)
		return 0;
	tl = (size_t)(nul - t) + 1;
	if (n - *off - tl < sizeof(len))
		return 0;
	memcpy(&len, nul + 1, sizeof(len));
	if (len > ENVELOPE_MAX_WIRE || n - *off - tl - sizeof(len) < len)
		return 0;
	memset(m, 0, sizeof(*m));
	if ((m->topic = strdup(t)) == NULL ||
	    (m->payload = malloc(len + 1)) == NULL)
		fatal("malloc");
	memcpy(m->payload, nul + 1 + sizeof(len), len);
	m->payload[len] = '\0';
	m->len = len;
	*off += tl + sizeof(len) + len;
	return 1;
}

/* All of path, at most HELD_MAX records' worth; *n its length. */
static char *
router_held_read(const char *path, int fd, size_t *n)
{
	size_t cap = 64 * 1024, most = HELD_MAX * (ENVELOPE_MAX_WIRE + 300);
	char *buf = malloc(cap);
	ssize_t k;

	if (buf == NULL)
		fatal("malloc");
	*n = 0;
	while ((k = read(fd, buf + *n, cap - *n)) != 0) {
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1)
			fatal("held %s", path);
		if ((*n += (size_t)k) < cap)
			continue;
		if (cap >= most)
			break;
		if ((buf = realloc(buf, cap *= 2)) == NULL)
			fatal("realloc");
	}
	return buf;
}

/* At start, as the router's user: what the last drain held. */
void
router_held_load(struct router *r)
{
	char path[CONFIG_PATH_MAX + 16], *buf;
	size_t n, off = 0;
	int fd;

	router_held_path(r, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			fatal("held %s", path);
		return;
	}
	buf = router_held_read(path, fd, &n);
	close(fd);
	if ((r->held = calloc(HELD_MAX, sizeof(*r->held))) == NULL)
		fatal("malloc");
	while (r->nheld < HELD_MAX &&
	    router_held_next(buf, n, &off, &r->held[r->nheld]) == 1)
		r->nheld++;
	free(buf);
	if (off != n)
		log_warnx("held %s: %zu byte(s) at the end ignored (torn or "
		    "over %d messages)", path, n - off, HELD_MAX);
	log_info("%zu message(s) held by the last drain, routed now",
	    r->nheld);
}

/* The next held message (taken by the caller), 0 when none is left. */
int
router_held_take(struct router *r, struct mqtt_msg *m)
{
	if (r->held == NULL || r->held_next >= r->nheld)
		return 0;
	*m = r->held[r->held_next++];
	return 1;
}

/* After the turn that routed them all: the file's work is done. */
void
router_held_done(struct router *r)
{
	char path[CONFIG_PATH_MAX + 16];

	if (r->held == NULL || r->held_next < r->nheld)
		return;
	router_held_path(r, path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("held %s", path);
	free(r->held);
	r->held = NULL;
	r->nheld = r->held_next = 0;
}
