/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Semantic validation of a parsed policy (docs/jailfw.conf.5,
 * VALIDATION).  Every error is reported, located, before the caller
 * refuses.  check also completes the model for later stages: it resolves
 * users to uid/gid and expands "use" statements into rules copied from the
 * templates.
 */
#ifndef JAILFW_CHECK_H
#define JAILFW_CHECK_H

#include <stdbool.h>
#include <sys/types.h>

#include "diag.h"
#include "model.h"

struct check_env {
	/*
	 * Look a user up by name; NULL means the system's user database.
	 * Returns false when no such user exists.
	 */
	bool (*user_by_name)(const char *name, uid_t *uid, gid_t *gid, void *ctx);
	/* Look a uid up (numeric user); false when unknown (allowed). */
	bool (*user_by_uid)(uid_t uid, gid_t *gid, void *ctx);
	void *ctx;
};

/* Returns true when the policy is valid (warnings allowed). */
bool check_policy(struct policy *p, struct diag *d, const struct check_env *env);

#endif
