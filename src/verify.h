/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jailfw verify (docs/design.md, "Where each verb enters"): run the policy
 * in a throwaway sandbox and probe every allow rule and its near misses from
 * inside each jail.
 *
 * The sandbox never touches the host's network.  verify forks a child
 * that unshares a network and a mount namespace; that child is the
 * sandbox's "host".  Its / is made private, fresh tmpfs mounts cover /run
 * (and so /run/netns, /run/jailfw) and /etc/netns, so nothing it creates
 * propagates out or lands on disk.  It builds an "internet" namespace
 * behind a veth wan, applies the policy with apply_policy() (settings wan
 * pointed at the sandbox's wan), then sends probes (probe.h) and collects
 * what arrived.  Everything it made lives in its own namespaces: when the
 * child and its helpers exit, or are killed, the kernel frees it all.
 * Nothing needs undoing on any path, Ctrl-C included.
 */
#ifndef JAILFW_VERIFY_H
#define JAILFW_VERIFY_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "model.h"
#include "probe.h"

struct verify_opts {
	bool json;    /* a JSON document instead of the table */
	bool verbose; /* say each sandbox step on stderr */
	bool quiet;   /* no table: only errors and the summary */
	FILE *out;    /* NULL: stdout */
	/*
	 * TEST ONLY: an nft command run in the sandbox between apply and
	 * the probes, so tests can check that verify notices a ruleset that
	 * does not do what the policy says (announced on stderr whenever it
	 * runs).  NULL: taken from $JAILFW_TEST_VERIFY_SABOTAGE in a test
	 * build (testhook.h), never in the installed jailfw.
	 */
	const char *sabotage;
};

/*
 * Verify a checked policy.  Prints the table (or JSON) to o->out, names
 * every contradiction in an error line through d, and returns an exit
 * status: EXIT_OK when every probe came out as the policy says,
 * EXIT_VERIFY on any contradiction, EXIT_KERNEL when the sandbox could not
 * probe (a probe was untestable), or what apply_policy() returned when the
 * sandbox refused the policy; EXIT_PRIV without the privileges to build a
 * sandbox.  Interrupted by SIGINT or SIGTERM: 128 + the signal, after the
 * sandbox is gone.
 */
int verify_policy(const struct policy *p, const struct verify_opts *o, struct diag *d);

/*
 * The run without the report: build the sandbox for p, send plan's
 * probes, fill in their observations.  Returns EXIT_OK when the probes
 * ran (whatever they saw), else as verify_policy.  For compare --probe.
 */
int verify_run(const struct policy *p, struct probe_plan *plan, const struct verify_opts *o,
	       struct diag *d);

enum verify_verdict {
	VERDICT_OK,	    /* observed what the policy says */
	VERDICT_FAIL,	    /* contradicts the policy */
	VERDICT_UNTESTABLE, /* the sandbox could not tell (no answer, or the control failed) */
};

enum verify_verdict verify_verdict(const struct probe *pr);

/* One located error per contradiction and per untestable probe. */
void verify_report_errors(const struct policy *p, const struct probe_plan *plan, struct diag *d);

#endif
