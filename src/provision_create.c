// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Making a jail's namespace and veth pair, and fixing the jail side of one
 * that exists.
 */
#include "provision_int.h"

#include <errno.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testhook.h"

struct fix_ctx {
	struct pjail *pj;
	struct diag *d;
	int proc; /* the proc instance for sysctls, or -1: /proc */
};

struct conf6_val {
	const char *name, *val;
};

/*
 * Write v[0..n) into net/ipv6/conf/IFNAME of the calling thread's
 * namespace through proc (sysctl_open_dir), the directory looked up once.
 * On failure, *bad is the setting that failed and key its key.
 */
static int write_conf6(int proc, const char *ifname, const struct conf6_val *v, size_t n,
		       const struct conf6_val **bad, char key[PATH_MAX])
{
	size_t i;
	int dir, err;

	snprintf(key, PATH_MAX, "net/ipv6/conf/%s", ifname);
	dir = sysctl_open_dir(proc, key);
	err = dir < 0 ? dir : 0;
	*bad = v;
	for (i = 0; !err && i < n; i++) {
		*bad = &v[i];
		err = sysctl_write_at(dir, v[i].name, v[i].val);
	}
	if (dir >= 0)
		close(dir);
	if (err)
		snprintf(key, PATH_MAX, "net/ipv6/conf/%s/%s", ifname, (*bad)->name);
	return err;
}

/*
 * Inside the jail, before NAME-in comes up: its accept_ra to 0, and its
 * addr_gen_mode to none (the link-local address it has is dealt with by
 * prov_build_jail_fix).
 */
static int write_jail_ra(void *ctx)
{
	struct fix_ctx *c = ctx;
	char key[PATH_MAX], name[PATH_MAX];
	const struct conf6_val *bad;
	struct conf6_val v[2];
	size_t n = 0;
	int err;

	if (c->pj->fix_ra)
		v[n++] = (struct conf6_val){"accept_ra", "0"};
	if (c->pj->fix_agm)
		v[n++] = (struct conf6_val){"addr_gen_mode", "1"};
	err = n ? write_conf6(c->proc, c->pj->jail_if, v, n, &bad, key) : 0;
	if (err)
		diag_error(c->d, prov_pj_loc(c->pj), 0, "set %s in namespace \"%s\": %s",
			   sysctl_name(key, name, sizeof(name)), c->pj->name, strerror(-err));
	return err;
}

/*
 * Runs inside a jail's namespace, before its veth exists (and, for a new
 * namespace, before it has its name: netns_create): the socket stays
 * bound to the namespace; the namespace's default accept_ra becomes 0,
 * which NAME-in inherits when the kernel creates it there, so that it
 * never solicits a router, not even at its first link up (no window
 * between creation and a write to NAME-in's own setting); its default
 * addr_gen_mode becomes 1, so NAME-in makes no link-local address of its
 * own (AGM_DEFAULT); and its lo gets jailfw's label, the proof that the
 * namespace is jailfw's (ns_proven).
 */
static int open_jail_socket(void *ctx)
{
	/* RA_DEFAULT and AGM_DEFAULT */
	static const struct conf6_val defaults[] = {{"accept_ra", "0"}, {"addr_gen_mode", "1"}};
	struct fix_ctx *c = ctx;
	struct pjail *pj = c->pj;
	char key[PATH_MAX], name[PATH_MAX];
	const struct conf6_val *bad;
	struct rtnl_batch b;
	int err;

	/*
	 * Written without reading first (a new namespace has 1; reading
	 * would cost more than writing, and writing 0 over 0 changes
	 * nothing).  ENOENT: a kernel without IPv6, nothing to solicit.
	 */
	err = write_conf6(c->proc, "default", defaults, ARRAY_SIZE(defaults), &bad, key);
	if (err && err != -ENOENT) {
		diag_error(c->d, prov_pj_loc(pj), 0, "set %s = %s in %snamespace \"%s\": %s",
			   sysctl_name(key, name, sizeof(name)), bad->val,
			   pj->action == PJ_CREATE ? "new " : "", pj->name, strerror(-err));
		pj->inside_err = true;
		return err;
	}
	err = rtnl_open(&pj->jr);
	pj->jr_open = !err;
	if (err)
		return err;
	if (pj->action != PJ_CREATE && pj->lo_marked)
		return 0;
	rtnl_batch_init(&b);
	prov_add_lo_label(pj, &b);
	err = prov_talk(&pj->jr, &b, c->d);
	rtnl_batch_free(&b);
	pj->inside_err = err != 0;
	return err;
}

