/*
 * keys.c - key ids, public and secret key files, key generation.
 *
 * Decoding always yields exactly the expected size and the algorithm
 * tag is checked (minisign's rule); a secret file is created with
 * O_EXCL and mode 0600, and loaded only if it is a regular file that
 * group and others cannot read, opened with O_NOFOLLOW.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "util.h"

#define PUB_TAG		"hive-ed25519"
#define SEC_TAG		"hive-ed25519-secret"
#define ADMIN_PUB_TAG	"hive-admin-ed25519"
#define ADMIN_SEC_TAG	"hive-admin-ed25519-secret"
#define KEYFILE_MAX	4096

/*
 * Node keys and admin keys share one file format and differ only in
 * their tags: a node key can never be loaded where an admin key is
 * expected, nor the other way round, because the tag is checked
 * before anything else is decoded.
 */
struct key_kind {
	const char	*pub;		/* tag of the .pub line */
	const char	*sec;		/* tag of the .key line */
	const char	*other_pub;	/* the other kind's tags, named in */
	const char	*other_sec;	/* the refusal so it says why */
	const char	*what;		/* comment line of the .pub */
};

static const struct key_kind kind_node = {
	PUB_TAG, SEC_TAG, ADMIN_PUB_TAG, ADMIN_SEC_TAG, "hive public key"
};
static const struct key_kind kind_admin = {
	ADMIN_PUB_TAG, ADMIN_SEC_TAG, PUB_TAG, SEC_TAG,
	"hive admin public key"
};

void
key_kid(const uint8_t pk[KEY_PUB_BYTES], char kid[KID_HEX_LEN + 1])
{
	uint8_t h[32];

	crypto_generichash(h, sizeof(h), pk, KEY_PUB_BYTES, NULL, 0);
	sodium_bin2hex(kid, KID_HEX_LEN + 1, h, KID_HEX_LEN / 2);
}

void
key_fingerprint(const uint8_t pk[KEY_PUB_BYTES], char *out, size_t len)
{
	uint8_t h[32];
	char hex[65];

	crypto_generichash(h, sizeof(h), pk, KEY_PUB_BYTES, NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, len, "blake2b:%s", hex);
}

