// SPDX-License-Identifier: GPL-2.0-or-later
#include "rtnl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "testhook.h"

/*
 * How much goes into one sendmsg().  The kernel runs the requests of a
 * datagram one after the other and queues one ack each on our socket; if
 * the acks overflow our receive buffer they are dropped (ENOBUFS) and we
 * would wait for answers that never come.  Bounded chunks plus a large
 * receive buffer keep well clear of that.
 */
#define CHUNK_MSGS 128
#define CHUNK_BYTES (32u << 10)
/* Dump replies come in datagrams of up to 32 KiB; never truncate one. */
#define RBUF_SIZE (64u << 10)
#define RCVBUF_SIZE (4u << 20)
/* <linux/if.h>'s, which cannot be included next to <net/if.h>. */
#ifndef ALTIFNAMSIZ
#define ALTIFNAMSIZ 128
#endif

/* ---- builders ---- */

static struct nlmsghdr *rtnl_put_header(void *buf, uint32_t seq, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = seq;
	return nlh;
}

struct nlmsghdr *rtnl_build_veth(void *buf, uint32_t seq, const char *host, const char *peer,
				 int peer_nsfd)
{
	struct nlmsghdr *nlh = rtnl_put_header(buf, seq, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *linkinfo, *data, *peer_nest;
	struct ifinfomsg *ifm, *pifm;

	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC; /* flags 0: the host end starts down */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/*
	 * VETH_INFO_PEER carries a whole ifinfomsg followed by the peer's
	 * attributes.  put_extra_header appends zeroed, aligned room at the
	 * tail of the message, which is exactly what the nest needs.
	 */
	peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	/*
	 * Both ends start down.  The peer cannot be brought up in this
	 * request: the kernel applies its flags before the two ends are
	 * paired, and veth_open() refuses with ENOTCONN.
	 */
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_nsfd);
	mnl_attr_nest_end(nlh, peer_nest);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nlh;
}

