// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Rollback: what a failed apply made, undone in reverse order of stage,
 * one function per resource: sysctls, files, interfaces, namespaces, links,
 * and last the state that records what is left.
 */
#include "provision_int.h"

#include <linux/rtnetlink.h>
#include <stdio.h>

#include "fileio.h"

/* The sysctls this run set, given back their values, last first. */
static int rollback_sysctls(struct prov_plan *pl, struct diag *d)
{
	size_t i;
	int err, ret = 0;

	for (i = pl->nops; i-- > 0;) {
		struct sysop *op = &pl->ops[i];

		if (op->restore || !op->done)
			continue;
		err = prov_sysctl_set("restore", op->key, op->from, d);
		if (!err)
			op->done = false;
		ret = ret ? ret : err;
	}
	return ret;
}

/* The resolv.conf files this run wrote where there was none. */
static int rollback_resolv(struct prov_plan *pl, struct diag *d)
{
	char why[FILEIO_WHY_MAX];
	size_t i;
	int err, ret = 0;

	for (i = pl->njails; i-- > 0;) {
		struct pjail *pj = &pl->jails[i];

		if (!pj->wrote_resolv || pj->resolv_existed)
			continue;
		err = netns_etc_remove(pj->name, "resolv.conf", pj->made_etc_dir, why);
		if (err)
			prov_resolv_error(d, prov_pj_loc(pj), "remove", pj->name, err, why);
		ret = ret ? ret : err;
	}
	return ret;
}

/*
 * A pair made for a kept namespace goes explicitly; the pair of a new
 * namespace goes with it (prov_drop_namespaces).
 */
static int rollback_veths(struct prov_plan *pl, struct diag *d)
{
	struct nlmsghdr *nlh;
	size_t i;
	int err = 0;

	rtnl_batch_reset(&pl->b);
	for (i = pl->njails; i-- > 0;) {
		struct pjail *pj = &pl->jails[i];

		if (pj->created_veth && !pj->created_ns && pj->host_ifindex) {
			nlh = rtnl_build_dellink(rtnl_batch_room(&pl->b), rtnl_batch_seq(&pl->b),
						 pj->host_ifindex);
			rtnl_batch_add(&pl->b, nlh, NULL, pj, "delete veth \"%s\"", pj->host_if);
		}
	}
	if (pl->b.nreqs && pl->host_open)
		err = prov_talk(&pl->host, &pl->b, d);
	rtnl_batch_reset(&pl->b);
	return err;
}

static int rollback_namespaces(struct prov_plan *pl, struct diag *d)
{
	int err = prov_drop_namespaces(pl, true, d);
	size_t i;

	for (i = 0; i < pl->njails; i++)
		if (pl->jails[i].created_ns && pl->jails[i].removed)
			pl->jails[i].created_ns = false;
	return err;
}

static bool want_relink(const struct pjail *pj)
{
	return pj->took_down;
}

/*
 * Jails cut because they left the policy: the old ruleset, still in
 * force, confines them, so they go back up.  Only before the commit: the
 * new ruleset no longer knows them.  Going down flushed the IPv6 address
 * of the host end (keep_addr_on_down is 0 by default): put it back.
 */
static int rollback_relink(struct prov_plan *pl, struct diag *d)
{
	size_t i;
	int err;

	err = prov_set_links(pl, true, want_relink, d);
	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];
		struct prefix a;

		if (!pj->took_down || !pj->has_v6)
			continue;
		a = prov_side_addr(&pj->v6, true);
		prov_batch_addr(pj, &pl->b, RTM_NEWADDR, true, &a);
	}
	if (pl->b.nreqs) {
		rtnl_talk(&pl->host, &pl->b); /* EEXIST is fine: it was kept */
		rtnl_batch_reset(&pl->b);
	}
	return err;
}

/* Before the commit: the old state plus whatever could not be undone. */
static void state_before_commit(struct prov_plan *pl)
{
	size_t i;

	state_free(&pl->st);
	state_copy(&pl->st, &pl->old);
	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];
		struct state_jail *sj = state_find_jail(&pl->st, pj->name);

		if (!pj->created_ns || (sj && sj->backend == BACKEND_NETNS))
			continue;
		/* A uid record of that name must not hide our namespace. */
		if (sj)
			state_del_jail(&pl->st, pj->name);
		sj = state_add_jail(&pl->st, pj->name);
		sj->ns = pj->ns;
		snprintf(sj->host_if, sizeof(sj->host_if), "%s", pj->host_if);
		snprintf(sj->jail_if, sizeof(sj->jail_if), "%s", pj->jail_if);
		sj->pending = true;
	}
	for (i = 0; i < pl->nops; i++) {
		const struct sysop *op = &pl->ops[i];

		if (!op->restore && op->done && op->new_record)
			state_add_sysctl(&pl->st, op->key, op->from, op->to);
	}
}

/* After it: the new state minus what was undone. */
static void state_after_commit(struct prov_plan *pl)
{
	size_t i;

	for (i = 0; i < pl->njails; i++)
		if (pl->jails[i].removed && pl->jails[i].action != PJ_REMOVE)
			state_del_jail(&pl->st, pl->jails[i].name);
	for (i = 0; i < pl->nops; i++) {
		const struct sysop *op = &pl->ops[i];

		if (!op->restore && !op->done && op->new_record)
			state_del_sysctl(&pl->st, op->key);
	}
}

static int rollback_state(struct prov_plan *pl, bool committed, struct diag *d)
{
	if (committed)
		state_after_commit(pl);
	else
		state_before_commit(pl);
	pl->st.phase = STATE_IDLE;
	state_drop_next();
	/*
	 * Not if this run never wrote it: the file still says what it said.
	 * Nor, when there was none and nothing is left to record: an apply
	 * refused on a fresh machine leaves no trace.
	 */
	if (pl->saved && !pl->had_state && !pl->st.njails && !pl->st.nsysctls && !pl->st.table)
		return state_remove();
	if (pl->saved)
		return prov_save(pl, d);
	return 0;
}

int prov_rollback(struct prov_plan *pl, struct diag *d)
{
	bool committed;
	int err, ret;

	if (!pl || pl->dry_run || pl->phase < PLAN_STAGING || pl->phase == PLAN_ROLLED_BACK ||
	    pl->phase >= PLAN_DOWN_CUT)
		return 0;
	committed = pl->phase >= PLAN_COMMITTING;

	ret = rollback_sysctls(pl, d);
	err = rollback_resolv(pl, d);
	ret = ret ? ret : err;
	err = rollback_veths(pl, d);
	ret = ret ? ret : err;
	err = rollback_namespaces(pl, d);
	ret = ret ? ret : err;
	if (!committed && pl->host_open) {
		err = rollback_relink(pl, d);
		ret = ret ? ret : err;
	}
	err = rollback_state(pl, committed, d);
	ret = ret ? ret : err;
	pl->phase = PLAN_ROLLED_BACK;
	return ret;
}
