/*
 * t.h - a minimal test harness for unit tests linked against the real
 * sources.  Each test binary is one ctest test; it prints one line per
 * failed check and a closing "N passed, N failed" line.
 */
#ifndef HIVE_T_H
#define HIVE_T_H

#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(cond)							\
	do {								\
		if (cond) {						\
			t_pass++;					\
		} else {						\
			t_fail++;					\
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__,	\
			    __LINE__, #cond);				\
		}							\
	} while (0)

#define CHECK_STR(a, b)							\
	do {								\
		const char *t_a = (a), *t_b = (b);			\
		if (t_a != NULL && t_b != NULL && strcmp(t_a, t_b) == 0) { \
			t_pass++;					\
		} else {						\
			t_fail++;					\
			fprintf(stderr, "FAIL %s:%d: %s == %s\n"	\
			    "  got:  %s\n  want: %s\n", __FILE__, __LINE__, \
			    #a, #b, t_a ? t_a : "(null)",		\
			    t_b ? t_b : "(null)");			\
		}							\
	} while (0)

static inline int
t_done(void)
{
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return (t_fail == 0 && t_pass > 0) ? 0 : 1;
}

#endif
