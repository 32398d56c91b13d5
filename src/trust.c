/*
 * trust.c - the admin-signed trust list.
 *
 * The JSON document is the truth: parsing fills struct trust_list from
 * it and keeps a reference; every edit changes the document and reads
 * it again, so what is signed, stored and shown is always what the
 * parser accepted.  The schema is closed: an unknown member, a
 * duplicate, a real number, a bad charset or a count beyond its cap
 * refuses the whole list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "canon.h"
#include "log.h"
#include "trust.h"
#include "util.h"

static const char *const trust_names[TRUST__COUNT] = {
	"ok", "trust-schema", "trust-signature", "trust-unpinned",
	"trust-cluster", "trust-rollback",
};

const char *
trust_result_name(enum trust_result r)
{
	if ((unsigned)r >= TRUST__COUNT)
		fatalx("trust_result_name: impossible result %d", (int)r);
	return trust_names[r];
}

static int
trust_charset(const char *s, size_t maxlen, const char *extra, int upper)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (n >= maxlen)
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (upper && c >= 'A' && c <= 'Z') || strchr(extra, c) != NULL)
			continue;
		return 0;
	}
	return n > 0;
}

int
trust_valid_name(const char *s)
{
	return trust_charset(s, TRUST_NAME_MAX, "._-", 0);
}

/* Invite nonces: base64url without padding, 16..64 characters. */
static int
trust_valid_nonce(const char *s)
{
	size_t n = strlen(s);

	return n >= TRUST_NONCE_MIN && trust_charset(s, TRUST_NONCE_MAX,
	    "_-", 1);
}

/* The members of obj are exactly some of allowed, with every required one. */
static int
trust_closed(const json_t *obj, const char *const *allowed,
    const char *const *required, char *detail, size_t dlen)
{
	const char *k, *const *a;
	json_t *v;

	if (!json_is_object(obj))
		return snprintf(detail, dlen, "not an object"), -1;
	json_object_foreach((json_t *)obj, k, v) {
		for (a = allowed; *a != NULL && strcmp(*a, k) != 0; a++)
			;
		if (*a == NULL)
			return snprintf(detail, dlen, "unknown member"), -1;
	}
	for (a = required; *a != NULL; a++)
		if (json_object_get(obj, *a) == NULL)
			return snprintf(detail, dlen, "'%s' missing", *a), -1;
	return 0;
}

static int
trust_int(const json_t *v, int64_t min, int64_t *out)
{
	json_int_t i;

	if (!json_is_integer(v))
		return -1;
	i = json_integer_value(v);
	if (i < min || i > TRUST_INT_MAX)
		return -1;
	*out = (int64_t)i;
	return 0;
}

/* Copy a string member that passes valid into out (size outlen). */
static int
trust_str(const json_t *v, int (*valid)(const char *), char *out,
    size_t outlen)
{
	const char *s;

	if (!json_is_string(v) || (s = json_string_value(v)) == NULL ||
	    strlen(s) != json_string_length(v) || strlen(s) >= outlen ||
	    !valid(s))
		return -1;
	hive_strlcpy(out, s, outlen);
	return 0;
}

/* Strict standard base64 of exactly want bytes (sodium's decoder). */
static int
trust_b64(const json_t *v, uint8_t *out, size_t want)
{
	const char *s, *end = NULL;
	size_t binlen = 0, len;

	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len != sodium_base64_ENCODED_LEN(want,
	    sodium_base64_VARIANT_ORIGINAL) - 1)
		return -1;
	if (sodium_base642bin(out, want, s, len, NULL, &binlen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return (binlen == want && end == s + len) ? 0 : -1;
}

/* An array of at most max strings, each passing valid, none twice. */
static int
trust_strings(const json_t *arr, size_t max, int (*valid)(const char *),
    char ***out, size_t *nout)
{
	size_t i, j, n;
	const char *s;

	if (!json_is_array(arr) || (n = json_array_size(arr)) > max)
		return -1;
	if ((*out = calloc(n + 1, sizeof(**out))) == NULL)
		fatal("trust_strings");
	for (i = 0; i < n; i++) {
		json_t *v = json_array_get(arr, i);

		if (!json_is_string(v) || strlen(s = json_string_value(v)) !=
		    json_string_length(v) || !valid(s))
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp((*out)[j], s) == 0)
				return -1;
		if (((*out)[i] = strdup(s)) == NULL)
			fatal("trust_strings");
		(*nout)++;
	}
	return 0;
}

