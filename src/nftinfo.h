/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small, fast reads of nf_tables objects through libnftnl.
 *
 * libnftables answers "list table" by fetching the whole ruleset into its
 * cache: 0.4 s for a table of 5000 jails.  Deciding whether jailfw's table
 * exists and is jailfw's only needs the table object itself, which one
 * NFT_MSG_GETTABLE round trip returns.
 */
#ifndef JAILFW_NFTINFO_H
#define JAILFW_NFTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <libmnl/libmnl.h>
#include <stdint.h>

/*
 * Fetch table inet NAME.  Returns 0 and sets *comment (malloc'd, "" when
 * the table has none), -ENOENT when there is no such table, or -errno.
 */
int nftinfo_table_comment(const char *table, char **comment);

/*
 * Send one nf_tables request (a GET or a dump) and feed every reply to cb
 * until the ack.  Returns 0 or -errno (the kernel's).
 */
int nftinfo_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/*
 * The comment TLV (udata type number type) of an object's user data, as a
 * malloc'd string, or NULL; one not NUL-terminated within its attribute is
 * ignored rather than read past.
 */
char *nftinfo_udata_comment(const void *ud, uint32_t len, uint8_t type);

/*
 * The ruleset generation of this network namespace: the kernel bumps it
 * on every committed transaction, of any table.  Unchanged since jailfw's
 * last commit means nobody has touched any ruleset since.
 */
int nftinfo_genid(uint32_t *genid);

#endif

/*
 * ---- A whole table, read with libnftnl ----
 *
 * status, diff and apply's counter carry need every rule of jailfw's
 * table with its counter and comment, and every set and map with its
 * elements.  libnftables would list the whole ruleset for that; one
 * GETCHAIN, one GETRULE and one GETSET dump filtered to the table, plus a
 * GETSETELEM dump per set, cost a few milliseconds for thousands of jails.
 *
 * Each object also gets a digest of everything but its counter values
 * and kernel handles: two reads give the same digests exactly when the
 * objects are the same (a rule's comment included, so a hand edit shows).
 * Set elements are combined in any order: a hash set dumps its elements
 * in an order that depends on a per-set random seed.
 */
enum nftinfo_verdict {
	NFTINFO_V_NONE, /* no verdict: the rule falls through */
	NFTINFO_V_ACCEPT,
	NFTINFO_V_DROP,
	NFTINFO_V_JUMP,
	NFTINFO_V_GOTO,
	NFTINFO_V_RETURN,
	NFTINFO_V_OTHER, /* queue, continue, ... */
};

struct nftinfo_rule {
	char *comment; /* NULL when the rule has none */
	bool has_counter;
	uint64_t packets, bytes;      /* of its first counter */
	enum nftinfo_verdict verdict; /* of its last immediate verdict */
	char *target;		      /* jump and goto: the chain; else NULL */
	uint64_t digest;	      /* expressions and comment, not the counter values */
};

struct nftinfo_chain {
	char *name;
	bool base;		    /* a hook chain */
	struct nftinfo_rule *rules; /* in order */
	size_t nrules;
	uint64_t digest; /* the chain's declaration and its rules, in order */
};

#define NFTINFO_KEY_MAX 64 /* NFT_DATA_VALUE_MAXLEN */

struct nftinfo_elem {
	uint8_t key[NFTINFO_KEY_MAX];
	uint32_t key_len;
	char *chain; /* verdict maps: the jump or goto target, else NULL */
};

struct nftinfo_set {
	char *name;
	uint32_t flags; /* NFT_SET_* (NFT_SET_MAP for a map) */
	struct nftinfo_elem *elems;
	size_t nelems;
	uint64_t digest; /* the declaration and the elements, in any order */
};

struct nftinfo_table {
	char *name;
	char *comment;		      /* "" when none */
	uint32_t flags;		      /* NFT_TABLE_F_* (dormant, ...) */
	uint32_t genid;		      /* the ruleset generation the read saw */
	struct nftinfo_chain *chains; /* sorted by name */
	size_t nchains;
	struct nftinfo_set *sets; /* sorted by name */
	size_t nsets;
	uint64_t digest; /* the table's comment (user data) only */
};

/*
 * Read table inet NAME whole, consistently: the reads are repeated when a
 * commit of anyone's came in between.  Returns 0 (*out malloc'd, free it
 * with nftinfo_table_free), -ENOENT when there is no such table, or
 * -errno (-EPERM without CAP_NET_ADMIN: nfnetlink refuses even reads).
 */
int nftinfo_table_read(const char *table, struct nftinfo_table **out);
void nftinfo_table_free(struct nftinfo_table *t);

/* By name (bsearch); NULL when there is none. */
const struct nftinfo_chain *nftinfo_chain_find(const struct nftinfo_table *t, const char *name);
const struct nftinfo_set *nftinfo_set_find(const struct nftinfo_table *t, const char *name);
