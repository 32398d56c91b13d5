/*
 * canon.h - RFC 8785 (JCS) serialisation of the JSON subset that a
 * valid envelope can hold: objects with ASCII keys, arrays, strings,
 * integers, true, false, null.  Reals are refused (the envelope
 * schema forbids them), so the number rules of JCS reduce to plain
 * decimal integers.
 */
#ifndef HIVE_CANON_H
#define HIVE_CANON_H

#include <jansson.h>

#include "buf.h"

/*
 * Append the canonical form of v to out.  If skip_key is not NULL, a
 * member of that name in the top-level object is left out (this is
 * how "sig" is removed for signing).  Returns 0, or -1 for a value
 * outside the subset or a buffer error.
 */
int canon_write(struct buf *out, const json_t *v, const char *skip_key);

#endif
