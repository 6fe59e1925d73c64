/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internals shared by the renderer's common part (render.c) and its two
 * backends (render_uid.c, render_netns.c).  Not for other modules.
 *
 * Rendering runs in two passes.  The collect pass walks the jails in policy
 * order; each backend turns a jail's allow rules into "pieces" (one port
 * range or one whole protocol, with the destinations it allows), and the
 * common code segments them into disjoint verdict map elements whose
 * verdicts are interned "dst" chains.  The emit pass then prints the
 * objects (sets and maps) and the chains, backend by backend.
 */
#ifndef JAILFW_RENDER_INT_H
#define JAILFW_RENDER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "model.h"
#include "util.h"

/* The verdict maps that hold allowlist elements. */
enum rmap {
	RMAP_UID_PORTS,
	RMAP_UID_PROTOS,
	RMAP_NET_PORTS,
	RMAP_NET_PROTOS,
	RMAP_HOST_PORTS,
	RMAP_HOST_PROTOS,
	RMAP_COUNT
};

/*
 * What a dst chain accepts besides its prefixes.  The same word means
 * different things per backend, hence separate bits: a uid jail's "any"
 * excludes the loopback interface (local services need "to host"), a netns
 * jail's "any" is everything forwarded, and its "host" is the input hook.
 */
enum {
	DSTF_UID_ANY = 1u << 0,	 /* oif != "lo" */
	DSTF_UID_HOST = 1u << 1, /* oif "lo" */
	DSTF_NET_ANY = 1u << 2,	 /* any forwarded destination */
	DSTF_HOSTIN = 1u << 3,	 /* the host itself (input hook) */
	DSTF_UID_PFX = 1u << 4,	 /* uid prefixes: oif != "lo" (never the host) */
};

/* One prefix of a destination union and the rule it came from. */
struct rpfx {
	struct prefix pfx;
	const struct rule *src;
	size_t rule_idx;
};

/* An interned dst chain: one per distinct destination union. */
struct rdst {
	unsigned int flags;
	const struct rule *any_src, *host_src;
	struct rpfx *pfx; /* v4 first, then v6; sorted, none contains another */
	size_t npfx, nv4;
	uint64_t hash;
	char name[40]; /* dst_HASH, dst_HASH_N (render.c, intern) */
};

/* One verdict map element: KEY comment "..." : jump DST. */
struct relem {
	enum rmap map;
	const struct jail *jail;
	enum proto proto;
	uint16_t lo, hi; /* ports maps only */
	size_t dst;	 /* index into rctx.dsts */
	const struct rule *src;
};

/* Input to segmentation: one port range or whole protocol of one rule. */
struct rpiece {
	enum rmap map;
	enum proto proto;
	uint16_t lo, hi;    /* 0, 0 for protos maps */
	unsigned int flags; /* DSTF_* */
	bool prefixes;	    /* the rule's DEST_PREFIX destinations count */
	const struct rule *rule;
	size_t rule_idx;
};

struct render_scratch;

struct rctx {
	const struct policy *p;
	struct strbuf *sb;
	char mark[48]; /* "meta mark set meta mark | 0x00200000" */
	size_t marklen;

	struct rdst *dsts;
	size_t ndsts;
	size_t *htab; /* open addressing, dst index + 1, 0 = empty */
	size_t hcap;

	struct relem *elems;
	size_t nelems;
	bool map_used[RMAP_COUNT];
	bool map_interval[RMAP_COUNT];

	/* Scratch, reused from jail to jail. */
	struct rpiece *pieces;
	size_t npieces, cpieces;
	struct render_scratch *scr;
	/* Sanitised labels of p->files (policy_file_labels), for comments. */
	char **fnames;
	size_t *fbyaddr;  /* indexes of p->files, by the address of the name */
	size_t last_file; /* index of the file cb_loc() found last */
	/* Per jail, parallel to p->jails: derived text used many times. */
	struct rjail *rj;
	struct strbuf text;
};

struct rjail {
	size_t name_off, name_len; /* the name as an identifier, in c->text */
	size_t ifq_off, ifq_len;   /* "NAME-out", quoted, in c->text */
	size_t cmt_off, cmt_len;   /* ' comment "FILE:LINE"' of the jail, in c->text */
};