/* Decode standard padded base64 to exactly want bytes. */
static int
key_b64(const char *s, size_t slen, uint8_t *out, size_t want)
{
	size_t binlen = 0;
	const char *end = NULL;

	if (sodium_base642bin(out, want, s, slen, NULL, &binlen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return (binlen == want && end == s + slen) ? 0 : -1;
}

/*
 * Split one key line "TAG B64 NODE" (single spaces or tabs) in place.
 * Returns 0 and pointers into line, or -1.
 */
static int
key_split(char *line, char **tag, char **b64, char **node)
{
	char *save = NULL;

	*tag = strtok_r(line, " \t", &save);
	*b64 = strtok_r(NULL, " \t", &save);
	*node = strtok_r(NULL, " \t", &save);
	if (*tag == NULL || *b64 == NULL || *node == NULL ||
	    strtok_r(NULL, " \t", &save) != NULL)
		return -1;
	return 0;
}

/*
 * Find the single key line in text: '#' comments and blank lines
 * ignored, exactly one other line.  Copies it into line.
 */
static int
key_find_line(const char *text, size_t len, char *line, size_t linesz,
    int *lineno)
{
	size_t i = 0, start, n;
	int found = 0, no = 0;

	while (i < len) {
		start = i;
		while (i < len && text[i] != '\n')
			i++;
		n = i - start;
		i++;
		no++;
		if (n > 0 && text[start + n - 1] == '\r')
			n--;
		if (n == 0 || text[start] == '#')
			continue;
		if (found++ || n >= linesz || memchr(text + start, 0, n))
			return -1;
		memcpy(line, text + start, n);
		line[n] = '\0';
		*lineno = no;
	}
	return found == 1 ? 0 : -1;
}

/* The refusal for a line whose tag is not ours: names the other kind. */
static void
key_tag_refusal(const struct key_kind *kk, const char *tag, int secret,
    const char *name, int lineno, char *err, size_t errlen)
{
	const char *want = secret ? kk->sec : kk->pub;

	if (tag != NULL && (strcmp(tag, kk->other_pub) == 0 ||
	    strcmp(tag, kk->other_sec) == 0))
		snprintf(err, errlen, "%s:%d: this is a '%s' key, not a '%s' "
		    "key; refusing", name, lineno, tag, want);
	else
		snprintf(err, errlen, "%s:%d: not a '%s <base64> <name>' line",
		    name, lineno, want);
}

static int
pubkey_parse_kind(const struct key_kind *kk, const char *text, size_t len,
    const char *name, struct pubkey *out, char *err, size_t errlen)
{
	char line[512], *tag, *b64, *node;
	int lineno = 0;

	memset(out, 0, sizeof(*out));
	if (key_find_line(text, len, line, sizeof(line), &lineno) == -1) {
		snprintf(err, errlen, "%s: expected exactly one key line", name);
		return -1;
	}
	if (key_split(line, &tag, &b64, &node) == -1 ||
	    strcmp(tag, kk->pub) != 0) {
		key_tag_refusal(kk, tag, 0, name, lineno, err, errlen);
		return -1;
	}
	if (key_b64(b64, strlen(b64), out->pk, KEY_PUB_BYTES) == -1) {
		snprintf(err, errlen, "%s:%d: public key is not base64 of "
		    "32 bytes", name, lineno);
		return -1;
	}
	if (!valid_node(node)) {
		snprintf(err, errlen, "%s:%d: invalid node id", name, lineno);
		return -1;
	}
	hive_strlcpy(out->node, node, sizeof(out->node));
	key_kid(out->pk, out->kid);
	return 0;
}

int
pubkey_parse(const char *text, size_t len, const char *name,
    struct pubkey *out, char *err, size_t errlen)
{
	return pubkey_parse_kind(&kind_node, text, len, name, out, err, errlen);
}

int
admin_pubkey_parse(const char *text, size_t len, const char *name,
    struct pubkey *out, char *err, size_t errlen)
{
	return pubkey_parse_kind(&kind_admin, text, len, name, out, err,
	    errlen);
}

/* Read a small file from an open descriptor into buf (NUL-terminated). */
static ssize_t
key_read_fd(int fd, char *buf, size_t bufsz)
{
	size_t len = 0;
	ssize_t n;

	while (len < bufsz - 1) {
		n = read(fd, buf + len, bufsz - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == bufsz - 1)
		return -1;	/* too large for a key file */
	buf[len] = '\0';
	return (ssize_t)len;
}

static int
pubkey_load_kind(const struct key_kind *kk, const char *path,
    struct pubkey *out, char *err, size_t errlen)
{
	char text[KEYFILE_MAX];
	ssize_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	len = key_read_fd(fd, text, sizeof(text));
	close(fd);
	if (len == -1) {
		snprintf(err, errlen, "%s: unreadable or too large", path);
		return -1;
	}
	return pubkey_parse_kind(kk, text, (size_t)len, path, out, err,
	    errlen);
}

int
pubkey_load(const char *path, struct pubkey *out, char *err, size_t errlen)
{
	return pubkey_load_kind(&kind_node, path, out, err, errlen);
}

int
admin_pubkey_load(const char *path, struct pubkey *out, char *err,
    size_t errlen)
{
	return pubkey_load_kind(&kind_admin, path, out, err, errlen);
}

/* The secret file's checks, on the opened descriptor. */
static int
seckey_check_fd(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "%s: secret key is accessible by group "
		    "or others (mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/*
 * The pages holding a secret key read as zeros in every child the
 * process forks (MADV_WIPEONFORK, Linux 4.14): the monitor forks the
 * router, the injectors and every handler run, none of which needs
 * the key, and a forked child keeps its copy of the monitor's memory
 * until its execve.  sodium_malloc() maps the key's pages privately on
 * their own, guard pages around, so nothing else shares them.
 */
static void
seckey_wipeonfork(void *p, size_t len)
{
#ifdef MADV_WIPEONFORK
	static int warned;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(pg - 1);
	uintptr_t e = ((uintptr_t)p + len + pg - 1) & ~(pg - 1);

	if (madvise((void *)a, e - a, MADV_WIPEONFORK) == -1 && !warned++)
		log_warn("madvise MADV_WIPEONFORK: forked children keep a "
		    "copy of the secret key until they exec");
#else
	(void)p;
	(void)len;
#endif
}

static int
seckey_alloc(struct seckey *out)
{
	memset(out, 0, sizeof(*out));
	if ((out->sk = sodium_malloc(KEY_SEC_BYTES)) == NULL)
		return -1;
	seckey_wipeonfork(out->sk, KEY_SEC_BYTES);
	return 0;
}

/* Recompute the public half from the seed half: a corrupted or
 * hand-edited secret file fails here instead of signing garbage. */
static int
seckey_consistent(struct seckey *k)
{
	uint8_t pk2[KEY_PUB_BYTES], *tmp;
	int ok;

	if (crypto_sign_ed25519_sk_to_pk(k->pk, k->sk) != 0)
		return -1;
	if ((tmp = sodium_malloc(KEY_SEC_BYTES)) == NULL)
		fatal("sodium_malloc");
	ok = crypto_sign_seed_keypair(pk2, tmp, k->sk) == 0 &&
	    sodium_memcmp(pk2, k->pk, sizeof(pk2)) == 0;
	sodium_free(tmp);
	if (!ok)
		return -1;
	key_kid(k->pk, k->kid);
	return 0;
}

static int
seckey_parse(const struct key_kind *kk, char *text, size_t len,
    const char *path, struct seckey *out, char *err, size_t errlen)
{
	char *line, *tag, *b64, *node;
	int lineno = 0, rc = -1;

	if ((line = sodium_malloc(512)) == NULL)
		fatal("sodium_malloc");
	tag = NULL;
	if (key_find_line(text, len, line, 512, &lineno) == -1 ||
	    key_split(line, &tag, &b64, &node) == -1 ||
	    strcmp(tag, kk->sec) != 0)
		key_tag_refusal(kk, tag, 1, path, lineno, err, errlen);
	else if (key_b64(b64, strlen(b64), out->sk, KEY_SEC_BYTES) == -1)
		snprintf(err, errlen, "%s:%d: secret key is not base64 of 64 "
		    "bytes", path, lineno);
	else if (!valid_node(node))
		snprintf(err, errlen, "%s:%d: invalid node id", path, lineno);
	else if (seckey_consistent(out) == -1)
		snprintf(err, errlen, "%s:%d: secret key is corrupt (public "
		    "half does not match)", path, lineno);
	else {
		hive_strlcpy(out->node, node, sizeof(out->node));
		rc = 0;
	}
	sodium_free(line);
	return rc;
}

static int
seckey_load_kind(const struct key_kind *kk, const char *path,
    struct seckey *out, char *err, size_t errlen)
{
	char *text;
	ssize_t len;
	int fd, rc = -1;

	if (seckey_alloc(out) == -1)
		fatal("sodium_malloc");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, errno == ELOOP ?
		    "secret key is a symlink; refusing" : strerror(errno));
		seckey_free(out);
		return -1;
	}
	if ((text = sodium_malloc(KEYFILE_MAX)) == NULL)
		fatal("sodium_malloc");
	if (seckey_check_fd(fd, path, err, errlen) == 0) {
		if ((len = key_read_fd(fd, text, KEYFILE_MAX)) == -1)
			snprintf(err, errlen, "%s: unreadable or too large",
			    path);
		else
			rc = seckey_parse(kk, text, (size_t)len, path, out,
			    err, errlen);
	}
	close(fd);
	sodium_free(text);	/* wipes */
	if (rc == -1)
		seckey_free(out);
	return rc;
}

int
seckey_load(const char *path, struct seckey *out, char *err, size_t errlen)
{
	return seckey_load_kind(&kind_node, path, out, err, errlen);
}

int
admin_seckey_load(const char *path, struct seckey *out, char *err,
    size_t errlen)
{
	return seckey_load_kind(&kind_admin, path, out, err, errlen);
}

void
seckey_free(struct seckey *k)
{
	if (k->sk != NULL)
		sodium_free(k->sk);	/* zeroes before unmapping */
	memset(k, 0, sizeof(*k));
}

int
seckey_from_seed(const uint8_t seed[32], const char *node, struct seckey *out)
{
	if (!valid_node(node) || seckey_alloc(out) == -1)
		return -1;
	if (crypto_sign_seed_keypair(out->pk, out->sk, seed) != 0) {
		seckey_free(out);
		return -1;
	}
	hive_strlcpy(out->node, node, sizeof(out->node));
	key_kid(out->pk, out->kid);
	return 0;
}

/* Write a whole new file; O_EXCL so an existing key is never replaced. */
static int
key_write_new(const char *path, const char *text, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	int fd;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, errno == EEXIST ?
		    "exists; refusing to overwrite" : strerror(errno));
		return -1;
	}
	n = write(fd, text, len);
	if (n != (ssize_t)len || fchmod(fd, mode) == -1 || fsync(fd) == -1) {
		snprintf(err, errlen, "%s: write failed", path);
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

static void
key_paths(const char *dir, const char *node, char *key, char *pub, size_t sz)
{
	snprintf(key, sz, "%s/%s.key", dir, node);
	snprintf(pub, sz, "%s/%s.pub", dir, node);
}

/* Writes DIR/NAME.key and DIR/NAME.pub with the kind's tags. */
static int
key_write_kind(const struct key_kind *kk, const char *dir,
    const struct seckey *k, char *err, size_t errlen)
{
	char kpath[4096], ppath[4096], pubtext[256];
	char b64pk[sodium_base64_ENCODED_LEN(KEY_PUB_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	char *sectext, *b64sk;
	size_t seclen = 256, b64len = sodium_base64_ENCODED_LEN(KEY_SEC_BYTES,
	    sodium_base64_VARIANT_ORIGINAL);
	int rc;

	key_paths(dir, k->node, kpath, ppath, sizeof(kpath));
	if (access(kpath, F_OK) == 0 || access(ppath, F_OK) == 0) {
		snprintf(err, errlen, "%s or %s exists; refusing to overwrite",
		    kpath, ppath);
		return -1;
	}
	sodium_bin2base64(b64pk, sizeof(b64pk), k->pk, KEY_PUB_BYTES,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(pubtext, sizeof(pubtext), "# %s, kid %s\n"
	    "%s %s %s\n", kk->what, k->kid, kk->pub, b64pk, k->node);
	if ((sectext = sodium_malloc(seclen)) == NULL ||
	    (b64sk = sodium_malloc(b64len)) == NULL)
		fatal("sodium_malloc");
	sodium_bin2base64(b64sk, b64len, k->sk, KEY_SEC_BYTES,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(sectext, seclen, "%s %s %s\n", kk->sec, b64sk, k->node);
	rc = key_write_new(kpath, sectext, strlen(sectext), 0600, err, errlen);
	if (rc == 0 && (rc = key_write_new(ppath, pubtext, strlen(pubtext),
	    0644, err, errlen)) == -1)
		unlink(kpath);
	sodium_free(sectext);
	sodium_free(b64sk);
	return rc;
}

int
key_write_files(const char *dir, const struct seckey *k, char *err,
    size_t errlen)
{
	return key_write_kind(&kind_node, dir, k, err, errlen);
}

int
admin_key_write_files(const char *dir, const struct seckey *k, char *err,
    size_t errlen)
{
	return key_write_kind(&kind_admin, dir, k, err, errlen);
}

static int
key_generate_kind(const struct key_kind *kk, const char *dir,
    const char *node, char kid[KID_HEX_LEN + 1], char *err, size_t errlen)
{
	struct seckey k;
	int rc;

	if (!valid_node(node)) {
		snprintf(err, errlen, "invalid node id '%s' ([a-z0-9._-], "
		    "1..64, not 'all' or 'meta')", node);
		return -1;
	}
	if (seckey_alloc(&k) == -1)
		fatal("sodium_malloc");
	crypto_sign_keypair(k.pk, k.sk);
	hive_strlcpy(k.node, node, sizeof(k.node));
	key_kid(k.pk, k.kid);
	rc = key_write_kind(kk, dir, &k, err, errlen);
	if (rc == 0)
		memcpy(kid, k.kid, KID_HEX_LEN + 1);
	seckey_free(&k);
	return rc;
}

int
key_generate(const char *dir, const char *node, char kid[KID_HEX_LEN + 1],
    char *err, size_t errlen)
{
	return key_generate_kind(&kind_node, dir, node, kid, err, errlen);
}

/* The admin key's files are DIR/admin.key and DIR/admin.pub. */
int
admin_key_generate(const char *dir, char kid[KID_HEX_LEN + 1], char *err,
    size_t errlen)
{
	return key_generate_kind(&kind_admin, dir, ADMIN_KEY_NAME, kid, err,
	    errlen);
}
