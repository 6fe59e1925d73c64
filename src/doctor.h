/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jailfw doctor (docs/design.md, "Where each verb enters"): read the whole
 * live ruleset and the host, and name what would defeat the policy, each
 * finding with what to do about it:
 *
 *  - another table's base chain on a hook jail traffic crosses, with a
 *    drop policy or an unconditional drop or reject that the jail's
 *    packets reach: an nftables accept ends only its own chain, so it
 *    drops what jailfw accepts.  The fix is the fwmark rule
 *    ("meta mark & 0x00200000 != 0 accept") where jailfw has marked the
 *    packet by the time that chain runs, otherwise an accept for the
 *    jails' uids or interfaces (jailfw's own chain still filters them);
 *  - iptables-nft's FORWARD policy DROP (Docker), the same with iptables
 *    commands (into DOCKER-USER where Docker made it);
 *  - a uid jail whose user has subordinate uids (/etc/subuid): with
 *    newuidmap it can run processes as other uids, whose sockets no uid
 *    rule matches; subordinate gids alone are a warning; a uid running
 *    several programs is a warning (they share one allowlist);
 *  - a netns jail whose resolver is a loopback address (127.0.0.53 of
 *    systemd-resolved, or glibc's default without a resolv.conf): inside
 *    the jail loopback is the jail's own, where nothing listens;
 *  - a sysctl jailfw set (forwarding, accept_ra) that has changed since;
 *  - jailfw's table missing while jails are recorded, an interrupted apply.
 *
 * Jails come from POLICY when given (its locations are quoted), else from
 * the state file; sysctls always from the state file.
 */
#ifndef JAILFW_DOCTOR_H
#define JAILFW_DOCTOR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "diag.h"
#include "model.h"

struct doctor_opts {
	FILE *out;    /* findings and the summary; NULL: stdout */
	bool verbose; /* also say what was checked and found fine */
	bool quiet;   /* print nothing when nothing is found */
};

/*
 * Run every check.  p: a checked policy, or NULL to take the jails from
 * the state file.  Returns an exit status: EXIT_OK when nothing defeats
 * the policy (warnings are printed but do not count), EXIT_INVALID (1)
 * when something does, EXIT_PRIV or EXIT_KERNEL when the ruleset or the
 * state file could not be read (reported through d).  Needs
 * CAP_NET_ADMIN (nfnetlink refuses even a listing without it).
 */
int doctor_run(const struct policy *p, const struct doctor_opts *o, struct diag *d);

/* ---- the pure pieces, exposed for the unit tests ---- */

enum doctor_rule_kind {
	DOCTOR_RULE_OTHER,	    /* conditional, or no verdict: may pass on */
	DOCTOR_RULE_DROP,	    /* unconditional drop or reject */
	DOCTOR_RULE_ACCEPT,	    /* unconditional accept */
	DOCTOR_RULE_ACCEPT_MARK,    /* accepts every packet carrying the fwmark */
	DOCTOR_RULE_ACCEPT_LO,	    /* iif lo accept (by index) */
	DOCTOR_RULE_ACCEPT_IIFNAME, /* iifname "NAME" accept */
	DOCTOR_RULE_ACCEPT_OIFNAME, /* oifname "NAME" accept */
	DOCTOR_RULE_ACCEPT_SKUID,   /* meta skuid UID accept (or an owner range) */
	DOCTOR_RULE_ACCEPT_CTSTATE, /* ct state STATES accept (a mask, or a set) */
	DOCTOR_RULE_JUMP,	    /* unconditional jump */
	DOCTOR_RULE_GOTO,	    /* unconditional goto */
	DOCTOR_RULE_JUMP_IFNAME,    /* iifname/oifname "NAME" jump */
	DOCTOR_RULE_GOTO_IFNAME,    /* iifname/oifname "NAME" goto */
	DOCTOR_RULE_RETURN,	    /* unconditional return */
};

/* ct state bits as nftables tests them (NF_CT_STATE_BIT). */
#define DOCTOR_CT_ESTABLISHED 0x02u
#define DOCTOR_CT_RELATED 0x04u
#define DOCTOR_CT_NEW 0x08u

/* What a rule's one condition names, for the ACCEPT_* kinds and jumps. */
struct doctor_match {
	const char *target;	 /* jump/goto: the chain (points into the rule) */
	char ifname[16];	 /* ACCEPT_IIFNAME, ACCEPT_OIFNAME, *_IFNAME */
	bool oif;		 /* JUMP_IFNAME, GOTO_IFNAME: oifname, not iifname */
	uint32_t uid_lo, uid_hi; /* ACCEPT_SKUID */
	uint32_t ctstate;	 /* ACCEPT_CTSTATE: the states, as a mask */
	const char *ctset;	 /* ACCEPT_CTSTATE: or the set holding them */
};

struct nftnl_rule;
/*
 * What one rule does to a packet of a jail, by its expressions: only
 * counter, log and statements that set something leave it unconditional.
 * A rule with exactly one condition and an accept is recognised when the
 * condition is the fwmark test (nft: meta mark & M != 0, or == M with M
 * within fwmark; iptables-nft: the xt mark match), iif lo, iifname or
 * oifname equal to a name, the socket's uid (meta skuid, xt owner), or
 * the conntrack state (ct state established,related: a mask, or a set
 * whose elements the caller reads).  A jump or goto whose one condition is
 * iifname or oifname is recognised too (firewalld dispatches to its zones
 * that way).  Anything else with a condition is OTHER: assumed not to
 * match.
 */
enum doctor_rule_kind doctor_classify_rule(struct nftnl_rule *r, uint32_t fwmark,
					   struct doctor_match *m);

struct doctor_rule {
	enum doctor_rule_kind kind;
	char *target; /* jump/goto */
	char ifname[16];
	bool oif;
	uint32_t uid_lo, uid_hi;
	uint32_t ctstate;
	uint64_t handle;
};

struct doctor_chain {
	char *table, *name;
	uint32_t family; /* NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6, ... */
	bool base;
	uint32_t hook; /* NF_INET_* */
	int32_t prio;
	bool policy_drop;
	char *type; /* "filter", "nat", "route" */
	struct doctor_rule *rules;
	size_t nrules;
};

struct doctor_ruleset {
	struct doctor_chain *chains;
	size_t nchains;
};

void doctor_ruleset_free(struct doctor_ruleset *rs);

/* A jail's packet as a chain sees it. */
struct doctor_pkt {
	bool marked;	 /* carries the fwmark when the chain runs */
	bool loopback;	 /* came in through lo */
	const char *iif; /* input interface name, NULL: unknown or none */
	const char *oif; /* output interface name, NULL: unknown or none */
	bool has_uid;	 /* a local socket's packet */
	uint32_t uid;
	uint32_t ctstate; /* DOCTOR_CT_NEW, or _ESTABLISHED for a reply */
};

enum doctor_fate {
	DOCTOR_PASSES,	      /* reaches the end of the chain, policy accept */
	DOCTOR_ACCEPTED,      /* an unconditional accept */
	DOCTOR_ACCEPTED_MARK, /* the fwmark accept */
	DOCTOR_ACCEPTED_ID,   /* an accept of the jail's interface, uid or lo */
	DOCTOR_ACCEPTED_CT,   /* an accept of its conntrack state */
	DOCTOR_DROPPED_POLICY,
	DOCTOR_DROPPED_RULE,
};

struct doctor_walk {
	enum doctor_fate fate;
	const struct doctor_chain *where; /* DROPPED_RULE: the rule's chain */
	uint64_t handle;		  /* DROPPED_RULE: the rule's handle */
	bool mark_rule_seen;		  /* a fwmark accept was passed over */
};

/*
 * Follow a jail's packet through base chain c (and the chains it jumps or
 * goes to unconditionally, or by the packet's interface name).  Conditional
 * rules other than the recognised accepts are assumed not to match, so
 * they never save the packet.
 */
void doctor_walk_chain(const struct doctor_ruleset *rs, const struct doctor_chain *c,
		       const struct doctor_pkt *pkt, struct doctor_walk *w);

/*
 * The first subordinate id range of a user in /etc/subuid or /etc/subgid
 * text ("owner:start:count" lines, owner a name or a number): true and
 * "start-end" in range.
 */
bool doctor_subid_find(const char *text, const char *name, uid_t id, char *range, size_t len);

/*
 * The nameservers of resolv.conf text: returns how many there are and
 * sets *nloop to how many are loopback addresses (127.0.0.0/8, ::1), the
 * first of which goes to first_loop.  No nameserver line at all means
 * glibc's default, 127.0.0.1: counted as one loopback nameserver.
 */
unsigned int doctor_resolv_nameservers(const char *text, unsigned int *nloop,
				       char first_loop[INET6_ADDRSTRLEN]);

#endif
