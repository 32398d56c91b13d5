/*
 * util.h - small helpers that glibc 2.36 (Debian 12) lacks.
 */
#ifndef HIVE_UTIL_H
#define HIVE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* OpenBSD strlcpy: always NUL-terminates, returns strlen(src). */
size_t hive_strlcpy(char *dst, const char *src, size_t dsize);

/* A string in an IPC/config field: exactly one trailing NUL. */
int str_exact(const char *s, size_t len);

/* write(2) all of buf, EINTR retried: 0, or -1 with errno. */
int hive_write_all(int fd, const void *buf, size_t len);

/* Every byte printable ASCII (0x20..0x7e). */
int hive_printable(const char *s, size_t len);

/* The code point at p (at most n bytes, n > 0), its length in *len;
 * -1 for anything but a shortest-form UTF-8 encoding of a scalar value. */
int32_t hive_utf8(const unsigned char *p, size_t n, size_t *len);

#endif
