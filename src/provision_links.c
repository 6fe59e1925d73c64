// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The links, addresses and routes of a jail's veth pair: the requests that
 * bring them to what the policy says.
 */
#include "provision_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <string.h>

static bool prov_has_addr(const struct rtnl_addr *v, size_t n, const struct prefix *want)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (prov_addr_eq(&v[i].addr, want))
			return true;
	return false;
}

static struct prefix jail_link_local(void)
{
	struct prefix ll = {.family = AF_INET6, .len = 64};

	inet_pton(AF_INET6, JAIL_LINK_LOCAL, ll.addr.b);
	return ll;
}

/*
 * Addresses that are not jailfw's to keep: never the host side's
 * link-local ones (the kernel's), on the jail side every link-local one
 * but JAIL_LINK_LOCAL when the jail has IPv6.
 */
static bool addr_unwanted(const struct rtnl_addr *a, const struct pjail *pj, bool host)
{
	struct prefix want;

	if (a->addr.family == AF_INET6 && a->scope != RT_SCOPE_UNIVERSE) {
		want = jail_link_local();
		return !host && pj->has_v6 && a->scope == RT_SCOPE_LINK &&
		       !prov_addr_eq(&a->addr, &want);
	}
	if (a->addr.family == AF_INET) {
		if (!pj->has_v4)
			return true;
		want = prov_side_addr(&pj->v4, host);
	} else {
		if (!pj->has_v6)
			return true;
		want = prov_side_addr(&pj->v6, host);
	}
	return !prov_addr_eq(&a->addr, &want);
}

/*
 * Add (RTM_NEWADDR) or delete (RTM_DELADDR) a on the host or the jail end
 * of pj's pair.  IPv6 addresses are added with IFA_F_NODAD.  Duplicate
 * address detection would first send neighbour solicitations and keep the
 * address "tentative", unusable as a source or a gateway, for about a
 * second (longer while the link is still down: DAD only starts once it is
 * up), which breaks the jail's default route in the meantime.  Both ends of
 * this veth are jailfw's and the prefix is the jail's own, so a duplicate
 * cannot exist: skip the wait.
 */
void prov_batch_addr(struct pjail *pj, struct rtnl_batch *b, uint16_t type, bool host,
		     const struct prefix *a)
{
	bool add = type == RTM_NEWADDR;
	const char *verb = add ? "add" : "delete", *prep = add ? "to" : "from";
	char buf[PREFIX_STRLEN];
	struct nlmsghdr *nlh;

	nlh = rtnl_build_addr(rtnl_batch_room(b), rtnl_batch_seq(b), type,
			      host ? pj->host_ifindex : pj->jail_ifindex, a,
			      add && a->family == AF_INET6);
	if (host)
		rtnl_batch_add(b, nlh, NULL, pj, "%s address %s %s \"%s\"", verb, prov_cidr(a, buf),
			       prep, pj->host_if);
	else
		rtnl_batch_add(b, nlh, NULL, pj, "%s address %s %s \"%s\" in namespace \"%s\"",
			       verb, prov_cidr(a, buf), prep, pj->jail_if, pj->name);
}

/* The addresses on one end of the pair that are not jailfw's to keep go. */
static void delete_unwanted(struct pjail *pj, struct rtnl_batch *b, bool host)
{
	const struct rtnl_addr *v = host ? pj->haddrs : pj->jaddrs;
	size_t i, n = host ? pj->nhaddrs : pj->njaddrs;

	for (i = 0; i < n; i++)
		if (addr_unwanted(&v[i], pj, host))
			prov_batch_addr(pj, b, RTM_DELADDR, host, &v[i].addr);
}

/* jailfw's label on the jail's lo: see ns_proven. */
void prov_add_lo_label(struct pjail *pj, struct rtnl_batch *b)
{
	struct nlmsghdr *nlh;

	nlh = rtnl_build_alias(rtnl_batch_room(b), rtnl_batch_seq(b), "lo", pj->alias);
	rtnl_batch_add(b, nlh, NULL, pj, "set alias \"%s\" on \"lo\" in namespace \"%s\"",
		       pj->alias, pj->name);
}

