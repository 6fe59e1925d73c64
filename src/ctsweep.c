// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Conntrack entries that the policy no longer admits.  See ctsweep.h.
 */
#include "ctsweep.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nftinfo.h"
#include "util.h"

/* ------------------------------------------------------------ messages */

static struct nlmsghdr *ctsweep_put_header(void *buf, uint32_t seq, uint8_t msg, uint16_t flags,
					   uint8_t family)
{
	return nftinfo_nfnl_header(buf, (NFNL_SUBSYS_CTNETLINK << 8) | msg, flags, family, 0, seq);
}

/* AF_UNSPEC: the entries of every family. */
struct nlmsghdr *ctsweep_build_dump(void *buf, uint32_t seq)
{
	return ctsweep_put_header(buf, seq, IPCTNL_MSG_CT_GET, NLM_F_DUMP, AF_UNSPEC);
}

/*
 * The original tuple goes back exactly as the kernel sent it (ICMP ids
 * and all), with the zone it lives in; the id makes the kernel refuse
 * (ENOENT) rather than delete a new entry that took the same tuple since.
 */
struct nlmsghdr *ctsweep_build_delete(void *buf, uint32_t seq, const struct ctsweep_entry *e)
{
	struct nlmsghdr *nlh =
	    ctsweep_put_header(buf, seq, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, (uint8_t)e->family);
	uint16_t len = e->orig_tuple->nla_len;

	memcpy(mnl_nlmsg_get_payload_tail(nlh), e->orig_tuple, len);
	nlh->nlmsg_len += MNL_ALIGN(len);
	if (e->has_zone)
		mnl_attr_put_u16(nlh, CTA_ZONE, htons(e->zone));
	if (e->has_id)
		mnl_attr_put_u32(nlh, CTA_ID, htonl(e->id));
	return nlh;
}

/* ------------------------------------------------------------ parsing */

struct attrs {
	const struct nlattr **tb;
	uint16_t max;
};

static int attrs_cb(const struct nlattr *attr, void *data)
{
	const struct attrs *a = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= a->max)
		a->tb[type] = attr;
	return MNL_CB_OK;
}

static bool parse_nested(const struct nlattr *nest, const struct nlattr **tb, uint16_t max)
{
	struct attrs a = {tb, max};

	memset(tb, 0, (max + 1u) * sizeof(*tb));
	return mnl_attr_parse_nested(nest, attrs_cb, &a) >= MNL_CB_STOP;
}

static bool get_addr(const struct nlattr *attr, int family, struct prefix *out)
{
	size_t n = family == AF_INET ? 4 : 16;

	if (!attr || mnl_attr_get_payload_len(attr) != n)
		return false;
	memset(out, 0, sizeof(*out));
	out->family = family;
	out->len = (uint8_t)(n * 8);
	memcpy(out->addr.b, mnl_attr_get_payload(attr), n);
	return true;
}

static uint16_t get_port(const struct nlattr *attr)
{
	if (!attr || mnl_attr_get_payload_len(attr) != 2)
		return 0;
	return ntohs(mnl_attr_get_u16(attr));
}

/* One tuple: its addresses, protocol and ports. */
static bool parse_tuple(const struct nlattr *nest, int family, struct prefix *src,
			struct prefix *dst, uint8_t *proto, uint16_t *sport, uint16_t *dport)
{
	const struct nlattr *t[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1], *pr[CTA_PROTO_MAX + 1];
	bool v4 = family == AF_INET;

	if (!parse_nested(nest, t, CTA_TUPLE_MAX) || !t[CTA_TUPLE_IP] || !t[CTA_TUPLE_PROTO] ||
	    !parse_nested(t[CTA_TUPLE_IP], ip, CTA_IP_MAX) ||
	    !parse_nested(t[CTA_TUPLE_PROTO], pr, CTA_PROTO_MAX))
		return false;
	if (!get_addr(ip[v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC], family, src) ||
	    !get_addr(ip[v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST], family, dst))
		return false;
	if (!pr[CTA_PROTO_NUM] || mnl_attr_get_payload_len(pr[CTA_PROTO_NUM]) != 1)
		return false;
	*proto = mnl_attr_get_u8(pr[CTA_PROTO_NUM]);
	*sport = get_port(pr[CTA_PROTO_SRC_PORT]);
	*dport = get_port(pr[CTA_PROTO_DST_PORT]);
	return true;
}

