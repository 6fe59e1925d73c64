// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jailfw monitor: jailfw's drop log, read through nfnetlink_log.  See
 * monitor.h.
 */
#include "monitor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "jsonw.h"
#include "nftinfo.h"

#define LOG_PREFIX "jailfw drop "

/*
 * How much of each packet the kernel copies to us: the IPv6 header (40)
 * with a few extension headers, or the largest IPv4 header (60), plus the
 * first 8 bytes of the layer-4 header (ports, or ICMP type and code).
 */
#define COPY_RANGE 256

/* ------------------------------------------------------------------ */
/* Parsing                                                              */

static bool name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '-');
}

bool monitor_jail_from_prefix(const char *prefix, char *name)
{
	size_t plen = strlen(LOG_PREFIX), n = 0;
	const char *s;

	if (strncmp(prefix, LOG_PREFIX, plen))
		return false;
	s = prefix + plen;
	while (s[n] && name_char(s[n], n == 0))
		n++;
	/* Exactly "NAME: " to the end: anything else is not ours. */
	if (n == 0 || n >= MONITOR_JAIL_MAX || strcmp(s + n, ": "))
		return false;
	memcpy(name, s, n);
	name[n] = '\0';
	return true;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_DCCP;
}

/* The layer-4 header at p[off], if the copied bytes reach that far. */
static void parse_l4(const uint8_t *p, size_t len, size_t off, struct monitor_drop *d)
{
	if (d->fragment)
		return;
	if (has_ports(d->l4proto) && off + 4 <= len) {
		d->has_ports = true;
		d->sport = get16(p + off);
		d->dport = get16(p + off + 2);
	} else if ((d->l4proto == IPPROTO_ICMP || d->l4proto == IPPROTO_ICMPV6) && off + 2 <= len) {
		d->has_icmp = true;
		d->icmp_type = p[off];
		d->icmp_code = p[off + 1];
	}
}

static bool parse_ipv4(const uint8_t *p, size_t len, struct monitor_drop *d)
{
	size_t ihl;

	if (len < 20)
		return false;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len)
		return false;
	d->l4proto = p[9];
	d->src.family = d->dst.family = AF_INET;
	d->src.len = d->dst.len = 32;
	memcpy(&d->src.addr.v4, p + 12, 4);
	memcpy(&d->dst.addr.v4, p + 16, 4);
	/* A fragment offset: the layer-4 header was in the first fragment. */
	d->fragment = (get16(p + 6) & 0x1fff) != 0;
	parse_l4(p, len, ihl, d);
	return true;
}

/*
 * The layer-4 protocol of an IPv6 packet is the last "next header" of a
 * chain of extension headers; walk the ones that may precede it.
 */
static bool parse_ipv6(const uint8_t *p, size_t len, struct monitor_drop *d)
{
	uint8_t next;
	size_t off = 40;
	int hops;

	if (len < 40)
		return false;
	d->src.family = d->dst.family = AF_INET6;
	d->src.len = d->dst.len = 128;
	memcpy(&d->src.addr.v6, p + 8, 16);
	memcpy(&d->dst.addr.v6, p + 24, 16);
	next = p[6];
	for (hops = 0; hops < 8; hops++) {
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_FRAGMENT && next != IPPROTO_AH)
			break;
		if (off + 8 > len) {
			/* Truncated within the chain: protocol unknown. */
			d->l4proto = next;
			d->fragment = false;
			return true;
		}
		if (next == IPPROTO_FRAGMENT) {
			if (get16(p + off + 2) & 0xfff8)
				d->fragment = true;
			next = p[off];
			off += 8;
		} else if (next == IPPROTO_AH) {
			next = p[off];
			off += ((size_t)p[off + 1] + 2) * 4;
		} else {
			next = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
		}
	}
	d->l4proto = next;
	parse_l4(p, len, off, d);
	return true;
}

