// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rtnl: every builder round-tripped through mnl_attr_parse, the parsers on
 * messages built here, extended-ack parsing on synthetic NLMSG_ERROR and
 * NLMSG_DONE messages, batches, and the talker on read-only requests (a
 * GETLINK that succeeds and one that fails, in one batch).  Needs no root
 * and changes nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "rtnl.h"
#include "t.h"

static char buf[RTNL_MSG_MAX * 4];

struct tb {
	const struct nlattr *a[64];
};

static int tb_cb(const struct nlattr *attr, void *data)
{
	struct tb *t = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type < 64)
		t->a[type] = attr;
	return MNL_CB_OK;
}

static struct prefix pfx(const char *s, unsigned int len)
{
	struct prefix p;

	memset(&p, 0, sizeof(p));
	p.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	inet_pton(p.family, s, p.addr.b);
	p.len = (uint8_t)len;
	return p;
}

static bool str_attr_is(const struct nlattr *a, const char *want)
{
	/* strz attributes carry the NUL; compare the whole payload. */
	return a && mnl_attr_get_payload_len(a) == strlen(want) + 1 &&
	       !memcmp(mnl_attr_get_payload(a), want, strlen(want) + 1);
}

static void test_veth(void)
{
	struct nlmsghdr *nlh;
	const struct ifinfomsg *ifm, *pifm;
	struct tb top = {0}, info = {0}, data = {0}, peer = {0};
	const struct nlattr *pa;

	memset(buf, 0xaa, sizeof(buf)); /* the builder must not rely on zeroes */
	nlh = rtnl_build_veth(buf, 42, "foobar-out", "foobar-in", 7);
	T_CHECK(nlh->nlmsg_len <= RTNL_MSG_MAX, "veth: fits RTNL_MSG_MAX");
	T_CHECK(nlh->nlmsg_type == RTM_NEWLINK && nlh->nlmsg_seq == 42, "veth: RTM_NEWLINK, seq");
	T_CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL),
		"veth: request, ack, create, excl");
	ifm = mnl_nlmsg_get_payload(nlh);
	T_CHECK(ifm->ifi_flags == 0 && ifm->ifi_change == 0 && ifm->ifi_index == 0,
		"veth: host end created down");
	T_CHECK(mnl_attr_parse(nlh, sizeof(*ifm), tb_cb, &top) == MNL_CB_OK, "veth: parses");
	T_CHECK(str_attr_is(top.a[IFLA_IFNAME], "foobar-out"), "veth: IFLA_IFNAME");
	T_CHECK(!top.a[IFLA_IFALIAS], "veth: no alias in the create request");
	T_CHECK(top.a[IFLA_LINKINFO] &&
		    mnl_attr_parse_nested(top.a[IFLA_LINKINFO], tb_cb, &info) == MNL_CB_OK,
		"veth: IFLA_LINKINFO nest");
	T_CHECK(str_attr_is(info.a[IFLA_INFO_KIND], "veth"), "veth: kind veth");
	T_CHECK(info.a[IFLA_INFO_DATA] &&
		    mnl_attr_parse_nested(info.a[IFLA_INFO_DATA], tb_cb, &data) == MNL_CB_OK,
		"veth: IFLA_INFO_DATA nest");
	pa = data.a[VETH_INFO_PEER];
	T_CHECK(pa && mnl_attr_get_payload_len(pa) > sizeof(struct ifinfomsg),
		"veth: VETH_INFO_PEER holds an ifinfomsg and more");
	if (!pa)
		return;
	pifm = mnl_attr_get_payload(pa);
	T_CHECK(pifm->ifi_family == AF_UNSPEC && pifm->ifi_flags == 0 && pifm->ifi_change == 0 &&
		    pifm->ifi_index == 0,
		"veth: peer ifinfomsg zeroed (peer created down: ENOTCONN otherwise)");
	T_CHECK(mnl_attr_parse_payload((const char *)pifm + MNL_ALIGN(sizeof(*pifm)),
				       mnl_attr_get_payload_len(pa) - MNL_ALIGN(sizeof(*pifm)),
				       tb_cb, &peer) == MNL_CB_OK,
		"veth: peer attributes parse");
	T_CHECK(str_attr_is(peer.a[IFLA_IFNAME], "foobar-in"), "veth: peer IFLA_IFNAME");
	T_CHECK(peer.a[IFLA_NET_NS_FD] && mnl_attr_get_u32(peer.a[IFLA_NET_NS_FD]) == 7,
		"veth: peer IFLA_NET_NS_FD");

	nlh = rtnl_build_veth(buf, 43, "a-out", "a-in", -1);
	memset(&top, 0, sizeof(top));
	memset(&info, 0, sizeof(info));
	memset(&data, 0, sizeof(data));
	memset(&peer, 0, sizeof(peer));
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), tb_cb, &top);
	mnl_attr_parse_nested(top.a[IFLA_LINKINFO], tb_cb, &info);
	mnl_attr_parse_nested(info.a[IFLA_INFO_DATA], tb_cb, &data);
	pa = data.a[VETH_INFO_PEER];
	mnl_attr_parse_payload((const char *)mnl_attr_get_payload(pa) + MNL_ALIGN(sizeof(*pifm)),
			       mnl_attr_get_payload_len(pa) - MNL_ALIGN(sizeof(*pifm)), tb_cb,
			       &peer);
	T_CHECK(!peer.a[IFLA_NET_NS_FD] && str_attr_is(peer.a[IFLA_IFNAME], "a-in"),
		"veth: no namespace fd when -1");
}

