// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The state stage and commit write, and the commit: new links up, leaving
 * jails torn down, state installed.
 */
#include "provision_int.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testhook.h"

static char *committed_text(const struct prov_plan *pl);

/* ---- the state stage writes ---- */

void prov_state_intent(struct prov_plan *pl)
{
	size_t i;

	state_free(&pl->st);
	state_copy(&pl->st, &pl->old);
	pl->st.phase = STATE_APPLYING;
	free(pl->st.table);
	pl->st.table = xstrdup(pl->new_table);
	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];
		const struct jail *j = pj->pol;
		struct state_jail *sj;

		if (pj->action == PJ_REMOVE)
			continue;
		sj = state_find_jail(&pl->st, pj->name);
		if (sj && sj->backend != BACKEND_NETNS) {
			/* It was a uid jail: a new netns jail from scratch. */
			state_del_jail(&pl->st, pj->name);
			sj = NULL;
		}
		if (!sj) {
			sj = state_add_jail(&pl->st, pj->name);
			sj->pending = true;
		}
		if (pj->action == PJ_CREATE) {
			/* 0:0 until made: whatever is there then was made by us. */
			memset(&sj->ns, 0, sizeof(sj->ns));
			sj->pending = true;
		} else {
			sj->ns = pj->ns;
		}
		snprintf(sj->host_if, sizeof(sj->host_if), "%s", pj->host_if);
		snprintf(sj->jail_if, sizeof(sj->jail_if), "%s", pj->jail_if);
		sj->has_v4 = pj->has_v4;
		sj->has_v6 = pj->has_v6;
		sj->v4 = pj->v4;
		sj->v6 = pj->v6;
		sj->has_user = j->user && j->uid_resolved;
		sj->uid = sj->has_user ? j->uid : 0;
		sj->gid = sj->has_user ? j->gid : 0;
		/* Recorded before it is written: down checks the header anyway. */
		sj->resolv = pj->resolv != NULL;
		/*
		 * The same for the directory, or an apply killed between
		 * making it and saving the state would leave it to nobody:
		 * the next apply finds it there and does not make it.  Down
		 * removes it only when empty, so a record ahead of the mkdir
		 * cannot cost anyone a file.
		 */
		if (pj->etc_dir_new)
			sj->etc_dir = true;
	}
	for (i = 0; i < pl->nops; i++) {
		const struct sysop *op = &pl->ops[i];

		if (!op->restore && op->new_record)
			state_add_sysctl(&pl->st, op->key, op->from, op->to);
	}
}

int prov_save(struct prov_plan *pl, struct diag *d)
{
	int err = state_save(&pl->st);

	if (err)
		diag_error(d, NULL, 0, "write state \"%s\": %s", STATE_FILE, strerror(-err));
	else
		pl->saved = true;
	return err;
}

/* Stage's last step: the committed state, written while it may still fail. */
int prov_prepare(struct prov_plan *pl, struct diag *d)
{
	int err;

	free(pl->next_text);
	pl->next_text = committed_text(pl);
	err = state_prepare_next(pl->next_text);
	if (err) {
		diag_error(d, NULL, 0, "write state \"%s\": %s", STATE_NEXT, strerror(-err));
		free(pl->next_text);
		pl->next_text = NULL;
	}
	return err;
}

/*
 * Commit's last step: install the state prepared by stage, which needs no
 * space.  Should the outcome differ from what stage foresaw, write it the
 * ordinary way.
 */
static int install(struct prov_plan *pl, struct diag *d)
{
	char *text = state_format(&pl->st);
	int err;

	if (pl->next_text && !strcmp(text, pl->next_text)) {
		err = state_install_next();
		if (err)
			diag_error(d, NULL, 0, "rename \"%s\" to \"%s\": %s", STATE_NEXT,
				   STATE_FILE, strerror(-err));
	} else {
		state_drop_next();
		err = prov_save(pl, d);
	}
	free(text);
	return err;
}

/* ---- commit ---- */

/*
 * Replace the uid jails of the last apply with the policy's, now that the
 * ruleset confining them is in force.  By now no netns record shares a
 * name with one of them: policy names are unique, and the record of a
 * netns jail that became a uid jail went with its teardown.
 */
static void record_uid_jails(const struct prov_plan *pl, struct state *st)
{
	size_t i, k;

	/* One pass each way: a policy may hold thousands of uid jails. */
	for (i = k = 0; i < st->njails; i++) {
		if (st->jails[i].backend == BACKEND_UID)
			free(st->jails[i].name);
		else
			st->jails[k++] = st->jails[i];
	}
	st->njails = k;
	state_jails_moved(st);
	for (i = 0; i < pl->uid_jails.njails; i++) {
		const struct state_jail *u = &pl->uid_jails.jails[i];
		struct state_jail *sj;

		sj = state_add_jail(st, u->name);
		sj->backend = BACKEND_UID;
		sj->has_user = true;
		sj->uid = u->uid;
		sj->gid = u->gid;
	}
}

/*
 * The state a successful commit records, from the staged one: the jails
 * that left the policy gone, the sysctls given back forgotten, nothing
 * pending, the policy's uid jails, idle.  prov_commit arrives at the same
 * by doing each step; stage writes this one ahead (state_prepare_next),
 * while a full file system can still refuse it.
 */
