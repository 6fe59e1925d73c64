/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apply and down as library calls, so that the CLI, verify's sandbox and
 * the tests all run exactly the same sequence.  Both return an exit status
 * (enum jailfw_exit in exitcode.h; docs/design.md, "Exit statuses") and report through d.
 */
#ifndef JAILFW_APPLY_H
#define JAILFW_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "exitcode.h"
#include "model.h"
#include "updown.h"

struct apply_opts {
	bool no_wait; /* lock held elsewhere: EXIT_LOCKED instead of waiting */
	bool verbose; /* say each step and change on stderr */
	bool timing;  /* -vv: and the time each step took */
	/* start or stop jail (a name in the policy) in this apply (updown.h) */
	enum updown_change change;
	const char *jail;
};

struct apply_result {
	bool loaded;  /* the ruleset was (re)loaded; false: already in force */
	bool unknown; /* whether it was loaded is not known (nftload_run) */
	/*
	 * What this apply changed in the kernel: the ruleset load counts
	 * one, and so does each provisioning step (prov_plan_changes) and
	 * each table removed.  0: the policy was in force already.
	 */
	size_t nchanges;
	size_t nuid, nnetns; /* jails by backend */
	/*
	 * SIGHUP, SIGINT, SIGQUIT, SIGTERM or SIGPIPE, if one arrived while the apply
	 * held the lock (0: none).  Held until the apply had finished or
	 * rolled back and the lock was released, then taken off the pending
	 * set: the caller reports its result and ends with apply_reraise().
	 */
	int signal;
};

/*
 * Apply a checked policy, failing closed (docs/design.md, "Fail closed"),
 * without the jails `jailfw stop` took down (updown.h).
 */
int apply_policy(const struct policy *p, const struct apply_opts *o, struct apply_result *res,
		 struct diag *d);

/*
 * Remove everything jailfw made in this network namespace.  table NULL:
 * the table of the last apply (else the default).  *used is set to the
 * table's name (malloc'd, also on failure), *removed to whether it was
 * there to remove, *signal as apply_result's signal.
 */
int apply_down(const char *table, const struct apply_opts *o, char **used, bool *removed,
	       int *signal, struct diag *d);

/*
 * Raise sig (from apply_result's signal or apply_down) under the process's
 * own disposition: with the default one, the process ends by it.
 */
void apply_reraise(int sig);

void apply_count_jails(const struct policy *p, size_t *nuid, size_t *nnetns);

/*
 * What apply, diff and down need (enum caps_need): CAP_NET_ADMIN always,
 * CAP_SYS_ADMIN when p (NULL for down) has a netns jail or the state
 * records one (recorded_netns): its namespace is made, entered or removed.
 */
unsigned int apply_needs(const struct policy *p, bool recorded_netns);

/*
 * Check those in the effective set before anything is read from or
 * changed in the kernel (the state file is read to know); false after
 * reporting "VERB needs CAP_X" and why through d.
 */
bool apply_require_caps(const char *verb, const struct policy *p, struct diag *d);

#endif
