/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Model -> nftables text.  A pure, deterministic function of a checked
 * policy: the same policy always renders the same bytes, so golden files
 * are trivial and "jailfw render" output loads unchanged with nft -f.
 */
#ifndef JAILFW_RENDER_H
#define JAILFW_RENDER_H

#include <stdio.h>

#include "model.h"

enum render_flags {
	/*
	 * Prefix the table with "table inet T {}" and "delete table inet T",
	 * so that loading the text replaces jailfw's table in one
	 * transaction and touches nothing else.
	 */
	RENDER_REPLACE = 1u << 0,
};

void render_policy(FILE *out, const struct policy *p, unsigned int flags);

/* Render into a malloc'd string (never NULL). */
char *render_policy_str(const struct policy *p, unsigned int flags);

#endif
