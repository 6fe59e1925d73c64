// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Analysis: read the state, the host and every jail's namespace, decide,
 * change nothing.  The plan is assembled here; each jail's own analysis
 * is in provision_analyse.c.
 */
#include "provision_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A conflict found by analysis: said at loc, and counted (stage then refuses). */
void PRINTF_LIKE(4, 5)
    prov_conflict(struct prov_plan *pl, struct diag *d, const struct loc *loc, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_error(d, loc, 0, "%s", msg);
	free(msg);
	pl->conflicts++;
}

struct pjail *prov_add_pjail(struct prov_plan *pl, const char *name)
{
	struct pjail *pj = VEC_PUSH(pl->jails, pl->njails);

	pj->name = xstrdup(name);
	pj->nsfd = -1;
	pj->host_fwd4 = pj->host_dis6 = -1;
	snprintf(pj->alias, sizeof(pj->alias), ALIAS_PREFIX "%s", name);
	return pj;
}

static int prov_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, so that each jail of the state is looked up in O(log n). */
static void index_netns_names(struct prov_plan *pl)
{
	size_t i;

	pl->netns_names = xcalloc(pl->njails ? pl->njails : 1, sizeof(*pl->netns_names));
	for (i = 0; i < pl->njails; i++)
		pl->netns_names[i] = pl->jails[i].name;
	pl->nnetns_names = pl->njails;
	qsort(pl->netns_names, pl->nnetns_names, sizeof(*pl->netns_names), prov_name_cmp);
}

bool prov_policy_has_netns_jail(const struct prov_plan *pl, const char *name)
{
	return bsearch(&name, pl->netns_names, pl->nnetns_names, sizeof(*pl->netns_names),
		       prov_name_cmp) != NULL;
}

static void describe_jail(struct prov_plan *pl, struct pjail *pj)
{
	char a[PREFIX_STRLEN], b6[PREFIX_STRLEN];
	struct prefix x;

	if (pj->action == PJ_CREATE) {
		a[0] = b6[0] = '\0';
		if (pj->has_v4) {
			x = prov_side_addr(&pj->v4, true);
			prov_cidr(&x, a);
		}
		if (pj->has_v6) {
			x = prov_side_addr(&pj->v6, true);
			prov_cidr(&x, b6);
		}
		prov_add_change(pl, "create jail %s: namespace %s, veth %s/%s%s%s%s%s", pj->name,
				pj->name, pj->host_if, pj->jail_if, a[0] ? " " : "", a,
				b6[0] ? " " : "", b6);
	} else if (pj->need_veth) {
		prov_add_change(pl, "repair jail %s: create veth %s/%s", pj->name, pj->host_if,
				pj->jail_if);
	} else if (!pj->unentered) {
		if (pj->fix_ra) {
			char key[PATH_MAX], name[PATH_MAX];

			snprintf(key, sizeof(key), RA_JAIL_FMT, pj->jail_if);
			prov_add_change(pl, "set %s = 0 in namespace \"%s\" (was %s)",
					sysctl_name(key, name, sizeof(name)), pj->name, pj->ra_was);
		}
		if (pj->fix_agm) {
			char key[PATH_MAX], name[PATH_MAX];

			snprintf(key, sizeof(key), AGM_JAIL_FMT, pj->jail_if);
			prov_add_change(pl, "set %s = %d in namespace \"%s\"",
					sysctl_name(key, name, sizeof(name)), AGM_NONE, pj->name);
		}
		prov_build_host_fix(pj, &pl->b);
		prov_batch_changes(pl, &pl->b);
		prov_build_jail_fix(pj, &pl->b);
		prov_batch_changes(pl, &pl->b);
	} else if (!pj->host_unread) {
		prov_build_host_fix(pj, &pl->b);
		prov_batch_changes(pl, &pl->b);
	}
	if (pj->stale_host)
		prov_add_change(pl, "delete leftover interface %s", pj->host_if);
	if (pj->old_host)
		prov_add_change(pl, "delete interface %s (the jail's interfaces are now %s/%s)",
				pj->old_host_if, pj->host_if, pj->jail_if);
	if (pj->resolv_write)
		prov_add_change(pl, "write %s/%s/resolv.conf", NETNS_ETC_DIR, pj->name);
	if (pj->resolv_remove)
		prov_add_change(pl, "remove %s/%s/resolv.conf", NETNS_ETC_DIR, pj->name);
	if (pj->action != PJ_CREATE && !pj->need_veth && !pj->host_unread &&
	    !(pj->host_flags & IFF_UP))
		prov_add_change(pl, "set %s up after the ruleset commit", pj->host_if);
}

/*
 * The state, as state_load reads it.  One that jailfw did not write is a
 * conflict like any object it does not own: -EEXIST, exit 5.
 */
int prov_load_state(struct prov_plan *pl, struct diag *d)
{
	int err = state_load(&pl->old, d);

	return err == -EINVAL ? -EEXIST : err;
}