struct render_backend {
	enum backend backend;
	/* Add one jail's rules with render_add_rule(), then render_flush_jail(). */
	void (*collect)(struct rctx *c, const struct jail *j);
	/* Sets and maps, before any chain. */
	void (*objects)(struct rctx *c);
	/* Base chains and per-jail chains. */
	void (*chains)(struct rctx *c);
	/* Tables of other families, after the inet table; may be NULL. */
	void (*tables)(struct rctx *c);
};

/* The table's comment, with the quotes: "managed by jailfw ...". */
void render_put_table_comment(struct rctx *c);

extern const struct render_backend render_uid_backend;
extern const struct render_backend render_netns_backend;

/* What the netns jails of a policy need: the sets the uid backend uses too. */
struct render_netns_facts {
	bool any, v4, v6, publish;
};
struct render_netns_facts render_netns_facts(const struct policy *p);

/* Collect pass. */
/* A rule's pieces: one per port range into ports_map, or whole protocol. */
void render_add_rule(struct rctx *c, const struct rule *r, size_t rule_idx, enum rmap ports_map,
		     enum rmap protos_map, unsigned int flags, bool prefixes);
/* Pieces of a whole jail are in: segment them into elements. */
void render_flush_jail(struct rctx *c, const struct jail *j);

/*
 * Appending without strlen: the text is a few megabytes for thousands of
 * jails, and most of it is short literals.
 */
static inline void rsb_putn(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->len + n + 1 > sb->cap) {
		while (sb->len + n + 1 > sb->cap)
			sb->cap *= 2;
		sb->s = xrealloc(sb->s, sb->cap);
	}
	memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

static inline void rsb_putc(struct strbuf *sb, char ch)
{
	rsb_putn(sb, &ch, 1);
}

#define RSB_LIT(sb, lit) rsb_putn((sb), "" lit, sizeof(lit) - 1)

/* Emit helpers.  Everything goes through these, never raw policy text. */
void render_put_ident(struct strbuf *sb, const char *prefix, const char *name);
void render_put_quoted(struct strbuf *sb, const char *s);
/*
 * The end of a jail's chain: what every packet of it goes through (the
 * backend's common chain, counted), then the drop of what nothing allowed,
 * logged when the policy says so, and the chain's closing brace.
 */
void render_put_jail_tail(struct rctx *c, const struct jail *j, const char *common);
/* ' comment "TEXT"', sanitised and cut to 127 bytes. */
void render_put_comment(struct strbuf *sb, const char *text);
/* ' comment "FILE:LINE[ via FILE:LINE]"' for a rule. */
/*
 * jailfw's filter chains run at "filter - 10", before the filter-priority
 * chains of other tables (iptables-nft, firewalld, hand-written ones): two
 * base chains of the same priority run in an order nobody chooses (the
 * one registered last first), and the fwmark jailfw sets on what it
 * accepts is only useful to a chain that runs after it.
 */
#define RENDER_FILTER_PRIO "filter - 10"

void render_put_rule_comment(struct rctx *c, const struct rule *r);
void render_put_publish_comment(struct rctx *c, const struct publish *pb);
/* ' comment "FILE:LINE"' of a jail's own statement, and its host ifname. */
void render_put_jail_comment(struct rctx *c, const struct jail *j);
void render_put_ifname(struct rctx *c, const struct jail *j);
/* PREFIX followed by the jail's name: uid_NAME, fwd_NAME, ... */
void render_put_jail_ident(struct rctx *c, const char *prefix, const struct jail *j);
/* ' comment "FILE:LINE[SUFFIX]"' for any located statement. */
void render_put_loc_comment(struct rctx *c, const struct loc *l, const char *suffix);
void render_put_prefix(struct strbuf *sb, const struct prefix *pfx);
void render_put_u(struct strbuf *sb, unsigned long v);
void render_put_ports(struct strbuf *sb, uint16_t lo, uint16_t hi);
/* Map elements: "\t\telements = { KEY comment C : jump DST, ... }\n". */
typedef void (*render_key_fn)(struct rctx *c, const struct relem *e);
void render_put_map(struct rctx *c, enum rmap map, const char *name, const char *type,
		    render_key_fn key);
/* The "log-drops" rule of a jail chain, if the jail logs drops. */
void render_put_log(struct rctx *c, const struct jail *j);

#endif
