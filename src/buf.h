/*
 * buf.h - a growable byte buffer with a hard cap.
 */
#ifndef HIVE_BUF_H
#define HIVE_BUF_H

#include <stddef.h>

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* appending beyond this fails */
	int	 err;	/* sticky: an append failed */
};

void buf_init(struct buf *, size_t max);
void buf_add(struct buf *, const void *, size_t);
void buf_addc(struct buf *, char);
void buf_adds(struct buf *, const char *);
/* NUL-terminates without counting the NUL; returns p or NULL on error */
const char *buf_cstr(struct buf *);
void buf_free(struct buf *);

#endif
