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
#include "ctsweep.h"
#include "delta.h"
#include "nftinfo.h"
#include "nftload.h"
#include "provision.h"
#include "render.h"
#include "state.h"
#include "testhook.h"
#include "util.h"

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
 * CAP_SYS_ADMIN for the recorded netns jails too: their namespaces are
 * removed after the commit, too late to refuse.  The state is read
 * without the lock, which must not appear when this refuses
 * (docs/design.md, "Where each verb enters").
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
		return exitcode_kernel(ret);
	}
	return EXIT_OK;
}

/*
 * Held from the lock until the apply or down has finished or rolled back,
 * so that it never ends half-way; SIGPIPE too, for
 * `jailfw -v apply P | head -1` (a write then only fails with EPIPE).
 * docs/design.md, "Signals".
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
 * Give the caller's mask back, taking the held signals that arrived off
 * the pending set (so the CLI prints its result first); the first not
 * ignored is returned for apply_reraise (0: none).  A blocked signal stays
 * pending even when ignored, hence the disposition check; one the caller
 * had blocked itself stays pending for it.
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
 * Raised under the process's own disposition: the CLI dies by it, so its
 * parent sees the signal (a shell loop stops); a library caller's handler
 * runs.
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

/*
 * Whose table inet NAME is, in *state (NFTLOAD_TABLE_*); an exit status
 * when it cannot be read or is not jailfw's (action and hint say what
 * happens then and what to do).
 */
static int table_state(const char *table, const char *action, const char *hint, int *state,
		       struct diag *d)
{
	*state = nftload_table_state(table, d);
	if (*state < 0)
		return exitcode_kernel(*state);
	if (*state != NFTLOAD_TABLE_FOREIGN)
		return EXIT_OK;
	diag_error(d, NULL, 0,
		   "table inet %s exists but was not made by jailfw (its comment does not say "
		   "\"managed by jailfw\"); %s",
		   table, action);
	diag_note(d, NULL, 0, "%s", hint);
	return EXIT_CONFLICT;
}

/*
 * A replace in one transaction is atomic for the ruleset, not for a packet
 * in flight: one that meets the new chains before the generation flips and
 * the old ones after meets no rule (reload-load.sh saw packets through).
 * So the new ruleset is first loaded into T-handover, hooked in front of
 * T; then T is replaced; then T-handover goes.  Each commit leaves one
 * table unchanged that every packet meets whole.  docs/ruleset.md,
 * "Replacing a table in force: the handover table"; the kernel's side in
 * docs/design.md, "apply, step by step".
 */
static int handover_begin(const struct policy *p, const struct apply_opts *o, char *name,
			  struct diag *d)
{
	struct policy hp = *p;
	char *text;
	int ret, state;