/* Every attribute we read, once, with its length checked. */
static int monitor_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);
	uint16_t len = mnl_attr_get_payload_len(attr);
	size_t want = 0;

	if (type > NFULA_MAX)
		return MNL_CB_OK;
	switch (type) {
	case NFULA_PACKET_HDR:
		want = sizeof(struct nfulnl_msg_packet_hdr);
		break;
	case NFULA_TIMESTAMP:
		want = sizeof(struct nfulnl_msg_packet_timestamp);
		break;
	case NFULA_IFINDEX_INDEV:
	case NFULA_IFINDEX_OUTDEV:
	case NFULA_UID:
	case NFULA_GID:
		want = sizeof(uint32_t);
		break;
	case NFULA_PREFIX:
		/* A C string: its NUL must be inside the attribute. */
		if (!len || !memchr(mnl_attr_get_payload(attr), '\0', len))
			return MNL_CB_OK;
		break;
	default:
		break;
	}
	if (len < want)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

static uint32_t attr_be32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
	return ntohl(v);
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

bool monitor_parse(const struct nlmsghdr *nlh, struct monitor_drop *out)
{
	const struct nlattr *tb[NFULA_MAX + 1] = {NULL};
	const uint8_t *pkt;
	size_t len;
	bool ok;

	if (nlh->nlmsg_len < NLMSG_HDRLEN ||
	    nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg))
		return false;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), monitor_attr_cb, tb) < 0)
		return false;
	if (!tb[NFULA_PREFIX] || !tb[NFULA_PAYLOAD])
		return false;
	memset(out, 0, sizeof(*out));
	if (!monitor_jail_from_prefix(mnl_attr_get_str(tb[NFULA_PREFIX]), out->jail))
		return false;

	/* The version nibble, not nfgen_family: an inet chain logs both. */
	pkt = mnl_attr_get_payload(tb[NFULA_PAYLOAD]);
	len = mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]);
	if (!len)
		return false;
	switch (pkt[0] >> 4) {
	case 4:
		ok = parse_ipv4(pkt, len, out);
		break;
	case 6:
		ok = parse_ipv6(pkt, len, out);
		break;
	default:
		ok = false;
		break;
	}
	if (!ok)
		return false;

	if (tb[NFULA_PACKET_HDR]) {
		const struct nfulnl_msg_packet_hdr *h = mnl_attr_get_payload(tb[NFULA_PACKET_HDR]);

		out->has_hook = true;
		out->hook = h->hook;
	}
	if (tb[NFULA_IFINDEX_INDEV])
		out->indev = attr_be32(tb[NFULA_IFINDEX_INDEV]);
	if (tb[NFULA_IFINDEX_OUTDEV])
		out->outdev = attr_be32(tb[NFULA_IFINDEX_OUTDEV]);
	if (tb[NFULA_UID]) {
		out->has_uid = true;
		out->uid = attr_be32(tb[NFULA_UID]);
		out->gid = tb[NFULA_GID] ? attr_be32(tb[NFULA_GID]) : out->uid;
	}
	if (tb[NFULA_TIMESTAMP]) {
		const uint8_t *ts = mnl_attr_get_payload(tb[NFULA_TIMESTAMP]);
		uint64_t usec = be64(ts + 8);

		out->has_time = true;
		out->sec = (int64_t)be64(ts);
		out->usec = usec < 1000000 ? (uint32_t)usec : 0;
	}
	return true;
}

/*
 * The loopback device is always ifindex 1 (LOOPBACK_IFINDEX), in every
 * network namespace.
 */
#define LOOPBACK_IFINDEX 1

static bool monitor_is_loopback(const struct prefix *a)
{
	static const uint8_t v6lo[16] = {[15] = 1};

	if (a->family == AF_INET)
		return a->addr.b[0] == 127;
	return !memcmp(a->addr.b, v6lo, 16);
}

bool monitor_drop_to_host(const struct monitor_drop *d)
{
	/*
	 * uid jails: the ruleset's "to host" is oif "lo", which is where
	 * loopback and the host's own addresses leave.  netns jails: the
	 * input hook sees what the jail sends to the host itself.
	 */
	if (d->has_hook && d->hook == NF_INET_LOCAL_OUT && d->outdev == LOOPBACK_IFINDEX)
		return true;
	if (d->has_hook && d->hook == NF_INET_LOCAL_IN)
		return true;
	return monitor_is_loopback(&d->dst);
}

