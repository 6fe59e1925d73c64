// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Provisioning's netlink plumbing: one talker, one dumper, and what the
 * dumps of the host and of a jail's namespace find.
 */
#include "provision_int.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Send the batch and report every failed request, located at its jail
 * when the request's ctx is one (requests without a reply callback).
 */
/*
 * Send the batch; every failed request is reported at its jail.  A request
 * that failed with exactly ignore (a -errno, or 0 for none) counts as done.
 */
int prov_talk_ignoring(struct rtnl *r, struct rtnl_batch *b, int ignore, struct diag *d)
{
	char buf[1024];
	size_t i;
	int err, real = 0;

	err = rtnl_talk(r, b);
	if (!err)
		return 0;
	if (!rtnl_batch_error(b)) {
		diag_error(d, NULL, 0, "netlink: %s", strerror(-err));
		return err;
	}
	for (i = 0; i < b->nreqs; i++) {
		const struct rtnl_req *q = &b->reqs[i];

		if (!q->err || (ignore && q->err == ignore))
			continue;
		real = q->err;
		diag_error(d, q->cb ? NULL : prov_pj_loc(q->ctx), 0, "%s",
			   rtnl_req_strerror(q, buf, sizeof(buf)));
	}
	return real ? err : 0;
}

int prov_talk(struct rtnl *r, struct rtnl_batch *b, struct diag *d)
{
	return prov_talk_ignoring(r, b, 0, d);
}

/*
 * One dump (rtnl_dump: asked again while concurrent changes interrupt
 * it).  A failure is reported as an error through d, unless d is NULL.
 */
int prov_dump(struct rtnl *r, struct rtnl_batch *b, uint16_t type, rtnl_reply_cb cb, void *ctx,
	      void (*reset)(void *ctx), const char *what, struct diag *d)
{
	int err = rtnl_dump(r, b, type, cb, ctx, reset, what);

	if (err && d) {
		const struct rtnl_req *q = rtnl_batch_error(b);
		char buf[512];

		if (q)
			diag_error(d, NULL, 0, "%s", rtnl_req_strerror(q, buf, sizeof(buf)));
		else
			diag_error(d, NULL, 0, "%s: %s", what, strerror(-err));
	}
	rtnl_batch_reset(b);
	return err;
}

struct alt_ctx {
	struct prov_plan *pl;
	const char *owner;
};

static void add_altname(const char *name, void *ctx)
{
	struct alt_ctx *c = ctx;
	struct altname *a;

	if (strlen(name) >= IF_NAMESIZE)
		return; /* no jail's interface can be named that */
	a = VEC_PUSH(c->pl->alts, c->pl->nalts);
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->owner, sizeof(a->owner), "%s", c->owner);
}

/* Host links, sorted by name for lookups. */
static int hlink_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct prov_plan *pl = ctx;
	struct rtnl_link l;

	if (rtnl_parse_link(nlh, &l)) {
		struct alt_ctx c = {pl, l.name};

		*VEC_PUSH(pl->hlinks, pl->nhlinks) = l;
		rtnl_link_altnames(nlh, add_altname, &c);
	}
	return 0;
}

static void hlink_reset(void *ctx)
{
	struct prov_plan *pl = ctx;

	pl->nhlinks = 0;
	pl->nalts = 0;
}

static int altname_cmp(const void *a, const void *b)
{
	return strcmp(((const struct altname *)a)->name, ((const struct altname *)b)->name);
}

/* The link that has name as an alternative name, or NULL. */
const struct altname *prov_find_altname(const struct prov_plan *pl, const char *name)
{
	struct altname key;

	if (!pl->nalts)
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, pl->alts, pl->nalts, sizeof(key), altname_cmp);
}

static int hlink_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rtnl_link *)a)->name, ((const struct rtnl_link *)b)->name);
}