struct nlmsghdr *rtnl_build_setlink(void *buf, uint32_t seq, int ifindex, unsigned int flags,
				    unsigned int change)
{
	struct nlmsghdr *nlh = rtnl_put_header(buf, seq, RTM_SETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = flags & change;
	ifm->ifi_change = change;
	return nlh;
}

struct nlmsghdr *rtnl_build_addr_gen_mode(void *buf, uint32_t seq, const char *name, uint8_t mode)
{
	struct nlmsghdr *nlh = rtnl_put_header(buf, seq, RTM_SETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	struct nlattr *spec, *inet6;

	ifm->ifi_family = AF_UNSPEC; /* flags and change 0: left alone */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	inet6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, mode);
	mnl_attr_nest_end(nlh, inet6);
	mnl_attr_nest_end(nlh, spec);
	return nlh;
}

struct nlmsghdr *rtnl_build_alias(void *buf, uint32_t seq, const char *name, const char *alias)
{
	struct nlmsghdr *nlh = rtnl_put_header(buf, seq, RTM_SETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	/*
	 * ifi_flags and ifi_change both 0: the kernel leaves the flags alone
	 * (it reads ifi_change 0 as "every flag" only when ifi_flags is set).
	 * No NUL: the kernel stores the attribute's bytes as the alias.
	 */
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_str(nlh, IFLA_IFALIAS, alias);
	return nlh;
}

struct nlmsghdr *rtnl_build_dellink(void *buf, uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh = rtnl_put_header(buf, seq, RTM_DELLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

struct nlmsghdr *rtnl_build_getlink(void *buf, uint32_t seq, const char *name)
{
	struct nlmsghdr *nlh = rtnl_put_header(buf, seq, RTM_GETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	/* Leaves out the per-VF statistics (not the link's own). */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nlh;
}

struct nlmsghdr *rtnl_build_dump(void *buf, uint32_t seq, uint16_t type, uint8_t family)
{
	struct nlmsghdr *nlh = rtnl_put_header(buf, seq, type, NLM_F_DUMP);

	/*
	 * With NETLINK_GET_STRICT_CHK the kernel wants the full header of
	 * each message type, zeroed except for the filters we mean.
	 */
	switch (type) {
	case RTM_GETLINK: {
		struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

		ifm->ifi_family = family;
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
		break;
	}
	case RTM_GETADDR: {
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

		ifa->ifa_family = family;
		break;
	}
	case RTM_GETROUTE: {
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		rtm->rtm_family = family;
		rtm->rtm_table = RT_TABLE_MAIN;
		mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
		break;
	}
	default: {
		struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

		g->rtgen_family = family;
		break;
	}
	}
	return nlh;
}

static size_t rtnl_addr_bytes(int family)
{
	return family == AF_INET ? 4 : 16;
}

struct nlmsghdr *rtnl_build_addr(void *buf, uint32_t seq, uint16_t type, int ifindex,
				 const struct prefix *addr, bool nodad)
{
	uint16_t flags = type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0;
	struct nlmsghdr *nlh = rtnl_put_header(buf, seq, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	size_t n = rtnl_addr_bytes(addr->family);

	ifa->ifa_family = (uint8_t)addr->family;
	ifa->ifa_prefixlen = addr->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	/* IFA_LOCAL and IFA_ADDRESS equal: not a point-to-point address. */
	mnl_attr_put(nlh, IFA_LOCAL, n, addr->addr.b);
	mnl_attr_put(nlh, IFA_ADDRESS, n, addr->addr.b);
	if (nodad) {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	return nlh;
}

struct nlmsghdr *rtnl_build_defroute(void *buf, uint32_t seq, uint16_t type, uint16_t nlflags,
				     int ifindex, const struct prefix *gw)
{
	uint16_t flags = type == RTM_NEWROUTE ? NLM_F_CREATE | nlflags : nlflags;
	struct nlmsghdr *nlh = rtnl_put_header(buf, seq, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = (uint8_t)gw->family;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	if (type == RTM_NEWROUTE) {
		/* What `ip route add default via GW dev IF` sends. */
		rtm->rtm_protocol = RTPROT_BOOT;
		rtm->rtm_scope = RT_SCOPE_UNIVERSE;
		rtm->rtm_type = RTN_UNICAST;
	} else {
		/* Wildcards, as `ip route del` sends them. */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	if (ifindex > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	mnl_attr_put(nlh, RTA_GATEWAY, rtnl_addr_bytes(gw->family), gw->addr.b);
	return nlh;
}

/* ---- parsers ---- */

struct attrs {
	const struct nlattr **tb;
	int max;
};

static int rtnl_attr_cb(const struct nlattr *attr, void *data)
{
	struct attrs *a = data;
	int type = mnl_attr_get_type(attr);

	/* Unknown (newer) attributes are skipped, not refused. */
	if (type <= a->max)
		a->tb[type] = attr;
	return MNL_CB_OK;
}

static bool attr_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || mnl_attr_get_payload_len(a) < sizeof(uint32_t))
		return false;
	*v = mnl_attr_get_u32(a);
	return true;
}

/* Copy a string attribute that may lack its NUL into buf. */
static void attr_str(const struct nlattr *a, char *buf, size_t size)
{
	size_t n;

	buf[0] = '\0';
	if (!a)
		return;
	n = mnl_attr_get_payload_len(a);
	if (n >= size)
		n = size - 1;
	memcpy(buf, mnl_attr_get_payload(a), n);
	buf[n] = '\0';
}

static bool attr_addr(const struct nlattr *a, int family, struct prefix *p)
{
	size_t n = rtnl_addr_bytes(family);

	if (!a || mnl_attr_get_payload_len(a) < n)
		return false;
	memset(p, 0, sizeof(*p));
	p->family = family;
	memcpy(p->addr.b, mnl_attr_get_payload(a), n);
	p->len = (uint8_t)(n * 8);
	return true;
}

/* The s32 at index i of a devconf array, if it has one. */
static bool conf_at(const struct nlattr *a, size_t i, int *out)
{
	int32_t v;

	if (mnl_attr_get_payload_len(a) < (i + 1) * sizeof(v))
		return false;
	memcpy(&v, (const char *)mnl_attr_get_payload(a) + i * sizeof(v), sizeof(v));
	*out = v;
	return true;
}

/*
 * IFLA_AF_SPEC / AF_INET6 / IFLA_INET6_CONF is the interface's whole IPv6
 * configuration, an array of s32 indexed by DEVCONF_* (kernel ABI), which
 * every link dump carries: reading accept_ra there costs nothing, where a
 * read of /proc/sys would cost a switch into the link's namespace.  Its
 * sibling IFLA_INET6_ADDR_GEN_MODE (u8) says how the kernel makes the
 * link-local address.  AF_INET / IFLA_INET_CONF is the IPv4 one, indexed
 * by IPV4_DEVCONF_* - 1: forwarding, without a /proc/sys read per link.
 */
static void parse_af_spec(const struct nlattr *spec, struct rtnl_link *out)
{
	const struct nlattr *af, *a;

	mnl_attr_for_each_nested(af, spec)
	{
		if (mnl_attr_get_type(af) == AF_INET) {
			mnl_attr_for_each_nested(a, af)
			{
				if (mnl_attr_get_type(a) == IFLA_INET_CONF)
					conf_at(a, IPV4_DEVCONF_FORWARDING - 1, &out->forwarding4);
			}
			continue;
		}
		if (mnl_attr_get_type(af) != AF_INET6)
			continue;
		mnl_attr_for_each_nested(a, af)
		{
			if (mnl_attr_get_type(a) == IFLA_INET6_ADDR_GEN_MODE &&
			    mnl_attr_validate(a, MNL_TYPE_U8) >= 0)
				out->addr_gen_mode = mnl_attr_get_u8(a);
			if (mnl_attr_get_type(a) != IFLA_INET6_CONF)
				continue;
			conf_at(a, DEVCONF_ACCEPT_RA, &out->accept_ra);
			conf_at(a, DEVCONF_DISABLE_IPV6, &out->disable_ipv6);
		}
	}
}

/* IF_OPER_UP of <linux/if.h> (RFC 2863), which cannot sit beside <net/if.h>. */
#define OPER_UP 6

bool rtnl_parse_link(const struct nlmsghdr *nlh, struct rtnl_link *out)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {0};
	const struct nlattr *info[IFLA_INFO_MAX + 1] = {0};
	struct attrs a = {tb, IFLA_MAX}, ai = {info, IFLA_INFO_MAX};
	const struct ifinfomsg *ifm;
	uint32_t v;

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
		return false;
	ifm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifm), rtnl_attr_cb, &a) < 0)
		return false;
	memset(out, 0, sizeof(*out));
	out->ifindex = ifm->ifi_index;
	out->flags = ifm->ifi_flags;
	attr_str(tb[IFLA_IFNAME], out->name, sizeof(out->name));
	attr_str(tb[IFLA_IFALIAS], out->alias, sizeof(out->alias));
	if (attr_u32(tb[IFLA_LINK], &v))
		out->iflink = (int)v;
	if (tb[IFLA_LINKINFO] && mnl_attr_parse_nested(tb[IFLA_LINKINFO], rtnl_attr_cb, &ai) >= 0)
		attr_str(info[IFLA_INFO_KIND], out->kind, sizeof(out->kind));
	out->accept_ra = out->addr_gen_mode = out->forwarding4 = out->disable_ipv6 = -1;
	if (tb[IFLA_AF_SPEC])
		parse_af_spec(tb[IFLA_AF_SPEC], out);
	if (tb[IFLA_OPERSTATE] && mnl_attr_validate(tb[IFLA_OPERSTATE], MNL_TYPE_U8) >= 0)
		out->oper_up = mnl_attr_get_u8(tb[IFLA_OPERSTATE]) == OPER_UP;
	return true;
}

size_t rtnl_link_altnames(const struct nlmsghdr *nlh, void (*fn)(const char *name, void *ctx),
			  void *ctx)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {0};
	struct attrs a = {tb, IFLA_MAX};
	const struct nlattr *alt;
	char name[ALTIFNAMSIZ];
	size_t n = 0;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg) ||
	    mnl_attr_parse(nlh, sizeof(struct ifinfomsg), rtnl_attr_cb, &a) < 0 ||
	    !tb[IFLA_PROP_LIST])
		return 0;
	mnl_attr_for_each_nested(alt, tb[IFLA_PROP_LIST])
	{
		if (mnl_attr_get_type(alt) != IFLA_ALT_IFNAME)
			continue;
		attr_str(alt, name, sizeof(name));
		if (!name[0])
			continue;
		fn(name, ctx);
		n++;
	}
	return n;
}

bool rtnl_parse_addr(const struct nlmsghdr *nlh, struct rtnl_addr *out)
{
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	struct attrs a = {tb, IFA_MAX};
	const struct ifaddrmsg *ifa;
	const struct nlattr *local;
	uint32_t v;

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return false;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return false;
	if (mnl_attr_parse(nlh, sizeof(*ifa), rtnl_attr_cb, &a) < 0)
		return false;
	memset(out, 0, sizeof(*out));
	/* IPv6 sends only IFA_ADDRESS unless the address has a peer. */
	local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!attr_addr(local, ifa->ifa_family, &out->addr))
		return false;
	out->addr.len = ifa->ifa_prefixlen;
	out->ifindex = (int)ifa->ifa_index;
	out->scope = ifa->ifa_scope;
	out->flags = attr_u32(tb[IFA_FLAGS], &v) ? v : ifa->ifa_flags;
	return true;
}