/*
 * A jail's traffic is masqueraded out of the wan only: with a wan that
 * does not exist (a typo), it would leave through the real uplink with
 * its private source.  An error of the policy, found before anything
 * changes.
 */
static int check_wan(struct prov_plan *pl, const struct policy *p, struct diag *d)
{
	const struct settings *s = &p->settings;
	size_t i;
	int err = 0;

	for (i = 0; i < s->nwan; i++) {
		if (prov_find_hlink(pl, s->wan[i]) || prov_find_altname(pl, s->wan[i]))
			continue;
		diag_error(d, s->wan_locs ? &s->wan_locs[i] : &s->wan_loc,
			   (unsigned int)strlen(s->wan[i]),
			   "wan interface \"%s\" does not exist on this host", s->wan[i]);
		err = -ENXIO;
	}
	return err;
}

/*
 * The host's links: every one (a dump), or, for a delta whose policy
 * names its wan, only those the analysis reads: the wan, and the host
 * ends (as named now and as recorded) of the jails that are not kept as
 * recorded (prov_kept_unread) and of those that leave.  Without a wan,
 * every interface that is not a jail's is an RA target (ra_targets).
 */
static int host_links(struct prov_plan *pl, const struct policy *p, struct diag *d)
{
	const char **names = NULL;
	size_t i, n = 0;
	int err;

	if (pl->check != PROV_CHECK_CHANGED || !p->settings.nwan)
		return prov_host_links(pl, d);
	for (i = 0; i < p->settings.nwan; i++)
		*VEC_PUSH(names, n) = p->settings.wan[i];
	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];
		const struct state_jail *st;

		if (prov_kept_unread(pl, pj))
			continue;
		*VEC_PUSH(names, n) = pj->host_if;
		st = state_find_jail(&pl->old, pj->name);
		if (st && st->backend == BACKEND_NETNS && strcmp(st->host_if, pj->host_if))
			*VEC_PUSH(names, n) = st->host_if;
	}
	err = prov_host_links_named(pl, names, n, d);
	free(names);
	return err;
}

int prov_analyse(struct prov_plan *pl, const struct policy *p, struct diag *d)
{
	size_t i;
	int err;

	pl->had_state = access(STATE_FILE, F_OK) == 0;
	err = prov_load_state(pl, d);
	if (err)
		return err;
	if (pl->old.phase != STATE_IDLE)
		diag_note(d, NULL, 0,
			  "the previous jailfw %s did not finish; this apply completes it",
			  pl->old.phase == STATE_DOWN ? "down" : "apply");
	pl->table = pl->old.table ? xstrdup(pl->old.table) : NULL;
	pl->new_table = xstrdup(policy_table(p));
	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];
		struct pjail *pj;

		if (j->backend == BACKEND_UID && j->uid_resolved) {
			struct state_jail *u = state_add_jail(&pl->uid_jails, j->name);

			u->backend = BACKEND_UID;
			u->has_user = true;
			u->uid = j->uid;
			u->gid = j->gid;
		}
		if (j->backend != BACKEND_NETNS)
			continue;
		pj = prov_add_pjail(pl, j->name);
		pj->pol = j;
		jail_ifname_host(j, pj->host_if);
		jail_ifname_jail(j, pj->jail_if);
		pj->has_v4 = j->has_v4;
		pj->has_v6 = j->has_v6;
		pj->v4 = j->v4;
		pj->v6 = j->v6;
	}
	index_netns_names(pl);
	for (i = 0; i < pl->old.njails; i++) {
		const struct state_jail *st = &pl->old.jails[i];
		struct pjail *pj;

		if (st->backend != BACKEND_NETNS || prov_policy_has_netns_jail(pl, st->name))
			continue;
		pj = prov_add_pjail(pl, st->name);
		pj->action = PJ_REMOVE;
		snprintf(pj->host_if, sizeof(pj->host_if), "%s", st->host_if);
		snprintf(pj->jail_if, sizeof(pj->jail_if), "%s", st->jail_if);
		pj->has_v4 = st->has_v4;
		pj->has_v6 = st->has_v6;
		pj->v4 = st->v4;
		pj->v6 = st->v6;
	}
	err = prov_open_host(pl, d);
	if (!err)
		err = host_links(pl, p, d);
	if (!err)
		err = check_wan(pl, p, d);
	for (i = 0; !err && i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];

		if (pj->action == PJ_REMOVE)
			prov_analyse_leaving(pl, pj, state_find_jail(&pl->old, pj->name), d);
		else
			err = prov_analyse_jail(pl, pj, d);
	}
	if (!err)
		err = prov_host_addrs(pl, d);
	if (err)
		return err;
	if (pl->conflicts)
		return -EEXIST;
	for (i = 0; i < pl->njails; i++)
		if (pl->jails[i].action != PJ_REMOVE)
			describe_jail(pl, &pl->jails[i]);
	prov_plan_sysctls(pl, p, d);
	return 0;
}
