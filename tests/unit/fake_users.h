/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fixed user database for check_policy (struct check_env), so that tests
 * and fuzzers do not depend on the host's users.  Each caller keeps its
 * own table and passes it as the env's ctx:
 *
 *   static const struct fake_user users[] = { { "www", 1099, 33 }, ... };
 *   static const struct fake_users db = { users, ARRAY_SIZE(users) };
 *   static const struct check_env env = FAKE_USERS_ENV(db);
 */
#ifndef JAILFW_FAKE_USERS_H
#define JAILFW_FAKE_USERS_H

#include <stdbool.h>
#include <string.h>
#include <sys/types.h>

#include "check.h"

struct fake_user {
	const char *name;
	uid_t uid;
	gid_t gid;
};

struct fake_users {
	const struct fake_user *v;
	size_t n;
};

static inline bool fake_user_by_name(const char *name, uid_t *uid, gid_t *gid, void *ctx)
{
	const struct fake_users *db = ctx;
	size_t i;

	for (i = 0; i < db->n; i++) {
		if (strcmp(db->v[i].name, name))
			continue;
		*uid = db->v[i].uid;
		*gid = db->v[i].gid;
		return true;
	}
	return false;
}

static inline bool fake_user_by_uid(uid_t uid, gid_t *gid, void *ctx)
{
	const struct fake_users *db = ctx;
	size_t i;

	for (i = 0; i < db->n; i++) {
		if (db->v[i].uid != uid)
			continue;
		*gid = db->v[i].gid;
		return true;
	}
	return false;
}

#define FAKE_USERS_ENV(db)                                                                         \
	{                                                                                          \
		.user_by_name = fake_user_by_name, .user_by_uid = fake_user_by_uid,                \
		.ctx = (void *)&(db),                                                              \
	}

#endif
