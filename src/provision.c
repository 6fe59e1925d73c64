// SPDX-License-Identifier: GPL-2.0-or-later
#include "provision.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "netns.h"
#include "rtnl.h"
#include "state.h"
#include "testhook.h"
#include "util.h"

#define ALIAS_PREFIX "jailfw:"
/*
 * New jails are made in groups: each holds a namespace descriptor and a
 * netlink socket open until its veth exists, and a policy of thousands of
 * jails must not run out of descriptors.
 */
#define CREATE_GROUP 32

/*
 * IPv4 forwarding is decided by the interface a packet comes in on
 * (conf/IF/forwarding; conf/all/forwarding, alias net.ipv4.ip_forward,
 * sets every interface at once).  Where it is off, jailfw turns it on only
 * on the jails' host sides and the wan (FWD4_IF_FMT), never conf/all: the
 * host then routes nothing between its other interfaces, and a program
 * started later (Docker) still sees forwarding off and protects itself
 * (docs/ruleset.md, "Forwarding").  IPv6 forwarding has no such switch
 * before Linux 6.17, so FWD6 is the global one.  FWD4 is read, and only
 * written back where an older jailfw recorded it.
 */
#define FWD4 "net/ipv4/conf/all/forwarding"
#define FWD4_IF_FMT "net/ipv4/conf/%s/forwarding"
#define FWD6 "net/ipv6/conf/all/forwarding"
/*
 * A jail needs no router advertisements (its routes are static), and with
 * accept_ra 1 its kernel solicits routers from the host every few seconds
 * for good, which in_NAME counts (and logs) as drops.  At 0 the kernel
 * sends no router solicitation at all, and stops soliciting at once on a
 * link that already does.  Read from the jail's link dump (rtnl_link's
 * accept_ra); written through /proc/sys from inside the jail, where the
 * jail's own settings are (they are per namespace).
 */
#define RA_DEFAULT "net/ipv6/conf/default/accept_ra"
#define RA_JAIL_FMT "net/ipv6/conf/%s/accept_ra"
/*
 * The jail side's IPv6 link-local address is jailfw's JAIL_LINK_LOCAL, the
 * same on every jail's link, so that in_NAME can accept it and nothing
 * else (render_netns.c): with addr_gen_mode 1 ("none") the kernel makes
 * none of its own, from a MAC address that root in the jail may change.
 * Set like accept_ra, on the namespace's default before NAME-in exists.
 */
#define AGM_DEFAULT "net/ipv6/conf/default/addr_gen_mode"
#define AGM_JAIL_FMT "net/ipv6/conf/%s/addr_gen_mode"
#define AGM_NONE 1 /* IN6_ADDR_GEN_MODE_NONE */

static const char *sysctl_name(const char *key, char *buf, size_t len);
static int sysctl_write(const char *key, const char *val);
struct prov_plan;
static char *committed_text(const struct prov_plan *pl);

enum pj_action {
	PJ_KEEP,   /* in the policy, namespace exists and is jailfw's */
	PJ_CREATE, /* in the policy, namespace to be made */
	PJ_REMOVE, /* jailfw's, no longer in the policy */
};

struct pjail {
	char *name;
	const struct jail *pol; /* NULL for PJ_REMOVE */
	enum pj_action action;
	char host_if[IF_NAMESIZE], jail_if[IF_NAMESIZE];
	char alias[IF_NAMESIZE + sizeof(ALIAS_PREFIX)];
	bool has_v4, has_v6;
	struct prefix v4, v6; /* the jail's prefixes */

	/* What analysis found (a snapshot; stage changes only from it). */
	bool need_veth;	 /* create the veth pair */
	bool clear_file; /* remove an empty /run/netns/NAME first */
	bool ns_ours;	 /* PJ_REMOVE: the namespace may be removed */
	bool ns_gone;	 /* PJ_REMOVE: its name is gone (ns: as recorded) */
	int stale_host;	 /* a leftover NAME-out of jailfw's to delete first */
	int old_host;	 /* the pair under the jail's former ifname, to delete */
	char old_host_if[IF_NAMESIZE];
	bool fix_alias; /* jailfw's link without its alias */
	struct netns_id ns;
	int host_ifindex, host_iflink;
	unsigned int host_flags;
	int jail_ifindex, jail_iflink, lo_ifindex;
	unsigned int jail_flags, lo_flags;
	bool lo_marked; /* its lo carries jailfw's label (see ns_proven) */
	char jail_kind[16];
	struct rtnl_addr *haddrs; /* on NAME-out */
	size_t nhaddrs;
	struct rtnl_addr *jaddrs; /* on NAME-in */
	size_t njaddrs;
	struct rtnl_route *routes; /* default routes of the jail's main table */
	size_t nroutes;
	char *resolv; /* wanted /etc/netns/NAME/resolv.conf, or NULL */
	bool resolv_write, resolv_remove, resolv_existed;
	bool etc_dir_new; /* /etc/netns/NAME is not there: this apply makes it */
	bool fix_ra; /* NAME-in's accept_ra is not 0 (ra_was) */
	char ra_was[16];
	bool fix_agm; /* NAME-in makes a link-local address of its own */

	/* What this run did, for rollback. */
	int nsfd;
	struct rtnl jr;
	bool jr_open;
	bool created_ns, created_veth, took_down, brought_up, removed;
	bool wrote_resolv, made_etc_dir;
	bool inside_err;   /* creation: open_jail_socket failed (and said so) */
	pid_t user;	   /* teardown: a process still in the namespace */
	bool host_deleted; /* teardown: NAME-out deleted explicitly */
};

struct sysop {
	char *key; /* below /proc/sys */
	char *from, *to;
	bool restore; /* at commit: give back a value jailfw had changed */
	bool done;
	bool new_record; /* a change with no state record before this run */
};

/* An alternative name of a host link short enough to be a jail's ifname. */
struct altname {
	char name[IF_NAMESIZE];
	char owner[IF_NAMESIZE]; /* the link's name */
};

enum plan_phase {
	PLAN_ANALYSED,
	PLAN_STAGING,
	PLAN_STAGED,
	PLAN_COMMITTING,
	PLAN_COMMITTED,
	PLAN_ROLLED_BACK,
	PLAN_DOWN_CUT,
	PLAN_DOWN_DONE,
};

struct prov_plan {
	enum plan_phase phase;
	bool dry_run;
	struct state old; /* as loaded */
	struct state st;  /* as it is being written */
	char *table;	  /* recorded by the last apply (down deletes it) */
	char *new_table;  /* the policy's */
	struct pjail *jails;
	size_t njails;
	struct sysop *ops;
	size_t nops;
	char **changes;
	size_t nchanges;
	unsigned int conflicts;
	bool had_state;	 /* the state file existed before this run */
	bool saved;	 /* this run wrote the state file */
	char *next_text; /* the state prepared for the commit (STATE_NEXT) */
	bool host_open;
	struct rtnl host;
	struct rtnl_batch b;
	struct rtnl_link *hlinks; /* the host's links, sorted by name */
	size_t nhlinks;
	struct altname *alts; /* their alternative names, sorted */
	size_t nalts;
	/*
	 * The policy's uid jails, as state records: provisioning has nothing
	 * to do for them, but commit records them, so that the state lists
	 * every jail in force with its user (for `jailfw exec`).
	 */
	struct state uid_jails;
	const char **netns_names; /* the policy's netns jails, sorted (pl->jails owns them) */
	size_t nnetns_names;
};

/* ---- small helpers ---- */

static void PRINTF_LIKE(2, 3) add_change(struct prov_plan *pl, const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	*VEC_PUSH(pl->changes, pl->nchanges) = sb_steal(&sb);
}

static const struct loc *pj_loc(const struct pjail *pj)
{
	return pj->pol ? &pj->pol->loc : NULL;
}

/* "10.97.10.1/24": always with the length, unlike prefix_str. */
static const char *cidr(const struct prefix *p, char buf[PREFIX_STRLEN])
{
	size_t n;

	addr_str(p, buf);
	n = strlen(buf);
	snprintf(buf + n, PREFIX_STRLEN - n, "/%u", p->len);
	return buf;
}

/* The host (.1) or jail (.2) address of a jail prefix, with its length. */
static struct prefix side_addr(const struct prefix *net, bool host)
{
	struct prefix a;

	if (host)
		jail_addr_host(net, &a);
	else
		jail_addr_jail(net, &a);
	a.len = net->len;
	return a;
}

static bool addr_eq(const struct prefix *a, const struct prefix *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->len == b->len && !memcmp(a->addr.b, b->addr.b, n);
}

static bool same_ip(const struct prefix *a, const struct prefix *b)
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

static struct prov_plan *plan_new(void)
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

/* ---- netlink plumbing ---- */

/*
 * Send the batch and report every failed request, located at its jail
 * when the request's ctx is one (requests without a reply callback).
 */
/*
 * Send the batch; every failed request is reported at its jail.  A request
 * that failed with exactly ignore (a -errno, or 0 for none) counts as done.
 */
static int talk_ignoring(struct rtnl *r, struct rtnl_batch *b, int ignore, struct diag *d)
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
		diag_error(d, q->cb ? NULL : pj_loc(q->ctx), 0, "%s",
			   rtnl_req_strerror(q, buf, sizeof(buf)));
	}
	return real ? err : 0;
}