static void test_links(void)
{
	struct nlmsghdr *nlh;
	const struct ifinfomsg *ifm;
	struct tb t = {0};

	nlh = rtnl_build_alias(buf, 5, "foobar-out", "jailfw:foobar");
	ifm = mnl_nlmsg_get_payload(nlh);
	T_CHECK(nlh->nlmsg_type == RTM_SETLINK && (nlh->nlmsg_flags & NLM_F_ACK) &&
		    !(nlh->nlmsg_flags & NLM_F_CREATE),
		"alias: RTM_SETLINK with ack");
	/* Both 0: anything else would change the link's flags (ifi_change 0 = all). */
	T_CHECK(ifm->ifi_flags == 0 && ifm->ifi_change == 0 && ifm->ifi_index == 0,
		"alias: leaves flags alone, addressed by name");
	mnl_attr_parse(nlh, sizeof(*ifm), tb_cb, &t);
	T_CHECK(str_attr_is(t.a[IFLA_IFNAME], "foobar-out"), "alias: IFLA_IFNAME");
	T_CHECK(t.a[IFLA_IFALIAS] && mnl_attr_get_payload_len(t.a[IFLA_IFALIAS]) == 13 &&
		    !memcmp(mnl_attr_get_payload(t.a[IFLA_IFALIAS]), "jailfw:foobar", 13),
		"alias: IFLA_IFALIAS without its NUL (the kernel stores the bytes)");

	nlh = rtnl_build_setlink(buf, 6, 12, IFF_UP, IFF_UP);
	ifm = mnl_nlmsg_get_payload(nlh);
	T_CHECK(nlh->nlmsg_type == RTM_SETLINK && ifm->ifi_index == 12 &&
		    ifm->ifi_flags == IFF_UP && ifm->ifi_change == IFF_UP,
		"setlink up: index, flags, change");
	nlh = rtnl_build_setlink(buf, 6, 12, 0, IFF_UP);
	ifm = mnl_nlmsg_get_payload(nlh);
	T_CHECK(ifm->ifi_flags == 0 && ifm->ifi_change == IFF_UP,
		"setlink down: only IFF_UP changes");

	nlh = rtnl_build_dellink(buf, 7, 33);
	ifm = mnl_nlmsg_get_payload(nlh);
	T_CHECK(nlh->nlmsg_type == RTM_DELLINK && ifm->ifi_index == 33 &&
		    nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK),
		"dellink: index, ack");

	memset(&t, 0, sizeof(t));
	nlh = rtnl_build_getlink(buf, 8, "lo");
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), tb_cb, &t);
	T_CHECK(nlh->nlmsg_type == RTM_GETLINK && !(nlh->nlmsg_flags & NLM_F_DUMP) &&
		    str_attr_is(t.a[IFLA_IFNAME], "lo") && t.a[IFLA_EXT_MASK] &&
		    mnl_attr_get_u32(t.a[IFLA_EXT_MASK]) == RTEXT_FILTER_SKIP_STATS,
		"getlink: by name, extended mask");
}

