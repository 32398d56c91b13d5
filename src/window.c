/*
 * window.c - the replay window.
 *
 * Entries are keyed 16-byte BLAKE2b digests of (from, 0x00, id), not
 * the raw strings: the key is a per-window secret, so a peer choosing
 * ids cannot aim them at one probe chain.  The table is open
 * addressing with linear probing and backward-shift deletion (no
 * tombstones), at most 3/4 full, allocated with calloc so pages that
 * are never touched are never resident.
 *
 * A slot is 24 bytes: the digest and one word, the entry's expires in
 * its low 40 bits and the index of its sender in the high 24.  The
 * senders are a small table of names and the entries each holds
 * (staged ones included), found by a keyed hash, so that admitting an
 * entry checks its sender's share in O(1).  Index 0 is the
 * unattributed sender: entries loaded from the state file, whose
 * records name no sender.  A sender's index stays with its entries as
 * deletion moves them; a sender that holds nothing leaves the table
 * and its index is reused.
 *
 * A persisted window appends one 32-byte record per admitted entry to
 * its state file before the entry is admitted: window_admit() with a
 * single write() before it returns WINDOW_OK, a batch (window_stage,
 * window_commit) with a single write() of all its records, whole or
 * not at all, before any of them enters the table.  A process crash
 * therefore loses nothing its caller acted on: the record is in the
 * page cache.  Power loss can lose the records appended since
 * the last window_sync(), which the daemon calls about once a second;
 * that is the price of not fsyncing every envelope.
 *
 * File format (little-endian, see docs/window.md):
 *	header	56 bytes: "HIVEWIN1", u32 version = 1, u32 reserved = 0,
 *		key[16], i64 floor, i64 created, check[8]
 *	record	32 bytes: digest[16], i64 expires, check[8]
 * check is BLAKE2b with outlen 8 keyed with key over the bytes before
 * it.  The key sits in the same file, so the checks catch torn and
 * flipped bytes, not an attacker who can write the file.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "window.h"

#define WINDOW_MAGIC		"HIVEWIN1"
#define WINDOW_VERSION		1
#define WINDOW_KEYLEN		16
#define WINDOW_DIGESTLEN	16
#define WINDOW_CHECKLEN		8
#define WINDOW_HDRLEN		56
#define WINDOW_RECLEN		32
#define WINDOW_MINSLOTS		8
#define WINDOW_WRBATCH		256	/* records per write() when rewriting */
/* compact when the file holds more than 2 * live + this many records */
#define WINDOW_COMPACT_SLACK	1024
#define WINDOW_EXPIRES_BITS	40
#define WINDOW_MINSENDERS	16	/* sender table and buckets at first */

/* An occupied slot's expires is > 0, so its word is never 0. */
struct window_slot {
	uint8_t		digest[WINDOW_DIGESTLEN];
	uint64_t	word;		/* sender << 40 | expires; 0: empty */
};

struct window_sender {
	char		*name;		/* NULL: free, or index 0 */
	uint32_t	 held;		/* entries in the table and staged */
	uint32_t	 hash;
	uint32_t	 next;		/* its bucket's chain, or the free
					   list; 0 ends both */
	int		 exempt;	/* no share: never leaves the table */
};

_Static_assert(sizeof(struct window_slot) == 24, "slot must be 24 bytes");
_Static_assert(WINDOW_SENDERS_MAX < (1U << (64 - WINDOW_EXPIRES_BITS)),
    "a sender index fits the slot's high bits");
_Static_assert(WINDOW_EXPIRES_MAX == (INT64_C(1) << WINDOW_EXPIRES_BITS) - 1,
    "expires fits the slot's low bits");
_Static_assert(crypto_shorthash_KEYBYTES == 16, "sender hash key size");
_Static_assert(crypto_generichash_KEYBYTES_MIN <= WINDOW_KEYLEN,
    "key too short for crypto_generichash");

struct window {
	struct window_slot	*slots;
	size_t			 mask;		/* nslots - 1 */
	size_t			 count;		/* occupied slots */
	size_t			 capacity;
	int64_t			 floor;
	int64_t			 created;	/* last whole write of the file */
	int64_t			 horizon;	/* latest now entries were
						   dropped at: see admit */
	int64_t			 swept_at;	/* now of the last full-table sweep */
	int64_t			 earliest;	/* <= every entry's expires:
						   no sweep before it */
	int			 swept;		/* swept_at is valid */
	uint8_t			 key[WINDOW_KEYLEN];
	int			 fd;		/* -1: in memory only */
	char			*path;
	char			*tmppath;
	uint64_t		 nrecords;	/* records in the file */
	int			 dirty;		/* appended since the last fsync */
	int			 syncfail;	/* an fsync failed: see window_sync */
	int			 broken;	/* file ends in a partial record */
	/* records staged by window_stage(), written by window_commit() */
	uint8_t			 pending[WINDOW_BATCH_MAX][WINDOW_RECLEN];
	uint32_t		 pending_sender[WINDOW_BATCH_MAX];
	size_t			 npending;
	/* the senders: [0] unattributed; [1, nsenders) named or free */
	struct window_sender	*senders;
	uint32_t		 nsenders;
	uint32_t		 sendersz;	/* allocated */
	uint32_t		 sfree;		/* free list head; 0: empty */
	uint32_t		 nnamed;	/* named senders in the table */
	uint32_t		*buckets;	/* chain heads; 0: empty */
	uint32_t		 bmask;		/* buckets - 1 */
	uint8_t			 skey[crypto_shorthash_KEYBYTES];
	size_t			 share;		/* entries per named sender */
};