/* ------------------------------------------------------------------ */
/* Formatting                                                           */

static const char *l4_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_UDPLITE:
		return "udplite";
	case IPPROTO_DCCP:
		return "dccp";
	case IPPROTO_GRE:
		return "gre";
	case IPPROTO_ESP:
		return "esp";
	case IPPROTO_AH:
		return "ah";
	case IPPROTO_IGMP:
		return "igmp";
	default:
		return NULL;
	}
}

static void put_proto(struct strbuf *sb, uint8_t p)
{
	const char *n = l4_name(p);

	if (n)
		sb_puts(sb, n);
	else
		sb_printf(sb, "%u", p);
}

static const char *monitor_hook_name(uint8_t h)
{
	static const char *const names[] = {
	    [NF_INET_PRE_ROUTING] = "prerouting",   [NF_INET_LOCAL_IN] = "input",
	    [NF_INET_FORWARD] = "forward",	    [NF_INET_LOCAL_OUT] = "output",
	    [NF_INET_POST_ROUTING] = "postrouting",
	};

	return h < ARRAY_SIZE(names) ? names[h] : NULL;
}

/* The protocol's name, or its number. */
static json_t *mon_json_proto(uint8_t p)
{
	return l4_name(p) ? jsonw_str(l4_name(p)) : jsonw_u64(p);
}

static void mon_format_json(const struct monitor_drop *d, struct strbuf *sb)
{
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN], tbuf[32];
	const char *h = d->has_hook ? monitor_hook_name(d->hook) : NULL;
	json_t *v = jsonw_pack("{}");

	if (d->has_time) {
		time_t t = (time_t)d->sec;
		struct tm tm;
		char *s;

		/*
		 * A timestamp no calendar year fits (only a forged message
		 * carries one) leaves tm unset: then there is no time field.
		 */
		if (gmtime_r(&t, &tm) && strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm)) {
			s = xasprintf("%s.%06uZ", tbuf, d->usec);
			jsonw_merge(v, jsonw_pack("{s:s}", "time", s));
			free(s);
		}
	}
	jsonw_merge(v, jsonw_pack("{s:s, s:s, s:o, s:s, s:s}", "jail", d->jail, "family",
				  d->src.family == AF_INET ? "ipv4" : "ipv6", "proto",
				  mon_json_proto(d->l4proto), "src", addr_str(&d->src, a), "dst",
				  addr_str(&d->dst, b)));
	if (d->has_ports)
		jsonw_merge(v, jsonw_pack("{s:i, s:i}", "sport", d->sport, "dport", d->dport));
	if (d->has_icmp)
		jsonw_merge(v, jsonw_pack("{s:i, s:i}", "icmp_type", d->icmp_type, "icmp_code",
					  d->icmp_code));
	if (d->fragment)
		jsonw_merge(v, jsonw_pack("{s:b}", "fragment", 1));
	if (h)
		jsonw_merge(v, jsonw_pack("{s:s}", "hook", h));
	/* Interface names are the kernel's: any bytes. */
	if (d->in_name[0])
		jsonw_merge(v, jsonw_pack("{s:o}", "in", jsonw_str(d->in_name)));
	if (d->out_name[0])
		jsonw_merge(v, jsonw_pack("{s:o}", "out", jsonw_str(d->out_name)));
	if (d->has_uid)
		jsonw_merge(v, jsonw_pack("{s:o, s:o}", "uid", jsonw_u64(d->uid), "gid",
					  jsonw_u64(d->gid)));
	jsonw_merge(v, jsonw_pack("{s:b}", "to_host", monitor_drop_to_host(d)));
	jsonw_line(sb, v);
	json_decref(v);
}

