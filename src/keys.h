/*
 * keys.h - key files (normative format in keys/README.md) and the
 * trusted keyring.
 *
 *   NODE.pub:  "# comment" lines, one line
 *              "hive-ed25519 <base64 32-byte public key> <node-id>"
 *   NODE.key:  "hive-ed25519-secret <base64 64-byte libsodium sk> <node-id>"
 *              mode 0600, never a symlink, never group/other-readable.
 *   admin.pub: "hive-admin-ed25519 <base64 32-byte public key> admin"
 *   admin.key: "hive-admin-ed25519-secret <base64 64-byte sk> admin"
 *              the same format under other tags: no loader of one kind
 *              accepts a file of the other.
 *   keyring:   a directory of *.pub files plus an optional "revoked" file
 *              listing kids and "node NAME before TS" lines.
 *
 * Secret key bytes only ever live in sodium_malloc() memory and are
 * wiped by seckey_free().
 */
#ifndef HIVE_KEYS_H
#define HIVE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEY_PUB_BYTES	32
#define KEY_SEC_BYTES	64
#define KEY_SIG_BYTES	64
#define KID_HEX_LEN	16
#define NODE_MAX	64

struct seckey {
	char	 node[NODE_MAX + 1];
	char	 kid[KID_HEX_LEN + 1];
	uint8_t	 pk[KEY_PUB_BYTES];
	uint8_t	*sk;		/* sodium_malloc'd, KEY_SEC_BYTES */
};

struct pubkey {
	char	 node[NODE_MAX + 1];
	char	 kid[KID_HEX_LEN + 1];
	uint8_t	 pk[KEY_PUB_BYTES];
};

enum key_state {
	KEY_TRUSTED = 0,
	KEY_REVOKED,		/* kid listed in "revoked" */
	KEY_CONFLICT,		/* same kid bound to two nodes: refuse both */
};

struct trusted_key {
	struct pubkey	 pub;
	enum key_state	 state;
	char		 file[256];	/* basename of the .pub it came from */
};

struct node_floor {			/* "node NAME before TS" */
	char	 node[NODE_MAX + 1];
	int64_t	 before;
};

struct keyring {
	struct trusted_key	*keys;
	size_t			 nkeys;
	struct node_floor	*floors;
	size_t			 nfloors;
	char			**revoked_kids;	/* listed kids (may match no key) */
	size_t			 nrevoked;
	size_t			 skipped;	/* .pub files refused at load */
	/* keys by kid, for keyring_find (keyring_load); NULL in a keyring
	 * made by hand: keyring_find then reads keys in order */
	const struct trusted_key **bykid;
};

/* kid = lowercase hex of the first 8 bytes of BLAKE2b-256(pk) */
void key_kid(const uint8_t pk[KEY_PUB_BYTES], char kid[KID_HEX_LEN + 1]);
/* full BLAKE2b-256 fingerprint, "blake2b:" + 64 hex digits */
void key_fingerprint(const uint8_t pk[KEY_PUB_BYTES], char *out, size_t len);

/* charset/length checks shared by the envelope schema and key files */
int valid_node(const char *);		/* [a-z0-9._-]{1,64}, not all/meta */
int valid_kid(const char *);		/* 16 lowercase hex digits */

/*
 * Parsers.  They return 0, or -1 with a message in err naming the file
 * and line.  seckey_load refuses symlinks and files that group or
 * others can read.
 */
int pubkey_parse(const char *text, size_t len, const char *name,
    struct pubkey *out, char *err, size_t errlen);
int pubkey_load(const char *path, struct pubkey *out, char *err, size_t);
int seckey_load(const char *path, struct seckey *out, char *err, size_t);
void seckey_free(struct seckey *);
/* the same for admin keys (trust lists, hive-cli only) */
int admin_pubkey_parse(const char *text, size_t len, const char *name,
    struct pubkey *out, char *err, size_t errlen);
int admin_pubkey_load(const char *path, struct pubkey *out, char *err,
    size_t);
int admin_seckey_load(const char *path, struct seckey *out, char *err,
    size_t);

/* keygen: writes DIR/NODE.key (0600) and DIR/NODE.pub, never overwrites */
int key_generate(const char *dir, const char *node, char kid[KID_HEX_LEN + 1],
    char *err, size_t errlen);
/* deterministic variant for tests and the protocol test vector */
int seckey_from_seed(const uint8_t seed[32], const char *node,
    struct seckey *out);
int key_write_files(const char *dir, const struct seckey *,
    char *err, size_t errlen);
/* admin keygen: DIR/admin.key (0600) and DIR/admin.pub, never overwrites */
#define ADMIN_KEY_NAME	"admin"
int admin_key_generate(const char *dir, char kid[KID_HEX_LEN + 1],
    char *err, size_t errlen);
int admin_key_write_files(const char *dir, const struct seckey *,
    char *err, size_t errlen);

int keyring_load(const char *dir, struct keyring *out, char *err, size_t);
/* (re)build the by-kid index of a keyring made by hand */
void keyring_index(struct keyring *);
const struct trusted_key *keyring_find(const struct keyring *,
    const char *kid);
int keyring_node_revoked(const struct keyring *, const char *node,
    int64_t ts);
void keyring_free(struct keyring *);
/* send --to: is there a trusted key of node; the trusted nodes, as a
 * ", "-separated list (node_list_add: appends once, "..." when full) */
int keyring_has_node(const struct keyring *, const char *node);
void keyring_list_nodes(const struct keyring *, char *list, size_t len);
void node_list_add(char *list, size_t len, const char *node);
const char *key_state_name(enum key_state);

#endif