static void test_addr_route(void)
{
	struct prefix a6 = pfx("fd00:97::3:1", 112), a4 = pfx("10.97.10.1", 24), gw;
	const struct ifaddrmsg *ifa;
	const struct rtmsg *rtm;
	struct nlmsghdr *nlh;
	struct tb t = {0};

	nlh = rtnl_build_addr(buf, 9, RTM_NEWADDR, 4, &a6, true);
	ifa = mnl_nlmsg_get_payload(nlh);
	T_CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL),
		"addr v6: create, excl, ack");
	T_CHECK(ifa->ifa_family == AF_INET6 && ifa->ifa_prefixlen == 112 && ifa->ifa_index == 4 &&
		    ifa->ifa_flags == IFA_F_NODAD,
		"addr v6: family, prefix length, index, nodad");
	mnl_attr_parse(nlh, sizeof(*ifa), tb_cb, &t);
	T_CHECK(t.a[IFA_LOCAL] && mnl_attr_get_payload_len(t.a[IFA_LOCAL]) == 16 &&
		    !memcmp(mnl_attr_get_payload(t.a[IFA_LOCAL]), a6.addr.b, 16),
		"addr v6: IFA_LOCAL");
	T_CHECK(t.a[IFA_FLAGS] && mnl_attr_get_u32(t.a[IFA_FLAGS]) == IFA_F_NODAD,
		"addr v6: IFA_FLAGS nodad");

	memset(&t, 0, sizeof(t));
	nlh = rtnl_build_addr(buf, 10, RTM_DELADDR, 5, &a4, false);
	ifa = mnl_nlmsg_get_payload(nlh);
	mnl_attr_parse(nlh, sizeof(*ifa), tb_cb, &t);
	T_CHECK(nlh->nlmsg_type == RTM_DELADDR && nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK) &&
		    ifa->ifa_family == AF_INET && ifa->ifa_prefixlen == 24 && ifa->ifa_flags == 0,
		"addr v4 delete: no create flags, no nodad");
	T_CHECK(t.a[IFA_ADDRESS] && mnl_attr_get_payload_len(t.a[IFA_ADDRESS]) == 4 &&
		    !memcmp(mnl_attr_get_payload(t.a[IFA_ADDRESS]), a4.addr.b, 4) &&
		    !t.a[IFA_FLAGS],
		"addr v4: IFA_ADDRESS, no IFA_FLAGS");

	gw = pfx("fd00:97::3:1", 128);
	memset(&t, 0, sizeof(t));
	nlh = rtnl_build_defroute(buf, 11, RTM_NEWROUTE, NLM_F_REPLACE, 3, &gw);
	rtm = mnl_nlmsg_get_payload(nlh);
	mnl_attr_parse(nlh, sizeof(*rtm), tb_cb, &t);
	T_CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE),
		"route: create|replace");
	T_CHECK(rtm->rtm_family == AF_INET6 && rtm->rtm_dst_len == 0 &&
		    rtm->rtm_table == RT_TABLE_MAIN && rtm->rtm_type == RTN_UNICAST &&
		    rtm->rtm_protocol == RTPROT_BOOT && rtm->rtm_scope == RT_SCOPE_UNIVERSE,
		"route: default, main table, unicast, as ip route add");
	T_CHECK(t.a[RTA_OIF] && mnl_attr_get_u32(t.a[RTA_OIF]) == 3 && t.a[RTA_GATEWAY] &&
		    !memcmp(mnl_attr_get_payload(t.a[RTA_GATEWAY]), gw.addr.b, 16) &&
		    t.a[RTA_TABLE] && mnl_attr_get_u32(t.a[RTA_TABLE]) == RT_TABLE_MAIN,
		"route: oif, gateway, RTA_TABLE");
	nlh = rtnl_build_defroute(buf, 12, RTM_DELROUTE, 0, 3, &gw);
	rtm = mnl_nlmsg_get_payload(nlh);
	T_CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK) &&
		    rtm->rtm_scope == RT_SCOPE_NOWHERE && rtm->rtm_protocol == 0,
		"route delete: wildcard scope and protocol");

	memset(&t, 0, sizeof(t));
	nlh = rtnl_build_dump(buf, 13, RTM_GETROUTE, AF_UNSPEC);
	rtm = mnl_nlmsg_get_payload(nlh);
	mnl_attr_parse(nlh, sizeof(*rtm), tb_cb, &t);
	T_CHECK((nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP && rtm->rtm_table == RT_TABLE_MAIN &&
		    t.a[RTA_TABLE] && mnl_attr_get_u32(t.a[RTA_TABLE]) == RT_TABLE_MAIN,
		"route dump: main table filter");
}

