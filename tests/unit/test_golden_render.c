// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Golden render tests: every tests/render/NAME.conf, and every policy
 * directory tests/render/NAME (no dot in the name: NAME/jailfw.conf and
 * NAME/jails.d/), is parsed, checked and rendered (with RENDER_REPLACE)
 * and must equal tests/render/NAME.nft byte for byte.  JAILFW_REGEN=1
 * rewrites the .nft files instead; review the diff, then load them with
 * tests/e2e/render-load.sh.
 *
 * Users are resolved by a fake database so that the result does not depend
 * on the machine: www=1099, db=1100, nobody=65534.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "diag.h"
#include "model.h"
#include "parse.h"
#include "render.h"
#include "t.h"
#include "util.h"

#define DIR_RENDER "tests/render"

static const struct {
	const char *name;
	uid_t uid;
} users[] = {
    {"www", 1099},
    {"db", 1100},
    {"nobody", 65534},
};

static bool fake_by_name(const char *name, uid_t *uid, gid_t *gid, void *ctx)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < ARRAY_SIZE(users); i++) {
		if (!strcmp(users[i].name, name)) {
			*uid = users[i].uid;
			*gid = users[i].uid;
			return true;
		}
	}
	return false;
}

static bool fake_by_uid(uid_t uid, gid_t *gid, void *ctx)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < ARRAY_SIZE(users); i++) {
		if (users[i].uid == uid) {
			*gid = uid;
			return true;
		}
	}
	return false;
}

static char *slurp(const char *path)
{
	struct strbuf sb;
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	sb_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf) - 1, f)) > 0) {
		buf[n] = '\0';
		if (memchr(buf, '\0', n)) /* never in our text files */
			break;
		sb_puts(&sb, buf);
	}
	fclose(f);
	return sb_steal(&sb);
}

/* Parse, load templates, check; NULL (and the messages on stdout) if not valid. */
static char *render_file(const char *conf)
{
	static const char *const dirs[] = {"templates"};
	struct check_env env = {fake_by_name, fake_by_uid, NULL};
	struct policy p;
	struct diag d;
	char *text = NULL;
	bool ok;

	policy_init(&p);
	diag_init(&d, stdout);
	ok = policy_parse_path(&p, &d, conf);
	ok = ok && policy_load_templates(&p, &d, dirs, ARRAY_SIZE(dirs));
	ok = ok && check_policy(&p, &d, &env);
	if (ok)
		text = render_policy_str(&p, RENDER_REPLACE);
	diag_free(&d);
	policy_free(&p);
	return text;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	bool regen = getenv("JAILFW_REGEN") && *getenv("JAILFW_REGEN") == '1';
	char **names = NULL;
	size_t nnames = 0, i;
	struct dirent *de;
	DIR *dir;

	dir = opendir(DIR_RENDER);
	T_CHECK(dir != NULL, "open " DIR_RENDER " (run from the repo root)");
	if (!dir)
		return t_done();
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name);

		if ((n > 5 && !strcmp(de->d_name + n - 5, ".conf")) ||
		    (de->d_name[0] != '.' && !strchr(de->d_name, '.')))
			*VEC_PUSH(names, nnames) = xstrdup(de->d_name);
	}
	closedir(dir);
	qsort(names, nnames, sizeof(*names), name_cmp);
	T_CHECK(nnames >= 10, "golden policies present");

	for (i = 0; i < nnames; i++) {
		size_t stem = strcspn(names[i], ".");
		char *conf = xasprintf(DIR_RENDER "/%s", names[i]);
		char *nft = xasprintf(DIR_RENDER "/%.*s.nft", (int)stem, names[i]);
		char *what = xasprintf("render %s", names[i]);
		char *got = render_file(conf);
		char *want;

		if (got && regen) {
			FILE *f = fopen(nft, "w");

			if (f) {
				fputs(got, f);
				fclose(f);
			}
			T_CHECK(f != NULL, what);
		} else if (got) {
			want = slurp(nft);
			T_STREQ(got, want ? want : "(missing .nft file)", what);
			free(want);
		} else {
			T_CHECK(false, what);
		}
		free(got);
		free(what);
		free(nft);
		free(conf);
		free(names[i]);
	}
	free(names);
	return t_done();
}
