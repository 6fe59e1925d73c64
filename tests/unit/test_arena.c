// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"
#include "model.h"
#include "t.h"

static void test_alloc(void)
{
	struct arena a = {0};
	char *s = arena_strndup(&a, "web-server", 3);
	void *big, *heap = malloc(16);
	size_t i;
	bool aligned = true, owned = true;

	T_STREQ(s, "web", "strndup copies n bytes and terminates");
	T_CHECK(arena_owns(&a, s), "a piece is the arena's");
	T_CHECK(!arena_owns(&a, heap), "a malloc'd pointer is not");
	T_CHECK(!arena_owns(&a, NULL) && !arena_owns(NULL, s), "NULL owns and is owned by nothing");
	T_CHECK(arena_memdup(&a, s, 0) == NULL, "memdup of nothing is NULL");
	for (i = 0; i < 20000; i++) {
		char *p = arena_alloc(&a, i % 37 + 1);

		p[i % 37] = 'x';
		aligned = aligned && (uintptr_t)p % alignof(max_align_t) == 0;
		owned = owned && arena_owns(&a, p);
	}
	T_CHECK(aligned, "every piece is aligned for any object");
	T_CHECK(owned, "pieces from every block are the arena's");
	big = arena_alloc(&a, 10 << 20);
	((char *)big)[(10 << 20) - 1] = 1;
	T_CHECK(arena_owns(&a, (char *)big + (10 << 20) - 1), "a piece larger than a block");
	arena_free(&a);
	T_CHECK(a.head == NULL, "free empties the arena");
	T_CHECK(!arena_owns(&a, s), "nothing is owned after free");
	free(heap);
}

/* policy_free() frees what is malloc'd and leaves the arena's pieces to it. */
static void test_policy_mixed(void)
{
	struct policy p;
	struct jail *j;

	policy_init(&p);
	p.jails = calloc(2, sizeof(*p.jails));
	p.njails = 2;
	j = &p.jails[0];
	j->name = arena_strndup(&p.arena, "a", 1);
	j->user = strdup("1000");
	j->rules = calloc(1, sizeof(*j->rules));
	j->nrules = 1;
	j->rules[0].ports = arena_alloc(&p.arena, sizeof(*j->rules[0].ports));
	j->rules[0].dests = calloc(1, sizeof(*j->rules[0].dests));
	p.jails[1].name = strdup("b");
	policy_free(&p);
	T_CHECK(p.jails == NULL && p.arena.head == NULL, "a policy of both kinds is freed");
}

int main(void)
{
	test_alloc();
	test_policy_mixed();
	return t_done();
}
