/*
 * keyring.c - the trusted keyring: a directory of *.pub files plus an
 * optional "revoked" file.
 *
 * Trust is only ever added by a well-formed .pub file that nobody but
 * its owner can write; anything else is skipped with a warning (that
 * can only remove trust, so skipping fails closed).  The revoked file
 * is different: if it exists and cannot be parsed the whole load
 * fails, because not knowing what is revoked must not mean "nothing".
 *
 * Revocation survives a stray copy of a .pub: a listed kid is refused
 * whatever files are present.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "envelope.h"
#include "keys.h"
#include "log.h"
#include "util.h"

#define KEYRING_MAX_KEYS	4096
#define REVOKED_MAX		(1 << 20)

const char *
key_state_name(enum key_state s)
{
	switch (s) {
	case KEY_TRUSTED:
		return "trusted";
	case KEY_REVOKED:
		return "revoked";
	case KEY_CONFLICT:
		return "conflict";
	}
	fatalx("key_state_name: impossible state %d", (int)s);
}

static int
keyring_writable_by_others(const struct stat *st)
{
	return (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

static int
keyring_has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && strcmp(name + n - s, suffix) == 0;
}

/* Load one .pub entry of the directory; 1 added, 0 skipped. */
static int
keyring_add_file(struct keyring *kr, int dfd, const char *dir,
    const char *name)
{
	struct trusted_key *k;
	struct stat st;
	char path[4096], err[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode)) {
		log_warnx("keyring: %s: not a regular file; skipped", path);
		return 0;
	}
	if (keyring_writable_by_others(&st)) {
		log_warnx("keyring: %s: writable by group or others; skipped",
		    path);
		return 0;
	}
	if (kr->nkeys >= KEYRING_MAX_KEYS) {
		log_warnx("keyring: %s: more than %d keys; skipped", path,
		    KEYRING_MAX_KEYS);
		return 0;
	}
	k = &kr->keys[kr->nkeys];
	memset(k, 0, sizeof(*k));
	if (pubkey_load(path, &k->pub, err, sizeof(err)) == -1) {
		log_warnx("keyring: %s; skipped", err);
		return 0;
	}
	hive_strlcpy(k->file, name, sizeof(k->file));
	kr->nkeys++;
	return 1;
}

/* Same kid in two files: the same key for the same node is a harmless
 * duplicate (dropped); another node, or another key with a colliding
 * kid, is a conflict and both are refused. */
static void
keyring_mark_conflicts(struct keyring *kr)
{
	size_t i, j;

	for (i = 0; i < kr->nkeys; i++) {
		for (j = i + 1; j < kr->nkeys; j++) {
			if (strcmp(kr->keys[i].pub.kid, kr->keys[j].pub.kid))
				continue;
			if (strcmp(kr->keys[i].pub.node, kr->keys[j].pub.node) ||
			    memcmp(kr->keys[i].pub.pk, kr->keys[j].pub.pk,
			    KEY_PUB_BYTES) != 0) {
				kr->keys[i].state = KEY_CONFLICT;
				kr->keys[j].state = KEY_CONFLICT;
				log_warnx("keyring: kid %s is claimed by %s and "
				    "%s; refusing both", kr->keys[i].pub.kid,
				    kr->keys[i].pub.node, kr->keys[j].pub.node);
				continue;
			}
			kr->keys[j] = kr->keys[--kr->nkeys];
			j--;
		}
	}
}