bool ctsweep_parse(const struct nlmsghdr *nlh, struct ctsweep_entry *e)
{
	const struct nlattr *tb[CTA_MAX + 1] = {NULL};
	struct attrs a = {tb, CTA_MAX};
	const struct nfgenmsg *nfg;
	struct prefix reply_dst;
	uint16_t sport, unused;
	uint8_t proto;

	memset(e, 0, sizeof(*e));
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg)) ||
	    (nlh->nlmsg_type & 0xff) != IPCTNL_MSG_CT_NEW)
		return false;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != AF_INET && nfg->nfgen_family != AF_INET6)
		return false;
	e->family = nfg->nfgen_family;
	if (mnl_attr_parse(nlh, sizeof(*nfg), attrs_cb, &a) < MNL_CB_STOP || !tb[CTA_TUPLE_ORIG] ||
	    !tb[CTA_TUPLE_REPLY])
		return false;
	if (!parse_tuple(tb[CTA_TUPLE_ORIG], e->family, &e->orig_src, &e->orig_dst, &e->l4proto,
			 &sport, &e->orig_dport) ||
	    !parse_tuple(tb[CTA_TUPLE_REPLY], e->family, &e->reply_src, &reply_dst, &proto,
			 &e->reply_sport, &unused))
		return false;
	/* Room for it in a delete request, with the zone and the id. */
	if (tb[CTA_TUPLE_ORIG]->nla_len > CTSWEEP_MSG_MAX / 2)
		return false;
	e->orig_tuple = tb[CTA_TUPLE_ORIG];
	if (tb[CTA_STATUS] && mnl_attr_get_payload_len(tb[CTA_STATUS]) == 4)
		e->status = ntohl(mnl_attr_get_u32(tb[CTA_STATUS]));
	if (tb[CTA_ZONE] && mnl_attr_get_payload_len(tb[CTA_ZONE]) == 2) {
		e->has_zone = true;
		e->zone = ntohs(mnl_attr_get_u16(tb[CTA_ZONE]));
	}
	if (tb[CTA_ID] && mnl_attr_get_payload_len(tb[CTA_ID]) == 4) {
		e->has_id = true;
		e->id = ntohl(mnl_attr_get_u32(tb[CTA_ID]));
	}
	return true;
}

/* ------------------------------------------------------------ judging */

static int ctsweep_pfx_cmp(const struct prefix *a, const struct prefix *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr.b, b->addr.b, a->family == AF_INET ? 4 : 16);
	if (c)
		return c;
	return (int)a->len - (int)b->len;
}

static int index_cmp(const void *va, const void *vb)
{
	const struct ctsweep_pfx *a = va, *b = vb;

	return ctsweep_pfx_cmp(&a->pfx, &b->pfx);
}

/* The prefixes of p's netns jails that judge selects (NULL: all). */
static void pfxs_read(struct ctsweep_pfxs *v, const struct policy *p, const bool *judge)
{
	size_t i;

	v->v = NULL;
	v->n = 0;
	for (i = 0; i < p->njails; i++) {
		struct prefix own[2];
		size_t k, n;

		if (judge && !judge[i])
			continue;
		n = jail_prefixes(&p->jails[i], own);
		for (k = 0; k < n; k++) {
			prefix_mask(&own[k]);
			*VEC_PUSH(v->v, v->n) = (struct ctsweep_pfx){own[k], i};
		}
	}
	if (v->n)
		qsort(v->v, v->n, sizeof(*v->v), index_cmp);
}

void ctsweep_index_init(struct ctsweep_index *x, const struct policy *p,
			const struct ctsweep_local *local, const bool *judge)
{
	memset(x, 0, sizeof(*x));
	x->p = p;
	x->local = local;
	x->judge = judge;
	pfxs_read(&x->sel, p, judge);
}

void ctsweep_index_free(struct ctsweep_index *x)
{
	free(x->sel.v);
	free(x->all.v);
	memset(&x->sel, 0, sizeof(x->sel));
	memset(&x->all, 0, sizeof(x->all));
	x->all_read = false;
}

/*
 * The jail whose prefix in v holds a (the prefixes of a policy never
 * overlap: check.c refuses that), by binary search for the last prefix
 * that starts at or before it; SIZE_MAX if none.
 */
static size_t jail_of(const struct ctsweep_pfxs *v, const struct prefix *a)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ctsweep_pfx_cmp(&v->v[mid].pfx, a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && prefix_contains(&v->v[lo - 1].pfx, a))
		return v->v[lo - 1].jail;
	return SIZE_MAX;
}