/* Messages as the kernel sends them, built by hand, through the parsers. */
static void test_parsers(void)
{
	struct prefix a6 = pfx("fd00:97::3:2", 112), gw4 = pfx("10.97.10.1", 32);
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct ifaddrmsg *ifa;
	struct rtmsg *rtm;
	struct nlattr *nest;
	struct rtnl_link l;
	struct rtnl_addr a;
	struct rtnl_route r;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_index = 9;
	ifm->ifi_flags = IFF_UP | IFF_BROADCAST;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "foobar-out");
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, "jailfw:foobar");
	mnl_attr_put_u32(nlh, IFLA_LINK, 2);
	nest = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	mnl_attr_nest_end(nlh, nest);
	T_CHECK(rtnl_parse_link(nlh, &l), "parse link");
	T_CHECK(l.ifindex == 9 && (l.flags & IFF_UP) && !strcmp(l.name, "foobar-out") &&
		    !strcmp(l.alias, "jailfw:foobar") && !strcmp(l.kind, "veth") && l.iflink == 2,
		"parse link: index, flags, name, alias, kind, peer");
	nlh->nlmsg_type = RTM_NEWADDR;
	T_CHECK(!rtnl_parse_link(nlh, &l), "parse link: refuses another message type");

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = 112;
	ifa->ifa_index = 2;
	mnl_attr_put(nlh, IFA_ADDRESS, 16, a6.addr.b); /* IPv6: no IFA_LOCAL */
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD | IFA_F_PERMANENT);
	T_CHECK(rtnl_parse_addr(nlh, &a) && a.ifindex == 2 && a.addr.family == AF_INET6 &&
		    a.addr.len == 112 && !memcmp(a.addr.addr.b, a6.addr.b, 16) &&
		    a.flags == (IFA_F_NODAD | IFA_F_PERMANENT),
		"parse addr: IPv6 from IFA_ADDRESS, flags from IFA_FLAGS");

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	mnl_attr_put(nlh, RTA_GATEWAY, 4, gw4.addr.b);
	T_CHECK(rtnl_parse_route(nlh, &r) && r.dst.len == 0 && r.oif == 2 && r.has_gw &&
		    !memcmp(r.gw.addr.b, gw4.addr.b, 4) && r.table == RT_TABLE_MAIN,
		"parse route: default via gateway");
}

