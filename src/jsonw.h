/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one JSON writer.  Every --json output jailfw writes itself (status,
 * verify, compare, monitor) is built as a jansson json_t and printed here;
 * render --json is libnftables' own JSON, from the same library.
 *
 * Strings: JSON text is UTF-8 (RFC 8259), and jansson refuses a string
 * that is not.  Text jailfw did not write itself can hold any byte: file
 * paths, names read from the kernel (interfaces, chains, sets), values
 * read from files, a description cut at the end of its buffer in the
 * middle of a character.  jsonw_str() keeps well-formed UTF-8 as it is and
 * replaces each maximal ill-formed subsequence with U+FFFD (the Unicode
 * standard's practice, as Python's decode("utf-8", "replace") does).
 * Quotes, backslashes and control characters are escaped by jansson.
 *
 * So json_pack()'s "s" is for jailfw's own words only ("netns", a key);
 * any other text goes in as "o" with jsonw_str().
 *
 * Integers: jansson's are signed 64-bit; jsonw_u64() prints a value above
 * INT64_MAX as INT64_MAX (only a counter set so by hand gets there).
 *
 * Allocation failure (and a json_pack format jansson rejects, a bug)
 * aborts with a message, like the x-allocators of util.h.
 */
#ifndef JAILFW_JSONW_H
#define JAILFW_JSONW_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

/* A JSON string of s (U+FFFD for ill-formed UTF-8); NULL: null. */
json_t *jsonw_str(const char *s);

/* A JSON integer, at most INT64_MAX. */
json_t *jsonw_u64(uint64_t v);

/* json_pack() that never returns NULL. */
json_t *jsonw_pack(const char *fmt, ...);

/* Append v to the array, taking the reference. */
void jsonw_append(json_t *array, json_t *v);

/* Add more's members to obj, after obj's own, taking the reference. */
void jsonw_merge(json_t *obj, json_t *more);

/*
 * A document: indented by two spaces, a newline at the end, flushed.
 * Returns 0, or -errno when it could not be written.
 */
int jsonw_print(FILE *f, const json_t *doc);

/* One compact line with its newline appended to sb (a stream of objects). */
void jsonw_line(struct strbuf *sb, const json_t *v);

#endif
