/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One jail at a time: `jailfw start NAME` and `jailfw stop NAME`, what
 * systemd/jailfw@.service runs when the service that uses the jail starts
 * and stops (docs/design.md, "A jail per unit").
 *
 * Both are an apply of the policy with one jail's mark changed.  The
 * jails stopped are recorded in STATE_STOPPED (state.h), and every apply
 * applies the policy without them: a stopped uid jail keeps its chain and
 * its map entry with no allow rule (its uid stays confined, everything it
 * sends is dropped and counted), a stopped netns jail is left out, so its
 * namespace, veth and rules go as a jail removed from the policy does.
 * /run is empty at boot: every jail comes up with the first apply.
 */
#ifndef JAILFW_UPDOWN_H
#define JAILFW_UPDOWN_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "model.h"

enum updown_change {
	UPDOWN_NONE,  /* a plain apply: the stopped jails stay stopped */
	UPDOWN_START, /* the jail's mark goes, after the commit */
	UPDOWN_STOP,  /* the jail's mark is recorded, before anything changes */
};

struct updown {
	char **stopped; /* STATE_STOPPED's names, sorted, with this run's change */
	size_t nstopped;
	bool save_after;	 /* start: write them once the jail is up */
	struct policy view;	 /* the policy without what is stopped; shares p's nodes */
	struct jail *view_jails; /* its array of jails, if not p's */
};

/* The jail called name in p, or NULL. */
const struct jail *updown_find(const struct policy *p, const char *name);

/*
 * Under the lock: read the stopped jails, apply change to name (ignored
 * with UPDOWN_NONE), record a stop at once, and make u->view.  0, or an
 * exit status (enum jailfw_exit) after reporting through d.
 */
int updown_prepare(const struct policy *p, enum updown_change change, const char *name,
		   struct updown *u, struct diag *d);

/* After the commit: record a start.  0 or an exit status, reported. */
int updown_finish(struct updown *u, struct diag *d);

void updown_free(struct updown *u);

#endif
