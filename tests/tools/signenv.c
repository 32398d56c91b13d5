/*
 * signenv.c - sign envelope templates for the hostile-input tests.
 *
 * Reads one JSON object per line on stdin, sets its kid and sig with
 * the node key KEYFILE (envelope_sign: the same prefix and canonical
 * form as hive-cli), and writes the canonical signed form, one per
 * line, to stdout.  No schema check: the tests sign values a real
 * sender never would (past and future times, another node's from), to
 * prove that the receiver refuses them after the signature verifies.
 *
 * usage: hive-test-sign KEYFILE <templates >envelopes
 * exit: 0 ok, 1 a line is not a JSON object or could not be signed,
 *       2 usage or key file
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "envelope.h"
#include "keys.h"

static int
signenv_line(const char *line, size_t len, const struct seckey *sk)
{
	json_error_t jerr;
	json_t *root;
	struct buf out;
	int rc = -1;

	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		warnx("line %d: not a JSON object: %s", jerr.line, jerr.text);
		json_decref(root);
		return -1;
	}
	buf_init(&out, 2 * ENVELOPE_MAX_WIRE);
	if (envelope_sign(root, sk) == 0 && envelope_canonical(root, &out) == 0)
		rc = fwrite(out.p, 1, out.len, stdout) == out.len &&
		    putchar('\n') != EOF ? 0 : -1;
	else
		warnx("cannot sign or serialise a template");
	buf_free(&out);
	json_decref(root);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct seckey sk;
	char msg[512], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (argc != 2)
		errx(2, "usage: hive-test-sign KEYFILE <templates");
	if (sodium_init() < 0)
		errx(2, "libsodium failed to initialise");
	if (seckey_load(argv[1], &sk, msg, sizeof(msg)) == -1)
		errx(2, "%s", msg);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		if (signenv_line(line, (size_t)n, &sk) == -1)
			rc = 1;
	}
	free(line);
	seckey_free(&sk);
	if (fflush(stdout) == EOF)
		err(2, "stdout");
	return rc;
}
