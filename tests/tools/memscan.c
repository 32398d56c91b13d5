/*
 * memscan.c - does process PID hold these bytes anywhere in its
 * readable memory?  Used (as root) to prove that the router never
 * holds a node's secret key, with the monitor as the positive control.
 *
 * usage: hive-test-memscan PID HEX
 * exit: 0 found, 1 not found, 2 error
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t
unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	unsigned int b;

	while (s[0] && s[1] && n < max && sscanf(s, "%2x", &b) == 1) {
		out[n++] = (unsigned char)b;
		s += 2;
	}
	return n;
}

static int
scan_region(int fd, unsigned long lo, unsigned long hi,
    const unsigned char *needle, size_t nlen)
{
	size_t len = hi - lo, i;
	unsigned char *buf = malloc(len);
	ssize_t n;
	int found = 0;

	if (buf == NULL)
		return 0;
	n = pread(fd, buf, len, (off_t)lo);
	for (i = 0; n > 0 && (size_t)n >= nlen && i <= (size_t)n - nlen; i++)
		if (buf[i] == needle[0] && memcmp(buf + i, needle, nlen) == 0) {
			found = 1;
			break;
		}
	free(buf);
	return found;
}

int
main(int argc, char *argv[])
{
	unsigned char needle[256];
	char path[64], line[512], perms[8];
	unsigned long lo, hi;
	size_t nlen;
	FILE *maps;
	int mem, found = 0;

	if (argc != 3 || (nlen = unhex(argv[2], needle, sizeof(needle))) < 8)
		errx(2, "usage: hive-test-memscan PID HEX (at least 8 bytes)");
	snprintf(path, sizeof(path), "/proc/%s/maps", argv[1]);
	if ((maps = fopen(path, "r")) == NULL)
		err(2, "%s", path);
	snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
	if ((mem = open(path, O_RDONLY)) == -1)
		err(2, "%s", path);
	while (!found && fgets(line, sizeof(line), maps) != NULL) {
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || hi - lo > (1UL << 30))
			continue;
		found = scan_region(mem, lo, hi, needle, nlen);
	}
	fclose(maps);
	close(mem);
	return found ? 0 : 1;
}