	ret = table_state(name, "nothing was applied",
			  "jailfw replaces its table through this one: remove it", &state, d);
	if (ret)
		return ret;
	/* An apply killed half-way may have left one: replaced like T. */
	hp.settings.table = name;
	text = render_policy_str(&hp, RENDER_REPLACE);
	diag_verbose(o->verbose,
		     "loading the new ruleset into table inet %s first, so that no packet "
		     "passes unfiltered while table inet %s is replaced",
		     name, policy_table(p));
	ret = nftload_run(&hp, text, false, d);
	free(text);
	return ret ? exitcode_kernel(ret) : EXIT_OK;
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
 * The netns jails' conntrack entries that the policy in force does not
 * admit (ctsweep.h), after a load, or when the previous apply was killed
 * before it finished (it may have committed a ruleset and not swept):
 * this runs before the state says the apply is done.  An apply that
 * changes nothing skips it: the dump walks the whole conntrack table
 * (about 15 ms empty, 2.5 us per entry).  After a delta, changed (by jail;
 * NULL: every one) holds the jails it changed (delta_jails).  A failure is
 * a warning, and false: the ruleset already drops what the jails send on
 * them, and the caller makes the next delta judge every jail.
 */
static bool sweep_conntrack(const struct policy *p, const struct apply_opts *o, bool loaded,
			    const bool *changed, const struct prov_plan *plan, struct diag *d)
{
	struct ctsweep_stats st = {0, 0};
	int ret = 0;

	/* What a killed apply left may be any jail's. */
	if (prov_plan_resumed(plan))
		changed = NULL;
	if (loaded || prov_plan_resumed(plan))
		ret = ctsweep_run_some(p, changed, &st);
	if (ret)
		diag_warning(d, NULL, 0,
			     "cannot remove the connections of netns jails that the policy no "
			     "longer admits: %s; what the jails send on them is dropped, but "
			     "replies still reach them until the connections time out",
			     strerror(-ret));
	else if (st.deleted)
		diag_verbose(o->verbose,
			     "removed %zu conntrack %s of netns jails that the policy no longer "
			     "admits",
			     st.deleted, st.deleted == 1 ? "entry" : "entries");
	testhook_point("conntrack-swept");
	return ret == 0;
}

/*
 * The delta apply (delta.h; docs/ruleset.md, "Delta apply"): the base
 * chains stay hooked and unchanged, so no handover table is needed.  The
 * script is prepared before provisioning stages anything: whether there
 * is one decides how deeply stage checks the kept jails (prov_check).
 * NULL: not possible, the table is replaced in full; else *jails holds
 * the jails the delta changes.
 */
static char *delta_ready(const struct policy *p, const struct apply_opts *o, const char *text,
			 struct counters_last *last, struct timespec *clk, size_t *nobjs,
			 bool **jails)
{
	const char *why = NULL;
	char *script;

	delta_prepare(p, text, last, &script, nobjs, &why, jails);
	diag_lap(o->timing, clk, "delta script");
	if (!script)
		diag_verbose(o->verbose, "delta: not possible (%s); replacing table inet %s", why,
			     policy_table(p));
	return script;
}

/*
 * Load the script of delta_ready.  0: committed; else nothing changed and
 * the caller replaces the table in full (which reports a refusal, if it is
 * refused too).
 */
static int try_delta(const struct policy *p, const struct apply_opts *o, const char *script,
		     size_t nobjs, const struct counters_last *last, struct timespec *clk)
{
	struct diag quiet;
	FILE *devnull;
	uint32_t genid;
	int ret;

	/*
	 * delta_prepare saw the table as committed, but stage ran since: a
	 * commit of anyone's meanwhile makes the script's base doubtful.
	 */
	if (nftinfo_genid(&genid) || genid != last->rec.genid) {
		diag_verbose(o->verbose,
			     "delta: the ruleset was changed while provisioning; replacing table "
			     "inet %s",
			     policy_table(p));
		return -EAGAIN;
	}
	diag_verbose(o->verbose, "delta: %zu objects, in one transaction", nobjs);
	testhook_point("delta-ready");
	devnull = fopen("/dev/null", "we");
	diag_init(&quiet, devnull ? devnull : stderr);
	ret = nftload_run_delta(p, script, &quiet);
	diag_lap(o->timing, clk, "delta load");
	diag_free(&quiet);
	if (devnull)
		fclose(devnull);
	if (ret)
		diag_verbose(o->verbose, "delta: refused (%s); replacing table inet %s",
			     strerror(-ret), policy_table(p));
	return ret;
}

/*
 * What every change starts with, in this order: the capabilities it needs
 * (p: the policy's, NULL: down's), the lock, then the signals held until
 * it is done; the test hook's "lock" point after.
 */
static int begin_change(const char *verb, const struct policy *p, const struct apply_opts *o,
			int *lockfd, struct sig_hold *hold, struct diag *d)
{
	int status;

	if (!apply_require_caps(verb, p, d))
		return EXIT_PRIV;
	status = take_lock(o, lockfd, d);
	if (status)
		return status;
	hold_signals(hold);
	testhook_point("lock");
	return EXIT_OK;
}

/*
 * New links are made down, the ruleset that confines them is committed,
 * then they come up; any failure rolls back and leaves the previous
 * ruleset in force (docs/design.md, "Fail closed").
 */
int apply_policy(const struct policy *p, const struct apply_opts *o, struct apply_result *res,
		 struct diag *d)
{
	const char *table = policy_table(p), *old_table;
	struct sig_hold hold = {.on = false};
	struct prov_plan *plan = NULL;
	int status = EXIT_OK, ret, lockfd = -1;
	char *text = NULL, *handover = NULL, *script = NULL;
	bool *jails = NULL;	    /* the jails the script changes */
	const bool *changed = NULL; /* the same, once it is loaded */
	size_t nobjs = 0;
	const char *const *lines;
	struct counters_last last = {.err = -ENOENT};
	bool current, replace;
	struct timespec clk;
	struct updown ud;

