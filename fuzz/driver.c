/*
 * driver.c - main() for a harness without libFuzzer: runs
 * LLVMFuzzerTestOneInput once per file named on the command line (a
 * directory: once per file in it), or once on standard input when
 * there is no argument (AFL++: afl-fuzz ... -- ./fuzz_NAME @@, or
 * without @@).  The ordinary build links it to replay the seed corpus
 * as a ctest test; any sanitizer report or failed property aborts.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define DRIVER_MAX	(1024 * 1024)	/* bigger inputs are cut */

static size_t driver_runs;

static int
driver_stream(FILE *fp, const char *name)
{
	uint8_t *buf;
	size_t n;

	if ((buf = malloc(DRIVER_MAX)) == NULL) {
		perror("malloc");
		return -1;
	}
	n = fread(buf, 1, DRIVER_MAX, fp);
	if (ferror(fp)) {
		fprintf(stderr, "%s: read error\n", name);
		free(buf);
		return -1;
	}
	/* an exact-size copy, so ASan sees reads past the end */
	uint8_t *exact = malloc(n ? n : 1);

	if (exact == NULL) {
		perror("malloc");
		free(buf);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	driver_runs++;
	return 0;
}

static int
driver_file(const char *path)
{
	FILE *fp;
	int rc;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = driver_stream(fp, path);
	fclose(fp);
	return rc;
}

static int
driver_dir(const char *dir)
{
	struct dirent **ents;
	char path[PATH_MAX];
	int i, n, rc = 0;

	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir,
			    ents[i]->d_name);
			if (driver_file(path) == -1)
				rc = -1;
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i, rc = 0;

	if (argc < 2)
		return driver_stream(stdin, "<stdin>") == 0 ? 0 : 2;
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			rc |= driver_dir(argv[i]);
		else
			rc |= driver_file(argv[i]);
	}
	printf("%zu input(s) ran\n", driver_runs);
	if (driver_runs == 0)
		return 2;
	return rc == 0 ? 0 : 2;
}