static int talk(struct rtnl *r, struct rtnl_batch *b, struct diag *d)
{
	return talk_ignoring(r, b, 0, d);
}

/*
 * One dump (rtnl_dump: asked again while concurrent changes interrupt
 * it).  A failure is reported as an error through d, unless d is NULL.
 */
static int dump(struct rtnl *r, struct rtnl_batch *b, uint16_t type, rtnl_reply_cb cb, void *ctx,
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
static const struct altname *find_altname(const struct prov_plan *pl, const char *name)
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

static const struct rtnl_link *find_hlink(const struct prov_plan *pl, const char *name)
{
	struct rtnl_link key;

	if (!pl->nhlinks)
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, pl->hlinks, pl->nhlinks, sizeof(key), hlink_cmp);
}

/* Host addresses, handed to the jails whose NAME-out carries them. */
struct haddr_ctx {
	struct prov_plan *pl;
	struct pjail **by_ifindex; /* sorted by host_ifindex */
	size_t n;
};

static int pj_ifindex_cmp(const void *a, const void *b)
{
	const struct pjail *x = *(struct pjail *const *)a, *y = *(struct pjail *const *)b;

	return (x->host_ifindex > y->host_ifindex) - (x->host_ifindex < y->host_ifindex);
}

static int haddr_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct haddr_ctx *h = ctx;
	struct pjail key = {.host_ifindex = 0}, *kp = &key, **found;
	struct rtnl_addr a;

	if (!rtnl_parse_addr(nlh, &a))
		return 0;
	key.host_ifindex = a.ifindex;
	found = bsearch(&kp, h->by_ifindex, h->n, sizeof(kp), pj_ifindex_cmp);
	if (found)
		*VEC_PUSH((*found)->haddrs, (*found)->nhaddrs) = a;
	return 0;
}

static void haddr_reset(void *ctx)
{
	struct haddr_ctx *h = ctx;
	size_t i;

	for (i = 0; i < h->n; i++)
		h->by_ifindex[i]->nhaddrs = 0;
}

/* ---- the jail side ---- */

static int jlink_cb(const struct nlmsghdr *nlh, void *ctx)
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

static void jlink_reset(void *ctx)
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

struct snap_ctx {
	struct pjail *pj;
	struct diag *d;
	bool links_only;
};

/* Runs inside the jail's namespace: what is there now. */
static int jail_snapshot(void *ctx)
{
	struct snap_ctx *c = ctx;
	struct pjail *pj = c->pj;
	struct rtnl_batch b;
	struct rtnl r;
	int err;

	err = rtnl_open(&r);
	if (err) {
		if (c->d)
			diag_error(c->d, pj_loc(pj), 0, "open netlink in namespace \"%s\": %s",
				   pj->name, strerror(-err));
		return err;
	}
	rtnl_batch_init(&b);
	err = dump(&r, &b, RTM_GETLINK, jlink_cb, pj, jlink_reset, "list links", c->d);
	if (!err && !c->links_only)
		err = dump(&r, &b, RTM_GETADDR, jaddr_cb, pj, jaddr_reset, "list addresses", c->d);
	if (!err && !c->links_only)
		err = dump(&r, &b, RTM_GETROUTE, jroute_cb, pj, jroute_reset, "list routes", c->d);
	rtnl_batch_free(&b);
	rtnl_close(&r);
	return err;
}

static bool has_addr(const struct rtnl_addr *v, size_t n, const struct prefix *want)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (addr_eq(&v[i].addr, want))
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
		       !addr_eq(&a->addr, &want);
	}
	if (a->addr.family == AF_INET) {
		if (!pj->has_v4)
			return true;
		want = side_addr(&pj->v4, host);
	} else {
		if (!pj->has_v6)
			return true;
		want = side_addr(&pj->v6, host);
	}
	return !addr_eq(&a->addr, &want);
}