static char *committed_text(const struct prov_plan *pl)
{
	struct state st;
	char *text;
	size_t i;

	state_copy(&st, &pl->st);
	for (i = 0; i < pl->njails; i++)
		if (pl->jails[i].action == PJ_REMOVE)
			state_del_jail(&st, pl->jails[i].name);
	for (i = 0; i < pl->nops; i++)
		if (pl->ops[i].restore)
			state_del_sysctl(&st, pl->ops[i].key);
	for (i = 0; i < st.njails; i++)
		st.jails[i].pending = false;
	record_uid_jails(pl, &st);
	st.phase = STATE_IDLE;
	text = state_format(&st);
	state_free(&st);
	return text;
}

static bool want_up(const struct pjail *pj)
{
	return pj->action != PJ_REMOVE && pj->host_ifindex && !(pj->host_flags & IFF_UP) &&
	       !pj->brought_up;
}

int prov_remove_jail_files(struct pjail *pj, const struct state_jail *sj, struct diag *d)
{
	if (!sj->resolv && !sj->etc_dir)
		return 0;
	return prov_remove_resolv(pj->name, sj->etc_dir, prov_pj_loc(pj), d);
}

/*
 * The jail end came up at stage without carrier, on noop_qdisc, which
 * drops everything until linkwatch (late under a busy RTNL lock) sees the
 * host end come up.  Commit waits, up to LINK_READY_MS for all jails,
 * until each new jail end is operstate UP (docs/design.md, "apply, step by
 * step").
 */
#define LINK_READY_MS 3000

struct ready_ctx {
	struct pjail *pj;
	struct diag *d;
	struct timespec deadline;
	bool up;
};

static int joper_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct ready_ctx *c = ctx;
	struct rtnl_link l;

	if (rtnl_parse_link(nlh, &l) && !strcmp(l.name, c->pj->jail_if))
		c->up = l.oper_up;
	return 0;
}

static bool past(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Runs inside the jail's namespace. */
static int wait_jail_end(void *ctx)
{
	struct ready_ctx *c = ctx;
	struct timespec pause = {0, 200 * 1000};
	struct rtnl_batch b;
	struct rtnl r;
	int err;

	err = rtnl_open(&r);
	if (err)
		return err;
	rtnl_batch_init(&b);
	for (;;) {
		c->up = false;
		err = prov_dump(&r, &b, RTM_GETLINK, joper_cb, c, NULL, "list links", c->d);
		if (err || c->up || past(&c->deadline))
			break;
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 10 * 1000 * 1000)
			pause.tv_nsec *= 2;
	}
	rtnl_batch_free(&b);
	rtnl_close(&r);
	return err;
}

static void wait_links_ready(struct prov_plan *pl, struct diag *d)
{
	struct ready_ctx c = {.d = d};
	struct netns_id id;
	size_t i;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &c.deadline);
	c.deadline.tv_sec += LINK_READY_MS / 1000;
	for (i = 0; i < pl->njails; i++) {
		c.pj = &pl->jails[i];
		if (!c.pj->brought_up || netns_open(c.pj->name, &fd, &id))
			continue;
		c.up = false;
		/* Only a warning: the ruleset and the links are in place. */
		if (netns_run(fd, wait_jail_end, &c) == 0 && !c.up)
			diag_warning(d, prov_pj_loc(c.pj), 0,
				     "\"%s\" in namespace \"%s\" is not ready to send yet (the "
				     "kernel's linkwatch is late): its first packets may be lost",
				     c.pj->jail_if, c.pj->name);
		close(fd);
	}
}

int prov_commit(struct prov_plan *pl, struct diag *d)
{
	size_t i;
	int err;

	if (pl->phase != PLAN_STAGED)
		return -EINVAL;
	pl->phase = PLAN_COMMITTING;
	err = prov_set_links(pl, true, want_up, d);
	if (err)
		return err;
	wait_links_ready(pl, d);
	testhook_point("links-up");
	err = prov_drop_namespaces(pl, false, d);
	testhook_point("netns-removed");
	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];
		struct state_jail *sj;
		int e;

		/* A namespace that is not jailfw's any more is left alone. */
		if (pj->action != PJ_REMOVE || (pj->ns_ours && !pj->removed))
			continue;
		pj->removed = true;
		sj = state_find_jail(&pl->st, pj->name);
		e = sj ? prov_remove_jail_files(pj, sj, d) : 0;
		if (e) {
			err = err ? err : e;
			continue;
		}
		state_del_jail(&pl->st, pj->name);
	}
	if (err)
		return err;
	err = prov_run_ops(pl, true, d);
	if (err)
		return err;
	for (i = 0; i < pl->nops; i++)
		if (pl->ops[i].restore)
			state_del_sysctl(&pl->st, pl->ops[i].key);
	if (pl->state_stays) {
		pl->phase = PLAN_COMMITTED;
		testhook_point("state-written");
		return 0;
	}
	for (i = 0; i < pl->st.njails; i++)
		pl->st.jails[i].pending = false;
	record_uid_jails(pl, &pl->st);
	pl->st.phase = STATE_IDLE;
	err = install(pl, d);
	if (!err)
		pl->phase = PLAN_COMMITTED;
	testhook_point("state-written");
	return err;
}
