// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * doctor: rule classification on libnftnl rules built in memory as nft and
 * iptables-nft build them, the walk through chains (policies, jumps,
 * gotos, returns, the fwmark and loopback accepts), and the parsers of
 * /etc/subuid and resolv.conf.  No kernel, no privilege.
 */
#include "doctor.h"

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

#define FWMARK 0x00200000u

static struct nftnl_rule *cur;

static void begin(void)
{
	if (cur)
		nftnl_rule_free(cur);
	cur = nftnl_rule_alloc();
}

static void add(struct nftnl_expr *e)
{
	nftnl_rule_add_expr(cur, e);
}

static void meta_load(uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	add(e);
}

static void meta_set(uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
	add(e);
}

static void bitwise(uint32_t reg, uint32_t mask)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	uint32_t zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set_data(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	add(e);
}

static void cmp(uint32_t reg, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set_data(e, NFTNL_EXPR_CMP_DATA, data, len);
	add(e);
}

static void cmp32(uint32_t reg, uint32_t op, uint32_t v)
{
	cmp(reg, op, &v, 4);
}

static void verdict(int v, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	add(e);
}

static void plain(const char *name)
{
	add(nftnl_expr_alloc(name));
}

/* iptables-nft's -m mark --mark M/MASK [!]: struct xt_mark_mtinfo1. */
static void xt_mark(uint32_t mark, uint32_t mask, uint8_t invert)
{
	struct nftnl_expr *e = nftnl_expr_alloc("match");
	/* libnftnl keeps (and later frees) the pointer given for MT_INFO. */
	uint8_t *info = calloc(1, 12);

	memcpy(info, &mark, 4);
	memcpy(info + 4, &mask, 4);
	info[8] = invert;
	nftnl_expr_set_str(e, NFTNL_EXPR_MT_NAME, "mark");
	nftnl_expr_set_u32(e, NFTNL_EXPR_MT_REV, 1);
	nftnl_expr_set_data(e, NFTNL_EXPR_MT_INFO, info, 12);
	add(e);
}

static void xt_target(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc("target");

	nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 0);
	add(e);
}

static struct doctor_match m;

static void ct_load(uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
	add(e);
}

static void lookup(uint32_t sreg, const char *set, uint32_t flags)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (flags)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, flags);
	add(e);
}

static enum doctor_rule_kind kind(uint32_t fwmark)
{
	return doctor_classify_rule(cur, fwmark, &m);
}

/* "meta mark & MASK OP VALUE accept" as nft emits it. */
static void mark_rule(uint32_t mask, uint32_t op, uint32_t value, int v)
{
	begin();
	meta_load(NFT_META_MARK, NFT_REG_1);
	bitwise(NFT_REG_1, mask);
	cmp32(NFT_REG_1, op, value);
	plain("counter");
	verdict(v, NULL);
}

/* iptables-nft's -m owner --uid-owner LO[-HI] [!]: struct xt_owner_match_info. */
static void xt_owner(uint32_t lo, uint32_t hi, uint8_t match, uint8_t invert)
{
	struct nftnl_expr *e = nftnl_expr_alloc("match");
	uint8_t *info = calloc(1, 20);

	memcpy(info, &lo, 4);
	memcpy(info + 4, &hi, 4);
	info[16] = match;
	info[17] = invert;
	nftnl_expr_set_str(e, NFTNL_EXPR_MT_NAME, "owner");
	nftnl_expr_set_u32(e, NFTNL_EXPR_MT_REV, 1);
	nftnl_expr_set_data(e, NFTNL_EXPR_MT_INFO, info, 20);
	add(e);
}

