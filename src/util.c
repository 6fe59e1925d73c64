// SPDX-License-Identifier: GPL-2.0-or-later
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
	fputs("jailfw: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	struct strbuf sb;

	sb_init(&sb);
	sb_vprintf(&sb, fmt, ap);
	return sb_steal(&sb);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* The room of an array grown by VEC_PUSH alone to n elements. */
static size_t vec_implicit_cap(size_t n)
{
	size_t cap = 1;

	if (!n)
		return 0;
	while (cap < n)
		cap *= 2;
	return cap;
}

static void *vec_realloc(void *arr, size_t cap, size_t elem)
{
	if (cap > SIZE_MAX / elem)
		oom();
	return xrealloc(arr, cap * elem);
}

void *vec_reserve(void *arr, size_t n, size_t *cap, size_t want, size_t elem)
{
	size_t room = *cap ? *cap : vec_implicit_cap(n);

	if (want <= room)
		return arr;
	*cap = want;
	return vec_realloc(arr, want, elem);
}

void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void *vec_grow(void *arr, size_t n, size_t elem)
{
	/* Full exactly when n is 0 or a power of two (util.h). */
	if (!(n & (n - 1)))
		arr = vec_realloc(arr, n ? n * 2 : 1, elem);
	memset((char *)arr + n * elem, 0, elem);
	return arr;
}

void *vec_grow_cap(void *arr, size_t n, size_t *cap, size_t elem)
{
	size_t room = *cap ? *cap : vec_implicit_cap(n);

	if (n >= room) {
		*cap = room ? room * 2 : 1;
		arr = vec_realloc(arr, *cap, elem);
	}
	memset((char *)arr + n * elem, 0, elem);
	return arr;
}

void sb_init(struct strbuf *sb)
{
	sb->cap = 64;
	sb->len = 0;
	sb->s = xmalloc(sb->cap);
	sb->s[0] = '\0';
}

void sb_free(struct strbuf *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = sb->cap = 0;
}

static void sb_reserve(struct strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	while (sb->len + extra + 1 > sb->cap)
		sb->cap *= 2;
	sb->s = xrealloc(sb->s, sb->cap);
}

void sb_putc(struct strbuf *sb, char c)
{
	sb_reserve(sb, 1);
	sb->s[sb->len++] = c;
	sb->s[sb->len] = '\0';
}

void sb_putn(struct strbuf *sb, const char *s, size_t n)
{
	sb_reserve(sb, n);
	memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s)
{
	size_t n = strlen(s);

	sb_reserve(sb, n);
	memcpy(sb->s + sb->len, s, n + 1);
	sb->len += n;
}

void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	sb_reserve(sb, (size_t)n);
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

char *sb_steal(struct strbuf *sb)
{
	char *s = sb->s;

	sb->s = NULL;
	sb->len = sb->cap = 0;
	return s;
}

unsigned int edit_distance(const char *a, const char *b, unsigned int limit)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned int *row, best, res;

	if ((la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	row = xmalloc((lb + 1) * sizeof(*row));
	for (j = 0; j <= lb; j++)
		row[j] = (unsigned int)j;
	for (i = 1; i <= la; i++) {
		unsigned int diag = row[0];

		row[0] = (unsigned int)i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			unsigned int up = row[j];
			unsigned int v = diag + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < v)
				v = row[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
			if (v < best)
				best = v;
		}
		if (best > limit) {
			free(row);
			return limit + 1;
		}
	}
	res = row[lb];
	free(row);
	return res > limit ? limit + 1 : res;
}

uint64_t hash64_add(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t hash64_str(uint64_t h, const char *s)
{
	return hash64_add(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

uint64_t hash64(const void *data, size_t len)
{
	return hash64_add(HASH64_INIT, data, len);
}
