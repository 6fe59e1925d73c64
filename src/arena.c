// SPDX-License-Identifier: GPL-2.0-or-later
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
/* Under ASan each piece keeps a poisoned gap after it: overruns still trap. */
#define ARENA_REDZONE 16
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ARENA_REDZONE 0
#endif

#define ARENA_ALIGN alignof(max_align_t)
#define ARENA_FIRST (64 * 1024)
#define ARENA_MAX (4 * 1024 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

static struct arena_block *arena_block_new(struct arena *a, size_t need)
{
	size_t size = a->next_size ? a->next_size : ARENA_FIRST;
	struct arena_block *b;

	/* Doubling keeps the blocks few, so arena_owns() stays a short walk. */
	a->next_size = size < ARENA_MAX ? size * 2 : size;
	if (size < need)
		size = need;
	b = xmalloc(sizeof(*b) + size);
	b->size = size;
	b->used = 0;
	b->next = a->head;
	a->head = b;
	ASAN_POISON_MEMORY_REGION(b->data, size);
	return b;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t need;
	void *p;

	/* xmalloc() of the impossible size says "out of memory" and exits. */
	if (__builtin_add_overflow(n, ARENA_REDZONE + ARENA_ALIGN - 1 + sizeof(struct arena_block),
				   &need))
		return xmalloc(SIZE_MAX);
	need = (n + ARENA_REDZONE + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (!b || b->size - b->used < need)
		b = arena_block_new(a, need);
	p = b->data + b->used;
	b->used += need;
	ASAN_UNPOISON_MEMORY_REGION(p, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void *arena_memdup(struct arena *a, const void *s, size_t n)
{
	void *p;

	if (!n)
		return NULL;
	p = arena_alloc(a, n);
	memcpy(p, s, n);
	return p;
}

bool arena_owns(const struct arena *a, const void *p)
{
	const struct arena_block *b;
	uintptr_t u = (uintptr_t)p;

	if (!a || !p)
		return false;
	for (b = a->head; b; b = b->next)
		if (u >= (uintptr_t)b->data && u < (uintptr_t)b->data + b->size)
			return true;
	return false;
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	for (; b; b = next) {
		next = b->next;
		ASAN_UNPOISON_MEMORY_REGION(b->data, b->size);
		free(b);
	}
	a->head = NULL;
	a->next_size = 0;
}
