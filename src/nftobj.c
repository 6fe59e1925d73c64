// SPDX-License-Identifier: GPL-2.0-or-later
#include "nftobj.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void nftobj_put_line(struct nftobj_block *b, const char *s, size_t n)
{
	*VEC_PUSH(b->lines, b->nlines) = xstrndup(s, n);
}

void nftobj_listing_free(struct nftobj_listing *l)
{
	size_t i, k;

	for (i = 0; i < l->nblocks; i++) {
		for (k = 0; k < l->blocks[i].nlines; k++) {
			free(l->blocks[i].lines[k]);
			if (l->blocks[i].keys)
				free(l->blocks[i].keys[k]);
		}
		free(l->blocks[i].lines);
		free(l->blocks[i].keys);
		free(l->blocks[i].key);
	}
	free(l->blocks);
}

static struct nftobj_block *new_block(struct nftobj_listing *l, const char *key, size_t n)
{
	struct nftobj_block *b = VEC_PUSH(l->blocks, l->nblocks);

	b->key = xstrndup(key, n);
	return b;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * "elements = { a, b,\n c }" one element per line: a change of one
 * element is then one line of the diff, whatever nft's line filling did.
 * Commas inside quoted strings (comments) do not split.
 */
static void put_elements(struct nftobj_block *b, const char *s)
{
	const char *start = s, *p;
	bool quoted = false;
	size_t first;
	char *line;

	nftobj_put_line(b, "\t\telements = {", 14);
	first = b->nlines;
	for (p = s;; p++) {
		if (*p == '"')
			quoted = !quoted;
		if (*p && (quoted || *p != ','))
			continue;
		while (start < p && (*start == ' ' || *start == '\t' || *start == '\n'))
			start++;
		line = xasprintf("\t\t\t%.*s", (int)(p - start), start);
		while (strlen(line) > 3 && strchr(" \t\n", line[strlen(line) - 1]))
			line[strlen(line) - 1] = '\0';
		if (strlen(line) > 3)
			*VEC_PUSH(b->lines, b->nlines) = line;
		else
			free(line);
		if (!*p)
			break;
		start = p + 1;
	}
	/*
	 * A hash set lists its elements in the order of a per-set random
	 * seed: two loads of the same elements list them differently.
	 */
	qsort(b->lines + first, b->nlines - first, sizeof(*b->lines), line_cmp);
	nftobj_put_line(b, "\t\t}", 3);
}

/*
 * The index just past the closing '}' of an element list in s, or 0.
 * Scanning resumes at *pos with the quoting state *quoted: a map of
 * thousands of elements arrives line by line.
 */
static size_t elements_end(const char *s, size_t *pos, bool *quoted)
{
	size_t i;

	for (i = *pos; s[i]; i++) {
		if (s[i] == '"')
			*quoted = !*quoted;
		else if (s[i] == '}' && !*quoted)
			return i + 1;
	}
	*pos = i;
	return 0;
}

void nftobj_parse(const char *text, struct nftobj_listing *l)
{
	struct nftobj_block *cur = NULL;
	struct strbuf elems;
	const char *line, *next;
	bool in_elems = false, quoted = false;
	size_t len, end, pos = 0, table = SIZE_MAX;

	memset(l, 0, sizeof(*l));
	sb_init(&elems);
	for (line = text; *line; line = next) {
		next = strchr(line, '\n');
		len = next ? (size_t)(next - line) : strlen(line);
		next = next ? next + 1 : line + len;
		if (in_elems) {
			sb_printf(&elems, " %.*s", (int)len, line);
			end = elements_end(elems.s, &pos, &quoted);
			if (end) {
				elems.s[end - 1] = '\0';
				put_elements(cur, elems.s);
				in_elems = false;
			}
			continue;
		}
		if (!len || strspn(line, " \t") == len)
			continue;
		if (cur) {
			if (len == 2 && !strncmp(line, "\t}", 2)) {
				nftobj_put_line(cur, line, len);
				cur = NULL;
			} else if (len > 15 && !strncmp(line, "\t\telements = { ", 15)) {
				elems.len = 0;
				pos = 0;
				quoted = false;
				sb_printf(&elems, "%.*s", (int)(len - 15), line + 15);
				end = elements_end(elems.s, &pos, &quoted);
				if (end) {
					elems.s[end - 1] = '\0';
					put_elements(cur, elems.s);
				} else {
					in_elems = true;
				}
			} else {
				nftobj_put_line(cur, line, len);
			}
			continue;
		}
		if (line[0] == '\t' && line[1] != '\t' && len > 3 &&
		    !strncmp(line + len - 2, " {", 2)) {
			cur = new_block(l, line + 1, len - 3);
			nftobj_put_line(cur, line, len);
			continue;
		}
		/* The table's header, its own attributes, and its closing brace. */
		if (table == SIZE_MAX) {
			new_block(l, "table", 5);
			table = l->nblocks - 1;
		}
		nftobj_put_line(&l->blocks[table], line, len);
	}
	sb_free(&elems);
}

static int block_ptr_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct nftobj_block *const *)a)->key,
		      (*(const struct nftobj_block *const *)b)->key);
}

void nftobj_index_build(const struct nftobj_listing *l, struct nftobj_index *x)
{
	size_t i;

	x->n = l->nblocks;
	x->v = xcalloc(x->n, sizeof(*x->v));
	for (i = 0; i < x->n; i++)
		x->v[i] = &l->blocks[i];
	qsort(x->v, x->n, sizeof(*x->v), block_ptr_cmp);
}

struct nftobj_block *nftobj_find(const struct nftobj_index *x, const char *key)
{
	struct nftobj_block kb = {.key = (char *)key};
	const struct nftobj_block *k = &kb, *const * hit;

	hit = x->n ? bsearch(&k, x->v, x->n, sizeof(*x->v), block_ptr_cmp) : NULL;
	return hit ? (struct nftobj_block *)*hit : NULL;
}