static int
trust_member_keys(const json_t *arr, struct trust_member *m)
{
	size_t i, n;

	if (!json_is_array(arr) || (n = json_array_size(arr)) == 0 ||
	    n > TRUST_MAX_KEYS)
		return -1;
	if ((m->keys = calloc(n, sizeof(*m->keys))) == NULL)
		fatal("trust_member_keys");
	for (i = 0; i < n; i++) {
		struct pubkey *k = &m->keys[i];

		if (trust_b64(json_array_get(arr, i), k->pk, KEY_PUB_BYTES))
			return -1;
		hive_strlcpy(k->node, m->node, sizeof(k->node));
		key_kid(k->pk, k->kid);
		m->nkeys++;
	}
	return 0;
}

static int
trust_parse_member(const json_t *v, struct trust_member *m, char *detail,
    size_t dlen)
{
	static const char *const allowed[] = { "node", "keys", "role",
	    "capabilities", NULL };

	if (trust_closed(v, allowed, allowed, detail, dlen) == -1)
		return -1;
	if (trust_str(json_object_get(v, "node"), valid_node, m->node,
	    sizeof(m->node)) == -1)
		return snprintf(detail, dlen, "member node"), -1;
	if (trust_str(json_object_get(v, "role"), trust_valid_name, m->role,
	    sizeof(m->role)) == -1)
		return snprintf(detail, dlen, "member %s: role", m->node), -1;
	if (trust_member_keys(json_object_get(v, "keys"), m) == -1)
		return snprintf(detail, dlen, "member %s: keys", m->node), -1;
	if (trust_strings(json_object_get(v, "capabilities"), TRUST_MAX_CAPS,
	    trust_valid_name, &m->caps, &m->ncaps) == -1)
		return snprintf(detail, dlen, "member %s: capabilities",
		    m->node), -1;
	return 0;
}

static int
trust_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* No node twice, no kid twice (in one member or across members). */
static int
trust_members_unique(const struct trust_list *t, char *detail, size_t dlen)
{
	const char **kids;
	size_t i, j, n = 0;
	int rc = 0;

	for (i = 0; i < t->nmembers; i++)
		n += t->members[i].nkeys;
	if ((kids = calloc(n + 1, sizeof(*kids))) == NULL)
		fatal("trust_members_unique");
	for (n = 0, i = 0; i < t->nmembers; i++)
		for (j = 0; j < t->members[i].nkeys; j++)
			kids[n++] = t->members[i].keys[j].kid;
	qsort(kids, n, sizeof(*kids), trust_strcmp_p);
	for (i = 1; i < n && rc == 0; i++)
		if (strcmp(kids[i - 1], kids[i]) == 0)
			rc = (snprintf(detail, dlen, "kid %s twice", kids[i]),
			    -1);
	free(kids);
	for (i = 0; i < t->nmembers && rc == 0; i++)
		if (i > 0 && strcmp(t->members[i - 1].node,
		    t->members[i].node) >= 0)
			rc = (snprintf(detail, dlen, "members not sorted by "
			    "node, or a node twice"), -1);
	return rc;
}

static int
trust_parse_members(const json_t *arr, struct trust_list *t, char *detail,
    size_t dlen)
{
	size_t i, n;

	if (!json_is_array(arr) || (n = json_array_size(arr)) >
	    TRUST_MAX_MEMBERS)
		return snprintf(detail, dlen, "members"), -1;
	if ((t->members = calloc(n + 1, sizeof(*t->members))) == NULL)
		fatal("trust_parse_members");
	for (i = 0; i < n; i++) {
		t->nmembers++;
		if (trust_parse_member(json_array_get(arr, i), &t->members[i],
		    detail, dlen) == -1)
			return -1;
	}
	return trust_members_unique(t, detail, dlen);
}

static int
trust_parse_rev(const json_t *v, struct trust_revocation *r)
{
	static const char *const allowed[] = { "node", "kid", "before", NULL };
	static const char *const none[] = { NULL };
	const json_t *node = json_object_get(v, "node");
	const json_t *kid = json_object_get(v, "kid");
	const json_t *before = json_object_get(v, "before");
	char detail[8];

	if (trust_closed(v, allowed, none, detail, sizeof(detail)) == -1 ||
	    (node == NULL) == (kid == NULL))
		return -1;
	if (node != NULL && trust_str(node, valid_node, r->node,
	    sizeof(r->node)) == -1)
		return -1;
	if (kid != NULL && trust_str(kid, valid_kid, r->kid,
	    sizeof(r->kid)) == -1)
		return -1;
	r->before = TRUST_REVOKE_ALL;
	if (before != NULL && trust_int(before, 0, &r->before) == -1)
		return -1;
	return 0;
}

