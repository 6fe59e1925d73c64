// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctsweep: the dump and delete builders, the parser on conntrack messages
 * built here as the kernel sends them, and the judgement of entries
 * against a policy (a jail's own connections, allowed or not any more;
 * published ones; the host's and other traffic left alone), with every
 * jail judged and with some (after a delta).  Needs no root and changes
 * nothing.
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ctsweep.h"
#include "diag.h"
#include "parse.h"
#include "t.h"
#include "util.h"

static char buf[CTSWEEP_MSG_MAX];

static const char policy_text[] = "jail box {\n"
				  "\tbackend netns\n"
				  "\tipv4 10.97.50.0/24\n"
				  "\tipv6 fd00:97::50:0/112\n"
				  "\tallow udp/53 to host\n"
				  "\tallow tcp/443\n"
				  "\tallow tcp/80 to 192.0.2.0/24\n"
				  "\tallow icmp\n"
				  "\tpublish tcp/8080:80\n"
				  "\tpublish udp/9000-9001:7000\n"
				  "}\n"
				  "jail other {\n"
				  "\tbackend netns\n"
				  "\tipv4 10.97.51.0/24\n"
				  "}\n"
				  "jail web {\n"
				  "\tbackend uid\n"
				  "\tuser 1099\n"
				  "\tallow udp/123\n"
				  "}\n";

static struct prefix addr(const char *s)
{
	struct prefix p;

	memset(&p, 0, sizeof(p));
	p.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	p.len = p.family == AF_INET ? 32 : 128;
	if (inet_pton(p.family, s, p.addr.b) != 1)
		abort();
	return p;
}

/* One tuple as ctnetlink nests it. */
static void put_tuple(struct nlmsghdr *nlh, uint16_t type, const char *src, const char *dst,
		      uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct prefix s = addr(src), d = addr(dst);
	bool v4 = s.family == AF_INET;
	struct nlattr *t, *n;

	t = mnl_attr_nest_start(nlh, type);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, v4 ? 4 : 16, s.addr.b);
	mnl_attr_put(nlh, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, v4 ? 4 : 16, d.addr.b);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	} else {
		mnl_attr_put_u16(nlh, CTA_PROTO_ICMP_ID, htons(sport));
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMP_TYPE, 8);
		mnl_attr_put_u8(nlh, CTA_PROTO_ICMP_CODE, 0);
	}
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

/*
 * A dump message of one entry: ORIG_SRC:SPORT -> ORIG_DST:DPORT, replied
 * from REPLY_SRC:RSPORT to REPLY_DST, with STATUS.
 */
static struct nlmsghdr *entry_msg(void *b, const char *osrc, uint16_t sport, const char *odst,
				  uint16_t dport, const char *rsrc, uint16_t rsport,
				  const char *rdst, uint8_t proto, uint32_t status)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = strchr(osrc, ':') ? AF_INET6 : AF_INET;
	nfg->version = NFNETLINK_V0;
	put_tuple(nlh, CTA_TUPLE_ORIG, osrc, odst, proto, sport, dport);
	put_tuple(nlh, CTA_TUPLE_REPLY, rsrc, rdst, proto, rsport, sport);
	mnl_attr_put_u32(nlh, CTA_STATUS, htonl(status));
	mnl_attr_put_u32(nlh, CTA_ID, htonl(4242));
	mnl_attr_put_u16(nlh, CTA_ZONE, htons(7));
	return nlh;
}

struct tb {
	const struct nlattr *a[CTA_MAX + 1];
};

static int tb_cb(const struct nlattr *attr, void *data)
{
	struct tb *t = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= CTA_MAX)
		t->a[type] = attr;
	return MNL_CB_OK;
}