static void test_classify(void)
{
	char lo[16] = "lo", lo0[16] = "lo0", jail[16] = "web-out";

	begin();
	plain("counter");
	verdict(NF_DROP, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_DROP, "counter drop: unconditional drop");
	begin();
	plain("log");
	plain("reject");
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_DROP, "log reject: unconditional drop");
	begin();
	plain("counter");
	xt_target("REJECT");
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_DROP, "iptables -j REJECT: unconditional drop");
	begin();
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT, "accept: unconditional accept");
	begin();
	plain("counter");
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "counter alone: no verdict");
	begin();
	plain("limit");
	verdict(NF_DROP, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "limit drop: conditional");
	begin();
	meta_load(NFT_META_L4PROTO, NFT_REG_1);
	cmp(NFT_REG_1, NFT_CMP_EQ, "\x06", 1);
	plain("payload");
	cmp32(NFT_REG_1, NFT_CMP_EQ, 0x1600);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "tcp dport 22 accept: conditional");
	begin();
	meta_load(NFT_META_L4PROTO, NFT_REG_1);
	meta_set(NFT_META_MARK, NFT_REG_1);
	plain("counter");
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT,
		"meta mark set ... accept: a statement, unconditional");

	/* The fwmark accept, the ways it is written. */
	mark_rule(FWMARK, NFT_CMP_NEQ, 0, NF_ACCEPT);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT_MARK, "meta mark & 0x00200000 != 0 accept");
	T_CHECK(kind(0x00100000) == DOCTOR_RULE_OTHER, "... under another fwmark: conditional");
	T_CHECK(kind(0x00300000) == DOCTOR_RULE_ACCEPT_MARK,
		"... under a two-bit fwmark containing the bit");
	mark_rule(FWMARK, NFT_CMP_EQ, FWMARK, NF_ACCEPT);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT_MARK, "meta mark & 0x00200000 == 0x00200000");
	mark_rule(FWMARK, NFT_CMP_EQ, 0, NF_ACCEPT);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "meta mark & 0x00200000 == 0: the opposite");
	mark_rule(0x00300000, NFT_CMP_EQ, 0x00300000, NF_ACCEPT);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER,
		"== on a mask wider than the fwmark: not certain");
	mark_rule(FWMARK, NFT_CMP_NEQ, 0, NF_DROP);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "mark test with drop: conditional drop");
	mark_rule(FWMARK, NFT_CMP_NEQ, 0, NF_ACCEPT);
	meta_load(NFT_META_IIF, NFT_REG_1);
	cmp32(NFT_REG_1, NFT_CMP_EQ, 1);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "mark test and another condition: conditional");
	begin();
	xt_mark(FWMARK, FWMARK, 0);
	plain("counter");
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT_MARK,
		"iptables -m mark --mark 0x200000/0x200000 -j ACCEPT");
	begin();
	xt_mark(FWMARK, FWMARK, 1);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "iptables -m mark ! --mark: conditional");

	/* Loopback. */
	begin();
	meta_load(NFT_META_IIF, NFT_REG_1);
	cmp32(NFT_REG_1, NFT_CMP_EQ, 1);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT_LO, "iif lo accept");
	begin();
	meta_load(NFT_META_IIFNAME, NFT_REG_1);
	cmp(NFT_REG_1, NFT_CMP_EQ, lo, 16);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT_IIFNAME && !strcmp(m.ifname, "lo"),
		"iifname \"lo\" accept (nft pads names to 16 bytes)");
	begin();
	meta_load(NFT_META_IIFNAME, NFT_REG_1);
	cmp(NFT_REG_1, NFT_CMP_EQ, lo0, 16);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT_IIFNAME && !strcmp(m.ifname, "lo0"),
		"iifname \"lo0\" accept: that name");
	begin();
	meta_load(NFT_META_OIFNAME, NFT_REG_1);
	cmp(NFT_REG_1, NFT_CMP_EQ, jail, 8);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT_OIFNAME && !strcmp(m.ifname, "web-out"),
		"oifname \"web-out\" accept (iptables-nft: name and NUL)");
	begin();
	meta_load(NFT_META_IIFNAME, NFT_REG_1);
	cmp(NFT_REG_1, NFT_CMP_EQ, "web", 3);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER,
		"iifname \"web*\" (a prefix): not one interface");
	begin();
	meta_load(NFT_META_IIFNAME, NFT_REG_1);
	cmp(NFT_REG_1, NFT_CMP_NEQ, jail, 16);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "iifname != \"web-out\" accept: not it");
	begin();
	meta_load(NFT_META_IIF, NFT_REG_1);
	cmp32(NFT_REG_1, NFT_CMP_EQ, 2);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "iif 2 accept: not loopback");
	begin();
	meta_load(NFT_META_SKUID, NFT_REG_1);
	cmp32(NFT_REG_1, NFT_CMP_EQ, 1099);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT_SKUID && m.uid_lo == 1099 && m.uid_hi == 1099,
		"meta skuid 1099 accept");
	begin();
	xt_owner(1000, 1999, 1, 0);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT_SKUID && m.uid_lo == 1000 && m.uid_hi == 1999,
		"iptables -m owner --uid-owner 1000-1999 -j ACCEPT");
	begin();
	xt_owner(1099, 1099, 1, 1);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "-m owner ! --uid-owner: not it");
	begin();
	xt_owner(1099, 1099, 3, 0);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "-m owner --uid-owner --gid-owner: narrower");
	begin();
	meta_load(NFT_META_SKUID, NFT_REG_1);
	meta_load(NFT_META_MARK, NFT_REG_1);
	cmp32(NFT_REG_1, NFT_CMP_EQ, 1099);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER,
		"a register overwritten before the compare: not the uid");

	/* Jumps. */
	begin();
	plain("counter");
	verdict(NFT_JUMP, "DOCKER-USER");
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_JUMP && m.target && !strcmp(m.target, "DOCKER-USER"),
		"counter jump DOCKER-USER: unconditional jump with its target");
	begin();
	verdict(NFT_GOTO, "x");
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_GOTO, "goto x");
	begin();
	verdict(NFT_RETURN, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_RETURN, "return");
	begin();
	meta_load(NFT_META_IIF, NFT_REG_1);
	cmp32(NFT_REG_1, NFT_CMP_EQ, 3);
	verdict(NFT_JUMP, "x");
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "iif 3 jump x: conditional");

	/* firewalld: dispatch to zones by interface name, conntrack accepts. */
	begin();
	meta_load(NFT_META_IIFNAME, NFT_REG_1);
	cmp(NFT_REG_1, NFT_CMP_EQ, jail, 16);
	verdict(NFT_GOTO, "filter_FWD_trusted");
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_GOTO_IFNAME && !m.oif && !strcmp(m.ifname, "web-out") &&
		    !strcmp(m.target, "filter_FWD_trusted"),
		"iifname \"web-out\" goto filter_FWD_trusted");
	begin();
	meta_load(NFT_META_OIFNAME, NFT_REG_1);
	cmp(NFT_REG_1, NFT_CMP_EQ, jail, 16);
	verdict(NFT_JUMP, "x");
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_JUMP_IFNAME && m.oif, "oifname \"web-out\" jump x");
	begin();
	ct_load(NFT_CT_STATE, NFT_REG_1);
	bitwise(NFT_REG_1, DOCTOR_CT_ESTABLISHED | DOCTOR_CT_RELATED);
	cmp32(NFT_REG_1, NFT_CMP_NEQ, 0);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT_CTSTATE &&
		    m.ctstate == (DOCTOR_CT_ESTABLISHED | DOCTOR_CT_RELATED) && !m.ctset,
		"ct state established,related accept: the mask");
	begin();
	ct_load(NFT_CT_STATE, NFT_REG_1);
	lookup(NFT_REG_1, "__set0", 0);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_ACCEPT_CTSTATE && m.ctset && !strcmp(m.ctset, "__set0"),
		"ct state { established, related } accept: the set");
	begin();
	ct_load(NFT_CT_STATE, NFT_REG_1);
	lookup(NFT_REG_1, "__set0", NFT_LOOKUP_F_INV);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "ct state != { ... } accept: not recognised");
	begin();
	ct_load(NFT_CT_STATE, NFT_REG_1);
	bitwise(NFT_REG_1, 1);
	cmp32(NFT_REG_1, NFT_CMP_NEQ, 0);
	verdict(NF_DROP, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "ct state invalid drop: conditional");
	begin();
	ct_load(NFT_CT_STATUS, NFT_REG_1);
	bitwise(NFT_REG_1, 0x20);
	cmp32(NFT_REG_1, NFT_CMP_NEQ, 0);
	verdict(NF_ACCEPT, NULL);
	T_CHECK(kind(FWMARK) == DOCTOR_RULE_OTHER, "ct status dnat accept: not a ct state");
	nftnl_rule_free(cur);
	cur = NULL;
}