/* An NLMSG_ERROR as the kernel builds it (with or without the request echoed). */
static struct nlmsghdr *put_error(int error, bool capped, const char *msg)
{
	struct nlmsghdr *nlh, *req;
	struct nlmsgerr *e;
	char reqbuf[RTNL_MSG_MAX];

	memset(buf, 0, sizeof(buf));
	req = rtnl_build_veth(reqbuf, 77, "foobar-out", "foobar-in", 3);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = 77;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg = *req;
	if (capped) {
		nlh->nlmsg_flags |= NLM_F_CAPPED;
	} else {
		/* The request's payload follows the embedded header. */
		size_t n = req->nlmsg_len - sizeof(*req);

		memcpy(mnl_nlmsg_put_extra_header(nlh, n), (char *)req + sizeof(*req), n);
	}
	if (msg) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 20);
	}
	return nlh;
}

struct names {
	char v[4][32];
	size_t n;
};

static void collect(const char *name, void *ctx)
{
	struct names *ns = ctx;

	if (ns->n < 4)
		snprintf(ns->v[ns->n++], sizeof(ns->v[0]), "%s", name);
}

/* Alternative names: what the kernel refuses as the name of a new link. */
static void test_altnames(void)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *nest;
	struct names got = {0};

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_index = 7;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "xv0");
	nest = mnl_attr_nest_start(nlh, IFLA_PROP_LIST);
	mnl_attr_put_strz(nlh, IFLA_ALT_IFNAME, "foobar-out");
	mnl_attr_put_strz(nlh, IFLA_ALT_IFNAME, "a-rather-long-alternative-name");
	mnl_attr_nest_end(nlh, nest);
	T_CHECK(rtnl_link_altnames(nlh, collect, &got) == 2 && got.n == 2 &&
		    !strcmp(got.v[0], "foobar-out") &&
		    !strcmp(got.v[1], "a-rather-long-alternative-name"),
		"altnames: every IFLA_ALT_IFNAME of IFLA_PROP_LIST, in order");
	got.n = 0;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "lo");
	T_CHECK(rtnl_link_altnames(nlh, collect, &got) == 0 && got.n == 0,
		"altnames: none without IFLA_PROP_LIST");
	nlh->nlmsg_type = RTM_NEWADDR;
	T_CHECK(rtnl_link_altnames(nlh, collect, &got) == 0, "altnames: only link messages");
}

static void test_acks(void)
{
	struct nlmsghdr *nlh;
	const char *msg;
	int err;

	nlh = put_error(-EEXIST, true, "Interface name already in use");
	T_CHECK(rtnl_parse_ack(nlh, &err, &msg), "ack: capped error parses");
	T_CHECK(err == -EEXIST, "ack: -EEXIST");
	T_STREQ(msg, "Interface name already in use", "ack: extended-ack text (capped)");

	nlh = put_error(-EINVAL, false, "ipv4: Invalid prefix length");
	T_CHECK(rtnl_parse_ack(nlh, &err, &msg) && err == -EINVAL, "ack: uncapped error parses");
	T_STREQ(msg, "ipv4: Invalid prefix length",
		"ack: extended-ack text after the echoed request");

	nlh = put_error(-ENODEV, true, NULL);
	T_CHECK(rtnl_parse_ack(nlh, &err, &msg) && err == -ENODEV && !msg,
		"ack: error without text");

	nlh = put_error(0, true, NULL);
	T_CHECK(rtnl_parse_ack(nlh, &err, &msg) && err == 0 && !msg, "ack: success");

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI | NLM_F_ACK_TLVS;
	*(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(int)) = -EBUSY;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "dump in progress");
	T_CHECK(rtnl_parse_ack(nlh, &err, &msg) && err == -EBUSY, "done: a failed dump's error");
	T_STREQ(msg, "dump in progress", "done: its text");

	nlh = put_error(-EEXIST, true, NULL);
	nlh->nlmsg_len = sizeof(*nlh) + 2; /* truncated */
	T_CHECK(!rtnl_parse_ack(nlh, &err, &msg), "ack: truncated refused");
	nlh->nlmsg_type = RTM_NEWLINK;
	T_CHECK(!rtnl_parse_ack(nlh, &err, &msg), "ack: not an ack refused");
}

