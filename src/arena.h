/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bump allocator for what lives exactly as long as a policy: names,
 * port lists, destination lists.  Thousands of jails make tens of
 * thousands of such small pieces; from malloc each carries a header and
 * the room a growing vector left, and every fresh page of them costs a
 * fault (docs/ruleset.md, "Delta apply").  Here they sit end to end in a
 * few blocks, freed at once.
 *
 * Nothing is freed or grown one by one: arena_owns() tells the owner's
 * free function which pointers to leave alone, so a model mixes both
 * kinds (a template's rules copied by check.c are malloc'd).
 */
#ifndef JAILFW_ARENA_H
#define JAILFW_ARENA_H

#include <stdbool.h>
#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head; /* the block being filled; older ones follow */
	size_t next_size;	  /* of the next block, doubled each time */
};

/* n bytes aligned for any object; never NULL (aborts like xmalloc). */
void *arena_alloc(struct arena *a, size_t n);
/* A copy of n bytes of s, NUL-terminated. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* A copy of n bytes (NULL for n == 0). */
void *arena_memdup(struct arena *a, const void *s, size_t n);
/* True if p points into one of a's blocks (a may be NULL). */
bool arena_owns(const struct arena *a, const void *p);
/* Every block; a is empty again. */
void arena_free(struct arena *a);

#endif