/* ---- walking ---- */

static struct doctor_ruleset rs;

static struct doctor_chain *chain(const char *name, bool base, bool policy_drop)
{
	struct doctor_chain *c;

	rs.chains = realloc(rs.chains, (rs.nchains + 1) * sizeof(*rs.chains));
	c = &rs.chains[rs.nchains++];
	memset(c, 0, sizeof(*c));
	c->table = strdup("t");
	c->name = strdup(name);
	c->family = NFPROTO_INET;
	c->base = base;
	c->policy_drop = policy_drop;
	c->type = strdup("filter");
	return c;
}

/* Rules are added by chain index: chain pointers move with realloc. */
static void rule(size_t ci, enum doctor_rule_kind k, const char *target, uint64_t handle)
{
	struct doctor_chain *c = &rs.chains[ci];
	struct doctor_rule *r;

	c->rules = realloc(c->rules, (c->nrules + 1) * sizeof(*c->rules));
	r = &c->rules[c->nrules++];
	r->kind = k;
	r->target = target ? strdup(target) : NULL;
	r->handle = handle;
}

/* Empty a chain, as a firewall that rewrites it does. */
static void clear_rules(size_t ci)
{
	struct doctor_chain *c = &rs.chains[ci];
	size_t i;

	for (i = 0; i < c->nrules; i++)
		free(c->rules[i].target);
	free(c->rules);
	c->rules = NULL;
	c->nrules = 0;
}