static void test_batch(void)
{
	struct rtnl_batch b;
	struct rtnl_req *q;
	struct prefix a = pfx("10.97.10.1", 24);
	char text[256];
	uint32_t seq;

	rtnl_batch_init(&b);
	seq = rtnl_batch_seq(&b);
	q = rtnl_batch_add(
	    &b, rtnl_build_addr(rtnl_batch_room(&b), rtnl_batch_seq(&b), RTM_NEWADDR, 1, &a, false),
	    NULL, NULL, "add address %s", "10.97.10.1/24");
	T_CHECK(q->seq == seq && !q->dump, "batch: create|excl request is not a dump");
	q = rtnl_batch_add(
	    &b, rtnl_build_dump(rtnl_batch_room(&b), rtnl_batch_seq(&b), RTM_GETLINK, AF_UNSPEC),
	    NULL, NULL, "list links");
	T_CHECK(q->seq == seq + 1 && q->dump, "batch: dump recognised, sequence numbers follow");
	{
		const struct nlmsghdr *m1 = (const void *)b.buf;
		const struct nlmsghdr *m2 = (const void *)(b.buf + NLMSG_ALIGN(m1->nlmsg_len));

		T_CHECK(b.nreqs == 2 && m2->nlmsg_seq == seq + 1 && m2->nlmsg_type == RTM_GETLINK &&
			    b.len == NLMSG_ALIGN(m1->nlmsg_len) + NLMSG_ALIGN(m2->nlmsg_len),
			"batch: messages packed back to back");
	}
	b.reqs[0].err = -EEXIST;
	b.reqs[0].kmsg = strdup("Address already assigned");
	T_STREQ(rtnl_req_strerror(&b.reqs[0], text, sizeof(text)),
		"add address 10.97.10.1/24: File exists (kernel: Address already assigned)",
		"batch: error text names the request and quotes the kernel");
	T_CHECK(rtnl_batch_error(&b) == &b.reqs[0], "batch: first error found");
	rtnl_batch_reset(&b);
	T_CHECK(b.nreqs == 0 && b.len == 0 && !rtnl_batch_error(&b), "batch: reset");
	rtnl_batch_free(&b);
}

static int lo_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct rtnl_link l;

	if (rtnl_parse_link(nlh, &l) && (l.flags & IFF_LOOPBACK))
		*(int *)ctx = l.ifindex;
	return 0;
}