void monitor_format(const struct monitor_drop *d, bool json, struct strbuf *sb)
{
	char a[PREFIX_STRLEN], tbuf[16] = "-";
	bool v6 = d->dst.family == AF_INET6;

	if (json) {
		mon_format_json(d, sb);
		return;
	}
	if (d->has_time) {
		time_t t = (time_t)d->sec;
		struct tm tm;

		if (!localtime_r(&t, &tm) || !strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm))
			strcpy(tbuf, "-");
	}
	sb_printf(sb, "%s %s ", tbuf, d->jail);
	put_proto(sb, d->l4proto);
	sb_printf(sb, " %s -> ", addr_str(&d->src, a));
	if (d->has_ports)
		sb_printf(sb, v6 ? "[%s]:%u" : "%s:%u", addr_str(&d->dst, a), d->dport);
	else
		sb_puts(sb, addr_str(&d->dst, a));
	if (d->has_icmp)
		sb_printf(sb, " type %u code %u", d->icmp_type, d->icmp_code);
	if (d->fragment)
		sb_puts(sb, " fragment");
	if (d->has_uid)
		sb_printf(sb, " uid %u", d->uid);
	sb_putc(sb, '\n');
}

/* ------------------------------------------------------------------ */
/* Suggestions                                                          */

struct monitor_target {
	char jail[MONITOR_JAIL_MAX];
	uint8_t l4proto;
	bool host; /* "to host"; dst unused */
	struct prefix dst;
	uint16_t *ports; /* sorted, distinct; none for icmp */
	size_t nports;
	unsigned long drops;
};

void monitor_suggest_init(struct monitor_suggest *s)
{
	memset(s, 0, sizeof(*s));
}

void monitor_suggest_free(struct monitor_suggest *s)
{
	size_t i;

	for (i = 0; i < s->ntargets; i++)
		free(s->targets[i].ports);
	free(s->targets);
	monitor_suggest_init(s);
}

static bool same_target(const struct monitor_target *t, const char *jail, uint8_t proto, bool host,
			const struct prefix *dst)
{
	if (t->l4proto != proto || t->host != host || strcmp(t->jail, jail))
		return false;
	return host || (t->dst.family == dst->family && !memcmp(&t->dst.addr, &dst->addr, 16));
}

static void monitor_add_port(struct monitor_target *t, uint16_t port)
{
	size_t lo = 0, hi = t->nports;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->ports[mid] == port)
			return;
		if (t->ports[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	t->ports = xrealloc(t->ports, (t->nports + 1) * sizeof(*t->ports));
	memmove(t->ports + lo + 1, t->ports + lo, (t->nports - lo) * sizeof(*t->ports));
	t->ports[lo] = port;
	t->nports++;
}

void monitor_suggest_add(struct monitor_suggest *s, const struct monitor_drop *d)
{
	bool host = monitor_drop_to_host(d);
	struct monitor_target *t = NULL;
	size_t i;

	/*
	 * Nothing to suggest for what no allow line can express: tcp or udp
	 * without a port (a fragment) or to port 0, icmp over IPv6 or icmpv6
	 * over IPv4 (check would refuse the line).
	 */
	if (((d->l4proto == IPPROTO_TCP || d->l4proto == IPPROTO_UDP) &&
	     (!d->has_ports || d->dport == 0)) ||
	    (d->l4proto == IPPROTO_ICMP && d->dst.family != AF_INET) ||
	    (d->l4proto == IPPROTO_ICMPV6 && d->dst.family != AF_INET6)) {
		s->ignored++;
		return;
	}
	for (i = 0; i < s->ntargets && !t; i++)
		if (same_target(&s->targets[i], d->jail, d->l4proto, host, &d->dst))
			t = &s->targets[i];
	if (!t) {
		if (s->ntargets >= MONITOR_SUGGEST_MAX) {
			s->overflow++;
			return;
		}
		t = VEC_PUSH(s->targets, s->ntargets);
		memset(t, 0, sizeof(*t));
		snprintf(t->jail, sizeof(t->jail), "%s", d->jail);
		t->l4proto = d->l4proto;
		t->host = host;
		if (!host)
			t->dst = d->dst;
	}
	t->drops++;
	if (d->l4proto == IPPROTO_TCP || d->l4proto == IPPROTO_UDP)
		monitor_add_port(t, d->dport);
}

/* tcp, udp, icmp, icmpv6 (what allow takes), then the rest by number. */
static int proto_rank(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		return 0;
	case IPPROTO_UDP:
		return 1;
	case IPPROTO_ICMP:
		return 2;
	case IPPROTO_ICMPV6:
		return 3;
	default:
		return 4 + p;
	}
}

