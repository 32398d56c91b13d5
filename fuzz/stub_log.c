/*
 * stub_log.c - log.h for harnesses that must survive fatal(): the IPC
 * decoders treat a protocol violation as fatal (src/log.c exits), and
 * fuzz_ipc.c wants to see that happen and go on.  fatal()/fatalx()
 * jump back to the harness when it armed stub_fatal_jmp, and abort
 * otherwise (an unexpected fatal is a finding).  Log lines are
 * dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "stub_log.h"

jmp_buf	*stub_fatal_jmp;
int	 stub_fatal_count;

void log_init(const char *role, int verbosity) { }
void log_set_role(const char *role) { }
void log_set_fatal_status(int status) { }
const char *log_role(void) { return "fuzz"; }
void log_warn(const char *fmt, ...) { }
void log_warnx(const char *fmt, ...) { }
void log_info(const char *fmt, ...) { }
void log_debug(const char *fmt, ...) { }

static void __attribute__((noreturn, format(printf, 1, 0)))
stub_fatal(const char *fmt, va_list ap)
{
	jmp_buf *j = stub_fatal_jmp;

	stub_fatal_count++;
	if (j == NULL) {
		fprintf(stderr, "unexpected fatal: ");
		vfprintf(stderr, fmt, ap);
		fprintf(stderr, "\n");
		abort();
	}
	stub_fatal_jmp = NULL;
	longjmp(*j, 1);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stub_fatal(fmt, ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stub_fatal(fmt, ap);
}
