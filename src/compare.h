/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jailfw compare (docs/design.md, "Threat model"): for each jail, what the
 * uid backend and the netns backend each confine and what they cannot, side
 * by side, in plain words, with the jail's current backend marked.
 *
 * compare --probe measures the network rows: it runs verify (verify.h)
 * on the policy as written and on a copy with every jail switched to the
 * other backend (a uid jail gets the addresses 10.200.N.0/24 and
 * fd00:200:N::/64, a netns jail the unused uid 64000+N), and fills those
 * rows with what the probes saw.
 */
#ifndef JAILFW_COMPARE_H
#define JAILFW_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "model.h"

struct compare_opts {
	bool json;
	bool probe;   /* measure the network rows under both backends (root) */
	bool verbose; /* passed on to verify */
	FILE *out;    /* NULL: stdout */
};

/* The properties compared (docs/design.md, "What each backend confines"). */
enum compare_row {
	CMP_EGRESS,
	CMP_LOOPBACK,
	CMP_ABSTRACT,
	CMP_FILESYSTEM,
	CMP_SAME_UID,
	CMP_PASSED_SOCKETS,
	CMP_SETUID,
	CMP_INBOUND,
	CMP_OTHER_JAILS,
	CMP_HOST_SERVICES,
	CMP_FORWARDING,
	CMP_COST,
	CMP_LAUNCH,
	CMP_ROWS
};

/* "egress allowlist", ... */
const char *compare_row_name(enum compare_row r);

/* Whether --probe measures the row. */
bool compare_row_measured(enum compare_row r);

/*
 * What backend b confines, or cannot, for jail j of p, about row r:
 * one or two sentences, malloc'd.
 */
char *compare_text(const struct policy *p, const struct jail *j, enum backend b,
		   enum compare_row r);

/*
 * The copy of p with every jail under the other backend, for --probe.
 * It borrows the rules and names of p: free it with compare_switched_free
 * before p.  Pure.
 */
void compare_switched(const struct policy *p, struct policy *out);
void compare_switched_free(struct policy *sw, const struct policy *orig);

/*
 * Print the comparison of every jail to o->out.  Returns EXIT_OK, or with
 * --probe what verify_run() returned when a sandbox could not run, and
 * EXIT_VERIFY when a probe contradicted the policy (reported through d).
 */
int compare_policy(const struct policy *p, const struct compare_opts *o, struct diag *d);

#endif