bool rtnl_parse_route(const struct nlmsghdr *nlh, struct rtnl_route *out)
{
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	struct attrs a = {tb, RTA_MAX};
	const struct rtmsg *rtm;
	uint32_t v;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return false;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return false;
	if (mnl_attr_parse(nlh, sizeof(*rtm), rtnl_attr_cb, &a) < 0)
		return false;
	memset(out, 0, sizeof(*out));
	out->table = attr_u32(tb[RTA_TABLE], &v) ? v : rtm->rtm_table;
	out->type = rtm->rtm_type;
	out->protocol = rtm->rtm_protocol;
	if (attr_u32(tb[RTA_OIF], &v))
		out->oif = (int)v;
	if (attr_u32(tb[RTA_PRIORITY], &v))
		out->priority = v;
	out->dst.family = rtm->rtm_family;
	if (tb[RTA_DST] && !attr_addr(tb[RTA_DST], rtm->rtm_family, &out->dst))
		return false;
	out->dst.len = rtm->rtm_dst_len;
	out->has_gw = attr_addr(tb[RTA_GATEWAY], rtm->rtm_family, &out->gw);
	return true;
}

bool rtnl_parse_ack(const struct nlmsghdr *nlh, int *err, const char **msg)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = {0};
	struct attrs a = {tb, NLMSGERR_ATTR_MAX};
	size_t plen = mnl_nlmsg_get_payload_len(nlh);
	const char *payload = mnl_nlmsg_get_payload(nlh);
	size_t off;
	int e;

	*msg = NULL;
	if (nlh->nlmsg_type == NLMSG_DONE) {
		/* A dump's end: an int error, then TLVs like an ack's. */
		e = 0;
		if (plen >= sizeof(int))
			memcpy(&e, payload, sizeof(int));
		off = MNL_ALIGN(sizeof(int));
	} else if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *me = (const void *)payload;

		if (plen < sizeof(*me))
			return false;
		e = me->error;
		/*
		 * Without NETLINK_CAP_ACK (or when the kernel did not cap it)
		 * the failed request is echoed back in full before the TLVs.
		 */
		off = sizeof(*me);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e != 0)
			off += MNL_ALIGN(me->msg.nlmsg_len) - sizeof(me->msg);
	} else {
		return false;
	}
	*err = e > 0 ? -e : e;
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && off < plen &&
	    mnl_attr_parse_payload(payload + off, plen - off, rtnl_attr_cb, &a) >= 0 &&
	    tb[NLMSGERR_ATTR_MSG] && mnl_attr_get_payload_len(tb[NLMSGERR_ATTR_MSG]) > 0) {
		const char *s = mnl_attr_get_payload(tb[NLMSGERR_ATTR_MSG]);
		size_t n = mnl_attr_get_payload_len(tb[NLMSGERR_ATTR_MSG]);

		/* The kernel sends it NUL-terminated; refuse anything else. */
		if (s[n - 1] == '\0' && s[0])
			*msg = s;
	}
	return true;
}

