/*
 * test_trust.c - the trust list (src/trust.c) and admin keys: the test
 * vector of docs/protocol.md section 16 (read from the document, so it
 * cannot drift), the closed schema, sign and verify with each named
 * refusal, edits, the effective keyring, and node and admin key files
 * refusing to load as each other.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "t.h"
#include "trust.h"
#include "util.h"

#ifndef HIVE_PROTOCOL_MD
#error "HIVE_PROTOCOL_MD: the path of docs/protocol.md"
#endif

#define VEC_TS		1771143000
#define VEC_NODE_PUB	"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="

static void
admin_from_seed(struct seckey *k, uint8_t first)
{
	uint8_t seed[32];
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
	if (seckey_from_seed(seed, ADMIN_KEY_NAME, k) != 0)
		abort();
}

static void
node_pub(struct pubkey *pk, const char *line)
{
	char err[256];

	if (pubkey_parse(line, strlen(line), "t", pk, err, sizeof(err)) != 0)
		abort();
}

/* The document's example: built through the edit functions. */
static void
vector_list(struct trust_list *t, const struct seckey *admin)
{
	struct pubkey pk;
	char d[128];

	CHECK(trust_new(t, "demo") == 0);
	node_pub(&pk, "hive-ed25519 " VEC_NODE_PUB " turq-18789");
	CHECK(trust_add_member(t, &pk, "operator", d, sizeof(d)) == 0);
	CHECK(trust_revoke(t, "old-box", 1771140000, d, sizeof(d)) == 0);
	CHECK(trust_revoke(t, "0123456789abcdef", -1, d, sizeof(d)) == 0);
	CHECK(json_array_append_new(json_object_get(t->root, "consumed"),
	    json_string("q7yjZC0Wg5VZ1uYl3kXvJQ")) == 0);
	CHECK(trust_set_serial(t, 1) == 0);
	CHECK(trust_sign(t, admin, VEC_TS) == 0);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = calloc(1, 1 << 20);
	size_t n;

	if (f == NULL || s == NULL) {
		fprintf(stderr, "FAIL cannot read %s\n", path);
		exit(1);
	}
	n = fread(s, 1, (1 << 20) - 1, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* The n-th ``` block after the heading, without its fences. */
static char *
doc_block(const char *doc, const char *heading, int n)
{
	const char *p = strstr(doc, heading), *end;
	char *out;

	if (p == NULL)
		return NULL;
	for (; n >= 0; n--) {
		if ((p = strstr(p, "\n```")) == NULL ||
		    (p = strchr(p + 1, '\n')) == NULL)
			return NULL;
		p++;
		if ((end = strstr(p, "\n```")) == NULL)
			return NULL;
		if (n > 0)
			p = end + 4;
	}
	out = strndup(p, (size_t)(end - p));
	return out;
}

