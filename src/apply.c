// SPDX-License-Identifier: GPL-2.0-or-later
#include "apply.h"

#include <errno.h>
#include <linux/capability.h>
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

/*
 * EROFS is the environment, not a refusal of this request: a read-only
 * /proc/sys (or /run) is how containers and sandboxed units are built,
 * and no retry fixes it.  A full file system (ENOSPC) is a refusal that
 * passes: exit 3 like any other.
 */
int apply_kernel_status(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
	case EPROTONOSUPPORT:
	case EAFNOSUPPORT:
	case EOPNOTSUPP:
	case ENOSYS:
	case EROFS:
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

static const struct jail *first_netns_jail(const struct policy *p)
{
	size_t i;

	for (i = 0; p && i < p->njails; i++)
		if (p->jails[i].backend == BACKEND_NETNS)
			return &p->jails[i];
	return NULL;
}

unsigned int apply_needs(const struct policy *p, bool recorded_netns)
{
	unsigned int need = CAPS_NEED_NET_ADMIN;

	if (first_netns_jail(p) || recorded_netns)
		need |= CAPS_NEED_SYS_ADMIN;
	return need;
}

/*
 * CAP_SYS_ADMIN is needed not only for the policy's netns jails but also
 * for those the state records: an apply of a uid-only policy, or a down,
 * removes their namespaces (umount), and finding that out at the end,
 * after the ruleset commit, would leave half of it done.  So the state is
 * read (without the lock: a policy cannot be applied and torn down at the
 * same time anyway, and the lock file must not appear when this refuses)
 * and every capability is checked before anything else happens.
 */
bool apply_require_caps(const char *verb, const struct policy *p, struct diag *d)
{
	const struct jail *nj = first_netns_jail(p);
	bool recorded = !nj && state_has_netns();

	if (caps_require(verb, apply_needs(p, recorded), d))
		return true;
	if ((nj || recorded) && !caps_have(CAP_SYS_ADMIN)) {
		if (nj)
			diag_note(d, &nj->loc, 0,
				  "CAP_SYS_ADMIN: for the network namespace of netns jail "
				  "\"%s\"",
				  nj->name);
		else
			diag_note(d, NULL, 0,
				  "CAP_SYS_ADMIN: to remove the network namespaces of the netns "
				  "jails recorded in %s",
				  STATE_FILE);
	}
	return false;
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
 * The order keeps every jail confined at every moment (DESIGN section 3,
 * "fail closed"): the provisioner creates what is new with its links down,
 * the ruleset that confines it is committed in one transaction, and only
 * then do the new links come up.  Any failure rolls the provisioning back
 * and leaves the previous ruleset in force.
 */
int apply_policy(const struct policy *p, const struct apply_opts *o, struct apply_result *res,
		 struct diag *d)
{
	const char *table = policy_table(p), *old_table;
	struct prov_plan *plan = NULL;
	int status = EXIT_OK, ret, lockfd = -1;
	char *text = NULL;
	bool current;

	memset(res, 0, sizeof(*res));
	apply_count_jails(p, &res->nuid, &res->nnetns);
	if (!apply_require_caps("apply", p, d))
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
	current = ret == NFTLOAD_TABLE_OURS && record_is_current(p, text, d);

	ret = prov_stage(p, &plan, d);
	if (ret) {
		status = prov_status(ret);
		goto rollback;
	}
	if (current) {
		say(o, "table inet %s is already what the policy renders; not reloading it "
		       "(its counters keep counting)",
		    table);
	} else {
		struct counters_stats cs;
		char *load = counters_carry(p, text, &cs);

		say(o, "loading table inet %s (%zu bytes) in one transaction", table, strlen(text));
		if (cs.kept || cs.reset || cs.edited)
			say(o, "counters: %zu chains keep theirs, %zu changed and start from zero, "
			       "%zu were edited by hand and start from zero",
			    cs.kept, cs.reset, cs.edited);
		ret = nftload_run(p, load, false, d);
		free(load);
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
	if (ret) {
		/*
		 * The policy is in force; only status's reference is missing.
		 * An older record left in place would describe another
		 * ruleset, and status would call the new one drift.
		 */
		counters_forget(table);
		diag_warning(d, NULL, 0,
			     "cannot record the committed table in %s: %s; status will not "
			     "detect changes to it",
			     STATE_DIR, strerror(-ret));
	}
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

	*removed = false;
	*used = xstrdup(table ? table : DEFAULT_TABLE);
	if (!apply_require_caps("down", NULL, d))
		return EXIT_PRIV;
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