/* jailfw's label on the jail's lo: see ns_proven. */
static void add_lo_label(struct pjail *pj, struct rtnl_batch *b)
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
static void build_jail_fix(struct pjail *pj, struct rtnl_batch *b)
{
	struct nlmsghdr *nlh;
	const struct prefix *nets[2] = {pj->has_v4 ? &pj->v4 : NULL, pj->has_v6 ? &pj->v6 : NULL};
	const int fams[2] = {AF_INET, AF_INET6};
	char buf[PREFIX_STRLEN];
	struct prefix a, gw;
	size_t i, k;

	if (pj->lo_ifindex && !pj->lo_marked)
		add_lo_label(pj, b);
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
		a = i < 2 ? side_addr(nets[i], false) : jail_link_local();
		if (has_addr(pj->jaddrs, pj->njaddrs, &a))
			continue;
		nlh = rtnl_build_addr(rtnl_batch_room(b), rtnl_batch_seq(b), RTM_NEWADDR,
				      pj->jail_ifindex, &a, a.family == AF_INET6);
		rtnl_batch_add(b, nlh, NULL, pj, "add address %s to \"%s\" in namespace \"%s\"",
			       cidr(&a, buf), pj->jail_if, pj->name);
	}
	for (i = 0; i < 2; i++) {
		bool ok = false;

		if (nets[i]) {
			gw = side_addr(nets[i], true);
			for (k = 0; k < pj->nroutes; k++) {
				const struct rtnl_route *r = &pj->routes[k];

				if (r->dst.family == fams[i] && r->oif == pj->jail_ifindex &&
				    r->has_gw && same_ip(&r->gw, &gw))
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
	for (k = 0; k < pj->njaddrs; k++) {
		const struct rtnl_addr *ja = &pj->jaddrs[k];

		if (!addr_unwanted(ja, pj, false))
			continue;
		nlh = rtnl_build_addr(rtnl_batch_room(b), rtnl_batch_seq(b), RTM_DELADDR,
				      pj->jail_ifindex, &ja->addr, false);
		rtnl_batch_add(b, nlh, NULL, pj,
			       "delete address %s from \"%s\" in namespace \"%s\"",
			       cidr(&ja->addr, buf), pj->jail_if, pj->name);
	}
}

/* The same for NAME-out, on the host. */
static void build_host_fix(struct pjail *pj, struct rtnl_batch *b)
{
	struct nlmsghdr *nlh;
	const struct prefix *nets[2] = {pj->has_v4 ? &pj->v4 : NULL, pj->has_v6 ? &pj->v6 : NULL};
	char buf[PREFIX_STRLEN];
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
		a = side_addr(nets[i], true);
		if (has_addr(pj->haddrs, pj->nhaddrs, &a))
			continue;
		/*
		 * IPv6 addresses are added with IFA_F_NODAD.  Duplicate
		 * address detection would first send neighbour solicitations
		 * and keep the address "tentative", unusable as a source or a
		 * gateway, for about a second (longer while the link is still
		 * down: DAD only starts once it is up), which breaks the jail's
		 * default route in the meantime.  Both ends of this veth are
		 * jailfw's and the prefix is the jail's own, so a duplicate
		 * cannot exist: skip the wait.
		 */
		nlh = rtnl_build_addr(rtnl_batch_room(b), rtnl_batch_seq(b), RTM_NEWADDR,
				      pj->host_ifindex, &a, a.family == AF_INET6);
		rtnl_batch_add(b, nlh, NULL, pj, "add address %s to \"%s\"", cidr(&a, buf),
			       pj->host_if);
	}
	for (i = 0; i < pj->nhaddrs; i++) {
		const struct rtnl_addr *ha = &pj->haddrs[i];

		if (!addr_unwanted(ha, pj, true))
			continue;
		nlh = rtnl_build_addr(rtnl_batch_room(b), rtnl_batch_seq(b), RTM_DELADDR,
				      pj->host_ifindex, &ha->addr, false);
		rtnl_batch_add(b, nlh, NULL, pj, "delete address %s from \"%s\"",
			       cidr(&ha->addr, buf), pj->host_if);
	}
}

/* Describe a batch's requests as plan changes (for KEEP jails' fixes). */
static void batch_changes(struct prov_plan *pl, struct rtnl_batch *b)
{
	size_t i;

	for (i = 0; i < b->nreqs; i++)
		add_change(pl, "%s", b->reqs[i].what);
	rtnl_batch_reset(b);
}

/* ---- resolv.conf ---- */

static char *resolv_header(const char *name)
{
	return xasprintf("# jailfw: resolv.conf of jail %s (jailfw down removes it)\n", name);
}

static bool resolv_ours(const char *text, const char *name)
{
	char *h = resolv_header(name);
	bool ours = !strncmp(text, h, strlen(h));

	free(h);
	return ours;
}

static char *resolv_text(const struct jail *j)
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
static void resolv_error(struct diag *d, const struct loc *loc, const char *verb, const char *name,
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

/*
 * Remove /etc/netns/NAME/resolv.conf if jailfw wrote it (its header says
 * so), then the directory if jailfw made it and it is empty.  Failures are
 * reported at loc.
 */
static int remove_resolv(const char *name, bool rmdir_too, const struct loc *loc, struct diag *d)
{
	char why[FILEIO_WHY_MAX], *cur = NULL;
	int err;

	err = netns_etc_read(name, "resolv.conf", &cur, why);
	if (!err && resolv_ours(cur, name))
		err = netns_etc_remove(name, "resolv.conf", rmdir_too, why);
	else if (!err || err == -ENOENT)
		err = rmdir_too ? netns_etc_remove(name, NULL, true, why) : 0;
	free(cur);
	if (err)
		resolv_error(d, loc, "remove", name, err, why);
	return err;
}

/* ---- sysctls ---- */

/* "net.ipv6.conf.eth0/100.accept_ra" for key "net/ipv6/conf/eth0.100/accept_ra". */
static const char *sysctl_name(const char *key, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "%s", key);
	for (i = 0; buf[i]; i++) {
		if (buf[i] == '/')
			buf[i] = '.';
		else if (buf[i] == '.')
			buf[i] = '/';
	}
	return buf;
}

static int sysctl_read(const char *key, char **val)
{
	char path[PATH_MAX];
	size_t n;
	int err;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	err = fileio_read(path, val);
	if (err)
		return err;
	n = strlen(*val);
	while (n && ((*val)[n - 1] == '\n' || (*val)[n - 1] == ' '))
		(*val)[--n] = '\0';
	return 0;
}

static int sysctl_write(const char *key, const char *val)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

static void add_op(struct prov_plan *pl, const char *key, const char *from, const char *to,
		   bool restore, bool new_record)
{
	struct sysop *op = VEC_PUSH(pl->ops, pl->nops);
	char name[PATH_MAX];

	op->key = xstrdup(key);
	op->from = xstrdup(from);
	op->to = xstrdup(to);
	op->restore = restore;
	op->new_record = new_record;
	add_change(pl, "%s %s = %s (was %s)", restore ? "restore" : "set",
		   sysctl_name(key, name, sizeof(name)), to, from);
}

/*
 * A recorded per-interface IPv4 forwarding that must not go back to 0:
 * someone turned forwarding on for every interface since (Docker writes
 * net.ipv4.ip_forward = 1 when it starts), and the wan carries their
 * traffic too now.
 */
static bool fwd4_shared(const char *key)
{
	char *all = NULL;
	bool shared;

	if (strncmp(key, "net/ipv4/conf/", 14) || strcmp(key + strlen(key) - 11, "/forwarding") ||
	    !strcmp(key, FWD4))
		return false;
	shared = !sysctl_read(FWD4, &all) && strcmp(all, "0");
	free(all);
	return shared;
}

static bool safe_ifname(const char *s)
{
	return s[0] && strlen(s) < IF_NAMESIZE && !strchr(s, '/') && strcmp(s, ".") &&
	       strcmp(s, "..");
}

static bool is_jail_link(const struct prov_plan *pl, const struct rtnl_link *l)
{
	size_t i;

	if (!strncmp(l->alias, ALIAS_PREFIX, strlen(ALIAS_PREFIX)))
		return true;
	for (i = 0; i < pl->njails; i++)
		if (!strcmp(pl->jails[i].host_if, l->name))
			return true;
	return false;
}

/*
 * Which interfaces need accept_ra 2: with forwarding on, the kernel
 * ignores router advertisements where accept_ra is 1, so the host would
 * lose the default route and addresses its uplink learns from them.  And
 * turning forwarding on purges RA-learned default routes at once
 * (rt6_purge_dflt_routers) except on interfaces whose accept_ra is 2
 * already, which is why this is set before forwarding.
 */
static void ra_targets(const struct prov_plan *pl, const struct policy *p, char ***out, size_t *n)
{
	size_t i;

	*out = NULL;
	*n = 0;
	if (p->settings.nwan) {
		for (i = 0; i < p->settings.nwan; i++)
			*VEC_PUSH(*out, *n) = xstrdup(p->settings.wan[i]);
		return;
	}
	/* No wan configured: every interface that is not a jail's (nor lo). */
	for (i = 0; i < pl->nhlinks; i++) {
		const struct rtnl_link *l = &pl->hlinks[i];

		if (!(l->flags & IFF_LOOPBACK) && !is_jail_link(pl, l))
			*VEC_PUSH(*out, *n) = xstrdup(l->name);
	}
}

/*
 * Restores run in two passes, forwarding first: with forwarding still on,
 * an accept_ra given back to 1 would already ignore router adverts.
 */
static bool restore_pass(const char *key, int pass)
{
	size_t n = strlen(key), f = strlen("/forwarding");
	bool fwd = n >= f && !strcmp(key + n - f, "/forwarding");

	return pass == 0 ? fwd : !fwd;
}

/*
 * A value an earlier apply recorded for KEY is kept (true).  Recorded but
 * still at its old value: an apply was killed between saving its intent
 * (the state is written first) and writing the value.  Write it now; the
 * record stays.
 */
static bool keep_recorded(struct prov_plan *pl, const char *key, bool *keep)
{
	struct state_sysctl *rec = state_find_sysctl(&pl->old, key);
	char *cur = NULL;

	if (!rec)
		return false;
	keep[rec - pl->old.sysctls] = true;
	if (!sysctl_read(key, &cur) && strcmp(cur, rec->set) && !strcmp(cur, rec->old))
		add_op(pl, key, cur, rec->set, false, false);
	free(cur);
	return true;
}

/*
 * Decide the sysctl writes: IPv4 forwarding only if a netns jail has IPv4,
 * IPv6 forwarding only if one has IPv6, only where it is off, and accept_ra
 * 2 (only on interfaces at 1) where jailfw is the one that turns IPv6
 * forwarding on.  Values jailfw set that are no longer needed go back at
 * commit.  Changes come out in execution order: accept_ra first.
 */
static void plan_sysctls(struct prov_plan *pl, const struct policy *p, struct diag *d)
{
	bool need4 = false, need6 = false, own6 = false, change6 = false, per4 = false;
	char *cur6 = NULL, *cur4 = NULL, *cur = NULL, **ra = NULL, key[PATH_MAX];
	bool *keep = xcalloc(pl->old.nsysctls + 1, sizeof(bool));
	struct state_sysctl *rec;
	size_t i, nra = 0;

	for (i = 0; i < pl->njails; i++) {
		if (pl->jails[i].action == PJ_REMOVE)
			continue;
		need4 |= pl->jails[i].has_v4;
		need6 |= pl->jails[i].has_v6;
	}
	if (need6 && !sysctl_read(FWD6, &cur6)) {
		rec = state_find_sysctl(&pl->old, FWD6);
		change6 = !strcmp(cur6, "0");
		own6 = change6 || rec;
		if (rec)
			keep[rec - pl->old.sysctls] = true;
	}
	if (need4 && !sysctl_read(FWD4, &cur4)) {
		rec = state_find_sysctl(&pl->old, FWD4);
		/* An older jailfw turned it on for all: kept until down. */
		if (rec)
			keep[rec - pl->old.sysctls] = true;
		else
			per4 = !strcmp(cur4, "0");
	}
	if (own6 || per4)
		ra_targets(pl, p, &ra, &nra);
	/* The wan's IPv4 forwarding; the jails' host sides at stage. */
	for (i = 0; per4 && i < nra; i++) {
		if (!safe_ifname(ra[i]))
			continue;
		snprintf(key, sizeof(key), FWD4_IF_FMT, ra[i]);
		free(cur);
		cur = NULL;
		if (keep_recorded(pl, key, keep))
			continue;
		if (!sysctl_read(key, &cur) && !strcmp(cur, "0"))
			add_op(pl, key, cur, "1", false, true);
	}
	if (own6) {
		for (i = 0; i < nra; i++) {
			if (!safe_ifname(ra[i]))
				continue;
			snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_ra", ra[i]);
			free(cur);
			cur = NULL;
			if (keep_recorded(pl, key, keep))
				continue;
			if (sysctl_read(key, &cur)) {
				if (p->settings.nwan)
					diag_warning(d, &p->settings.wan_loc, 0,
						     "wan interface \"%s\" has no IPv6 settings "
						     "(missing?); accept_ra left alone",
						     ra[i]);
				continue;
			}
			if (!strcmp(cur, "1"))
				add_op(pl, key, cur, "2", false, true);
		}
	}
	if (change6)
		add_op(pl, FWD6, cur6, "1", false, !state_find_sysctl(&pl->old, FWD6));
	/* Restores, in the order they will run (see restore_pass). */
	for (i = 0; i < 2 * pl->old.nsysctls; i++) {
		char name[PATH_MAX];

		rec = &pl->old.sysctls[i % pl->old.nsysctls];
		if (keep[i % pl->old.nsysctls] ||
		    !restore_pass(rec->key, (int)(i / pl->old.nsysctls)))
			continue;
		free(cur);
		cur = NULL;
		if (sysctl_read(rec->key, &cur) || strcmp(cur, rec->set) || fwd4_shared(rec->key)) {
			struct sysop *op = VEC_PUSH(pl->ops, pl->nops);

			/*
			 * Nothing to write, only the record to forget.  No
			 * warning when it is back at its old value: a killed
			 * apply never wrote it (its intent was saved first),
			 * or a killed one restored it.
			 */
			if (cur && !strcmp(cur, rec->set))
				diag_note(d, NULL, 0,
					  "%s left at %s: forwarding is on for every interface "
					  "now (net.ipv4.ip_forward = 1), not by jailfw",
					  sysctl_name(rec->key, name, sizeof(name)), cur);
			else if (!cur || strcmp(cur, rec->old))
				diag_warning(d, NULL, 0,
					     "%s was changed since jailfw set it to %s; left alone",
					     sysctl_name(rec->key, name, sizeof(name)), rec->set);
			op->key = xstrdup(rec->key);
			op->from = xstrdup(cur ? cur : "?");
			op->to = xstrdup(op->from);
			op->restore = true;
			op->done = true;
			continue;
		}
		add_op(pl, rec->key, cur, rec->old, true, false);
	}
	for (i = 0; i < nra; i++)
		free(ra[i]);
	free(ra);
	free(cur);
	free(cur4);
	free(cur6);
	free(keep);
}

static int run_ops(struct prov_plan *pl, bool restore, struct diag *d)
{
	char name[PATH_MAX];
	size_t i;
	int err;

	for (i = 0; i < pl->nops; i++) {
		struct sysop *op = &pl->ops[i];

		if (op->restore != restore || op->done)
			continue;
		err = sysctl_write(op->key, op->to);
		if (err) {
			diag_error(d, NULL, 0, "set %s = %s: %s",
				   sysctl_name(op->key, name, sizeof(name)), op->to,
				   strerror(-err));
			return err;
		}
		op->done = true;
		diag_note(d, NULL, 0, "%s %s = %s (was %s)", restore ? "restored" : "set",
			  sysctl_name(op->key, name, sizeof(name)), op->to, op->from);
	}
	return 0;
}

/*
 * Can /proc/sys/KEY be written?  A read-only /proc/sys (a container's,
 * systemd's ProtectKernelTunables=) refuses every write with EROFS, in
 * every network namespace alike: it is one mount.  AT_EACCESS: the
 * effective ids, as the write itself would use.  0 when KEY does not
 * exist (a kernel without IPv6): nothing is written there.
 */
static int sysctl_writable(const char *key, const char *where, struct diag *d)
{
	char path[PATH_MAX], name[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0 || errno == ENOENT)
		return 0;
	err = -errno;
	diag_error(d, NULL, 0, "cannot write %s%s (%s): %s", sysctl_name(key, name, sizeof(name)),
		   where, path, strerror(-err));
	if (err == -EROFS)
		diag_note(d, NULL, 0,
			  "/proc/sys is read-only here (a container, or systemd's "
			  "ProtectKernelTunables=); nothing was changed");
	return err;
}

/*
 * Before stage changes anything: the writes the kernel would refuse
 * half-way through, for reasons no rollback can fix.  Every sysctl the
 * plan writes (forwarding, accept_ra on the wan, their restores, and
 * accept_ra in each jail namespace made or fixed) must be writable; and
 * IPv6 must be enabled where a jail's IPv6 address goes, or the kernel
 * refuses it ("IPv6 is disabled on this device", EACCES): a new NAME-out
 * takes net.ipv6.conf.default.disable_ipv6, an existing one has its own.
 * The jail side of an existing jail is not looked at from here; the
 * kernel's refusal there rolls the apply back like any other.
 */
static int check_env(struct prov_plan *pl, struct diag *d)
{
	bool jail_ra = false;
	size_t i;
	int err, ret = 0;

	for (i = 0; i < pl->nops; i++) {
		if (pl->ops[i].done)
			continue;
		err = sysctl_writable(pl->ops[i].key, "", d);
		ret = ret ? ret : err;
	}
	for (i = 0; i < pl->njails; i++) {
		const struct pjail *pj = &pl->jails[i];

		if (pj->action != PJ_REMOVE && (pj->need_veth || pj->fix_ra || pj->fix_agm))
			jail_ra = true;
	}
	if (jail_ra && !ret)
		ret = sysctl_writable(RA_DEFAULT, " (in the jails' namespaces)", d);
	if (jail_ra && !ret)
		ret = sysctl_writable(AGM_DEFAULT, " (in the jails' namespaces)", d);
	for (i = 0; i < pl->njails; i++) {
		const struct pjail *pj = &pl->jails[i];
		char key[PATH_MAX], name[PATH_MAX], *cur = NULL;

		if (pj->action == PJ_REMOVE || !pj->has_v6)
			continue;
		if (pj->need_veth || !pj->host_ifindex)
			snprintf(key, sizeof(key), "net/ipv6/conf/default/disable_ipv6");
		else
			snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", pj->host_if);
		err = sysctl_read(key, &cur);
		if (err == -ENOENT && access("/proc/sys/net/ipv6", F_OK) != 0) {
			diag_error(d, &pj->pol->v6_loc, 0,
				   "jail \"%s\" has ipv6, but this kernel has no IPv6 (no "
				   "/proc/sys/net/ipv6: ipv6.disable=1?)",
				   pj->name);
			ret = ret ? ret : -EAFNOSUPPORT;
		} else if (!err && strcmp(cur, "0")) {
			diag_error(d, &pj->pol->v6_loc, 0,
				   "jail \"%s\" has ipv6, but IPv6 is disabled on %s (%s = %s): "
				   "the kernel would refuse its address",
				   pj->name, pj->need_veth ? "new interfaces" : pj->host_if,
				   sysctl_name(key, name, sizeof(name)), cur);
			ret = ret ? ret : -EAFNOSUPPORT;
		}
		free(cur);
	}
	return ret;
}

/* ---- analysis: read everything, decide, change nothing ---- */

static void PRINTF_LIKE(4, 5)
    conflict(struct prov_plan *pl, struct diag *d, const struct loc *loc, const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	diag_error(d, loc, 0, "%s", sb.s);
	sb_free(&sb);
	pl->conflicts++;
}

static struct pjail *add_pjail(struct prov_plan *pl, const char *name)
{
	struct pjail *pj = VEC_PUSH(pl->jails, pl->njails);

	pj->name = xstrdup(name);
	pj->nsfd = -1;
	snprintf(pj->alias, sizeof(pj->alias), ALIAS_PREFIX "%s", name);
	return pj;
}

/*
 * The alias of a link jailfw made names its jail; the jail a link belongs
 * to, or NULL when it is not jailfw's.
 */
static const char *alias_jail(const struct rtnl_link *l)
{
	size_t n = strlen(ALIAS_PREFIX);

	return strncmp(l->alias, ALIAS_PREFIX, n) ? NULL : l->alias + n;
}

static int name_cmp(const void *a, const void *b)
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
	qsort(pl->netns_names, pl->nnetns_names, sizeof(*pl->netns_names), name_cmp);
}