static int
trust_parse_revs(const json_t *arr, struct trust_list *t, char *detail,
    size_t dlen)
{
	size_t i, n;

	if (!json_is_array(arr) || (n = json_array_size(arr)) >
	    TRUST_MAX_REVOCATIONS)
		return snprintf(detail, dlen, "revocations"), -1;
	if ((t->revs = calloc(n + 1, sizeof(*t->revs))) == NULL)
		fatal("trust_parse_revs");
	for (i = 0; i < n; i++, t->nrevs++)
		if (trust_parse_rev(json_array_get(arr, i), &t->revs[i]) == -1)
			return snprintf(detail, dlen, "revocation %zu", i), -1;
	return 0;
}

static int
trust_parse_top(const json_t *root, struct trust_list *t, char *detail,
    size_t dlen)
{
	static const char *const allowed[] = { "cluster", "serial", "ts",
	    "members", "revocations", "consumed", "kid", "sig", NULL };
	static const char *const required[] = { "cluster", "serial", "ts",
	    "members", "revocations", "consumed", NULL };
	const json_t *kid = json_object_get(root, "kid");
	const json_t *sig = json_object_get(root, "sig");

	if (trust_closed(root, allowed, required, detail, dlen) == -1)
		return -1;
	if (trust_str(json_object_get(root, "cluster"), trust_valid_name,
	    t->cluster, sizeof(t->cluster)) == -1)
		return snprintf(detail, dlen, "cluster"), -1;
	if (trust_int(json_object_get(root, "serial"), 0, &t->serial) == -1 ||
	    trust_int(json_object_get(root, "ts"), 0, &t->ts) == -1)
		return snprintf(detail, dlen, "serial or ts"), -1;
	if ((kid == NULL) != (sig == NULL))
		return snprintf(detail, dlen, "kid and sig go together"), -1;
	if (kid != NULL && (trust_str(kid, valid_kid, t->kid,
	    sizeof(t->kid)) == -1 || trust_b64(sig, t->sig, KEY_SIG_BYTES)))
		return snprintf(detail, dlen, "kid or sig"), -1;
	t->has_sig = kid != NULL;
	if (trust_parse_members(json_object_get(root, "members"), t, detail,
	    dlen) == -1 || trust_parse_revs(json_object_get(root,
	    "revocations"), t, detail, dlen) == -1)
		return -1;
	if (trust_strings(json_object_get(root, "consumed"),
	    TRUST_MAX_CONSUMED, trust_valid_nonce, &t->consumed,
	    &t->nconsumed) == -1)
		return snprintf(detail, dlen, "consumed"), -1;
	return 0;
}

enum trust_result
trust_from_json(json_t *root, struct trust_list *t, char *detail,
    size_t dlen)
{
	struct buf b;
	int ok;

	memset(t, 0, sizeof(*t));
	t->root = json_incref(root);
	if (trust_parse_top(root, t, detail, dlen) == -1) {
		trust_free(t);
		return TRUST_SCHEMA;
	}
	/* whatever canon_write cannot write (a real) is refused here */
	buf_init(&b, 2 * TRUST_MAX_WIRE);
	ok = canon_write(&b, root, NULL) == 0;
	buf_free(&b);
	if (!ok) {
		snprintf(detail, dlen, "no canonical form");
		trust_free(t);
		return TRUST_SCHEMA;
	}
	return TRUST_OK;
}

enum trust_result
trust_parse(const void *buf, size_t len, struct trust_list *t, char *detail,
    size_t dlen)
{
	json_error_t jerr;
	json_t *root;
	enum trust_result r;

	memset(t, 0, sizeof(*t));
	if (len > TRUST_MAX_WIRE)
		return snprintf(detail, dlen, "%zu bytes", len), TRUST_SCHEMA;
	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL)	/* jerr.text may quote input: keep only its position */
		return snprintf(detail, dlen, "bad JSON at byte %d",
		    jerr.position), TRUST_SCHEMA;
	r = trust_from_json(root, t, detail, dlen);
	json_decref(root);
	return r;
}

static void
trust_free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

