/*
 * router_held.c - commands that arrive while the router drains.
 *
 * Once SIGTERM has begun the drain, the monitor starts no new work we
 * could wait for, yet libmosquitto has already acknowledged to the
 * broker every message we read (PUBACK before on_message), so the
 * broker will not deliver it again.  A command or sync for us read
 * during the drain is therefore held, before any gate has looked at
 * it (the replay window never saw it), in {state_dir}/held/, one file
 * a message (created new and renamed into place, as the sandbox allows
 * the router nothing else): topic and payload as received.  The next start feeds the held messages to the
 * router ahead of the broker's, through the whole gate as if they had
 * just arrived.  Nothing acknowledged is lost and nobody is told of a
 * failure for a planned restart.  The files are removed once their
 * messages have been routed; if we die before that, the next start
 * routes them again and the replay window refuses what it admitted.
 *
 * Only what a keyring member signed is held (the pure part of the gate,
 * inbound_prepare: parse, schema, topic, key, signature), at most
 * HELD_SHARE messages per sender: anything else is routed as before,
 * and refused with its reason.  So a drain holds nobody's garbage and
 * no sender takes the others' room.
 *
 * Record: the topic with its NUL, a 4-byte length (host order: the
 * file never leaves the box), the payload.
 */
#include <sys/stat.h>

#include <dirent.h>
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
#define HELD_SHARE	64	/* ...of them one sender's */
#define HELD_NAME	32

/* who signed what this drain holds, in the order held */
static char held_from[HELD_MAX][NODE_MAX + 1];

/* The signer of m if its signature verifies against our keyring and
 * it holds less than its share; NULL: not to be held. */
static const char *
router_held_signer(const struct router *r, const struct mqtt_msg *m,
    char from[NODE_MAX + 1])
{
	struct inbound_prep p;
	size_t i, n = 0;

	memset(&p, 0, sizeof(p));
	buf_init(&p.msg, 2 * ENVELOPE_MAX_WIRE);
	inbound_prepare(&r->in, m->topic, m->payload, m->len, &p);
	if (p.state != INBOUND_PREP_REFUSED) {
		if (p.state == INBOUND_PREP_CHECKED && p.ok)
			hive_strlcpy(from, p.e.from, NODE_MAX + 1);
		envelope_free(&p.e);
	}
	buf_free(&p.msg);
	if (p.state != INBOUND_PREP_CHECKED || !p.ok)
		return NULL;
	for (i = 0; i < r->nheld; i++)
		n += strcmp(held_from[i], from) == 0;
	return n < HELD_SHARE ? from : NULL;
}

/* the files loaded at start, removed once routed */
static char (*held_names)[HELD_NAME];
static size_t held_nnames;

/* A command or sync to one of our nodes or all: what the drain holds. */
int
router_held_wanted(const struct router *r, const struct mqtt_msg *m)
{
	const char *ch = strrchr(m->topic, '/');

	if (!r->draining || m->oversize || m->payload == NULL || ch == NULL)
		return 0;
	return strcmp(ch, "/command") == 0 || strcmp(ch, "/sync") == 0;
}

/* Hold m for the next start; 0, or -1 (logged: route it as before). */
int
router_held_put(struct router *r, const struct mqtt_msg *m)
{
	char tmp[CONFIG_PATH_MAX + 72], path[CONFIG_PATH_MAX + 64];
	char from[NODE_MAX + 1];
	uint32_t len = (uint32_t)m->len;
	int fd, ok;

	if (r->nheld >= HELD_MAX || router_held_signer(r, m, from) == NULL)
		return -1;
	/* sorted by name = in arrival order; unique across drains */
	snprintf(path, sizeof(path), "%s/held/%012lld-%04zu",
	    r->cfg->state_dir, (long long)r->started, r->nheld);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600))
	    == -1) {
		log_warn("held %s", tmp);
		return -1;
	}
	ok = hive_write_all(fd, m->topic, strlen(m->topic) + 1) == 0 &&
	    hive_write_all(fd, &len, sizeof(len)) == 0 &&
	    hive_write_all(fd, m->payload, m->len) == 0;
	if (close(fd) == -1 || !ok || rename(tmp, path) == -1) {
		log_warn("held %s: write failed", path);
		(void)unlink(tmp);
		return -1;
	}
	hive_strlcpy(held_from[r->nheld++], from, NODE_MAX + 1);
	log_info("draining: a message from %s on %s held for the next start",
	    from, m->topic);
	return 0;
}

