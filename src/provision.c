// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Provisioning's plan: what it holds, its life, and the stage that carries
 * it out (provision.h).
 */
#include "provision_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhook.h"

/* ---- small helpers ---- */

void PRINTF_LIKE(2, 3) prov_add_change(struct prov_plan *pl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*VEC_PUSH(pl->changes, pl->nchanges) = xvasprintf(fmt, ap);
	va_end(ap);
}

const struct loc *prov_pj_loc(const struct pjail *pj)
{
	return pj->pol ? &pj->pol->loc : NULL;
}

/* "10.97.10.1/24": always with the length, unlike prefix_str. */
const char *prov_cidr(const struct prefix *p, char buf[PREFIX_STRLEN])
{
	size_t n;

	addr_str(p, buf);
	n = strlen(buf);
	snprintf(buf + n, PREFIX_STRLEN - n, "/%u", p->len);
	return buf;
}

/* The host (.1) or jail (.2) address of a jail prefix, with its length. */
struct prefix prov_side_addr(const struct prefix *net, bool host)
{
	struct prefix a;

	if (host)
		jail_addr_host(net, &a);
	else
		jail_addr_jail(net, &a);
	a.len = net->len;
	return a;
}

bool prov_addr_eq(const struct prefix *a, const struct prefix *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->len == b->len && !memcmp(a->addr.b, b->addr.b, n);
}

bool prov_same_ip(const struct prefix *a, const struct prefix *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && !memcmp(a->addr.b, b->addr.b, n);
}

static void pj_free(struct pjail *pj)
{
	free(pj->name);
	free(pj->haddrs);
	free(pj->jaddrs);
	free(pj->routes);
	free(pj->resolv);
	if (pj->jr_open)
		rtnl_close(&pj->jr);
	if (pj->nsfd >= 0)
		close(pj->nsfd);
}

struct prov_plan *prov_plan_new(void)
{
	struct prov_plan *pl = xcalloc(1, sizeof(*pl));

	state_init(&pl->old);
	state_init(&pl->st);
	state_init(&pl->uid_jails);
	rtnl_batch_init(&pl->b);
	return pl;
}

void prov_plan_free(struct prov_plan *pl)
{
	size_t i;

	if (!pl)
		return;
	for (i = 0; i < pl->njails; i++)
		pj_free(&pl->jails[i]);
	free(pl->jails);
	for (i = 0; i < pl->nops; i++) {
		free(pl->ops[i].key);
		free(pl->ops[i].from);
		free(pl->ops[i].to);
	}
	free(pl->ops);
	for (i = 0; i < pl->nchanges; i++)
		free(pl->changes[i]);
	free(pl->changes);
	free(pl->hlinks);
	free(pl->alts);
	free(pl->netns_names);
	free(pl->table);
	free(pl->new_table);
	free(pl->next_text);
	if (pl->host_open)
		rtnl_close(&pl->host);
	rtnl_batch_free(&pl->b);
	state_free(&pl->old);
	state_free(&pl->st);
	state_free(&pl->uid_jails);
	free(pl);
}

const char *prov_plan_table(const struct prov_plan *pl)
{
	return pl ? pl->table : NULL;
}

bool prov_plan_resumed(const struct prov_plan *pl)
{
	return pl && pl->old.phase == STATE_APPLYING;
}

size_t prov_plan_changes(const struct prov_plan *pl, const char *const **lines)
{
	*lines = (const char *const *)pl->changes;
	return pl->nchanges;
}

/* ---- stage ---- */

/*
 * Nothing for stage to provision: no netns jail in the policy or the
 * state (a leaving one is in pl->jails), no sysctl to write, the last
 * apply finished, under the same table.  The state saved as progress
 * would then only repeat the old one with phase "applying" (for a policy
 * of 5000 uid jails, two writes of all of them): the state prepared for
 * the commit (prov_prepare) is all such an apply must record.
 */
static bool nothing_to_provision(const struct prov_plan *pl)
{
	return !pl->njails && !pl->nops && pl->old.phase == STATE_IDLE && pl->table &&
	       !strcmp(pl->table, pl->new_table);
}