static bool policy_has_netns_jail(const struct prov_plan *pl, const char *name)
{
	return bsearch(&name, pl->netns_names, pl->nnetns_names, sizeof(*pl->netns_names),
		       name_cmp) != NULL;
}

/*
 * The record of the netns jail name in the state as loaded.  A uid jail's
 * record of the same name (a jail that switched backend) proves nothing
 * about a namespace: jailfw never made one for it.
 */
static const struct state_jail *old_netns(struct prov_plan *pl, const char *name)
{
	const struct state_jail *st = state_find_jail(&pl->old, name);

	return st && st->backend == BACKEND_NETNS ? st : NULL;
}

/*
 * Ownership: the state file proves nothing; the namespace does.  Its lo
 * is labelled "jailfw:NAME" before the namespace has a name
 * (open_jail_socket), or, made before labels, its NAME-in's peer is the
 * host link labelled so.  Only a namespace proven so is adopted or
 * removed (docs/design.md, "The state is input, not proof").
 */
static bool ns_proven(const struct prov_plan *pl, const struct pjail *pj)
{
	const struct rtnl_link *hl;

	if (pj->lo_marked)
		return true;
	if (!pj->jail_ifindex || strcmp(pj->jail_kind, "veth"))
		return false;
	hl = find_hlink(pl, pj->host_if);
	return hl && !strcmp(hl->alias, pj->alias) && hl->ifindex == pj->jail_iflink &&
	       hl->iflink == pj->jail_ifindex;
}

/* The namespace open at fd, read into pj: is it proven jailfw's? */
static bool ns_is_ours(const struct prov_plan *pl, struct pjail *pj, int fd)
{
	struct snap_ctx c = {pj, NULL, true};

	return netns_run(fd, jail_snapshot, &c) == 0 && ns_proven(pl, pj);
}

/* Say that pj's namespace is not proven jailfw's: an error, or a warning. */
static void say_unproven(struct diag *d, const struct loc *loc, const struct pjail *pj, bool error)
{
	char *msg = xasprintf("namespace \"%s\" (%s/%s) carries neither jailfw's label (alias "
			      "\"%s\" on its lo) nor jailfw's veth: it is not the one jailfw "
			      "made, and jailfw leaves it alone",
			      pj->name, NETNS_RUN_DIR, pj->name, pj->alias);

	if (error)
		diag_error(d, loc, 0, "%s", msg);
	else
		diag_warning(d, loc, 0, "%s", msg);
	free(msg);
}