static int
keyring_revoked_line(struct keyring *kr, char *line, const char *path,
    int lineno, char *err, size_t errlen)
{
	char *w[5], *save = NULL, *end;
	int n = 0;
	long long ts;

	while (n < 5 && (w[n] = strtok_r(n ? NULL : line, " \t", &save)))
		n++;
	if (n == 1 && valid_kid(w[0])) {
		kr->revoked_kids = realloc(kr->revoked_kids,
		    (kr->nrevoked + 1) * sizeof(char *));
		if (kr->revoked_kids == NULL ||
		    (kr->revoked_kids[kr->nrevoked] = strdup(w[0])) == NULL)
			fatal("keyring");
		kr->nrevoked++;
		return 0;
	}
	if (n == 4 && strcmp(w[0], "node") == 0 && valid_node(w[1]) &&
	    strcmp(w[2], "before") == 0) {
		errno = 0;
		ts = strtoll(w[3], &end, 10);
		if (errno == 0 && *end == '\0' && end != w[3] && ts >= 0) {
			kr->floors = realloc(kr->floors,
			    (kr->nfloors + 1) * sizeof(*kr->floors));
			if (kr->floors == NULL)
				fatal("keyring");
			hive_strlcpy(kr->floors[kr->nfloors].node, w[1], NODE_MAX + 1);
			kr->floors[kr->nfloors++].before = ts;
			return 0;
		}
	}
	snprintf(err, errlen, "%s:%d: expected a kid (16 hex digits) or "
	    "'node NAME before UNIXTIME'", path, lineno);
	return -1;
}

static int
keyring_parse_revoked(struct keyring *kr, char *text, const char *path,
    char *err, size_t errlen)
{
	char *line, *p;
	int lineno = 0;

	/* strtok_r would merge blank lines and shift numbers: split by hand */
	for (line = text; line != NULL; line = p) {
		if ((p = strchr(line, '\n')) != NULL)
			*p++ = '\0';
		lineno++;
		line[strcspn(line, "\r#")] = '\0';	/* comments */
		if (line[strspn(line, " \t")] == '\0')
			continue;
		if (keyring_revoked_line(kr, line, path, lineno, err,
		    errlen) == -1)
			return -1;
	}
	return 0;
}

static int
keyring_load_revoked(struct keyring *kr, int dfd, const char *dir,
    char *err, size_t errlen)
{
	char path[4096], *text;
	struct stat st;
	ssize_t n;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/revoked", dir);
	fd = openat(dfd, "revoked", O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return 0;
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > REVOKED_MAX || keyring_writable_by_others(&st)) {
		snprintf(err, errlen, "%s: cannot be trusted (%s)", path,
		    fd == -1 ? strerror(errno) :
		    "not a regular file, too large, or writable by others");
		if (fd != -1)
			close(fd);
		return -1;
	}
	if ((text = calloc(1, (size_t)st.st_size + 1)) == NULL)
		fatal("keyring");
	n = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size || memchr(text, 0, (size_t)n) != NULL) {
		snprintf(err, errlen, "%s: short read or NUL byte", path);
		free(text);
		return -1;
	}
	rc = keyring_parse_revoked(kr, text, path, err, errlen);
	free(text);
	return rc;
}

static void
keyring_apply_revoked(struct keyring *kr)
{
	size_t i, j;

	for (i = 0; i < kr->nkeys; i++)
		for (j = 0; j < kr->nrevoked; j++)
			if (strcmp(kr->keys[i].pub.kid, kr->revoked_kids[j]) == 0)
				kr->keys[i].state = KEY_REVOKED;
}

static int
keyring_keycmp(const void *a, const void *b)
{
	const struct trusted_key *x = a, *y = b;
	int c = strcmp(x->pub.node, y->pub.node);

	return c ? c : strcmp(x->pub.kid, y->pub.kid);
}

int
keyring_load(const char *dir, struct keyring *kr, char *err, size_t errlen)
{
	struct dirent *de;
	DIR *d;
	int dfd;

	memset(kr, 0, sizeof(*kr));
	if ((dfd = config_open_dir(dir, err, errlen)) == -1)
		return -1;
	if ((kr->keys = calloc(KEYRING_MAX_KEYS, sizeof(*kr->keys))) == NULL)
		fatal("keyring");
	if ((d = fdopendir(dup(dfd))) == NULL)
		fatal("fdopendir");
	while ((de = readdir(d)) != NULL) {
		/* node ids may begin with '.', so ".x.pub" is a key too */
		if (!keyring_has_suffix(de->d_name, ".pub"))
			continue;
		if (keyring_add_file(kr, dfd, dir, de->d_name) == 0)
			kr->skipped++;
	}
	closedir(d);
	keyring_mark_conflicts(kr);
	if (keyring_load_revoked(kr, dfd, dir, err, errlen) == -1) {
		close(dfd);
		keyring_free(kr);
		return -1;
	}
	close(dfd);
	keyring_apply_revoked(kr);
	qsort(kr->keys, kr->nkeys, sizeof(*kr->keys), keyring_keycmp);
	keyring_index(kr);
	return 0;
}