/* Whether a is in the prefix of any netns jail, judged or not. */
static bool in_any_jail(struct ctsweep_index *x, const struct prefix *a)
{
	if (!x->judge)
		return jail_of(&x->sel, a) != SIZE_MAX;
	if (!x->all_read) {
		pfxs_read(&x->all, x->p, NULL);
		x->all_read = true;
	}
	return jail_of(&x->all, a) != SIZE_MAX;
}

static bool addr_same(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr.b, b->addr.b, a->family == AF_INET ? 4 : 16);
}

/* Where a destination is, as the ruleset tells them apart. */
enum where {
	AT_NET,	 /* forwarded: "any", prefixes */
	AT_HOST, /* delivered to the host: "to host" */
	AT_BOTH, /* multicast: either, to be safe */
};

static enum where where_is(const struct ctsweep_index *x, const struct prefix *a)
{
	static const uint8_t bcast[4] = {255, 255, 255, 255};
	size_t i;

	if (a->family == AF_INET ? (a->addr.b[0] & 0xf0) == 0xe0 : a->addr.b[0] == 0xff)
		return AT_BOTH;
	if (a->family == AF_INET && !memcmp(a->addr.b, bcast, 4))
		return AT_HOST;
	for (i = 0; x->local && i < x->local->n; i++)
		if (addr_same(&x->local->addrs[i], a))
			return AT_HOST;
	return AT_NET;
}

static bool proto_of(int family, uint8_t l4proto, enum proto *out)
{
	switch (l4proto) {
	case IPPROTO_TCP:
		*out = PROTO_TCP;
		return true;
	case IPPROTO_UDP:
		*out = PROTO_UDP;
		return true;
	case IPPROTO_ICMP:
		*out = PROTO_ICMP;
		return family == AF_INET;
	case IPPROTO_ICMPV6:
		*out = PROTO_ICMPV6;
		return family == AF_INET6;
	}
	return false;
}

static bool rule_admits(const struct rule *r, enum proto proto, uint16_t port,
			const struct prefix *dst, enum where at)
{
	size_t i;
	bool ports = false;

	if (r->proto != proto)
		return false;
	if (proto_has_ports(proto) && r->nports) {
		for (i = 0; i < r->nports; i++)
			ports |= port >= r->ports[i].lo && port <= r->ports[i].hi;
		if (!ports)
			return false;
	}
	if (!r->ndests)
		return at != AT_HOST;
	for (i = 0; i < r->ndests; i++) {
		const struct dest *d = &r->dests[i];

		if (d->kind == DEST_HOST ? at != AT_NET
					 : at != AT_HOST && prefix_contains(&d->pfx, dst))
			return true;
	}
	return false;
}

/* A connection the jail opened. */
static bool opened_admitted(const struct ctsweep_index *x, const struct jail *j,
			    const struct ctsweep_entry *e)
{
	enum where at = where_is(x, &e->orig_dst);
	enum proto proto;
	size_t i;

	/* The ruleset's maps know no other protocol. */
	if (!proto_of(e->family, e->l4proto, &proto))
		return false;
	for (i = 0; i < j->nrules; i++)
		if (rule_admits(&j->rules[i], proto, e->orig_dport, &e->orig_dst, at))
			return true;
	return false;
}

/* A connection to one of the jail's published ports, through DNAT. */
static bool published_admitted(const struct jail *j, const struct ctsweep_entry *e)
{
	enum proto proto;
	size_t i;

	if (!proto_of(e->family, e->l4proto, &proto))
		return false;
	for (i = 0; i < j->npubs; i++) {
		const struct publish *pb = &j->pubs[i];

		if (pb->proto == proto && e->orig_dport >= pb->ext_lo &&
		    e->orig_dport <= pb->ext_hi &&
		    e->reply_sport == pb->int_lo + (e->orig_dport - pb->ext_lo))
			return true;
	}
	return false;
}

enum ctsweep_verdict ctsweep_judge(struct ctsweep_index *x, const struct ctsweep_entry *e,
				   size_t *jail)
{
	const struct jail *j;
	struct prefix host_side;
	size_t ji;

	ji = jail_of(&x->sel, &e->orig_src);
	if (ji != SIZE_MAX) {
		j = &x->p->jails[ji];
		/*
		 * The host's side of the veth is in the jail's prefix too:
		 * what the host opens from there is not the jail's.
		 */
		jail_addr_host(e->family == AF_INET ? &j->v4 : &j->v6, &host_side);
		if (addr_same(&host_side, &e->orig_src))
			return CTSWEEP_OTHER;
		if (jail)
			*jail = ji;
		return opened_admitted(x, j, e) ? CTSWEEP_ADMITTED : CTSWEEP_STALE;
	}
	ji = jail_of(&x->sel, &e->reply_src);
	if (ji == SIZE_MAX || !(e->status & IPS_DST_NAT))
		return CTSWEEP_OTHER;
	/*
	 * Opened from a jail that is not judged (or its host side): with
	 * every jail judged, the first branch would have taken it.
	 */
	if (x->judge && in_any_jail(x, &e->orig_src))
		return CTSWEEP_OTHER;
	if (jail)
		*jail = ji;
	return published_admitted(&x->p->jails[ji], e) ? CTSWEEP_ADMITTED : CTSWEEP_STALE;
}

