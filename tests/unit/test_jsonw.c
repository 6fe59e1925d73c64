// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The JSON writer (src/jsonw.h):
 *   - strings: UTF-8 kept, each maximal ill-formed subsequence one U+FFFD
 *     (the cases and their answers are Python's decode("utf-8",
 *     "replace")), every one- and two-byte string and every three-byte
 *     one from a lead byte checked against jansson's own validator;
 *     quotes, backslashes and control characters escaped;
 *   - integers saturate at INT64_MAX;
 *   - documents: indented, a newline at the end, write errors returned;
 *     lines: compact, one per value.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "t.h"
#include "util.h"

/* The string jsonw_str makes of s, as its UTF-8 bytes (malloc'd). */
static char *utf8_of(const char *s)
{
	json_t *v = jsonw_str(s);
	char *r = xstrdup(json_string_value(v));

	json_decref(v);
	return r;
}

#define R "\xef\xbf\xbd" /* U+FFFD */

static void test_replacement(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "plain"},
	    {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
	    {"\xff", R},
	    {"a\xc3", "a" R},		   /* cut after the lead byte */
	    {"\xe2\x82", R},		   /* one U+FFFD for the maximal subpart */
	    {"\xf0\x9f\x98", R},	   /* ... of four */
	    {"\xc0\xaf", R R},		   /* overlong '/' */
	    {"\xe0\x80\x80", R R R},	   /* overlong NUL */
	    {"\xed\xa0\x80", R R R},	   /* a surrogate */
	    {"\xf4\x90\x80\x80", R R R R}, /* above U+10FFFF */
	    {"\xf8\x88\x80\x80\x80", R R R R R},
	    {"\x80\x80", R R}, /* continuation bytes alone */
	    {"\xf1\x80x", R "x"},
	    {"\xe1\x80\xc0", R R},
	};
	size_t i;
	char *got;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char what[80];

		snprintf(what, sizeof(what), "jsonw_str: case %zu as Python's decode(replace)", i);
		got = utf8_of(cases[i].in);
		T_STREQ(got, cases[i].out, what);
		free(got);
	}
}

/* Valid for jansson: kept byte for byte; else changed, and valid now. */
static bool agrees(const char *s)
{
	json_t *ref = json_string(s), *v = jsonw_str(s);
	bool ok = v && json_is_string(v) &&
		  (ref ? !strcmp(json_string_value(v), s) : !!strcmp(json_string_value(v), s));

	json_decref(ref);
	json_decref(v);
	return ok;
}

static void test_exhaustive(void)
{
	unsigned int a, b, c, bad = 0;
	char s[4];

	for (a = 1; a < 256; a++) {
		s[0] = (char)a;
		s[1] = '\0';
		bad += !agrees(s);
		for (b = 1; b < 256; b++) {
			s[1] = (char)b;
			s[2] = '\0';
			bad += !agrees(s);
			if (a < 0xe0 || a > 0xf4)
				continue;
			for (c = 1; c < 256; c++) {
				s[2] = (char)c;
				s[3] = '\0';
				bad += !agrees(s);
			}
		}
	}
	T_CHECK(bad == 0, "jsonw_str: every short byte string is kept exactly when it is UTF-8");
}

static char *line_of(json_t *v)
{
	struct strbuf sb;

	sb_init(&sb);
	jsonw_line(&sb, v);
	json_decref(v);
	return sb_steal(&sb);
}

static void test_escapes(void)
{
	char *s;

	s = line_of(jsonw_pack("{s:o, s:o}", "k", jsonw_str("q\"b\\c\x01\n\t\x1f\x7f/"), "n",
			       jsonw_str(NULL)));
	T_STREQ(s, "{\"k\":\"q\\\"b\\\\c\\u0001\\n\\t\\u001F\x7f/\",\"n\":null}\n",
		"jsonw_line: quotes, backslashes, control characters escaped; NULL is null");
	free(s);
	s = line_of(jsonw_pack("[o, o, o, o]", jsonw_u64(0), jsonw_u64(INT64_MAX),
			       jsonw_u64((uint64_t)INT64_MAX + 1), jsonw_u64(UINT64_MAX)));
	T_STREQ(s, "[0,9223372036854775807,9223372036854775807,9223372036854775807]\n",
		"jsonw_u64: saturates at INT64_MAX");
	free(s);
}

static void test_print(void)
{
	json_t *doc = jsonw_pack("{s:s, s:[i, i], s:{}}", "a", "b", "c", 1, 2, "d");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	T_CHECK(jsonw_print(f, doc) == 0, "jsonw_print: 0 when written");
	fclose(f);
	T_STREQ(buf, "{\n  \"a\": \"b\",\n  \"c\": [\n    1,\n    2\n  ],\n  \"d\": {}\n}\n",
		"jsonw_print: keys in order, indented by two, a newline at the end");
	free(buf);

	f = fopen("/dev/full", "w");
	if (f) {
		T_CHECK(jsonw_print(f, doc) == -ENOSPC, "jsonw_print: a write error is returned");
		fclose(f);
	}
	json_decref(doc);
}

int main(void)
{
	test_replacement();
	test_exhaustive();
	test_escapes();
	test_print();
	return t_done();
}
