/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny unit test harness.  Each test binary prints one line per check
 * ("ok" / "not ok", TAP style) and exits non-zero if any failed; tests/run
 * counts the lines.
 *
 *   T_CHECK(cond, "what")           a boolean check
 *   T_STREQ(got, want, "what")      string equality, printing both on failure
 *   return t_done();                at the end of main
 */
#ifndef JAILFW_T_H
#define JAILFW_T_H

#include <stdio.h>
#include <string.h>

static int t_run, t_failed;

static inline void t_result(int ok, const char *what, const char *file, int line)
{
	t_run++;
	if (!ok)
		t_failed++;
	printf("%s %d - %s%s", ok ? "ok" : "not ok", t_run, what, ok ? "\n" : "");
	if (!ok)
		printf(" (%s:%d)\n", file, line);
}

#define T_CHECK(cond, what) t_result(!!(cond), (what), __FILE__, __LINE__)

#define T_STREQ(got, want, what)                                                                   \
	do {                                                                                       \
		const char *t_g = (got), *t_w = (want);                                            \
		int t_ok = t_g && t_w && !strcmp(t_g, t_w);                                        \
		t_result(t_ok, (what), __FILE__, __LINE__);                                        \
		if (!t_ok)                                                                         \
			printf("# got:\n%s\n# want:\n%s\n", t_g ? t_g : "(null)",                  \
			       t_w ? t_w : "(null)");                                              \
	} while (0)

static inline int t_done(void)
{
	printf("1..%d\n", t_run);
	return t_failed ? 1 : 0;
}

#endif
