/*
 * fuzz_config.c - hive.conf from memory (config_parse).
 *
 * Properties: a refused text names the file in its message; an
 * accepted one prints (config_print, hive-daemon -n), the printed form
 * parses again and prints identically, and the helpers the daemon
 * calls on a loaded configuration stay within their bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include "fuzz.h"

static char *
fuzz_print(const struct config *c, size_t *len)
{
	char *buf = NULL;
	FILE *fp;

	*len = 0;
	FUZZ_ASSERT((fp = open_memstream(&buf, len)) != NULL);
	config_print(c, fp);
	FUZZ_ASSERT(fclose(fp) == 0);
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c, c2;
	char nodes[CONFIG_MAX_NODES][NODE_MAX + 1];
	char err[512], *a, *b;
	size_t alen, blen, n, i;

	config_defaults(&c);
	err[0] = '\0';
	if (config_parse(&c, (const char *)data, size, "f.conf", err,
	    sizeof(err)) == -1) {
		FUZZ_ASSERT(strncmp(err, "f.conf", 6) == 0);
		return 0;
	}
	n = config_nodes(&c, nodes);
	FUZZ_ASSERT(n <= CONFIG_MAX_NODES);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(strlen(nodes[i]) <= NODE_MAX);
		(void)config_instance_port(&c, nodes[i]);
	}
	(void)config_valid_prefix(c.prefix);
	a = fuzz_print(&c, &alen);
	config_defaults(&c2);
	if (config_parse(&c2, a, alen, "printed", err, sizeof(err)) == -1) {
		fprintf(stderr, "printed config refused: %s\n%s", err, a);
		FUZZ_ASSERT(!"the printed config parses");
	}
	b = fuzz_print(&c2, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0)
		fprintf(stderr, "first print:\n%s\nsecond print:\n%s", a, b);
	FUZZ_ASSERT(alen == blen && memcmp(a, b, alen) == 0);
	free(a);
	free(b);
	return 0;
}
