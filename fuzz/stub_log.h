/* stub_log.h - see stub_log.c */
#ifndef HIVE_STUB_LOG_H
#define HIVE_STUB_LOG_H

#include <setjmp.h>

/* armed: the next fatal()/fatalx() longjmps here (once), else aborts */
extern jmp_buf	*stub_fatal_jmp;
extern int	 stub_fatal_count;

#endif