static void
test_vector(void)
{
	struct seckey admin;
	struct trust_list t, u;
	struct pubkey pin;
	struct buf b;
	char *doc = slurp(HIVE_PROTOCOL_MD), *pub, *bytes, *sig, *published;
	char d[128], line[256], b64[64];

	admin_from_seed(&admin, 1);
	vector_list(&t, &admin);
	sodium_bin2base64(b64, sizeof(b64), admin.pk, KEY_PUB_BYTES,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(line, sizeof(line), "hive-admin-ed25519 %s admin", b64);
	pub = doc_block(doc, "\n### 16.4 Test vector", 0);
	bytes = doc_block(doc, "\n### 16.4 Test vector", 1);
	sig = doc_block(doc, "\n### 16.4 Test vector", 2);
	published = doc_block(doc, "\n### 16.4 Test vector", 3);
	if (getenv("TRUST_VECTOR_PRINT") != NULL) {
		buf_init(&b, 1 << 20);
		trust_signed_bytes(&t, &b);
		printf("%s\n%s\n", line, buf_cstr(&b));
		buf_free(&b);
		buf_init(&b, 1 << 20);
		trust_canonical(&t, &b);
		printf("%s\n%s\n", json_string_value(json_object_get(t.root,
		    "sig")), buf_cstr(&b));
		buf_free(&b);
	}
	CHECK_STR(pub, line);
	buf_init(&b, 1 << 20);
	CHECK(trust_signed_bytes(&t, &b) == 0);
	CHECK_STR(buf_cstr(&b), bytes);
	buf_free(&b);
	CHECK_STR(json_string_value(json_object_get(t.root, "sig")), sig);
	buf_init(&b, 1 << 20);
	CHECK(trust_canonical(&t, &b) == 0);
	CHECK_STR(buf_cstr(&b), published);
	buf_free(&b);
	/* the published form, read back from the doc, verifies */
	CHECK(published != NULL && trust_parse(published, strlen(published),
	    &u, d, sizeof(d)) == TRUST_OK);
	CHECK(pub != NULL && admin_pubkey_parse(pub, strlen(pub), "doc",
	    &pin, d, sizeof(d)) == 0);
	CHECK(trust_verify(&u, &pin, 1, "demo", d, sizeof(d)) == TRUST_OK);
	CHECK(u.serial == 1 && u.nmembers == 1 && u.nrevs == 2 &&
	    u.nconsumed == 1);
	trust_free(&u);
	trust_free(&t);
	seckey_free(&admin);
	free(pub), free(bytes), free(sig), free(published), free(doc);
}

static enum trust_result
parse_str(const char *s)
{
	struct trust_list t;
	enum trust_result r;
	char d[128];

	r = trust_parse(s, strlen(s), &t, d, sizeof(d));
	if (r == TRUST_OK)
		trust_free(&t);
	return r;
}

#define GOOD_HEAD "{\"cluster\":\"c\",\"serial\":1,\"ts\":5,"
#define MEMBER(n, k) "{\"node\":\"" n "\",\"keys\":[\"" k "\"]," \
	"\"role\":\"r\",\"capabilities\":[]}"

static void
test_schema(void)
{
	CHECK(parse_str(GOOD_HEAD "\"members\":[],\"revocations\":[],"
	    "\"consumed\":[]}") == TRUST_OK);
	CHECK(parse_str(GOOD_HEAD "\"members\":[" MEMBER("a", VEC_NODE_PUB)
	    "],\"revocations\":[{\"node\":\"a\",\"before\":3},{\"kid\":"
	    "\"0123456789abcdef\"}],\"consumed\":[\"AAAAAAAAAAAAAAAA\"]}") ==
	    TRUST_OK);
	/* unknown member, missing member, duplicate key */
	CHECK(parse_str(GOOD_HEAD "\"members\":[],\"revocations\":[],"
	    "\"consumed\":[],\"x\":1}") == TRUST_SCHEMA);
	CHECK(parse_str(GOOD_HEAD "\"members\":[],\"revocations\":[]}") ==
	    TRUST_SCHEMA);
	CHECK(parse_str(GOOD_HEAD "\"serial\":2,\"members\":[],"
	    "\"revocations\":[],\"consumed\":[]}") == TRUST_SCHEMA);
	/* reals, negatives, beyond 2^53-1 */
	CHECK(parse_str("{\"cluster\":\"c\",\"serial\":1.0,\"ts\":5,"
	    "\"members\":[],\"revocations\":[],\"consumed\":[]}") ==
	    TRUST_SCHEMA);
	CHECK(parse_str("{\"cluster\":\"c\",\"serial\":-1,\"ts\":5,"
	    "\"members\":[],\"revocations\":[],\"consumed\":[]}") ==
	    TRUST_SCHEMA);
	CHECK(parse_str("{\"cluster\":\"c\",\"serial\":9007199254740992,"
	    "\"ts\":5,\"members\":[],\"revocations\":[],\"consumed\":[]}") ==
	    TRUST_SCHEMA);
	/* charsets: cluster, node, role, nonce, key */
	CHECK(parse_str("{\"cluster\":\"C\",\"serial\":1,\"ts\":5,"
	    "\"members\":[],\"revocations\":[],\"consumed\":[]}") ==
	    TRUST_SCHEMA);
	CHECK(parse_str(GOOD_HEAD "\"members\":[" MEMBER("all", VEC_NODE_PUB)
	    "],\"revocations\":[],\"consumed\":[]}") == TRUST_SCHEMA);
	CHECK(parse_str(GOOD_HEAD "\"members\":[" MEMBER("a",
	    "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbh=")
	    "],\"revocations\":[],\"consumed\":[]}") == TRUST_SCHEMA);
	CHECK(parse_str(GOOD_HEAD "\"members\":[" MEMBER("a", "AAAA")
	    "],\"revocations\":[],\"consumed\":[]}") == TRUST_SCHEMA);
	CHECK(parse_str(GOOD_HEAD "\"members\":[],\"revocations\":[],"
	    "\"consumed\":[\"short\"]}") == TRUST_SCHEMA);
	CHECK(parse_str(GOOD_HEAD "\"members\":[],\"revocations\":[],"
	    "\"consumed\":[\"AAAAAAAAAAAAAAAA\",\"AAAAAAAAAAAAAAAA\"]}") ==
	    TRUST_SCHEMA);
	CHECK(parse_str(GOOD_HEAD "\"members\":[],\"revocations\":[],"
	    "\"consumed\":[\"AAAAAAAA\\u0000AAAAAAAA\"]}") == TRUST_SCHEMA);
	/* a node twice, a kid under two nodes, members out of order */
	CHECK(parse_str(GOOD_HEAD "\"members\":[" MEMBER("a", VEC_NODE_PUB)
	    "," MEMBER("a", "djonU2aUmjc6ogKTI5k3zRjgJQZGtmh3uCXc8BIvEsA=")
	    "],\"revocations\":[],\"consumed\":[]}") == TRUST_SCHEMA);
	CHECK(parse_str(GOOD_HEAD "\"members\":[" MEMBER("a", VEC_NODE_PUB)
	    "," MEMBER("b", VEC_NODE_PUB)
	    "],\"revocations\":[],\"consumed\":[]}") == TRUST_SCHEMA);
	CHECK(parse_str(GOOD_HEAD "\"members\":[" MEMBER("b", VEC_NODE_PUB)
	    "," MEMBER("a", "djonU2aUmjc6ogKTI5k3zRjgJQZGtmh3uCXc8BIvEsA=")
	    "],\"revocations\":[],\"consumed\":[]}") == TRUST_SCHEMA);
	/* revocations: exactly one of node and kid */
	CHECK(parse_str(GOOD_HEAD "\"members\":[],\"revocations\":[{\"node\":"
	    "\"a\",\"kid\":\"0123456789abcdef\"}],\"consumed\":[]}") ==
	    TRUST_SCHEMA);
	CHECK(parse_str(GOOD_HEAD "\"members\":[],\"revocations\":[{"
	    "\"before\":3}],\"consumed\":[]}") == TRUST_SCHEMA);
	CHECK(parse_str(GOOD_HEAD "\"members\":[],\"revocations\":[{\"kid\":"
	    "\"0123456789ABCDEF\"}],\"consumed\":[]}") == TRUST_SCHEMA);
	/* kid without sig */
	CHECK(parse_str(GOOD_HEAD "\"members\":[],\"revocations\":[],"
	    "\"consumed\":[],\"kid\":\"0123456789abcdef\"}") == TRUST_SCHEMA);
	CHECK(parse_str("[]") == TRUST_SCHEMA);
	CHECK(parse_str("{") == TRUST_SCHEMA);
}

static void
test_sign_verify(void)
{
	struct seckey admin, other;
	struct trust_list t, u;
	struct pubkey pins[2];
	struct buf b;
	char d[128];
	char *p;

	admin_from_seed(&admin, 1);
	admin_from_seed(&other, 2);
	memset(pins, 0, sizeof(pins));
	memcpy(pins[0].pk, admin.pk, KEY_PUB_BYTES);
	memcpy(pins[0].kid, admin.kid, sizeof(admin.kid));
	memcpy(pins[1].pk, other.pk, KEY_PUB_BYTES);
	memcpy(pins[1].kid, other.kid, sizeof(other.kid));
	vector_list(&t, &admin);
	CHECK(trust_verify(&t, pins, 2, "demo", d, sizeof(d)) == TRUST_OK);
	CHECK(trust_verify(&t, pins, 2, NULL, d, sizeof(d)) == TRUST_OK);
	CHECK(trust_verify(&t, pins, 2, "other", d, sizeof(d)) ==
	    TRUST_CLUSTER);
	CHECK(trust_verify(&t, pins + 1, 1, "demo", d, sizeof(d)) ==
	    TRUST_UNPINNED);
	CHECK(trust_verify(&t, pins, 0, "demo", d, sizeof(d)) ==
	    TRUST_UNPINNED);
	CHECK(trust_check_serial(&t, 0) == TRUST_OK);
	CHECK(trust_check_serial(&t, 1) == TRUST_ROLLBACK);
	CHECK(trust_check_serial(&t, 2) == TRUST_ROLLBACK);
	/* tamper: one more serial, same signature */
	buf_init(&b, 1 << 20);
	CHECK(trust_canonical(&t, &b) == 0);
	p = strstr((char *)buf_cstr(&b), "\"serial\":1");
	CHECK(p != NULL);
	if (p != NULL)
		p[9] = '2';
	CHECK(trust_parse(b.p, b.len, &u, d, sizeof(d)) == TRUST_OK);
	CHECK(trust_verify(&u, pins, 2, "demo", d, sizeof(d)) ==
	    TRUST_SIGNATURE);
	trust_free(&u);
	buf_free(&b);
	/* kid of a pinned key, signature by another: trust-signature */
	CHECK(trust_sign(&t, &other, VEC_TS) == 0);
	CHECK(json_object_set_new(t.root, "kid", json_string(admin.kid)) == 0);
	buf_init(&b, 1 << 20);
	CHECK(trust_canonical(&t, &b) == 0);
	CHECK(trust_parse(b.p, b.len, &u, d, sizeof(d)) == TRUST_OK);
	CHECK(trust_verify(&u, pins, 2, "demo", d, sizeof(d)) ==
	    TRUST_SIGNATURE);
	trust_free(&u);
	buf_free(&b);
	trust_free(&t);
	/* unsigned */
	CHECK(trust_new(&t, "demo") == 0);
	CHECK(trust_verify(&t, pins, 2, "demo", d, sizeof(d)) ==
	    TRUST_SIGNATURE);
	CHECK(trust_new(&u, "Bad") == -1);
	trust_free(&t);
	seckey_free(&admin);
	seckey_free(&other);
	CHECK_STR(trust_result_name(TRUST_ROLLBACK), "trust-rollback");
	CHECK_STR(trust_result_name(TRUST_UNPINNED), "trust-unpinned");
	CHECK_STR(trust_result_name(TRUST_SIGNATURE), "trust-signature");
	CHECK_STR(trust_result_name(TRUST_CLUSTER), "trust-cluster");
}

static void
test_edits(void)
{
	struct trust_list t;
	struct pubkey a, a2, b;
	char d[128];

	node_pub(&a, "hive-ed25519 " VEC_NODE_PUB " node-a");
	node_pub(&a2, "hive-ed25519 djonU2aUmjc6ogKTI5k3zRjgJQZGtmh3uCXc8BIvEsA="
	    " node-a");
	node_pub(&b, "hive-ed25519 djonU2aUmjc6ogKTI5k3zRjgJQZGtmh3uCXc8BIvEsA="
	    " node-b");
	CHECK(trust_new(&t, "c") == 0);
	CHECK(trust_add_member(&t, &b, NULL, d, sizeof(d)) == 0);
	CHECK(trust_add_member(&t, &a, "ops", d, sizeof(d)) == 0);
	CHECK(t.nmembers == 2 && strcmp(t.members[0].node, "node-a") == 0);
	CHECK_STR(t.members[1].role, "member");
	/* the same key under another node, or twice */
	CHECK(trust_add_member(&t, &a2, NULL, d, sizeof(d)) == -1);
	CHECK(trust_add_member(&t, &a, NULL, d, sizeof(d)) == -1);
	CHECK(trust_add_member(&t, &a, "Bad Role", d, sizeof(d)) == -1);
	CHECK(trust_find_member(&t, "node-b") != NULL);
	CHECK(trust_remove_member(&t, "node-b", d, sizeof(d)) == 0);
	CHECK(trust_find_member(&t, "node-b") == NULL);
	CHECK(trust_remove_member(&t, "node-b", d, sizeof(d)) == -1);
	CHECK(trust_add_member(&t, &a2, NULL, d, sizeof(d)) == 0);
	CHECK(t.nmembers == 1 && t.members[0].nkeys == 2);
	CHECK_STR(t.members[0].role, "ops");
	CHECK(trust_revoke(&t, "node-a", 100, d, sizeof(d)) == 0);
	CHECK(trust_revoke(&t, a2.kid, -1, d, sizeof(d)) == 0);
	CHECK(trust_revoke(&t, "Not A Node", -1, d, sizeof(d)) == -1);
	CHECK(trust_node_revoked(&t, "node-a", 99));
	CHECK(!trust_node_revoked(&t, "node-a", 100));
	CHECK(trust_kid_revoked(&t, a2.kid) && !trust_kid_revoked(&t, a.kid));
	CHECK(trust_set_serial(&t, 7) == 0 && t.serial == 7);
	trust_free(&t);
}

static void
test_keyring(void)
{
	struct keyring local, eff;
	struct trusted_key lk[2];
	struct trust_list t;
	struct pubkey a, b, c;
	const struct trusted_key *k;
	char d[128];

	node_pub(&a, "hive-ed25519 " VEC_NODE_PUB " node-a");
	node_pub(&b, "hive-ed25519 djonU2aUmjc6ogKTI5k3zRjgJQZGtmh3uCXc8BIvEsA="
	    " node-b");
	node_pub(&c, "hive-ed25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	    " node-c");
	memset(&local, 0, sizeof(local));
	memset(lk, 0, sizeof(lk));
	lk[0].pub = a;		/* local: node-a's key */
	lk[1].pub = c;		/* local: node-c, revoked by the list */
	local.keys = lk;
	local.nkeys = 2;
	CHECK(trust_new(&t, "c") == 0);
	CHECK(trust_add_member(&t, &a, NULL, d, sizeof(d)) == 0);	/* dup */
	CHECK(trust_add_member(&t, &b, NULL, d, sizeof(d)) == 0);
	CHECK(trust_revoke(&t, c.kid, -1, d, sizeof(d)) == 0);
	CHECK(trust_revoke(&t, "node-b", 50, d, sizeof(d)) == 0);
	CHECK(trust_keyring(&local, &t, &eff) == 0);
	CHECK(eff.nkeys == 3);
	CHECK((k = keyring_find(&eff, a.kid)) != NULL &&
	    k->state == KEY_TRUSTED);
	CHECK((k = keyring_find(&eff, b.kid)) != NULL &&
	    k->state == KEY_TRUSTED && strcmp(k->file, "trust-list") == 0);
	CHECK((k = keyring_find(&eff, c.kid)) != NULL &&
	    k->state == KEY_REVOKED);
	CHECK(keyring_node_revoked(&eff, "node-b", 49));
	CHECK(!keyring_node_revoked(&eff, "node-b", 50));
	keyring_free(&eff);
	trust_free(&t);
	/* a member key that the keyring binds to another node: conflict */
	b = c;
	hive_strlcpy(b.node, "node-x", sizeof(b.node));
	CHECK(trust_new(&t, "c") == 0);
	CHECK(trust_add_member(&t, &b, NULL, d, sizeof(d)) == 0);
	CHECK(trust_keyring(&local, &t, &eff) == 0);
	CHECK(eff.nkeys == 3 && eff.keys[1].state == KEY_CONFLICT &&
	    eff.keys[2].state == KEY_CONFLICT);
	CHECK(lk[1].state == KEY_TRUSTED);	/* local unchanged */
	keyring_free(&eff);
	trust_free(&t);
}

/* Node key files do not load as admin key files, nor the reverse. */
static void
test_key_kinds(void)
{
	char dir[] = "/tmp/test_trust.XXXXXX", path[256], kid[KID_HEX_LEN + 1];
	char err[512];
	struct seckey sk;
	struct pubkey pk;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(admin_key_generate(dir, kid, err, sizeof(err)) == 0);
	CHECK(admin_key_generate(dir, kid, err, sizeof(err)) == -1);
	CHECK(key_generate(dir, "n1", kid, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/admin.pub", dir);
	CHECK(admin_pubkey_load(path, &pk, err, sizeof(err)) == 0);
	CHECK(pubkey_load(path, &pk, err, sizeof(err)) == -1);
	CHECK(strstr(err, "hive-admin-ed25519") != NULL);
	snprintf(path, sizeof(path), "%s/admin.key", dir);
	CHECK(admin_seckey_load(path, &sk, err, sizeof(err)) == 0);
	seckey_free(&sk);
	CHECK(seckey_load(path, &sk, err, sizeof(err)) == -1);
	unlink(path);
	snprintf(path, sizeof(path), "%s/admin.pub", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/n1.pub", dir);
	CHECK(pubkey_load(path, &pk, err, sizeof(err)) == 0);
	CHECK(admin_pubkey_load(path, &pk, err, sizeof(err)) == -1);
	CHECK(strstr(err, "not a 'hive-admin-ed25519' key") != NULL);
	unlink(path);
	snprintf(path, sizeof(path), "%s/n1.key", dir);
	CHECK(seckey_load(path, &sk, err, sizeof(err)) == 0);
	seckey_free(&sk);
	CHECK(admin_seckey_load(path, &sk, err, sizeof(err)) == -1);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_key_kinds();
	test_schema();
	test_sign_verify();
	test_edits();
	test_keyring();
	test_vector();
	return t_done();
}
