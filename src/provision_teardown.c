// SPDX-License-Identifier: GPL-2.0-or-later
/* Teardown: namespaces removed and their veths with them; and jailfw down. */
#include "provision_int.h"

#include <errno.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhook.h"

/*
 * A namespace's veth goes with the namespace; deleting one explicitly
 * costs 17-20 ms (RCU), so only where a process still holds the namespace
 * (docs/design.md, "apply, step by step").
 */

struct relink {
	struct pjail *pj;
	struct rtnl_link l;
	bool got;
};

static int relink_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct relink *r = ctx;

	if (rtnl_parse_link(nlh, &r->l))
		r->got = true;
	return 0;
}

/*
 * Still the jail's host end: the ifindex found before, under its name,
 * labelled jailfw:NAME (or not labelled yet, when this run made it).
 */
static bool still_ours(const struct relink *r)
{
	const struct pjail *pj = r->pj;

	return r->got && r->l.ifindex == pj->host_ifindex &&
	       (!strcmp(r->l.alias, pj->alias) || (pj->created_veth && !r->l.alias[0]));
}

/* Errors of a best-effort batch: gone already is fine, the rest are warned. */
static void warn_batch(const struct rtnl_batch *b, struct diag *d)
{
	char buf[1024];
	size_t i;

	for (i = 0; i < b->nreqs; i++) {
		const struct rtnl_req *q = &b->reqs[i];

		if (q->err && q->err != -ENODEV && q->err != -EADDRNOTAVAIL)
			diag_warning(d, NULL, 0, "%s", rtnl_req_strerror(q, buf, sizeof(buf)));
	}
}

/*
 * Delete the host ends of v[0..n) (jails whose namespace is in use),
 * each looked up again by name first, so that only the link jailfw made
 * for that jail goes.  Deleting one end of a veth deletes its peer.
 */
static void delete_in_use(struct prov_plan *pl, struct pjail **v, size_t n, struct diag *d)
{
	struct relink *rl = xcalloc(n, sizeof(*rl));
	struct rtnl_batch *b = &pl->b;
	struct nlmsghdr *nlh;
	char buf[1024];
	size_t i;
	int err;

	rtnl_batch_reset(b);
	for (i = 0; i < n; i++) {
		rl[i].pj = v[i];
		nlh = rtnl_build_getlink(rtnl_batch_room(b), rtnl_batch_seq(b), v[i]->host_if);
		rtnl_batch_add(b, nlh, relink_cb, &rl[i], "look up \"%s\"", v[i]->host_if);
	}
	/* A link already gone (ENODEV) has nothing left to delete. */
	err = rtnl_talk(&pl->host, b);
	if (err && !rtnl_batch_error(b))
		diag_warning(d, NULL, 0, "netlink: %s", strerror(-err));
	warn_batch(b, d);
	rtnl_batch_reset(b);
	for (i = 0; i < n; i++) {
		if (!still_ours(&rl[i]))
			continue;
		nlh = rtnl_build_dellink(rtnl_batch_room(b), rtnl_batch_seq(b), v[i]->host_ifindex);
		rtnl_batch_add(b, nlh, NULL, v[i], "delete veth \"%s\"", v[i]->host_if);
	}
	err = b->nreqs ? rtnl_talk(&pl->host, b) : 0;
	if (err && !rtnl_batch_error(b))
		diag_warning(d, NULL, 0, "netlink: %s", strerror(-err));
	for (i = 0; i < b->nreqs; i++) {
		const struct rtnl_req *q = &b->reqs[i];
		struct pjail *pj = q->ctx;

		if (!q->done)
			continue;
		if (!q->err || q->err == -ENODEV) {
			pj->host_deleted = true;
			if (pj->user)
				diag_note(d, NULL, 0,
					  "namespace \"%s\" is still in use (process %ld): "
					  "deleted \"%s\" explicitly",
					  pj->name, (long)pj->user, pj->host_if);
			continue;
		}
		diag_warning(d, NULL, 0,
			     "%s; \"%s\" stays, down and without addresses, until namespace "
			     "\"%s\" is freed",
			     rtnl_req_strerror(q, buf, sizeof(buf)), pj->host_if, pj->name);
	}
	rtnl_batch_reset(b);
	free(rl);
}

