/*
 * frame.c - text from a peer as the agent reads it (see frame.h and
 * docs/protocol.md, section 15).
 *
 * The agent reads an injected text as lines of characters.  A peer's
 * text is signed but otherwise anything, so it could hold a newline
 * followed by what reads as hive's own header ("Hive command ... from
 * root-operator (signed, ...)"), a carriage return or a terminal
 * escape that does the same on a screen, or bidi and zero-width
 * characters that show a reader other text than the agent gets.
 * Each of those is written here as an escape a reader can see, and
 * each newline the text keeps is followed by FRAME_MARK: no line but
 * hive's first one can begin with "Hive ".  The mapping is one to one
 * (a backslash is doubled, so "\u{1B}" typed by a peer stays
 * distinguishable from an escaped ESC).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "log.h"
#include "util.h"

#define FRAME_UNIT_MAX	16

/* C0 (newline included: the caller keeps it where it may), DEL, C1,
 * and the bidi, zero-width, line-breaking and tag characters. */
static int
frame_escaped(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff ||
	    (cp >= 0xe0000 && cp <= 0xe007f);
}

/* The framed form of the character at p (n > 0 bytes left) into unit;
 * its length.  *k: the input bytes it stands for. */
static size_t
frame_unit(const unsigned char *p, size_t n, enum frame_form form,
    char unit[FRAME_UNIT_MAX], size_t *k)
{
	int32_t cp;

	if ((cp = hive_utf8(p, n, k)) == -1) {
		*k = 1;
		return (size_t)snprintf(unit, FRAME_UNIT_MAX, "\\x{%02X}",
		    p[0]);
	}
	if (cp == '\n' && form == FRAME_BLOCK)
		return (size_t)snprintf(unit, FRAME_UNIT_MAX, "\n%s",
		    FRAME_MARK);
	if (cp == '\\' || (cp == '"' && form == FRAME_QUOTED)) {
		unit[0] = '\\';
		unit[1] = (char)cp;
		return 2;
	}
	if (frame_escaped((uint32_t)cp))	/* U+ notation's digits */
		return (size_t)snprintf(unit, FRAME_UNIT_MAX, cp < 0x100 ?
		    "\\u{%02X}" : "\\u{%04X}", (unsigned)cp);
	memcpy(unit, p, *k);
	return *k;
}

/* The length of the whole framed form. */
static size_t
frame_length(const unsigned char *p, size_t len, enum frame_form form)
{
	char unit[FRAME_UNIT_MAX];
	size_t i, k, total = 0;

	for (i = 0; i < len; i += k)
		total += frame_unit(p + i, len - i, form, unit, &k);
	return total;
}

size_t
frame_text(char *out, size_t size, const char *text, size_t len,
    enum frame_form form)
{
	const unsigned char *p = (const unsigned char *)text;
	char unit[FRAME_UNIT_MAX];
	size_t i, k, u, n = 0, room;
	int cut;

	if (size < sizeof(FRAME_CUT))
		fatalx("frame_text: a buffer of %zu bytes", size);
	cut = frame_length(p, len, form) > size - 1;
	room = size - 1 - (cut ? sizeof(FRAME_CUT) - 1 : 0);
	for (i = 0; i < len; i += k) {
		u = frame_unit(p + i, len - i, form, unit, &k);
		if (u > room - n)
			break;
		memcpy(out + n, unit, u);
		n += u;
	}
	if (cut) {
		memcpy(out + n, FRAME_CUT, sizeof(FRAME_CUT) - 1);
		n += sizeof(FRAME_CUT) - 1;
	}
	out[n] = '\0';
	return n;
}

char *
frame_new(const char *text, size_t len, enum frame_form form, size_t size)
{
	char *out;

	if ((out = malloc(size)) == NULL)
		fatal("malloc");
	frame_text(out, size, text, len, form);
	return out;
}