static bool allowable(uint8_t p)
{
	return proto_rank(p) < 4;
}

static int target_cmp(const void *pa, const void *pb)
{
	const struct monitor_target *a = *(const struct monitor_target *const *)pa;
	const struct monitor_target *b = *(const struct monitor_target *const *)pb;
	int c = strcmp(a->jail, b->jail);

	if (c)
		return c;
	if (proto_rank(a->l4proto) != proto_rank(b->l4proto))
		return proto_rank(a->l4proto) - proto_rank(b->l4proto);
	if (a->host != b->host)
		return a->host ? -1 : 1;
	if (a->host)
		return 0;
	if (a->dst.family != b->dst.family)
		return a->dst.family == AF_INET ? -1 : 1;
	return memcmp(&a->dst.addr, &b->dst.addr, 16);
}

/* "443,8000-8002" */
static char *ports_str(const struct monitor_target *t)
{
	struct strbuf sb;
	size_t i, j;

	sb_init(&sb);
	for (i = 0; i < t->nports; i = j + 1) {
		for (j = i; j + 1 < t->nports && t->ports[j + 1] == t->ports[j] + 1; j++)
			;
		if (i)
			sb_putc(&sb, ',');
		if (j > i)
			sb_printf(&sb, "%u-%u", t->ports[i], t->ports[j]);
		else
			sb_printf(&sb, "%u", t->ports[i]);
	}
	return sb_steal(&sb);
}

/* One suggested line: a protocol and ports, and the destinations. */
struct sline {
	uint8_t l4proto;
	char *ports;
	struct strbuf dests;
	unsigned long drops;
};

static const char *plural_drops(unsigned long n)
{
	return n == 1 ? "drop" : "drops";
}

static void monitor_print_jail(struct monitor_target **ts, size_t n, bool json, struct strbuf *sb)
{
	struct sline *lines = NULL;
	size_t nlines = 0, i, k;
	unsigned long total = 0;
	char a[PREFIX_STRLEN];

	for (i = 0; i < n; i++) {
		const struct monitor_target *t = ts[i];
		char *ports = ports_str(t);
		struct sline *l = NULL;

		total += t->drops;
		for (k = 0; k < nlines && !l; k++)
			if (lines[k].l4proto == t->l4proto && !strcmp(lines[k].ports, ports))
				l = &lines[k];
		if (l) {
			free(ports);
			sb_puts(&l->dests, ", ");
		} else {
			l = VEC_PUSH(lines, nlines);
			l->l4proto = t->l4proto;
			l->ports = ports;
			sb_init(&l->dests);
		}
		sb_puts(&l->dests, t->host ? "host" : addr_str(&t->dst, a));
		l->drops += t->drops;
	}

	if (!json)
		sb_printf(sb, "# jail %s: %lu %s; add to its block:\n", ts[0]->jail, total,
			  plural_drops(total));
	for (k = 0; k < nlines; k++) {
		struct sline *l = &lines[k];
		struct strbuf rule;

		sb_init(&rule);
		if (allowable(l->l4proto)) {
			sb_printf(&rule, "allow %s", l4_name(l->l4proto));
			if (*l->ports)
				sb_printf(&rule, "/%s", l->ports);
			sb_printf(&rule, " to %s", l->dests.s);
		}
		if (json) {
			json_t *v;

			if (allowable(l->l4proto))
				v = jsonw_pack("{s:{s:s, s:s, s:o}}", "suggest", "jail",
					       ts[0]->jail, "rule", rule.s, "drops",
					       jsonw_u64(l->drops));
			else
				v = jsonw_pack("{s:{s:s, s:o, s:s, s:o}}", "unsupported", "jail",
					       ts[0]->jail, "proto", mon_json_proto(l->l4proto),
					       "to", l->dests.s, "drops", jsonw_u64(l->drops));
			jsonw_line(sb, v);
			json_decref(v);
		} else if (allowable(l->l4proto)) {
			sb_printf(sb, "\t%s\t# %lu %s\n", rule.s, l->drops, plural_drops(l->drops));
		} else {
			sb_puts(sb, "\t# protocol ");
			put_proto(sb, l->l4proto);
			sb_printf(sb,
				  " to %s: %lu %s; allow takes only tcp, udp, icmp and icmpv6\n",
				  l->dests.s, l->drops, plural_drops(l->drops));
		}
		sb_free(&rule);
		free(l->ports);
		sb_free(&l->dests);
	}
	free(lines);
}