/* ------------------------------------------------------------ the run */

static void local_add(struct ctsweep_local *l, const struct sockaddr *sa)
{
	struct prefix *a;

	if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return;
	a = VEC_PUSH(l->addrs, l->n);
	a->family = sa->sa_family;
	if (sa->sa_family == AF_INET) {
		a->len = 32;
		memcpy(a->addr.b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else {
		a->len = 128;
		memcpy(a->addr.b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

static int local_read(struct ctsweep_local *l)
{
	struct ifaddrs *ifa, *i;

	memset(l, 0, sizeof(*l));
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		local_add(l, i->ifa_addr);
		if (i->ifa_flags & IFF_BROADCAST)
			local_add(l, i->ifa_broadaddr);
	}
	freeifaddrs(ifa);
	return 0;
}

struct stale {
	struct ctsweep_entry e;
	struct nlattr *tuple; /* a copy: the dump's buffer is reused */
};

struct dump {
	struct ctsweep_index *x;
	struct ctsweep_local *local;
	struct ctsweep_stats *st;
	struct stale *stale;
	size_t nstale;
	int err;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct ctsweep_entry e;
	struct stale *s;

	if (!ctsweep_parse(nlh, &e))
		return MNL_CB_OK;
	d->st->seen++;
	/* Neither end in a judged jail: nothing to judge. */
	if (jail_of(&d->x->sel, &e.orig_src) == SIZE_MAX &&
	    jail_of(&d->x->sel, &e.reply_src) == SIZE_MAX)
		return MNL_CB_OK;
	/*
	 * The host's addresses ("to host") only once an entry is to be
	 * judged: getifaddrs() dumps every link, thousands with netns jails.
	 */
	if (!d->x->local) {
		d->err = local_read(d->local);
		if (d->err)
			return MNL_CB_ERROR;
		d->x->local = d->local;
	}
	if (ctsweep_judge(d->x, &e, NULL) != CTSWEEP_STALE)
		return MNL_CB_OK;
	s = VEC_PUSH(d->stale, d->nstale);
	s->e = e;
	s->tuple = xmalloc(e.orig_tuple->nla_len);
	memcpy(s->tuple, e.orig_tuple, e.orig_tuple->nla_len);
	s->e.orig_tuple = s->tuple;
	return MNL_CB_OK;
}

int ctsweep_run(const struct policy *p, struct ctsweep_stats *st)
{
	return ctsweep_run_some(p, NULL, st);
}

int ctsweep_run_some(const struct policy *p, const bool *judge, struct ctsweep_stats *st)
{
	struct ctsweep_local local = {NULL, 0};
	struct dump d = {.st = st, .local = &local};
	struct ctsweep_index x;
	uint32_t seq = (uint32_t)time(NULL);
	char *buf = NULL;
	size_t i;
	int ret;

	memset(st, 0, sizeof(*st));
	ctsweep_index_init(&x, p, NULL, judge);
	if (!x.sel.n)
		goto out0;
	d.x = &x;
	buf = xmalloc(CTSWEEP_MSG_MAX);
	ret = nftinfo_talk(ctsweep_build_dump(buf, seq), dump_cb, &d);
	if (d.err)
		ret = d.err;
	for (i = 0; !ret && i < d.nstale; i++) {
		int err = nftinfo_talk(ctsweep_build_delete(buf, ++seq, &d.stale[i].e), NULL, NULL);

		/* Gone meanwhile (timed out, closed): nothing left to do. */
		if (!err)
			st->deleted++;
		else if (err != -ENOENT)
			ret = err;
	}
	for (i = 0; i < d.nstale; i++)
		free(d.stale[i].tuple);
	free(d.stale);
	free(buf);
	free(local.addrs);
	ctsweep_index_free(&x);
	return ret;
out0:
	ctsweep_index_free(&x);
	return 0;
}
