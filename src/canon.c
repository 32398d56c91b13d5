/*
 * canon.c - our own canonical JSON writer.
 *
 * Why not json_dumps(JSON_SORT_KEYS|JSON_COMPACT)?  jansson writes
 * "\u001B"-style escapes with uppercase hex and escapes "/" on request
 * only; JCS wants lowercase hex and raw UTF-8 for everything but '"',
 * '\\' and U+0000..U+001F.  Owning the writer keeps the signed bytes
 * exactly what other JCS implementations produce.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"

static int canon_value(struct buf *, const json_t *, const char *);

static void
canon_string(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	buf_addc(out, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':  buf_add(out, "\\\"", 2); continue;
		case '\\': buf_add(out, "\\\\", 2); continue;
		case '\b': buf_add(out, "\\b", 2); continue;
		case '\t': buf_add(out, "\\t", 2); continue;
		case '\n': buf_add(out, "\\n", 2); continue;
		case '\f': buf_add(out, "\\f", 2); continue;
		case '\r': buf_add(out, "\\r", 2); continue;
		default:
			break;
		}
		if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0',
			    hex[c >> 4], hex[c & 0xf] };
			buf_add(out, esc, sizeof(esc));
		} else
			buf_addc(out, (char)c);
	}
	buf_addc(out, '"');
}

static int
canon_keycmp(const void *a, const void *b)
{
	/* strcmp compares as unsigned char: UTF-8 byte order, which for
	 * the ASCII keys the schema allows equals JCS's UTF-16 order. */
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
canon_object(struct buf *out, const json_t *obj, const char *skip_key)
{
	const char **keys, *k;
	size_t n = 0, i;
	json_t *v;
	int rc = 0;

	if ((keys = calloc(json_object_size(obj) + 1, sizeof(*keys))) == NULL)
		return -1;
	json_object_foreach((json_t *)obj, k, v) {
		if (skip_key == NULL || strcmp(k, skip_key) != 0)
			keys[n++] = k;
	}
	qsort(keys, n, sizeof(*keys), canon_keycmp);
	buf_addc(out, '{');
	for (i = 0; i < n && rc == 0; i++) {
		if (i > 0)
			buf_addc(out, ',');
		canon_string(out, keys[i], strlen(keys[i]));
		buf_addc(out, ':');
		rc = canon_value(out, json_object_get(obj, keys[i]), NULL);
	}
	buf_addc(out, '}');
	free(keys);
	return rc;
}

static int
canon_array(struct buf *out, const json_t *arr)
{
	size_t i;

	buf_addc(out, '[');
	for (i = 0; i < json_array_size(arr); i++) {
		if (i > 0)
			buf_addc(out, ',');
		if (canon_value(out, json_array_get(arr, i), NULL) == -1)
			return -1;
	}
	buf_addc(out, ']');
	return 0;
}

static int
canon_value(struct buf *out, const json_t *v, const char *skip_key)
{
	char num[32];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return canon_object(out, v, skip_key);
	case JSON_ARRAY:
		return canon_array(out, v);
	case JSON_STRING:
		canon_string(out, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		buf_adds(out, num);
		return 0;
	case JSON_TRUE:
		buf_adds(out, "true");
		return 0;
	case JSON_FALSE:
		buf_adds(out, "false");
		return 0;
	case JSON_NULL:
		buf_adds(out, "null");
		return 0;
	default:
		return -1;	/* reals: outside the envelope subset */
	}
}

int
canon_write(struct buf *out, const json_t *v, const char *skip_key)
{
	if (canon_value(out, v, skip_key) == -1)
		return -1;
	return out->err ? -1 : 0;
}
