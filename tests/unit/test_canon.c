/*
 * test_canon.c - the JCS writer against hand-written expectations.
 */
#include <stdlib.h>

#include "canon.h"
#include "t.h"

static char *
canon(const json_t *v, const char *skip)
{
	static char out[4096];
	struct buf b;

	buf_init(&b, 1 << 20);
	if (canon_write(&b, v, skip) == -1) {
		buf_free(&b);
		return NULL;
	}
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.p);
	buf_free(&b);
	return out;
}

static void
test_control_chars(void)
{
	char in[32];
	int i;
	json_t *s;

	for (i = 0; i < 32; i++)
		in[i] = (char)i;
	/* jansson refuses NUL without a length: build with json_stringn */
	s = json_stringn_nocheck(in, 32);
	CHECK_STR(canon(s, NULL),
	    "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
	    "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
	    "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
	    "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
	json_decref(s);
}

static void
test_raw_chars(void)
{
	json_t *s;

	/* DEL, '/', non-ASCII and U+2028 are written raw; " and \ escaped */
	s = json_string("a\x7f/\xc3\xa9\xe2\x80\xa8\"\\z");
	CHECK_STR(canon(s, NULL), "\"a\x7f/\xc3\xa9\xe2\x80\xa8\\\"\\\\z\"");
	json_decref(s);
	s = json_string("\xf0\x9f\x90\x9d");	/* U+1F41D, 4-byte UTF-8 */
	CHECK_STR(canon(s, NULL), "\"\xf0\x9f\x90\x9d\"");
	json_decref(s);
}

static void
test_sorting_and_nesting(void)
{
	json_t *v = json_loads("{\"b\":1,\"a\":[true,false,null,{\"z\":\"\","
	    "\"y\":-5}],\"aa\":{\"d\":0,\"c\":9007199254740991},\"B\":\"x\","
	    "\"sig\":\"s\"}", 0, NULL);

	CHECK(v != NULL);
	CHECK_STR(canon(v, NULL), "{\"B\":\"x\",\"a\":[true,false,null,"
	    "{\"y\":-5,\"z\":\"\"}],\"aa\":{\"c\":9007199254740991,\"d\":0},"
	    "\"b\":1,\"sig\":\"s\"}");
	/* skip_key drops only the top-level member */
	CHECK_STR(canon(v, "sig"), "{\"B\":\"x\",\"a\":[true,false,null,"
	    "{\"y\":-5,\"z\":\"\"}],\"aa\":{\"c\":9007199254740991,\"d\":0},"
	    "\"b\":1}");
	CHECK_STR(canon(v, "a"), "{\"B\":\"x\",\"aa\":{\"c\":9007199254740991,"
	    "\"d\":0},\"b\":1,\"sig\":\"s\"}");
	json_decref(v);
	v = json_loads("{\"x\":{\"sig\":1}}", 0, NULL);
	CHECK_STR(canon(v, "sig"), "{\"x\":{\"sig\":1}}");
	json_decref(v);
	v = json_loads("{}", 0, NULL);
	CHECK_STR(canon(v, NULL), "{}");
	json_decref(v);
	v = json_loads("[[],{}]", 0, NULL);
	CHECK_STR(canon(v, NULL), "[[],{}]");
	json_decref(v);
}

static void
test_refuses_reals(void)
{
	json_t *v = json_loads("{\"a\":[1.5]}", 0, NULL);

	CHECK(v != NULL);
	CHECK(canon(v, NULL) == NULL);
	json_decref(v);
}

static void
test_buffer_cap(void)
{
	json_t *v = json_string("0123456789");
	struct buf b;

	buf_init(&b, 8);
	CHECK(canon_write(&b, v, NULL) == -1);
	buf_free(&b);
	buf_init(&b, 12);
	CHECK(canon_write(&b, v, NULL) == 0 && b.len == 12);
	buf_free(&b);
	json_decref(v);
}

int
main(void)
{
	test_control_chars();
	test_raw_chars();
	test_sorting_and_nesting();
	test_refuses_reals();
	test_buffer_cap();
	return t_done();
}