void monitor_suggest_print(const struct monitor_suggest *s, bool json, struct strbuf *sb)
{
	struct monitor_target **ts;
	size_t i, j;

	if (!s->ntargets)
		return;
	ts = xcalloc(s->ntargets, sizeof(*ts));
	for (i = 0; i < s->ntargets; i++)
		ts[i] = &s->targets[i];
	qsort(ts, s->ntargets, sizeof(*ts), target_cmp);
	for (i = 0; i < s->ntargets; i = j) {
		for (j = i + 1; j < s->ntargets && !strcmp(ts[j]->jail, ts[i]->jail); j++)
			;
		monitor_print_jail(ts + i, j - i, json, sb);
	}
	free(ts);
}

/* ------------------------------------------------------------------ */
/* Options                                                              */

static int opt_val(int argc, char **argv, int *i, const char *opt, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(opt);

	if (strncmp(a, opt, n))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n])
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

int monitor_parse_opt(int argc, char **argv, int *i, struct monitor_opts *o, const char **why)
{
	const char *v = NULL;
	char *end;
	int r;

	if (!strcmp(argv[*i], "--suggest")) {
		o->suggest = true;
		return 1;
	}
	r = opt_val(argc, argv, i, "--count", &v);
	if (r) {
		unsigned long long n;

		errno = 0;
		n = r > 0 && v[0] >= '0' && v[0] <= '9' ? strtoull(v, &end, 10) : 0;
		if (r < 0 || !n || errno || *end || n > (unsigned long)-1) {
			*why = "--count needs a number of drops greater than 0";
			return -1;
		}
		o->count = (unsigned long)n;
		return 1;
	}
	r = opt_val(argc, argv, i, "--timeout", &v);
	if (r) {
		double t;

		errno = 0;
		t = r > 0 && v[0] >= '0' && v[0] <= '9' ? strtod(v, &end) : 0;
		/* A month is long enough; beyond that, say "no timeout". */
		if (r < 0 || errno || *end || !(t > 0) || t > 31 * 86400.0) {
			*why = "--timeout needs a number of seconds greater than 0";
			return -1;
		}
		o->timeout = t;
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The socket                                                           */

static volatile sig_atomic_t stop_signal;

static void monitor_on_signal(int sig)
{
	stop_signal = sig;
}

struct mon {
	const struct monitor_opts *o;
	FILE *out;
	struct monitor_suggest sug;
	struct strbuf line;
	unsigned long seen;
	bool write_failed;
};

static void handle_packet(struct mon *m, const struct nlmsghdr *nlh)
{
	struct monitor_drop d;

	if (m->o->count && m->seen >= m->o->count)
		return;
	if (!monitor_parse(nlh, &d))
		return;
	if (!d.has_time) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		d.has_time = true;
		d.sec = now.tv_sec;
		d.usec = (uint32_t)(now.tv_nsec / 1000);
	}
	if (d.indev && !if_indextoname(d.indev, d.in_name))
		d.in_name[0] = '\0';
	if (d.outdev && !if_indextoname(d.outdev, d.out_name))
		d.out_name[0] = '\0';
	m->seen++;
	if (m->o->suggest)
		monitor_suggest_add(&m->sug, &d);
	m->line.len = 0;
	m->line.s[0] = '\0';
	monitor_format(&d, m->o->json, &m->line);
	/* Live output: each drop is on the terminal (or the pipe) at once. */
	if (fputs(m->line.s, m->out) == EOF || fflush(m->out))
		m->write_failed = true;
}

/*
 * Every message in buf: log entries are printed, and the answer to our
 * request seq (an NLMSG_ERROR, 0 meaning the ack) is stored in *ack_err
 * with *acked set.  Returns 0 or -EBADMSG for a truncated buffer.
 */
static int dispatch(struct mon *m, const void *buf, size_t len, uint32_t seq, bool *acked,
		    int *ack_err)
{
	const struct nlmsghdr *nlh = buf;
	int n = (int)len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		/*
		 * libmnl 1.0.4 compares the length as an int: one of 2^31 or
		 * more passes mnl_nlmsg_ok() and walks far past the buffer.
		 */
		if (nlh->nlmsg_len > (uint32_t)n)
			return -EBADMSG;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return -EBADMSG;
			if (seq && nlh->nlmsg_seq == seq && acked) {
				*acked = true;
				*ack_err = e->error;
			}
			continue;
		}
		if (nlh->nlmsg_type == (NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET))
			handle_packet(m, nlh);
	}
	return 0;
}