	diag_lap(o->timing, &clk, NULL);
	memset(res, 0, sizeof(*res));
	memset(&ud, 0, sizeof(ud));
	apply_count_jails(p, &res->nuid, &res->nnetns);
	status = begin_change("apply", p, o, &lockfd, &hold, d);
	if (status)
		return status;
	diag_lap(o->timing, &clk, "lock");
	/* From here on, p is the policy without the stopped jails. */
	status = updown_prepare(p, o->change, o->jail, &ud, d);
	if (status)
		goto out;
	p = &ud.view;
	apply_count_jails(p, &res->nuid, &res->nnetns);
	status = table_state(table, "nothing was applied",
			     "give jailfw its own table: settings { table NAME }", &ret, d);
	if (status)
		goto out;
	diag_lap(o->timing, &clk, "table state");
	text = render_policy_str(p, RENDER_REPLACE);
	diag_lap(o->timing, &clk, "render");
	replace = ret == NFTLOAD_TABLE_OURS;
	/* No table in force: no record of it to read, no counter to carry. */
	if (replace)
		counters_last_load(table, text, &last);
	else
		last.digest = counters_text_digest(text);
	current = replace && counters_is_current(p, text, &last, d);
	diag_lap(o->timing, &clk, "is current");
	handover = nftload_handover_name(table);
	if (replace && !current)
		script = delta_ready(p, o, text, &last, &clk, &nobjs, &jails);

