/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jailfw's one reader of the kernel's nf_tables objects, through libnftnl:
 * jailfw's table for status and the counter record, every table for
 * doctor.  (diff shows rules in nft's own words, which only libnftables
 * prints: see diff.h.)
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
/* The same for a table of another family (NFPROTO_ARP). */
int nftinfo_family_table_comment(uint32_t family, const char *table, char **comment);

/*
 * An nfnetlink request into buf: type is SUBSYSTEM << 8 | MESSAGE, flags
 * come on top of NLM_F_REQUEST, res_id (host order) goes into the
 * nfgenmsg with family.  Attributes follow with mnl_attr_put_*().
 */
struct nlmsghdr *nftinfo_nfnl_header(void *buf, uint16_t type, uint16_t flags, uint8_t family,
				     uint16_t res_id, uint32_t seq);

/*
 * Send one nf_tables request (a GET or a dump) and feed every reply to cb
 * until the ack.  Returns 0 or -errno (the kernel's).
 */
int nftinfo_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/*
 * Close the socket nftinfo_talk keeps for the process (nftinfo.c says
 * why it keeps one); the next query opens another.
 */
void nftinfo_release(void);

/*
 * The ruleset generation of this network namespace: the kernel bumps it
 * on every committed transaction, of any table.  Unchanged since jailfw's
 * last commit means nobody has touched any ruleset since.
 */
int nftinfo_genid(uint32_t *genid);

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

struct nftnl_rule;

struct nftinfo_rule {
	char *comment; /* NULL when the rule has none */
	bool has_counter;
	uint64_t packets, bytes;      /* of its first counter */
	enum nftinfo_verdict verdict; /* of its last immediate verdict */
	char *target;		      /* jump and goto: the chain; else NULL */
	uint64_t handle;	      /* the kernel's; differs from load to load */
	struct nftnl_rule *nl;	      /* nftinfo_ruleset_read: the rule, for its expressions */
	uint64_t digest;	      /* expressions and comment, not the counter values */
};

struct nftinfo_chain {
	char *name;
	bool base;		    /* a hook chain: the four below are set */
	uint32_t hook;		    /* NF_INET_* (NF_NETDEV_* in a netdev table) */
	int32_t prio;		    /* of the hook's chains, the lowest runs first */
	uint32_t policy;	    /* NF_ACCEPT or NF_DROP */
	char *type;		    /* "filter", "nat", "route" */
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
	uint32_t family;	      /* NFPROTO_INET, NFPROTO_IPV4, ... */
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

/*
 * ---- Every table ----
 *
 * doctor looks at everyone's base chains: every table of every family with
 * its chains, and, of the tables it asks for, the rules (each with its
 * libnftnl rule, for the expressions) and the sets with their elements.
 * jailfw's own table of thousands of jails is not asked for: its chains
 * are read, not its rules and elements.
 */
struct nftinfo_ruleset {
	struct nftinfo_table *tables; /* in the kernel's order */
	size_t ntables;
	uint32_t genid;
};

/* Whether to read table t's rules and sets; its chains are in already. */
typedef bool nftinfo_want(const struct nftinfo_table *t, void *arg);

/*
 * Read the whole ruleset into *rs, consistently (as nftinfo_table_read):
 * the rules and sets only of the tables want says yes to (want NULL:
 * every table's).  Returns 0 (free *rs with nftinfo_ruleset_free) or
 * -errno.
 */
int nftinfo_ruleset_read(nftinfo_want *want, void *arg, struct nftinfo_ruleset *rs);
void nftinfo_ruleset_free(struct nftinfo_ruleset *rs);

const struct nftinfo_table *nftinfo_table_find(const struct nftinfo_ruleset *rs, uint32_t family,
					       const char *name);

#endif