/*
 * Nothing to provision, and the state in force already lists exactly the
 * policy's uid jails, in its order (an allowlist changed at 5000 uid
 * jails): what commit would record is what the file says.  Stage then
 * writes no state.next and commit installs nothing; a kill at any step
 * leaves the file as it was, which is also what this apply records.
 */
static bool state_stays(const struct prov_plan *pl)
{
	const struct state_jail *o, *u;
	size_t i;

	if (!nothing_to_provision(pl) || pl->old.njails != pl->uid_jails.njails)
		return false;
	for (i = 0; i < pl->old.njails; i++) {
		o = &pl->old.jails[i];
		u = &pl->uid_jails.jails[i];
		if (o->backend != BACKEND_UID || o->uid != u->uid || o->gid != u->gid ||
		    strcmp(o->name, u->name))
			return false;
	}
	return true;
}

static int stage(struct prov_plan *pl, struct diag *d)
{
	bool progress = !nothing_to_provision(pl);
	struct pjail **grp = NULL;
	size_t i, n = 0;
	int err;

	pl->phase = PLAN_STAGING;
	pl->state_stays = state_stays(pl);
	/* Progress first: what this apply is about to make, and old values. */
	if (!pl->state_stays)
		prov_state_intent(pl);
	err = progress ? prov_save(pl, d) : 0;
	if (err)
		goto out;
	/* Cut the jails that leave before anything else changes. */
	err = prov_set_links(pl, false, prov_want_cut, d);
	if (err)
		goto out;
	err = prov_delete_stale(pl, d);
	if (err)
		goto out;
	grp = xcalloc(CREATE_GROUP, sizeof(*grp));
	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];

		if (pj->action == PJ_REMOVE || !pj->need_veth)
			continue;
		grp[n++] = pj;
		if (n == CREATE_GROUP) {
			err = prov_create_group(pl, grp, n, d);
			n = 0;
			if (err)
				goto out;
		}
	}
	if (n) {
		err = prov_create_group(pl, grp, n, d);
		if (err)
			goto out;
	}
	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];

		if (pj->action == PJ_KEEP && !pj->need_veth && !pj->unentered) {
			err = prov_fix_kept(pj, d);
			if (err)
				goto out;
		}
	}
	/* The host ends' addresses (and labels), all jails in one batch. */
	rtnl_batch_reset(&pl->b);
	for (i = 0; i < pl->njails; i++)
		if (pl->jails[i].action != PJ_REMOVE && !pl->jails[i].host_unread)
			prov_build_host_fix(&pl->jails[i], &pl->b);
	if (pl->b.nreqs) {
		err = prov_talk(&pl->host, &pl->b, d);
		rtnl_batch_reset(&pl->b);
		if (err)
			goto out;
	}
	err = prov_jail_forwarding(pl, d);
	if (err)
		goto out;
	testhook_point("addrs-set");
	err = prov_write_resolv(pl, d);
	if (err)
		goto out;
	err = prov_run_ops(pl, false, d);
	if (err)
		goto out;
	testhook_point("sysctls-written");
	err = progress ? prov_save(pl, d) : 0;
	if (!err && !pl->state_stays)
		err = prov_prepare(pl, d);
	if (!err)
		pl->phase = PLAN_STAGED;
out:
	free(grp);
	return err;
}

int prov_stage(const struct policy *p, enum prov_check check, struct prov_plan **planp,
	       struct diag *d)
{
	struct prov_plan *pl = prov_plan_new();
	int err;

	*planp = pl;
	pl->check = check;
	err = prov_analyse(pl, p, d);
	if (!err)
		err = prov_check_env(pl, d);
	if (err)
		return err;
	pl->phase = PLAN_ANALYSED;
	return stage(pl, d);
}

int prov_diff(const struct policy *p, struct prov_plan **planp, struct diag *d)
{
	struct prov_plan *pl = prov_plan_new();

	*planp = pl;
	pl->dry_run = true;
	return prov_analyse(pl, p, d);
}
