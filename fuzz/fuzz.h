/*
 * fuzz.h - what every harness in fuzz/ shares.  A harness defines
 * LLVMFuzzerTestOneInput and nothing else that is global; it is linked
 * either with libFuzzer (-fsanitize=fuzzer, cmake -DHIVE_FUZZ=ON), with
 * AFL++'s libFuzzer driver (afl-clang-fast -fsanitize=fuzzer), or with
 * driver.c, a plain main() that runs files (the corpus replay tests
 * of an ordinary build, and AFL++ in file mode).  See docs/security.md.
 */
#ifndef HIVE_FUZZ_H
#define HIVE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A property a harness checks beyond "no crash" (a round trip, a
 * documented invariant).  Failing one aborts, which every engine
 * reports as a crash, with the input saved.
 */
#define FUZZ_ASSERT(cond)						\
	do {								\
		if (!(cond))						\
			fuzz_fail(__FILE__, __LINE__, #cond);		\
	} while (0)

#include <stdio.h>
#include <stdlib.h>

static inline void __attribute__((noreturn))
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
	abort();
}

#endif
