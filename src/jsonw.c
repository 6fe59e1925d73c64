// SPDX-License-Identifier: GPL-2.0-or-later
/* The one JSON writer, on jansson: see jsonw.h. */
#include "jsonw.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

static void jsonw_fail(const char *what)
{
	fprintf(stderr, "jailfw: cannot build JSON: %s\n", what);
	abort();
}

static json_t *jsonw_check(json_t *v)
{
	if (!v)
		jsonw_fail("out of memory");
	return v;
}

/*
 * The well-formed UTF-8 sequence at s: its length (1 to 4); else minus
 * the length of its maximal ill-formed subpart, which one U+FFFD replaces
 * (Unicode 15, section 3.9; bytes by table 3-7: no overlong forms, no
 * surrogates, nothing above U+10FFFF).  The NUL at the end is never a
 * continuation byte, so no read goes past it.
 */
static int jsonw_utf8_seq(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80;
		hi = s[0] == 0xed ? 0x9f : 0xbf;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		lo = s[0] == 0xf0 ? 0x90 : 0x80;
		hi = s[0] == 0xf4 ? 0x8f : 0xbf;
	} else {
		return -1;
	}
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (s[i] < lo || s[i] > hi)
			return -i;
	return n;
}

json_t *jsonw_str(const char *s)
{
	const unsigned char *p;
	struct strbuf sb;
	json_t *v;
	int n;

	if (!s)
		return jsonw_check(json_null());
	v = json_string(s); /* NULL: not UTF-8 (or no memory) */
	if (v)
		return v;
	sb_init(&sb);
	for (p = (const unsigned char *)s; *p; p += n < 0 ? -n : n) {
		n = jsonw_utf8_seq(p);
		if (n > 0)
			sb_printf(&sb, "%.*s", n, (const char *)p);
		else
			sb_puts(&sb, "\xef\xbf\xbd");
	}
	v = jsonw_check(json_string(sb.s));
	sb_free(&sb);
	return v;
}

json_t *jsonw_u64(uint64_t v)
{
	return jsonw_check(json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v));
}

json_t *jsonw_pack(const char *fmt, ...)
{
	json_error_t err;
	json_t *v;
	va_list ap;

	va_start(ap, fmt);
	v = json_vpack_ex(&err, 0, fmt, ap);
	va_end(ap);
	if (!v)
		jsonw_fail(err.text);
	return v;
}

void jsonw_append(json_t *array, json_t *v)
{
	if (json_array_append_new(array, v))
		jsonw_fail("out of memory");
}

void jsonw_merge(json_t *obj, json_t *more)
{
	if (json_object_update_new(obj, more))
		jsonw_fail("out of memory");
}

int jsonw_print(FILE *f, const json_t *doc)
{
	errno = 0;
	if (json_dumpf(doc, f, JSON_INDENT(2)) || fputc('\n', f) == EOF || fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}

void jsonw_line(struct strbuf *sb, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	if (!s)
		jsonw_fail("out of memory");
	sb_puts(sb, s);
	sb_putc(sb, '\n');
	free(s);
}