/*
 * The requests that bring the jail side to what the policy says, from the
 * snapshot: nothing at all when it already matches.  Order matters: links
 * up, new addresses, routes via the new gateway (reachable through the
 * new address's prefix route), and only then the old addresses go.
 */
void prov_build_jail_fix(struct pjail *pj, struct rtnl_batch *b)
{
	struct nlmsghdr *nlh;
	const struct prefix *nets[2] = {pj->has_v4 ? &pj->v4 : NULL, pj->has_v6 ? &pj->v6 : NULL};
	const int fams[2] = {AF_INET, AF_INET6};
	char buf[PREFIX_STRLEN];
	struct prefix a, gw;
	size_t i, k;

	if (pj->lo_ifindex && !pj->lo_marked)
		prov_add_lo_label(pj, b);
	if (pj->lo_ifindex && !(pj->lo_flags & IFF_UP)) {
		nlh = rtnl_build_setlink(rtnl_batch_room(b), rtnl_batch_seq(b), pj->lo_ifindex,
					 IFF_UP, IFF_UP);
		rtnl_batch_add(b, nlh, NULL, pj, "set \"lo\" up in namespace \"%s\"", pj->name);
	}
	if (!(pj->jail_flags & IFF_UP)) {
		nlh = rtnl_build_setlink(rtnl_batch_room(b), rtnl_batch_seq(b), pj->jail_ifindex,
					 IFF_UP, IFF_UP);
		rtnl_batch_add(b, nlh, NULL, pj, "set \"%s\" up in namespace \"%s\"", pj->jail_if,
			       pj->name);
	}
	for (i = 0; i < 3; i++) {
		if (i < 2 && !nets[i])
			continue;
		if (i == 2 && !pj->has_v6)
			continue;
		a = i < 2 ? prov_side_addr(nets[i], false) : jail_link_local();
		if (!prov_has_addr(pj->jaddrs, pj->njaddrs, &a))
			prov_batch_addr(pj, b, RTM_NEWADDR, false, &a);
	}
	for (i = 0; i < 2; i++) {
		bool ok = false;

		if (nets[i]) {
			gw = prov_side_addr(nets[i], true);
			for (k = 0; k < pj->nroutes; k++) {
				const struct rtnl_route *r = &pj->routes[k];

				if (r->dst.family == fams[i] && r->oif == pj->jail_ifindex &&
				    r->has_gw && prov_same_ip(&r->gw, &gw))
					ok = true;
			}
			if (ok)
				continue;
			/* CREATE|REPLACE: adds it, or replaces a default route in its way. */
			nlh =
			    rtnl_build_defroute(rtnl_batch_room(b), rtnl_batch_seq(b), RTM_NEWROUTE,
						NLM_F_REPLACE, pj->jail_ifindex, &gw);
			rtnl_batch_add(b, nlh, NULL, pj,
				       "set default route via %s in namespace \"%s\"",
				       addr_str(&gw, buf), pj->name);
			continue;
		}
		/* The family left the jail: its default route via NAME-in goes. */
		for (k = 0; k < pj->nroutes; k++) {
			const struct rtnl_route *r = &pj->routes[k];

			if (r->dst.family != fams[i] || r->oif != pj->jail_ifindex || !r->has_gw)
				continue;
			nlh = rtnl_build_defroute(rtnl_batch_room(b), rtnl_batch_seq(b),
						  RTM_DELROUTE, 0, r->oif, &r->gw);
			rtnl_batch_add(b, nlh, NULL, pj,
				       "delete default route via %s in namespace \"%s\"",
				       addr_str(&r->gw, buf), pj->name);
		}
	}
	delete_unwanted(pj, b, false);
}

