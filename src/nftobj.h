/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nft text as objects: a ruleset, as jailfw renders it or as `nft list`
 * prints it, cut into its chains, sets and maps (one block each, with
 * its lines) and the table's own lines (the block "table").  An element
 * list becomes one line per element ("\t\t\tELEMENT"), sorted, between
 * "\t\telements = {" and "\t\t}": a hash set lists its elements in an
 * order of its own.  diff compares two listings block by block; the delta
 * apply (delta.h) compares two renderings.
 */
#ifndef JAILFW_NFTOBJ_H
#define JAILFW_NFTOBJ_H

#include <stddef.h>

/* One chain, set or map of a listing ("table": the table's own lines). */
struct nftobj_block {
	char *key; /* "chain uid_web", "map uid_ports", "table" */
	char **lines;
	char **keys; /* the lines without their comments, once compared */
	size_t nlines;
};

struct nftobj_listing {
	struct nftobj_block *blocks;
	size_t nblocks;
};

void nftobj_parse(const char *text, struct nftobj_listing *l);
void nftobj_listing_free(struct nftobj_listing *l);

/* Blocks by key, for lookups in a listing of thousands of chains. */
struct nftobj_index {
	const struct nftobj_block **v;
	size_t n;
};

void nftobj_index_build(const struct nftobj_listing *l, struct nftobj_index *x);
/* NULL when there is no such block. */
struct nftobj_block *nftobj_find(const struct nftobj_index *x, const char *key);

#endif
