/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * After apply: remove the conntrack entries of netns jails that the policy
 * now in force no longer admits (ctnetlink over libmnl).
 *
 * The ruleset alone already stops what such a jail sends on them: its
 * packets in a connection's original direction meet the allowlist at every
 * packet (docs/ruleset.md).  What the entry still lets through is the
 * other way: the far end's replies, a UDP stream it keeps pushing.  With
 * the entry gone, the next such packet is new: addressed to the host's
 * masquerade address, it reaches the host, not the jail.
 *
 * uid jails are left alone on purpose.  Their jail's packets in the
 * original direction are stopped by the same allowlist, and the uid
 * backend does not filter what comes in: deleting the entry would make the
 * far end's next packet a new connection *towards* the jail, and the
 * jail's next packet a reply to it, which passes.
 *
 * An entry is judged against the policy as its rules read (probe.h's
 * language), never more strictly than the ruleset: "to host" admits the
 * host's own addresses (and broadcast), a rule without "to" everything
 * else, a prefix what it contains, multicast either; a published port its
 * connections through DNAT.  Entries that no jail opened (the host's
 * connections to a jail, other traffic) are never touched, and entries a
 * jail's unchanged rules admit stay as they are.
 */
#ifndef JAILFW_CTSWEEP_H
#define JAILFW_CTSWEEP_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* A request: a header and one tuple (ctsweep_parse bounds it). */
#define CTSWEEP_MSG_MAX 1024

/* One conntrack entry, as much of it as the judgement needs. */
struct ctsweep_entry {
	int family; /* AF_INET or AF_INET6 */
	uint8_t l4proto;
	struct prefix orig_src, orig_dst, reply_src; /* full-length addresses */
	uint16_t orig_dport, reply_sport;	     /* host order; 0 without ports */
	uint32_t status;			     /* IPS_* */
	/* To delete it again: the original tuple as the kernel sent it. */
	const struct nlattr *orig_tuple;
	bool has_zone, has_id;
	uint16_t zone;
	uint32_t id;
};

/* Addresses of the host itself, from getifaddrs(): "to host". */
struct ctsweep_local {
	struct prefix *addrs; /* full-length; IPv4 broadcast addresses too */
	size_t n;
};

enum ctsweep_verdict {
	CTSWEEP_OTHER,	  /* no netns jail opened it, none has it published */
	CTSWEEP_ADMITTED, /* a jail's, and the policy admits it: it stays */
	CTSWEEP_STALE,	  /* a jail's, and the policy no longer admits it */
};

struct ctsweep_pfx {
	struct prefix pfx;
	size_t jail; /* index into policy.jails */
};

/* Jails' prefixes, sorted, to find an address's jail fast. */
struct ctsweep_pfxs {
	struct ctsweep_pfx *v;
	size_t n;
};

/*
 * The prefixes of the netns jails to judge (judge: by index into
 * policy.jails; NULL: every one) and, only once an entry needs them
 * (ctsweep_judge), those of the others: an index that follows the change,
 * not the policy.
 */
struct ctsweep_index {
	const struct policy *p;
	const struct ctsweep_local *local;
	const bool *judge;
	struct ctsweep_pfxs sel, all;
	bool all_read;
};

/*
 * Pure parts, unit-tested without a kernel.  Build the dump request of
 * every conntrack entry (both families), or the deletion of entry e, into
 * buf (CTSWEEP_MSG_MAX bytes); parse one dump message into e
 * (pointing into nlh); judge e against the index of a policy (jail, may
 * be NULL, is set to the index of the jail the entry is of).  An entry of
 * a jail the index does not judge is CTSWEEP_OTHER.
 */
struct nlmsghdr *ctsweep_build_dump(void *buf, uint32_t seq);
struct nlmsghdr *ctsweep_build_delete(void *buf, uint32_t seq, const struct ctsweep_entry *e);
bool ctsweep_parse(const struct nlmsghdr *nlh, struct ctsweep_entry *e);
void ctsweep_index_init(struct ctsweep_index *x, const struct policy *p,
			const struct ctsweep_local *local, const bool *judge);
void ctsweep_index_free(struct ctsweep_index *x);
enum ctsweep_verdict ctsweep_judge(struct ctsweep_index *x, const struct ctsweep_entry *e,
				   size_t *jail);

struct ctsweep_stats {
	size_t seen;	/* entries read */
	size_t deleted; /* stale entries removed */
};

/*
 * Remove every stale entry of p's netns jails.  Returns 0 or -errno (the
 * dump failed; deletions that race with the entry's own end are not
 * errors).  Nothing to do, and no socket opened, without netns jails.
 */
int ctsweep_run(const struct policy *p, struct ctsweep_stats *st);

/*
 * The same for the jails judge selects (by index into p->jails; NULL:
 * every one): entries of the others are left as they are, and with none
 * selected nothing is dumped.  After a delta apply, only the jails it
 * changed (delta_jails, delta.h) can have entries the policy no longer
 * admits (docs/design.md, "What an apply checks").
 */
int ctsweep_run_some(const struct policy *p, const bool *judge, struct ctsweep_stats *st);

#endif
