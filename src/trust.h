/*
 * trust.h - the admin-signed trust list (normative format in
 * docs/protocol.md, "Trust list"): parse with a closed schema and
 * caps, canonical bytes, sign, verify against pinned admin keys, and
 * the effective keyring it makes with a local one.  Pure functions, no
 * I/O: the CLI, the daemon, the tests and the fuzzer share them.
 */
#ifndef HIVE_TRUST_H
#define HIVE_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "keys.h"

#define TRUST_SIG_PREFIX	"hive-trust-v1\n"
#define TRUST_MAX_WIRE		(8 * 1024 * 1024)
#define TRUST_MAX_MEMBERS	16384
#define TRUST_MAX_KEYS		8	/* per member */
#define TRUST_MAX_CAPS		32	/* per member */
#define TRUST_MAX_REVOCATIONS	65536
#define TRUST_MAX_CONSUMED	65536
#define TRUST_NAME_MAX		64	/* cluster, role, capability */
#define TRUST_NONCE_MIN		16
#define TRUST_NONCE_MAX		64
#define TRUST_INT_MAX		INT64_C(9007199254740991)	/* 2^53-1 */

/* Named results: the names are user interface (logs, hive-cli). */
enum trust_result {
	TRUST_OK = 0,
	TRUST_SCHEMA,		/* not a well-formed trust list */
	TRUST_SIGNATURE,	/* Ed25519 check failed */
	TRUST_UNPINNED,		/* signed by a key that is not pinned */
	TRUST_CLUSTER,		/* signed for another cluster */
	TRUST_ROLLBACK,		/* serial not above the one we hold */
	TRUST__COUNT
};

struct trust_member {
	char		 node[NODE_MAX + 1];
	char		 role[TRUST_NAME_MAX + 1];
	struct pubkey	*keys;		/* pub.node is the member's node */
	size_t		 nkeys;
	char		**caps;
	size_t		 ncaps;
};

struct trust_revocation {
	char	 node[NODE_MAX + 1];	/* exactly one of node, kid */
	char	 kid[KID_HEX_LEN + 1];
	int64_t	 before;		/* TRUST_REVOKE_ALL if absent */
};
#define TRUST_REVOKE_ALL	INT64_MAX

struct trust_list {
	json_t			*root;	/* the parsed document, sig included */
	char			 cluster[TRUST_NAME_MAX + 1];
	int64_t			 serial;
	int64_t			 ts;
	struct trust_member	*members;
	size_t			 nmembers;
	struct trust_revocation	*revs;
	size_t			 nrevs;
	char			**consumed;
	size_t			 nconsumed;
	char			 kid[KID_HEX_LEN + 1];	/* the admin signer */
	uint8_t			 sig[KEY_SIG_BYTES];
	int			 has_sig;
};

const char *trust_result_name(enum trust_result);
int trust_valid_name(const char *);	/* [a-z0-9._-]{1,64} */

/* Parse; on TRUST_SCHEMA, detail says what (never quotes the input). */
enum trust_result trust_parse(const void *buf, size_t len,
    struct trust_list *, char *detail, size_t);
/* The same from a JSON value (the list keeps a reference to it). */
enum trust_result trust_from_json(json_t *root, struct trust_list *,
    char *detail, size_t);
void trust_free(struct trust_list *);

/* An empty, unsigned list (serial 0) to add members to. */
int trust_new(struct trust_list *, const char *cluster);

/* "hive-trust-v1\n" || JCS(list without sig) */
int trust_signed_bytes(const struct trust_list *, struct buf *);
/* JCS of the whole list: the form that is published and stored */
int trust_canonical(const struct trust_list *, struct buf *);

/* Sets ts, kid and sig (admin key), and re-reads the list. */
int trust_sign(struct trust_list *, const struct seckey *admin, int64_t ts);
/* Pinned key, signature, then cluster (NULL: any cluster). */
enum trust_result trust_verify(const struct trust_list *,
    const struct pubkey *pins, size_t npins, const char *cluster,
    char *detail, size_t);
/* TRUST_ROLLBACK unless the list's serial is above held. */
enum trust_result trust_check_serial(const struct trust_list *,
    int64_t held);

/*
 * Edits, on the unsigned document: each bumps nothing and signs
 * nothing (the caller sets the serial and signs).  Return 0, or -1
 * with detail (no such member, cap reached, invalid name).
 */
int trust_set_serial(struct trust_list *, int64_t);
int trust_add_member(struct trust_list *, const struct pubkey *,
    const char *role, char *detail, size_t);
int trust_remove_member(struct trust_list *, const char *node,
    char *detail, size_t);
int trust_revoke(struct trust_list *, const char *node_or_kid,
    int64_t before, char *detail, size_t);

/* The member for node, or NULL. */
const struct trust_member *trust_find_member(const struct trust_list *,
    const char *node);
/* Revoked by this list: the kid, or the node for a message at ts. */
int trust_kid_revoked(const struct trust_list *, const char *kid);
int trust_node_revoked(const struct trust_list *, const char *node,
    int64_t ts);

/*
 * The effective keyring: local's keys plus the members' keys, with
 * every revocation of either applied (a kid revoked in either is
 * revoked; node floors of both hold).  A member key whose kid the
 * local keyring binds to another node or key marks both conflicting.
 * out is a new keyring (keyring_free); local is unchanged.
 */
int trust_keyring(const struct keyring *local, const struct trust_list *,
    struct keyring *out);

#endif