static int analyse_kept(struct prov_plan *pl, struct pjail *pj, struct diag *d)
{
	struct snap_ctx c = {pj, d, false};
	unsigned int errors = d->errors;
	int fd, err;

	err = netns_open(pj->name, &fd, &pj->ns);
	if (err)
		return err;
	err = netns_run(fd, jail_snapshot, &c);
	close(fd);
	/* jail_snapshot reports its own failures; setns() does not. */
	if (err && d->errors == errors)
		diag_error(d, pj_loc(pj), 0, "enter namespace \"%s\" (%s/%s): %s", pj->name,
			   NETNS_RUN_DIR, pj->name, strerror(-err));
	if (err)
		return err;
	if (!pj->jail_ifindex) {
		if (pj->host_ifindex)
			conflict(pl, d, pj_loc(pj),
				 "interface \"%s\" is jailfw's but its peer is not \"%s\" in "
				 "namespace \"%s\"",
				 pj->host_if, pj->jail_if, pj->name);
		else
			pj->need_veth = true;
		return 0;
	}
	if (!pj->host_ifindex) {
		conflict(pl, d, pj_loc(pj),
			 "interface \"%s\" in namespace \"%s\" is not the jail end of a "
			 "jailfw veth (no \"%s\" on the host)",
			 pj->jail_if, pj->name, pj->host_if);
		return 0;
	}
	if (strcmp(pj->jail_kind, "veth") || pj->jail_iflink != pj->host_ifindex ||
	    pj->host_iflink != pj->jail_ifindex) {
		conflict(pl, d, pj_loc(pj),
			 "\"%s\" and \"%s\" in namespace \"%s\" are not the two ends of "
			 "one veth pair",
			 pj->host_if, pj->jail_if, pj->name);
		return 0;
	}
	return 0;
}

static int analyse_jail(struct prov_plan *pl, struct pjail *pj, struct diag *d)
{
	const struct state_jail *st = old_netns(pl, pj->name);
	const struct rtnl_link *hl;
	const char *owner;
	struct netns_id id;
	int err;

	err = netns_open(pj->name, NULL, &id);
	if (!err) {
		if (!st) {
			conflict(pl, d, pj_loc(pj),
				 "namespace \"%s\" exists (%s/%s) but jailfw did not create it; "
				 "remove it (ip netns delete %s) or rename the jail",
				 pj->name, NETNS_RUN_DIR, pj->name, pj->name);
			return 0;
		}
		if (st->ns.ino && !netns_id_eq(&st->ns, &id)) {
			conflict(pl, d, pj_loc(pj),
				 "namespace \"%s\" is not the one jailfw created (%s/%s was "
				 "deleted and made again by something else)",
				 pj->name, NETNS_RUN_DIR, pj->name);
			return 0;
		}
		pj->action = PJ_KEEP;
		pj->ns = id;
	} else if (err == -ENOENT || (err == -ENODATA && st && !st->ns.ino)) {
		/* Gone, or a creation of jailfw's killed before the mount. */
		pj->action = PJ_CREATE;
		pj->clear_file = err == -ENODATA;
		pj->need_veth = true;
	} else if (err == -ENODATA || err == -EMEDIUMTYPE) {
		char what[160];

		conflict(pl, d, pj_loc(pj),
			 "%s/%s is not a network namespace jailfw made (it is %s); remove it "
			 "or rename the jail",
			 NETNS_RUN_DIR, pj->name, netns_what(pj->name, what, sizeof(what)));
		if (err == -ENODATA)
			diag_note(d, NULL, 0, "another tool's `ip netns add %s` under way?",
				  pj->name);
		return 0;
	} else {
		diag_error(d, pj_loc(pj), 0, "open namespace \"%s\" (%s/%s): %s", pj->name,
			   NETNS_RUN_DIR, pj->name, strerror(-err));
		return err;
	}

	hl = find_hlink(pl, pj->host_if);
	owner = hl ? alias_jail(hl) : NULL;
	if (hl && owner && !strcmp(owner, pj->name) && pj->action == PJ_KEEP) {
		pj->host_ifindex = hl->ifindex;
		pj->host_iflink = hl->iflink;
		pj->host_flags = hl->flags;
	} else if (hl && owner && (!strcmp(owner, pj->name) || !policy_has_netns_jail(pl, owner))) {
		/*
		 * jailfw's, but a leftover: its namespace is gone (the kernel
		 * frees the pair a moment after the namespace) or it belongs
		 * to a jail that left the policy.  Delete it explicitly.
		 */
		pj->stale_host = hl->ifindex;
	} else if (hl && owner) {
		conflict(pl, d, pj_loc(pj), "interface \"%s\" belongs to jail \"%s\"", pj->host_if,
			 owner);
		return 0;
	} else if (hl && !hl->alias[0] && pj->action == PJ_KEEP && st && st->pending) {
		/*
		 * An apply killed between creating the pair and labelling it:
		 * jailfw's if its peer is in jailfw's namespace (checked next).
		 */
		pj->host_ifindex = hl->ifindex;
		pj->host_iflink = hl->iflink;
		pj->host_flags = hl->flags;
		pj->fix_alias = true;
	} else if (hl) {
		conflict(pl, d, pj_loc(pj),
			 "interface \"%s\" exists and is not jailfw's (alias \"%s\"; "
			 "jailfw marks its own \"%s\")",
			 pj->host_if, hl->alias, pj->alias);
		return 0;
	}
	if (st && strcmp(st->host_if, pj->host_if)) {
		/* The ifname changed: the old pair goes, a new one is made. */
		const struct rtnl_link *old = find_hlink(pl, st->host_if);
		const char *o = old ? alias_jail(old) : NULL;

		if (o && !strcmp(o, pj->name)) {
			pj->old_host = old->ifindex;
			snprintf(pj->old_host_if, sizeof(pj->old_host_if), "%s", old->name);
		}
	}
	if (pj->action == PJ_KEEP) {
		err = analyse_kept(pl, pj, d);
		if (err) {
			if (err != -ENOENT && err != -ENODATA)
				return err;
			/* Vanished under us: make it again. */
			pj->action = PJ_CREATE;
			pj->need_veth = true;
			pj->stale_host = pj->host_ifindex;
			pj->host_ifindex = 0;
		} else if (!ns_proven(pl, pj)) {
			pl->conflicts++;
			say_unproven(d, pj_loc(pj), pj, true);
			return 0;
		}
	}
	/*
	 * The kernel refuses a new link a name that is another link's
	 * alternative name (EEXIST, half-way through the apply): say so now.
	 */
	if (pj->need_veth && !find_hlink(pl, pj->host_if)) {
		const struct altname *alt = find_altname(pl, pj->host_if);

		if (alt)
			conflict(pl, d, pj_loc(pj),
				 "interface name \"%s\" is taken: it is an alternative name of "
				 "\"%s\" (ip link property del dev %s altname %s)",
				 pj->host_if, alt->owner, alt->owner, pj->host_if);
	}
	if (pj->pol->ndns) {
		char why[FILEIO_WHY_MAX], *cur = NULL;

		pj->resolv = resolv_text(pj->pol);
		err = netns_etc_read(pj->name, "resolv.conf", &cur, why);
		if (err == -ENOENT) {
			pj->resolv_write = true;
			pj->etc_dir_new = !netns_etc_exists(pj->name);
		} else if (err == -EEXIST) {
			pl->conflicts++;
			resolv_error(d, &pj->pol->dns_loc, "read", pj->name, err, why);
		} else if (err) {
			resolv_error(d, &pj->pol->dns_loc, "read", pj->name, err, why);
			return err;
		} else if (!resolv_ours(cur, pj->name)) {
			conflict(pl, d, &pj->pol->dns_loc,
				 "%s/%s/resolv.conf exists and jailfw did not write it",
				 NETNS_ETC_DIR, pj->name);
		} else {
			pj->resolv_existed = true;
			pj->resolv_write = strcmp(cur, pj->resolv) != 0;
		}
		free(cur);
	} else if (st && st->resolv) {
		pj->resolv_remove = true;
	}
	return 0;
}

static void analyse_leaving(struct prov_plan *pl, struct pjail *pj, const struct state_jail *st,
			    struct diag *d)
{
	const struct rtnl_link *hl;
	const char *owner;
	struct netns_id id;
	int fd, err;

	err = netns_open(pj->name, &fd, &id);
	if (!err) {
		pj->ns = id;
		pj->ns_ours = !st->ns.ino || netns_id_eq(&st->ns, &id);
		if (!pj->ns_ours) {
			diag_warning(d, NULL, 0,
				     "namespace \"%s\" is no longer the one jailfw created "
				     "(%s/%s); left alone",
				     pj->name, NETNS_RUN_DIR, pj->name);
		} else if (!ns_is_ours(pl, pj, fd)) {
			pj->ns_ours = false;
			say_unproven(d, NULL, pj, false);
		}
		close(fd);
	} else if (err == -ENODATA && !st->ns.ino) {
		pj->ns_ours = true; /* an empty file from a killed creation */
	} else if (err == -ENOENT) {
		pj->ns_gone = true;
		pj->ns = st->ns;
	} else if (err == -ENODATA || err == -EMEDIUMTYPE) {
		char what[160];

		diag_warning(d, NULL, 0,
			     "%s/%s is not the namespace jailfw made (it is %s); left alone",
			     NETNS_RUN_DIR, pj->name, netns_what(pj->name, what, sizeof(what)));
	}
	hl = find_hlink(pl, pj->host_if);
	owner = hl ? alias_jail(hl) : NULL;
	if (owner && !strcmp(owner, pj->name)) {
		pj->host_ifindex = hl->ifindex;
		pj->host_flags = hl->flags;
	}
	pj->resolv_remove = st->resolv;
	add_change(pl, "remove jail %s: %s down, namespace %s deleted", pj->name, pj->host_if,
		   pj->name);
}

static int open_host(struct prov_plan *pl, struct diag *d)
{
	int err = rtnl_open(&pl->host);

	if (err) {
		diag_error(d, NULL, 0, "open rtnetlink socket: %s", strerror(-err));
		return err;
	}
	pl->host_open = true;
	return 0;
}

