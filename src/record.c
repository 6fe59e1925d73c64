// SPDX-License-Identifier: GPL-2.0-or-later
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nftinfo.h"
#include "nftload.h"
#include "state.h"
#include "util.h"

struct record {
	uint64_t digest;
	uint32_t genid;
};

static char *record_path(const char *table)
{
	return xasprintf("%s/ruleset-%s", STATE_DIR, table);
}

static bool record_load(const char *table, struct record *r)
{
	char *path = record_path(table);
	FILE *f = fopen(path, "re");
	bool ok = false;

	free(path);
	if (!f)
		return false;
	ok = fscanf(f, "jailfw-ruleset 1 digest %" SCNx64 " genid %" SCNu32, &r->digest,
		    &r->genid) == 2;
	fclose(f);
	return ok;
}

/* Written whole to a temporary file, then renamed: never half a record. */
static void record_write(const char *table, const struct record *r)
{
	char *path = record_path(table), *tmp = xasprintf("%s.tmp", path);
	FILE *f;

	if (mkdir(STATE_DIR, 0755) && errno != EEXIST)
		goto out;
	f = fopen(tmp, "we");
	if (!f)
		goto out;
	fprintf(f, "jailfw-ruleset 1 digest %016" PRIx64 " genid %" PRIu32 "\n", r->digest,
		r->genid);
	if (fflush(f) || fsync(fileno(f))) {
		fclose(f);
		unlink(tmp);
		goto out;
	}
	fclose(f);
	if (rename(tmp, path))
		unlink(tmp);
out:
	free(tmp);
	free(path);
}

bool record_is_current(const struct policy *p, const char *text, struct diag *d)
{
	const char *table = policy_table(p);
	char *live = NULL, *want = NULL;
	struct record r;
	struct diag quiet;
	uint32_t genid;
	bool same = false;

	if (!record_load(table, &r) || r.digest != hash64(text, strlen(text)))
		return false;
	if (nftinfo_genid(&genid))
		return false;
	if (genid == r.genid)
		return true;
	/*
	 * Something was committed since.  Failures here only mean "load it
	 * again", so they are not reported to the user.
	 */
	diag_init(&quiet, d->out);
	quiet.max_errors = 1;
	quiet.out = fopen("/dev/null", "we");
	if (!quiet.out)
		return false;
	if (nftload_list_table(table, NFTLOAD_LIST_STATELESS, &live, &quiet) == 0 &&
	    nftload_run_isolated(p, text, NFTLOAD_LIST_STATELESS, &want, &quiet) == 0)
		same = !strcmp(live, want);
	fclose(quiet.out);
	diag_free(&quiet);
	free(live);
	free(want);
	if (same) {
		r.genid = genid;
		record_write(table, &r);
	}
	return same;
}

void record_save(const struct policy *p, const char *text)
{
	struct record r = { .digest = hash64(text, strlen(text)) };

	if (nftinfo_genid(&r.genid))
		return;
	record_write(policy_table(p), &r);
}

void record_forget(const char *table)
{
	char *path = record_path(table);

	unlink(path);
	free(path);
}
