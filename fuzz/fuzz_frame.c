/*
 * fuzz_frame.c - the agent's text framing (frame_text) over any bytes,
 * in both forms and at any bound.  The first input byte chooses the
 * form and the bound; the rest is the peer's text.
 *
 * Properties checked beyond "no crash":
 *  - the output fits its bound, is NUL-terminated and valid UTF-8;
 *  - no control, bidi, invisible or tag character is left raw, and in
 *    the block form every line feed is followed by FRAME_MARK (in the
 *    quoted form there is none, nor a bare '"');
 *  - within FRAME_SIZE of the input nothing is cut, and a cut output
 *    is the uncut one's prefix followed by FRAME_CUT.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "util.h"

#include "fuzz.h"

static int
raw_forbidden(int32_t cp)
{
	return (cp < 0x20 && cp != '\n') || (cp >= 0x7f && cp <= 0x9f) ||
	    cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) ||
	    cp == 0xfeff || (cp >= 0xe0000 && cp <= 0xe007f);
}

static void
check_framed(const char *s, size_t n, enum frame_form form)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, k;
	int32_t cp;

	FUZZ_ASSERT(strlen(s) == n);
	for (i = 0; i < n; i += k) {
		cp = hive_utf8(p + i, n - i, &k);
		FUZZ_ASSERT(cp != -1);
		FUZZ_ASSERT(!raw_forbidden(cp));
		if (cp == '\n')
			FUZZ_ASSERT(form == FRAME_BLOCK && strncmp(s + i + 1,
			    FRAME_MARK, strlen(FRAME_MARK)) == 0);
		if (cp == '\\') {	/* an escape, a doubled one, the cut */
			FUZZ_ASSERT(s[i + 1] == '\\' || s[i + 1] == '"' ||
			    strncmp(s + i + 1, "u{", 2) == 0 ||
			    strncmp(s + i + 1, "x{", 2) == 0 ||
			    strcmp(s + i, FRAME_CUT) == 0);
			if (s[i + 1] == '\\' || s[i + 1] == '"')
				k = 2;
		} else if (cp == '"')
			FUZZ_ASSERT(form == FRAME_BLOCK);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum frame_form form;
	size_t len, full, bound, n;
	char *all, *cut;

	if (size < 1)
		return 0;
	form = data[0] & 1 ? FRAME_QUOTED : FRAME_BLOCK;
	len = size - 1;
	all = malloc(FRAME_SIZE(len));
	FUZZ_ASSERT(all != NULL);
	full = frame_text(all, FRAME_SIZE(len), (const char *)data + 1, len,
	    form);
	FUZZ_ASSERT(full <= FRAME_GROWTH * len);
	check_framed(all, full, form);
	/* a bound from sizeof(FRAME_CUT) up to a little past the whole */
	bound = sizeof(FRAME_CUT) + (data[0] >> 1) * (full + 2) / 127;
	cut = malloc(bound);
	FUZZ_ASSERT(cut != NULL);
	n = frame_text(cut, bound, (const char *)data + 1, len, form);
	FUZZ_ASSERT(n <= bound - 1);
	check_framed(cut, n, form);
	if (full <= bound - 1)
		FUZZ_ASSERT(n == full && strcmp(cut, all) == 0);
	else
		FUZZ_ASSERT(n >= strlen(FRAME_CUT) &&
		    strcmp(cut + n - strlen(FRAME_CUT), FRAME_CUT) == 0 &&
		    memcmp(cut, all, n - strlen(FRAME_CUT)) == 0);
	free(cut);
	free(all);
	return 0;
}