/*
 * The host ends that were left to the kernel: no address, and down.
 *
 * Why: the kernel frees them with their namespace only, and a namespace
 * can be held by what the scan of processes does not show: an open
 * descriptor of it, a socket made in it, a single thread that entered it,
 * a process that entered between the scan and now.  A NAME-out that
 * lingers must not be a way out for the jail: with its address and its
 * prefix route, and no jailfw rule left for it, bringing it up would
 * connect the jail to the host unconfined.  Without addresses and down it
 * is inert; it keeps its label, so that the next apply deletes it as a
 * leftover.  (A link going down flushes its IPv6 addresses unless
 * keep_addr_on_down is set, but never the IPv4 ones.)  Cheap: one dump
 * and one request per address, and most of these links are being freed
 * by the kernel anyway (ENODEV then).
 */
static void make_inert(struct prov_plan *pl, struct pjail **v, size_t n, struct diag *d)
{
	struct haddr_ctx h = {pl, NULL, 0};
	struct rtnl_batch *b = &pl->b;
	struct nlmsghdr *nlh;
	size_t i, k;
	int err;

	for (i = 0; i < n; i++) {
		if (!v[i]->host_ifindex || v[i]->host_deleted)
			continue;
		v[i]->nhaddrs = 0;
		*VEC_PUSH(h.by_ifindex, h.n) = v[i];
	}
	if (!h.n)
		return;
	qsort(h.by_ifindex, h.n, sizeof(*h.by_ifindex), prov_pj_ifindex_cmp);
	/* A safety net: its failures are warnings, the jails are gone all the same. */
	err = prov_dump(&pl->host, b, RTM_GETADDR, prov_haddr_cb, &h, prov_haddr_reset,
			"list host addresses", NULL);
	if (err) {
		diag_warning(d, NULL, 0,
			     "list host addresses: %s; the interfaces of removed jails may keep "
			     "theirs until the kernel frees them",
			     strerror(-err));
		goto out;
	}
	rtnl_batch_reset(b);
	for (i = 0; i < h.n; i++) {
		struct pjail *pj = h.by_ifindex[i];
		char buf[PREFIX_STRLEN];

		/* Only a rollback after the commit finds one up. */
		if (pj->brought_up) {
			nlh = rtnl_build_setlink(rtnl_batch_room(b), rtnl_batch_seq(b),
						 pj->host_ifindex, 0, IFF_UP);
			rtnl_batch_add(b, nlh, NULL, pj, "set \"%s\" down", pj->host_if);
		}
		for (k = 0; k < pj->nhaddrs; k++) {
			nlh = rtnl_build_addr(rtnl_batch_room(b), rtnl_batch_seq(b), RTM_DELADDR,
					      pj->host_ifindex, &pj->haddrs[k].addr, false);
			rtnl_batch_add(b, nlh, NULL, pj, "delete address %s from \"%s\"",
				       prov_cidr(&pj->haddrs[k].addr, buf), pj->host_if);
		}
	}
	if (b->nreqs) {
		err = rtnl_talk(&pl->host, b);
		if (err && !rtnl_batch_error(b))
			diag_warning(d, NULL, 0, "netlink: %s", strerror(-err));
		warn_batch(b, d);
	}
	rtnl_batch_reset(b);
out:
	free(h.by_ifindex);
}

/*
 * Remove the namespaces of the jails that leave (down, or an apply that
 * drops them) and are jailfw's, or on rollback those this run made;
 * pj->removed tells which went.  The names go first: from then on no
 * process can enter through them, so one scan of the processes afterwards
 * finds all that are in (only one that already held a descriptor can
 * still get in).  The host ends of the namespaces in use are deleted
 * explicitly, the others made inert (see make_inert) and left to the
 * kernel.  So is the host end of a leaving jail whose namespace someone
 * else removed by name (ip netns delete) while a process was in it.
 */
