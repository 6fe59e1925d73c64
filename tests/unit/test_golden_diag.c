// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Golden diagnostics: every tests/parse/fail/NAME.conf must produce exactly
 * the diagnostics in NAME.err (byte for byte) and be refused (check-warn-*
 * cases: accepted, with a warning), and every tests/parse/ok/ policy must
 * produce no diagnostic at all.  A directory NAME (no dot in the name) is
 * a policy directory: NAME/jailfw.conf and NAME/jails.d/ (jailfw.conf(5)).
 * The pipeline is the CLI's: parse the file or directory, load templates,
 * and check only if parsing succeeded.
 *
 *   JAILFW_REGEN=1 build/tests/test_golden_diag    rewrite the .err files
 *   JAILFW_GOLDEN_FILTER=check- ...                 only files starting so
 *
 * Run from the repository root.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "diag.h"
#include "parse.h"
#include "t.h"
#include "fake_users.h"

#define FAIL_DIR "tests/parse/fail"
#define OK_DIR "tests/parse/ok"

/* A fixed user database, so the golden output does not depend on the host. */
static const struct fake_user users[] = {
    {"www", 1099, 1099},      {"db", 1100, 1100}, {"psa-www", 1101, 1101},
    {"nobody", 65534, 65534}, {"root", 0, 0},
};
static const struct fake_users user_db = {users, ARRAY_SIZE(users)};
static const struct check_env test_env = FAKE_USERS_ENV(user_db);

static const char *const tmpl_dirs[] = {"tests/parse/templates", "templates"};

/* Run the CLI's front half on path; returns everything diag printed. */
static char *run_policy(const char *path, unsigned int *errors)
{
	struct policy p;
	struct diag d;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f) {
		perror("open_memstream");
		exit(2);
	}
	policy_init(&p);
	diag_init(&d, f);
	if (policy_parse_path(&p, &d, path) &&
	    policy_load_templates(&p, &d, tmpl_dirs, ARRAY_SIZE(tmpl_dirs)))
		check_policy(&p, &d, &test_env);
	*errors = d.errors;
	fclose(f);
	diag_free(&d);
	policy_free(&p);
	return out;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];
	FILE *m;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	if (!m) {
		fclose(f);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

static bool write_all(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

/*
 * The *.conf files and the policy directories (names without a dot) of
 * dir, sorted (scandir's alphasort: stable order).
 */
static int conf_filter(const struct dirent *e)
{
	const char *only = getenv("JAILFW_GOLDEN_FILTER");

	if (only && strncmp(e->d_name, only, strlen(only)))
		return 0;
	return e->d_name[0] != '.' && (ends_with(e->d_name, ".conf") || !strchr(e->d_name, '.'));
}

static int list_confs(const char *dir, struct dirent ***names)
{
	int n = scandir(dir, names, conf_filter, alphasort);

	if (n < 0) {
		perror(dir);
		exit(2);
	}
	return n;
}

/* Print got/want line by line, marking the first line that differs. */
static void show_diff(const char *got, const char *want)
{
	printf("# --- want\n# +++ got\n");
	while (*got || *want) {
		size_t lg = strcspn(got, "\n"), lw = strcspn(want, "\n");
		bool same = lg == lw && !memcmp(got, want, lg);

		if (same) {
			printf("#  %.*s\n", (int)lg, got);
		} else {
			if (*want)
				printf("# -%.*s\n", (int)lw, want);
			if (*got)
				printf("# +%.*s\n", (int)lg, got);
		}
		got += lg + (got[lg] == '\n');
		want += lw + (want[lw] == '\n');
	}
}

static void run_fail_dir(bool regen)
{
	struct dirent **names;
	int n = list_confs(FAIL_DIR, &names), i;

	if (!getenv("JAILFW_GOLDEN_FILTER"))
		T_CHECK(n >= 25, "at least 25 golden failure cases");
	for (i = 0; i < n; i++) {
		char *conf = xasprintf("%s/%s", FAIL_DIR, names[i]->d_name);
		size_t stem = strlen(conf) - (ends_with(conf, ".conf") ? 5 : 0);
		char *err = xasprintf("%.*s.err", (int)stem, conf);
		char *what = xasprintf("%s matches %s", conf, err);
		unsigned int errors;
		char *got = run_policy(conf, &errors);
		char *want;

		if (regen) {
			T_CHECK(write_all(err, got), what);
		} else {
			want = read_all(err);
			if (!want) {
				T_CHECK(false, what);
				printf("# missing %s (JAILFW_REGEN=1 writes it); got:\n%s", err,
				       got);
			} else {
				bool same = !strcmp(got, want);

				T_CHECK(same, what);
				if (!same)
					show_diff(got, want);
			}
			free(want);
		}
		free(what);
		/* check-warn-*: valid policies that must draw a warning. */
		if (!strncmp(names[i]->d_name, "check-warn-", 11)) {
			what = xasprintf("%s is accepted with a warning", conf);
			T_CHECK(errors == 0 && strstr(got, ": warning: "), what);
		} else {
			what = xasprintf("%s is refused", conf);
			T_CHECK(errors > 0, what);
		}
		free(what);
		free(got);
		free(err);
		free(conf);
		free(names[i]);
	}
	free(names);
}

static void run_ok_dir(void)
{
	struct dirent **names;
	int n = list_confs(OK_DIR, &names), i;

	if (!getenv("JAILFW_GOLDEN_FILTER"))
		T_CHECK(n > 0, "there are accepted policies");
	for (i = 0; i < n; i++) {
		char *conf = xasprintf("%s/%s", OK_DIR, names[i]->d_name);
		char *what = xasprintf("%s is accepted without any diagnostic", conf);
		unsigned int errors;
		char *got = run_policy(conf, &errors);

		T_CHECK(errors == 0 && !*got, what);
		if (*got)
			printf("# got:\n%s", got);
		free(what);
		free(got);
		free(conf);
		free(names[i]);
	}
	free(names);
}

int main(void)
{
	const char *r = getenv("JAILFW_REGEN");

	run_fail_dir(r && *r && strcmp(r, "0"));
	run_ok_dir();
	return t_done();
}
