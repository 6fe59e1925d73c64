// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz the pipeline `jailfw check` and `jailfw render` run on a policy
 * file, minus the file and the kernel: bytes -> policy_parse_buffer ->
 * check_policy -> render_policy_str.  The policy file is untrusted only in
 * a weak sense (root writes it), but its errors are printed to whoever
 * runs check, and whatever render makes of it goes into the kernel.
 *
 * The harness stays pure so that libFuzzer can run it thousands of times
 * a second: users come from a fixed table (no NSS, which would read
 * /etc/passwd on every input), no template directory is searched, and
 * nothing is loaded into the kernel.  Besides the sanitizers it checks
 * what the rest of jailfw relies on:
 *
 *   - a refusal is always reported: check_policy false means an error;
 *   - render is deterministic (the golden files and apply's "already
 *     current" test depend on it);
 *   - the ruleset is plain printable ASCII: nothing from the policy is
 *     pasted into nft text unchecked (STYLE convention 4), so a byte the
 *     lexer let through must never reach it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "../tests/unit/fake_users.h"
#include "check.h"
#include "diag.h"
#include "fuzz.h"
#include "model.h"
#include "parse.h"
#include "render.h"
#include "util.h"

/*
 * The names the seed policies use (tests/, policies/), so that seeds pass
 * check and reach render; "www" has a gid other than its uid, as in
 * tests/unit/test_check.c, and "root" is there for check's uid 0 refusal.
 */
static const struct fake_user users[] = {
    {"www", 1099, 33},	 {"psa-www", 1099, 1099},  {"db", 1100, 1100},
    {"git", 1101, 1101}, {"nobody", 65534, 65534}, {"root", 0, 0},
};
static const struct fake_users user_db = {users, ARRAY_SIZE(users)};
static const struct check_env fake_env = FAKE_USERS_ENV(user_db);

/* Diagnostics are formatted (that code is fuzzed too) and thrown away. */
static FILE *diag_out;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* FUZZ_VERBOSE=1: show the diagnostics (replaying one input by hand). */
	if (getenv("FUZZ_VERBOSE"))
		diag_out = stderr;
	else
		diag_out = fopen("/dev/null", "we");
	if (!diag_out) {
		perror("fuzz_policy: /dev/null");
		abort();
	}
	return 0;
}

static bool plain_text(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f)
			return false;
	}
	return true;
}

static void fuzz_render(const struct policy *p)
{
	static const unsigned int flags[] = {0, RENDER_REPLACE};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		char *a = render_policy_str(p, flags[i]);
		char *b = render_policy_str(p, flags[i]);

		FUZZ_ASSERT(a && b);
		FUZZ_ASSERT(a[0] != '\0');
		FUZZ_ASSERT(!strcmp(a, b));
		FUZZ_ASSERT(plain_text(a));
		FUZZ_ASSERT(strstr(a, policy_table(p)));
		free(a);
		free(b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy p;
	struct diag d;
	bool parsed, checked;

	if (!diag_out)
		LLVMFuzzerInitialize(NULL, NULL);
	policy_init(&p);
	diag_init(&d, diag_out);

	/* What main.c's load_policy does, with the file already in memory. */
	parsed = policy_parse_buffer(&p, &d, "fuzz.conf", (const char *)data, size, false);
	FUZZ_ASSERT(parsed == (d.errors == 0));
	/* No directories: the unknown templates are left for check. */
	policy_load_templates(&p, &d, NULL, 0);
	if (d.errors)
		goto out;
	checked = check_policy(&p, &d, &fake_env);
	/* Every refusal names its reason. */
	FUZZ_ASSERT(checked || d.errors);
	if (checked && !d.errors)
		fuzz_render(&p);
out:
	fflush(diag_out);
	policy_free(&p);
	diag_free(&d);
	return 0;
}