static int host_links(struct prov_plan *pl, struct diag *d)
{
	int err =
	    dump(&pl->host, &pl->b, RTM_GETLINK, hlink_cb, pl, hlink_reset, "list host links", d);

	if (!err && pl->nhlinks)
		qsort(pl->hlinks, pl->nhlinks, sizeof(*pl->hlinks), hlink_cmp);
	if (!err && pl->nalts)
		qsort(pl->alts, pl->nalts, sizeof(*pl->alts), altname_cmp);
	return err;
}

static int host_addrs(struct prov_plan *pl, struct diag *d)
{
	struct haddr_ctx h = {pl, NULL, 0};
	size_t i;
	int err;

	for (i = 0; i < pl->njails; i++)
		if (pl->jails[i].action == PJ_KEEP && pl->jails[i].host_ifindex)
			*VEC_PUSH(h.by_ifindex, h.n) = &pl->jails[i];
	if (!h.n)
		return 0;
	qsort(h.by_ifindex, h.n, sizeof(*h.by_ifindex), pj_ifindex_cmp);
	err = dump(&pl->host, &pl->b, RTM_GETADDR, haddr_cb, &h, haddr_reset, "list host addresses",
		   d);
	free(h.by_ifindex);
	return err;
}

static void describe_jail(struct prov_plan *pl, struct pjail *pj)
{
	char a[PREFIX_STRLEN], b6[PREFIX_STRLEN];
	struct prefix x;

	if (pj->action == PJ_CREATE) {
		a[0] = b6[0] = '\0';
		if (pj->has_v4) {
			x = side_addr(&pj->v4, true);
			cidr(&x, a);
		}
		if (pj->has_v6) {
			x = side_addr(&pj->v6, true);
			cidr(&x, b6);
		}
		add_change(pl, "create jail %s: namespace %s, veth %s/%s%s%s%s%s", pj->name,
			   pj->name, pj->host_if, pj->jail_if, a[0] ? " " : "", a, b6[0] ? " " : "",
			   b6);
	} else if (pj->need_veth) {
		add_change(pl, "repair jail %s: create veth %s/%s", pj->name, pj->host_if,
			   pj->jail_if);
	} else {
		if (pj->fix_ra) {
			char key[PATH_MAX], name[PATH_MAX];

			snprintf(key, sizeof(key), RA_JAIL_FMT, pj->jail_if);
			add_change(pl, "set %s = 0 in namespace \"%s\" (was %s)",
				   sysctl_name(key, name, sizeof(name)), pj->name, pj->ra_was);
		}
		if (pj->fix_agm) {
			char key[PATH_MAX], name[PATH_MAX];

			snprintf(key, sizeof(key), AGM_JAIL_FMT, pj->jail_if);
			add_change(pl, "set %s = %d in namespace \"%s\"",
				   sysctl_name(key, name, sizeof(name)), AGM_NONE, pj->name);
		}
		build_host_fix(pj, &pl->b);
		batch_changes(pl, &pl->b);
		build_jail_fix(pj, &pl->b);
		batch_changes(pl, &pl->b);
	}
	if (pj->stale_host)
		add_change(pl, "delete leftover interface %s", pj->host_if);
	if (pj->old_host)
		add_change(pl, "delete interface %s (the jail's interfaces are now %s/%s)",
			   pj->old_host_if, pj->host_if, pj->jail_if);
	if (pj->resolv_write)
		add_change(pl, "write %s/%s/resolv.conf", NETNS_ETC_DIR, pj->name);
	if (pj->resolv_remove)
		add_change(pl, "remove %s/%s/resolv.conf", NETNS_ETC_DIR, pj->name);
	if (pj->action != PJ_CREATE && !pj->need_veth && !(pj->host_flags & IFF_UP))
		add_change(pl, "set %s up after the ruleset commit", pj->host_if);
}

/*
 * The state, as state_load reads it.  One that jailfw did not write is a
 * conflict like any object it does not own: -EEXIST, exit 5.
 */
static int load_state(struct prov_plan *pl, struct diag *d)
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
		if (find_hlink(pl, s->wan[i]) || find_altname(pl, s->wan[i]))
			continue;
		diag_error(d, s->wan_locs ? &s->wan_locs[i] : &s->wan_loc,
			   (unsigned int)strlen(s->wan[i]),
			   "wan interface \"%s\" does not exist on this host", s->wan[i]);
		err = -ENXIO;
	}
	return err;
}

static int analyse(struct prov_plan *pl, const struct policy *p, struct diag *d)
{
	size_t i;
	int err;

	pl->had_state = access(STATE_FILE, F_OK) == 0;
	err = load_state(pl, d);
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
		pj = add_pjail(pl, j->name);
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

		if (st->backend != BACKEND_NETNS || policy_has_netns_jail(pl, st->name))
			continue;
		pj = add_pjail(pl, st->name);
		pj->action = PJ_REMOVE;
		snprintf(pj->host_if, sizeof(pj->host_if), "%s", st->host_if);
		snprintf(pj->jail_if, sizeof(pj->jail_if), "%s", st->jail_if);
		pj->has_v4 = st->has_v4;
		pj->has_v6 = st->has_v6;
		pj->v4 = st->v4;
		pj->v6 = st->v6;
	}
	err = open_host(pl, d);
	if (!err)
		err = host_links(pl, d);
	if (!err)
		err = check_wan(pl, p, d);
	for (i = 0; !err && i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];

		if (pj->action == PJ_REMOVE)
			analyse_leaving(pl, pj, state_find_jail(&pl->old, pj->name), d);
		else
			err = analyse_jail(pl, pj, d);
	}
	if (!err)
		err = host_addrs(pl, d);
	if (err)
		return err;
	if (pl->conflicts)
		return -EEXIST;
	for (i = 0; i < pl->njails; i++)
		if (pl->jails[i].action != PJ_REMOVE)
			describe_jail(pl, &pl->jails[i]);
	plan_sysctls(pl, p, d);
	return 0;
}

/* ---- stage ---- */

static void state_intent(struct prov_plan *pl)
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

static int save(struct prov_plan *pl, struct diag *d)
{
	int err = state_save(&pl->st);

	if (err)
		diag_error(d, NULL, 0, "write state \"%s\": %s", STATE_FILE, strerror(-err));
	else
		pl->saved = true;
	return err;
}

/* Stage's last step: the committed state, written while it may still fail. */
static int prepare(struct prov_plan *pl, struct diag *d)
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
		err = save(pl, d);
	}
	free(text);
	return err;
}

