/*
 * util.c - small helpers.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int
hive_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

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

/* The code point at p (at most n bytes), its length in *len; -1 for
 * anything but a shortest-form encoding of a scalar value. */
int32_t
hive_utf8(const unsigned char *p, size_t n, size_t *len)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t cp;
	size_t k, i;

	if (p[0] < 0x80)
		k = 1;
	else if ((p[0] & 0xe0) == 0xc0)
		k = 2;
	else if ((p[0] & 0xf0) == 0xe0)
		k = 3;
	else if ((p[0] & 0xf8) == 0xf0)
		k = 4;
	else
		return -1;
	if (k > n)
		return -1;
	cp = k == 1 ? p[0] : p[0] & (0x7f >> k);
	for (i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = k;
	return (int32_t)cp;
}
