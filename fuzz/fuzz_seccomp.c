/*
 * fuzz_seccomp.c - handler seccomp profiles from memory
 * (seccomp_profile_parse), compiled by libseccomp to classic BPF.
 * Includes resolve against the profiles shipped in policy/seccomp/
 * (default, nonet, strict), so "include default" is reachable.
 *
 * Properties: a refused text leaves nothing allocated and says why;
 * an accepted one yields two non-empty programs, the AF_UNIX-only one
 * whatever "network" is asked for when the profile says "network
 * deny", and the programs copy.
 */
#include <string.h>

#include "seccomp_profile.h"

#include "fuzz.h"

#ifndef HIVE_FUZZ_SECCOMP_DIR
#define HIVE_FUZZ_SECCOMP_DIR	NULL
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seccomp_profile p;
	struct handler_bpf copy;
	const struct handler_bpf *b0, *b1;
	char err[1024];

	err[0] = '\0';
	if (seccomp_profile_parse(&p, HIVE_FUZZ_SECCOMP_DIR, "fuzzed",
	    (const char *)data, size, err, sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT(p.rules == NULL && p.bpf[0].insn == NULL &&
		    p.bpf[1].insn == NULL);
		return 0;
	}
	b0 = seccomp_profile_bpf(&p, 1);
	b1 = seccomp_profile_bpf(&p, 0);
	FUZZ_ASSERT(b0 != NULL && b1 != NULL);
	FUZZ_ASSERT(b0->len > 0 && b1->len > 0);
	FUZZ_ASSERT(b1 == &p.bpf[1]);
	if (p.network_deny)
		FUZZ_ASSERT(b0 == &p.bpf[1]);
	FUZZ_ASSERT(handler_bpf_copy(&copy, b0) == 0);
	FUZZ_ASSERT(copy.len == b0->len &&
	    memcmp(copy.insn, b0->insn, b0->len * sizeof(*copy.insn)) == 0);
	FUZZ_ASSERT(copy.notify_len == b0->notify_len && (b0->notify_len == 0 ||
	    memcmp(copy.notify, b0->notify, b0->notify_len *
	    sizeof(*copy.notify)) == 0));
	handler_bpf_free(&copy);
	/* the notify form behind its handoff prefix: the program follows
	 * the prefix unchanged */
	if (b0->notify_len > 0 && handler_bpf_notify_handoff(&copy, b0, 64,
	    (int)(size & 1)) == 0) {
		FUZZ_ASSERT(copy.len > b0->notify_len && memcmp(copy.insn +
		    (copy.len - b0->notify_len), b0->notify, b0->notify_len *
		    sizeof(*copy.insn)) == 0);
		handler_bpf_free(&copy);
	}
	seccomp_profile_free(&p);
	return 0;
}