/*
 * Bind the group, ask for COPY_RANGE bytes of each packet, and for every
 * entry at once: by default nfnetlink_log batches up to 100 entries or a
 * second (NFULNL_QTHRESH_DEFAULT, NFULNL_TIMEOUT_DEFAULT), too slow for a
 * live view.  Kernels process the command first, then the parameters, in
 * one message.
 *
 * No NFULNL_CFG_CMD_PF_BIND or PF_UNBIND, although libnetfilter_log's
 * examples send them: they choose the network namespace's *default*
 * logger for a whole family, i.e. where every "log" statement without a
 * group writes, in every table.  An nftables "log group N" names its
 * logger itself, so binding the group is all jailfw needs, and monitor
 * changes nothing for anyone else.
 */
static int nflog_config(struct mnl_socket *nl, struct mon *m, uint16_t group, char *buf,
			size_t bufsize)
{
	struct nfulnl_msg_config_cmd cmd = {.command = NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {.copy_range = htonl(COPY_RANGE),
					      .copy_mode = NFULNL_COPY_PACKET};
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL);
	bool acked = false;
	int ack_err = 0;
	ssize_t n;

	nlh = nftinfo_nfnl_header(buf, (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, NLM_F_ACK,
				  AF_UNSPEC, group, seq);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while (!acked) {
		n = mnl_socket_recvfrom(nl, buf, bufsize);
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			return -errno;
		}
		if (dispatch(m, buf, (size_t)n, seq, &acked, &ack_err))
			return -EBADMSG;
	}
	return ack_err;
}

/*
 * -EPERM from the group bind has two causes: no CAP_NET_ADMIN over this
 * network namespace (nfnetlink checks it for every message), or another
 * socket bound the group already (nfnetlink_log refuses to share it).
 * /proc/net/netfilter/nfnetlink_log lists this namespace's bound groups,
 * one per line, group number first.
 */
static bool group_taken(uint16_t group, unsigned int *portid)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_log", "re");
	unsigned int g, p;
	char line[256];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %u", &g, &p) == 2 && g == group) {
			found = true;
			*portid = p;
		}
	fclose(f);
	return found;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for input, a signal or the deadline; returns poll()'s result. */
static int wait_input(int fd, double deadline, const sigset_t *mask)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct timespec ts, *tsp = NULL;

	if (deadline > 0) {
		double left = deadline - mono_now();

		if (left <= 0)
			return 0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		tsp = &ts;
	}
	return ppoll(&pfd, 1, tsp, mask);
}

