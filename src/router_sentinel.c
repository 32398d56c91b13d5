/*
 * router_sentinel.c - what each sentinel last said, so that one which
 * keeps finding the same problem wakes the agent once.
 *
 * A sentinel's ok result may carry "state" (1..SENTINEL_STATE_MAX
 * bytes, docs/handler-contract.md, "Sentinels").  The router keeps the
 * state of each sentinel's last ok run, one per action, and a result
 * that asks to wake with the state it already had wakes nobody.  A
 * result without "state" forgets it; a failed run leaves it alone.
 *
 * {state_dir}/sentinels/ACTION holds the state, written to ACTION.tmp
 * and renamed (as the correlation journal), removed when forgotten,
 * and read back at start: a restart does not wake the agent again for
 * a problem it was already told about.  Action names hold no '/' or
 * '.', so each is one plain file; at most ROUTER_HANDLERS are kept.
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

struct router_sentinel {
	char	action[ENVELOPE_ACTION_MAX + 1];	/* "": free */
	char	state[SENTINEL_STATE_MAX + 1];
};

static void
router_sentinel_path(const struct router *r, const char *action,
    const char *sfx, char *out, size_t len)
{
	snprintf(out, len, "%s/sentinels/%s%s", r->cfg->state_dir, action,
	    sfx);
}

static void
router_sentinel_save(const struct router *r, const struct router_sentinel *s)
{
	char tmp[CONFIG_PATH_MAX + 96], path[CONFIG_PATH_MAX + 96];
	int fd, ok = 0;

	router_sentinel_path(r, s->action, ".tmp", tmp, sizeof(tmp));
	router_sentinel_path(r, s->action, "", path, sizeof(path));
	(void)unlink(tmp);		/* a crash's leftover */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600))
	    != -1) {
		ok = hive_write_all(fd, s->state, strlen(s->state)) == 0;
		ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
		if (!ok)
			(void)unlink(tmp);
	}
	if (!ok)
		log_warn("sentinel %s: cannot keep its state in %s (a restart "
		    "wakes once more)", s->action, path);
}

static void
router_sentinel_unsave(const struct router *r, const char *action)
{
	char path[CONFIG_PATH_MAX + 96];

	router_sentinel_path(r, action, "", path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("sentinel %s: unlink %s", action, path);
}

/* One file back: -1 if it is not a state we could have written. */
static int
router_sentinel_load(struct router *r, int dirfd, const char *name,
    struct router_sentinel *s)
{
	ssize_t n;
	int fd;

	if (!envelope_valid_action(name) || (fd = openat(dirfd, name,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, s->state, sizeof(s->state));
	close(fd);
	if (n <= 0 || n > SENTINEL_STATE_MAX ||
	    memchr(s->state, '\0', (size_t)n) != NULL)
		return -1;
	s->state[n] = '\0';
	hive_strlcpy(s->action, name, sizeof(s->action));
	(void)r;
	return 0;
}

/* Before the sandbox: the directory, read back. */
void
router_sentinel_setup(struct router *r)
{
	char dir[CONFIG_PATH_MAX + 16];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if ((r->sentinels = calloc(ROUTER_HANDLERS, sizeof(*r->sentinels)))
	    == NULL)
		fatal("calloc");
	snprintf(dir, sizeof(dir), "%s/sentinels", r->cfg->state_dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", dir);
	if ((d = opendir(dir)) == NULL)
		fatal("sentinel states %s", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (strchr(de->d_name, '.') != NULL)	/* never renamed */
			(void)unlinkat(dirfd(d), de->d_name, 0);
		else if (n == ROUTER_HANDLERS || router_sentinel_load(r,
		    dirfd(d), de->d_name, &r->sentinels[n]) == -1)
			log_warnx("sentinel states: ignoring %s/%s", dir,
			    de->d_name);
		else
			n++;
	}
	closedir(d);
}

void
router_sentinel_free(struct router *r)
{
	free(r->sentinels);
	r->sentinels = NULL;
}

/* The slot of action: its own, a free one, or one of an action no
 * longer installed (every sentinel is installed, so there is one). */
static struct router_sentinel *
router_sentinel_slot(struct router *r, const char *action)
{
	struct router_sentinel *free_slot = NULL, *s;
	size_t i;

	for (i = 0; i < ROUTER_HANDLERS; i++) {
		s = &r->sentinels[i];
		if (strcmp(s->action, action) == 0)
			return s;
		if (free_slot == NULL && (s->action[0] == '\0' ||
		    !router_has_handler(r, s->action)))
			free_slot = s;
	}
	if (free_slot == NULL)
		fatalx("sentinel %s: no room for its state", action);
	if (free_slot->action[0] != '\0')
		router_sentinel_unsave(r, free_slot->action);
	memset(free_slot, 0, sizeof(*free_slot));
	return free_slot;
}

/*
 * An ok run of sentinel action said state (NULL: none).  Keeps it and
 * returns whether it is new: 1 when it differs from the last run's or
 * is NULL (a sentinel without state wakes every time it asks), 0 when
 * the same problem is said again.
 */
int
router_sentinel_changed(struct router *r, const char *action,
    const char *state)
{
	struct router_sentinel *s = router_sentinel_slot(r, action);

	if (state == NULL) {
		if (s->action[0] != '\0')
			router_sentinel_unsave(r, action);
		memset(s, 0, sizeof(*s));
		return 1;
	}
	if (s->action[0] != '\0' && strcmp(s->state, state) == 0)
		return 0;
	hive_strlcpy(s->action, action, sizeof(s->action));
	hive_strlcpy(s->state, state, sizeof(s->state));
	router_sentinel_save(r, s);
	return 1;
}
