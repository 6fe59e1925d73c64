// SPDX-License-Identifier: GPL-2.0-or-later
#include "apply.h"

#include <errno.h>
#include <signal.h>
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
#include "testhook.h"
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

/*
 * Signals that ask a process to end, and that a user (Ctrl-C, Ctrl-\), a
 * closing terminal or a service manager (systemctl stop) sends: once the
 * lock is held, they wait until the apply or down has finished or rolled
 * back and the lock is released.  Ended half-way, an apply would leave the
 * next one to finish its work: nothing would be unconfined (DESIGN
 * section 3), but the policy asked for would not be in force either, and
 * the one who pressed Ctrl-C could not tell which of the two is.  Waiting
 * for the lock is not held up: nothing has changed yet then.
 */
static const int held_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};

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
	struct sig_hold hold = {.on = false};
	struct prov_plan *plan = NULL;
	int status = EXIT_OK, ret, lockfd = -1;
	char *text = NULL;
	bool current;

	memset(res, 0, sizeof(*res));
	apply_count_jails(p, &res->nuid, &res->nnetns);
	if (res->nnetns && !caps_require("apply", CAPS_NEED_NET_ADMIN | CAPS_NEED_SYS_ADMIN, d))
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

	*removed = false;
	*signal = 0;
	*used = xstrdup(table ? table : DEFAULT_TABLE);
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
		record_forget(table);
		counters_forget(table);
		*removed = true;
	}
	testhook_point("table-deleted");
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
