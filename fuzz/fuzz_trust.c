/*
 * fuzz_trust.c - the trust list parser (trust_parse) over any bytes,
 * then verification against the test vector's admin key
 * (docs/protocol.md section 16).
 *
 * Properties checked beyond "no crash":
 *  - the canonical form of anything accepted parses again, is a fixed
 *    point, and verifies exactly as the wire bytes did;
 *  - a list accepted once, signed with the vector's admin key,
 *    verifies, and again after one more member is revoked.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "trust.h"

#include "fuzz.h"

static struct seckey admin;
static struct pubkey pin;

static void
fuzz_trust_init(void)
{
	uint8_t seed[32];
	int i;

	if (sodium_init() < 0)
		abort();
	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
	if (seckey_from_seed(seed, ADMIN_KEY_NAME, &admin) != 0)
		abort();
	memcpy(pin.pk, admin.pk, KEY_PUB_BYTES);
	memcpy(pin.kid, admin.kid, sizeof(pin.kid));
}

static void
fuzz_trust_resign(struct trust_list *t)
{
	char d[128];

	FUZZ_ASSERT(trust_set_serial(t, t->serial < TRUST_INT_MAX ?
	    t->serial + 1 : 0) == 0);
	FUZZ_ASSERT(trust_sign(t, &admin, 1771143000) == 0);
	FUZZ_ASSERT(trust_verify(t, &pin, 1, t->cluster, d, sizeof(d)) ==
	    TRUST_OK);
	if (trust_revoke(t, "0123456789abcdef", -1, d, sizeof(d)) == 0) {
		FUZZ_ASSERT(trust_verify(t, &pin, 1, NULL, d, sizeof(d)) ==
		    TRUST_SIGNATURE);
		FUZZ_ASSERT(trust_sign(t, &admin, 1771143000) == 0);
		FUZZ_ASSERT(trust_verify(t, &pin, 1, NULL, d, sizeof(d)) ==
		    TRUST_OK);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct trust_list t, u;
	struct buf c1, c2;
	enum trust_result r1, r2;
	char d[128];

	if (!ready++)
		fuzz_trust_init();
	if (trust_parse(data, size, &t, d, sizeof(d)) != TRUST_OK)
		return 0;
	buf_init(&c1, 2 * TRUST_MAX_WIRE);
	FUZZ_ASSERT(trust_canonical(&t, &c1) == 0);
	FUZZ_ASSERT(trust_parse(c1.p, c1.len, &u, d, sizeof(d)) == TRUST_OK);
	buf_init(&c2, 2 * TRUST_MAX_WIRE);
	FUZZ_ASSERT(trust_canonical(&u, &c2) == 0);
	FUZZ_ASSERT(c1.len == c2.len && memcmp(c1.p, c2.p, c1.len) == 0);
	r1 = trust_verify(&t, &pin, 1, NULL, d, sizeof(d));
	r2 = trust_verify(&u, &pin, 1, NULL, d, sizeof(d));
	FUZZ_ASSERT(r1 == r2);
	fuzz_trust_resign(&u);
	trust_free(&u);
	trust_free(&t);
	buf_free(&c1);
	buf_free(&c2);
	return 0;
}