/* Set the host ends of the jails that want() up or down, in one batch. */
static int set_links(struct prov_plan *pl, bool up, bool (*want)(const struct pjail *),
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
	err = talk(&pl->host, &pl->b, d);
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

static bool want_cut(const struct pjail *pj)
{
	return pj->action == PJ_REMOVE && pj->host_ifindex && (pj->host_flags & IFF_UP);
}

static int delete_stale(struct prov_plan *pl, struct diag *d)
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
				diag_error(d, pj_loc(pj), 0, "remove %s/%s: %s", NETNS_RUN_DIR,
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
	err = talk_ignoring(&pl->host, &pl->b, -ENODEV, d);
	rtnl_batch_reset(&pl->b);
	return err;
}

struct fix_ctx {
	struct pjail *pj;
	struct diag *d;
};

/*
 * Inside the jail, before NAME-in comes up: its accept_ra to 0, and its
 * addr_gen_mode to none (the link-local address it has is dealt with by
 * build_jail_fix).
 */
static int write_jail_ra(void *ctx)
{
	struct fix_ctx *c = ctx;
	char key[PATH_MAX], name[PATH_MAX];
	int err = 0;

	if (c->pj->fix_ra) {
		snprintf(key, sizeof(key), RA_JAIL_FMT, c->pj->jail_if);
		err = sysctl_write(key, "0");
	}
	if (!err && c->pj->fix_agm) {
		snprintf(key, sizeof(key), AGM_JAIL_FMT, c->pj->jail_if);
		err = sysctl_write(key, "1");
	}
	if (err)
		diag_error(c->d, pj_loc(c->pj), 0, "set %s in namespace \"%s\": %s",
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
	static const struct {
		const char *key, *val;
	} defaults[] = {{RA_DEFAULT, "0"}, {AGM_DEFAULT, "1"}};
	struct fix_ctx *c = ctx;
	struct pjail *pj = c->pj;
	char name[PATH_MAX];
	struct rtnl_batch b;
	size_t i;
	int err;

	/*
	 * Written without reading first (a new namespace has 1; reading
	 * would cost more than writing, and writing 0 over 0 changes
	 * nothing).  ENOENT: a kernel without IPv6, nothing to solicit.
	 */
	for (i = 0; i < ARRAY_SIZE(defaults); i++) {
		err = sysctl_write(defaults[i].key, defaults[i].val);
		if (err && err != -ENOENT) {
			diag_error(c->d, pj_loc(pj), 0, "set %s = %s in %snamespace \"%s\": %s",
				   sysctl_name(defaults[i].key, name, sizeof(name)), defaults[i].val,
				   pj->action == PJ_CREATE ? "new " : "", pj->name, strerror(-err));
			pj->inside_err = true;
			return err;
		}
	}
	err = rtnl_open(&pj->jr);
	pj->jr_open = !err;
	if (err)
		return err;
	if (pj->action != PJ_CREATE && pj->lo_marked)
		return 0;
	rtnl_batch_init(&b);
	add_lo_label(pj, &b);
	err = talk(&pj->jr, &b, c->d);
	rtnl_batch_free(&b);
	pj->inside_err = err != 0;
	return err;
}

/* Make the namespaces and veth pairs of one group of jails. */
static int create_group(struct prov_plan *pl, struct pjail **grp, size_t n, struct diag *d)
{
	struct nlmsghdr *nlh;
	struct rtnl_batch *b = &pl->b;
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		struct pjail *pj = grp[i];

		struct fix_ctx c = {pj, d};

		pj->inside_err = false;
		if (pj->action == PJ_CREATE) {
			err = netns_create(pj->name, open_jail_socket, &c, &pj->nsfd, &pj->ns);
			if (err) {
				if (!pj->inside_err)
					diag_error(d, pj_loc(pj), 0, "create namespace \"%s\": %s",
						   pj->name, strerror(-err));
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
				diag_error(d, pj_loc(pj), 0, "open namespace \"%s\": %s", pj->name,
					   strerror(-err));
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
	err = talk(&pl->host, b, d);
	for (i = 0; i < n; i++)
		grp[i]->created_veth = !b->reqs[i].err;
	/* Killed here, the next apply finds the pair without its label. */
	testhook_point("veth-created");
	/*
	 * Only the pairs made just now get the label, addressed by name: had
	 * a create failed with EEXIST, the name would be someone else's link.
	 */
	rtnl_batch_reset(b);
	for (i = 0; i < n; i++) {
		struct pjail *pj = grp[i];

		if (pj->created_veth) {
			nlh = rtnl_build_alias(rtnl_batch_room(b), rtnl_batch_seq(b), pj->host_if,
					       pj->alias);
			rtnl_batch_add(b, nlh, NULL, pj, "set alias \"%s\" on \"%s\"", pj->alias,
				       pj->host_if);
		}
	}
	if (b->nreqs) {
		int e = talk(&pl->host, b, d);

		err = err ? err : e;
	}
	rtnl_batch_reset(b);
	if (err)
		return err;

	for (i = 0; i < n && !err; i++) {
		struct pjail *pj = grp[i];
		struct fix_ctx c = {pj, d};
		struct rtnl_batch jb;

		rtnl_batch_init(&jb);
		jlink_reset(pj);
		pj->njaddrs = pj->nroutes = 0;
		err = dump(&pj->jr, &jb, RTM_GETLINK, jlink_cb, pj, jlink_reset, "list links", d);
		if (!err && (!pj->jail_ifindex || !pj->jail_iflink)) {
			diag_error(d, pj_loc(pj), 0,
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
			build_jail_fix(pj, &jb);
			err = talk(&pj->jr, &jb, d);
		}
		rtnl_batch_free(&jb);
		rtnl_close(&pj->jr);
		pj->jr_open = false;
		close(pj->nsfd);
		pj->nsfd = -1;
	}
	return err;
}

static int jail_fix_inside(void *ctx)
{
	struct fix_ctx *c = ctx;
	struct rtnl_batch b;
	struct rtnl r;
	int err;

	/* Before any link comes up (build_jail_fix may bring NAME-in up). */
	if (c->pj->fix_ra || c->pj->fix_agm) {
		err = write_jail_ra(c);
		if (err)
			return err;
	}
	rtnl_batch_init(&b);
	build_jail_fix(c->pj, &b);
	if (!b.nreqs) {
		rtnl_batch_free(&b);
		return 0;
	}
	err = rtnl_open(&r);
	if (!err) {
		err = talk(&r, &b, c->d);
		rtnl_close(&r);
	} else {
		diag_error(c->d, pj_loc(c->pj), 0, "open netlink in namespace \"%s\": %s",
			   c->pj->name, strerror(-err));
	}
	rtnl_batch_free(&b);
	return err;
}

/* The jail side of jails whose pair exists: only when something differs. */
static int fix_kept(struct pjail *pj, struct diag *d)
{
	struct fix_ctx c = {pj, d};
	struct rtnl_batch b;
	size_t n;
	int fd, err;

	rtnl_batch_init(&b);
	build_jail_fix(pj, &b);
	n = b.nreqs;
	rtnl_batch_free(&b);
	if (!n && !pj->fix_ra && !pj->fix_agm)
		return 0;
	err = netns_open(pj->name, &fd, &pj->ns);
	if (err) {
		diag_error(d, pj_loc(pj), 0, "open namespace \"%s\": %s", pj->name, strerror(-err));
		return err;
	}
	err = netns_run(fd, jail_fix_inside, &c);
	close(fd);
	return err;
}

static int write_resolv(struct prov_plan *pl, struct diag *d)
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
				resolv_error(d, &pj->pol->dns_loc, "write", pj->name, err, why);
				return err;
			}
			pj->wrote_resolv = true;
			pj->made_etc_dir = made;
			sj = state_find_jail(&pl->st, pj->name);
			if (made)
				sj->etc_dir = true;
		} else {
			sj = state_find_jail(&pl->st, pj->name);
			err = remove_resolv(pj->name, sj && sj->etc_dir, pj_loc(pj), d);
			if (err)
				return err;
			if (sj)
				sj->resolv = sj->etc_dir = false;
		}
	}
	return 0;
}

/*
 * IPv4 forwarding on each jail's host side, where its packets come in
 * (see FWD4).  Not recorded: the interface is jailfw's and goes with the
 * jail.  Where conf/all is on, a new interface has it on already.
 */
static int jail_forwarding(struct prov_plan *pl, struct diag *d)
{
	char key[PATH_MAX], name[PATH_MAX], *cur = NULL;
	size_t i;
	int err = 0;

	for (i = 0; i < pl->njails && !err; i++) {
		const struct pjail *pj = &pl->jails[i];

		if (pj->action == PJ_REMOVE || !pj->has_v4 || !safe_ifname(pj->host_if))
			continue;
		snprintf(key, sizeof(key), FWD4_IF_FMT, pj->host_if);
		free(cur);
		cur = NULL;
		if (!sysctl_read(key, &cur) && !strcmp(cur, "1"))
			continue;
		err = sysctl_write(key, "1");
		if (err)
			diag_error(d, NULL, 0, "set %s = 1: %s", sysctl_name(key, name, sizeof(name)),
				   strerror(-err));
	}
	free(cur);
	return err;
}

static int stage(struct prov_plan *pl, struct diag *d)
{
	struct pjail **grp = NULL;
	size_t i, n = 0;
	int err;

	pl->phase = PLAN_STAGING;
	/* Progress first: what this apply is about to make, and old values. */
	state_intent(pl);
	err = save(pl, d);
	if (err)
		goto out;
	/* Cut the jails that leave before anything else changes. */
	err = set_links(pl, false, want_cut, d);
	if (err)
		goto out;
	err = delete_stale(pl, d);
	if (err)
		goto out;
	grp = xcalloc(CREATE_GROUP, sizeof(*grp));
	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];

		if (pj->action == PJ_REMOVE || !pj->need_veth)
			continue;
		grp[n++] = pj;
		if (n == CREATE_GROUP) {
			err = create_group(pl, grp, n, d);
			n = 0;
			if (err)
				goto out;
		}
	}
	if (n) {
		err = create_group(pl, grp, n, d);
		if (err)
			goto out;
	}
	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];

		if (pj->action == PJ_KEEP && !pj->need_veth) {
			err = fix_kept(pj, d);
			if (err)
				goto out;
		}
	}
	/* The host ends' addresses (and labels), all jails in one batch. */
	rtnl_batch_reset(&pl->b);
	for (i = 0; i < pl->njails; i++)
		if (pl->jails[i].action != PJ_REMOVE)
			build_host_fix(&pl->jails[i], &pl->b);
	if (pl->b.nreqs) {
		err = talk(&pl->host, &pl->b, d);
		rtnl_batch_reset(&pl->b);
		if (err)
			goto out;
	}
	err = jail_forwarding(pl, d);
	if (err)
		goto out;
	testhook_point("addrs-set");
	err = write_resolv(pl, d);
	if (err)
		goto out;
	err = run_ops(pl, false, d);
	if (err)
		goto out;
	testhook_point("sysctls-written");
	err = save(pl, d);
	if (!err)
		err = prepare(pl, d);
	if (!err)
		pl->phase = PLAN_STAGED;
out:
	free(grp);
	return err;
}

int prov_stage(const struct policy *p, struct prov_plan **planp, struct diag *d)
{
	struct prov_plan *pl = plan_new();
	int err;

	*planp = pl;
	err = analyse(pl, p, d);
	if (!err)
		err = check_env(pl, d);
	if (err)
		return err;
	pl->phase = PLAN_ANALYSED;
	return stage(pl, d);
}