void
trust_free(struct trust_list *t)
{
	size_t i;

	for (i = 0; i < t->nmembers; i++) {
		free(t->members[i].keys);
		trust_free_strings(t->members[i].caps, t->members[i].ncaps);
	}
	free(t->members);
	free(t->revs);
	trust_free_strings(t->consumed, t->nconsumed);
	if (t->root != NULL)
		json_decref(t->root);
	memset(t, 0, sizeof(*t));
}

/* Read the (edited) document again; an edit that breaks it is a bug. */
static void
trust_reread(struct trust_list *t)
{
	json_t *root = json_incref(t->root);
	char detail[128];

	trust_free(t);
	if (trust_from_json(root, t, detail, sizeof(detail)) != TRUST_OK)
		fatalx("trust: an edit made an invalid list (%s)", detail);
	json_decref(root);
}

int
trust_new(struct trust_list *t, const char *cluster)
{
	json_t *root;
	char detail[128];

	memset(t, 0, sizeof(*t));
	if (!trust_valid_name(cluster))
		return -1;
	root = json_pack("{s:s, s:i, s:i, s:[], s:[], s:[]}", "cluster",
	    cluster, "serial", 0, "ts", 0, "members", "revocations",
	    "consumed");
	if (root == NULL)
		fatalx("trust_new: json_pack");
	if (trust_from_json(root, t, detail, sizeof(detail)) != TRUST_OK)
		fatalx("trust_new: %s", detail);
	json_decref(root);
	return 0;
}

int
trust_signed_bytes(const struct trust_list *t, struct buf *out)
{
	buf_adds(out, TRUST_SIG_PREFIX);
	return canon_write(out, t->root, "sig");
}

int
trust_canonical(const struct trust_list *t, struct buf *out)
{
	return canon_write(out, t->root, NULL);
}

int
trust_sign(struct trust_list *t, const struct seckey *admin, int64_t ts)
{
	uint8_t sig[KEY_SIG_BYTES];
	char b64[sodium_base64_ENCODED_LEN(KEY_SIG_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	struct buf msg;
	int rc = -1;

	if (ts < 0 || ts > TRUST_INT_MAX ||
	    json_object_set_new(t->root, "ts", json_integer(ts)) == -1 ||
	    json_object_set_new(t->root, "kid", json_string(admin->kid)) == -1)
		return -1;
	json_object_del(t->root, "sig");
	buf_init(&msg, 2 * TRUST_MAX_WIRE);
	if (trust_signed_bytes(t, &msg) == 0 && crypto_sign_detached(sig,
	    NULL, (const unsigned char *)msg.p, msg.len, admin->sk) == 0) {
		sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig),
		    sodium_base64_VARIANT_ORIGINAL);
		rc = json_object_set_new(t->root, "sig", json_string(b64));
	}
	buf_free(&msg);
	trust_reread(t);
	return rc;
}

enum trust_result
trust_verify(const struct trust_list *t, const struct pubkey *pins,
    size_t npins, const char *cluster, char *detail, size_t dlen)
{
	const struct pubkey *pk = NULL;
	struct buf msg;
	size_t i;
	int ok;

	if (!t->has_sig)
		return snprintf(detail, dlen, "unsigned"), TRUST_SIGNATURE;
	for (i = 0; i < npins && pk == NULL; i++)
		if (strcmp(pins[i].kid, t->kid) == 0)
			pk = &pins[i];
	if (pk == NULL)
		return snprintf(detail, dlen, "kid=%s", t->kid), TRUST_UNPINNED;
	buf_init(&msg, 2 * TRUST_MAX_WIRE);
	if (trust_signed_bytes(t, &msg) == -1)
		fatalx("trust_verify: canonical form of a parsed list");
	ok = crypto_sign_verify_detached(t->sig, (const unsigned char *)msg.p,
	    msg.len, pk->pk) == 0;
	buf_free(&msg);
	if (!ok)
		return snprintf(detail, dlen, "kid=%s", t->kid), TRUST_SIGNATURE;
	/* after the signature, so a forgery is reported as one */
	if (cluster != NULL && strcmp(cluster, t->cluster) != 0)
		return snprintf(detail, dlen, "cluster=%s", t->cluster),
		    TRUST_CLUSTER;
	return TRUST_OK;
}

enum trust_result
trust_check_serial(const struct trust_list *t, int64_t held)
{
	return t->serial > held ? TRUST_OK : TRUST_ROLLBACK;
}

