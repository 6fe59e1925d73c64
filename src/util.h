/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers shared by every module: allocators that abort on failure
 * (a one-shot CLI gains nothing from limping on without memory), a growable
 * array macro and a string buffer.
 */
#ifndef JAILFW_UTIL_H
#define JAILFW_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
char *xvasprintf(const char *fmt, va_list ap) PRINTF_LIKE(1, 0);

/*
 * Append one zeroed element to a dynamic array of structs and return a
 * pointer to it.  Pointers to earlier elements are invalidated, so model
 * code refers to siblings by index, never by pointer, until parsing ends.
 *
 * The room is implicit, kept nowhere: an array filled by VEC_PUSH alone
 * holds 1, 2, 4, 8... elements and grows when n is 0 or a power of two.
 * So an array allocated some other way may be appended to only while its
 * allocation is at least that (exactly n elements: n a power of two).
 */
#define VEC_PUSH(arr, n) ((arr) = vec_grow((arr), (n), sizeof(*(arr))), &(arr)[(n)++])
void *vec_grow(void *arr, size_t n, size_t elem);
/*
 * An array of thousands whose size is known ahead keeps its room in a
 * variable next to it (cap, 0 until it is first reserved): vec_reserve
 * makes room for want elements at once, VEC_PUSH_CAP fills it without
 * moving it and doubles it when full.  Once reserved, the array grows by
 * VEC_PUSH_CAP only.
 */
#define VEC_PUSH_CAP(arr, n, cap)                                                                  \
	((arr) = vec_grow_cap((arr), (n), &(cap), sizeof(*(arr))), &(arr)[(n)++])
void *vec_grow_cap(void *arr, size_t n, size_t *cap, size_t elem);
void *vec_reserve(void *arr, size_t n, size_t *cap, size_t want, size_t elem);
/* Free n malloc'd strings and the array that holds them. */
void strv_free(char **v, size_t n);

/* A growable NUL-terminated string. */
struct strbuf {
	char *s;
	size_t len, cap;
};
void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_putc(struct strbuf *sb, char c);
void sb_puts(struct strbuf *sb, const char *s);
/* n bytes of s (no NUL among them). */
void sb_putn(struct strbuf *sb, const char *s, size_t n);
void sb_printf(struct strbuf *sb, const char *fmt, ...) PRINTF_LIKE(2, 3);
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
/* Hand the buffer to the caller (never NULL) and reset sb. */
char *sb_steal(struct strbuf *sb);

/* Levenshtein distance, capped: returns limit + 1 when it exceeds limit. */
unsigned int edit_distance(const char *a, const char *b, unsigned int limit);

/*
 * FNV-1a, 64 bits: change detection, not security.  hash64_add continues
 * a hash from h (HASH64_INIT to start one); hash64_str adds s with its
 * NUL, so that "ab","c" and "a","bc" differ (NULL counts as "").
 */
#define HASH64_INIT 0xcbf29ce484222325ull
uint64_t hash64_add(uint64_t h, const void *data, size_t len);
uint64_t hash64_str(uint64_t h, const char *s);
uint64_t hash64(const void *data, size_t len);

#endif
