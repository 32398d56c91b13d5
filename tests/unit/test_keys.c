/*
 * test_keys.c - key files, permissions, keyring loading and revocation.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "t.h"

static char dir[256];

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd != -1);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

static void
test_kid_vector(void)
{
	uint8_t seed[32];
	struct seckey k;
	char fp[80];
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	CHECK(seckey_from_seed(seed, "turq-18789", &k) == 0);
	CHECK_STR(k.kid, "9d24e2eeaf27c2a0");
	key_fingerprint(k.pk, fp, sizeof(fp));
	CHECK(strncmp(fp, "blake2b:9d24e2eeaf27c2a0", 24) == 0 &&
	    strlen(fp) == 8 + 64);
	CHECK(seckey_from_seed(seed, "Bad Node", &k) == -1);
	seckey_free(&k);
}

/* A forked child sees the secret key's pages as zeros (keys.c,
 * seckey_wipeonfork); the parent keeps its key. */
static void
test_key_wiped_in_child(void)
{
	uint8_t seed[32];
	struct seckey k;
	pid_t pid;
	int i, status, zero = 1;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
	CHECK(seckey_from_seed(seed, "turq-18789", &k) == 0);
	if ((pid = fork()) == 0) {
		for (i = 0; i < KEY_SEC_BYTES; i++)
			zero &= k.sk[i] == 0;
		_exit(zero ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (i = 0; i < KEY_SEC_BYTES; i++)
		zero &= k.sk[i] == 0;
	CHECK(!zero);
	CHECK(memcmp(k.sk, seed, 32) == 0);	/* libsodium: seed, then pk */
	seckey_free(&k);
}

static void
test_pubkey_parse(void)
{
	static const char *const bad[] = {
		"",
		"# only a comment\n",
		"hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\n",
		"hive-ed448 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg= n1\n",
		"hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg n1\n",
		"hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbgA n1\n",
		"hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVM= n1\n",
		"hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg= N1\n",
		"hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg= n1 x\n",
		"hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg= n1\n"
		"hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg= n2\n",
	};
	struct pubkey pk;
	char err[512];
	size_t i;
	const char *good = "# c\n\nhive-ed25519 "
	    "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg= turq-18789\r\n";

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = pubkey_parse(bad[i], strlen(bad[i]), "t.pub", &pk, err,
		    sizeof(err));
		if (r != -1)
			fprintf(stderr, "  accepted bad case %zu\n", i);
		CHECK(r == -1 && strncmp(err, "t.pub", 5) == 0);
	}
	CHECK(pubkey_parse(good, strlen(good), "t.pub", &pk, err,
	    sizeof(err)) == 0);
	CHECK_STR(pk.node, "turq-18789");
	CHECK_STR(pk.kid, "9d24e2eeaf27c2a0");
}

static void
test_keygen_and_load(void)
{
	char kid[17], err[1024], path[512];
	struct seckey k;
	struct pubkey pk;
	struct stat st;

	CHECK(key_generate(dir, "n1", kid, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/n1.key", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(seckey_load(path, &k, err, sizeof(err)) == 0);
	CHECK_STR(k.kid, kid);
	CHECK_STR(k.node, "n1");
	seckey_free(&k);
	snprintf(path, sizeof(path), "%s/n1.pub", dir);
	CHECK(pubkey_load(path, &pk, err, sizeof(err)) == 0);
	CHECK_STR(pk.kid, kid);
	/* never overwrite */
	CHECK(key_generate(dir, "n1", kid, err, sizeof(err)) == -1);
	CHECK(strstr(err, "refusing to overwrite") != NULL);
	CHECK(key_generate(dir, "all", kid, err, sizeof(err)) == -1);
	CHECK(key_generate(dir, "Upper", kid, err, sizeof(err)) == -1);
}

static void
test_seckey_refusals(void)
{
	char path[512], link[512], err[1024];
	struct seckey k;

	snprintf(path, sizeof(path), "%s/n1.key", dir);
	chmod(path, 0640);
	CHECK(seckey_load(path, &k, err, sizeof(err)) == -1);
	CHECK(strstr(err, "group or others") != NULL);
	chmod(path, 0604);
	CHECK(seckey_load(path, &k, err, sizeof(err)) == -1);
	chmod(path, 0600);
	snprintf(link, sizeof(link), "%s/link.key", dir);
	CHECK(symlink(path, link) == 0);
	CHECK(seckey_load(link, &k, err, sizeof(err)) == -1);
	CHECK(strstr(err, "symlink") != NULL);
	/* a corrupted secret: public half no longer matches the seed */
	write_file("bad.key", "hive-ed25519-secret AAECAwQFBgcICQoLDA0ODxAREhMU"
	    "FRYXGBkaGxwdHh8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA== bad\n",
	    0600);
	snprintf(path, sizeof(path), "%s/bad.key", dir);
	CHECK(seckey_load(path, &k, err, sizeof(err)) == -1);
	CHECK(strstr(err, "corrupt") != NULL);
	write_file("pub.key", "hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1f"
	    "HdyGZBJVMbg= n1\n", 0600);
	snprintf(path, sizeof(path), "%s/pub.key", dir);
	CHECK(seckey_load(path, &k, err, sizeof(err)) == -1);
	unlink(path);
	unlink(link);
	snprintf(path, sizeof(path), "%s/bad.key", dir);
	unlink(path);
}

static const struct trusted_key *
find_node(const struct keyring *kr, const char *node)
{
	size_t i;

	for (i = 0; i < kr->nkeys; i++)
		if (strcmp(kr->keys[i].pub.node, node) == 0)
			return &kr->keys[i];
	return NULL;
}

static void
test_keyring(void)
{
	struct keyring kr;
	char err[1024], kid2[17], kid3[17], text[256];

	CHECK(key_generate(dir, "n2", kid2, err, sizeof(err)) == 0);
	CHECK(key_generate(dir, "n3", kid3, err, sizeof(err)) == 0);
	/* a stray copy of n1.pub under another name: harmless duplicate */
	write_file("copy.pub", "hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1f"
	    "HdyGZBJVMbg= turq-18789\n", 0644);
	write_file("turq.pub", "hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1f"
	    "HdyGZBJVMbg= turq-18789\n", 0644);
	write_file("junk.pub", "not a key\n", 0644);
	write_file("open.pub", "hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1f"
	    "HdyGZBJVMbg= other\n", 0666);
	snprintf(text, sizeof(text), "# revoked keys\n%s\n\nnode n3 before 500 "
	    "# rotated\n", kid2);
	write_file("revoked", text, 0644);
	CHECK(keyring_load(dir, &kr, err, sizeof(err)) == 0);
	CHECK(kr.nkeys == 4);		/* n1 n2 n3 turq (copy deduplicated) */
	CHECK(kr.skipped == 2);		/* junk.pub, open.pub (0666) */
	CHECK(find_node(&kr, "other") == NULL);
	CHECK(find_node(&kr, "n2") && find_node(&kr, "n2")->state == KEY_REVOKED);
	CHECK(find_node(&kr, "n3") && find_node(&kr, "n3")->state == KEY_TRUSTED);
	CHECK(keyring_find(&kr, "9d24e2eeaf27c2a0") != NULL);
	CHECK(keyring_node_revoked(&kr, "n3", 499) == 1);
	CHECK(keyring_node_revoked(&kr, "n3", 500) == 0);
	CHECK(keyring_node_revoked(&kr, "n1", 1) == 0);
	keyring_free(&kr);
	/* same kid bound to another node: both refused */
	write_file("open.pub", "hive-ed25519 A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1f"
	    "HdyGZBJVMbg= other\n", 0644);
	CHECK(keyring_load(dir, &kr, err, sizeof(err)) == 0);
	CHECK(find_node(&kr, "other") != NULL &&
	    find_node(&kr, "other")->state == KEY_CONFLICT);
	CHECK(find_node(&kr, "turq-18789") != NULL &&
	    find_node(&kr, "turq-18789")->state == KEY_CONFLICT);
	keyring_free(&kr);
}

static const struct trusted_key *
find_kid(const struct keyring *kr, const char *kid)
{
	size_t i;

	for (i = 0; i < kr->nkeys; i++)
		if (strcmp(kr->keys[i].pub.kid, kid) == 0)
			return &kr->keys[i];
	return NULL;
}

/*
 * keyring_find looks kids up in an index sorted by kid: it must find
 * exactly what a scan of the keys in order finds, every key, nothing
 * for kids below, between or above them, the first of a kid that two
 * conflicting keys share, and still scan a keyring made by hand.
 */
static void
test_keyring_find(void)
{
	struct keyring kr, hand;
	char sub[sizeof(dir) + 8], node[16], kid[17], err[1024];
	static const char *absent[] = { "", "0000000000000000",
	    "ffffffffffffffff", "7fffffffffffffff", "9d24e2eeaf27c2a" };
	size_t i, found = 0;

	CHECK(keyring_load(dir, &kr, err, sizeof(err)) == 0);
	CHECK(keyring_find(&kr, "9d24e2eeaf27c2a0") ==
	    find_kid(&kr, "9d24e2eeaf27c2a0"));
	CHECK(keyring_find(&kr, "9d24e2eeaf27c2a0")->state == KEY_CONFLICT);
	keyring_free(&kr);

	snprintf(sub, sizeof(sub), "%s/many", dir);
	CHECK(mkdir(sub, 0700) == 0);
	for (i = 0; i < 40; i++) {
		snprintf(node, sizeof(node), "m%zu", i);
		CHECK(key_generate(sub, node, kid, err, sizeof(err)) == 0);
	}
	CHECK(keyring_load(sub, &kr, err, sizeof(err)) == 0);
	CHECK(kr.nkeys == 40);
	for (i = 0; i < kr.nkeys; i++)
		found += keyring_find(&kr, kr.keys[i].pub.kid) == &kr.keys[i];
	CHECK(found == 40);
	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		CHECK(keyring_find(&kr, absent[i]) == find_kid(&kr, absent[i]));
	hand = kr;
	hand.bykid = NULL;
	CHECK(keyring_find(&hand, kr.keys[7].pub.kid) == &kr.keys[7]);
	CHECK(keyring_find(&hand, "0000000000000000") == NULL);
	keyring_free(&kr);
}

static void
test_revoked_file_errors(void)
{
	struct keyring kr;
	char err[1024];

	write_file("revoked", "node n3 after 5\n", 0644);
	CHECK(keyring_load(dir, &kr, err, sizeof(err)) == -1);
	CHECK(strstr(err, "revoked:1") != NULL);
	write_file("revoked", "\n\nABCDEF\n", 0644);
	CHECK(keyring_load(dir, &kr, err, sizeof(err)) == -1);
	CHECK(strstr(err, "revoked:3") != NULL);
	write_file("revoked", "9d24e2eeaf27c2a0\n", 0666);
	CHECK(keyring_load(dir, &kr, err, sizeof(err)) == -1);
	write_file("revoked", "9d24e2eeaf27c2a0\n", 0644);
	CHECK(keyring_load(dir, &kr, err, sizeof(err)) == 0);
	CHECK(keyring_find(&kr, "9d24e2eeaf27c2a0")->state != KEY_TRUSTED);
	keyring_free(&kr);
	chmod(dir, 0777);
	CHECK(keyring_load(dir, &kr, err, sizeof(err)) == -1);
	CHECK(strstr(err, "writable") != NULL);
	chmod(dir, 0700);
}

int
main(void)
{
	char cmd[512];
	int rc;

	if (sodium_init() < 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/hive-test-keys-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	test_kid_vector();
	test_key_wiped_in_child();
	test_pubkey_parse();
	test_keygen_and_load();
	test_seckey_refusals();
	test_keyring();
	test_keyring_find();
	test_revoked_file_errors();
	rc = t_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return rc;
}
