// SPDX-License-Identifier: GPL-2.0-or-later
/* A jail's /etc/netns/NAME/resolv.conf: written, recognised, removed. */
#include "provision_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

static char *resolv_header(const char *name)
{
	return xasprintf("# jailfw: resolv.conf of jail %s (jailfw down removes it)\n", name);
}

static bool prov_resolv_ours(const char *text, const char *name)
{
	char *h = resolv_header(name);
	bool ours = !strncmp(text, h, strlen(h));

	free(h);
	return ours;
}

static char *prov_resolv_text(const struct jail *j)
{
	char buf[PREFIX_STRLEN];
	struct strbuf sb;
	size_t i;
	char *h = resolv_header(j->name);

	sb_init(&sb);
	sb_puts(&sb, h);
	free(h);
	for (i = 0; i < j->ndns; i++)
		sb_printf(&sb, "nameserver %s\n", addr_str(&j->dns[i], buf));
	return sb_steal(&sb);
}

/*
 * Say why a step on /etc/netns/NAME/resolv.conf failed: for -EEXIST, that
 * the directory is not one jailfw writes into (why says which and how).
 */
void prov_resolv_error(struct diag *d, const struct loc *loc, const char *verb, const char *name,
		       int err, const char *why)
{
	if (err == -EEXIST)
		diag_error(d, loc, 0,
			   "%s: jailfw writes %s/%s/resolv.conf only into directories of root's "
			   "that nobody else can write",
			   why, NETNS_ETC_DIR, name);
	else
		diag_error(d, loc, 0, "%s %s/%s/resolv.conf: %s", verb, NETNS_ETC_DIR, name,
			   strerror(-err));
}

/* /etc/netns/NAME/resolv.conf: to write, to remove, or someone else's. */
int prov_analyse_resolv(struct prov_plan *pl, struct pjail *pj, const struct state_jail *st,
			struct diag *d)
{
	char why[FILEIO_WHY_MAX], *cur = NULL;
	int err;

	if (!pj->pol->ndns) {
		if (st && st->resolv)
			pj->resolv_remove = true;
		return 0;
	}
	pj->resolv = prov_resolv_text(pj->pol);
	err = netns_etc_read(pj->name, "resolv.conf", &cur, why);
	if (err == -ENOENT) {
		pj->resolv_write = true;
		pj->etc_dir_new = !netns_etc_exists(pj->name);
	} else if (err == -EEXIST) {
		pl->conflicts++;
		prov_resolv_error(d, &pj->pol->dns_loc, "read", pj->name, err, why);
	} else if (err) {
		prov_resolv_error(d, &pj->pol->dns_loc, "read", pj->name, err, why);
		return err;
	} else if (!prov_resolv_ours(cur, pj->name)) {
		prov_conflict(pl, d, &pj->pol->dns_loc,
			      "%s/%s/resolv.conf exists and jailfw did not write it", NETNS_ETC_DIR,
			      pj->name);
	} else {
		pj->resolv_existed = true;
		pj->resolv_write = strcmp(cur, pj->resolv) != 0;
	}
	free(cur);
	return 0;
}

/*
 * Remove /etc/netns/NAME/resolv.conf if jailfw wrote it (its header says
 * so), then the directory if jailfw made it and it is empty.  Failures are
 * reported at loc.
 */
int prov_remove_resolv(const char *name, bool rmdir_too, const struct loc *loc, struct diag *d)
{
	char why[FILEIO_WHY_MAX], *cur = NULL;
	int err;

	err = netns_etc_read(name, "resolv.conf", &cur, why);
	if (!err && prov_resolv_ours(cur, name))
		err = netns_etc_remove(name, "resolv.conf", rmdir_too, why);
	else if (!err || err == -ENOENT)
		err = rmdir_too ? netns_etc_remove(name, NULL, true, why) : 0;
	free(cur);
	if (err)
		prov_resolv_error(d, loc, "remove", name, err, why);
	return err;
}

int prov_write_resolv(struct prov_plan *pl, struct diag *d)
{
	size_t i;
	int err;

	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];
		char why[FILEIO_WHY_MAX];
		struct state_jail *sj;
		bool made = false;

		if (pj->action == PJ_REMOVE || (!pj->resolv_write && !pj->resolv_remove))
			continue;
		if (pj->resolv_write) {
			err = netns_etc_write(pj->name, "resolv.conf", pj->resolv, &made, why);
			if (err) {
				prov_resolv_error(d, &pj->pol->dns_loc, "write", pj->name, err,
						  why);
				return err;
			}
			pj->wrote_resolv = true;
			pj->made_etc_dir = made;
			sj = state_find_jail(&pl->st, pj->name);
			if (made)
				sj->etc_dir = true;
		} else {
			sj = state_find_jail(&pl->st, pj->name);
			err = prov_remove_resolv(pj->name, sj && sj->etc_dir, prov_pj_loc(pj), d);
			if (err)
				return err;
			if (sj)
				sj->resolv = sj->etc_dir = false;
		}
	}
	return 0;
}