static enum doctor_fate fate(size_t ci, bool marked, bool loopback, struct doctor_walk *w)
{
	struct doctor_pkt p = {.marked = marked, .loopback = loopback};

	doctor_walk_chain(&rs, &rs.chains[ci], &p, w);
	return w->fate;
}

static enum doctor_fate fate_pkt(size_t ci, const struct doctor_pkt *p, struct doctor_walk *w)
{
	doctor_walk_chain(&rs, &rs.chains[ci], p, w);
	return w->fate;
}

static void reset(void)
{
	doctor_ruleset_free(&rs);
}

static void test_walk(void)
{
	struct doctor_walk w;

	chain("out", true, true);
	T_CHECK(fate(0, true, false, &w) == DOCTOR_DROPPED_POLICY, "empty chain, policy drop");
	reset();

	chain("out", true, false);
	rule(0, DOCTOR_RULE_OTHER, NULL, 3);
	rule(0, DOCTOR_RULE_DROP, NULL, 4);
	T_CHECK(fate(0, true, false, &w) == DOCTOR_DROPPED_RULE && w.handle == 4 && w.where &&
		    !strcmp(w.where->name, "out"),
		"policy accept, terminal drop: dropped by that rule");
	reset();

	chain("out", true, false);
	rule(0, DOCTOR_RULE_OTHER, NULL, 3);
	T_CHECK(fate(0, false, false, &w) == DOCTOR_PASSES,
		"policy accept, conditional rules: passes");
	reset();

	chain("out", true, true);
	rule(0, DOCTOR_RULE_OTHER, NULL, 1);
	rule(0, DOCTOR_RULE_ACCEPT_MARK, NULL, 2);
	T_CHECK(fate(0, true, false, &w) == DOCTOR_ACCEPTED_MARK,
		"fwmark accept saves a marked packet");
	T_CHECK(fate(0, false, false, &w) == DOCTOR_DROPPED_POLICY && w.mark_rule_seen,
		"... not an unmarked one (and says it saw the rule)");
	reset();

	chain("out", true, false);
	rule(0, DOCTOR_RULE_DROP, NULL, 1);
	rule(0, DOCTOR_RULE_ACCEPT_MARK, NULL, 2);
	T_CHECK(fate(0, true, false, &w) == DOCTOR_DROPPED_RULE,
		"a fwmark accept after the drop is too late");
	reset();

	/*
	 * firewalld: replies accepted by conntrack state, new packets sent
	 * to a zone by their input interface; public rejects, trusted
	 * accepts.
	 */
	{
		struct doctor_pkt fwd = {.iif = "fj-out", .ctstate = DOCTOR_CT_NEW};
		struct doctor_pkt reply = {
		    .iif = "wan0", .oif = "fj-out", .ctstate = DOCTOR_CT_ESTABLISHED};
		struct doctor_rule *r;

		chain("filter_FORWARD", true, false);
		chain("filter_FORWARD_ZONES", false, false);
		chain("filter_FWD_public", false, false);
		chain("filter_FWD_trusted", false, false);
		rule(0, DOCTOR_RULE_ACCEPT_CTSTATE, NULL, 1);
		rs.chains[0].rules[0].ctstate = DOCTOR_CT_ESTABLISHED | DOCTOR_CT_RELATED;
		rule(0, DOCTOR_RULE_JUMP, "filter_FORWARD_ZONES", 2);
		rule(0, DOCTOR_RULE_DROP, NULL, 3);
		rule(1, DOCTOR_RULE_GOTO, "filter_FWD_public", 4);
		rule(2, DOCTOR_RULE_DROP, NULL, 5);
		rule(3, DOCTOR_RULE_ACCEPT, NULL, 6);
		T_CHECK(fate_pkt(0, &reply, &w) == DOCTOR_ACCEPTED_CT,
			"firewalld: a reply is accepted as established");
		T_CHECK(fate_pkt(0, &fwd, &w) == DOCTOR_DROPPED_RULE && w.handle == 5,
			"firewalld: the jail's new packet, public zone: rejected there");
		/* firewall-cmd --zone=trusted --add-interface=fj-out */
		clear_rules(1);
		rule(1, DOCTOR_RULE_GOTO_IFNAME, "filter_FWD_trusted", 7);
		rule(1, DOCTOR_RULE_GOTO, "filter_FWD_public", 8);
		r = &rs.chains[1].rules[0];
		r->oif = false;
		snprintf(r->ifname, sizeof(r->ifname), "fj-out");
		T_CHECK(fate_pkt(0, &fwd, &w) == DOCTOR_ACCEPTED,
			"firewalld: fj-out in the trusted zone: accepted there");
		fwd.iif = "other-out";
		T_CHECK(fate_pkt(0, &fwd, &w) == DOCTOR_DROPPED_RULE && w.handle == 5,
			"... another interface still goes to public");
		fwd.iif = NULL;
		T_CHECK(fate_pkt(0, &fwd, &w) == DOCTOR_DROPPED_RULE,
			"... and an unknown one is not assumed to match");
		r = &rs.chains[1].rules[0]; /* rule() moved it */
		r->oif = true;
		fwd.iif = "fj-out";
		T_CHECK(fate_pkt(0, &fwd, &w) == DOCTOR_DROPPED_RULE,
			"an oifname goto does not match by the input interface");
		reset();
	}

	/* Docker: FORWARD policy drop, jumps to DOCKER-USER first. */
	chain("FORWARD", true, true);
	chain("DOCKER-USER", false, false);
	rule(0, DOCTOR_RULE_JUMP, "DOCKER-USER", 1);
	rule(0, DOCTOR_RULE_OTHER, NULL, 2);
	rule(1, DOCTOR_RULE_RETURN, NULL, 3);
	T_CHECK(fate(0, true, false, &w) == DOCTOR_DROPPED_POLICY,
		"Docker FORWARD DROP, empty DOCKER-USER");
	clear_rules(1);
	rule(1, DOCTOR_RULE_ACCEPT_MARK, NULL, 4);
	rule(1, DOCTOR_RULE_RETURN, NULL, 3);
	T_CHECK(fate(0, true, false, &w) == DOCTOR_ACCEPTED_MARK,
		"fwmark accept in DOCKER-USER ends FORWARD too");
	reset();

	/* goto: the rest of the calling chain is skipped. */
	chain("base", true, false);
	chain("x", false, false);
	rule(0, DOCTOR_RULE_GOTO, "x", 1);
	rule(0, DOCTOR_RULE_DROP, NULL, 2);
	T_CHECK(fate(0, false, false, &w) == DOCTOR_PASSES, "goto: never comes back to the drop");
	rs.chains[0].rules[0].kind = DOCTOR_RULE_JUMP;
	T_CHECK(fate(0, false, false, &w) == DOCTOR_DROPPED_RULE && w.handle == 2,
		"jump: comes back, then the drop");
	reset();

	/* A goto inside a jumped-to chain resumes in the base chain. */
	chain("base", true, false);
	chain("a", false, false);
	chain("b", false, false);
	rule(0, DOCTOR_RULE_JUMP, "a", 1);
	rule(0, DOCTOR_RULE_DROP, NULL, 9);
	rule(1, DOCTOR_RULE_GOTO, "b", 2);
	rule(1, DOCTOR_RULE_ACCEPT, NULL, 3);
	T_CHECK(fate(0, false, false, &w) == DOCTOR_DROPPED_RULE && w.handle == 9,
		"goto in a jumped chain skips that chain's accept, resumes in base");
	reset();

	/* A drop reached through a jump names the inner chain. */
	chain("base", true, false);
	chain("inner", false, false);
	rule(0, DOCTOR_RULE_JUMP, "inner", 1);
	rule(1, DOCTOR_RULE_DROP, NULL, 7);
	T_CHECK(fate(0, false, false, &w) == DOCTOR_DROPPED_RULE && w.handle == 7 &&
		    !strcmp(w.where->name, "inner"),
		"drop inside a jumped-to chain");
	reset();

	/* return in the base chain: its policy. */
	chain("base", true, true);
	rule(0, DOCTOR_RULE_RETURN, NULL, 1);
	rule(0, DOCTOR_RULE_ACCEPT, NULL, 2);
	T_CHECK(fate(0, false, false, &w) == DOCTOR_DROPPED_POLICY,
		"return in a base chain: policy");
	reset();

	/* Loopback accept: only for packets through lo. */
	chain("in", true, true);
	rule(0, DOCTOR_RULE_ACCEPT_LO, NULL, 1);
	T_CHECK(fate(0, true, true, &w) == DOCTOR_ACCEPTED_ID, "iif lo accept: loopback passes");
	T_CHECK(fate(0, true, false, &w) == DOCTOR_DROPPED_POLICY, "iif lo accept: others dropped");
	reset();

	/* Accepts by identity: only the packets they name. */
	{
		struct doctor_pkt out = {.iif = "web-out"}, back = {.oif = "web-out"},
				  other = {.iif = "db-out"}, mine = {.has_uid = true, .uid = 1099},
				  theirs = {.has_uid = true, .uid = 1100};
		size_t ci;

		ci = 0;
		chain("fwd", true, true);
		rule(ci, DOCTOR_RULE_ACCEPT_IIFNAME, NULL, 1);
		snprintf(rs.chains[ci].rules[0].ifname, 16, "web-out");
		rule(ci, DOCTOR_RULE_ACCEPT_OIFNAME, NULL, 2);
		snprintf(rs.chains[ci].rules[1].ifname, 16, "web-out");
		rule(ci, DOCTOR_RULE_ACCEPT_SKUID, NULL, 3);
		rs.chains[ci].rules[2].uid_lo = 1000;
		rs.chains[ci].rules[2].uid_hi = 1099;
		T_CHECK(fate_pkt(ci, &out, &w) == DOCTOR_ACCEPTED_ID,
			"iifname accept: the jail's packet");
		T_CHECK(fate_pkt(ci, &back, &w) == DOCTOR_ACCEPTED_ID, "oifname accept: its reply");
		T_CHECK(fate_pkt(ci, &other, &w) == DOCTOR_DROPPED_POLICY,
			"another jail's: dropped");
		T_CHECK(fate_pkt(ci, &mine, &w) == DOCTOR_ACCEPTED_ID,
			"skuid range accept: uid 1099");
		T_CHECK(fate_pkt(ci, &theirs, &w) == DOCTOR_DROPPED_POLICY, "uid 1100: dropped");
		reset();
	}

	/* A jump loop, or a jump to a chain that is not there, ends. */
	chain("base", true, false);
	chain("loop", false, false);
	rule(0, DOCTOR_RULE_JUMP, "loop", 1);
	rule(0, DOCTOR_RULE_JUMP, "missing", 2);
	rule(1, DOCTOR_RULE_JUMP, "loop", 3);
	T_CHECK(fate(0, false, false, &w) == DOCTOR_PASSES, "jump loop and missing chain: bounded");
	reset();

	/* Another table's chain of the same name is not followed. */
	chain("base", true, false);
	chain("x", false, false);
	free(rs.chains[1].table);
	rs.chains[1].table = strdup("other");
	rule(0, DOCTOR_RULE_JUMP, "x", 1);
	rule(1, DOCTOR_RULE_DROP, NULL, 2);
	T_CHECK(fate(0, false, false, &w) == DOCTOR_PASSES, "jumps stay within the table");
	reset();
}

