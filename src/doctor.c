// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jailfw doctor: what on this host would defeat the policy.  See doctor.h.
 *
 * Why a foreign chain matters at all: netfilter runs every base chain
 * registered on a hook, in priority order, and a packet survives the hook
 * only if none of them drops it.  An accept ends its own chain and nothing
 * else, so jailfw's accept of a jail's packet says nothing to firewalld's,
 * Docker's or a hand-written table's chain on the same hook.  jailfw
 * therefore marks every packet it accepts for a jail with a fwmark bit, and
 * a default-drop chain elsewhere can accept those with one rule -- but only
 * if it runs *after* jailfw's chain on that hook (a higher priority
 * number), or on a later hook: the mark does not exist before jailfw set
 * it.  Between two chains of equal priority the order is that of
 * registration: the chain registered last runs first (nf_hook_entries_grow
 * inserts a new hook before existing ones of the same priority), so it
 * changes whenever either table is re-created.
 */
#include "doctor.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_ipv4.h>
#include <net/if.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "fileio.h"
#include "nftinfo.h"
#include "state.h"
#include "sysctl.h"
#include "util.h"

#define SUBUID "/etc/subuid"
#define SUBGID "/etc/subgid"
#define RESOLV "/etc/resolv.conf"
#define NETNS_ETC "/etc/netns"
#define LEGACY_TABLES "/proc/net/ip_tables_names"
#define LEGACY_TABLES6 "/proc/net/ip6_tables_names"
#define OWN_COMMENT "managed by jailfw"

/* ------------------------------------------------------------------ */
/* Rules                                                                */

/*
 * Expressions that make a rule conditional.  Loads (meta, payload, ct,
 * fib, ...) and bitwise only prepare registers; it is the comparison or
 * lookup that decides.  Statements (counter, log, meta set, ...) neither.
 */
static bool is_condition(const char *name)
{
	static const char *const conds[] = {"cmp",   "range",	  "lookup", "limit",
					    "quota", "connlimit", "match",  "last"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(conds); i++)
		if (!strcmp(name, conds[i]))
			return true;
	return false;
}

#define NO_REG UINT32_MAX
#define NO_VERDICT INT32_MIN

/* Registers loaded with something a recognised condition compares. */
enum { R_MARK, R_IIF, R_IIFNAME, R_OIFNAME, R_SKUID, R_CTSTATE, R_COUNT };

struct cls {
	uint32_t fwmark;
	unsigned int nconds;
	enum doctor_rule_kind cond; /* what the one recognised condition accepts */
	struct doctor_match *m;
	uint32_t reg[R_COUNT];
	uint32_t mark_mask;
	uint32_t ct_mask; /* bits of the ct state register kept by a bitwise */
	int32_t verdict;
};

static bool all_zero(const uint8_t *p, uint32_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

/* The mark test passes for every packet carrying all bits of fwmark. */
static bool mark_test_ok(uint32_t mask, uint32_t op, uint32_t value, uint32_t fwmark)
{
	if (op == NFT_CMP_NEQ)
		return value == 0 && (mask & fwmark) != 0;
	/* == V on mark & M: certain only if M lies within fwmark. */
	return op == NFT_CMP_EQ && mask && !(mask & ~fwmark) && value == mask;
}

/* A register is overwritten: it no longer holds what we tracked. */
static void cls_clobber(struct cls *k, uint32_t reg)
{
	int i;

	for (i = 0; i < R_COUNT; i++)
		if (k->reg[i] == reg)
			k->reg[i] = NO_REG;
}

static void cls_meta(struct cls *k, struct nftnl_expr *e)
{
	uint32_t reg;
	int which;

	if (!nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG))
		return; /* meta ... set: a statement */
	reg = nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG);
	cls_clobber(k, reg);
	switch (nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY)) {
	case NFT_META_MARK:
		which = R_MARK;
		k->mark_mask = UINT32_MAX;
		break;
	case NFT_META_IIF:
		which = R_IIF;
		break;
	case NFT_META_IIFNAME:
		which = R_IIFNAME;
		break;
	case NFT_META_OIFNAME:
		which = R_OIFNAME;
		break;
	case NFT_META_SKUID:
		which = R_SKUID;
		break;
	default:
		return;
	}
	k->reg[which] = reg;
}

static void cls_bitwise(struct cls *k, struct nftnl_expr *e)
{
	uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG), len = 0, xlen = 0, mask;
	const void *m = nftnl_expr_get_data(e, NFTNL_EXPR_BITWISE_MASK, &len);
	const void *x = nftnl_expr_get_data(e, NFTNL_EXPR_BITWISE_XOR, &xlen);
	bool bool_op = !nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) ||
		       nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP) == NFT_BITWISE_BOOL;

	if (k->reg[R_MARK] != NO_REG &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG) == k->reg[R_MARK] &&
	    dreg == k->reg[R_MARK] && bool_op && m && len == 4 && (!x || all_zero(x, xlen))) {
		/* Registers hold the mark in host byte order, as does the mask. */
		memcpy(&mask, m, 4);
		k->mark_mask &= mask;
		return;
	}
	if (k->reg[R_CTSTATE] != NO_REG &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG) == k->reg[R_CTSTATE] &&
	    dreg == k->reg[R_CTSTATE] && bool_op && m && len == 4 && (!x || all_zero(x, xlen))) {
		memcpy(&mask, m, 4);
		k->ct_mask &= mask;
		return;
	}
	cls_clobber(k, dreg);
}

/* "ct state ..." loads the state into a register; "ct ... set" is a statement. */
static void cls_ct(struct cls *k, struct nftnl_expr *e)
{
	uint32_t reg;

	if (!nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG))
		return;
	reg = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG);
	cls_clobber(k, reg);
	if (nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) == NFT_CT_STATE &&
	    !nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR)) {
		k->reg[R_CTSTATE] = reg;
		k->ct_mask = UINT32_MAX;
	}
}

/* "ct state { established, related }": a lookup in an anonymous set. */
static void cls_lookup(struct cls *k, struct nftnl_expr *e)
{
	k->nconds++;
	if (k->reg[R_CTSTATE] == NO_REG ||
	    nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG) != k->reg[R_CTSTATE] ||
	    k->ct_mask != UINT32_MAX || nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG) ||
	    (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
	     (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV)))
		return;
	k->m->ctset = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	if (k->m->ctset)
		k->cond = DOCTOR_RULE_ACCEPT_CTSTATE;
}

/* An exact interface name: NUL-terminated within the compared bytes. */
static bool cls_ifname(struct cls *k, const uint8_t *data, uint32_t len)
{
	const uint8_t *nul = memchr(data, '\0', len);

	if (!nul || nul == data || (size_t)(nul - data) >= sizeof(k->m->ifname))
		return false;
	memcpy(k->m->ifname, data, (size_t)(nul - data) + 1);
	return true;
}

static void cls_cmp(struct cls *k, struct nftnl_expr *e)
{
	uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG);
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), len = 0, v;
	const uint8_t *data = nftnl_expr_get_data(e, NFTNL_EXPR_CMP_DATA, &len);

	k->nconds++;
	if (!data || sreg == NO_REG)
		return;
	if (sreg == k->reg[R_MARK] && len == 4) {
		memcpy(&v, data, 4);
		if (mark_test_ok(k->mark_mask, op, v, k->fwmark))
			k->cond = DOCTOR_RULE_ACCEPT_MARK;
		return;
	}
	if (sreg == k->reg[R_CTSTATE] && len == 4) {
		/* ct state established,related: state & M != 0 */
		memcpy(&v, data, 4);
		if (op == NFT_CMP_NEQ && v == 0 && k->ct_mask != UINT32_MAX) {
			k->m->ctstate = k->ct_mask;
			k->cond = DOCTOR_RULE_ACCEPT_CTSTATE;
		}
		return;
	}
	if (op != NFT_CMP_EQ)
		return;
	if (sreg == k->reg[R_IIF] && len == 4) {
		memcpy(&v, data, 4);
		if (v == 1) /* lo is ifindex 1 in every namespace */
			k->cond = DOCTOR_RULE_ACCEPT_LO;
	} else if (sreg == k->reg[R_IIFNAME] && cls_ifname(k, data, len)) {
		k->cond = DOCTOR_RULE_ACCEPT_IIFNAME;
	} else if (sreg == k->reg[R_OIFNAME] && cls_ifname(k, data, len)) {
		k->cond = DOCTOR_RULE_ACCEPT_OIFNAME;
	} else if (sreg == k->reg[R_SKUID] && len == 4) {
		memcpy(&v, data, 4);
		k->m->uid_lo = k->m->uid_hi = v;
		k->cond = DOCTOR_RULE_ACCEPT_SKUID;
	}
}

/*
 * iptables-nft's compat matches: "-m mark --mark M/M" (xt_mark_mtinfo1:
 * mark, mask, invert) and "-m owner --uid-owner U" (xt_owner_match_info:
 * uid_min, uid_max, gid_min, gid_max, match, invert).
 */