int prov_drop_namespaces(struct prov_plan *pl, bool rollback, struct diag *d)
{
	struct pjail **v = NULL, **busy = NULL;
	struct netns_id *ids = NULL;
	size_t i, n = 0, nids = 0, nbusy = 0;
	pid_t *users = NULL;
	int err, ret = 0;

	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];

		if (!rollback && pj->action == PJ_REMOVE && pj->ns_gone) {
			if (pj->host_ifindex)
				*VEC_PUSH(v, n) = pj;
			continue;
		}
		if (rollback ? !pj->created_ns : (pj->action != PJ_REMOVE || !pj->ns_ours))
			continue;
		err = netns_delete(pj->name);
		if (err) {
			diag_error(d, prov_pj_loc(pj), 0, "delete namespace \"%s\": %s", pj->name,
				   strerror(-err));
			ret = ret ? ret : err;
			continue;
		}
		pj->removed = true;
		if (pj->host_ifindex)
			*VEC_PUSH(v, n) = pj;
	}
	if (!n || !pl->host_open)
		goto out;
	ids = xcalloc(n, sizeof(*ids));
	for (i = 0; i < n; i++)
		if (v[i]->ns.ino)
			ids[nids++] = v[i]->ns;
	users = xcalloc(n, sizeof(*users));
	err = netns_find_users(ids, nids, users);
	if (err < 0)
		diag_warning(d, NULL, 0,
			     "cannot tell which jail namespaces are still in use (/proc: %s): "
			     "deleting their interfaces one by one",
			     strerror(-err));
	for (i = nids = 0; i < n; i++) {
		struct pjail *pj = v[i];

		pj->user = 0;
		if (pj->ns.ino)
			pj->user = users[nids++];
		if (err < 0 || pj->user)
			*VEC_PUSH(busy, nbusy) = pj;
	}
	if (nbusy)
		delete_in_use(pl, busy, nbusy, d);
	make_inert(pl, v, n, d);
out:
	free(v);
	free(busy);
	free(ids);
	free(users);
	return ret;
}

/* ---- down ---- */

int prov_down_cut(struct prov_plan **planp, struct diag *d)
{
	struct prov_plan *pl = prov_plan_new();
	size_t i;
	int err;

	*planp = pl;
	err = prov_load_state(pl, d);
	if (err)
		return err;
	state_copy(&pl->st, &pl->old);
	pl->table = pl->old.table ? xstrdup(pl->old.table) : NULL;
	pl->phase = PLAN_DOWN_CUT;
	if (!pl->old.njails && !pl->old.nsysctls)
		return 0;
	/* The restores come last: a read-only /proc/sys refuses them now, before any cut. */
	for (i = 0; i < pl->old.nsysctls; i++) {
		const struct state_sysctl *rec = &pl->old.sysctls[i];
		char *cur = NULL;

		if (!sysctl_read(rec->key, &cur) && !strcmp(cur, rec->set))
			err = prov_sysctl_writable(rec->key, "", d);
		else
			err = 0;
		free(cur);
		if (err)
			return err;
	}
	pl->st.phase = STATE_DOWN;
	err = prov_save(pl, d);
	if (!err)
		err = prov_open_host(pl, d);
	if (!err)
		err = prov_host_links(pl, d);
	if (err)
		return err;
	for (i = 0; i < pl->old.njails; i++) {
		const struct state_jail *sj = &pl->old.jails[i];
		const struct rtnl_link *hl;
		const char *owner;
		struct pjail *pj;

		/* A uid jail is only its record: it goes with the state. */
		if (sj->backend != BACKEND_NETNS)
			continue;
		pj = prov_add_pjail(pl, sj->name);
		hl = prov_find_hlink(pl, sj->host_if);
		owner = hl ? prov_alias_jail(hl) : NULL;
		pj->action = PJ_REMOVE;
		snprintf(pj->host_if, sizeof(pj->host_if), "%s", sj->host_if);
		snprintf(pj->jail_if, sizeof(pj->jail_if), "%s", sj->jail_if);
		if (owner && !strcmp(owner, pj->name)) {
			pj->host_ifindex = hl->ifindex;
			pj->host_flags = hl->flags;
		}
		prov_add_change(pl, "remove jail %s", pj->name);
	}
	return prov_set_links(pl, false, prov_want_cut, d);
}

/*
 * Which namespaces of the jails are jailfw's to remove; those that are not
 * are said, and make down end with -EEXIST.  Returns whether there was one.
 */