static void test_subid(void)
{
	const char *text = "# subordinate ids\n"
			   "alice:100000:65536\n"
			   "1099:200000:1000\n"
			   "bob:x:1\n"
			   "carol:300000:0\n"
			   "al:400000:10";
	char r[64] = "";

	T_CHECK(doctor_subid_find(text, "alice", 1000, r, sizeof(r)), "subuid: by name");
	T_STREQ(r, "100000-165535", "subuid: the range");
	T_CHECK(doctor_subid_find(text, "psa-www", 1099, r, sizeof(r)), "subuid: by number");
	T_STREQ(r, "200000-200999", "subuid: the numeric owner's range");
	T_CHECK(!doctor_subid_find(text, "ali", 1, r, sizeof(r)),
		"subuid: a prefix of a name is not it");
	T_CHECK(doctor_subid_find(text, "al", 1, r, sizeof(r)) && !strcmp(r, "400000-400009"),
		"subuid: last line without a newline");
	T_CHECK(!doctor_subid_find(text, "bob", 1, r, sizeof(r)),
		"subuid: malformed start ignored");
	T_CHECK(!doctor_subid_find(text, "carol", 1, r, sizeof(r)), "subuid: count 0 ignored");
	T_CHECK(!doctor_subid_find(text, NULL, 109, r, sizeof(r)), "subuid: 109 is not 1099");
	T_CHECK(!doctor_subid_find("", "alice", 1, r, sizeof(r)), "subuid: empty file");
}