int
trust_set_serial(struct trust_list *t, int64_t serial)
{
	if (serial < 0 || serial > TRUST_INT_MAX ||
	    json_object_set_new(t->root, "serial", json_integer(serial)) == -1)
		return -1;
	trust_reread(t);
	return 0;
}

const struct trust_member *
trust_find_member(const struct trust_list *t, const char *node)
{
	size_t i;

	for (i = 0; i < t->nmembers; i++)
		if (strcmp(t->members[i].node, node) == 0)
			return &t->members[i];
	return NULL;
}

/* The member's JSON object, or NULL; *at is where node is or would go. */
static json_t *
trust_member_json(const struct trust_list *t, const char *node, size_t *at)
{
	size_t i;

	for (i = 0; i < t->nmembers; i++) {
		int c = strcmp(t->members[i].node, node);

		if (c >= 0) {
			*at = i;
			return c == 0 ? json_array_get(json_object_get(t->root,
			    "members"), i) : NULL;
		}
	}
	*at = t->nmembers;
	return NULL;
}

/* The kid is some member's key already (under another node, or ours). */
static const char *
trust_kid_owner(const struct trust_list *t, const char *kid)
{
	size_t i, j;

	for (i = 0; i < t->nmembers; i++)
		for (j = 0; j < t->members[i].nkeys; j++)
			if (strcmp(t->members[i].keys[j].kid, kid) == 0)
				return t->members[i].node;
	return NULL;
}

/*
 * Add pk to its node's member (made with role, or "member", if new;
 * an existing member's role is changed only when role is given).
 */
