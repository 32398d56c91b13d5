/*
 * audit_line.c - the writer's side of audit_line_ok(): JSON strings in
 * printable ASCII, for the router's audit lines.
 *
 * The router wrote each line with jansson (json_pack, then json_dumps
 * with JSON_SORT_KEYS | JSON_ENSURE_ASCII): a dozen allocations, a
 * hash table and a sort for every message it accepted, on the thread
 * that a flood keeps busy.  The line is a handful of short strings in
 * a fixed order, so it is written here directly instead.  Two cases
 * where jansson's output was not what the monitor takes are handled
 * too: DEL (0x7f), which JSON_ENSURE_ASCII leaves raw and
 * audit_line_ok() refuses (a protocol violation that ends the link),
 * and invalid UTF-8 (a detail cut inside a sequence, as a refusal's
 * topic can be), for which json_stringn() gave NULL and the line went
 * without its detail.
 */
#include <stdint.h>
#include <stdio.h>

#include "audit.h"
#include "util.h"

static void
audit_put_escape(struct buf *b, uint32_t cp)
{
	char e[16];

	switch (cp) {
	case '"':	buf_adds(b, "\\\""); return;
	case '\\':	buf_adds(b, "\\\\"); return;
	case '\b':	buf_adds(b, "\\b"); return;
	case '\f':	buf_adds(b, "\\f"); return;
	case '\n':	buf_adds(b, "\\n"); return;
	case '\r':	buf_adds(b, "\\r"); return;
	case '\t':	buf_adds(b, "\\t"); return;
	}
	if (cp < 0x10000)
		snprintf(e, sizeof(e), "\\u%04X", (unsigned)cp);
	else {
		cp -= 0x10000;
		snprintf(e, sizeof(e), "\\u%04X\\u%04X",
		    (unsigned)(0xd800 | cp >> 10), (unsigned)(0xdc00 | (cp & 0x3ff)));
	}
	buf_adds(b, e);
}

void
audit_put_str(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *q;
	size_t len;
	int32_t cp;

	buf_addc(b, '"');
	while (p < end) {
		for (q = p; q < end && *q >= 0x20 && *q < 0x7f && *q != '"' &&
		    *q != '\\'; q++)
			;
		buf_add(b, p, (size_t)(q - p));
		if ((p = q) == end)
			break;
		if ((cp = hive_utf8(p, (size_t)(end - p), &len)) == -1) {
			cp = 0xfffd;
			len = 1;
		}
		audit_put_escape(b, (uint32_t)cp);
		p += len;
	}
	buf_addc(b, '"');
}
