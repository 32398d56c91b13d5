/*
 * echo - answer with the request's text and args: the smallest useful
 * handler, for checking that a node's handlers work end to end, and
 * the one the round-trip benchmark (bench/bus_rtt.sh) measures.
 *
 *   stdin   the verified envelope (canonical JSON, at most 64 KiB)
 *   stdout  {"text": TEXT, "args": ARGS}   ("" and {} when not sent)
 *   exit    0, or 1 with the reason on stderr
 *
 * Written in C rather than as `jq -c '{text: (.text // ""), args:
 * (.args // {})}'` (its behaviour, exactly) because jq 1.6, Debian 12's,
 * compiles its builtins at every start: 17 ms of a 22 ms round trip.
 * Built to build/handlers.d/echo; runs under seccomp "strict"
 * (policy/hive.policy).  Reads only stdin, writes only stdout/stderr.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

/* The daemon never passes more (docs/handler-contract.md). */
#define ECHO_MAX_INPUT (64 * 1024)

static int
refuse(const char *why)
{
	fprintf(stderr, "echo: %s\n", why);
	return 1;
}

int
main(void)
{
	static char buf[ECHO_MAX_INPUT + 1];
	size_t len = fread(buf, 1, sizeof(buf), stdin);
	if (ferror(stdin))
		return refuse("cannot read stdin");
	if (len > ECHO_MAX_INPUT)
		return refuse("input over 64 KiB");

	json_error_t err;
	json_t *env = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (env == NULL || !json_is_object(env))
		return refuse("stdin is not one JSON object");

	/* jq's `//`: a missing, null or false member takes the default */
	json_t *text = json_object_get(env, "text");
	json_t *args = json_object_get(env, "args");
	if (text == NULL || json_is_null(text) || json_is_false(text))
		text = json_string("");
	else
		json_incref(text);
	if (args == NULL || json_is_null(args) || json_is_false(args))
		args = json_object();
	else
		json_incref(args);

	json_t *out = json_pack("{s:o, s:o}", "text", text, "args", args);
	if (out == NULL || json_dumpf(out, stdout, JSON_COMPACT) != 0 ||
	    fputc('\n', stdout) == EOF || fflush(stdout) != 0)
		return refuse("cannot write the result");
	json_decref(out);
	json_decref(env);
	return 0;
}
