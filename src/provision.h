/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Provisioning of netns jails: per jail a named namespace, a veth pair
 * NAME-out (host, alias "jailfw:NAME") / NAME-in (jail), addresses .1 and
 * .2 (::1 and ::2), the jail's lo up, default routes in the jail via the
 * host side, /etc/netns/NAME/resolv.conf when the jail has dns; and the
 * host's forwarding sysctls, only as far as the jails need them.
 *
 * The only atomic step of an apply is the nftables commit (nftload), so
 * provisioning is split around it and fails closed:
 *
 *   state_lock(wait, &fd)             serialise applies (-EBUSY: held)
 *   prov_stage(policy, &plan, d)      create what is missing with the host
 *                                     ends of new veths DOWN; fix addresses
 *                                     and routes in place; take DOWN the
 *                                     links of jails that left the policy;
 *                                     forwarding sysctls
 *   ... the caller commits the ruleset that confines the new jails ...
 *   prov_commit(plan, d)              new links UP; jails that left the
 *                                     policy torn down; state written
 *   prov_plan_free(plan); state_unlock(fd)
 *
 * On any failure (of stage, of the ruleset commit, or of commit itself)
 * the caller calls prov_rollback(plan, d), which removes what this run
 * created, in reverse order.  Before the commit it also brings back up
 * the links stage took down (the old ruleset, still in force, knows those
 * jails); once commit has begun it never brings a link up that the
 * committed ruleset does not confine.
 *
 * down is split the same way:
 *
 *   prov_down_cut(&plan, d)           every jailfw link DOWN
 *   ... the caller deletes the table (prov_plan_table(plan) names it) ...
 *   prov_down_finish(plan, d)         namespaces removed (the kernel then
 *                                     frees their veths), resolv.conf files
 *                                     removed, sysctls restored, state gone
 *
 * Idempotent: stage dumps links, addresses and routes first and sends no
 * netlink write at all when everything already matches; a second apply of
 * the same policy changes nothing in the kernel.
 *
 * Ownership: a namespace is jailfw's when the state file has an entry for
 * it and its nsfs inode matches; a host link when its alias is
 * "jailfw:NAME".  Anything else of the same name is never adopted,
 * changed or deleted: stage returns -EEXIST with an error naming it, before
 * changing anything (the CLI exits 5).
 *
 * A wan interface the host does not have is an error of the policy, found
 * before anything changes: stage and diff return -ENXIO, with an error
 * located at its name (the CLI exits 1).
 *
 * Every function returns 0 or -errno and reports through d.  Everything
 * acts on the caller's current network namespace as "the host".
 *
 * The implementation is one file per step or resource (provision*.c,
 * listed in docs/design.md); provision_int.h is what they share.
 */
#ifndef JAILFW_PROVISION_H
#define JAILFW_PROVISION_H

#include <stddef.h>

#include "diag.h"
#include "model.h"

struct prov_plan;

/*
 * How stage looks at a kept jail (docs/design.md, "What an apply checks").
 * PROV_CHECK_FULL enters every jail's namespace and reads its links,
 * addresses and routes; PROV_CHECK_CHANGED enters only the namespaces of
 * jails that are new, changed, or fail the cheap check from the host (the
 * namespace's identity, the host end's dump), for the delta apply.
 */
enum prov_check {
	PROV_CHECK_FULL,
	PROV_CHECK_CHANGED,
};

/*
 * Stage the netns jails of p (other backends are ignored; a jail that
 * switched to another backend counts as removed).  *planp is set whenever
 * the call may have changed something, even on failure: pass it to
 * prov_rollback (on failure) or prov_commit, then prov_plan_free.
 */
int prov_stage(const struct policy *p, enum prov_check check, struct prov_plan **planp,
	       struct diag *d);

/*
 * What stage would do, without changing anything (for `jailfw diff`): the
 * plan's change list says it.  Conflicts are reported as by stage.
 */
int prov_diff(const struct policy *p, struct prov_plan **planp, struct diag *d);

/* After the ruleset commit.  On failure, call prov_rollback. */
int prov_commit(struct prov_plan *plan, struct diag *d);

/* Undo this run (see above).  NULL is a no-op. */
int prov_rollback(struct prov_plan *plan, struct diag *d);

/*
 * Down, step 1: set every jailfw host link down (the jails are cut off
 * before their rules go).  *planp is set as by stage.
 */
int prov_down_cut(struct prov_plan **planp, struct diag *d);

/*
 * Down, step 2, after the table is deleted: remove every namespace and
 * file jailfw made and restore the sysctls it changed (those that still
 * hold the value jailfw set).  A namespace that was replaced by one jailfw
 * did not create is left alone and reported: -EEXIST, after the rest.
 */
int prov_down_finish(struct prov_plan *plan, struct diag *d);

/*
 * The nftables table recorded by the last apply, or NULL: the one down
 * deletes (it has no policy to ask), and the one an apply must delete
 * when the policy now names another (settings { table }).
 */
const char *prov_plan_table(const struct prov_plan *plan);

/* The previous apply was killed before it finished (this one completes it). */
bool prov_plan_resumed(const struct prov_plan *plan);

/*
 * What the plan changed (or, from prov_diff, would change), one line per
 * change: "create jail foobar: namespace, veth foobar-out/foobar-in",
 * "set net.ipv6.conf.all.forwarding = 1 (was 0)".  Sysctl changes are
 * also reported as notes through d when made.
 */
size_t prov_plan_changes(const struct prov_plan *plan, const char *const **lines);

void prov_plan_free(struct prov_plan *plan);

#endif
