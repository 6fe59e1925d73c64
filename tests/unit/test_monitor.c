// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * monitor: the NFLOG parser on synthetic nfnetlink_log messages built as
 * the kernel builds them, the line and JSON formats, the --suggest
 * grouping, and the option parser.  No socket, no privilege.
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor.h"
#include "t.h"

static char msgbuf[4096];

struct pkt {
	const char *prefix; /* NULL: no prefix attribute */
	const uint8_t *payload;
	size_t len;
	int hook; /* -1: no packet header */
	uint32_t indev, outdev;
	bool uid;
	uint32_t uidval;
	bool ts;
	uint16_t type; /* 0: NFULNL_MSG_PACKET */
};

/* An NFULNL_MSG_PACKET message as __build_packet_message lays it out. */
static struct nlmsghdr *build(const struct pkt *p)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(msgbuf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = p->type ? p->type : (NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET);
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->res_id = htons(DEFAULT_LOG_GROUP);
	if (p->hook >= 0) {
		struct nfulnl_msg_packet_hdr h = {.hw_protocol = htons(0x0800),
						  .hook = (uint8_t)p->hook};

		mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(h), &h);
	}
	if (p->indev)
		mnl_attr_put_u32(nlh, NFULA_IFINDEX_INDEV, htonl(p->indev));
	if (p->outdev)
		mnl_attr_put_u32(nlh, NFULA_IFINDEX_OUTDEV, htonl(p->outdev));
	if (p->ts) {
		struct nfulnl_msg_packet_timestamp ts = {.sec = htobe64(1700000000),
							 .usec = htobe64(123456)};

		mnl_attr_put(nlh, NFULA_TIMESTAMP, sizeof(ts), &ts);
	}
	if (p->payload)
		mnl_attr_put(nlh, NFULA_PAYLOAD, p->len, p->payload);
	if (p->prefix)
		mnl_attr_put_strz(nlh, NFULA_PREFIX, p->prefix);
	if (p->uid) {
		mnl_attr_put_u32(nlh, NFULA_UID, htonl(p->uidval));
		mnl_attr_put_u32(nlh, NFULA_GID, htonl(p->uidval + 1));
	}
	return nlh;
}

/* IPv4 header (20 bytes) + 8 bytes of layer 4. */
static size_t ipv4(uint8_t *b, uint8_t proto, const char *src, const char *dst, uint16_t sport,
		   uint16_t dport, uint16_t frag)
{
	memset(b, 0, 28);
	b[0] = 0x45;
	b[3] = 28;
	b[6] = (uint8_t)(frag >> 8);
	b[7] = (uint8_t)frag;
	b[8] = 64;
	b[9] = proto;
	inet_pton(AF_INET, src, b + 12);
	inet_pton(AF_INET, dst, b + 16);
	b[20] = (uint8_t)(sport >> 8);
	b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8);
	b[23] = (uint8_t)dport;
	return 28;
}

/* IPv6 header, optionally a fragment header, + 8 bytes of layer 4. */
static size_t ipv6(uint8_t *b, uint8_t proto, const char *src, const char *dst, uint16_t sport,
		   uint16_t dport, bool frag_hdr, uint16_t frag_off)
{
	size_t off = 40;

	memset(b, 0, 56);
	b[0] = 0x60;
	b[6] = frag_hdr ? IPPROTO_FRAGMENT : proto;
	b[7] = 64;
	inet_pton(AF_INET6, src, b + 8);
	inet_pton(AF_INET6, dst, b + 24);
	if (frag_hdr) {
		b[40] = proto;
		b[42] = (uint8_t)(frag_off >> 8);
		b[43] = (uint8_t)frag_off;
		off = 48;
	}
	b[off] = (uint8_t)(sport >> 8);
	b[off + 1] = (uint8_t)sport;
	b[off + 2] = (uint8_t)(dport >> 8);
	b[off + 3] = (uint8_t)dport;
	return off + 8;
}

