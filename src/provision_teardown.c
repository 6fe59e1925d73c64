// SPDX-License-Identifier: GPL-2.0-or-later
/* Teardown: namespaces removed, and their veths with them. */
#include "provision_int.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

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
 * The addresses of the host ends of v[0..n) deleted and, with down, those
 * this run brought up set down, in one batch after one dump of the host's
 * addresses.  Best effort: failures are warnings.  The addresses go before
 * the link goes down: a link going down with IPv4 routes through it makes
 * the kernel walk every route of the host (fib_flush), O(jails) for each
 * link, while deleting an address removes its own routes alone and leaves
 * the link nothing to flush (docs/ruleset.md, "netns jails at scale").
 */
static void strip_host_ends(struct prov_plan *pl, struct pjail **v, size_t n, bool down,
			    struct diag *d)
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

		for (k = 0; k < pj->nhaddrs; k++)
			prov_batch_addr(pj, b, RTM_DELADDR, true, &pj->haddrs[k].addr);
		/* Only a rollback after the commit finds one up. */
		if (down && pj->brought_up) {
			nlh = rtnl_build_setlink(rtnl_batch_room(b), rtnl_batch_seq(b),
						 pj->host_ifindex, 0, IFF_UP);
			rtnl_batch_add(b, nlh, NULL, pj, "set \"%s\" down", pj->host_if);
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
	strip_host_ends(pl, v, n, true, d);
}

void prov_unaddr_cut(struct prov_plan *pl, struct diag *d)
{
	struct pjail **v = NULL;
	size_t i, n = 0;

	for (i = 0; i < pl->njails; i++)
		if (prov_want_cut(&pl->jails[i]))
			*VEC_PUSH(v, n) = &pl->jails[i];
	strip_host_ends(pl, v, n, false, d);
	free(v);
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