/* ---- batches ---- */

void rtnl_batch_init(struct rtnl_batch *b)
{
	static uint32_t seq_base;

	memset(b, 0, sizeof(*b));
	/* Distinct numbers per batch make a stray late answer harmless. */
	if (!seq_base)
		seq_base = 0x10000;
	b->seq = seq_base;
	seq_base += 0x10000;
}

static void reqs_free(struct rtnl_batch *b)
{
	size_t i;

	for (i = 0; i < b->nreqs; i++) {
		free(b->reqs[i].what);
		free(b->reqs[i].kmsg);
	}
	b->nreqs = 0;
}

void rtnl_batch_free(struct rtnl_batch *b)
{
	reqs_free(b);
	free(b->reqs);
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

void rtnl_batch_reset(struct rtnl_batch *b)
{
	reqs_free(b);
	b->len = 0;
}

void *rtnl_batch_room(struct rtnl_batch *b)
{
	if (b->cap - b->len < RTNL_MSG_MAX) {
		b->cap = b->cap ? b->cap * 2 : 8192;
		b->buf = xrealloc(b->buf, b->cap);
	}
	memset(b->buf + b->len, 0, RTNL_MSG_MAX);
	return b->buf + b->len;
}

uint32_t rtnl_batch_seq(const struct rtnl_batch *b)
{
	return b->seq;
}

struct rtnl_req *rtnl_batch_add(struct rtnl_batch *b, struct nlmsghdr *nlh, rtnl_reply_cb cb,
				void *ctx, const char *fmt, ...)
{
	struct rtnl_req *q;
	va_list ap;

	if ((char *)nlh != b->buf + b->len || nlh->nlmsg_len > RTNL_MSG_MAX ||
	    nlh->nlmsg_seq != b->seq) {
		fprintf(stderr, "jailfw: internal error: request not built at rtnl_batch_room()\n");
		abort();
	}
	q = VEC_PUSH(b->reqs, b->nreqs);
	q->seq = b->seq++;
	/*
	 * NLM_F_DUMP is two bits, one of which (NLM_F_MATCH) is NLM_F_EXCL
	 * in a create request: only a GET with both bits is a dump.
	 */
	q->dump = (nlh->nlmsg_type & 3) == (RTM_GETLINK & 3) &&
		  (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	q->cb = cb;
	q->ctx = ctx;
	va_start(ap, fmt);
	q->what = xvasprintf(fmt, ap);
	va_end(ap);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return q;
}

const struct rtnl_req *rtnl_batch_error(const struct rtnl_batch *b)
{
	size_t i;

	for (i = 0; i < b->nreqs; i++)
		if (b->reqs[i].err)
			return &b->reqs[i];
	return NULL;
}

const char *rtnl_req_strerror(const struct rtnl_req *q, char *buf, size_t len)
{
	if (q->kmsg)
		snprintf(buf, len, "%s: %s (kernel: %s)", q->what, strerror(-q->err), q->kmsg);
	else
		snprintf(buf, len, "%s: %s", q->what, strerror(-q->err));
	return buf;
}

/* ---- the talker ---- */

int rtnl_open(struct rtnl *r)
{
	int one = 1, size = RCVBUF_SIZE, fd, err;

	memset(r, 0, sizeof(*r));
	r->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!r->nl)
		return -errno;
	fd = mnl_socket_get_fd(r->nl);
	/*
	 * Extended acks carry the kernel's own words ("Invalid prefix for
	 * given prefix length"); capped acks do not echo our request back.
	 * Strict checking makes the kernel refuse a malformed request instead
	 * of guessing, and honour the table filter of a route dump.  All
	 * three are optional: an older kernel answers with less detail.
	 */
	mnl_socket_setsockopt(r->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(r->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(r->nl, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	/* FORCE (CAP_NET_ADMIN) may exceed rmem_max; plain is the fallback. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(r->nl);
		r->nl = NULL;
		return err;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	r->rbuf = xmalloc(RBUF_SIZE);
	return 0;
}

void rtnl_close(struct rtnl *r)
{
	if (r->nl)
		mnl_socket_close(r->nl);
	free(r->rbuf);
	memset(r, 0, sizeof(*r));
}

struct talk {
	struct rtnl_batch *b;
	size_t pending;
	bool intr;
};

static struct rtnl_req *req_of(struct talk *t, const struct nlmsghdr *nlh)
{
	struct rtnl_batch *b = t->b;
	uint32_t i;

	if (!b->nreqs)
		return NULL;
	i = nlh->nlmsg_seq - b->reqs[0].seq;
	if (i >= b->nreqs || b->reqs[i].seq != nlh->nlmsg_seq || b->reqs[i].done)
		return NULL;
	return &b->reqs[i];
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	struct rtnl_req *q = req_of(t, nlh);
	int err;

	if (q && q->cb && !q->err) {
		err = q->cb(nlh, q->ctx);
		if (err < 0)
			q->err = err;
	}
	return MNL_CB_OK;
}

/* NLMSG_ERROR (an ack, or a failure) and NLMSG_DONE end one request. */
static int end_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	struct rtnl_req *q = req_of(t, nlh);
	const char *msg;
	int err;

	if (!q || !rtnl_parse_ack(nlh, &err, &msg))
		return MNL_CB_OK;
	if (err && !q->err) {
		q->err = err;
		if (msg)
			q->kmsg = xstrdup(msg);
	}
	if (t->intr && q->dump && !q->err)
		q->err = -EINTR; /* the dump raced a change: ask again */
	t->intr = false;
	q->done = true;
	t->pending--;
	return MNL_CB_OK;
}

static int noop_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

/* Not const: mnl_cb_run2() takes a plain pointer. */
static mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
    [NLMSG_NOOP] = noop_cb,
    [NLMSG_ERROR] = end_cb,
    [NLMSG_DONE] = end_cb,
    [NLMSG_OVERRUN] = noop_cb,
};

static int recv_answers(struct rtnl *r, struct talk *t)
{
	while (t->pending) {
		const struct nlmsghdr *nlh;
		ssize_t n = mnl_socket_recvfrom(r->nl, r->rbuf, RBUF_SIZE);
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (int)n;
		/*
		 * Run each message through mnl_cb_run2 by itself: on a dump
		 * interrupted by a concurrent change (NLM_F_DUMP_INTR) it stops
		 * with EINTR, and the rest of the datagram, with the answers of
		 * other requests, must still be read.
		 */
		for (nlh = (const void *)r->rbuf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (mnl_cb_run2(nlh, nlh->nlmsg_len, 0, r->portid, data_cb, t, ctl_cbs,
					ARRAY_SIZE(ctl_cbs)) < 0 &&
			    errno == EINTR)
				t->intr = true;
		}
	}
	return 0;
}

/*
 * TEST-ONLY (JAILFW_TEST_FAULT=rtnl-newlink, rtnl-setlink, rtnl-dellink,
 * rtnl-newaddr, rtnl-deladdr, rtnl-newroute, rtnl-delroute): every request
 * of that type is answered as if the kernel had refused it, without being
 * sent, so that the end-to-end tests can show each kind of write failing
 * in the middle of an apply and everything before it rolled back.  Reads
 * are never refused.  The errno, EIO, is one no caller treats as benign.
 */
static const struct {
	uint16_t type;
	const char *fault;
} rtnl_faults[] = {
    {RTM_NEWLINK, "rtnl-newlink"},   {RTM_SETLINK, "rtnl-setlink"}, {RTM_DELLINK, "rtnl-dellink"},
    {RTM_NEWADDR, "rtnl-newaddr"},   {RTM_DELADDR, "rtnl-deladdr"}, {RTM_NEWROUTE, "rtnl-newroute"},
    {RTM_DELROUTE, "rtnl-delroute"},
};

static const char *injected(bool faults, const struct nlmsghdr *nlh)
{
	size_t i;

	for (i = 0; faults && i < ARRAY_SIZE(rtnl_faults); i++)
		if (nlh->nlmsg_type == rtnl_faults[i].type && testhook_fault(rtnl_faults[i].fault))
			return rtnl_faults[i].fault;
	return NULL;
}

#define DUMP_TRIES 12
#define DUMP_PAUSE_MS 5
#define DUMP_PAUSE_MAX_MS 500

int rtnl_dump(struct rtnl *r, struct rtnl_batch *b, uint16_t type, rtnl_reply_cb cb, void *ctx,
	      void (*reset)(void *ctx), const char *what)
{
	struct timespec pause = {0, DUMP_PAUSE_MS * 1000000L};
	struct nlmsghdr *nlh;
	int err = 0, i;

	for (i = 0; i < DUMP_TRIES; i++) {
		if (i) {
			if (reset)
				reset(ctx);
			nanosleep(&pause, NULL);
			pause.tv_nsec *= 2;
			if (pause.tv_nsec > DUMP_PAUSE_MAX_MS * 1000000L)
				pause.tv_nsec = DUMP_PAUSE_MAX_MS * 1000000L;
		}
		rtnl_batch_reset(b);
		nlh = rtnl_build_dump(rtnl_batch_room(b), rtnl_batch_seq(b), type, AF_UNSPEC);
		rtnl_batch_add(b, nlh, cb, ctx, "%s", what);
		err = rtnl_talk(r, b);
		if (err != -EINTR)
			break;
	}
	return err;
}

int rtnl_talk(struct rtnl *r, struct rtnl_batch *b)
{
	struct talk t = {.b = b};
	const struct rtnl_req *failed;
	bool faults = testhook_any_fault();
	size_t i = 0, off = 0;
	int err;

	while (i < b->nreqs) {
		const struct nlmsghdr *head = (const void *)(b->buf + off);
		const char *fault = injected(faults, head);
		size_t start, first;

		/* A refused request ends the datagram before it; it is not sent. */
		if (fault) {
			b->reqs[i].err = -EIO;
			b->reqs[i].kmsg =
			    xasprintf("refused by %s=%s", testhook_fault_var(), fault);
			b->reqs[i].done = true;
			off += NLMSG_ALIGN(head->nlmsg_len);
			i++;
			continue;
		}
		start = off;
		first = i;
		/* A dump must end its datagram: a second one would be EBUSY. */
		while (i < b->nreqs && i - first < CHUNK_MSGS) {
			const struct nlmsghdr *nlh = (const void *)(b->buf + off);
			size_t n = NLMSG_ALIGN(nlh->nlmsg_len);

			if (off - start + n > CHUNK_BYTES && i > first)
				break;
			if (i > first && injected(faults, nlh))
				break;
			off += n;
			i++;
			if (b->reqs[i - 1].dump)
				break;
		}
		if (mnl_socket_sendto(r->nl, b->buf + start, off - start) < 0)
			return -errno;
		t.pending = i - first;
		err = recv_answers(r, &t);
		if (err)
			return err;
	}
	failed = rtnl_batch_error(b);
	return failed ? failed->err : 0;
}
