// SPDX-License-Identifier: GPL-2.0-or-later
#include "apply.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "counters.h"
#include "nftload.h"
#include "provision.h"
#include "record.h"
#include "render.h"
#include "state.h"
#include "util.h"

int apply_kernel_status(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
	case EPROTONOSUPPORT:
	case EAFNOSUPPORT:
	case EOPNOTSUPP:
	case ENOSYS:
		return EXIT_PRIV;
	}
	return EXIT_KERNEL;
}

/* Exit status for a failure of the provisioner. */
static int prov_status(int err)
{
	return err == -EEXIST ? EXIT_CONFLICT : apply_kernel_status(err);
}

static void say(const struct apply_opts *o, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void say(const struct apply_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (!o->verbose)
		return;
	fputs("jailfw: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Every change the provisioner made (sysctl changes are always noted). */
static void say_changes(const struct apply_opts *o, const struct prov_plan *plan)
{
	const char *const *lines;
	size_t i, n = plan ? prov_plan_changes(plan, &lines) : 0;

	for (i = 0; i < n; i++)
		say(o, "%s", lines[i]);
}

void apply_count_jails(const struct policy *p, size_t *nuid, size_t *nnetns)
{
	size_t i;

	*nuid = *nnetns = 0;
	for (i = 0; i < p->njails; i++) {
		if (p->jails[i].backend == BACKEND_UID)
			(*nuid)++;
		else if (p->jails[i].backend == BACKEND_NETNS)
			(*nnetns)++;
	}
}

/* Take /run/jailfw/lock: applies and downs never interleave. */
static int take_lock(const struct apply_opts *o, int *fd, struct diag *d)
{
	int ret = state_lock(!o->no_wait, fd);

	if (ret == -EBUSY) {
		diag_error(d, NULL, 0, "another jailfw apply or down holds %s", STATE_LOCK);
		return EXIT_LOCKED;
	}
	if (ret) {
		diag_error(d, NULL, 0, "cannot lock %s: %s", STATE_LOCK, strerror(-ret));
		return apply_kernel_status(ret);
	}
	return EXIT_OK;
}

static int foreign_table(const char *table, const char *action, const char *hint,
			 struct diag *d)
{
	diag_error(d, NULL, 0,
		   "table inet %s exists but was not made by jailfw (its comment does not say "
		   "\"managed by jailfw\"); %s",
		   table, action);
	diag_note(d, NULL, 0, "%s", hint);
	return EXIT_CONFLICT;
}

/*
 * Replacing the table in one transaction ("table T {}; delete table T;
 * table T {...}") is atomic for the ruleset, but not for a packet in
 * flight, because of two things the kernel does:
 *
 *  - a base chain is hooked in when the batch is *prepared*, and among
 *    hooks of equal priority the newest runs first (nf_hook_entries_grow()
 *    inserts a new entry before the existing ones of its priority).  The
 *    new table's chains therefore run before the old table's, with the
 *    same "priority filter - 10";
 *  - nft_do_chain() reads the generation once, when a packet enters a base
 *    chain, and uses that generation's rules.  Until the commit flips the
 *    generation, the new chains have no rules (policy accept); after it,
 *    the old chains have none.
 *
 * A packet that enters the new chain just before the flip and the old one
 * just after meets no rule at all and leaves unfiltered.  It happens: the
 * e2e test reload-load.sh, flooding a disallowed port during 300 reloads,
 * saw a few datagrams and SYNs per run arrive at the far end, from uid and
 * netns jails alike.
 *
 * So a replace goes through a second table of jailfw's, T-handover (the
 * '-' keeps it apart from any table a policy can name), that holds the new
 * ruleset for as long as the swap takes:
 *
 *   1. load the new ruleset into T-handover: it is hooked in front of T,
 *      which stays as it was, so every packet still meets T's rules whole;
 *   2. replace T as before: T-handover does not change in that commit, so
 *      every packet meets its rules whole, whichever side of the flip;
 *   3. delete T-handover: T, unchanged in that commit, filters every packet.
 *
 * A jail's packet passes only what every table it meets accepts, so during
 * the swap it gets what both the old and the new policy allow, and never
 * more.  The masquerade and DNAT chains come along, so that no new
 * connection goes out with a null NAT binding either.  The cost is a
 * second load of the ruleset per replace.
 */
static int handover_begin(const struct policy *p, const struct apply_opts *o, char *name,
			  struct diag *d)
{
	struct policy hp = *p;
	char *text;
	int ret;

	ret = nftload_table_state(name, d);
	if (ret < 0)
		return apply_kernel_status(ret);
	if (ret == NFTLOAD_TABLE_FOREIGN)
		return foreign_table(name, "nothing was applied",
				     "jailfw replaces its table through this one: remove it", d);
	/* An apply killed half-way may have left one: replaced like T. */
	hp.settings.table = name;
	text = render_policy_str(&hp, RENDER_REPLACE);
	say(o, "loading the new ruleset into table inet %s first, so that no packet passes "
	       "unfiltered while table inet %s is replaced",
	    name, policy_table(p));
	ret = nftload_run(&hp, text, false, d);
	free(text);
	return ret ? apply_kernel_status(ret) : EXIT_OK;
}

/*
 * Step 3; also what every apply and down does with a T-handover left over
 * by an apply killed between steps 1 and 3.  Failing to remove it is only a
 * warning: it holds a ruleset that a later apply replaces and removes, and
 * while it stays, a jail's packet needs its accept as well as T's, so
 * nothing passes that T does not allow.
 */
static void handover_remove(const struct apply_opts *o, const char *name, struct diag *d)
{
	struct diag quiet;
	FILE *devnull = fopen("/dev/null", "we");
	int ret;

	/* nftload reports the failure as an error; here it is a warning. */
	diag_init(&quiet, devnull ? devnull : stderr);
	ret = nftload_delete_table(name, &quiet);
	diag_free(&quiet);
	if (devnull)
		fclose(devnull);
	if (ret)
		diag_warning(d, NULL, 0,
			     "cannot remove table inet %s: %s; it filters jails' packets too "
			     "until the next jailfw apply or down removes it",
			     name, strerror(-ret));
	else
		say(o, "removed table inet %s", name);
}

/* A T-handover left over from an apply killed half-way: remove it. */
static void handover_leftover(const struct apply_opts *o, const char *name, struct diag *d)
{
	if (nftload_table_state(name, d) == NFTLOAD_TABLE_OURS)
		handover_remove(o, name, d);
}

/*
 * The order keeps every jail confined at every moment (DESIGN section 3,
 * "fail closed"): the provisioner creates what is new with its links down,
 * the ruleset that confines it is committed in one transaction (through
 * the handover table when it replaces one in force), and only then do the
 * new links come up.  Any failure rolls the provisioning back and leaves
 * the previous ruleset in force.
 */
int apply_policy(const struct policy *p, const struct apply_opts *o, struct apply_result *res,
		 struct diag *d)
{
	const char *table = policy_table(p), *old_table;
	struct prov_plan *plan = NULL;
	int status = EXIT_OK, ret, lockfd = -1;
	char *text = NULL, *handover = NULL;
	bool current, replace;

	memset(res, 0, sizeof(*res));
	apply_count_jails(p, &res->nuid, &res->nnetns);
	if (res->nnetns && !caps_require("apply", CAPS_NEED_NET_ADMIN | CAPS_NEED_SYS_ADMIN, d))
		return EXIT_PRIV;
	status = take_lock(o, &lockfd, d);
	if (status)
		return status;
	ret = nftload_table_state(table, d);
	if (ret < 0) {
		status = apply_kernel_status(ret);
		goto out;
	}
	if (ret == NFTLOAD_TABLE_FOREIGN) {
		status = foreign_table(table, "nothing was applied",
				       "give jailfw its own table: settings { table NAME }", d);
		goto out;
	}
	text = render_policy_str(p, RENDER_REPLACE);
	replace = ret == NFTLOAD_TABLE_OURS;
	current = replace && record_is_current(p, text, d);
	handover = nftload_handover_name(table);

	ret = prov_stage(p, &plan, d);
	if (ret) {
		status = prov_status(ret);
		goto rollback;
	}
	if (current) {
		say(o, "table inet %s is already what the policy renders; not reloading it "
		       "(its counters keep counting)",
		    table);
		handover_leftover(o, handover, d);
	} else {
		struct counters_stats cs;
		char *load;

		/*
		 * The live counters are read before the handover table goes
		 * in: what is counted from here to the replace is lost, but
		 * the record of the last apply is still pending when nobody
		 * ran status since, and its digests are cheap to take only
		 * while the generation is the one that apply made (counters.h).
		 */
		load = counters_carry(p, text, &cs);
		if (replace) {
			status = handover_begin(p, o, handover, d);
			if (status) {
				free(load);
				goto rollback;
			}
		}
		say(o, "loading table inet %s (%zu bytes) in one transaction", table, strlen(text));
		if (cs.kept || cs.reset || cs.edited)
			say(o, "counters: %zu chains keep theirs, %zu changed and start from zero, "
			       "%zu were edited by hand and start from zero",
			    cs.kept, cs.reset, cs.edited);
		ret = nftload_run(p, load, false, d);
		free(load);
		if (replace)
			handover_remove(o, handover, d);
		else
			handover_leftover(o, handover, d);
		if (ret) {
			status = apply_kernel_status(ret);
			goto rollback;
		}
		res->loaded = true;
	}
	ret = prov_commit(plan, d);
	if (ret) {
		status = prov_status(ret);
		goto rollback;
	}
	/* The policy moved to another table: the old one confines nothing now. */
	old_table = prov_plan_table(plan);
	if (old_table && strcmp(old_table, table) &&
	    nftload_table_state(old_table, d) == NFTLOAD_TABLE_OURS &&
	    nftload_delete_table(old_table, d) == 0) {
		record_forget(old_table);
		counters_forget(old_table);
	}
	record_save(p, text);
	ret = counters_save(p, text);
	if (ret)
		say(o, "cannot record the committed table (status will not detect changes to it): %s",
		    strerror(-ret));
	say_changes(o, plan);
	goto out;

rollback:
	prov_rollback(plan, d);
	diag_note(d, NULL, 0, "%s",
		  res->loaded ? "the ruleset was committed but provisioning failed: run apply again"
			      : "the previous ruleset is still in force");
out:
	prov_plan_free(plan);
	if (lockfd >= 0)
		state_unlock(lockfd);
	free(handover);
	free(text);
	return status;
}

/*
 * In the reverse order of apply: every jail's link goes down first, so no
 * jail is ever unconfined and connected at once; then the table goes; then
 * the namespaces, files and sysctls jailfw made.
 */
int apply_down(const char *table, const struct apply_opts *o, char **used, bool *removed,
	       struct diag *d)
{
	struct prov_plan *plan = NULL;
	int status, ret, lockfd = -1;
	char *handover;

	*removed = false;
	*used = xstrdup(table ? table : DEFAULT_TABLE);
	status = take_lock(o, &lockfd, d);
	if (status)
		return status;
	ret = prov_down_cut(&plan, d);
	if (ret) {
		status = prov_status(ret);
		goto out;
	}
	if (!table && prov_plan_table(plan)) {
		free(*used);
		*used = xstrdup(prov_plan_table(plan));
	}
	table = *used;
	ret = nftload_table_state(table, d);
	if (ret < 0) {
		status = apply_kernel_status(ret);
		goto out;
	}
	if (ret == NFTLOAD_TABLE_FOREIGN) {
		status = foreign_table(table, "not removing it",
				       "down removes only the table jailfw made", d);
		goto out;
	}
	if (ret == NFTLOAD_TABLE_OURS) {
		ret = nftload_delete_table(table, d);
		if (ret) {
			status = apply_kernel_status(ret);
			goto out;
		}
		record_forget(table);
		counters_forget(table);
		*removed = true;
	}
	handover = nftload_handover_name(table);
	handover_leftover(o, handover, d);
	free(handover);
	ret = prov_down_finish(plan, d);
	if (ret)
		status = prov_status(ret);
	say_changes(o, plan);
out:
	prov_plan_free(plan);
	if (lockfd >= 0)
		state_unlock(lockfd);
	return status;
}