static void cls_match(struct cls *k, struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME);
	uint32_t rev = nftnl_expr_get_u32(e, NFTNL_EXPR_MT_REV), len = 0, a, b;
	const uint8_t *info = nftnl_expr_get_data(e, NFTNL_EXPR_MT_INFO, &len);

	k->nconds++;
	if (!name || !info)
		return;
	if (!strcmp(name, "mark") && rev == 1 && len >= 9 && !info[8]) {
		memcpy(&a, info, 4);
		memcpy(&b, info + 4, 4);
		if (mark_test_ok(b, NFT_CMP_EQ, a, k->fwmark))
			k->cond = DOCTOR_RULE_ACCEPT_MARK;
	} else if (!strcmp(name, "owner") && rev == 1 && len >= 18 && (info[16] & ~0x4u) == 0x1 &&
		   !info[17]) {
		/* XT_OWNER_UID (and XT_OWNER_SOCKET), nothing inverted. */
		memcpy(&k->m->uid_lo, info, 4);
		memcpy(&k->m->uid_hi, info + 4, 4);
		k->cond = DOCTOR_RULE_ACCEPT_SKUID;
	}
}

static int cls_expr(struct nftnl_expr *e, void *data)
{
	struct cls *k = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (!name)
		return MNL_CB_OK;
	if (!strcmp(name, "meta")) {
		cls_meta(k, e);
	} else if (!strcmp(name, "bitwise")) {
		cls_bitwise(k, e);
	} else if (!strcmp(name, "cmp")) {
		cls_cmp(k, e);
	} else if (!strcmp(name, "match")) {
		cls_match(k, e);
	} else if (!strcmp(name, "ct")) {
		cls_ct(k, e);
	} else if (!strcmp(name, "lookup")) {
		cls_lookup(k, e);
	} else if (!strcmp(name, "immediate")) {
		if (nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT) {
			k->verdict = (int32_t)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
			if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
				k->m->target = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
		} else {
			cls_clobber(k, nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG));
		}
	} else if (!strcmp(name, "reject")) {
		k->verdict = NF_DROP;
	} else if (!strcmp(name, "target")) {
		const char *t = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);

		if (t && !strcmp(t, "REJECT"))
			k->verdict = NF_DROP;
	} else if (is_condition(name)) {
		k->nconds++;
	}
	return MNL_CB_OK;
}

enum doctor_rule_kind doctor_classify_rule(struct nftnl_rule *r, uint32_t fwmark,
					   struct doctor_match *m)
{
	struct cls k = {.fwmark = fwmark,
			.cond = DOCTOR_RULE_OTHER,
			.m = m,
			.reg = {NO_REG, NO_REG, NO_REG, NO_REG, NO_REG, NO_REG},
			.verdict = NO_VERDICT};

	memset(m, 0, sizeof(*m));
	nftnl_expr_foreach(r, cls_expr, &k);
	if (k.verdict == NO_VERDICT)
		return DOCTOR_RULE_OTHER;
	if (k.nconds == 1 && k.verdict == NF_ACCEPT)
		return k.cond;
	if (k.nconds == 1 && (k.verdict == NFT_JUMP || k.verdict == NFT_GOTO) && m->target &&
	    (k.cond == DOCTOR_RULE_ACCEPT_IIFNAME || k.cond == DOCTOR_RULE_ACCEPT_OIFNAME)) {
		m->oif = k.cond == DOCTOR_RULE_ACCEPT_OIFNAME;
		return k.verdict == NFT_JUMP ? DOCTOR_RULE_JUMP_IFNAME : DOCTOR_RULE_GOTO_IFNAME;
	}
	if (k.nconds)
		return DOCTOR_RULE_OTHER;
	switch (k.verdict) {
	case NF_DROP:
		return DOCTOR_RULE_DROP;
	case NF_ACCEPT:
		return DOCTOR_RULE_ACCEPT;
	case NFT_JUMP:
	case NFT_GOTO:
		if (!m->target)
			return DOCTOR_RULE_OTHER;
		return k.verdict == NFT_JUMP ? DOCTOR_RULE_JUMP : DOCTOR_RULE_GOTO;
	case NFT_RETURN:
		return DOCTOR_RULE_RETURN;
	default:
		return DOCTOR_RULE_OTHER;
	}
}

/* ------------------------------------------------------------------ */
/* Walking a chain                                                      */

void doctor_ruleset_free(struct doctor_ruleset *rs)
{
	size_t i, j;

	for (i = 0; i < rs->nchains; i++) {
		struct doctor_chain *c = &rs->chains[i];

		for (j = 0; j < c->nrules; j++)
			free(c->rules[j].target);
		free(c->rules);
		free(c->table);
		free(c->name);
		free(c->type);
	}
	free(rs->chains);
	rs->chains = NULL;
	rs->nchains = 0;
}

static struct doctor_chain *find_chain(const struct doctor_ruleset *rs, uint32_t family,
				       const char *table, const char *name)
{
	size_t i;

	for (i = 0; i < rs->nchains; i++) {
		struct doctor_chain *c = &rs->chains[i];

		if (c->family == family && !strcmp(c->table, table) && !strcmp(c->name, name))
			return c;
	}
	return NULL;
}

/* nft refuses jump loops, but a depth cap keeps a bad listing harmless. */
#define WALK_DEPTH 16

/* Does an accept of the jail's identity match this packet? */
static bool id_match(const struct doctor_rule *r, const struct doctor_pkt *pkt)
{
	switch (r->kind) {
	case DOCTOR_RULE_ACCEPT_LO:
		return pkt->loopback;
	case DOCTOR_RULE_ACCEPT_IIFNAME:
		return pkt->iif && !strcmp(pkt->iif, r->ifname);
	case DOCTOR_RULE_ACCEPT_OIFNAME:
		return pkt->oif && !strcmp(pkt->oif, r->ifname);
	case DOCTOR_RULE_ACCEPT_SKUID:
		return pkt->has_uid && pkt->uid >= r->uid_lo && pkt->uid <= r->uid_hi;
	default:
		return false;
	}
}

/* True when the packet's fate was decided (w->fate set). */
static bool walk(const struct doctor_ruleset *rs, const struct doctor_chain *c,
		 const struct doctor_pkt *pkt, struct doctor_walk *w, int depth)
{
	const struct doctor_chain *t;
	size_t i;

	for (i = 0; i < c->nrules; i++) {
		const struct doctor_rule *r = &c->rules[i];

		switch (r->kind) {
		case DOCTOR_RULE_OTHER:
			break;
		case DOCTOR_RULE_DROP:
			w->fate = DOCTOR_DROPPED_RULE;
			w->where = c;
			w->handle = r->handle;
			return true;
		case DOCTOR_RULE_ACCEPT:
			w->fate = DOCTOR_ACCEPTED;
			return true;
		case DOCTOR_RULE_ACCEPT_MARK:
			if (pkt->marked) {
				w->fate = DOCTOR_ACCEPTED_MARK;
				return true;
			}
			w->mark_rule_seen = true;
			break;
		case DOCTOR_RULE_ACCEPT_LO:
		case DOCTOR_RULE_ACCEPT_IIFNAME:
		case DOCTOR_RULE_ACCEPT_OIFNAME:
		case DOCTOR_RULE_ACCEPT_SKUID:
			if (id_match(r, pkt)) {
				w->fate = DOCTOR_ACCEPTED_ID;
				return true;
			}
			break;
		case DOCTOR_RULE_ACCEPT_CTSTATE:
			if (pkt->ctstate & r->ctstate) {
				w->fate = DOCTOR_ACCEPTED_CT;
				return true;
			}
			break;
		case DOCTOR_RULE_JUMP_IFNAME:
		case DOCTOR_RULE_GOTO_IFNAME:
			/* Taken only for the packet's own interface. */
			if (!(r->oif ? pkt->oif : pkt->iif) ||
			    strcmp(r->oif ? pkt->oif : pkt->iif, r->ifname))
				break;
			/* fall through */
		case DOCTOR_RULE_JUMP:
		case DOCTOR_RULE_GOTO:
			t = find_chain(rs, c->family, c->table, r->target);
			if (t && depth < WALK_DEPTH && walk(rs, t, pkt, w, depth + 1))
				return true;
			/* After a goto, evaluation resumes in our caller. */
			if (r->kind == DOCTOR_RULE_GOTO || r->kind == DOCTOR_RULE_GOTO_IFNAME)
				return false;
			break;
		case DOCTOR_RULE_RETURN:
			return false;
		}
	}
	return false;
}

void doctor_walk_chain(const struct doctor_ruleset *rs, const struct doctor_chain *c,
		       const struct doctor_pkt *pkt, struct doctor_walk *w)
{
	memset(w, 0, sizeof(*w));
	if (!walk(rs, c, pkt, w, 0))
		w->fate = c->policy_drop ? DOCTOR_DROPPED_POLICY : DOCTOR_PASSES;
}

/* ------------------------------------------------------------------ */
/* Host files                                                           */

bool doctor_subid_find(const char *text, const char *name, uid_t id, char *range, size_t len)
{
	char idstr[16];
	const char *line, *nl;

	snprintf(idstr, sizeof(idstr), "%u", (unsigned int)id);
	for (line = text; line && *line; line = nl ? nl + 1 : NULL) {
		unsigned long long start, count;
		const char *colon;
		char *end;
		size_t n;

		nl = strchr(line, '\n');
		colon = memchr(line, ':', nl ? (size_t)(nl - line) : strlen(line));
		if (!colon)
			continue;
		n = (size_t)(colon - line);
		if (!((name && strlen(name) == n && !strncmp(line, name, n)) ||
		      (strlen(idstr) == n && !strncmp(line, idstr, n))))
			continue;
		errno = 0;
		start = strtoull(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end != ':')
			continue;
		count = strtoull(end + 1, &end, 10);
		if (errno || !count || (*end && *end != '\n'))
			continue;
		snprintf(range, len, "%llu-%llu", start, start + count - 1);
		return true;
	}
	return false;
}