const struct rtnl_link *prov_find_hlink(const struct prov_plan *pl, const char *name)
{
	struct rtnl_link key;

	if (!pl->nhlinks)
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, pl->hlinks, pl->nhlinks, sizeof(key), hlink_cmp);
}

/* Host addresses, handed to the jails whose NAME-out carries them. */
int prov_pj_ifindex_cmp(const void *a, const void *b)
{
	const struct pjail *x = *(struct pjail *const *)a, *y = *(struct pjail *const *)b;

	return (x->host_ifindex > y->host_ifindex) - (x->host_ifindex < y->host_ifindex);
}

int prov_haddr_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct haddr_ctx *h = ctx;
	struct pjail key = {.host_ifindex = 0}, *kp = &key, **found;
	struct rtnl_addr a;

	if (!rtnl_parse_addr(nlh, &a))
		return 0;
	key.host_ifindex = a.ifindex;
	found = bsearch(&kp, h->by_ifindex, h->n, sizeof(kp), prov_pj_ifindex_cmp);
	if (found)
		*VEC_PUSH((*found)->haddrs, (*found)->nhaddrs) = a;
	return 0;
}

void prov_haddr_reset(void *ctx)
{
	struct haddr_ctx *h = ctx;
	size_t i;

	for (i = 0; i < h->n; i++)
		h->by_ifindex[i]->nhaddrs = 0;
}

/* ---- the jail side ---- */

int prov_jlink_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct pjail *pj = ctx;
	struct rtnl_link l;

	if (!rtnl_parse_link(nlh, &l))
		return 0;
	if (l.flags & IFF_LOOPBACK) {
		pj->lo_ifindex = l.ifindex;
		pj->lo_flags = l.flags;
		pj->lo_marked = !strcmp(l.alias, pj->alias);
	} else if (!strcmp(l.name, pj->jail_if)) {
		pj->jail_ifindex = l.ifindex;
		pj->jail_flags = l.flags;
		pj->jail_iflink = l.iflink;
		/* -1, not sent: a kernel without IPv6, nothing to solicit. */
		pj->fix_ra = l.accept_ra > 0;
		snprintf(pj->ra_was, sizeof(pj->ra_was), "%d", l.accept_ra);
		pj->fix_agm = pj->has_v6 && l.addr_gen_mode >= 0 && l.addr_gen_mode != AGM_NONE;
		snprintf(pj->jail_kind, sizeof(pj->jail_kind), "%s", l.kind);
	}
	return 0;
}

void prov_jlink_reset(void *ctx)
{
	struct pjail *pj = ctx;

	pj->lo_ifindex = pj->jail_ifindex = pj->jail_iflink = 0;
	pj->lo_flags = pj->jail_flags = 0;
	pj->lo_marked = false;
	pj->jail_kind[0] = '\0';
	pj->fix_ra = pj->fix_agm = false;
}

static int jaddr_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct pjail *pj = ctx;
	struct rtnl_addr a;

	if (rtnl_parse_addr(nlh, &a) && pj->jail_ifindex && a.ifindex == pj->jail_ifindex)
		*VEC_PUSH(pj->jaddrs, pj->njaddrs) = a;
	return 0;
}

static void jaddr_reset(void *ctx)
{
	((struct pjail *)ctx)->njaddrs = 0;
}

static int jroute_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct pjail *pj = ctx;
	struct rtnl_route r;

	if (rtnl_parse_route(nlh, &r) && r.dst.len == 0 && r.table == RT_TABLE_MAIN &&
	    r.type == RTN_UNICAST)
		*VEC_PUSH(pj->routes, pj->nroutes) = r;
	return 0;
}

static void jroute_reset(void *ctx)
{
	((struct pjail *)ctx)->nroutes = 0;
}