static bool down_claim_namespaces(struct prov_plan *pl, struct diag *d)
{
	bool foreign = false;
	size_t i;
	int err;

	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];
		struct state_jail *sj = state_find_jail(&pl->old, pj->name);
		struct netns_id id;
		bool proven = true;
		int fd;

		err = netns_open(pj->name, &fd, &id);
		if (!err) {
			pj->ns = id;
			pj->ns_ours = !sj->ns.ino || netns_id_eq(&sj->ns, &id);
			if (pj->ns_ours && !prov_ns_is_ours(pl, pj, fd))
				pj->ns_ours = proven = false;
			close(fd);
		} else {
			pj->ns_ours = err == -ENODATA && !sj->ns.ino;
			pj->ns_gone = err == -ENOENT;
			pj->ns = sj->ns;
		}
		if (!proven) {
			prov_say_unproven(d, NULL, pj, true);
			foreign = true;
		} else if (!err && !pj->ns_ours) {
			diag_error(d, NULL, 0,
				   "namespace \"%s\" is not the one jailfw created (%s/%s); left "
				   "alone",
				   pj->name, NETNS_RUN_DIR, pj->name);
			foreign = true;
		} else if ((err == -ENODATA && !pj->ns_ours) || err == -EMEDIUMTYPE) {
			char what[160];

			diag_error(d, NULL, 0,
				   "%s/%s is not the namespace jailfw made (it is %s); left alone",
				   NETNS_RUN_DIR, pj->name,
				   netns_what(pj->name, what, sizeof(what)));
			foreign = true;
		}
	}
	return foreign;
}

/* resolv.conf files and /etc/netns directories of the jails that went. */
static int down_remove_files(struct prov_plan *pl, struct diag *d)
{
	size_t i;
	int err, ret = 0;

	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];
		struct state_jail *sj = state_find_jail(&pl->old, pj->name);

		if (pj->ns_ours && !pj->removed)
			continue;
		pj->removed = true;
		err = prov_remove_jail_files(pj, sj, d);
		ret = ret ? ret : err;
	}
	return ret;
}

/* The sysctls jailfw set, given back where nobody changed them since. */
static int down_restore_sysctls(struct prov_plan *pl, struct diag *d)
{
	size_t i;
	int err, ret = 0;

	for (i = 0; i < 2 * pl->old.nsysctls; i++) {
		const struct state_sysctl *rec = &pl->old.sysctls[i % pl->old.nsysctls];
		char name[PATH_MAX], *cur = NULL;

		if (!prov_restore_pass(rec->key, (int)(i / pl->old.nsysctls)))
			continue;
		sysctl_name(rec->key, name, sizeof(name));
		if (!sysctl_read(rec->key, &cur) && strcmp(cur, rec->set) &&
		    !strcmp(cur, rec->old)) {
			/* Restored already (a down killed after it), or never set. */
		} else if (cur && prov_fwd4_shared(rec->key)) {
			diag_note(d, NULL, 0,
				  "%s left at %s: forwarding is on for every interface now "
				  "(net.ipv4.ip_forward = 1), not by jailfw",
				  name, cur);
		} else if (!cur || strcmp(cur, rec->set)) {
			diag_warning(d, NULL, 0,
				     "%s was changed since jailfw set it to %s; left alone", name,
				     rec->set);
		} else {
			err = sysctl_write(rec->key, rec->old);
			if (err) {
				diag_error(d, NULL, 0, "restore %s = %s: %s", name, rec->old,
					   strerror(-err));
				ret = ret ? ret : err;
			} else {
				diag_note(d, NULL, 0, "restored %s = %s (was %s)", name, rec->old,
					  rec->set);
				prov_add_change(pl, "restore %s = %s (was %s)", name, rec->old,
						rec->set);
			}
		}
		free(cur);
	}
	return ret;
}

int prov_down_finish(struct prov_plan *pl, struct diag *d)
{
	bool foreign;
	int err, ret;

	if (!pl || pl->phase != PLAN_DOWN_CUT)
		return -EINVAL;
	foreign = down_claim_namespaces(pl, d);
	ret = prov_drop_namespaces(pl, false, d);
	testhook_point("netns-removed");
	err = down_remove_files(pl, d);
	ret = ret ? ret : err;
	err = down_restore_sysctls(pl, d);
	ret = ret ? ret : err;
	testhook_point("sysctls-restored");
	if (!ret) {
		state_drop_next(); /* left by an apply killed before its commit */
		err = state_remove();
		if (err) {
			diag_error(d, NULL, 0, "remove state \"%s\": %s", STATE_FILE,
				   strerror(-err));
			ret = err;
		}
	}
	testhook_point("state-removed");
	pl->phase = PLAN_DOWN_DONE;
	if (!ret && foreign)
		ret = -EEXIST;
	return ret;
}
