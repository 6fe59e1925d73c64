// SPDX-License-Identifier: GPL-2.0-or-later
#include "apply.h"

#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "counters.h"
#include "nftload.h"
#include "provision.h"
#include "render.h"
#include "state.h"
#include "testhook.h"
#include "util.h"

/*
 * EROFS is the environment, not a refusal of this request: a read-only
 * /proc/sys (or /run) is how containers and sandboxed units are built,
 * and no retry fixes it.  ENOSPC (a full /run or /etc/netns) is a refusal
 * that passes: exit 3 like any other.
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

/* Every change the provisioner made (sysctl changes are always noted). */
static void say_changes(const struct apply_opts *o, const struct prov_plan *plan)
{
	const char *const *lines;
	size_t i, n = plan ? prov_plan_changes(plan, &lines) : 0;

	for (i = 0; i < n; i++)
		diag_verbose(o->verbose, "%s", lines[i]);
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
	int ret = state_lock(!o->no_wait, fd, d);

	if (ret == -EEXIST)
		return EXIT_CONFLICT; /* STATE_DIR is not jailfw's: reported */
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

/*
 * Signals that ask a process to end, and that a user (Ctrl-C, Ctrl-\), a
 * closing terminal or a service manager (systemctl stop) sends, and
 * SIGPIPE, which the kernel sends when a reader of our output has gone
 * (`jailfw -v apply P | head -1`): once the lock is held, they wait until
 * the apply or down has finished or rolled back and the lock is released
 * (meanwhile a write to the closed pipe only fails, with EPIPE, and the
 * output it carried is lost).  Ended half-way, an apply would leave the
 * next one to finish its work: nothing would be unconfined (docs/design.md,
 * "Fail closed"), but the policy asked for would not be in force either, and
 * the one who pressed Ctrl-C could not tell which of the two is.  Waiting
 * for the lock is not held up: nothing has changed yet then.
 */
static const int held_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE};

struct sig_hold {
	sigset_t old; /* the caller's mask, given back on release */
	bool on;
};

static void hold_signals(struct sig_hold *h)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < ARRAY_SIZE(held_signals); i++)
		sigaddset(&set, held_signals[i]);
	h->on = sigprocmask(SIG_BLOCK, &set, &h->old) == 0;
}

/*
 * Give the caller's mask back, after taking out of the pending set the
 * held signals that arrived meanwhile; the first that the process does not
 * ignore is returned (0: none) for the caller to end with, once it has
 * said what it did (apply_reraise).
 *
 * Why take them out rather than let the unblocking deliver them: the CLI
 * prints its result line first, and the exit status must still be the
 * signal's.  Why look at the disposition: a blocked signal is kept pending
 * even when it is ignored (the kernel cannot know what the disposition
 * will be when it is unblocked), and an ignored SIGINT or SIGQUIT is what
 * a shell gives its background jobs and nohup gives SIGHUP: those stay
 * ignored.  A signal the caller had blocked itself is left pending for it.
 */
static int release_signals(struct sig_hold *h, const char *verb, int status, struct diag *d)
{
	const struct timespec now = {0, 0};
	struct sigaction sa;
	int sig, first = 0;
	sigset_t set;
	size_t i;

	if (!h->on)
		return 0;
	h->on = false;
	sigemptyset(&set);
	for (i = 0; i < ARRAY_SIZE(held_signals); i++)
		if (!sigismember(&h->old, held_signals[i]))
			sigaddset(&set, held_signals[i]);
	/* Standard signals do not queue: each is pending once at most. */
	while ((sig = sigtimedwait(&set, NULL, &now)) > 0) {
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			continue;
		if (!first)
			first = sig;
	}
	sigprocmask(SIG_SETMASK, &h->old, NULL);
	if (first)
		diag_note(d, NULL, 0, "SIG%s received; the %s %s first", sigabbrev_np(first), verb,
			  status ? "failed (see above)" : "finished");
	return first;
}

/*
 * End the way the signal asks, now that the work is done and reported.
 * The signal is raised under the process's own disposition: the CLI has
 * the default one, so it dies by the signal and its parent sees that
 * (a shell: 128 + N; systemd: a clean stop), which is the convention for
 * programs that clean up before they honour SIGINT (a shell loop running
 * jailfw stops too, rather than carrying on as if it had exited).  A
 * library caller with a handler of its own gets its handler called.
 */
