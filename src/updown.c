// SPDX-License-Identifier: GPL-2.0-or-later
#include "updown.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "state.h"
#include "util.h"

const struct jail *updown_find(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->njails; i++)
		if (!strcmp(p->jails[i].name, name))
			return &p->jails[i];
	return NULL;
}

static int updown_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Where name is in the sorted list, or NULL. */
static char **updown_slot(const struct updown *u, const char *name)
{
	if (!u->nstopped)
		return NULL; /* bsearch's base must not be NULL, even for none */
	return bsearch(&name, u->stopped, u->nstopped, sizeof(*u->stopped), updown_name_cmp);
}

static bool updown_is_stopped(const struct updown *u, const char *name)
{
	return updown_slot(u, name) != NULL;
}

/* Add or remove name, keeping the list sorted; true if it changed. */
static bool updown_mark(struct updown *u, const char *name, bool stopped)
{
	char **at = updown_slot(u, name);
	size_t i;

	if (!!at == stopped)
		return false;
	if (at) {
		i = (size_t)(at - u->stopped);
		free(*at);
		memmove(at, at + 1, (u->nstopped - i - 1) * sizeof(*at));
		u->nstopped--;
		return true;
	}
	*VEC_PUSH(u->stopped, u->nstopped) = xstrdup(name);
	qsort(u->stopped, u->nstopped, sizeof(*u->stopped), updown_name_cmp);
	return true;
}

/*
 * p as the kernel should have it: a stopped uid jail without its allow
 * rules (its chain and its uid's dispatch stay, so the uid stays confined
 * and its drops counted; and since those do not change, a delta apply
 * leaves its counters alone), a stopped netns jail not at all.  The view
 * shares every node with p; only its array of jails is its own, when a
 * jail is stopped.
 */
static void updown_view(const struct policy *p, struct updown *u)
{
	size_t i;

	u->view = *p;
	/* Nothing stopped: the view is p (a copy of thousands of jails otherwise). */
	if (!u->nstopped)
		return;
	u->view.jails = u->view_jails = xcalloc(p->njails ? p->njails : 1, sizeof(*u->view.jails));
	/* Its own array, exactly this big: VEC_PUSH_CAP must not guess (util.h). */
	u->view.jails_cap = p->njails ? p->njails : 1;
	u->view.njails = 0;
	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];
		struct jail *v;

		if (updown_is_stopped(u, j->name) && j->backend == BACKEND_NETNS)
			continue;
		v = &u->view.jails[u->view.njails++];
		*v = *j;
		if (updown_is_stopped(u, j->name)) {
			v->rules = NULL;
			v->nrules = 0;
			v->pubs = NULL;
			v->npubs = 0;
		}
	}
}

int updown_prepare(const struct policy *p, enum updown_change change, const char *name,
		   struct updown *u, struct diag *d)
{
	int err;

	memset(u, 0, sizeof(*u));
	err = state_stopped_load(&u->stopped, &u->nstopped, d);
	if (err == -EEXIST || err == -EINVAL)
		return EXIT_CONFLICT; /* reported */
	if (err)
		return exitcode_kernel(err);
	if (change == UPDOWN_STOP && updown_mark(u, name, true)) {
		/*
		 * Before anything changes: killed after this, the jail is
		 * still up but recorded as stopped, and the next apply takes
		 * it down.  The other way round, it would come back up
		 * behind its unit's back.
		 */
		err = state_stopped_save(u->stopped, u->nstopped);
		if (err) {
			diag_error(d, NULL, 0, "cannot record jail \"%s\" as stopped in %s: %s",
				   name, STATE_STOPPED, strerror(-err));
			return exitcode_kernel(err);
		}
	}
	if (change == UPDOWN_START)
		u->save_after = updown_mark(u, name, false);
	updown_view(p, u);
	return EXIT_OK;
}

int updown_finish(struct updown *u, struct diag *d)
{
	int err;

	if (!u->save_after)
		return EXIT_OK;
	err = state_stopped_save(u->stopped, u->nstopped);
	if (!err)
		return EXIT_OK;
	diag_error(d, NULL, 0, "cannot clear the stopped mark in %s: %s", STATE_STOPPED,
		   strerror(-err));
	diag_note(d, NULL, 0,
		  "the jail is up, but the next apply would take it down again: run jailfw "
		  "start again");
	return exitcode_kernel(err);
}

void updown_free(struct updown *u)
{
	strv_free(u->stopped, u->nstopped);
	free(u->view_jails);
	memset(u, 0, sizeof(*u));
}