static void
window_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
window_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = saved;
}

/* Close without letting close() overwrite the errno being reported. */
static void
window_close_keep_errno(int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
}

static void
window_put_le32(uint8_t *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
window_put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
window_get_le32(const uint8_t *p)
{
	uint32_t v = 0;
	int i;

	for (i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
window_get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
window_mac8(uint8_t out[WINDOW_CHECKLEN], const uint8_t *in, size_t len,
    const uint8_t key[WINDOW_KEYLEN])
{
	if (crypto_generichash(out, WINDOW_CHECKLEN, in, len, key,
	    WINDOW_KEYLEN) != 0)
		fatalx("window_mac8: crypto_generichash failed");
}

/*
 * The NUL separator makes ("ab", "c") and ("a", "bc") different: from
 * is a C string, so it cannot contain the separator itself.
 */
static void
window_digest(const struct window *w, const char *from, const char *id,
    uint8_t out[WINDOW_DIGESTLEN])
{
	crypto_generichash_state st;
	static const uint8_t sep = 0;

	if (crypto_generichash_init(&st, w->key, WINDOW_KEYLEN,
	    WINDOW_DIGESTLEN) != 0 ||
	    crypto_generichash_update(&st, (const uint8_t *)from,
	    strlen(from)) != 0 ||
	    crypto_generichash_update(&st, &sep, 1) != 0 ||
	    crypto_generichash_update(&st, (const uint8_t *)id,
	    strlen(id)) != 0 ||
	    crypto_generichash_final(&st, out, WINDOW_DIGESTLEN) != 0)
		fatalx("window_digest: crypto_generichash failed");
}

static void
window_hdr_encode(const struct window *w, uint8_t h[WINDOW_HDRLEN])
{
	memcpy(h, WINDOW_MAGIC, 8);
	window_put_le32(h + 8, WINDOW_VERSION);
	window_put_le32(h + 12, 0);
	memcpy(h + 16, w->key, WINDOW_KEYLEN);
	window_put_le64(h + 32, (uint64_t)w->floor);
	window_put_le64(h + 40, (uint64_t)w->created);
	window_mac8(h + 48, h, 48, w->key);
}

/* 0 on success, -1 (and *why) if the header is not one this code wrote. */
static int
window_hdr_decode(struct window *w, const uint8_t h[WINDOW_HDRLEN],
    const char **why)
{
	uint8_t check[WINDOW_CHECKLEN];

	*why = NULL;
	window_mac8(check, h, 48, h + 16);
	if (memcmp(h, WINDOW_MAGIC, 8) != 0)
		*why = "bad magic";
	else if (window_get_le32(h + 8) != WINDOW_VERSION)
		*why = "unsupported version";
	else if (window_get_le32(h + 12) != 0)
		*why = "reserved field not zero";
	else if (sodium_memcmp(check, h + 48, WINDOW_CHECKLEN) != 0)
		*why = "header checksum mismatch";
	if (*why != NULL)
		return -1;
	memcpy(w->key, h + 16, WINDOW_KEYLEN);
	w->floor = (int64_t)window_get_le64(h + 32);
	w->created = (int64_t)window_get_le64(h + 40);
	return 0;
}

static void
window_rec_encode(const struct window *w, const uint8_t *digest,
    int64_t expires, uint8_t r[WINDOW_RECLEN])
{
	memcpy(r, digest, WINDOW_DIGESTLEN);
	window_put_le64(r + 16, (uint64_t)expires);
	window_mac8(r + 24, r, 24, w->key);
}

/* 0 on success, -1 on a checksum mismatch. */
static int
window_rec_decode(const struct window *w, const uint8_t r[WINDOW_RECLEN],
    int64_t *expires)
{
	uint8_t check[WINDOW_CHECKLEN];

	window_mac8(check, r, 24, w->key);
	if (sodium_memcmp(check, r + 24, WINDOW_CHECKLEN) != 0)
		return -1;
	*expires = (int64_t)window_get_le64(r + 16);
	return 0;
}

/*
 * Slots for a capacity: the smallest power of two that keeps the load
 * at or below 3/4.  0 if the table would not fit in a size_t.
 */
static size_t
window_nslots(size_t capacity)
{
	size_t need, n = WINDOW_MINSLOTS;

	if (capacity > SIZE_MAX / 2 / sizeof(struct window_slot))
		return 0;
	need = capacity + capacity / 3 + (capacity % 3 != 0);
	while (n < need)
		n <<= 1;
	return n;
}

size_t
window_table_bytes(size_t capacity)
{
	size_t n = window_nslots(capacity);

	return n == 0 ? SIZE_MAX : n * sizeof(struct window_slot);
}

/* A window with an empty table and no file; NULL if out of memory. */
static struct window *
window_alloc(size_t capacity)
{
	struct window *w;
	size_t n;

	if (sodium_init() < 0)
		fatalx("window_alloc: sodium_init failed");
	/* a sender's held is 32 bits */
	if ((n = window_nslots(capacity)) == 0 || capacity > UINT32_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->fd = -1;			/* window_free() below closes no fd 0 */
	w->slots = calloc(n, sizeof(*w->slots));
	w->senders = calloc(WINDOW_MINSENDERS, sizeof(*w->senders));
	w->buckets = calloc(WINDOW_MINSENDERS, sizeof(*w->buckets));
	if (w->slots == NULL || w->senders == NULL || w->buckets == NULL) {
		window_free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->mask = n - 1;
	w->capacity = capacity;
	w->share = capacity;
	w->earliest = INT64_MAX;
	w->nsenders = 1;
	w->sendersz = WINDOW_MINSENDERS;
	w->bmask = WINDOW_MINSENDERS - 1;
	randombytes_buf(w->skey, sizeof(w->skey));
	return w;
}

struct window *
window_new(size_t capacity)
{
	struct window *w;

	if ((w = window_alloc(capacity)) == NULL)
		fatal("window_new: capacity %zu", capacity);
	randombytes_buf(w->key, sizeof(w->key));
	return w;
}

void
window_free(struct window *w)
{
	uint32_t i;

	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	sodium_memzero(w->key, sizeof(w->key));
	sodium_memzero(w->skey, sizeof(w->skey));
	for (i = 1; w->senders != NULL && i < w->nsenders; i++)
		free(w->senders[i].name);
	free(w->senders);
	free(w->buckets);
	free(w->slots);
	free(w->path);
	free(w->tmppath);
	free(w);
}

/* --- slots: expires in the low 40 bits, the sender in the high 24 --- */

static int64_t
window_slot_expires(const struct window_slot *sl)
{
	return (int64_t)(sl->word & (uint64_t)WINDOW_EXPIRES_MAX);
}

static uint32_t
window_slot_sender(const struct window_slot *sl)
{
	return (uint32_t)(sl->word >> WINDOW_EXPIRES_BITS);
}

/* 0 < expires <= WINDOW_EXPIRES_MAX: window_stage and the loader see
 * to it; anything else would corrupt the sender bits */
static void
window_slot_set(struct window_slot *sl, int64_t expires, uint32_t sender)
{
	if (expires <= 0 || expires > WINDOW_EXPIRES_MAX ||
	    sender > WINDOW_SENDERS_MAX)
		fatalx("window_slot_set: expires %lld sender %u",
		    (long long)expires, sender);
	sl->word = (uint64_t)sender << WINDOW_EXPIRES_BITS | (uint64_t)expires;
}

/* --- senders: names by a keyed hash, chained in buckets --------------- */

static uint32_t
window_sender_hash(const struct window *w, const char *from)
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, (const uint8_t *)from, strlen(from), w->skey);
	return window_get_le32(h);
}

/* from's index, or 0 if it holds nothing (and is not exempt) */
static uint32_t
window_sender_find(const struct window *w, const char *from, uint32_t h)
{
	const struct window_sender *s;
	uint32_t i;

	for (i = w->buckets[h & w->bmask]; i != 0; i = s->next) {
		s = &w->senders[i];
		if (s->hash == h && strcmp(s->name, from) == 0)
			return i;
	}
	return 0;
}

/* Twice the buckets, so that chains stay short.  Out of memory, the
 * old ones stay: longer chains, still correct. */
static void
window_sender_rehash(struct window *w)
{
	struct window_sender *s;
	uint32_t *b, n = (w->bmask + 1) * 2, i;

	if ((b = calloc(n, sizeof(*b))) == NULL)
		return;
	for (i = 1; i < w->nsenders; i++) {
		s = &w->senders[i];
		if (s->name == NULL)
			continue;
		s->next = b[s->hash & (n - 1)];
		b[s->hash & (n - 1)] = i;
	}
	free(w->buckets);
	w->buckets = b;
	w->bmask = n - 1;
}

/* A free index (the free list's, or a new one); 0 if none is left. */
static uint32_t
window_sender_slot(struct window *w)
{
	struct window_sender *ns;
	uint32_t i, n;

	if ((i = w->sfree) != 0) {
		w->sfree = w->senders[i].next;
		return i;
	}
	if (w->nsenders > WINDOW_SENDERS_MAX)
		return 0;
	if (w->nsenders == w->sendersz) {
		n = w->sendersz * 2;
		if (n > WINDOW_SENDERS_MAX + 1)
			n = WINDOW_SENDERS_MAX + 1;
		if ((ns = reallocarray(w->senders, n, sizeof(*ns))) == NULL)
			return 0;
		w->senders = ns;
		w->sendersz = n;
	}
	return w->nsenders++;
}

/*
 * from's index, entered with nothing held if new; 0 if the table of
 * senders is full (2^24 - 1 senders hold entries at once, or out of
 * memory).
 */
static uint32_t
window_sender_get(struct window *w, const char *from, uint32_t h)
{
	struct window_sender *s;
	uint32_t i;

	if ((i = window_sender_find(w, from, h)) != 0)
		return i;
	if (w->nnamed > w->bmask)
		window_sender_rehash(w);
	if ((i = window_sender_slot(w)) == 0)
		return 0;
	s = &w->senders[i];
	if ((s->name = strdup(from)) == NULL) {
		s->next = w->sfree;
		w->sfree = i;
		return 0;
	}
	s->held = 0;
	s->hash = h;
	s->exempt = 0;
	s->next = w->buckets[h & w->bmask];
	w->buckets[h & w->bmask] = i;
	w->nnamed++;
	return i;
}

/*
 * One entry of sender i gone: deleted, replaced, or staged and not
 * written.  A named sender left holding nothing leaves the table (an
 * exempt one stays), and its index goes to the free list.
 */
static void
window_sender_release(struct window *w, uint32_t i)
{
	struct window_sender *s = &w->senders[i];
	uint32_t *p;

	if (s->held == 0)
		fatalx("window_sender_release: sender %u holds nothing", i);
	if (--s->held != 0 || i == 0 || s->exempt)
		return;
	p = &w->buckets[s->hash & w->bmask];
	while (*p != i) {
		if (*p == 0)
			fatalx("window_sender_release: sender %u unchained", i);
		p = &w->senders[*p].next;
	}
	*p = s->next;
	free(s->name);
	s->name = NULL;
	s->next = w->sfree;
	w->sfree = i;
	w->nnamed--;
}

void
window_set_share(struct window *w, size_t share)
{
	if (share == 0 || share > w->capacity)
		fatalx("window_set_share: share %zu, capacity %zu", share,
		    w->capacity);
	w->share = share;
}

void
window_exempt(struct window *w, const char *from)
{
	uint32_t i;

	if (from == NULL)
		fatalx("window_exempt: NULL from");
	if ((i = window_sender_get(w, from, window_sender_hash(w, from))) == 0)
		fatal("window_exempt: %s", from);
	w->senders[i].exempt = 1;
}

size_t
window_share(const struct window *w)
{
	return w->share;
}

size_t
window_held(const struct window *w, const char *from)
{
	uint32_t i = 0;

	if (from != NULL && (i = window_sender_find(w, from,
	    window_sender_hash(w, from))) == 0)
		return 0;
	return w->senders[i].held;
}

size_t
window_senders(const struct window *w)
{
	return w->nnamed;
}

static size_t
window_home(const struct window *w, const uint8_t *digest)
{
	return (size_t)window_get_le64(digest) & w->mask;
}

/*
 * Find digest: 1 and *idx = its slot, or 0 and *idx = the empty slot
 * that ends its probe chain.  Terminates because the table always has
 * more slots than the capacity.
 */
static int
window_find(const struct window *w, const uint8_t *digest, size_t *idx)
{
	size_t i = window_home(w, digest);

	for (;;) {
		if (w->slots[i].word == 0) {
			*idx = i;
			return 0;
		}
		if (memcmp(w->slots[i].digest, digest, WINDOW_DIGESTLEN) == 0) {
			*idx = i;
			return 1;
		}
		i = (i + 1) & w->mask;
	}
}

/*
 * Empty slot i by pulling later entries of the chain back into the
 * hole, so that no lookup ever stops early at a gap.  An entry at j
 * with home k may move to the hole i iff i lies in its probe path
 * [k, j), i.e. dist(k, j) >= dist(i, j).  An entry moves whole, its
 * sender with it.
 */
static void
window_delete(struct window *w, size_t i)
{
	size_t j = i, k;

	window_sender_release(w, window_slot_sender(&w->slots[i]));
	for (;;) {
		j = (j + 1) & w->mask;
		if (w->slots[j].word == 0)
			break;
		k = window_home(w, w->slots[j].digest);
		if (((j - k) & w->mask) >= ((j - i) & w->mask)) {
			w->slots[i] = w->slots[j];
			i = j;
		}
	}
	memset(&w->slots[i], 0, sizeof(w->slots[i]));
	w->count--;
}

static int
window_write_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
window_read_at(int fd, uint8_t *buf, size_t len, off_t off)
{
	ssize_t n;

	while (len > 0) {
		if ((n = pread(fd, buf, len, off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;	/* the file shrank under us */
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* A rename or create is durable only once the directory is synced. */
static int
window_fsync_dir(const char *path)
{
	char *dir, *slash;
	int fd, rv;

	/* room for "." even when path is shorter */
	if ((dir = malloc(strlen(path) + 2)) == NULL)
		return -1;
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd == -1)
		return -1;
	rv = fsync(fd);
	window_close_keep_errno(fd);
	return rv;
}

/*
 * One daemon per state file: two processes appending to the same file
 * with separate tables would each let the other's replays through.
 */
static int
window_lock(int fd)
{
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			errno = EBUSY;
		return -1;
	}
	return 0;
}

/* Header and every live entry, batched to keep write() calls few. */
static int
window_write_live(const struct window *w, int fd)
{
	uint8_t buf[WINDOW_WRBATCH * WINDOW_RECLEN];
	size_t i, n = 0;

	window_hdr_encode(w, buf);
	if (window_write_all(fd, buf, WINDOW_HDRLEN) == -1)
		return -1;
	for (i = 0; i <= w->mask; i++) {
		if (w->slots[i].word == 0)
			continue;
		window_rec_encode(w, w->slots[i].digest,
		    window_slot_expires(&w->slots[i]), buf + n * WINDOW_RECLEN);
		if (++n == WINDOW_WRBATCH) {
			if (window_write_all(fd, buf, sizeof(buf)) == -1)
				return -1;
			n = 0;
		}
	}
	return window_write_all(fd, buf, n * WINDOW_RECLEN);
}

/*
 * Write the table to "<path>.tmp", fsync it and rename it over path.
 * Returns the new file's fd (open for append, locked) or -1; the
 * caller syncs the directory.  A stale temp file from a crash is
 * removed first; O_EXCL|O_NOFOLLOW refuse anything planted meanwhile.
 */
static int
window_rewrite(const struct window *w)
{
	int fd;

	if (unlink(w->tmppath) == -1 && errno != ENOENT)
		return -1;
	fd = open(w->tmppath, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if (window_lock(fd) == -1 || window_write_live(w, fd) == -1 ||
	    fsync(fd) == -1 || rename(w->tmppath, w->path) == -1) {
		window_close_keep_errno(fd);
		unlink(w->tmppath);
		return -1;
	}
	return fd;
}

/*
 * Undo a short append so the file stays a whole number of records.
 * If even that fails, refuse all further appends: writing after a
 * partial record would misalign every later one.
 */
static void
window_untear(struct window *w)
{
	off_t len = (off_t)(WINDOW_HDRLEN + w->nrecords * WINDOW_RECLEN);

	if (ftruncate(w->fd, len) == -1) {
		log_warn("window %s: cannot truncate partial record at "
		    "offset %lld, refusing further appends", w->path,
		    (long long)len);
		w->broken = 1;
	}
}

/*
 * Append the staged records with a single write(); 0 or -1 (nothing
 * kept: a short write is cut off again, so the file stays exactly the
 * records before the batch).
 */
static int
window_append(struct window *w)
{
	size_t len = w->npending * WINDOW_RECLEN;
	ssize_t n;

	if (w->fd < 0 || len == 0)
		return 0;
	if (w->broken)
		return -1;
	do {
		n = write(w->fd, w->pending, len);
	} while (n == -1 && errno == EINTR);
	if (n == (ssize_t)len) {
		w->nrecords += w->npending;
		w->dirty = 1;
		return 0;
	}
	if (n >= 0) {
		log_warnx("window %s: short append (%zd of %zu bytes)",
		    w->path, n, len);
		if (n > 0)
			window_untear(w);
	} else
		log_warn("window %s: append", w->path);
	return -1;
}

/*
 * Room for one more entry of the sender from (hash h) beside those
 * staged: WINDOW_OK and *s its index (0: it holds nothing yet), or
 * WINDOW_FULL, or WINDOW_SHARE_FULL.  An entry staged by from counts
 * toward its share (its held) and the capacity.
 */
static enum window_verdict
window_room(const struct window *w, const char *from, uint32_t h,
    uint32_t *s)
{
	const struct window_sender *ws;

	*s = window_sender_find(w, from, h);
	if (w->count + w->npending >= w->capacity)
		return WINDOW_FULL;
	ws = &w->senders[*s];
	if (*s != 0 && !ws->exempt && ws->held >= w->share)
		return WINDOW_SHARE_FULL;
	return WINDOW_OK;
}

/*
 * When full (or from's share is), sweep expired entries first, but at
 * most once per second of now: a flood of fresh ids against a full
 * window must not make every admit cost a pass over the whole table.
 * The sweep may free from's index, so it is looked up again after.
 */
static enum window_verdict
window_make_room(struct window *w, const char *from, uint32_t h, int64_t now,
    uint32_t *s)
{
	enum window_verdict v;

	if ((v = window_room(w, from, h, s)) == WINDOW_OK)
		return v;
	if (!w->swept || w->swept_at != now) {
		w->swept = 1;
		w->swept_at = now;
		window_expire(w, now);
	}
	return window_room(w, from, h, s);
}

/* Staged already (the same from and id twice in one batch)? */
static int
window_staged(const struct window *w, const uint8_t *digest)
{
	size_t i;

	for (i = 0; i < w->npending; i++)
		if (memcmp(w->pending[i], digest, WINDOW_DIGESTLEN) == 0)
			return 1;
	return 0;
}

/*
 * An envelope that is already expired (expires <= now) needs no entry:
 * one would be absent at once.  It is not stored, so the verdict is
 * WINDOW_OK unless a live entry says REPLAY; the caller refuses such
 * an envelope as expired anyway.  expires <= 0 is never stored either,
 * because 0 marks an empty slot.
 *
 * The table is not touched: the entry waits in pending until
 * window_commit().  Every staged entry counts against the capacity
 * and its sender's share, even one that will reuse the slot of an
 * expired entry of the same digest (a sweep may empty that slot
 * before the commit).  An expires past what a slot holds (year 36812)
 * means a clock gone wrong: WINDOW_CLOCK.
 */
enum window_verdict
window_stage(struct window *w, const char *from, const char *id,
    int64_t ts, int64_t expires, int64_t now)
{
	uint8_t digest[WINDOW_DIGESTLEN];
	enum window_verdict v;
	uint32_t h, s;
	size_t i;

	if (from == NULL || id == NULL)
		fatalx("window_stage: NULL from or id");
	if (w->floor != 0 && ts <= w->floor)
		return WINDOW_BEFORE_FLOOR;
	window_digest(w, from, id, digest);
	if ((window_find(w, digest, &i) &&
	    window_slot_expires(&w->slots[i]) > now) ||
	    window_staged(w, digest))
		return WINDOW_REPLAY;
	/* our clock is behind a time we already expired entries at: one
	 * for this envelope may be gone, so it cannot be vouched for */
	if (expires > now && (expires <= w->horizon ||
	    expires > WINDOW_EXPIRES_MAX))
		return WINDOW_CLOCK;
	if (expires <= now || expires <= 0)
		return WINDOW_OK;
	if (w->npending == WINDOW_BATCH_MAX)
		fatalx("window_stage: more than %d entries staged",
		    WINDOW_BATCH_MAX);
	h = window_sender_hash(w, from);
	if ((v = window_make_room(w, from, h, now, &s)) != WINDOW_OK)
		return v;
	if (s == 0 && (s = window_sender_get(w, from, h)) == 0)
		return WINDOW_FULL;
	w->senders[s].held++;
	w->pending_sender[w->npending] = s;
	window_rec_encode(w, digest, expires, w->pending[w->npending++]);
	return WINDOW_OK;
}

/*
 * A written record of sender s into the table: a fresh slot, or the
 * slot of its expired entry, whose sender (s, or the unattributed one
 * if it was loaded) lets go of it.
 */
static void
window_insert(struct window *w, const uint8_t rec[WINDOW_RECLEN], uint32_t s)
{
	int64_t expires = (int64_t)window_get_le64(rec + 16);
	size_t i;

	if (!window_find(w, rec, &i)) {
		memcpy(w->slots[i].digest, rec, WINDOW_DIGESTLEN);
		w->count++;
	} else
		window_sender_release(w, window_slot_sender(&w->slots[i]));
	window_slot_set(&w->slots[i], expires, s);
	if (expires < w->earliest)
		w->earliest = expires;
}

/* Write first: if it fails there is nothing to undo but the holds. */
int
window_commit(struct window *w)
{
	size_t i;
	int rv = 0;

	if (window_append(w) == -1) {
		rv = -1;
		for (i = 0; i < w->npending; i++)
			window_sender_release(w, w->pending_sender[i]);
	} else
		for (i = 0; i < w->npending; i++)
			window_insert(w, w->pending[i], w->pending_sender[i]);
	w->npending = 0;
	return rv;
}

enum window_verdict
window_admit(struct window *w, const char *from, const char *id,
    int64_t ts, int64_t expires, int64_t now)
{
	enum window_verdict v;

	if (w->npending != 0)
		fatalx("window_admit: %zu entries staged", w->npending);
	v = window_stage(w, from, id, ts, expires, now);
	if (v == WINDOW_OK && window_commit(w) == -1)
		return WINDOW_IOERR;
	return v;
}

/*
 * Rewrite the file with only the live entries.  On failure the old
 * file is kept: it holds every live entry plus dead ones, so it is
 * still correct, only larger.  The new header's created is the
 * horizon: what the file no longer holds expired by then, and the
 * next open must not forget that if the clock has gone back.
 */
static void
window_compact(struct window *w)
{
	int fd;

	w->created = w->horizon;
	if ((fd = window_rewrite(w)) == -1) {
		log_warn("window %s: compaction failed, still appending to "
		    "the old file", w->path);
		return;
	}
	/* After the rename the old fd is an unlinked file: switch now. */
	close(w->fd);
	w->fd = fd;
	w->nrecords = w->count;
	w->dirty = 0;
	w->syncfail = 0;
	w->broken = 0;
	if (window_fsync_dir(w->path) == -1) {
		log_warn("window %s: fsync of directory after compaction",
		    w->path);
		w->syncfail = 1;
	}
}

/*
 * A deletion pulls later entries back into slot i, so i is examined
 * again instead of advancing.  Entries only ever move back to the slot
 * under examination or, across the wrap, to slots already swept (which
 * hold live entries only), so none is missed, and every entry kept is
 * seen at least once by the new earliest expiry.
 */
static size_t
window_sweep(struct window *w, int64_t now)
{
	int64_t earliest = INT64_MAX, e;
	size_t i = 0, dropped = 0;

	while (i <= w->mask) {
		e = window_slot_expires(&w->slots[i]);
		if (e != 0 && e <= now) {
			window_delete(w, i);
			dropped++;
			continue;
		}
		if (e != 0 && e < earliest)
			earliest = e;
		i++;
	}
	w->earliest = earliest;
	return dropped;
}

/*
 * The sweep reads the whole table (48 MiB at the default capacity), so
 * it is skipped while nothing can have expired: before the earliest
 * expiry of any entry (a lower bound: lowered as entries come, set
 * exactly by each sweep).
 */
size_t
window_expire(struct window *w, int64_t now)
{
	size_t dropped = 0;

	if (now > w->horizon)
		w->horizon = now;
	if (now >= w->earliest)
		dropped = window_sweep(w, now);
	if (w->fd >= 0 &&
	    w->nrecords > 2 * (uint64_t)w->count + WINDOW_COMPACT_SLACK)
		window_compact(w);
	return dropped;
}

/*
 * Power loss can lose the records appended since the last successful
 * call; a process crash loses nothing.  A failed fsync stays failed:
 * Linux reports a writeback error once and may drop the pages, so a
 * later fsync returning 0 would not mean the records reached the disk.
 * Only a successful compaction (a fresh, fsynced file) clears it.
 */
int
window_sync(struct window *w)
{
	if (w->fd < 0)
		return 0;
	if (w->syncfail)
		return -1;
	if (!w->dirty)
		return 0;
	if (fsync(w->fd) == -1) {
		log_warn("window %s: fsync", w->path);
		w->syncfail = 1;
		return -1;
	}
	w->dirty = 0;
	return 0;
}

size_t
window_count(const struct window *w)
{
	return w->count;
}

size_t
window_capacity(const struct window *w)
{
	return w->capacity;
}

int64_t
window_floor(const struct window *w)
{
	return w->floor;
}

int64_t
window_horizon(const struct window *w)
{
	return w->horizon;
}

const char *
window_open_status_name(enum window_open_status st)
{
	switch (st) {
	case WINDOW_OPENED:
		return "opened";
	case WINDOW_CREATED:
		return "created";
	case WINDOW_CORRUPT:
		return "corrupt";
	case WINDOW_TORN:
		return "torn";
	case WINDOW_OVERCAPACITY:
		return "over-capacity";
	case WINDOW_OPEN_IOERR:
		return "io-error";
	case WINDOW_MISSING:
		return "missing";
	}
	fatalx("window_open_status_name: impossible status %d", (int)st);
}

/* A file record, unattributed (records name no sender): keep the
 * later expiry of duplicates; -1 if full. */
static int
window_load_entry(struct window *w, const uint8_t *digest, int64_t expires)
{
	size_t i;

	if (window_find(w, digest, &i)) {
		if (expires > window_slot_expires(&w->slots[i]))
			window_slot_set(&w->slots[i], expires, 0);
		return 0;
	}
	if (w->count == w->capacity)
		return -1;
	memcpy(w->slots[i].digest, digest, WINDOW_DIGESTLEN);
	window_slot_set(&w->slots[i], expires, 0);
	w->senders[0].held++;
	w->count++;
	if (expires < w->earliest)
		w->earliest = expires;
	return 0;
}

/* Records [off, off + len) of the file, len a multiple of a record. */
static enum window_open_status
window_load_chunk(struct window *w, const uint8_t *buf, size_t len,
    off_t off, int64_t now, char *err, size_t errlen)
{
	int64_t expires;
	size_t i;

	for (i = 0; i < len; i += WINDOW_RECLEN) {
		if (window_rec_decode(w, buf + i, &expires) == -1) {
			window_seterr(err, errlen, "%s: record at offset %lld: "
			    "checksum mismatch", w->path,
			    (long long)(off + (off_t)i));
			return WINDOW_CORRUPT;
		}
		if (expires <= now || expires <= 0)
			continue;
		if (expires > WINDOW_EXPIRES_MAX) {
			window_seterr(err, errlen, "%s: record at offset %lld: "
			    "expires %lld past what the window holds", w->path,
			    (long long)(off + (off_t)i), (long long)expires);
			return WINDOW_CORRUPT;
		}
		if (window_load_entry(w, buf + i, expires) == -1) {
			window_seterr(err, errlen, "%s: more than %zu live "
			    "entries", w->path, w->capacity);
			return WINDOW_OVERCAPACITY;
		}
	}
	return WINDOW_OPENED;
}

static enum window_open_status
window_load_records(struct window *w, int fd, off_t size, int64_t now,
    char *err, size_t errlen)
{
	uint8_t buf[WINDOW_WRBATCH * WINDOW_RECLEN];
	enum window_open_status st;
	off_t off = WINDOW_HDRLEN;
	size_t len;

	while (off < size) {
		len = sizeof(buf);
		if (size - off < (off_t)len)
			len = (size_t)(size - off);
		if (window_read_at(fd, buf, len, off) == -1) {
			window_seterr(err, errlen, "%s: read at offset %lld: "
			    "%s", w->path, (long long)off, strerror(errno));
			return WINDOW_OPEN_IOERR;
		}
		st = window_load_chunk(w, buf, len, off, now, err, errlen);
		if (st != WINDOW_OPENED)
			return st;
		off += (off_t)len;
	}
	return WINDOW_OPENED;
}

/* Lock the file and check it can hold a header; *size is its size. */
static enum window_open_status
window_check_file(struct window *w, int fd, off_t *size, char *err,
    size_t errlen)
{
	struct stat sb;

	if (window_lock(fd) == -1) {
		window_seterr(err, errlen, "%s: lock (in use by another "
		    "process?): %s", w->path, strerror(errno));
		return WINDOW_OPEN_IOERR;
	}
	if (fstat(fd, &sb) == -1) {
		window_seterr(err, errlen, "%s: %s", w->path, strerror(errno));
		return WINDOW_OPEN_IOERR;
	}
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		window_seterr(err, errlen, "%s: not a regular file", w->path);
		return WINDOW_OPEN_IOERR;
	}
	if (sb.st_size < WINDOW_HDRLEN) {
		window_seterr(err, errlen, "%s: %lld bytes, shorter than the "
		    "header", w->path, (long long)sb.st_size);
		return WINDOW_CORRUPT;
	}
	*size = sb.st_size;
	return WINDOW_OPENED;
}

/* Header and length checks of an existing file, before any record. */
static enum window_open_status
window_load_header(struct window *w, int fd, off_t *size, char *err,
    size_t errlen)
{
	enum window_open_status st;
	uint8_t h[WINDOW_HDRLEN];
	const char *why;
	off_t tail;

	if ((st = window_check_file(w, fd, size, err, errlen)) != WINDOW_OPENED)
		return st;
	if (window_read_at(fd, h, sizeof(h), 0) == -1) {
		window_seterr(err, errlen, "%s: read header: %s", w->path,
		    strerror(errno));
		return WINDOW_OPEN_IOERR;
	}
	if (window_hdr_decode(w, h, &why) == -1) {
		window_seterr(err, errlen, "%s: %s", w->path, why);
		return WINDOW_CORRUPT;
	}
	if ((tail = (*size - WINDOW_HDRLEN) % WINDOW_RECLEN) != 0) {
		window_seterr(err, errlen, "%s: torn: partial record of %lld "
		    "bytes at offset %lld", w->path, (long long)tail,
		    (long long)(*size - tail));
		return WINDOW_TORN;
	}
	return WINDOW_OPENED;
}

static enum window_open_status
window_load(struct window *w, int fd, int64_t now, char *err, size_t errlen)
{
	enum window_open_status st;
	off_t size;

	st = window_load_header(w, fd, &size, err, errlen);
	if (st == WINDOW_OPENED)
		st = window_load_records(w, fd, size, now, err, errlen);
	if (st != WINDOW_OPENED) {
		window_close_keep_errno(fd);
		return st;
	}
	w->fd = fd;
	w->nrecords = (uint64_t)(size - WINDOW_HDRLEN) / WINDOW_RECLEN;
	/* records that expired by now were skipped, and a compaction
	 * dropped those that expired by created */
	w->horizon = w->created > now ? w->created : now;
	return WINDOW_OPENED;
}

/*
 * No file yet: create it with a new key and no floor.  On failure the
 * half-made file is removed, since it did not exist before.
 */
static enum window_open_status
window_create(struct window *w, int64_t now, char *err, size_t errlen)
{
	uint8_t h[WINDOW_HDRLEN];
	int fd;

	fd = open(w->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		window_seterr(err, errlen, "%s: create: %s", w->path,
		    strerror(errno));
		return WINDOW_OPEN_IOERR;
	}
	randombytes_buf(w->key, sizeof(w->key));
	w->floor = 0;
	w->created = now;
	w->horizon = now;
	window_hdr_encode(w, h);
	if (window_lock(fd) == -1 || window_write_all(fd, h, sizeof(h)) == -1 ||
	    fsync(fd) == -1 || window_fsync_dir(w->path) == -1) {
		window_seterr(err, errlen, "%s: create: %s", w->path,
		    strerror(errno));
		window_close_keep_errno(fd);
		unlink(w->path);
		return WINDOW_OPEN_IOERR;
	}
	w->fd = fd;
	return WINDOW_CREATED;
}

/* Saturating, so a silly max_skew cannot wrap the floor negative. */
static int64_t
window_add_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/*
 * Replace whatever is at path, readable or not, with an empty window
 * whose floor is now + max_skew.  The old file is locked first if it
 * can be opened, so a running daemon's window is never replaced.
 */
static enum window_open_status
window_reset(struct window *w, int64_t now, int64_t max_skew, char *err,
    size_t errlen)
{
	int oldfd, fd;

	oldfd = open(w->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (oldfd >= 0 && window_lock(oldfd) == -1) {
		window_seterr(err, errlen, "%s: lock (in use by another "
		    "process?): %s", w->path, strerror(errno));
		window_close_keep_errno(oldfd);
		return WINDOW_OPEN_IOERR;
	}
	randombytes_buf(w->key, sizeof(w->key));
	w->floor = window_add_sat(now, max_skew);
	w->created = now;
	w->horizon = now;
	fd = window_rewrite(w);
	if (fd == -1 || window_fsync_dir(w->path) == -1) {
		window_seterr(err, errlen, "%s: reset: %s", w->path,
		    strerror(errno));
		window_close_keep_errno(fd);
		window_close_keep_errno(oldfd);
		return WINDOW_OPEN_IOERR;
	}
	window_close_keep_errno(oldfd);
	w->fd = fd;
	return WINDOW_CREATED;
}

static enum window_open_status
window_open_path(struct window *w, int64_t now, int64_t max_skew, int flags,
    char *err, size_t errlen)
{
	int fd;

	if (flags & WINDOW_RESET)
		return window_reset(w, now, max_skew, err, errlen);
	fd = open(w->path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && (flags & WINDOW_NOCREATE)) {
		window_seterr(err, errlen, "%s: no state file", w->path);
		return WINDOW_MISSING;
	}
	if (fd == -1 && errno == ENOENT)
		return window_create(w, now, err, errlen);
	if (fd == -1) {
		window_seterr(err, errlen, "%s: %s", w->path, strerror(errno));
		return WINDOW_OPEN_IOERR;
	}
	return window_load(w, fd, now, err, errlen);
}

/* The window and its two path names; NULL (errno set) on failure. */
static struct window *
window_alloc_path(const char *path, size_t capacity)
{
	struct window *w;
	size_t len = strlen(path);

	if (len == 0) {
		errno = ENOENT;
		return NULL;
	}
	if ((w = window_alloc(capacity)) == NULL)
		return NULL;
	if ((w->path = strdup(path)) == NULL ||
	    (w->tmppath = malloc(len + sizeof(".tmp"))) == NULL) {
		window_free(w);
		errno = ENOMEM;
		return NULL;
	}
	snprintf(w->tmppath, len + sizeof(".tmp"), "%s.tmp", path);
	return w;
}

enum window_open_status
window_open(const char *path, size_t capacity, int64_t now, int64_t max_skew,
    int flags, struct window **out, char *err, size_t errlen)
{
	enum window_open_status st;
	struct window *w;
	int saved;

	*out = NULL;
	if (path == NULL)
		fatalx("window_open: NULL path");
	if ((w = window_alloc_path(path, capacity)) == NULL) {
		window_seterr(err, errlen, "%s: capacity %zu: %s", path,
		    capacity, strerror(errno));
		return WINDOW_OPEN_IOERR;
	}
	st = window_open_path(w, now, max_skew, flags, err, errlen);
	if (st != WINDOW_OPENED && st != WINDOW_CREATED) {
		saved = errno;
		window_free(w);
		errno = saved;
		return st;
	}
	*out = w;
	return st;
}
