// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The growable arrays of util.h: VEC_PUSH's implicit room, and an array
 * with its room kept next to it (vec_reserve, VEC_PUSH_CAP).  Under ASan
 * (make check-asan) a write past what was allocated fails the test too:
 * vec_grow no longer asks the allocator what room there is, so these
 * arrays must be exactly as large as the rules in util.h say.
 */
#include <stdint.h>
#include <stdlib.h>

#include "t.h"
#include "util.h"

struct item {
	uint32_t a, b;
	char pad[20];
};

/* Every element i holds (i, ~i) and pad is zero: nothing lost or overlaid. */
static bool intact(const struct item *v, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (v[i].a != i || v[i].b != ~(uint32_t)i)
			return false;
		for (k = 0; k < sizeof(v[i].pad); k++)
			if (v[i].pad[k])
				return false;
	}
	return true;
}

static void fill(struct item *e, size_t i)
{
	e->a = (uint32_t)i;
	e->b = ~(uint32_t)i;
}

int main(void)
{
	struct item *v = NULL, *before, *e;
	size_t n = 0, cap = 0, i, moves = 0;
	bool zeroed = true;

	/* VEC_PUSH alone: 1, 2, 4, 8... and each new element zeroed. */
	for (i = 0; i < 1000; i++) {
		before = v;
		e = VEC_PUSH(v, n);
		zeroed = zeroed && e->a == 0 && e->b == 0 && e == &v[i];
		fill(e, i);
		moves += before != v;
	}
	T_CHECK(n == 1000 && intact(v, n), "VEC_PUSH: 1000 elements, in order, intact");
	T_CHECK(zeroed, "VEC_PUSH: each new element starts zeroed");
	T_CHECK(moves <= 11, "VEC_PUSH: reallocated at most at 0 and each power of two");
	free(v);

	/* Reserved: no move until the reserved room is full, then doubled. */
	v = NULL;
	n = 0;
	v = vec_reserve(v, n, &cap, 5000, sizeof(*v));
	T_CHECK(cap == 5000, "vec_reserve: the room is kept next to the array");
	before = v;
	for (i = 0; i < 5000; i++)
		fill(VEC_PUSH_CAP(v, n, cap), i);
	T_CHECK(v == before, "VEC_PUSH_CAP: 5000 elements into room for 5000 without a move");
	fill(VEC_PUSH_CAP(v, n, cap), 5000);
	T_CHECK(cap == 10000 && n == 5001 && intact(v, n), "VEC_PUSH_CAP: full, then doubled");
	v = vec_reserve(v, n, &cap, 6000, sizeof(*v));
	T_CHECK(cap == 10000, "vec_reserve: less than the room changes nothing");
	free(v);

	/* An array grown by VEC_PUSH, then reserved: room from its size. */
	v = NULL;
	n = cap = 0;
	for (i = 0; i < 3; i++)
		fill(VEC_PUSH(v, n), i);
	v = vec_reserve(v, n, &cap, 4, sizeof(*v));
	T_CHECK(cap == 0, "vec_reserve: 4 fits the room of 3 pushed elements (4)");
	fill(VEC_PUSH_CAP(v, n, cap), 3);
	fill(VEC_PUSH_CAP(v, n, cap), 4);
	T_CHECK(cap == 8 && n == 5 && intact(v, n),
		"VEC_PUSH_CAP: an unreserved array grows as VEC_PUSH's");
	v = vec_reserve(v, n, &cap, 100, sizeof(*v));
	for (i = n; i < 100; i++)
		fill(VEC_PUSH_CAP(v, n, cap), i);
	T_CHECK(cap == 100 && intact(v, n), "vec_reserve: then 100, filled");
	free(v);

	/* Allocated to exactly a power of two, then pushed onto (util.h). */
	v = xcalloc(2, sizeof(*v));
	n = 0;
	fill(&v[n++], 0);
	fill(&v[n++], 1);
	fill(VEC_PUSH(v, n), 2);
	T_CHECK(n == 3 && intact(v, n), "VEC_PUSH: onto an array of exactly 2");
	free(v);
	return t_done();
}