static void test_prefix(void)
{
	char name[MONITOR_JAIL_MAX] = "";
	char longp[200];

	T_CHECK(monitor_jail_from_prefix("jailfw drop web: ", name), "prefix: plain name");
	T_STREQ(name, "web", "prefix: name extracted");
	T_CHECK(monitor_jail_from_prefix("jailfw drop psa-www_2: ", name), "prefix: - and _");
	T_STREQ(name, "psa-www_2", "prefix: name with - and _");
	T_CHECK(!monitor_jail_from_prefix("jailfw drop Web: ", name), "prefix: upper case refused");
	T_CHECK(!monitor_jail_from_prefix("jailfw drop -web: ", name), "prefix: leading - refused");
	T_CHECK(!monitor_jail_from_prefix("jailfw drop : ", name), "prefix: empty name refused");
	T_CHECK(!monitor_jail_from_prefix("jailfw drop web:", name), "prefix: no trailing space");
	T_CHECK(!monitor_jail_from_prefix("jailfw drop web: x", name), "prefix: trailing text");
	T_CHECK(!monitor_jail_from_prefix("jailfw drop we b: ", name), "prefix: space in name");
	T_CHECK(!monitor_jail_from_prefix("jailfw drop w\"b: ", name), "prefix: quote in name");
	T_CHECK(!monitor_jail_from_prefix("jailfw drop w\xc3\xa9: ", name), "prefix: non-ASCII");
	T_CHECK(!monitor_jail_from_prefix("INPUT DROP: ", name), "prefix: someone else's");
	T_CHECK(!monitor_jail_from_prefix("", name), "prefix: empty");
	snprintf(longp, sizeof(longp), "jailfw drop %0101d: ", 0);
	T_CHECK(!monitor_jail_from_prefix(longp, name), "prefix: 101-character name refused");
	snprintf(longp, sizeof(longp), "jailfw drop %0100d: ", 0);
	T_CHECK(monitor_jail_from_prefix(longp, name) && strlen(name) == 100,
		"prefix: 100-character name (render's limit) accepted");
}

