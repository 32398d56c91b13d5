/*
 * buf.c - growable byte buffer.  Errors are sticky so that a writer
 * can append many pieces and check once at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

static int
buf_reserve(struct buf *b, size_t more)
{
	size_t need, ncap;
	char *np;

	if (b->err)
		return -1;
	if (more > b->max || b->len > b->max - more) {
		b->err = 1;
		return -1;
	}
	need = b->len + more + 1;	/* room for buf_cstr's NUL */
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	if ((np = realloc(b->p, ncap)) == NULL) {
		b->err = 1;
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) == -1)
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

const char *
buf_cstr(struct buf *b)
{
	if (buf_reserve(b, 0) == -1)
		return NULL;
	b->p[b->len] = '\0';
	return b->p;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