/* The same for NAME-out, on the host. */
void prov_build_host_fix(struct pjail *pj, struct rtnl_batch *b)
{
	struct nlmsghdr *nlh;
	const struct prefix *nets[2] = {pj->has_v4 ? &pj->v4 : NULL, pj->has_v6 ? &pj->v6 : NULL};
	struct prefix a;
	size_t i;

	if (pj->fix_alias) {
		nlh =
		    rtnl_build_alias(rtnl_batch_room(b), rtnl_batch_seq(b), pj->host_if, pj->alias);
		rtnl_batch_add(b, nlh, NULL, pj, "set alias \"%s\" on \"%s\"", pj->alias,
			       pj->host_if);
	}
	for (i = 0; i < 2; i++) {
		if (!nets[i])
			continue;
		a = prov_side_addr(nets[i], true);
		if (!prov_has_addr(pj->haddrs, pj->nhaddrs, &a))
			prov_batch_addr(pj, b, RTM_NEWADDR, true, &a);
	}
	delete_unwanted(pj, b, true);
}

/* Describe a batch's requests as plan changes (for KEEP jails' fixes). */
void prov_batch_changes(struct prov_plan *pl, struct rtnl_batch *b)
{
	size_t i;

	for (i = 0; i < b->nreqs; i++)
		prov_add_change(pl, "%s", b->reqs[i].what);
	rtnl_batch_reset(b);
}

/* Set the host ends of the jails that want() up or down, in one batch. */
int prov_set_links(struct prov_plan *pl, bool up, bool (*want)(const struct pjail *),
		   struct diag *d)
{
	struct nlmsghdr *nlh;
	size_t i;
	int err;

	rtnl_batch_reset(&pl->b);
	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];

		if (!want(pj))
			continue;
		nlh = rtnl_build_setlink(rtnl_batch_room(&pl->b), rtnl_batch_seq(&pl->b),
					 pj->host_ifindex, up ? IFF_UP : 0, IFF_UP);
		rtnl_batch_add(&pl->b, nlh, NULL, pj, "set \"%s\" %s", pj->host_if,
			       up ? "up" : "down");
	}
	if (!pl->b.nreqs)
		return 0;
	err = prov_talk(&pl->host, &pl->b, d);
	for (i = 0; i < pl->b.nreqs; i++) {
		struct pjail *pj = pl->b.reqs[i].ctx;

		if (pl->b.reqs[i].err)
			continue;
		if (up)
			pj->brought_up = true;
		else
			pj->took_down = true;
	}
	rtnl_batch_reset(&pl->b);
	return err;
}

bool prov_want_cut(const struct pjail *pj)
{
	return pj->action == PJ_REMOVE && pj->host_ifindex && (pj->host_flags & IFF_UP);
}

int prov_delete_stale(struct prov_plan *pl, struct diag *d)
{
	struct nlmsghdr *nlh;
	size_t i;
	int err;

	rtnl_batch_reset(&pl->b);
	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];

		if (pj->clear_file) {
			err = netns_delete(pj->name);
			if (err) {
				diag_error(d, prov_pj_loc(pj), 0, "remove %s/%s: %s", NETNS_RUN_DIR,
					   pj->name, strerror(-err));
				return err;
			}
		}
		if (pj->stale_host) {
			nlh = rtnl_build_dellink(rtnl_batch_room(&pl->b), rtnl_batch_seq(&pl->b),
						 pj->stale_host);
			rtnl_batch_add(&pl->b, nlh, NULL, pj, "delete leftover interface \"%s\"",
				       pj->host_if);
		}
		if (pj->old_host) {
			nlh = rtnl_build_dellink(rtnl_batch_room(&pl->b), rtnl_batch_seq(&pl->b),
						 pj->old_host);
			rtnl_batch_add(&pl->b, nlh, NULL, pj, "delete interface \"%s\"",
				       pj->old_host_if);
		}
	}
	if (!pl->b.nreqs)
		return 0;
	/*
	 * Slow (the kernel waits for RCU grace periods when a veth goes), but
	 * only after a namespace was deleted and made again right away, or
	 * when a jail's ifname changed.  A leftover is usually the host end
	 * of a namespace deleted a moment ago, which the kernel frees on its
	 * own, asynchronously: gone by the time we ask (ENODEV) is what we
	 * wanted.
	 */
	err = prov_talk_ignoring(&pl->host, &pl->b, -ENODEV, d);
	rtnl_batch_reset(&pl->b);
	return err;
}