	/*
	 * Only a delta checks the kept jails from the host alone: an apply
	 * that changes nothing in the ruleset, or replaces it, enters each
	 * one (docs/design.md, "What an apply checks").
	 */
	ret = prov_stage(p, script ? PROV_CHECK_CHANGED : PROV_CHECK_FULL, &plan, d);
	diag_lap(o->timing, &clk, "stage");
	if (ret) {
		status = exitcode_prov(ret);
		goto rollback;
	}
	if (current) {
		diag_verbose(o->verbose,
			     "table inet %s is already what the policy renders; not reloading "
			     "it (its counters keep counting)",
			     table);
		if (handover_leftover(o, handover, d))
			res->nchanges++;
	} else if (script && try_delta(p, o, script, nobjs, &last, &clk) == 0) {
		changed = jails;
		res->loaded = true;
		res->nchanges++;
		handover_leftover(o, handover, d);
		diag_lap(o->timing, &clk, "handover check");
	} else {
		struct counters_stats cs = {0, 0, 0};
		char *load = NULL;

		/*
		 * Before the handover load: a pending record is cheap to
		 * settle only while the generation is still its apply's
		 * (docs/design.md, "The committed record and counters").
		 */
		if (replace)
			load = counters_carry(p, text, &cs);
		diag_lap(o->timing, &clk, "counters carried");
		if (replace) {
			status = handover_begin(p, o, handover, d);
			if (status) {
				free(load);
				goto rollback;
			}
			diag_lap(o->timing, &clk, "handover load");
		}
		testhook_point("handover-loaded");
		diag_verbose(o->verbose, "loading table inet %s (%zu bytes) in one transaction",
			     table, strlen(text));
		if (cs.kept || cs.reset || cs.edited)
			diag_verbose(o->verbose,
				     "counters: %zu chains keep theirs, %zu changed and start from "
				     "zero, %zu were edited by hand and start from zero",
				     cs.kept, cs.reset, cs.edited);
		ret = nftload_run(p, load ? load : text, false, d);
		free(load);
		diag_lap(o->timing, &clk, "load");
		if (replace)
			handover_remove(o, handover, d);
		else if (handover_leftover(o, handover, d))
			res->nchanges++;
		diag_lap(o->timing, &clk, "handover removed");
		/*
		 * The child died and the new table may be in force: undoing
		 * as if it were not would bring back up the links of jails
		 * it no longer knows.  Left as a jailfw killed here leaves
		 * it, which the next apply finishes (fault-load.sh).
		 */
		if (ret == NFTLOAD_COMMIT_UNKNOWN) {
			res->unknown = true;
			status = exitcode_kernel(ret);
			goto out;
		}
		if (ret) {
			status = exitcode_kernel(ret);
			goto rollback;
		}
		res->loaded = true;
		res->nchanges++;
	}
	testhook_point("ruleset-committed");
	if (!sweep_conntrack(p, o, res->loaded, changed, plan, d))
		last.forget_jails = true;
	diag_lap(o->timing, &clk, "conntrack sweep");
	ret = prov_commit(plan, d);
	diag_lap(o->timing, &clk, "provisioning commit");
	if (ret) {
		status = exitcode_prov(ret);
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
	ret = counters_save(p, text, &last);
	diag_lap(o->timing, &clk, "record");
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
	status = updown_finish(&ud, d);
	diag_lap(o->timing, &clk, "finish");
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
	/* Last: their sockets' closing may wait for the kernel (nftinfo.c). */
	nftload_release();
	nftinfo_release();
	free(handover);
	free(script);
	free(jails);
	free(text);
	counters_last_free(&last);
	updown_free(&ud);
	res->signal = release_signals(&hold, "apply", status, d);
	return status;
}

/*
 * The reverse of apply: links down first, so no jail is ever unconfined
 * and connected at once; then the table; then namespaces, files, sysctls.
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
	status = begin_change("down", NULL, o, &lockfd, &hold, d);
	if (status)
		return status;
	ret = prov_down_cut(&plan, d);
	if (ret) {
		status = exitcode_prov(ret);
		goto out;
	}
	testhook_point("links-down");
	if (!table && prov_plan_table(plan)) {
		free(*used);
		*used = xstrdup(prov_plan_table(plan));
	}
	table = *used;
	status = table_state(table, "not removing it", "down removes only the table jailfw made",
			     &ret, d);
	if (status)
		goto out;
	if (ret == NFTLOAD_TABLE_OURS) {
		ret = nftload_delete_table(table, d);
		if (ret) {
			status = exitcode_kernel(ret);
			goto out;
		}
		state_record_forget(table);
		*removed = true;
	} else {
		/* No inet table; an arp table of jailfw's may be left: it goes too. */
		ret = nftload_delete_table(table, d);
		if (ret) {
			status = exitcode_kernel(ret);
			goto out;
		}
	}
	testhook_point("table-deleted");
	handover = nftload_handover_name(table);
	handover_leftover(o, handover, d);
	free(handover);
	ret = prov_down_finish(plan, d);
	if (ret)
		status = exitcode_prov(ret);
	say_changes(o, plan);
out:
	prov_plan_free(plan);
	if (lockfd >= 0)
		state_unlock(lockfd);
	*signal = release_signals(&hold, "down", status, d);
	return status;
}