int prov_diff(const struct policy *p, struct prov_plan **planp, struct diag *d)
{
	struct prov_plan *pl = plan_new();

	*planp = pl;
	pl->dry_run = true;
	return analyse(pl, p, d);
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

static int remove_jail_files(struct pjail *pj, const struct state_jail *sj, struct diag *d)
{
	if (!sj->resolv && !sj->etc_dir)
		return 0;
	return remove_resolv(pj->name, sj->etc_dir, pj_loc(pj), d);
}

/* ---- teardown: namespaces removed, and their veths with them ---- */

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
	qsort(h.by_ifindex, h.n, sizeof(*h.by_ifindex), pj_ifindex_cmp);
	/* A safety net: its failures are warnings, the jails are gone all the same. */
	err =
	    dump(&pl->host, b, RTM_GETADDR, haddr_cb, &h, haddr_reset, "list host addresses", NULL);
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
				       cidr(&pj->haddrs[k].addr, buf), pj->host_if);
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
static int drop_namespaces(struct prov_plan *pl, bool rollback, struct diag *d)
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
			diag_error(d, pj_loc(pj), 0, "delete namespace \"%s\": %s", pj->name,
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
		err = dump(&r, &b, RTM_GETLINK, joper_cb, c, NULL, "list links", c->d);
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
			diag_warning(d, pj_loc(c.pj), 0,
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
	err = set_links(pl, true, want_up, d);
	if (err)
		return err;
	wait_links_ready(pl, d);
	testhook_point("links-up");
	err = drop_namespaces(pl, false, d);
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
		e = sj ? remove_jail_files(pj, sj, d) : 0;
		if (e) {
			err = err ? err : e;
			continue;
		}
		state_del_jail(&pl->st, pj->name);
	}
	if (err)
		return err;
	err = run_ops(pl, true, d);
	if (err)
		return err;
	for (i = 0; i < pl->nops; i++)
		if (pl->ops[i].restore)
			state_del_sysctl(&pl->st, pl->ops[i].key);
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

/* ---- rollback ---- */

static bool want_relink(const struct pjail *pj)
{
	return pj->took_down;
}

int prov_rollback(struct prov_plan *pl, struct diag *d)
{
	struct nlmsghdr *nlh;
	bool committed;
	size_t i;
	int err, ret = 0;

	if (!pl || pl->dry_run || pl->phase < PLAN_STAGING || pl->phase == PLAN_ROLLED_BACK ||
	    pl->phase >= PLAN_DOWN_CUT)
		return 0;
	committed = pl->phase >= PLAN_COMMITTING;

	/* Reverse order of stage: sysctls, files, interfaces, namespaces, links. */
	for (i = pl->nops; i-- > 0;) {
		struct sysop *op = &pl->ops[i];
		char name[PATH_MAX];

		if (op->restore || !op->done)
			continue;
		err = sysctl_write(op->key, op->from);
		if (err) {
			diag_error(d, NULL, 0, "restore %s = %s: %s",
				   sysctl_name(op->key, name, sizeof(name)), op->from,
				   strerror(-err));
			ret = ret ? ret : err;
			continue;
		}
		op->done = false;
	}
	for (i = pl->njails; i-- > 0;) {
		struct pjail *pj = &pl->jails[i];

		if (pj->wrote_resolv && !pj->resolv_existed) {
			char why[FILEIO_WHY_MAX];

			err = netns_etc_remove(pj->name, "resolv.conf", pj->made_etc_dir, why);
			if (err)
				resolv_error(d, pj_loc(pj), "remove", pj->name, err, why);
			ret = ret ? ret : err;
		}
	}
	rtnl_batch_reset(&pl->b);
	for (i = pl->njails; i-- > 0;) {
		struct pjail *pj = &pl->jails[i];

		/* A pair made for a kept namespace goes explicitly. */
		if (pj->created_veth && !pj->created_ns && pj->host_ifindex) {
			nlh = rtnl_build_dellink(rtnl_batch_room(&pl->b), rtnl_batch_seq(&pl->b),
						 pj->host_ifindex);
			rtnl_batch_add(&pl->b, nlh, NULL, pj, "delete veth \"%s\"", pj->host_if);
		}
	}
	if (pl->b.nreqs && pl->host_open) {
		err = talk(&pl->host, &pl->b, d);
		ret = ret ? ret : err;
	}
	rtnl_batch_reset(&pl->b);
	/* The kernel frees the veth pair with the namespace (see drop_namespaces). */
	err = drop_namespaces(pl, true, d);
	ret = ret ? ret : err;
	for (i = 0; i < pl->njails; i++)
		if (pl->jails[i].created_ns && pl->jails[i].removed)
			pl->jails[i].created_ns = false;
	/*
	 * Jails cut because they left the policy: the old ruleset, still in
	 * force, confines them, so they go back up.  Not once the new ruleset
	 * is committed: it no longer knows them.  Going down flushed the IPv6
	 * address of the host end (keep_addr_on_down is 0 by default): put it
	 * back.
	 */
	if (!committed && pl->host_open) {
		err = set_links(pl, true, want_relink, d);
		ret = ret ? ret : err;
		for (i = 0; i < pl->njails; i++) {
			struct pjail *pj = &pl->jails[i];
			char buf[PREFIX_STRLEN];
			struct prefix a;

			if (!pj->took_down || !pj->has_v6)
				continue;
			a = side_addr(&pj->v6, true);
			nlh = rtnl_build_addr(rtnl_batch_room(&pl->b), rtnl_batch_seq(&pl->b),
					      RTM_NEWADDR, pj->host_ifindex, &a, true);
			rtnl_batch_add(&pl->b, nlh, NULL, pj, "add address %s to \"%s\"",
				       cidr(&a, buf), pj->host_if);
		}
		if (pl->b.nreqs) {
			rtnl_talk(&pl->host, &pl->b); /* EEXIST is fine: it was kept */
			rtnl_batch_reset(&pl->b);
		}
	}

	/*
	 * The state: before the commit, the old one plus whatever could not
	 * be undone; after, the new one minus what was undone.
	 */
	if (!committed) {
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
	} else {
		for (i = 0; i < pl->njails; i++)
			if (pl->jails[i].removed && pl->jails[i].action != PJ_REMOVE)
				state_del_jail(&pl->st, pl->jails[i].name);
		for (i = 0; i < pl->nops; i++) {
			const struct sysop *op = &pl->ops[i];

			if (!op->restore && !op->done && op->new_record)
				state_del_sysctl(&pl->st, op->key);
		}
	}
	pl->st.phase = STATE_IDLE;
	state_drop_next();
	/*
	 * Not if this run never wrote it: the file still says what it said.
	 * Nor, when there was none and nothing is left to record: an apply
	 * refused on a fresh machine leaves no trace.
	 */
	if (pl->saved && !pl->had_state && !pl->st.njails && !pl->st.nsysctls && !pl->st.table) {
		err = state_remove();
		ret = ret ? ret : err;
	} else if (pl->saved) {
		err = save(pl, d);
		ret = ret ? ret : err;
	}
	pl->phase = PLAN_ROLLED_BACK;
	return ret;
}

/* ---- down ---- */

int prov_down_cut(struct prov_plan **planp, struct diag *d)
{
	struct prov_plan *pl = plan_new();
	size_t i;
	int err;

	*planp = pl;
	err = load_state(pl, d);
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
			err = sysctl_writable(rec->key, "", d);
		else
			err = 0;
		free(cur);
		if (err)
			return err;
	}
	pl->st.phase = STATE_DOWN;
	err = save(pl, d);
	if (!err)
		err = open_host(pl, d);
	if (!err)
		err = host_links(pl, d);
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
		pj = add_pjail(pl, sj->name);
		hl = find_hlink(pl, sj->host_if);
		owner = hl ? alias_jail(hl) : NULL;
		pj->action = PJ_REMOVE;
		snprintf(pj->host_if, sizeof(pj->host_if), "%s", sj->host_if);
		snprintf(pj->jail_if, sizeof(pj->jail_if), "%s", sj->jail_if);
		if (owner && !strcmp(owner, pj->name)) {
			pj->host_ifindex = hl->ifindex;
			pj->host_flags = hl->flags;
		}
		add_change(pl, "remove jail %s", pj->name);
	}
	return set_links(pl, false, want_cut, d);
}

int prov_down_finish(struct prov_plan *pl, struct diag *d)
{
	bool foreign = false;
	size_t i;
	int err, ret = 0;

	if (!pl || pl->phase != PLAN_DOWN_CUT)
		return -EINVAL;
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
			if (pj->ns_ours && !ns_is_ours(pl, pj, fd))
				pj->ns_ours = proven = false;
			close(fd);
		} else {
			pj->ns_ours = err == -ENODATA && !sj->ns.ino;
			pj->ns_gone = err == -ENOENT;
			pj->ns = sj->ns;
		}
		if (!proven) {
			say_unproven(d, NULL, pj, true);
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
	ret = drop_namespaces(pl, false, d);
	testhook_point("netns-removed");
	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];
		struct state_jail *sj = state_find_jail(&pl->old, pj->name);

		if (pj->ns_ours && !pj->removed)
			continue;
		pj->removed = true;
		err = remove_jail_files(pj, sj, d);
		ret = ret ? ret : err;
	}
	for (i = 0; i < 2 * pl->old.nsysctls; i++) {
		const struct state_sysctl *rec = &pl->old.sysctls[i % pl->old.nsysctls];
		char name[PATH_MAX], *cur = NULL;

		if (!restore_pass(rec->key, (int)(i / pl->old.nsysctls)))
			continue;
		sysctl_name(rec->key, name, sizeof(name));
		if (!sysctl_read(rec->key, &cur) && strcmp(cur, rec->set) &&
		    !strcmp(cur, rec->old)) {
			/* Restored already (a down killed after it), or never set. */
		} else if (cur && fwd4_shared(rec->key)) {
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
				add_change(pl, "restore %s = %s (was %s)", name, rec->old,
					   rec->set);
			}
		}
		free(cur);
	}
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