/* One held file into m: 0, or -1 (torn: left out, and left there). */
static int
router_held_file(const char *path, struct mqtt_msg *m)
{
	char *buf = malloc(ENVELOPE_MAX_WIRE + 512), *nul;
	size_t n = 0, tl;
	ssize_t k;
	uint32_t len;
	int fd;

	if (buf == NULL)
		fatal("malloc");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		fatal("held %s", path);
	while (n < ENVELOPE_MAX_WIRE + 512 && (k = read(fd, buf + n,
	    ENVELOPE_MAX_WIRE + 512 - n)) != 0)
		if (k > 0)
			n += (size_t)k;
		else if (errno != EINTR)
			fatal("held %s", path);
	close(fd);
	memset(m, 0, sizeof(*m));
	if ((nul = memchr(buf, '\0', n)) == NULL ||
	    n - (tl = (size_t)(nul - buf) + 1) < sizeof(len) ||
	    (memcpy(&len, nul + 1, sizeof(len)), n - tl - sizeof(len) != len)) {
		free(buf);
		return -1;
	}
	if ((m->topic = strdup(buf)) == NULL ||
	    (m->payload = malloc(len + 1)) == NULL)
		fatal("malloc");
	memcpy(m->payload, nul + 1 + sizeof(len), len);
	m->payload[len] = '\0';
	m->len = len;
	free(buf);
	return 0;
}

static int
router_held_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The held files' names, sorted (arrival order); how many. */
static size_t
router_held_names(const char *dir)
{
	struct dirent *de;
	DIR *d;
	size_t n = 0;

	if ((d = opendir(dir)) == NULL)
		fatal("held %s", dir);
	while (n < HELD_MAX && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= HELD_NAME ||
		    strchr(de->d_name, '.') != NULL)
			continue;	/* ., .., a crash's .tmp */
		hive_strlcpy(held_names[n++], de->d_name, HELD_NAME);
	}
	closedir(d);
	qsort(held_names, n, HELD_NAME, router_held_cmp);
	return n;
}

/* At start, as the router's user: what the last drain held. */
void
router_held_load(struct router *r)
{
	char dir[CONFIG_PATH_MAX + 16], path[CONFIG_PATH_MAX + 64];
	size_t i, n;

	snprintf(dir, sizeof(dir), "%s/held", r->cfg->state_dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", dir);
	if ((held_names = calloc(HELD_MAX, HELD_NAME)) == NULL ||
	    (r->held = calloc(HELD_MAX, sizeof(*r->held))) == NULL)
		fatal("calloc");
	n = held_nnames = router_held_names(dir);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, held_names[i]);
		if (router_held_file(path, &r->held[r->nheld]) == -1) {
			log_warnx("held %s: torn, left out", path);
			held_names[i][0] = '\0';
		} else
			r->nheld++;
	}
	if (r->nheld > 0)
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

/* After the turn that routed them all: the files' work is done. */
void
router_held_done(struct router *r)
{
	char path[CONFIG_PATH_MAX + 64];
	size_t i;

	if (r->held == NULL || r->held_next < r->nheld)
		return;
	for (i = 0; i < held_nnames; i++) {
		if (held_names[i][0] == '\0')
			continue;	/* torn: left for the operator */
		snprintf(path, sizeof(path), "%s/held/%s", r->cfg->state_dir,
		    held_names[i]);
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("held %s", path);
	}
	free(held_names);
	held_names = NULL;
	held_nnames = 0;
	free(r->held);
	r->held = NULL;
	r->nheld = r->held_next = 0;
}