static int create_group(struct prov_plan *pl, struct pjail **grp, size_t n, int proc,
			struct diag *d)
{
	struct nlmsghdr *nlh;
	struct rtnl_batch *b = &pl->b;
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		struct pjail *pj = grp[i];
		struct fix_ctx c = {pj, d, proc};

		pj->inside_err = false;
		if (pj->action == PJ_CREATE) {
			err = netns_create(pj->name, open_jail_socket, &c, &pj->nsfd, &pj->ns);
			if (err) {
				if (!pj->inside_err)
					diag_error(d, prov_pj_loc(pj), 0,
						   "create namespace \"%s\": %s", pj->name,
						   strerror(-err));
				break;
			}
			pj->created_ns = true;
			state_find_jail(&pl->st, pj->name)->ns = pj->ns;
			testhook_point("netns-created");
		} else {
			err = netns_open(pj->name, &pj->nsfd, &pj->ns);
			if (!err)
				err = netns_run(pj->nsfd, open_jail_socket, &c);
			if (err && !pj->inside_err) {
				diag_error(d, prov_pj_loc(pj), 0, "open namespace \"%s\": %s",
					   pj->name, strerror(-err));
			}
			if (err)
				break;
		}
	}
	if (err)
		return err;

	/* One datagram for the group's veths, one for their labels. */
	rtnl_batch_reset(b);
	for (i = 0; i < n; i++) {
		struct pjail *pj = grp[i];

		nlh = rtnl_build_veth(rtnl_batch_room(b), rtnl_batch_seq(b), pj->host_if,
				      pj->jail_if, pj->nsfd);
		rtnl_batch_add(b, nlh, NULL, pj, "create veth \"%s\"", pj->host_if);
	}
	err = prov_talk(&pl->host, b, d);
	for (i = 0; i < n; i++)
		grp[i]->created_veth = !b->reqs[i].err;
	/* Killed here, the next apply finds the pair without its label. */
	testhook_point("veth-created");
	/*
	 * Only the pairs made just now get the label, addressed by name: had
	 * a create failed with EEXIST, the name would be someone else's link.
	 * The host end of a jail without IPv6 gets no IPv6 address either: no
	 * link-local address the jail could talk to, and none of the kernel's
	 * walks of the host's whole IPv6 routing table each time such a link
	 * comes up or goes down (docs/ruleset.md, "netns jails at scale").  A
	 * kernel without IPv6 refuses that request; nothing is lost then.
	 */
	rtnl_batch_reset(b);
	for (i = 0; i < n; i++) {
		struct pjail *pj = grp[i];

		if (!pj->created_veth)
			continue;
		nlh =
		    rtnl_build_alias(rtnl_batch_room(b), rtnl_batch_seq(b), pj->host_if, pj->alias);
		rtnl_batch_add(b, nlh, NULL, pj, "set alias \"%s\" on \"%s\"", pj->alias,
			       pj->host_if);
		if (pj->has_v6)
			continue;
		nlh = rtnl_build_addr_gen_mode(rtnl_batch_room(b), rtnl_batch_seq(b), pj->host_if,
					       AGM_NONE);
		rtnl_batch_add(b, nlh, NULL, pj, "set addr_gen_mode none on \"%s\"", pj->host_if);
	}
	if (b->nreqs) {
		int e = prov_talk_ignoring(&pl->host, b, -EAFNOSUPPORT, d);

		err = err ? err : e;
	}
	rtnl_batch_reset(b);
	if (err)
		return err;

	for (i = 0; i < n && !err; i++) {
		struct pjail *pj = grp[i];
		struct fix_ctx c = {pj, d, proc};
		struct rtnl_batch jb;

		rtnl_batch_init(&jb);
		prov_jlink_reset(pj);
		pj->njaddrs = pj->nroutes = 0;
		err = prov_dump(&pj->jr, &jb, RTM_GETLINK, prov_jlink_cb, pj, prov_jlink_reset,
				"list links", d);
		if (!err && (!pj->jail_ifindex || !pj->jail_iflink)) {
			diag_error(d, prov_pj_loc(pj), 0,
				   "veth \"%s\" did not appear in namespace \"%s\"", pj->jail_if,
				   pj->name);
			err = -ENODEV;
		}
		/* NAME-in inherited accept_ra 0 (open_jail_socket): or else, now. */
		if (!err && (pj->fix_ra || pj->fix_agm))
			err = netns_run(pj->nsfd, write_jail_ra, &c);
		if (!err) {
			/* A veth end's IFLA_LINK is its peer's ifindex: NAME-out's. */
			pj->host_ifindex = pj->jail_iflink;
			pj->host_flags = 0;
			pj->nhaddrs = 0;
			prov_build_jail_fix(pj, &jb);
			err = prov_talk(&pj->jr, &jb, d);
		}
		rtnl_batch_free(&jb);
		rtnl_close(&pj->jr);
		pj->jr_open = false;
		close(pj->nsfd);
		pj->nsfd = -1;
	}
	return err;
}