static void test_messages(void)
{
	static char entry[CTSWEEP_MSG_MAX];
	const struct nfgenmsg *nfg;
	struct ctsweep_entry e;
	struct nlmsghdr *nlh, *in;
	struct tb tb;

	nlh = ctsweep_build_dump(buf, 9);
	nfg = mnl_nlmsg_get_payload(nlh);
	T_CHECK(nlh->nlmsg_type == ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET) &&
		    (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP && nlh->nlmsg_seq == 9 &&
		    nfg->nfgen_family == AF_UNSPEC && nfg->version == NFNETLINK_V0,
		"dump: a CT_GET dump of every family");

	in = entry_msg(entry, "10.97.50.2", 40000, "198.51.100.7", 443, "198.51.100.7", 443,
		       "192.0.2.1", IPPROTO_TCP, IPS_SRC_NAT | IPS_CONFIRMED);
	T_CHECK(ctsweep_parse(in, &e), "parse: a dumped entry");
	T_CHECK(e.family == AF_INET && e.l4proto == IPPROTO_TCP && e.orig_dport == 443 &&
		    e.reply_sport == 443 && e.status == (IPS_SRC_NAT | IPS_CONFIRMED),
		"parse: family, protocol, ports, status");
	T_CHECK(!memcmp(e.orig_src.addr.b, addr("10.97.50.2").addr.b, 4) &&
		    !memcmp(e.orig_dst.addr.b, addr("198.51.100.7").addr.b, 4) &&
		    !memcmp(e.reply_src.addr.b, addr("198.51.100.7").addr.b, 4) &&
		    e.orig_src.len == 32,
		"parse: addresses");
	T_CHECK(e.has_zone && e.zone == 7 && e.has_id && e.id == 4242, "parse: zone and id");

	nlh = ctsweep_build_delete(buf, 10, &e);
	nfg = mnl_nlmsg_get_payload(nlh);
	memset(&tb, 0, sizeof(tb));
	T_CHECK(nlh->nlmsg_type == ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE) &&
		    (nlh->nlmsg_flags & NLM_F_ACK) && nfg->nfgen_family == AF_INET &&
		    mnl_attr_parse(nlh, sizeof(*nfg), tb_cb, &tb) >= MNL_CB_STOP,
		"delete: a CT_DELETE of the entry's family, acked");
	T_CHECK(tb.a[CTA_TUPLE_ORIG] &&
		    mnl_attr_get_payload_len(tb.a[CTA_TUPLE_ORIG]) ==
			mnl_attr_get_payload_len(e.orig_tuple) &&
		    !memcmp(mnl_attr_get_payload(tb.a[CTA_TUPLE_ORIG]),
			    mnl_attr_get_payload(e.orig_tuple),
			    mnl_attr_get_payload_len(e.orig_tuple)),
		"delete: the original tuple byte for byte");
	T_CHECK(tb.a[CTA_ZONE] && ntohs(mnl_attr_get_u16(tb.a[CTA_ZONE])) == 7 && tb.a[CTA_ID] &&
		    ntohl(mnl_attr_get_u32(tb.a[CTA_ID])) == 4242 && !tb.a[CTA_TUPLE_REPLY],
		"delete: zone and id, nothing else");

	in = entry_msg(entry, "fd00:97::50:2", 1, "2001:db8::1", 0, "2001:db8::1", 0,
		       "fd00:97::50:2", IPPROTO_ICMPV6, 0);
	T_CHECK(ctsweep_parse(in, &e) && e.family == AF_INET6 && e.l4proto == IPPROTO_ICMPV6 &&
		    e.orig_dport == 0 && e.orig_src.len == 128,
		"parse: an ICMPv6 entry (no ports)");
	in->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	T_CHECK(!ctsweep_parse(in, &e), "parse: not an entry message");
}

struct judge_case {
	const char *osrc;
	uint16_t sport;
	const char *odst;
	uint16_t dport;
	const char *rsrc;
	uint16_t rsport;
	uint8_t proto;
	uint32_t status;
	enum ctsweep_verdict want;
	size_t jail; /* when it is a jail's */
	const char *what;
};

