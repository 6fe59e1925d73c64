/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jailfw diff POLICY: exactly what apply would change, changing nothing.
 *
 * The ruleset side compares like with like: the live table as libnftables
 * lists it without counter values (nft list -s), and the new rendering
 * loaded into a throwaway user+network namespace and listed the same way
 * (nftload_run_isolated).  Both listings then print every object the way
 * the kernel holds it, so the difference is exact: no false change from
 * formatting, none hidden by it.  (Not nftinfo's libnftnl read: libnftnl
 * words a rule as the kernel's VM runs it, "[ meta load skuid => reg 1 ]",
 * and an element as bytes, "element 0000044b 00000011 00007b00"; only
 * libnftables turns them back into nft's words.)  The lines are grouped by the chain, set
 * or map they belong to, element lists are split one element per line,
 * and each hunk is headed by its object:
 *
 *   --- table inet jailfw (in force)
 *   +++ table inet jailfw (policy.conf)
 *   @@ map uid_ports @@
 *    		elements = {
 *   -			1099 . udp . 123 comment "policy.conf:7" : jump dst_any
 *   +			1099 . udp . 53 comment "policy.conf:7" : jump dst_any
 *   @@ chain uid_db: added @@
 *   +	chain uid_db {
 *   ...
 *
 * The provisioning side is prov_diff()'s change list (namespaces, links,
 * addresses, resolv.conf files, sysctls), one indented line each.
 *
 * Exit status: 0 nothing would change, 1 something would, anything above
 * 1 trouble, as for diff(1): 2 the policy is invalid (main.c) or the
 * command line is, 3 the kernel refused the new ruleset or a read failed,
 * 4 privilege, 5 an object jailfw does not own is in the way.
 */
#ifndef JAILFW_DIFF_H
#define JAILFW_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "model.h"

/*
 * Pure: the grouped diff of two `nft list` listings (either may be ""),
 * malloc'd; "" when they are the same.  The labels go into the ---/+++
 * header lines.
 */
char *diff_listings(const char *old, const char *new, const char *old_label, const char *new_label);

/* Exit status 1: apply would change something. */
#define EXIT_DIFF_CHANGES 1

struct prov_plan;

/* What apply would change, all of it. */
struct diff_result {
	char *ruleset;		/* diff_listings() of the live and the new table; "": same */
	struct prov_plan *plan; /* prov_diff()'s: its change list, the recorded table */
	char *old_table;	/* a table of jailfw's the policy moved away from, or NULL */
	bool changes;		/* any of the above: apply would change the kernel */
};

/*
 * Work out what apply of the checked policy p would change, changing
 * nothing; label names the policy in the ruleset diff's header.  Returns
 * EXIT_OK with *r filled (diff_result_free), or the exit status of a
 * failure (reported through d; *r then holds nothing).  The one place that
 * decides "would change", for diff and whatever else needs to know.
 */
int diff_policy(const struct policy *p, const char *label, struct diff_result *r, struct diag *d);
void diff_result_free(struct diff_result *r);

/*
 * The whole command for a checked policy p read from path: prints the
 * diff (nothing when quiet) and returns the exit status above.
 */
int diff_run(const struct policy *p, const char *path, bool quiet, struct diag *d);

#endif