/* The talker on read-only requests: independent answers, kernel text. */
static void test_talker(void)
{
	struct nlmsghdr *nlh;
	struct rtnl_batch b;
	struct rtnl r;
	int lo1 = 0, lo2 = 0, err;
	char text[512];

	err = rtnl_open(&r);
	T_CHECK(err == 0, "talker: open");
	if (err)
		return;
	rtnl_batch_init(&b);
	rtnl_batch_add(&b, rtnl_build_getlink(rtnl_batch_room(&b), rtnl_batch_seq(&b), "lo"), lo_cb,
		       &lo1, "get link \"lo\"");
	rtnl_batch_add(&b,
		       rtnl_build_getlink(rtnl_batch_room(&b), rtnl_batch_seq(&b), "jailfw-none0"),
		       lo_cb, &lo2, "get link \"%s\"", "jailfw-none0");
	rtnl_batch_add(&b, rtnl_build_getlink(rtnl_batch_room(&b), rtnl_batch_seq(&b), "lo"), lo_cb,
		       &lo2, "get link \"lo\"");
	err = rtnl_talk(&r, &b);
	T_CHECK(err == -ENODEV, "talker: the failed request's errno");
	T_CHECK(b.reqs[0].done && !b.reqs[0].err && b.reqs[2].done && !b.reqs[2].err,
		"talker: requests around the failure answered");
	T_CHECK(lo1 > 0 && lo1 == lo2, "talker: replies reach each request's callback");
	T_CHECK(b.reqs[1].err == -ENODEV && rtnl_batch_error(&b) == &b.reqs[1],
		"talker: failure recorded on its request");
	rtnl_req_strerror(&b.reqs[1], text, sizeof(text));
	T_CHECK(!strncmp(text, "get link \"jailfw-none0\": No such device", 39),
		"talker: message reads `what: strerror`");
	printf("# %s\n", text);

	rtnl_batch_reset(&b);
	lo1 = 0;
	nlh = rtnl_build_dump(rtnl_batch_room(&b), rtnl_batch_seq(&b), RTM_GETLINK, AF_UNSPEC);
	rtnl_batch_add(&b, nlh, lo_cb, &lo1, "list links");
	T_CHECK(rtnl_talk(&r, &b) == 0 && lo1 > 0, "talker: a dump ends with NLMSG_DONE");
	rtnl_batch_free(&b);
	rtnl_close(&r);
}

/*
 * JAILFW_TEST_FAULT=rtnl-newaddr: the address request is answered as
 * refused without reaching the kernel (so this needs no privilege and
 * changes nothing), and the requests around it still are sent and
 * answered.
 */
static void test_injected(void)
{
	struct prefix a = pfx("192.0.2.7", 24);
	struct rtnl_batch b;
	struct rtnl r;
	int lo1 = 0, lo2 = 0, err;
	char text[512];

	if (rtnl_open(&r))
		return;
	rtnl_batch_init(&b);
	rtnl_batch_add(&b, rtnl_build_getlink(rtnl_batch_room(&b), rtnl_batch_seq(&b), "lo"), lo_cb,
		       &lo1, "get link \"lo\"");
	rtnl_batch_add(&b,
		       rtnl_build_addr(rtnl_batch_room(&b), rtnl_batch_seq(&b), RTM_NEWADDR,
				       lo1 ? lo1 : 1, &a, false),
		       NULL, NULL, "add address 192.0.2.7/24 to \"lo\"");
	rtnl_batch_add(&b, rtnl_build_getlink(rtnl_batch_room(&b), rtnl_batch_seq(&b), "lo"), lo_cb,
		       &lo2, "get link \"lo\"");
	setenv("JAILFW_TEST_FAULT", "nft-commit,rtnl-newaddr", 1);
	err = rtnl_talk(&r, &b);
	unsetenv("JAILFW_TEST_FAULT");
	T_CHECK(err == -EIO && b.reqs[1].err == -EIO && b.reqs[1].done,
		"fault rtnl-newaddr: the request is refused with EIO");
	T_CHECK(b.reqs[0].done && !b.reqs[0].err && b.reqs[2].done && !b.reqs[2].err && lo1 > 0 &&
		    lo1 == lo2,
		"fault rtnl-newaddr: the requests around it are sent and answered");
	T_STREQ(rtnl_req_strerror(&b.reqs[1], text, sizeof(text)),
		"add address 192.0.2.7/24 to \"lo\": Input/output error (kernel: refused by "
		"JAILFW_TEST_FAULT=rtnl-newaddr)",
		"fault rtnl-newaddr: the message names the fault");
	rtnl_batch_free(&b);
	rtnl_close(&r);
}

int main(void)
{
	test_veth();
	test_links();
	test_addr_route();
	test_parsers();
	test_altnames();
	test_acks();
	test_batch();
	test_talker();
	test_injected();
	return t_done();
}