/* box is jail 0, other jail 1 (policy_text). */
static const struct judge_case cases[] = {
    {"10.97.50.2", 40000, "198.51.100.7", 443, "198.51.100.7", 443, IPPROTO_TCP, IPS_SRC_NAT,
     CTSWEEP_ADMITTED, 0, "judge: box's tcp/443 anywhere: admitted, box's"},
    {"10.97.50.2", 40000, "192.0.2.9", 80, "192.0.2.9", 80, IPPROTO_TCP, IPS_SRC_NAT,
     CTSWEEP_ADMITTED, 0, "judge: tcp/80 inside its prefix: admitted"},
    {"10.97.50.2", 40000, "198.51.100.7", 80, "198.51.100.7", 80, IPPROTO_TCP, IPS_SRC_NAT,
     CTSWEEP_STALE, 0, "judge: tcp/80 outside its prefix: stale"},
    {"10.97.50.2", 40000, "198.51.100.7", 53, "198.51.100.7", 53, IPPROTO_UDP, IPS_SRC_NAT,
     CTSWEEP_STALE, 0, "judge: udp/53 forwarded (only to host): stale"},
    {"10.97.50.2", 40000, "10.97.50.1", 53, "10.97.50.1", 53, IPPROTO_UDP, 0, CTSWEEP_ADMITTED, 0,
     "judge: udp/53 to the host's veth address: admitted"},
    {"10.97.50.2", 40000, "192.0.2.1", 53, "192.0.2.1", 53, IPPROTO_UDP, 0, CTSWEEP_ADMITTED, 0,
     "judge: udp/53 to the host's wan address: admitted"},
    {"10.97.50.2", 40000, "10.97.50.255", 53, "10.97.50.255", 53, IPPROTO_UDP, 0, CTSWEEP_ADMITTED,
     0, "judge: udp/53 to a broadcast address: the host's"},
    {"10.97.50.2", 40000, "192.0.2.1", 443, "192.0.2.1", 443, IPPROTO_TCP, 0, CTSWEEP_STALE, 0,
     "judge: tcp/443 to the host (no \"to host\"): stale"},
    {"10.97.50.2", 40000, "224.0.0.251", 443, "224.0.0.251", 443, IPPROTO_TCP, 0, CTSWEEP_ADMITTED,
     0, "judge: multicast: admitted by either kind of rule"},
    {"10.97.50.2", 7, "198.51.100.7", 0, "198.51.100.7", 7, IPPROTO_ICMP, IPS_SRC_NAT,
     CTSWEEP_ADMITTED, 0, "judge: an echo (allow icmp): admitted"},
    {"fd00:97::50:2", 7, "2001:db8::7", 0, "2001:db8::7", 7, IPPROTO_ICMPV6, IPS_SRC_NAT,
     CTSWEEP_STALE, 0, "judge: an ICMPv6 echo (no allow icmpv6): stale"},
    {"10.97.50.2", 40000, "198.51.100.7", 5000, "198.51.100.7", 5000, 47, 0, CTSWEEP_STALE, 0,
     "judge: a protocol the ruleset never admits: stale"},
    {"10.97.50.1", 40000, "10.97.50.2", 22, "10.97.50.2", 22, IPPROTO_TCP, 0, CTSWEEP_OTHER, 0,
     "judge: the host's connection from its veth address: not the jail's"},
    {"198.51.100.7", 40000, "192.0.2.1", 8080, "10.97.50.2", 80, IPPROTO_TCP, IPS_DST_NAT,
     CTSWEEP_ADMITTED, 0, "judge: a connection to a published port: admitted"},
    {"198.51.100.7", 40000, "192.0.2.1", 9001, "10.97.50.2", 7001, IPPROTO_UDP, IPS_DST_NAT,
     CTSWEEP_ADMITTED, 0, "judge: a published range, port by port: admitted"},
    {"198.51.100.7", 40000, "192.0.2.1", 9001, "10.97.50.2", 7000, IPPROTO_UDP, IPS_DST_NAT,
     CTSWEEP_STALE, 0, "judge: a published port mapped elsewhere now: stale"},
    {"198.51.100.7", 40000, "192.0.2.1", 8081, "10.97.50.2", 80, IPPROTO_TCP, IPS_DST_NAT,
     CTSWEEP_STALE, 0, "judge: a port no longer published: stale"},
    {"198.51.100.7", 40000, "10.97.50.2", 22, "10.97.50.2", 22, IPPROTO_TCP, 0, CTSWEEP_OTHER, 0,
     "judge: towards a jail without DNAT: not the jail's to judge"},
    {"10.97.51.2", 40000, "198.51.100.7", 443, "198.51.100.7", 443, IPPROTO_TCP, IPS_SRC_NAT,
     CTSWEEP_STALE, 1, "judge: another jail without rules: stale, its own"},
    {"192.0.2.1", 40000, "198.51.100.7", 443, "198.51.100.7", 443, IPPROTO_TCP, 0, CTSWEEP_OTHER, 0,
     "judge: the host's own connection: left alone"},
    {"10.97.52.2", 40000, "198.51.100.7", 443, "198.51.100.7", 443, IPPROTO_TCP, 0, CTSWEEP_OTHER,
     0, "judge: an address next to the jails' prefixes: left alone"},
};

static void test_judge(void)
{
	struct ctsweep_local local = {NULL, 0};
	struct ctsweep_index x;
	struct ctsweep_entry e;
	struct policy p;
	struct diag d;
	FILE *devnull = fopen("/dev/null", "w");
	size_t jail, i;
	bool ok;

	policy_init(&p);
	diag_init(&d, devnull);
	ok = policy_parse_buffer(&p, &d, "policy.conf", policy_text, strlen(policy_text), false) &&
	     check_policy(&p, &d, &(struct check_env){0});
	T_CHECK(ok, "judge: the test policy is valid");
	if (!ok)
		goto out;
	/* The host: its wan and veth addresses, a broadcast address. */
	*VEC_PUSH(local.addrs, local.n) = addr("192.0.2.1");
	*VEC_PUSH(local.addrs, local.n) = addr("10.97.50.1");
	*VEC_PUSH(local.addrs, local.n) = addr("10.97.50.255");
	ctsweep_index_init(&x, &p, &local, NULL);

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct judge_case *k = &cases[i];
		enum ctsweep_verdict v = CTSWEEP_OTHER;

		jail = SIZE_MAX;
		ok = ctsweep_parse(entry_msg(buf, k->osrc, k->sport, k->odst, k->dport, k->rsrc,
					     k->rsport, "192.0.2.1", k->proto, k->status),
				   &e);
		if (ok)
			v = ctsweep_judge(&x, &e, &jail);
		T_CHECK(ok && v == k->want && (k->want == CTSWEEP_OTHER || jail == k->jail),
			k->what);
	}
	ctsweep_index_free(&x);
