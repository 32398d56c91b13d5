/*
 * frame.h - text from a peer as the agent reads it (docs/protocol.md,
 * section 15): control and invisible format characters written as
 * visible escapes, every later line of the text marked as the peer's,
 * so that only hive's own header can begin a line with "Hive ".
 * Pure functions; no I/O.
 */
#ifndef HIVE_FRAME_H
#define HIVE_FRAME_H

#include <stddef.h>

#define FRAME_MARK	"> "		/* begins each later line of peer text */
#define FRAME_CUT	"\\[cut]"	/* ends a framed text that did not fit */
#define FRAME_GROWTH	6		/* framed bytes per input byte, at most */
/* a buffer that holds the framed form of n bytes whole */
#define FRAME_SIZE(n)	((n) * FRAME_GROWTH + sizeof(FRAME_CUT))

enum frame_form {
	FRAME_BLOCK,	/* after hive's header: newlines kept, lines marked */
	FRAME_QUOTED	/* inside "..." in hive's header: one line, '"' escaped */
};

/*
 * The framed form of text (len bytes, any bytes) into out, at most
 * size - 1 bytes and a NUL; if it does not fit, the whole characters
 * that fit with FRAME_CUT after them.  Returns the length written.
 */
size_t frame_text(char *out, size_t size, const char *text, size_t len,
    enum frame_form);
/* The same into a new buffer of size bytes; fatal if out of memory. */
char *frame_new(const char *text, size_t len, enum frame_form, size_t size);

#endif
