/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TEST-ONLY hooks.  They are read from the environment so that the
 * end-to-end suite can drive the real binary into failure paths a healthy
 * kernel never takes, and stop or kill it at an exact moment of an apply
 * or a down.  They can only make jailfw fail, stop or die; never do more.
 *
 * They exist only in a test build: src/testhook.c compiled with
 * -DJAILFW_TESTHOOKS, which the Makefile links into BUILD/jailfw-testhooks
 * and the unit tests.  In BUILD/jailfw, the binary `make install`
 * installs (and refuses to install otherwise), every function below does
 * nothing, no variable is read and not even their names are in it.
 *
 * Each variable holds a comma-separated list of names:
 *
 *   JAILFW_TEST_FAULT=nft-commit    testhook_fault("nft-commit") is true:
 *                                   nftload makes the kernel refuse the
 *                                   ruleset transaction
 *   JAILFW_TEST_KILL_AT=STEP        testhook_point(STEP) raises SIGKILL
 *   JAILFW_TEST_PAUSE_AT=STEP       testhook_point(STEP) prints
 *                                   "jailfw: test pause at STEP" on stderr
 *                                   and raises SIGSTOP (a test can then
 *                                   deliver a signal at a known point and
 *                                   SIGCONT)
 *
 * and JAILFW_TEST_VERIFY_SABOTAGE one nft command (verify.h).
 *
 * The steps, each named right after it happened (where a step happens per
 * jail, after the first jail's):
 *
 *   apply: lock, netns-created, veth-created, addrs-set, sysctls-written,
 *          handover-loaded (apply.c, a full replace), delta-ready (apply.c,
 *          a delta: just before its transaction), ruleset-committed,
 *          conntrack-swept (apply.c), links-up, netns-removed (jails that
 *          left the policy), state-written
 *   down:  lock, links-down, table-deleted, netns-removed,
 *          sysctls-restored, state-removed
 *   the forked load of a whole table (nftload.c, in the child; not a dry
 *   run): load-started (before the commit), load-committed (after it,
 *   before the child reports); handover-load-started and
 *   handover-load-committed for the handover table's load
 *
 * A point is passed whether or not the step had anything to do this time
 * (sysctls-written with every value already right), so that a test that
 * names it always stops there.  Each step fires once per process.
 */
#ifndef JAILFW_TESTHOOK_H
#define JAILFW_TESTHOOK_H

#include <stdbool.h>

#define TESTHOOK_FAULT_ENV "JAILFW_TEST_FAULT"
#define TESTHOOK_KILL_ENV "JAILFW_TEST_KILL_AT"
#define TESTHOOK_PAUSE_ENV "JAILFW_TEST_PAUSE_AT"
#define TESTHOOK_SABOTAGE_ENV "JAILFW_TEST_VERIFY_SABOTAGE"

/* $JAILFW_TEST_FAULT names the fault name. */
bool testhook_fault(const char *name);
/* $JAILFW_TEST_FAULT names any fault at all (a cheap first test). */
bool testhook_any_fault(void);
/* The variable's name, for the message of an injected failure. */
const char *testhook_fault_var(void);

/* A step of apply or down has just happened: die or stop here if asked. */
void testhook_point(const char *step);

/*
 * The nft command verify runs in its sandbox (verify.h), NULL if none;
 * *var the variable's name, for its announcement.
 */
const char *testhook_sabotage(const char **var);

#endif