static void test_resolv(void)
{
	char first[INET6_ADDRSTRLEN];
	unsigned int n, loop;

	n = doctor_resolv_nameservers("# systemd-resolved\nnameserver 127.0.0.53\noptions edns0 "
				      "trust-ad\nsearch .\n",
				      &loop, first);
	T_CHECK(n == 1 && loop == 1, "resolv: the stub resolver is loopback");
	T_STREQ(first, "127.0.0.53", "resolv: named");
	n = doctor_resolv_nameservers(
	    "nameserver 192.0.2.53\nnameserver ::1\nnameserver 127.0.1.1\n", &loop, first);
	T_CHECK(n == 3 && loop == 2, "resolv: two of three loopback");
	T_STREQ(first, "::1", "resolv: the first loopback one");
	n = doctor_resolv_nameservers("nameserver 192.0.2.53\n  nameserver\t198.51.100.53\n", &loop,
				      first);
	T_CHECK(n == 2 && loop == 0 && !first[0], "resolv: none loopback, whitespace tolerated");
	n = doctor_resolv_nameservers("", &loop, first);
	T_CHECK(n == 1 && loop == 1 && !strcmp(first, "127.0.0.1"),
		"resolv: no nameserver means glibc's 127.0.0.1");
	n = doctor_resolv_nameservers("# nameserver 192.0.2.1\nsearch example.org\n", &loop, first);
	T_CHECK(n == 1 && loop == 1, "resolv: a commented nameserver does not count");
	n = doctor_resolv_nameservers("nameserver fe80::1%eth0\n", &loop, first);
	T_CHECK(n == 1 && loop == 0, "resolv: a scoped link-local address is not loopback");
	n = doctor_resolv_nameservers("nameserver ::ffff:127.0.0.53\n", &loop, first);
	T_CHECK(n == 1 && loop == 1, "resolv: v4-mapped loopback");
	n = doctor_resolv_nameservers("nameservers 192.0.2.1\nnameserver 10.0.0.1", &loop, first);
	T_CHECK(n == 1 && loop == 0, "resolv: keyword must be exact; last line without newline");
}

int main(void)
{
	test_classify();
	test_walk();
	test_subid();
	test_resolv();
	return t_done();
}