static void test_parse(void)
{
	struct monitor_drop d;
	uint8_t b[128];
	struct pkt p;
	char a[PREFIX_STRLEN];

	memset(&p, 0, sizeof(p));
	p.prefix = "jailfw drop web: ";
	p.payload = b;
	p.len = ipv4(b, IPPROTO_TCP, "192.0.2.1", "198.51.100.7", 40000, 443, 0);
	p.hook = NF_INET_LOCAL_OUT;
	p.outdev = 2;
	p.uid = true;
	p.uidval = 1099;
	p.ts = true;
	T_CHECK(monitor_parse(build(&p), &d), "ipv4 tcp: parsed");
	T_STREQ(d.jail, "web", "ipv4 tcp: jail");
	T_CHECK(d.l4proto == IPPROTO_TCP && d.has_ports && d.sport == 40000 && d.dport == 443,
		"ipv4 tcp: ports");
	T_STREQ(addr_str(&d.src, a), "192.0.2.1", "ipv4 tcp: source");
	T_STREQ(addr_str(&d.dst, a), "198.51.100.7", "ipv4 tcp: destination");
	T_CHECK(d.has_hook && d.hook == NF_INET_LOCAL_OUT && d.outdev == 2 && !d.indev,
		"ipv4 tcp: hook and interfaces");
	T_CHECK(d.has_uid && d.uid == 1099 && d.gid == 1100, "ipv4 tcp: uid and gid");
	T_CHECK(d.has_time && d.sec == 1700000000 && d.usec == 123456, "ipv4 tcp: timestamp");
	T_CHECK(!monitor_drop_to_host(&d), "ipv4 tcp via eth: not to host");

	/* uid jail to the host: out through lo (ifindex 1). */
	p.outdev = 1;
	p.len = ipv4(b, IPPROTO_UDP, "192.0.2.1", "192.0.2.1", 5000, 53, 0);
	T_CHECK(monitor_parse(build(&p), &d) && monitor_drop_to_host(&d),
		"uid jail to one of the host's addresses (oif lo): to host");
	/* netns jail to the host: the input hook. */
	p.outdev = 0;
	p.indev = 5;
	p.hook = NF_INET_LOCAL_IN;
	p.uid = false;
	p.len = ipv4(b, IPPROTO_UDP, "10.97.10.2", "10.97.10.1", 5000, 53, 0);
	T_CHECK(monitor_parse(build(&p), &d) && monitor_drop_to_host(&d) && !d.has_uid,
		"netns jail on the input hook: to host, no uid");
	p.hook = NF_INET_FORWARD;
	p.outdev = 2;
	T_CHECK(monitor_parse(build(&p), &d) && !monitor_drop_to_host(&d),
		"netns jail on the forward hook: not to host");
	/* No packet header at all: loopback destination still counts. */
	p.hook = -1;
	p.len = ipv4(b, IPPROTO_TCP, "127.0.0.1", "127.0.0.53", 5000, 53, 0);
	T_CHECK(monitor_parse(build(&p), &d) && !d.has_hook && monitor_drop_to_host(&d),
		"loopback destination without a hook: to host");

	/* ICMP: type and code instead of ports. */
	p.hook = NF_INET_LOCAL_OUT;
	p.len = ipv4(b, IPPROTO_ICMP, "192.0.2.1", "198.51.100.7", 0x0800, 0, 0);
	T_CHECK(monitor_parse(build(&p), &d) && d.has_icmp && !d.has_ports && d.icmp_type == 8 &&
		    d.icmp_code == 0,
		"icmp: echo request type 8 code 0");

	/* An IPv4 fragment other than the first has no layer-4 header. */
	p.len = ipv4(b, IPPROTO_UDP, "192.0.2.1", "198.51.100.7", 1, 2, 0x0010);
	T_CHECK(monitor_parse(build(&p), &d) && d.fragment && !d.has_ports,
		"ipv4 non-first fragment: no ports");

	/* IPv6, straight and behind a fragment header. */
	p.len = ipv6(b, IPPROTO_UDP, "2001:db8:1::1", "2001:db8:2::7", 40000, 123, false, 0);
	T_CHECK(monitor_parse(build(&p), &d), "ipv6 udp: parsed");
	T_STREQ(addr_str(&d.dst, a), "2001:db8:2::7", "ipv6 udp: destination");
	T_CHECK(d.l4proto == IPPROTO_UDP && d.dport == 123 && d.dst.family == AF_INET6,
		"ipv6 udp: port");
	p.len = ipv6(b, IPPROTO_TCP, "2001:db8:1::1", "2001:db8:2::7", 40000, 8443, true, 0);
	T_CHECK(monitor_parse(build(&p), &d) && d.l4proto == IPPROTO_TCP && d.dport == 8443 &&
		    !d.fragment,
		"ipv6 first fragment: protocol and port behind the fragment header");
	p.len = ipv6(b, IPPROTO_TCP, "2001:db8:1::1", "2001:db8:2::7", 40000, 8443, true, 0x0100);
	T_CHECK(monitor_parse(build(&p), &d) && d.l4proto == IPPROTO_TCP && d.fragment &&
		    !d.has_ports,
		"ipv6 later fragment: no ports");
	p.len = ipv6(b, IPPROTO_ICMPV6, "2001:db8:1::1", "2001:db8:2::7", 0x8000, 0, false, 0);
	T_CHECK(monitor_parse(build(&p), &d) && d.has_icmp && d.icmp_type == 128,
		"icmpv6 echo request");

	/* Truncated copies: the header alone still names the drop. */
	p.len = ipv4(b, IPPROTO_TCP, "192.0.2.1", "198.51.100.7", 1, 2, 0) - 6;
	T_CHECK(monitor_parse(build(&p), &d) && !d.has_ports, "tcp header cut short: no ports");
	p.len = 19;
	T_CHECK(!monitor_parse(build(&p), &d), "ipv4 header cut short: ignored");
	p.len = ipv6(b, IPPROTO_TCP, "2001:db8::1", "2001:db8::2", 1, 2, false, 0);
	p.len = 39;
	T_CHECK(!monitor_parse(build(&p), &d), "ipv6 header cut short: ignored");
	b[0] = 0x55;
	p.len = 40;
	T_CHECK(!monitor_parse(build(&p), &d), "IP version 5: ignored");
	p.len = ipv4(b, IPPROTO_TCP, "192.0.2.1", "198.51.100.7", 1, 2, 0);
	b[0] = 0x44; /* ihl 16 bytes */
	T_CHECK(!monitor_parse(build(&p), &d), "ipv4 ihl < 5: ignored");
	b[0] = 0x4f; /* 60 bytes claimed, 28 copied */
	T_CHECK(!monitor_parse(build(&p), &d), "ipv4 ihl beyond the copy: ignored");

	/* Not ours. */
	p.len = ipv4(b, IPPROTO_TCP, "192.0.2.1", "198.51.100.7", 1, 2, 0);
	p.prefix = "other drop: ";
	T_CHECK(!monitor_parse(build(&p), &d), "another prefix: ignored");
	p.prefix = NULL;
	T_CHECK(!monitor_parse(build(&p), &d), "no prefix: ignored");
	p.prefix = "jailfw drop web: ";
	p.payload = NULL;
	T_CHECK(!monitor_parse(build(&p), &d), "no payload: ignored");
	p.payload = b;
	p.type = NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG;
	T_CHECK(!monitor_parse(build(&p), &d), "a config message: ignored");
	p.type = 0;
	T_CHECK(monitor_parse(build(&p), &d), "control: the same message as a packet parses");

	/* A prefix attribute without its NUL is malformed: ignored. */
	{
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(msgbuf);
		struct nfgenmsg *nfg;

		nlh->nlmsg_type = NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET;
		nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
		nfg->nfgen_family = AF_INET;
		mnl_attr_put(nlh, NFULA_PAYLOAD, p.len, b);
		mnl_attr_put(nlh, NFULA_PREFIX, strlen("jailfw drop web: "), "jailfw drop web: ");
		T_CHECK(!monitor_parse(nlh, &d), "prefix without NUL: ignored");
	}
}