/*
 * Make the namespaces and veth pairs of one group of jails.  Their sysctls
 * are written through a proc instance of the group's own: the first
 * lookup of net/ipv6 in a namespace leaves its dentry in the dcache of the
 * proc instance it went through, in one hash chain with every other
 * namespace's, which each later lookup of net/ipv6 through that instance
 * walks twice (proc_sys_compare): through /proc, by anyone on the host, 1
 * to 12 ms a lookup at 5000 jails, most of a new jail's cost
 * (docs/ruleset.md, "netns jails at scale").  The group's instance holds
 * its chain to the group and takes it along when it is closed.  It writes
 * nothing /proc would not: prov_check_env refused a read-only /proc/sys
 * before.  Where no instance can be made (a kernel before 5.2, a
 * container that forbids mounting proc), /proc.
 */
int prov_create_group(struct prov_plan *pl, struct pjail **grp, size_t n, struct diag *d)
{
	int proc = sysctl_proc_instance(), err;

	err = create_group(pl, grp, n, proc < 0 ? -1 : proc, d);
	if (proc >= 0)
		close(proc);
	return err;
}

static int jail_fix_inside(void *ctx)
{
	struct fix_ctx *c = ctx;
	struct rtnl_batch b;
	struct rtnl r;
	int err;

	/* Before any link comes up (prov_build_jail_fix may bring NAME-in up). */
	if (c->pj->fix_ra || c->pj->fix_agm) {
		err = write_jail_ra(c);
		if (err)
			return err;
	}
	rtnl_batch_init(&b);
	prov_build_jail_fix(c->pj, &b);
	if (!b.nreqs) {
		rtnl_batch_free(&b);
		return 0;
	}
	err = rtnl_open(&r);
	if (!err) {
		err = prov_talk(&r, &b, c->d);
		rtnl_close(&r);
	} else {
		diag_error(c->d, prov_pj_loc(c->pj), 0, "open netlink in namespace \"%s\": %s",
			   c->pj->name, strerror(-err));
	}
	rtnl_batch_free(&b);
	return err;
}

/* The jail side of jails whose pair exists: only when something differs. */
int prov_fix_kept(struct pjail *pj, struct diag *d)
{
	struct fix_ctx c = {pj, d, -1};
	struct rtnl_batch b;
	size_t n;
	int fd, err;

	rtnl_batch_init(&b);
	prov_build_jail_fix(pj, &b);
	n = b.nreqs;
	rtnl_batch_free(&b);
	if (!n && !pj->fix_ra && !pj->fix_agm)
		return 0;
	err = netns_open(pj->name, &fd, &pj->ns);
	if (err) {
		diag_error(d, prov_pj_loc(pj), 0, "open namespace \"%s\": %s", pj->name,
			   strerror(-err));
		return err;
	}
	err = netns_run(fd, jail_fix_inside, &c);
	close(fd);
	return err;
}