void apply_reraise(int sig)
{
	sigset_t set;

	fflush(NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
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
	diag_verbose(o->verbose,
		     "loading the new ruleset into table inet %s first, so that no packet "
		     "passes unfiltered while table inet %s is replaced",
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
		diag_verbose(o->verbose, "removed table inet %s", name);
}

/* A T-handover left over from an apply killed half-way: remove it (true). */
static bool handover_leftover(const struct apply_opts *o, const char *name, struct diag *d)
{
	if (nftload_table_state(name, d) != NFTLOAD_TABLE_OURS)
		return false;
	handover_remove(o, name, d);
	return true;
}

/*
 * The order keeps every jail confined at every moment (docs/design.md,
 * "Fail closed"): the provisioner creates what is new with its links down,
 * the ruleset that confines it is committed in one transaction (through
 * the handover table when it replaces one in force), and only then do the
 * new links come up.  Any failure rolls the provisioning back and leaves
 * the previous ruleset in force.
 */
int apply_policy(const struct policy *p, const struct apply_opts *o, struct apply_result *res,
		 struct diag *d)
{
	const char *table = policy_table(p), *old_table;
	struct sig_hold hold = {.on = false};
	struct prov_plan *plan = NULL;
	int status = EXIT_OK, ret, lockfd = -1;
	char *text = NULL, *handover = NULL;
	const char *const *lines;
	bool current, replace;

	memset(res, 0, sizeof(*res));
	apply_count_jails(p, &res->nuid, &res->nnetns);
	if (!apply_require_caps("apply", p, d))
		return EXIT_PRIV;
	status = take_lock(o, &lockfd, d);
	if (status)
		return status;
	hold_signals(&hold);
	testhook_point("lock");
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
	current = replace && counters_is_current(p, text, d);
	handover = nftload_handover_name(table);

	ret = prov_stage(p, &plan, d);
	if (ret) {
		status = prov_status(ret);
		goto rollback;
	}
	if (current) {
		diag_verbose(o->verbose,
			     "table inet %s is already what the policy renders; not reloading "
			     "it (its counters keep counting)",
			     table);
		if (handover_leftover(o, handover, d))
			res->nchanges++;
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
		testhook_point("handover-loaded");
		diag_verbose(o->verbose, "loading table inet %s (%zu bytes) in one transaction",
			     table, strlen(text));
		if (cs.kept || cs.reset || cs.edited)
			diag_verbose(o->verbose,
				     "counters: %zu chains keep theirs, %zu changed and start from "
				     "zero, %zu were edited by hand and start from zero",
				     cs.kept, cs.reset, cs.edited);
		ret = nftload_run(p, load, false, d);
		free(load);
		if (replace)
			handover_remove(o, handover, d);
		else if (handover_leftover(o, handover, d))
			res->nchanges++;
		if (ret) {
			status = apply_kernel_status(ret);
			goto rollback;
		}
		res->loaded = true;
		res->nchanges++;
	}
	testhook_point("ruleset-committed");
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
		state_record_forget(old_table);
		res->nchanges++;
	}
	res->nchanges += prov_plan_changes(plan, &lines);
	ret = counters_save(p, text);
	if (ret) {
		/*
		 * The policy is in force; only status's reference is missing.
		 * An older record left in place would describe another
		 * ruleset, and status would call the new one drift.
		 */
		state_record_forget(table);
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
	free(handover);
	free(text);
	res->signal = release_signals(&hold, "apply", status, d);
	return status;
}

/*
 * In the reverse order of apply: every jail's link goes down first, so no
 * jail is ever unconfined and connected at once; then the table goes; then
 * the namespaces, files and sysctls jailfw made.
 */
int apply_down(const char *table, const struct apply_opts *o, char **used, bool *removed,
	       int *signal, struct diag *d)
{
	struct sig_hold hold = {.on = false};
	struct prov_plan *plan = NULL;
	int status, ret, lockfd = -1;
	char *handover;

	*removed = false;
	*signal = 0;
	*used = xstrdup(table ? table : DEFAULT_TABLE);
	if (!apply_require_caps("down", NULL, d))
		return EXIT_PRIV;
	status = take_lock(o, &lockfd, d);
	if (status)
		return status;
	hold_signals(&hold);
	testhook_point("lock");
	ret = prov_down_cut(&plan, d);
	if (ret) {
		status = prov_status(ret);
		goto out;
	}
	testhook_point("links-down");
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
		state_record_forget(table);
		*removed = true;
	}
	testhook_point("table-deleted");
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
	*signal = release_signals(&hold, "down", status, d);
	return status;
}