static struct monitor_drop mk(const char *jail, uint8_t proto, const char *dst, uint16_t dport,
			      int hook, uint32_t outdev)
{
	struct monitor_drop d;

	memset(&d, 0, sizeof(d));
	snprintf(d.jail, sizeof(d.jail), "%s", jail);
	d.l4proto = proto;
	d.dst.family = d.src.family = strchr(dst, ':') ? AF_INET6 : AF_INET;
	d.dst.len = d.src.len = d.dst.family == AF_INET ? 32 : 128;
	inet_pton(d.dst.family, dst, &d.dst.addr);
	inet_pton(d.src.family, d.src.family == AF_INET ? "192.0.2.1" : "2001:db8:1::1",
		  &d.src.addr);
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		d.has_ports = true;
		d.sport = 40000;
		d.dport = dport;
	}
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		d.has_icmp = true;
		d.icmp_type = proto == IPPROTO_ICMP ? 8 : 128;
	}
	d.has_hook = hook >= 0;
	d.hook = (uint8_t)(hook >= 0 ? hook : 0);
	d.outdev = outdev;
	return d;
}

static void test_format(void)
{
	struct monitor_drop d;
	struct strbuf sb;

	setenv("TZ", "UTC", 1);
	tzset();
	sb_init(&sb);
	d = mk("web", IPPROTO_TCP, "198.51.100.7", 443, NF_INET_LOCAL_OUT, 2);
	d.has_time = true;
	d.sec = 1700000000;
	d.usec = 5;
	d.has_uid = true;
	d.uid = d.gid = 1099;
	monitor_format(&d, false, &sb);
	T_STREQ(sb.s, "22:13:20 web tcp 192.0.2.1 -> 198.51.100.7:443 uid 1099\n", "text: tcp");
	sb.len = 0;
	monitor_format(&d, true, &sb);
	T_STREQ(sb.s,
		"{\"time\":\"2023-11-14T22:13:20.000005Z\",\"jail\":\"web\",\"family\":\"ipv4\","
		"\"proto\":\"tcp\",\"src\":\"192.0.2.1\",\"dst\":\"198.51.100.7\",\"sport\":40000,"
		"\"dport\":443,\"hook\":\"output\",\"uid\":1099,\"gid\":1099,\"to_host\":false}\n",
		"json: tcp");

	sb.len = 0;
	d = mk("db", IPPROTO_UDP, "2001:db8:2::7", 53, NF_INET_FORWARD, 3);
	snprintf(d.in_name, sizeof(d.in_name), "db-out");
	snprintf(d.out_name, sizeof(d.out_name), "we\"ird");
	monitor_format(&d, false, &sb);
	T_STREQ(sb.s, "- db udp 2001:db8:1::1 -> [2001:db8:2::7]:53\n", "text: ipv6 in brackets");
	sb.len = 0;
	monitor_format(&d, true, &sb);
	T_STREQ(sb.s,
		"{\"jail\":\"db\",\"family\":\"ipv6\",\"proto\":\"udp\",\"src\":\"2001:db8:1::1\","
		"\"dst\":\"2001:db8:2::7\",\"sport\":40000,\"dport\":53,\"hook\":\"forward\","
		"\"in\":\"db-out\",\"out\":\"we\\\"ird\",\"to_host\":false}\n",
		"json: interface names escaped, no time or uid when absent");
	/*
	 * The kernel takes any bytes in an interface name but '/', ':' and
	 * white space: UTF-8 stays as it is (the old writer turned each byte
	 * of "\xc3\xa9" into its own \u00c3 \u00a9), a byte that is not
	 * UTF-8 becomes U+FFFD, control characters are escaped.
	 */
	sb.len = 0;
	snprintf(d.in_name, sizeof(d.in_name), "\xc3\xa9\x01\\");
	snprintf(d.out_name, sizeof(d.out_name), "x\xff\xc3");
	monitor_format(&d, true, &sb);
	T_CHECK(strstr(sb.s,
		       ",\"in\":\"\xc3\xa9\\u0001\\\\\",\"out\":\"x\xef\xbf\xbd\xef\xbf\xbd\",") !=
		    NULL,
		"json: interface names of any bytes: UTF-8 kept, U+FFFD for the rest");

	sb.len = 0;
	d = mk("web", IPPROTO_ICMP, "198.51.100.7", 0, NF_INET_LOCAL_OUT, 2);
	monitor_format(&d, false, &sb);
	T_STREQ(sb.s, "- web icmp 192.0.2.1 -> 198.51.100.7 type 8 code 0\n", "text: icmp");
	sb.len = 0;
	d = mk("web", 132, "198.51.100.7", 0, NF_INET_LOCAL_OUT, 2);
	monitor_format(&d, false, &sb);
	T_STREQ(sb.s, "- web sctp 192.0.2.1 -> 198.51.100.7\n", "text: sctp without ports parsed");
	sb.len = 0;
	d = mk("web", 253, "198.51.100.7", 0, NF_INET_LOCAL_OUT, 2);
	monitor_format(&d, false, &sb);
	T_STREQ(sb.s, "- web 253 192.0.2.1 -> 198.51.100.7\n", "text: unnamed protocol by number");
	sb_free(&sb);
}