int
trust_add_member(struct trust_list *t, const struct pubkey *pk,
    const char *role, char *detail, size_t dlen)
{
	char b64[sodium_base64_ENCODED_LEN(KEY_PUB_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	const char *owner;
	json_t *m, *keys;
	size_t at;

	if (role != NULL && !trust_valid_name(role))
		return snprintf(detail, dlen, "invalid role"), -1;
	if ((owner = trust_kid_owner(t, pk->kid)) != NULL)
		return snprintf(detail, dlen, "kid %s is already a key of %s",
		    pk->kid, owner), -1;
	sodium_bin2base64(b64, sizeof(b64), pk->pk, KEY_PUB_BYTES,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((m = trust_member_json(t, pk->node, &at)) != NULL) {
		keys = json_object_get(m, "keys");
		if (json_array_size(keys) >= TRUST_MAX_KEYS)
			return snprintf(detail, dlen, "%s has %d keys already",
			    pk->node, TRUST_MAX_KEYS), -1;
		json_array_append_new(keys, json_string(b64));
		if (role != NULL)
			json_object_set_new(m, "role", json_string(role));
	} else {
		if (t->nmembers >= TRUST_MAX_MEMBERS)
			return snprintf(detail, dlen, "%d members already",
			    TRUST_MAX_MEMBERS), -1;
		m = json_pack("{s:s, s:[s], s:s, s:[]}", "node", pk->node,
		    "keys", b64, "role", role != NULL ? role : "member",
		    "capabilities");
		if (m == NULL || json_array_insert_new(json_object_get(t->root,
		    "members"), at, m) == -1)
			fatalx("trust_add_member: json");
	}
	trust_reread(t);
	return 0;
}

int
trust_remove_member(struct trust_list *t, const char *node, char *detail,
    size_t dlen)
{
	size_t at;

	if (trust_member_json(t, node, &at) == NULL)
		return snprintf(detail, dlen, "%s is not a member", node), -1;
	if (json_array_remove(json_object_get(t->root, "members"), at) == -1)
		fatalx("trust_remove_member: json");
	trust_reread(t);
	return 0;
}

/* A kid (16 lowercase hex digits) or a node id; before -1: all. */
int
trust_revoke(struct trust_list *t, const char *what, int64_t before,
    char *detail, size_t dlen)
{
	json_t *arr = json_object_get(t->root, "revocations"), *r;
	int is_kid = valid_kid(what);

	if (!is_kid && !valid_node(what))
		return snprintf(detail, dlen, "not a node id or kid"), -1;
	if (t->nrevs >= TRUST_MAX_REVOCATIONS)
		return snprintf(detail, dlen, "%d revocations already",
		    TRUST_MAX_REVOCATIONS), -1;
	if (before > TRUST_INT_MAX)
		return snprintf(detail, dlen, "before out of range"), -1;
	r = json_pack("{s:s}", is_kid ? "kid" : "node", what);
	if (r == NULL || (before >= 0 && json_object_set_new(r, "before",
	    json_integer(before)) == -1) || json_array_append_new(arr, r) == -1)
		fatalx("trust_revoke: json");
	trust_reread(t);
	return 0;
}

int
trust_kid_revoked(const struct trust_list *t, const char *kid)
{
	size_t i;

	for (i = 0; i < t->nrevs; i++)
		if (strcmp(t->revs[i].kid, kid) == 0)
			return 1;
	return 0;
}

int
trust_node_revoked(const struct trust_list *t, const char *node, int64_t ts)
{
	size_t i;

	for (i = 0; i < t->nrevs; i++)
		if (strcmp(t->revs[i].node, node) == 0 && ts < t->revs[i].before)
			return 1;
	return 0;
}

/* --- the effective keyring ------------------------------------------------ */

static void
trust_keyring_copy(const struct keyring *local, size_t extra,
    struct keyring *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if ((out->keys = calloc(local->nkeys + extra + 1,
	    sizeof(*out->keys))) == NULL ||
	    (out->floors = calloc(local->nfloors + extra + 1,
	    sizeof(*out->floors))) == NULL ||
	    (out->revoked_kids = calloc(local->nrevoked + extra + 1,
	    sizeof(*out->revoked_kids))) == NULL)
		fatal("trust_keyring");
	if (local->nkeys > 0)
		memcpy(out->keys, local->keys,
		    local->nkeys * sizeof(*out->keys));
	out->nkeys = local->nkeys;
	if (local->nfloors > 0)
		memcpy(out->floors, local->floors,
		    local->nfloors * sizeof(*out->floors));
	out->nfloors = local->nfloors;
	for (i = 0; i < local->nrevoked; i++)
		if ((out->revoked_kids[out->nrevoked++] =
		    strdup(local->revoked_kids[i])) == NULL)
			fatal("trust_keyring");
	out->skipped = local->skipped;
}

/* One member key: a duplicate of a local key is dropped, a clash with
 * one (same kid, other node or key) refuses both. */
static void
trust_keyring_add(const struct keyring *local, const struct pubkey *pk,
    struct keyring *out)
{
	const struct trusted_key *lk;
	struct trusted_key *nk;

	if ((lk = keyring_find(local, pk->kid)) != NULL) {
		if (strcmp(lk->pub.node, pk->node) == 0 &&
		    memcmp(lk->pub.pk, pk->pk, KEY_PUB_BYTES) == 0)
			return;
		out->keys[lk - local->keys].state = KEY_CONFLICT;
		log_warnx("trust: kid %s is claimed by %s (keyring) and %s "
		    "(trust list); refusing both", pk->kid, lk->pub.node,
		    pk->node);
	}
	nk = &out->keys[out->nkeys++];
	memset(nk, 0, sizeof(*nk));
	nk->pub = *pk;
	nk->state = lk != NULL ? KEY_CONFLICT : KEY_TRUSTED;
	hive_strlcpy(nk->file, "trust-list", sizeof(nk->file));
}

static void
trust_keyring_revocations(const struct trust_list *t, struct keyring *out)
{
	size_t i, j;

	for (i = 0; i < t->nrevs; i++) {
		const struct trust_revocation *r = &t->revs[i];

		if (r->node[0] != '\0') {
			hive_strlcpy(out->floors[out->nfloors].node, r->node,
			    sizeof(out->floors[0].node));
			out->floors[out->nfloors++].before = r->before;
		} else if ((out->revoked_kids[out->nrevoked++] =
		    strdup(r->kid)) == NULL)
			fatal("trust_keyring");
	}
	for (i = 0; i < out->nkeys; i++)
		for (j = 0; j < out->nrevoked; j++)
			if (out->keys[i].state == KEY_TRUSTED &&
			    strcmp(out->keys[i].pub.kid,
			    out->revoked_kids[j]) == 0)
				out->keys[i].state = KEY_REVOKED;
}

int
trust_keyring(const struct keyring *local, const struct trust_list *t,
    struct keyring *out)
{
	size_t i, j, nk = 0;

	for (i = 0; i < t->nmembers; i++)
		nk += t->members[i].nkeys;
	trust_keyring_copy(local, nk > t->nrevs ? nk : t->nrevs, out);
	for (i = 0; i < t->nmembers; i++)
		for (j = 0; j < t->members[i].nkeys; j++)
			trust_keyring_add(local, &t->members[i].keys[j], out);
	trust_keyring_revocations(t, out);
	keyring_index(out);
	return 0;
}