static int listen_loop(struct mnl_socket *nl, struct mon *m, char *buf, size_t bufsize,
		       struct diag *d)
{
	const struct monitor_opts *o = m->o;
	double deadline = o->timeout > 0 ? mono_now() + o->timeout : 0;
	int fd = mnl_socket_get_fd(nl), r;
	sigset_t block, orig;
	bool lost = false;
	ssize_t n;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	/*
	 * The signals stay blocked but while ppoll waits, so one can never
	 * slip in between the check of stop_signal and the wait.
	 */
	sigdelset(&orig, SIGINT);
	sigdelset(&orig, SIGTERM);
	for (r = 0; !stop_signal && !m->write_failed && (!o->count || m->seen < o->count);) {
		r = wait_input(fd, deadline, &orig);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r < 0) {
			r = -errno;
			diag_error(d, NULL, 0, "monitor: waiting for the drop log: %s",
				   strerror(errno));
			break;
		}
		if (r == 0)
			break; /* the deadline */
		n = recv(fd, buf, bufsize, MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			/* The kernel dropped entries: say so once, go on. */
			if (!lost)
				diag_warning(d, NULL, 0,
					     "monitor: the kernel dropped log entries faster than "
					     "they were read; some drops are missing");
			lost = true;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			r = -errno;
			diag_error(d, NULL, 0, "monitor: reading the drop log: %s",
				   strerror(errno));
			break;
		}
		r = dispatch(m, buf, (size_t)n, 0, NULL, NULL);
		if (r) {
			diag_error(d, NULL, 0, "monitor: malformed message from nfnetlink_log");
			break;
		}
	}
	sigaddset(&orig, SIGINT);
	sigaddset(&orig, SIGTERM);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return r < 0 ? r : 0;
}

int monitor_run(const struct monitor_opts *o, struct diag *d)
{
	uint16_t group = o->group ? o->group : DEFAULT_LOG_GROUP;
	struct sigaction sa, old_int, old_term;
	size_t bufsize = 65536;
	struct mnl_socket *nl = NULL;
	char *buf = xmalloc(bufsize);
	int status = EXIT_OK, err, rcvbuf = 4 << 20;
	unsigned int portid = 0;
	struct mon m;

	memset(&m, 0, sizeof(m));
	m.o = o;
	m.out = o->out ? o->out : stdout;
	monitor_suggest_init(&m.sug);
	sb_init(&m.line);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = monitor_on_signal; /* no SA_RESTART: ppoll must return */
	sigemptyset(&sa.sa_mask);
	stop_signal = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "monitor: open netfilter netlink socket: %s",
			   strerror(-err));
		status = exitcode_kernel(err);
		goto out;
	}
	/* Bursts of drops must not overflow it (FORCE: we hold CAP_NET_ADMIN). */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) <
	    0)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	err = nflog_config(nl, &m, group, buf, bufsize);
	if (err == -EPERM && group_taken(group, &portid)) {
		diag_error(d, NULL, 0,
			   "monitor: NFLOG group %u is taken by another program (netlink port %u, "
			   "e.g. ulogd); stop it or have it release the group",
			   group, portid);
		status = EXIT_CONFLICT;
		goto out;
	}
	if (err) {
		diag_error(d, NULL, 0, "monitor: bind NFLOG group %u: %s", group, strerror(-err));
		status = exitcode_kernel(err);
		goto out;
	}
	if (o->verbose)
		fprintf(
		    stderr,
		    "jailfw: listening to NFLOG group %u (jails log drops with log-drops yes)%s\n",
		    group, o->timeout > 0 || o->count ? "" : "; Ctrl-C to stop");

	err = listen_loop(nl, &m, buf, bufsize, d);
	if (err)
		status = exitcode_kernel(err);
	if (o->suggest && !m.write_failed) {
		m.line.len = 0;
		m.line.s[0] = '\0';
		if (!m.sug.ntargets && !o->json)
			sb_puts(&m.line, "# no drops seen: nothing to suggest\n");
		monitor_suggest_print(&m.sug, o->json, &m.line);
		if (m.sug.ignored && !o->json)
			sb_printf(&m.line, "# %lu %s without a port (fragments) not counted\n",
				  m.sug.ignored, plural_drops(m.sug.ignored));
		if (m.sug.overflow && !o->json)
			sb_printf(&m.line, "# %lu %s to further destinations not counted\n",
				  m.sug.overflow, plural_drops(m.sug.overflow));
		if (fputs(m.line.s, m.out) == EOF || fflush(m.out))
			m.write_failed = true;
	}
	if (m.write_failed && status == EXIT_OK) {
		diag_error(d, NULL, 0, "monitor: cannot write: %s", strerror(errno));
		status = EXIT_INVALID;
	}
out:
	if (nl)
		mnl_socket_close(nl);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	monitor_suggest_free(&m.sug);
	sb_free(&m.line);
	free(buf);
	return status;
}