static void test_suggest(void)
{
	struct monitor_suggest s;
	struct monitor_drop d;
	struct strbuf sb;

	monitor_suggest_init(&s);
	sb_init(&sb);
	monitor_suggest_print(&s, false, &sb);
	T_STREQ(sb.s, "", "suggest: nothing seen, nothing printed");

	/* web: three ports to one address (two adjacent), twice the same. */
	d = mk("web", IPPROTO_TCP, "198.51.100.7", 8443, NF_INET_LOCAL_OUT, 2);
	monitor_suggest_add(&s, &d);
	d = mk("web", IPPROTO_TCP, "198.51.100.7", 443, NF_INET_LOCAL_OUT, 2);
	monitor_suggest_add(&s, &d);
	monitor_suggest_add(&s, &d);
	d = mk("web", IPPROTO_TCP, "198.51.100.7", 8444, NF_INET_LOCAL_OUT, 2);
	monitor_suggest_add(&s, &d);
	/* Same ports, another address and the other family: one line. */
	d = mk("web", IPPROTO_TCP, "2001:db8:2::7", 443, NF_INET_LOCAL_OUT, 2);
	monitor_suggest_add(&s, &d);
	d = mk("web", IPPROTO_TCP, "2001:db8:2::7", 8443, NF_INET_LOCAL_OUT, 2);
	monitor_suggest_add(&s, &d);
	d = mk("web", IPPROTO_TCP, "2001:db8:2::7", 8444, NF_INET_LOCAL_OUT, 2);
	monitor_suggest_add(&s, &d);
	/* DNS to the host, through lo, to two host addresses: "to host". */
	d = mk("web", IPPROTO_UDP, "127.0.0.53", 53, NF_INET_LOCAL_OUT, 1);
	monitor_suggest_add(&s, &d);
	d = mk("web", IPPROTO_UDP, "192.0.2.1", 53, NF_INET_LOCAL_OUT, 1);
	monitor_suggest_add(&s, &d);
	/* ICMP: the whole protocol. */
	d = mk("web", IPPROTO_ICMP, "198.51.100.9", 0, NF_INET_LOCAL_OUT, 2);
	monitor_suggest_add(&s, &d);
	/* A protocol allow cannot name. */
	d = mk("web", 132, "198.51.100.9", 0, NF_INET_LOCAL_OUT, 2);
	monitor_suggest_add(&s, &d);
	/* A fragment without ports: counted apart. */
	d = mk("web", IPPROTO_UDP, "198.51.100.9", 0, NF_INET_LOCAL_OUT, 2);
	d.has_ports = false;
	d.fragment = true;
	monitor_suggest_add(&s, &d);
	/* A netns jail, sorted before web; to the host on the input hook. */
	d = mk("db", IPPROTO_TCP, "10.97.10.1", 5432, NF_INET_LOCAL_IN, 0);
	monitor_suggest_add(&s, &d);
	d = mk("db", IPPROTO_UDP, "203.0.113.5", 123, NF_INET_FORWARD, 2);
	monitor_suggest_add(&s, &d);

	monitor_suggest_print(&s, false, &sb);
	T_STREQ(sb.s,
		"# jail db: 2 drops; add to its block:\n"
		"\tallow tcp/5432 to host\t# 1 drop\n"
		"\tallow udp/123 to 203.0.113.5\t# 1 drop\n"
		"# jail web: 11 drops; add to its block:\n"
		"\tallow tcp/443,8443-8444 to 198.51.100.7, 2001:db8:2::7\t# 7 drops\n"
		"\tallow udp/53 to host\t# 2 drops\n"
		"\tallow icmp to 198.51.100.9\t# 1 drop\n"
		"\t# protocol sctp to 198.51.100.9: 1 drop; allow takes only tcp, udp, icmp and "
		"icmpv6\n",
		"suggest: grouped per jail, ports and destinations merged, to host");
	T_CHECK(s.ignored == 1, "suggest: the fragment without a port is counted apart");

	sb.len = 0;
	sb.s[0] = '\0';
	monitor_suggest_print(&s, true, &sb);
	T_STREQ(
	    sb.s,
	    "{\"suggest\":{\"jail\":\"db\",\"rule\":\"allow tcp/5432 to host\",\"drops\":1}}\n"
	    "{\"suggest\":{\"jail\":\"db\",\"rule\":\"allow udp/123 to "
	    "203.0.113.5\",\"drops\":1}}\n"
	    "{\"suggest\":{\"jail\":\"web\",\"rule\":\"allow tcp/443,8443-8444 to 198.51.100.7, "
	    "2001:db8:2::7\",\"drops\":7}}\n"
	    "{\"suggest\":{\"jail\":\"web\",\"rule\":\"allow udp/53 to host\",\"drops\":2}}\n"
	    "{\"suggest\":{\"jail\":\"web\",\"rule\":\"allow icmp to 198.51.100.9\",\"drops\":1}}\n"
	    "{\"unsupported\":{\"jail\":\"web\",\"proto\":\"sctp\",\"to\":\"198.51.100.9\","
	    "\"drops\":1}}\n",
	    "suggest --json: one object per line");

	/* Different port sets to two addresses stay two lines. */
	monitor_suggest_free(&s);
	d = mk("a", IPPROTO_TCP, "198.51.100.1", 80, NF_INET_LOCAL_OUT, 2);
	monitor_suggest_add(&s, &d);
	d = mk("a", IPPROTO_TCP, "198.51.100.2", 81, NF_INET_LOCAL_OUT, 2);
	monitor_suggest_add(&s, &d);
	sb.len = 0;
	sb.s[0] = '\0';
	monitor_suggest_print(&s, false, &sb);
	T_STREQ(sb.s,
		"# jail a: 2 drops; add to its block:\n"
		"\tallow tcp/80 to 198.51.100.1\t# 1 drop\n"
		"\tallow tcp/81 to 198.51.100.2\t# 1 drop\n",
		"suggest: different ports, different lines");
	monitor_suggest_free(&s);
	sb_free(&sb);
}