/* By kid, then by place in keys: a kid twice (both KEY_CONFLICT) is
 * found first where the scan in keys order would find it first. */
static int
keyring_kidcmp(const void *a, const void *b)
{
	const struct trusted_key *x = *(const struct trusted_key *const *)a;
	const struct trusted_key *y = *(const struct trusted_key *const *)b;
	int c = strcmp(x->pub.kid, y->pub.kid);

	return c ? c : (x > y) - (x < y);
}

/*
 * Every received message looks its kid up (twice: the gate, then the
 * signature), and a cluster's keyring holds hundreds of keys: a scan
 * of them cost the router about 4% of its time in bench/bus.sh (257
 * keys).  keys stays in (node, kid) order for hive-cli keys list.
 */
void
keyring_index(struct keyring *kr)
{
	size_t i;

	free(kr->bykid);
	if ((kr->bykid = calloc(kr->nkeys + 1, sizeof(*kr->bykid))) == NULL)
		fatal("keyring");
	for (i = 0; i < kr->nkeys; i++)
		kr->bykid[i] = &kr->keys[i];
	qsort(kr->bykid, kr->nkeys, sizeof(*kr->bykid), keyring_kidcmp);
}

/* The first key with kid: in bykid the leftmost, else a scan. */
const struct trusted_key *
keyring_find(const struct keyring *kr, const char *kid)
{
	size_t i, lo = 0, hi = kr->nkeys, mid;

	if (kr->bykid == NULL) {
		for (i = 0; i < kr->nkeys; i++)
			if (strcmp(kr->keys[i].pub.kid, kid) == 0)
				return &kr->keys[i];
		return NULL;
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(kr->bykid[mid]->pub.kid, kid) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < kr->nkeys && strcmp(kr->bykid[lo]->pub.kid, kid) == 0)
		return kr->bykid[lo];
	return NULL;
}

int
keyring_node_revoked(const struct keyring *kr, const char *node, int64_t ts)
{
	size_t i;

	for (i = 0; i < kr->nfloors; i++)
		if (strcmp(kr->floors[i].node, node) == 0 &&
		    ts < kr->floors[i].before)
			return 1;
	return 0;
}

/* Has node a key we trust?  (Where a message to it could come from.) */
int
keyring_has_node(const struct keyring *kr, const char *node)
{
	size_t i;

	for (i = 0; i < kr->nkeys; i++)
		if (kr->keys[i].state == KEY_TRUSTED &&
		    strcmp(kr->keys[i].pub.node, node) == 0)
			return 1;
	return 0;
}

/*
 * Append node to a ", "-separated list unless it is already there;
 * a list that would overflow ends in "..." and takes nothing more.
 * For messages that name the known nodes.
 */
void
node_list_add(char *list, size_t len, const char *node)
{
	size_t n = strlen(list), k = strlen(node);
	const char *p;

	if (n >= 3 && strcmp(list + n - 3, "...") == 0)
		return;
	for (p = list; (p = strstr(p, node)) != NULL; p += k)
		if ((p == list || p[-1] == ' ') && (p[k] == ',' ||
		    p[k] == '\0'))
			return;
	if (n + k + 6 < len)
		snprintf(list + n, len - n, "%s%s", n ? ", " : "", node);
	else if (n + 6 < len)
		snprintf(list + n, len - n, "%s...", n ? ", " : "");
}

void
keyring_list_nodes(const struct keyring *kr, char *list, size_t len)
{
	size_t i;

	for (i = 0; i < kr->nkeys; i++)
		if (kr->keys[i].state == KEY_TRUSTED)
			node_list_add(list, len, kr->keys[i].pub.node);
}

void
keyring_free(struct keyring *kr)
{
	size_t i;

	for (i = 0; i < kr->nrevoked; i++)
		free(kr->revoked_kids[i]);
	free(kr->revoked_kids);
	free(kr->floors);
	free(kr->bykid);
	free(kr->keys);
	memset(kr, 0, sizeof(*kr));
}