out:
	free(local.addrs);
	policy_free(&p);
	diag_free(&d);
	if (devnull)
		fclose(devnull);
}

/*
 * An index of some jails only (after a delta: the jails it changed):
 * their entries judged as with every jail judged, the others' left alone,
 * also when they reach a judged jail's published port.
 */
static const struct judge_case dnat_cases[] = {
    {"10.97.51.2", 40000, "192.0.2.1", 8081, "10.97.50.2", 80, IPPROTO_TCP, IPS_DST_NAT,
     CTSWEEP_STALE, 1, "judge some: other's connection to box's former published port: other's"},
    {"10.97.51.1", 40000, "192.0.2.1", 8081, "10.97.50.2", 80, IPPROTO_TCP, IPS_DST_NAT,
     CTSWEEP_OTHER, 0, "judge some: the host's, from other's veth, to box's former port: left"},
};

/* The verdict on case k's entry; SIZE_MAX in *jail unless it is a jail's. */
static int judge_one(struct ctsweep_index *x, const struct judge_case *k, size_t *jail)
{
	struct ctsweep_entry e;

	*jail = SIZE_MAX;
	if (!ctsweep_parse(entry_msg(buf, k->osrc, k->sport, k->odst, k->dport, k->rsrc, k->rsport,
				     "192.0.2.1", k->proto, k->status),
			   &e))
		return -1;
	return (int)ctsweep_judge(x, &e, jail);
}

static void test_judge_some(void)
{
	static const bool only_box[] = {true, false, false}, only_other[] = {false, true, false};
	static const bool *const judges[] = {only_box, only_other};
	struct ctsweep_local local = {NULL, 0};
	struct ctsweep_index x;
	struct policy p;
	struct diag d;
	FILE *devnull = fopen("/dev/null", "w");
	size_t jail, i, k, bad;
	bool ok;

	policy_init(&p);
	diag_init(&d, devnull);
	ok = policy_parse_buffer(&p, &d, "policy.conf", policy_text, strlen(policy_text), false) &&
	     check_policy(&p, &d, &(struct check_env){0});
	T_CHECK(ok, "judge some: the test policy is valid");
	if (!ok)
		goto out;
	*VEC_PUSH(local.addrs, local.n) = addr("192.0.2.1");
	*VEC_PUSH(local.addrs, local.n) = addr("10.97.50.1");
	*VEC_PUSH(local.addrs, local.n) = addr("10.97.50.255");
	for (k = 0; k < ARRAY_SIZE(judges); k++) {
		ctsweep_index_init(&x, &p, &local, judges[k]);
		/* Every case of the full index: the judged jail's alike, the other's left. */
		for (i = 0, bad = 0; i < ARRAY_SIZE(cases); i++) {
			const struct judge_case *c = &cases[i];
			bool mine = c->want != CTSWEEP_OTHER && judges[k][c->jail];
			int v = judge_one(&x, c, &jail);

			if (mine ? v != (int)c->want || jail != c->jail : v != CTSWEEP_OTHER) {
				printf("# %s: %s\n", k ? "only other" : "only box", c->what);
				bad++;
			}
		}
		T_CHECK(!bad, k ? "judge some: other alone: its entries judged, box's left alone"
				: "judge some: box alone: its entries judged, other's left alone");
		for (i = 0; i < ARRAY_SIZE(dnat_cases); i++) {
			const struct judge_case *c = &dnat_cases[i];
			bool mine = c->want != CTSWEEP_OTHER && judges[k][c->jail];
			int v = judge_one(&x, c, &jail);

			T_CHECK(mine ? v == (int)c->want && jail == c->jail : v == CTSWEEP_OTHER,
				c->what);
		}
		ctsweep_index_free(&x);
	}
	/* The same entries with every jail judged. */
	ctsweep_index_init(&x, &p, &local, NULL);
	for (i = 0; i < ARRAY_SIZE(dnat_cases); i++) {
		const struct judge_case *c = &dnat_cases[i];
		int v = judge_one(&x, c, &jail);

		T_CHECK(v == (int)c->want && (v == CTSWEEP_OTHER || jail == c->jail), c->what);
	}
	ctsweep_index_free(&x);
out:
	free(local.addrs);
	policy_free(&p);
	diag_free(&d);
	if (devnull)
		fclose(devnull);
}

int main(void)
{
	test_messages();
	test_judge();
	test_judge_some();
	return t_done();
}