static void test_opts(void)
{
	char *argv[] = {"--suggest", "--count",	  "3", "--timeout=1.5", "--count=0",
			"--count",   "--timeout", "x", "--json",	"--count=12z"};
	struct monitor_opts o;
	const char *why = NULL;
	int i;

	memset(&o, 0, sizeof(o));
	i = 0;
	T_CHECK(monitor_parse_opt(10, argv, &i, &o, &why) == 1 && o.suggest, "opt: --suggest");
	i = 1;
	T_CHECK(monitor_parse_opt(10, argv, &i, &o, &why) == 1 && o.count == 3 && i == 2,
		"opt: --count N consumes the value");
	i = 3;
	T_CHECK(monitor_parse_opt(10, argv, &i, &o, &why) == 1 && o.timeout == 1.5,
		"opt: --timeout=1.5");
	i = 4;
	T_CHECK(monitor_parse_opt(10, argv, &i, &o, &why) == -1 && why, "opt: --count=0 refused");
	i = 6;
	T_CHECK(monitor_parse_opt(10, argv, &i, &o, &why) == -1, "opt: --timeout x refused");
	i = 8;
	T_CHECK(monitor_parse_opt(10, argv, &i, &o, &why) == 0, "opt: --json is not ours");
	i = 9;
	T_CHECK(monitor_parse_opt(10, argv, &i, &o, &why) == -1, "opt: --count=12z refused");
	{
		char *last[] = {"--count"};

		i = 0;
		T_CHECK(monitor_parse_opt(1, last, &i, &o, &why) == -1,
			"opt: --count without a value refused");
	}
}

int main(void)
{
	test_prefix();
	test_parse();
	test_format();
	test_suggest();
	test_opts();
	return t_done();
}