/* Runs inside the jail's namespace: what is there now. */
int prov_jail_snapshot(void *ctx)
{
	struct snap_ctx *c = ctx;
	struct pjail *pj = c->pj;
	struct rtnl_batch b;
	struct rtnl r;
	int err;

	err = rtnl_open(&r);
	if (err) {
		if (c->d)
			diag_error(c->d, prov_pj_loc(pj), 0, "open netlink in namespace \"%s\": %s",
				   pj->name, strerror(-err));
		return err;
	}
	rtnl_batch_init(&b);
	err =
	    prov_dump(&r, &b, RTM_GETLINK, prov_jlink_cb, pj, prov_jlink_reset, "list links", c->d);
	if (!err && !c->links_only)
		err = prov_dump(&r, &b, RTM_GETADDR, jaddr_cb, pj, jaddr_reset, "list addresses",
				c->d);
	if (!err && !c->links_only)
		err = prov_dump(&r, &b, RTM_GETROUTE, jroute_cb, pj, jroute_reset, "list routes",
				c->d);
	rtnl_batch_free(&b);
	rtnl_close(&r);
	return err;
}

int prov_open_host(struct prov_plan *pl, struct diag *d)
{
	int err = rtnl_open(&pl->host);

	if (err) {
		diag_error(d, NULL, 0, "open rtnetlink socket: %s", strerror(-err));
		return err;
	}
	pl->host_open = true;
	return 0;
}

int prov_host_links(struct prov_plan *pl, struct diag *d)
{
	int err = prov_dump(&pl->host, &pl->b, RTM_GETLINK, hlink_cb, pl, hlink_reset,
			    "list host links", d);

	if (!err && pl->nhlinks)
		qsort(pl->hlinks, pl->nhlinks, sizeof(*pl->hlinks), hlink_cmp);
	if (!err && pl->nalts)
		qsort(pl->alts, pl->nalts, sizeof(*pl->alts), altname_cmp);
	return err;
}

/*
 * The host links named names[0..n), one RTM_GETLINK each instead of a
 * dump: the kernel fills every veth's IFLA_LINK_NETNSID by walking the
 * host's namespace ids, so a dump costs links x namespaces, a lookup one
 * walk.  A name that is another link's alternative name answers with that
 * link, whose altnames are recorded as the dump's are.  ENODEV: no such
 * link, as absent as from a dump.
 */
int prov_host_links_named(struct prov_plan *pl, const char **names, size_t n, struct diag *d)
{
	struct rtnl_batch *b = &pl->b;
	struct nlmsghdr *nlh;
	size_t i;
	int err = 0;

	hlink_reset(pl);
	rtnl_batch_reset(b);
	for (i = 0; i < n; i++) {
		nlh = rtnl_build_getlink(rtnl_batch_room(b), rtnl_batch_seq(b), names[i]);
		rtnl_batch_add(b, nlh, hlink_cb, pl, "look up host link \"%s\"", names[i]);
	}
	if (b->nreqs)
		err = prov_talk_ignoring(&pl->host, b, -ENODEV, d);
	rtnl_batch_reset(b);
	if (!err && pl->nhlinks)
		qsort(pl->hlinks, pl->nhlinks, sizeof(*pl->hlinks), hlink_cmp);
	if (!err && pl->nalts)
		qsort(pl->alts, pl->nalts, sizeof(*pl->alts), altname_cmp);
	return err;
}

int prov_host_addrs(struct prov_plan *pl, struct diag *d)
{
	struct haddr_ctx h = {pl, NULL, 0};
	size_t i;
	int err;

	for (i = 0; i < pl->njails; i++)
		if (pl->jails[i].action == PJ_KEEP && pl->jails[i].host_ifindex)
			*VEC_PUSH(h.by_ifindex, h.n) = &pl->jails[i];
	if (!h.n)
		return 0;
	qsort(h.by_ifindex, h.n, sizeof(*h.by_ifindex), prov_pj_ifindex_cmp);
	err = prov_dump(&pl->host, &pl->b, RTM_GETADDR, prov_haddr_cb, &h, prov_haddr_reset,
			"list host addresses", d);
	free(h.by_ifindex);
	return err;
}