static bool addr_is_loopback(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, s, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

unsigned int doctor_resolv_nameservers(const char *text, unsigned int *nloop,
				       char first_loop[INET6_ADDRSTRLEN])
{
	const char *line, *nl;
	unsigned int n = 0;

	*nloop = 0;
	first_loop[0] = '\0';
	for (line = text; line && *line; line = nl ? nl + 1 : NULL) {
		char word[16], addr[64];
		size_t len;

		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		{
			char buf[256];
			char *pct;

			snprintf(buf, sizeof(buf), "%.*s", (int)(len < 255 ? len : 255), line);
			if (sscanf(buf, "%15s %63s", word, addr) != 2 || strcmp(word, "nameserver"))
				continue;
			/* fe80::1%eth0: the scope is not part of the address. */
			pct = strchr(addr, '%');
			if (pct)
				*pct = '\0';
		}
		n++;
		if (addr_is_loopback(addr)) {
			if (!(*nloop)++)
				snprintf(first_loop, INET6_ADDRSTRLEN, "%.45s", addr);
		}
	}
	if (!n) {
		/* resolv.conf(5): "If no nameserver entries are present, the
		 * default is to use the name server on the local machine." */
		*nloop = 1;
		snprintf(first_loop, INET6_ADDRSTRLEN, "127.0.0.1");
		return 1;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Reading the ruleset                                                  */

struct live {
	struct nftinfo_ruleset nft;
	struct doctor_ruleset rs; /* every chain; the rules of want_rules' tables */
	uint32_t fwmark;
};

static void live_free(struct live *l)
{
	nftinfo_ruleset_free(&l->nft);
	doctor_ruleset_free(&l->rs);
}

/*
 * jailfw's tables say so in their comment, whatever their name
 * (settings { table }); a table of jailfw's name without it is someone
 * else's, and its chains are looked at like any other.
 */
static bool table_is_own(const struct nftinfo_table *t)
{
	/* Its netns jails' ARP filter is a table arp of the same kind (render_netns.c). */
	return t && (t->family == NFPROTO_INET || t->family == NFPROTO_ARP) &&
	       !strncmp(t->comment, OWN_COMMENT, strlen(OWN_COMMENT));
}

static bool chain_is_own(const struct live *l, const struct doctor_chain *c)
{
	return table_is_own(nftinfo_table_find(&l->nft, c->family, c->table));
}

static bool ip_family(uint32_t f)
{
	return f == NFPROTO_INET || f == NFPROTO_IPV4 || f == NFPROTO_IPV6;
}

/* The rules that matter: other tables' with a base chain on an IP hook. */
static bool want_rules(const struct nftinfo_table *t, void *arg)
{
	size_t i;

	(void)arg;
	if (table_is_own(t) || !ip_family(t->family))
		return false;
	for (i = 0; i < t->nchains; i++)
		if (t->chains[i].base)
			return true;
	return false;
}

/*
 * The ct states in a set of t's (firewalld's "ct state { established,
 * related }"), as one mask; 0 when there is no such set (the rule then
 * matches nothing).
 */
static uint32_t set_mask(const struct nftinfo_table *t, const char *name)
{
	const struct nftinfo_set *set = nftinfo_set_find(t, name);
	uint32_t mask = 0, v;
	size_t i;

	for (i = 0; set && i < set->nelems; i++) {
		if (set->elems[i].key_len == sizeof(v)) {
			memcpy(&v, set->elems[i].key, sizeof(v));
			mask |= v;
		}
	}
	return mask;
}

static void add_rule(struct doctor_chain *c, const struct nftinfo_table *t,
		     const struct nftinfo_rule *r, uint32_t fwmark)
{
	struct doctor_rule *dr = VEC_PUSH(c->rules, c->nrules);
	struct doctor_match m;

	dr->kind = doctor_classify_rule(r->nl, fwmark, &m);
	dr->target = m.target ? xstrdup(m.target) : NULL;
	memcpy(dr->ifname, m.ifname, sizeof(dr->ifname));
	dr->oif = m.oif;
	dr->uid_lo = m.uid_lo;
	dr->uid_hi = m.uid_hi;
	dr->ctstate = m.ctstate;
	if (dr->kind == DOCTOR_RULE_ACCEPT_CTSTATE && m.ctset)
		dr->ctstate = set_mask(t, m.ctset);
	dr->handle = r->handle;
}

/* Every table's chains, and the rules of the tables want_rules picks. */
static int live_read(struct live *l)
{
	size_t i, k, n;
	int ret;

	ret = nftinfo_ruleset_read(want_rules, NULL, &l->nft);
	for (i = 0; !ret && i < l->nft.ntables; i++) {
		const struct nftinfo_table *t = &l->nft.tables[i];

		for (k = 0; k < t->nchains; k++) {
			const struct nftinfo_chain *ch = &t->chains[k];
			struct doctor_chain *c = VEC_PUSH(l->rs.chains, l->rs.nchains);

			c->table = xstrdup(t->name);
			c->name = xstrdup(ch->name);
			c->family = t->family;
			c->base = ch->base;
			c->hook = ch->hook;
			c->prio = ch->prio;
			c->policy_drop = ch->base && ch->policy == NF_DROP;
			c->type = ch->type ? xstrdup(ch->type) : NULL;
			for (n = 0; n < ch->nrules; n++)
				add_rule(c, t, &ch->rules[n], l->fwmark);
		}
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* Findings                                                             */

struct djail {
	const char *name;
	enum backend backend;
	bool has_uid;
	uid_t uid;
	char host_if[IF_NAMESIZE];
	bool has_v4, has_v6;
	struct prefix v4, v6;
	bool has_dns; /* the policy has a dns statement */
	const struct loc *loc, *user_loc, *dns_loc;
	enum tristate to_host; /* has "to host" rules; TRI_UNSET: unknown (state) */
};

struct doc {
	FILE *out;
	bool verbose;
	unsigned int errors, warnings;
	uint32_t fwmark;
	const char *table;
	struct djail *jails;
	size_t njails;
	struct state st;
	struct live live;
	bool have_live;
	char *subuid, *subgid; /* owners as numbers (subid_numeric), NULL: none */
	bool userns_off;       /* user.max_user_namespaces is 0 */
	struct proc_ent *procs;
	size_t nprocs;
};

static void vfinding(struct doc *dc, const char *kind, const struct loc *loc, const char *fmt,
		     va_list ap)
{
	if (loc && loc->file && loc->line)
		fprintf(dc->out, "%s:%u:%u: ", loc->file, loc->line, loc->col);
	fprintf(dc->out, "%s: ", kind);
	vfprintf(dc->out, fmt, ap);
	fputc('\n', dc->out);
}

static void error(struct doc *dc, const struct loc *loc, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void error(struct doc *dc, const struct loc *loc, const char *fmt, ...)
{
	va_list ap;

	dc->errors++;
	va_start(ap, fmt);
	vfinding(dc, "error", loc, fmt, ap);
	va_end(ap);
}

static void warning(struct doc *dc, const struct loc *loc, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void warning(struct doc *dc, const struct loc *loc, const char *fmt, ...)
{
	va_list ap;

	dc->warnings++;
	va_start(ap, fmt);
	vfinding(dc, "warning", loc, fmt, ap);
	va_end(ap);
}

/* An error, or a warning when the trouble is not certain. */
static void finding(struct doc *dc, bool certain, const struct loc *loc, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
static void finding(struct doc *dc, bool certain, const struct loc *loc, const char *fmt, ...)
{
	va_list ap;

	if (certain)
		dc->errors++;
	else
		dc->warnings++;
	va_start(ap, fmt);
	vfinding(dc, certain ? "error" : "warning", loc, fmt, ap);
	va_end(ap);
}

/* An indented line under a finding: "  fix: ...", "  why: ...". */
static void detail(struct doc *dc, const char *what, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void detail(struct doc *dc, const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(dc->out, "  %s: ", what);
	va_start(ap, fmt);
	vfprintf(dc->out, fmt, ap);
	va_end(ap);
	fputc('\n', dc->out);
}

static void ok(struct doc *dc, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void ok(struct doc *dc, const char *fmt, ...)
{
	va_list ap;

	if (!dc->verbose)
		return;
	fputs("ok: ", dc->out);
	va_start(ap, fmt);
	vfprintf(dc->out, fmt, ap);
	va_end(ap);
	fputc('\n', dc->out);
}

static size_t count_backend(const struct doc *dc, enum backend b)
{
	size_t i, n = 0;

	for (i = 0; i < dc->njails; i++)
		n += dc->jails[i].backend == b;
	return n;
}

/* ---- foreign chains ---- */

/* What crosses a hook, and where jailfw marks it. */
enum jclass {
	JC_UID_OUT, /* a uid jail's packets: output, postrouting */
	JC_UID_LO,  /* a uid jail's packets to the host: back in through lo */
	JC_NET_FWD, /* a netns jail's packets to the world (and replies) */
	JC_NET_IN,  /* a netns jail's packets to the host */
	JC_COUNT,
};

static const char *const jclass_what[JC_COUNT] = {
    [JC_UID_OUT] = "the traffic jailfw accepts for uid jails",
    [JC_UID_LO] = "the traffic jailfw accepts for uid jails to the host (through lo)",
    [JC_NET_FWD] = "the traffic jailfw accepts for netns jails",
    [JC_NET_IN] = "the traffic jailfw accepts for netns jails to the host",
};

static bool crosses(enum jclass k, uint32_t hook)
{
	switch (k) {
	case JC_UID_OUT:
		return hook == NF_INET_LOCAL_OUT || hook == NF_INET_POST_ROUTING;
	case JC_UID_LO:
		return hook == NF_INET_PRE_ROUTING || hook == NF_INET_LOCAL_IN;
	case JC_NET_FWD:
		return hook == NF_INET_PRE_ROUTING || hook == NF_INET_FORWARD ||
		       hook == NF_INET_POST_ROUTING;
	case JC_NET_IN:
		return hook == NF_INET_PRE_ROUTING || hook == NF_INET_LOCAL_IN;
	default:
		return false;
	}
}

enum avail { AV_NO, AV_MAYBE, AV_YES };

/*
 * The priority of jailfw's chain on a hook, where it marks what it
 * accepts: the lowest of its filter chains there, or what render emits
 * (filter) when it has none loaded (doctor before apply).
 */
static void own_prio(const struct doc *dc, uint32_t hook, int32_t *prio)
{
	bool found = false;
	size_t i;

	*prio = NF_IP_PRI_FILTER;
	for (i = 0; dc->have_live && i < dc->live.rs.nchains; i++) {
		const struct doctor_chain *c = &dc->live.rs.chains[i];

		if (!c->base || !ip_family(c->family) || c->hook != hook ||
		    !chain_is_own(&dc->live, c) || strcmp(c->type, "filter"))
			continue;
		if (!found || c->prio < *prio)
			*prio = c->prio;
		found = true;
	}
}

/* Whether class k's packets carry the fwmark when c runs. */
static enum avail marked_at(const struct doc *dc, enum jclass k, const struct doctor_chain *c)
{
	uint32_t marking_hook;
	int32_t prio;

	switch (k) {
	case JC_UID_OUT:
		if (c->hook == NF_INET_POST_ROUTING)
			return AV_YES;
		marking_hook = NF_INET_LOCAL_OUT;
		break;
	case JC_UID_LO:
		return AV_YES; /* marked on the way out */
	case JC_NET_FWD:
		if (c->hook == NF_INET_POST_ROUTING)
			return AV_YES;
		if (c->hook == NF_INET_PRE_ROUTING)
			return AV_NO;
		marking_hook = NF_INET_FORWARD;
		break;
	case JC_NET_IN:
		if (c->hook == NF_INET_PRE_ROUTING)
			return AV_NO;
		marking_hook = NF_INET_LOCAL_IN;
		break;
	default:
		return AV_NO;
	}
	own_prio(dc, marking_hook, &prio);
	if (c->prio > prio)
		return AV_YES;
	return c->prio == prio ? AV_MAYBE : AV_NO;
}

static const char *doctor_family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_INET:
		return "inet";
	case NFPROTO_IPV4:
		return "ip";
	case NFPROTO_IPV6:
		return "ip6";
	default:
		return "?";
	}
}

static const char *doctor_hook_name(uint32_t h)
{
	static const char *const names[] = {"prerouting", "input", "forward", "output",
					    "postrouting"};

	return h < ARRAY_SIZE(names) ? names[h] : "?";
}

/* A name that can go into a command line unquoted (nft identifiers). */
static bool doctor_plain_name(const char *s)
{
	size_t i;

	if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_-.", s[i]))
			return false;
	return true;
}

/* iptables-nft's tables and built-in chains, as they appear to nft. */
static bool is_iptables(const struct doctor_chain *c)
{
	static const char *const tables[] = {"filter", "nat", "mangle", "raw", "security"};
	static const char *const chains[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT",
					     "POSTROUTING"};
	bool t = false, ch = false;
	size_t i;

	if (c->family != NFPROTO_IPV4 && c->family != NFPROTO_IPV6)
		return false;
	for (i = 0; i < ARRAY_SIZE(tables); i++)
		t |= !strcmp(c->table, tables[i]);
	for (i = 0; i < ARRAY_SIZE(chains); i++)
		ch |= !strcmp(c->name, chains[i]);
	return t && ch;
}

/*
 * The fixes, as commands.  For iptables-nft's chains, iptables commands
 * (nft rules added behind iptables' back are lost at its next restore);
 * Docker wants additions in DOCKER-USER, which FORWARD jumps to first.
 */
struct fixer {
	struct doc *dc;
	const struct doctor_chain *c;
	bool ipt;
	const char *ipt_chain;
	char ipt_cmd[64];
};

static void fixer_init(struct fixer *f, struct doc *dc, const struct doctor_chain *c)
{
	memset(f, 0, sizeof(*f));
	f->dc = dc;
	f->c = c;
	f->ipt = is_iptables(c);
	f->ipt_chain = c->name;
	if (f->ipt && !strcmp(c->table, "filter") && !strcmp(c->name, "FORWARD") &&
	    find_chain(&dc->live.rs, c->family, c->table, "DOCKER-USER"))
		f->ipt_chain = "DOCKER-USER";
	snprintf(f->ipt_cmd, sizeof(f->ipt_cmd), "%s%s%s",
		 c->family == NFPROTO_IPV6 ? "ip6tables" : "iptables",
		 strcmp(c->table, "filter") ? " -t " : "",
		 strcmp(c->table, "filter") ? c->table : "");
}

/* "fix: nft 'insert rule inet t c EXPR accept'" or the iptables form. */
static void fix_rule(struct fixer *f, const char *what, const char *nft_expr, const char *ipt_match)
{
	const struct doctor_chain *c = f->c;

	if (f->ipt) {
		detail(f->dc, what, "%s -I %s %s -j ACCEPT", f->ipt_cmd, f->ipt_chain, ipt_match);
		return;
	}
	if (doctor_plain_name(c->table) && doctor_plain_name(c->name))
		detail(f->dc, what, "nft 'insert rule %s %s %s %s accept'",
		       doctor_family_name(c->family), c->table, c->name, nft_expr);
	else
		detail(f->dc, what, "insert \"%s accept\" at the top of that chain", nft_expr);
}

static void fix_mark(struct fixer *f, const char *what)
{
	char nft[64], ipt[64];

	snprintf(nft, sizeof(nft), "meta mark & 0x%08x != 0", f->dc->fwmark);
	snprintf(ipt, sizeof(ipt), "-m mark --mark 0x%x/0x%x", f->dc->fwmark, f->dc->fwmark);
	fix_rule(f, what, nft, ipt);
}

/*
 * Accept one jail's packets by what identifies them on this hook: its uid,
 * lo, or its host-side interface (both directions where the chain sees
 * both).  Safe because jailfw's own chain still filters them: the accept
 * only stops this chain from dropping them.  One rule per jail, no
 * anonymous set, so doctor recognises the fix next time.
 */
static void fix_identity(struct fixer *f, enum jclass k, const struct djail *j, const char *what)
{
	char nft[64], ipt[64];

	switch (k) {
	case JC_UID_OUT:
		snprintf(nft, sizeof(nft), "meta skuid %u", (unsigned int)j->uid);
		snprintf(ipt, sizeof(ipt), "-m owner --uid-owner %u", (unsigned int)j->uid);
		fix_rule(f, what, nft, ipt);
		break;
	case JC_UID_LO:
		fix_rule(f, what, "iif lo", "-i lo");
		break;
	case JC_NET_FWD:
	case JC_NET_IN:
		snprintf(nft, sizeof(nft), "iifname \"%s\"", j->host_if);
		snprintf(ipt, sizeof(ipt), "-i %s", j->host_if);
		fix_rule(f, what, nft, ipt);
		if (k == JC_NET_FWD && f->c->hook != NF_INET_PRE_ROUTING) {
			/* The replies, on their way back into the jail. */
			nft[0] = 'o';
			ipt[1] = 'o';
			fix_rule(f, "and", nft, ipt);
		}
		break;
	default:
		break;
	}
}

static void chain_title(const struct doctor_chain *c, struct strbuf *sb)
{
	sb_printf(sb, "table %s %s chain %s (hook %s, priority %d", doctor_family_name(c->family),
		  c->table, c->name, doctor_hook_name(c->hook), c->prio);
	if (is_iptables(c))
		sb_printf(sb, "; iptables-nft%s",
			  !strcmp(c->table, "filter") && !strcmp(c->name, "FORWARD")
			      ? ", where Docker sets FORWARD to DROP"
			      : "");
	sb_putc(sb, ')');
}

static bool jail_in_class(const struct djail *j, enum jclass k)
{
	switch (k) {
	case JC_UID_OUT:
		return j->backend == BACKEND_UID && j->has_uid;
	case JC_UID_LO:
		return j->backend == BACKEND_UID && j->to_host != TRI_NO;
	case JC_NET_FWD:
		return j->backend == BACKEND_NETNS;
	case JC_NET_IN:
		return j->backend == BACKEND_NETNS && j->to_host != TRI_NO;
	default:
		return false;
	}
}

/*
 * A jail's packets of class k as chain c sees them: one, or two where the
 * chain sees both directions of forwarded traffic by interface.  On
 * prerouting a reply's output interface is not known yet.  Packets that
 * come in (lo, a veth) have no local socket yet when the hooks run.
 */
static size_t class_pkts(const struct djail *j, enum jclass k, const struct doctor_chain *c,
			 enum avail av, struct doctor_pkt pk[2])
{
	memset(pk, 0, 2 * sizeof(*pk));
	pk[0].marked = pk[1].marked = av != AV_NO;
	/* The jail opens the connection; what comes back is a reply. */
	pk[0].ctstate = DOCTOR_CT_NEW;
	pk[1].ctstate = DOCTOR_CT_ESTABLISHED;
	switch (k) {
	case JC_UID_OUT:
		pk[0].has_uid = true;
		pk[0].uid = j->uid;
		return 1;
	case JC_UID_LO:
		pk[0].loopback = true;
		pk[0].iif = "lo";
		return 1;
	case JC_NET_FWD:
		pk[0].iif = j->host_if;
		if (c->hook == NF_INET_PRE_ROUTING)
			return 1;
		pk[1].oif = j->host_if;
		return 2;
	case JC_NET_IN:
		pk[0].iif = j->host_if;
		return 1;
	default:
		return 0;
	}
}

/* firewalld's own table (its nftables backend, Debian's default). */
static bool is_firewalld(const struct doctor_chain *c)
{
	return !strcmp(c->table, "firewalld");
}

/*
 * firewalld rebuilds its table from its configuration at every reload (and
 * boot): a rule inserted with nft is gone then.  What lasts is firewalld's
 * own configuration: the jail's host-side interface in the trusted zone
 * (target ACCEPT, so every zone dispatch, INPUT and FORWARD alike, accepts
 * what comes in on it).  That is safe for the policy: jailfw's chains
 * still see the packet and drop what the jail may not send; an accept in
 * firewalld's table only stops firewalld's chain from dropping it.
 */
static void fix_firewalld(struct doc *dc, const bool *bad)
{
	size_t i, n = 0;

	for (i = 0; i < dc->njails; i++)
		if (bad[i])
			detail(dc, n++ ? "and" : "fix",
			       "firewall-cmd --permanent --zone=trusted --add-interface=%s",
			       dc->jails[i].host_if);
	detail(dc, "and", "firewall-cmd --reload");
	detail(dc, "why",
	       "firewalld rebuilds its table at every reload, so a rule added with nft would "
	       "be gone; the trusted zone only stops firewalld from rejecting what jailfw "
	       "accepts: jailfw's own chains still drop what the policy does not allow");
}

static bool dropped(enum doctor_fate f)
{
	return f == DOCTOR_DROPPED_POLICY || f == DOCTOR_DROPPED_RULE;
}

static void check_chain_class(struct doc *dc, const struct doctor_chain *c, enum jclass k)
{
	enum avail av = marked_at(dc, k, c);
	bool *bad = xcalloc(dc->njails + 1, sizeof(bool));
	bool *fragile = xcalloc(dc->njails + 1, sizeof(bool));
	struct strbuf title, how, names;
	struct doctor_walk w, first = {0};
	struct doctor_pkt pk[2];
	bool any_bad = false, any_fragile = false, certain = true, seen_mark = false;
	struct fixer f;
	size_t i, n, p;
	int32_t jprio;

	sb_init(&title);
	sb_init(&how);
	sb_init(&names);
	chain_title(c, &title);
	fixer_init(&f, dc, c);
	own_prio(dc,
		 c->hook == NF_INET_POST_ROUTING || c->hook == NF_INET_PRE_ROUTING ? NF_INET_FORWARD
										   : c->hook,
		 &jprio);

	for (i = 0; i < dc->njails; i++) {
		const struct djail *j = &dc->jails[i];

		if (!jail_in_class(j, k))
			continue;
		n = class_pkts(j, k, c, av, pk);
		for (p = 0; p < n && !bad[i]; p++) {
			doctor_walk_chain(&dc->live.rs, c, &pk[p], &w);
			seen_mark |= w.mark_rule_seen;
			if (dropped(w.fate)) {
				if (!any_bad)
					first = w;
				bad[i] = any_bad = true;
				if (j->to_host == TRI_UNSET && (k == JC_UID_LO || k == JC_NET_IN))
					certain = false;
				sb_printf(&names, "%s%s", names.len ? ", " : "", j->name);
			} else if (w.fate == DOCTOR_ACCEPTED_MARK && av == AV_MAYBE) {
				fragile[i] = any_fragile = true;
			}
		}
	}

	if (!any_bad && !any_fragile) {
		ok(dc, "%s lets %s through", title.s, jclass_what[k]);
		goto out;
	}
	if (!any_bad) {
		warning(dc, NULL,
			"%s accepts jailfw's fwmark, but runs at the same priority as jailfw's "
			"chain (%d): the mark is there only while jailfw's chain happens to run "
			"first",
			title.s, jprio);
		detail(dc, "why",
		       "between chains of equal priority the one registered last runs first; "
		       "re-creating either table changes the order");
		for (i = 0; i < dc->njails; i++)
			if (fragile[i])
				fix_identity(&f, k, &dc->jails[i], "fix");
		goto out;
	}

	if (first.fate == DOCTOR_DROPPED_POLICY)
		sb_puts(&how, "its policy drop");
	else
		sb_printf(&how, "an unconditional drop (chain %s, rule handle %llu)",
			  first.where->name, (unsigned long long)first.handle);
	finding(dc, certain, NULL, "%s: %s drops %s (%s)%s", title.s, how.s, jclass_what[k],
		names.s, certain ? "" : ", if they have \"to host\" rules");
	detail(dc, "why",
	       "an accept in jailfw's table ends only jailfw's chain; every base chain on the "
	       "hook must accept the packet");
	if (seen_mark && av == AV_NO)
		detail(dc, "why",
		       "its fwmark accept cannot match: this chain runs before jailfw's (priority "
		       "%d < %d), or on a hook before jailfw marks the packet",
		       c->prio, jprio);
	if (is_firewalld(c) && (k == JC_NET_FWD || k == JC_NET_IN)) {
		fix_firewalld(dc, bad);
		goto out;
	}
	if (is_firewalld(c))
		detail(dc, "note",
		       "firewalld rebuilds its table at every reload: a rule added there with nft "
		       "is gone then; add it again after each reload");
	if (av == AV_YES) {
		fix_mark(&f, "fix");
		goto out;
	}
	for (i = 0, n = 0; i < dc->njails; i++) {
		if (!bad[i] || (k == JC_UID_LO && n))
			continue;
		fix_identity(&f, k, &dc->jails[i], n ? "and" : "fix");
		n++;
	}
	if (av == AV_MAYBE) {
		fix_mark(&f, "or");
		detail(dc, "note",
		       "the fwmark rule works only while jailfw's chain runs first: both run at "
		       "priority %d, where the chain registered last runs first",
		       jprio);
	}
	detail(dc, "why",
	       "jailfw's own chain still filters these packets: the accept only stops this "
	       "chain from dropping them%s",
	       av == AV_NO ? " (the fwmark is not set yet here)" : "");
out:
	free(bad);
	free(fragile);
	sb_free(&title);
	sb_free(&how);
	sb_free(&names);
}

static void check_foreign_chains(struct doc *dc)
{
	size_t i, j, nchecked = 0;
	int k;

	for (i = 0; i < dc->live.rs.nchains; i++) {
		const struct doctor_chain *c = &dc->live.rs.chains[i];

		if (!c->base || !ip_family(c->family) || c->hook > NF_INET_POST_ROUTING ||
		    chain_is_own(&dc->live, c))
			continue;
		nchecked++;
		for (k = 0; k < JC_COUNT; k++) {
			bool any = false;

			for (j = 0; j < dc->njails && !any; j++)
				any = jail_in_class(&dc->jails[j], (enum jclass)k);
			if (any && crosses((enum jclass)k, c->hook))
				check_chain_class(dc, c, (enum jclass)k);
		}
	}
	if (!nchecked)
		ok(dc, "no other table has a base chain on the IP hooks");
}

/*
 * iptables-legacy rules live in x_tables, which nft cannot list: say that
 * they exist, where a FORWARD DROP would stay invisible to us.
 */
static void check_legacy(struct doc *dc)
{
	static const char *const files[] = {LEGACY_TABLES, LEGACY_TABLES6};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		char *text = NULL;

		if (fileio_read(files[i], &text) || !text[0]) {
			free(text);
			continue;
		}
		warning(dc, NULL,
			"iptables-legacy tables are loaded (%s): their chains also see jail "
			"traffic, and doctor cannot read them",
			i ? "ip6tables" : "iptables");
		detail(dc, "fix",
		       "check %s-legacy -S (FORWARD, OUTPUT, INPUT policies and DROP "
		       "rules), or move to iptables-nft",
		       i ? "ip6tables" : "iptables");
		free(text);
	}
}

/*
 * With netns jails, the table arp of the same name keeps their ARP in
 * check (render_netns.c); apply and down handle it with the inet table.
 */
static void check_arp_table(struct doc *dc)
{
	const struct nftinfo_table *t = nftinfo_table_find(&dc->live.nft, NFPROTO_ARP, dc->table);
	size_t i;

	for (i = 0; i < dc->st.njails; i++)
		if (dc->st.jails[i].backend == BACKEND_NETNS)
			break;
	if (i == dc->st.njails)
		return;
	if (table_is_own(t)) {
		ok(dc, "table arp %s is loaded", dc->table);
		return;
	}
	if (t) {
		error(dc, NULL, "table arp %s exists but was not made by jailfw", dc->table);
		detail(dc, "fix", "rename one of them (settings { table NAME } in the policy)");
		return;
	}
	error(dc, NULL,
	      "table arp %s is not loaded: root in a netns jail can fill the host's neighbour "
	      "table",
	      dc->table);
	detail(dc, "fix", "jailfw apply POLICY");
}

static void check_own_table(struct doc *dc)
{
	const struct nftinfo_table *t = nftinfo_table_find(&dc->live.nft, NFPROTO_INET, dc->table);
	bool recorded = dc->st.njails > 0;

	if (table_is_own(t)) {
		ok(dc, "table inet %s is loaded", dc->table);
		check_arp_table(dc);
		return;
	}
	if (t) {
		error(dc, NULL, "table inet %s exists but was not made by jailfw", dc->table);
		detail(dc, "fix", "rename one of them (settings { table NAME } in the policy)");
		return;
	}
	if (!dc->njails)
		return;
	finding(dc, recorded, NULL, "table inet %s is not loaded: no jail is confined%s", dc->table,
		recorded ? ", although jails are recorded as applied" : " (policy not applied)");
	detail(dc, "fix", "jailfw apply POLICY");
}

/* ---- uid jails ---- */

/*
 * /etc/subuid text with every owner written as a number: the names in it
 * (a handful of lines) are resolved once, not each jail's uid looked up.
 * Owners that name no user are dropped: they can map nothing.
 */
static char *subid_numeric(const char *text)
{
	const char *line, *nl, *colon;
	struct strbuf sb;

	sb_init(&sb);
	for (line = text; line && *line; line = nl ? nl + 1 : NULL) {
		size_t len, n;
		char owner[256];
		const struct passwd *pw;

		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		colon = memchr(line, ':', len);
		if (!colon)
			continue;
		n = (size_t)(colon - line);
		if (n && strspn(line, "0123456789") == n) {
			sb_printf(&sb, "%.*s\n", (int)len, line);
			continue;
		}
		if (!n || n >= sizeof(owner))
			continue;
		memcpy(owner, line, n);
		owner[n] = '\0';
		pw = getpwnam(owner);
		if (pw)
			sb_printf(&sb, "%u%.*s\n", (unsigned int)pw->pw_uid, (int)(len - n), colon);
	}
	return sb_steal(&sb);
}

static void check_subids(struct doc *dc, const struct djail *j)
{
	char ur[64] = "", gr[64] = "", who[96];
	const struct passwd *pw;
	const char *name;
	bool has_u, has_g;

	has_u = dc->subuid && doctor_subid_find(dc->subuid, NULL, j->uid, ur, sizeof(ur));
	has_g = dc->subgid && doctor_subid_find(dc->subgid, NULL, j->uid, gr, sizeof(gr));
	if (!has_u && !has_g) {
		ok(dc, "uid jail %s: uid %u has no subordinate ids", j->name, (unsigned int)j->uid);
		return;
	}
	pw = getpwuid(j->uid);
	name = pw ? pw->pw_name : NULL;
	if (name)
		snprintf(who, sizeof(who), "user %.64s (uid %u)", name, (unsigned int)j->uid);
	else
		snprintf(who, sizeof(who), "uid %u", (unsigned int)j->uid);
	if (has_u)
		finding(dc, !dc->userns_off, j->user_loc,
			"uid jail %s: %s has subordinate uids %s in " SUBUID
			": it can run processes as those uids (newuidmap), and their sockets "
			"escape the jail, which matches uid %u only",
			j->name, who, ur, (unsigned int)j->uid);
	else
		warning(dc, j->user_loc,
			"uid jail %s: %s has subordinate gids %s in " SUBGID
			" (harmless for the jail by themselves: its rules match the uid)",
			j->name, who, gr);
	if (has_u && dc->userns_off)
		detail(dc, "note",
		       "user namespaces are off (user.max_user_namespaces = 0), so "
		       "the range cannot be used now");
	if (name)
		detail(dc, "fix",
		       "usermod%s%s%s%s %s; or a netns jail, which confines every uid "
		       "inside it",
		       has_u ? " --del-subuids " : "", has_u ? ur : "",
		       has_g ? " --del-subgids " : "", has_g ? gr : "", name);
	else
		detail(dc, "fix", "remove uid %u's lines from %s%s%s; or use a netns jail",
		       (unsigned int)j->uid, has_u ? SUBUID : "", has_u && has_g ? " and " : "",
		       has_g ? SUBGID : "");
}

/* A running program and a uid it runs as. */
struct proc_ent {
	uint32_t uid;
	char comm[16];
	size_t count; /* processes */
	size_t roots; /* of them, the first of their uid in their line of parents */
};

static int proc_cmp(const void *pa, const void *pb)
{
	const struct proc_ent *a = pa, *b = pb;

	if (a->uid != b->uid)
		return a->uid < b->uid ? -1 : 1;
	return strcmp(a->comm, b->comm);
}

/* One process as /proc/PID/status shows it. */
struct proc_raw {
	pid_t pid, ppid;
	uint32_t uids[3]; /* real, effective, filesystem: the ones a socket can carry */
	size_t nuids;
	char comm[16];
};

static int raw_cmp(const void *pa, const void *pb)
{
	const struct proc_raw *a = pa, *b = pb;

	return (a->pid > b->pid) - (a->pid < b->pid);
}

static bool raw_has_uid(const struct proc_raw *r, uint32_t uid)
{
	size_t i;

	for (i = 0; i < r->nuids; i++)
		if (r->uids[i] == uid)
			return true;
	return false;
}

static bool read_proc(const char *pid, struct proc_raw *r)
{
	char path[300], *status = NULL, *p, *q;
	unsigned int u[4];
	int ppid;
	bool ok = false;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if (fileio_read(path, &status))
		return false;
	p = strstr(status, "\nUid:");
	q = strstr(status, "\nPPid:");
	if (p && q && sscanf(p + 5, "%u %u %u %u", &u[0], &u[1], &u[2], &u[3]) == 4 &&
	    sscanf(q + 6, "%d", &ppid) == 1 && sscanf(status, "Name:\t%15[^\n]", r->comm) == 1) {
		r->pid = (pid_t)atoi(pid);
		r->ppid = ppid;
		r->nuids = 0;
		r->uids[r->nuids++] = u[0];
		if (u[1] != u[0])
			r->uids[r->nuids++] = u[1];
		if (u[3] != u[0] && u[3] != u[1])
			r->uids[r->nuids++] = u[3];
		ok = true;
	}
	free(status);
	return ok;
}

/*
 * Every process, once, by the uids a jail could match it on: real,
 * effective and filesystem uid (a socket takes its owner from the fsuid).
 * Sorted by uid and program, one entry per pair.  A process whose parent
 * runs as the same uid belongs to that parent's service (a launcher such
 * as nsjail or a shell and the program it starts): it is counted, but only
 * the first of a uid in a line of parents names a program of its own.
 */
static void scan_procs(struct doc *dc)
{
	DIR *dir = opendir("/proc");
	struct proc_raw *raw = NULL, key;
	const struct proc_raw *parent;
	struct dirent *de;
	size_t nraw = 0, i, k, n;

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		struct proc_raw r;

		if (isdigit((unsigned char)de->d_name[0]) && read_proc(de->d_name, &r))
			*VEC_PUSH(raw, nraw) = r;
	}
	closedir(dir);
	if (!nraw)
		return;
	qsort(raw, nraw, sizeof(*raw), raw_cmp);
	for (i = 0; i < nraw; i++) {
		key.pid = raw[i].ppid;
		parent = raw[i].ppid > 0 ? bsearch(&key, raw, nraw, sizeof(*raw), raw_cmp) : NULL;
		for (k = 0; k < raw[i].nuids; k++) {
			struct proc_ent *e = VEC_PUSH(dc->procs, dc->nprocs);

			e->uid = raw[i].uids[k];
			snprintf(e->comm, sizeof(e->comm), "%s", raw[i].comm);
			e->count = 1;
			e->roots = !(parent && raw_has_uid(parent, e->uid));
		}
	}
	free(raw);
	qsort(dc->procs, dc->nprocs, sizeof(*dc->procs), proc_cmp);
	for (i = 1, n = 1; i < dc->nprocs; i++) {
		if (!proc_cmp(&dc->procs[i], &dc->procs[n - 1])) {
			dc->procs[n - 1].count++;
			dc->procs[n - 1].roots += dc->procs[i].roots;
		} else {
			dc->procs[n++] = dc->procs[i];
		}
	}
	dc->nprocs = n;
}

/*
 * Several different programs running as one jail's uid share its
 * allowlist: each can use what the jail allows the others.
 */
static void check_processes(struct doc *dc, const struct djail *j)
{
	size_t lo = 0, hi = dc->nprocs, i, nprogs = 0, nprocs = 0;
	struct strbuf list;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (dc->procs[mid].uid < j->uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	sb_init(&list);
	for (i = lo; i < dc->nprocs && dc->procs[i].uid == j->uid; i++) {
		nprocs += dc->procs[i].count;
		if (!dc->procs[i].roots)
			continue;
		if (nprogs < 6)
			sb_printf(&list, "%s%s", nprogs ? ", " : "", dc->procs[i].comm);
		else if (nprogs == 6)
			sb_puts(&list, ", ...");
		nprogs++;
	}
	if (nprogs < 2)
		ok(dc, "uid jail %s: %zu %s of uid %u running", j->name, nprocs,
		   nprocs == 1 ? "process" : "processes", (unsigned int)j->uid);
	else
		warning(dc, j->user_loc,
			"uid jail %s: uid %u runs %zu different programs (%s): they share one "
			"allowlist, each can use what the jail allows the others",
			j->name, (unsigned int)j->uid, nprogs, list.s);
	if (nprogs >= 2)
		detail(dc, "fix", "give each service a user and a jail of its own");
	sb_free(&list);
}

/*
 * A process of this network namespace in a user namespace that maps some
 * uid to uid 0 outside: its sockets belong to root, not to the uid it
 * runs as inside, so no uid jail confines it.  nsjail's "--user 4242"
 * (without ":4242") and a root-started "bwrap --unshare-user --uid 4242"
 * do this: the process looks like uid 4242 inside and is root to
 * nftables.  It is an error when the uid inside is a uid jail's; other
 * such processes (root-started sandboxes) are warnings.  One finding per
 * user namespace.  Launched by a uid jail's user (jailfw exec), a
 * launcher can map only that uid, and nothing falls in.
 */
static void check_userns(struct doc *dc)
{
	char net[64] = "", user[64] = "", path[300], buf[64];
	uint64_t *seen = NULL;
	size_t nseen = 0, i;
	struct dirent *de;
	DIR *dir;
	ssize_t n;

	n = readlink("/proc/self/ns/net", net, sizeof(net) - 1);
	if (n <= 0 || readlink("/proc/self/ns/user", user, sizeof(user) - 1) <= 0)
		return;
	dir = opendir("/proc");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char *map = NULL, *line, *save = NULL, comm[32] = "?";
		unsigned long long in, out, cnt, root_in = 0;
		const struct djail *hit = NULL;
		struct stat st;
		bool maps_root = false;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		n = readlink(path, buf, sizeof(buf) - 1);
		if (n <= 0 || (buf[n] = '\0', strcmp(buf, net)))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/user", de->d_name);
		n = readlink(path, buf, sizeof(buf) - 1);
		if (n <= 0 || (buf[n] = '\0', !strcmp(buf, user)) || stat(path, &st))
			continue;
		for (i = 0; i < nseen && seen[i] != (uint64_t)st.st_ino; i++)
			;
		if (i < nseen)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/uid_map", de->d_name);
		if (fileio_read(path, &map))
			continue;
		for (line = strtok_r(map, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (sscanf(line, "%llu %llu %llu", &in, &out, &cnt) == 3 && out == 0 &&
			    cnt) {
				maps_root = true;
				root_in = in;
			}
		free(map);
		if (!maps_root)
			continue;
		*VEC_PUSH(seen, nseen) = st.st_ino;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		map = NULL;
		if (!fileio_read(path, &map))
			snprintf(comm, sizeof(comm), "%.*s", (int)strcspn(map, "\n"), map);
		free(map);
		for (i = 0; i < dc->njails && !hit; i++)
			if (dc->jails[i].backend == BACKEND_UID && dc->jails[i].has_uid &&
			    dc->jails[i].uid == root_in)
				hit = &dc->jails[i];
		if (root_in == 0 && !hit)
			continue; /* root inside and out: nothing pretends to be a jail */
		finding(
		    dc, hit != NULL, hit ? hit->user_loc : NULL,
		    "process %s (%s) runs as uid %llu in a user namespace that maps it to uid 0 "
		    "outside: its sockets are root's, %s",
		    de->d_name, comm, root_in,
		    hit ? "and the uid jail's rules do not confine it" : "no uid jail confines it");
		if (hit)
			detail(dc, "jail", "%s (uid %llu)", hit->name, root_in);
		detail(dc, "fix",
		       "map the uid to itself (nsjail --user %llu:%llu, not --user %llu), or start "
		       "the launcher as that user (jailfw exec JAIL -- LAUNCHER ...): a user "
		       "namespace can then map only that uid",
		       root_in, root_in, root_in);
	}
	closedir(dir);
	free(seen);
}

/* ---- netns jails ---- */

static void check_dns(struct doc *dc, const struct djail *j)
{
	char path[PATH_MAX], first[INET6_ADDRSTRLEN], host[PREFIX_STRLEN] = "";
	char *text = NULL;
	unsigned int n, nloop;
	struct strbuf what;
	bool own;
	int err;
	const struct loc *loc = j->has_dns ? j->dns_loc : j->loc;

	sb_init(&what);
	snprintf(path, sizeof(path), NETNS_ETC "/%s/resolv.conf", j->name);
	err = fileio_read(path, &text);
	own = !err;
	if (err == -ENOENT)
		err = fileio_read(RESOLV, &text);
	if (err && err != -ENOENT) {
		warning(dc, loc, "netns jail %s: cannot read %s: %s", j->name, own ? path : RESOLV,
			strerror(-err));
		goto out;
	}
	n = doctor_resolv_nameservers(err ? "" : text, &nloop, first);
	if (j->has_v4) {
		struct prefix h;

		jail_addr_host(&j->v4, &h);
		addr_str(&h, host);
	} else if (j->has_v6) {
		struct prefix h;

		jail_addr_host(&j->v6, &h);
		addr_str(&h, host);
	}
	if (!nloop) {
		ok(dc, "netns jail %s: resolver%s in %s not on loopback", j->name,
		   n == 1 ? "" : "s", own ? path : RESOLV);
		goto out;
	}
	if (own)
		sb_printf(&what, "%s names", path);
	else if (!err)
		sb_printf(&what, "it has no %s, so it uses the host's " RESOLV ", which names",
			  path);
	else
		sb_printf(&what, "it has no %s and the host no " RESOLV ", so glibc uses", path);
	if (nloop == n)
		finding(
		    dc, true, loc,
		    "netns jail %s: %s the resolver %s: inside the jail, loopback is the jail's "
		    "own, where no resolver listens",
		    j->name, what.s, first);
	else
		warning(dc, loc,
			"netns jail %s: %s the resolver %s among others: inside the jail, loopback "
			"is the jail's own, so every lookup waits for it to time out first",
			j->name, what.s, first);
	if (host[0])
		detail(dc, "fix",
		       "in jail %s: \"dns %s\" and \"allow udp/53,tcp/53 to host\", with the "
		       "host's resolver listening on %s (systemd-resolved: "
		       "DNSStubListenerExtra=%s); or \"dns\" with a resolver outside and an allow "
		       "rule for udp/53,tcp/53 to it",
		       j->name, host, host, host);
	else
		detail(dc, "fix", "give jail %s a \"dns\" statement with a resolver it can reach",
		       j->name);
out:
	sb_free(&what);
	free(text);
}

/* ---- sysctls ---- */

/*
 * Forwarding for every interface, turned on by jailfw: the host routes
 * whatever reaches it, between any two interfaces, not only the jails'
 * traffic, and a program started later (Docker) takes it for the
 * administrator's choice and does not protect itself.  jailfw turns IPv4
 * forwarding on per interface (docs/ruleset.md), so this is IPv6, or a
 * record left by an older jailfw.
 */
static void check_global_forwarding(struct doc *dc, const struct state_sysctl *s, const char *name)
{
	bool v6 = !strcmp(s->key, "net/ipv6/conf/all/forwarding");

	if ((!v6 && strcmp(s->key, "net/ipv4/conf/all/forwarding")) || strcmp(s->set, "1") ||
	    strcmp(s->old, "0"))
		return;
	warning(dc, NULL,
		"%s is 1 because jailfw turned it on (it was 0): the host forwards %s between all "
		"its interfaces, not only for its jails",
		name, v6 ? "IPv6" : "IPv4");
	detail(dc, "why",
	       "a program that starts later (Docker) sees forwarding on and does not protect "
	       "itself; Linux before 6.17 has no per-interface IPv6 forwarding");
	detail(dc, "fix",
	       "a forward chain of the host's own with policy drop that accepts jailfw's fwmark "
	       "(meta mark & 0x%08x != 0) and what else the host should route",
	       dc->fwmark);
}

static void check_sysctls(struct doc *dc)
{
	size_t i;

	for (i = 0; i < dc->st.nsysctls; i++) {
		const struct state_sysctl *s = &dc->st.sysctls[i];
		char name[PATH_MAX], *cur = NULL;
		int err;

		sysctl_name(s->key, name, sizeof(name));
		err = sysctl_read(s->key, &cur);
		if (err) {
			warning(dc, NULL, "%s, which apply set to %s, cannot be read: %s%s", name,
				s->set, strerror(-err),
				err == -ENOENT ? " (the interface is gone?)" : "");
			free(cur);
			continue;
		}
		if (!strcmp(cur, s->set)) {
			ok(dc, "%s is %s, as apply set it", name, cur);
			check_global_forwarding(dc, s, name);
			free(cur);
			continue;
		}
		error(dc, NULL, "%s is %s, but apply set it to %s: it changed since", name, cur,
		      s->set);
		if (strstr(s->key, "forwarding"))
			detail(dc, "why",
			       "without forwarding, netns jails reach nothing past the host");
		else if (strstr(s->key, "accept_ra"))
			detail(dc, "why",
			       "with forwarding on, the host ignores router advertisements there "
			       "unless accept_ra is 2, and loses its IPv6 default route");
		detail(dc, "fix",
		       "find what reset it (a sysctl.d file, NetworkManager, systemd-networkd), "
		       "then jailfw apply POLICY again");
		free(cur);
	}
}

/* ------------------------------------------------------------------ */
/* Jails                                                                */

static bool has_host_rule(const struct jail *j)
{
	size_t r, d;

	for (r = 0; r < j->nrules; r++)
		for (d = 0; d < j->rules[r].ndests; d++)
			if (j->rules[r].dests[d].kind == DEST_HOST)
				return true;
	return false;
}

static void jails_from_policy(struct doc *dc, const struct policy *p)
{
	size_t i;

	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];
		struct djail *dj = VEC_PUSH(dc->jails, dc->njails);

		memset(dj, 0, sizeof(*dj));
		dj->name = j->name;
		dj->backend = j->backend;
		dj->has_uid = j->uid_resolved;
		dj->uid = j->uid;
		dj->loc = &j->loc;
		dj->user_loc = j->user ? &j->user_loc : &j->loc;
		dj->dns_loc = &j->dns_loc;
		dj->has_dns = j->ndns > 0;
		dj->to_host = has_host_rule(j) ? TRI_YES : TRI_NO;
		if (j->backend == BACKEND_NETNS) {
			jail_ifname_host(j, dj->host_if);
			dj->has_v4 = j->has_v4;
			dj->has_v6 = j->has_v6;
			dj->v4 = j->v4;
			dj->v6 = j->v6;
		}
	}
}

static void jails_from_state(struct doc *dc)
{
	size_t i;

	for (i = 0; i < dc->st.njails; i++) {
		const struct state_jail *sj = &dc->st.jails[i];
		struct djail *dj = VEC_PUSH(dc->jails, dc->njails);

		memset(dj, 0, sizeof(*dj));
		dj->name = sj->name;
		dj->backend = sj->backend;
		dj->has_uid = sj->has_user;
		dj->uid = sj->uid;
		dj->to_host = TRI_UNSET;
		dj->has_dns = sj->resolv;
		snprintf(dj->host_if, sizeof(dj->host_if), "%s", sj->host_if);
		dj->has_v4 = sj->has_v4;
		dj->has_v6 = sj->has_v6;
		dj->v4 = sj->v4;
		dj->v6 = sj->v6;
	}
}

/* ---- conntrack helpers ---- */

#define CT_HELPER_SYSCTL "/proc/sys/net/netfilter/nf_conntrack_helper"

struct ct_helper_list {
	struct doc *dc;
	size_t n;
};

/*
 * A helper (FTP, SIP, ...) reads a connection's payload and makes
 * conntrack expect the connections it announces; their packets are
 * classified related.  Nothing to fix: jailfw does not let that open
 * anything (docs/ruleset.md), but the admin should know what jailfw
 * does about it.
 */
static void ct_helper_note(struct doc *dc, size_t *n, const char *what)
{
	fprintf(dc->out, "note: %s\n", what);
	if (!(*n)++)
		detail(dc, "jailfw",
		       "a connection a helper expects is checked against the jail's allow rules "
		       "like a new one; a jail's related packets pass only as ICMP errors of its "
		       "own connections");
}

static int ct_helper_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ct_helper_list *l = data;
	struct nftnl_obj *obj = nftnl_obj_alloc();
	const char *table, *name, *type;
	struct strbuf sb;

	if (!obj)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, obj) < 0 ||
	    nftnl_obj_get_u32(obj, NFTNL_OBJ_TYPE) != NFT_OBJECT_CT_HELPER) {
		nftnl_obj_free(obj);
		return MNL_CB_OK;
	}
	table = nftnl_obj_get_str(obj, NFTNL_OBJ_TABLE);
	name = nftnl_obj_get_str(obj, NFTNL_OBJ_NAME);
	type = nftnl_obj_get_str(obj, NFTNL_OBJ_CT_HELPER_NAME);
	sb_init(&sb);
	sb_printf(&sb, "conntrack helper \"%s\" (%s over %s) in table %s %s", name ? name : "?",
		  type ? type : "?",
		  nftnl_obj_get_u8(obj, NFTNL_OBJ_CT_HELPER_L4PROTO) == IPPROTO_UDP ? "udp" : "tcp",
		  doctor_family_name(nftnl_obj_get_u32(obj, NFTNL_OBJ_FAMILY)),
		  table ? table : "?");
	ct_helper_note(l->dc, &l->n, sb.s);
	sb_free(&sb);
	nftnl_obj_free(obj);
	return MNL_CB_OK;
}

/*
 * Name the conntrack helpers configured on this host: nft ct helper
 * objects of every table, and automatic assignment by port (the
 * nf_conntrack_helper sysctl, on kernels before 6.0).
 */
static void check_ct_helpers(struct doc *dc, bool quiet)
{
	struct ct_helper_list l = {dc, 0};
	struct nftnl_obj *obj = nftnl_obj_alloc();
	char buf[1024], *text = NULL;
	struct nlmsghdr *nlh;

	if (quiet || !obj) {
		nftnl_obj_free(obj);
		return;
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFPROTO_UNSPEC, NLM_F_DUMP,
				    (uint32_t)time(NULL));
	nftnl_obj_set_u32(obj, NFTNL_OBJ_TYPE, NFT_OBJECT_CT_HELPER);
	nftnl_obj_nlmsg_build_payload(nlh, obj);
	nftnl_obj_free(obj);
	if (nftinfo_talk(nlh, ct_helper_cb, &l) == 0 && !l.n)
		ok(dc, "no conntrack helper objects in any table");
	if (!fileio_read(CT_HELPER_SYSCTL, &text) && atoi(text) == 1)
		ct_helper_note(dc, &l.n,
			       "net.netfilter.nf_conntrack_helper is 1: the kernel assigns "
			       "conntrack helpers by port to every connection");
	free(text);
}

int doctor_run(const struct policy *p, const struct doctor_opts *o, struct diag *d)
{
	struct doc dc;
	size_t i;
	int err, status = EXIT_OK;

	memset(&dc, 0, sizeof(dc));
	dc.out = o->out ? o->out : stdout;
	dc.verbose = o->verbose;
	state_init(&dc.st);
	err = state_load(&dc.st, d);
	if (err) {
		diag_error(d, NULL, 0, "doctor: cannot read " STATE_FILE ": %s", strerror(-err));
		status = err == -EINVAL ? EXIT_INVALID : exitcode_kernel(err);
		goto out;
	}
	if (p) {
		jails_from_policy(&dc, p);
		dc.fwmark = policy_fwmark(p);
		dc.table = policy_table(p);
	} else {
		jails_from_state(&dc);
		dc.fwmark = DEFAULT_FWMARK;
		dc.table = dc.st.table ? dc.st.table : DEFAULT_TABLE;
	}
	dc.live.fwmark = dc.fwmark;
	err = live_read(&dc.live);
	if (err) {
		diag_error(d, NULL, 0, "doctor: cannot read the ruleset: %s", strerror(-err));
		status = exitcode_kernel(err);
		goto out;
	}
	dc.have_live = true;

	if (dc.st.phase != STATE_IDLE) {
		warning(&dc, NULL, "an %s was interrupted half-way",
			dc.st.phase == STATE_APPLYING ? "apply" : "down");
		detail(&dc, "fix", "jailfw apply POLICY (or jailfw down) finishes or undoes it");
	}
	check_own_table(&dc);
	if (dc.njails)
		check_foreign_chains(&dc);
	check_legacy(&dc);
	check_ct_helpers(&dc, o->quiet);
	if (count_backend(&dc, BACKEND_UID)) {
		char *text = NULL;

		if (!fileio_read(SUBUID, &text))
			dc.subuid = subid_numeric(text);
		free(text);
		text = NULL;
		if (!fileio_read(SUBGID, &text))
			dc.subgid = subid_numeric(text);
		free(text);
		text = NULL;
		dc.userns_off =
		    !fileio_read("/proc/sys/user/max_user_namespaces", &text) && atoi(text) == 0;
		free(text);
		scan_procs(&dc);
		check_userns(&dc);
	}
	for (i = 0; i < dc.njails; i++) {
		const struct djail *j = &dc.jails[i];

		if (j->backend == BACKEND_UID && j->has_uid) {
			check_subids(&dc, j);
			check_processes(&dc, j);
		} else if (j->backend == BACKEND_NETNS) {
			check_dns(&dc, j);
		}
	}
	check_sysctls(&dc);

	if (!dc.njails && !o->quiet)
		fprintf(dc.out, "doctor: no jails%s; checked the host only\n",
			p ? " in the policy"
			  : " applied (give a POLICY to check one before applying)");
	if (dc.errors || dc.warnings)
		fprintf(dc.out, "doctor: %u %s, %u %s\n", dc.errors,
			dc.errors == 1 ? "problem defeats the policy"
				       : "problems defeat the policy",
			dc.warnings, dc.warnings == 1 ? "warning" : "warnings");
	else if (!o->quiet)
		fprintf(dc.out, "doctor: no problems found (%zu %s: %zu uid, %zu netns)\n",
			dc.njails, dc.njails == 1 ? "jail" : "jails",
			count_backend(&dc, BACKEND_UID), count_backend(&dc, BACKEND_NETNS));
	status = dc.errors ? EXIT_INVALID : EXIT_OK;
	if (fflush(dc.out) || ferror(dc.out))
		status = EXIT_INVALID;
out:
	live_free(&dc.live);
	free(dc.subuid);
	free(dc.subgid);
	free(dc.procs);
	free(dc.jails);
	state_free(&dc.st);
	return status;
}
