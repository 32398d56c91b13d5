/*
 * util.c - small helpers.
 */
#include <string.h>

#include "util.h"

size_t
hive_strlcpy(char *dst, const char *src, size_t dsize)
{
	size_t len = strlen(src);

	if (dsize > 0) {
		size_t n = len < dsize - 1 ? len : dsize - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int
str_exact(const char *s, size_t len)
{
	return len > 0 && s[len - 1] == '\0' && strlen(s) == len - 1;
}

int
hive_printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}
