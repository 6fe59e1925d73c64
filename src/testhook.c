// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TEST-ONLY hooks (see testhook.h).  Without -DJAILFW_TESTHOOKS (the
 * jailfw that is installed) they are empty.  With it, nothing here is
 * reachable without one of the JAILFW_TEST_* variables in the environment,
 * and nothing here makes jailfw do more than it would: it fails, stops or
 * dies.
 */
#include "testhook.h"

#include <stddef.h>

#ifdef JAILFW_TESTHOOKS

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Is name one of the comma-separated entries of $env?  secure_getenv: a
 * test binary given file capabilities still ignores a caller's hooks.
 */
static bool env_names(const char *env, const char *name)
{
	const char *f = secure_getenv(env);
	size_t n = strlen(name);

	while (f && *f) {
		if (!strncmp(f, name, n) && (f[n] == ',' || !f[n]))
			return true;
		f = strchr(f, ',');
		if (f)
			f++;
	}
	return false;
}

bool testhook_fault(const char *name)
{
	return env_names(TESTHOOK_FAULT_ENV, name);
}

bool testhook_any_fault(void)
{
	return secure_getenv(TESTHOOK_FAULT_ENV) != NULL;
}

const char *testhook_fault_var(void)
{
	return TESTHOOK_FAULT_ENV;
}

const char *testhook_sabotage(const char **var)
{
	*var = TESTHOOK_SABOTAGE_ENV;
	return secure_getenv(TESTHOOK_SABOTAGE_ENV);
}

/*
 * Once per step and process: a step that happens per jail is called per
 * jail, and a pause must stop only at the first, or a test that sends one
 * SIGCONT would find the process stopped again at the next jail.
 */
#define MAX_STEPS 32
static const char *fired[MAX_STEPS];
static size_t nfired;

static bool first_time(const char *step)
{
	size_t i;

	for (i = 0; i < nfired; i++)
		if (!strcmp(fired[i], step))
			return false;
	if (nfired < MAX_STEPS)
		fired[nfired++] = step;
	return true;
}

void testhook_point(const char *step)
{
	if (!secure_getenv(TESTHOOK_KILL_ENV) && !secure_getenv(TESTHOOK_PAUSE_ENV))
		return;
	if (!first_time(step))
		return;
	if (env_names(TESTHOOK_KILL_ENV, step)) {
		/*
		 * SIGKILL, like the OOM killer or a power cut for everything
		 * but the kernel's state: no handler, no atexit, no flush.
		 */
		raise(SIGKILL);
	}
	if (env_names(TESTHOOK_PAUSE_ENV, step)) {
		fprintf(stderr, "jailfw: test pause at %s\n", step);
		fflush(stderr);
		raise(SIGSTOP);
	}
}

#else /* the installed jailfw: no hook at all */

bool testhook_fault(const char *name)
{
	(void)name;
	return false;
}

bool testhook_any_fault(void)
{
	return false;
}

const char *testhook_fault_var(void)
{
	return "";
}

const char *testhook_sabotage(const char **var)
{
	*var = "";
	return NULL;
}

void testhook_point(const char *step)
{
	(void)step;
}

#endif
