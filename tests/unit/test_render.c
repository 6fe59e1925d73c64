// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Renderer unit tests on hand-built models (no parser, no check): port
 * segmentation, dst chain interning, prefix normalisation, the netns split
 * of "to host", comments, names, determinism, and the shape at scale.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "render.h"
#include "t.h"
#include "util.h"

static const char *file_main;

static struct loc at(unsigned int line)
{
	struct loc l = {file_main, line, 1};

	return l;
}

static struct jail *add_uid_jail(struct policy *p, const char *name, uid_t uid, unsigned int line)
{
	struct jail *j = VEC_PUSH(p->jails, p->njails);

	j->name = xstrdup(name);
	j->loc = at(line);
	j->backend = BACKEND_UID;
	j->user = xasprintf("%u", (unsigned int)uid);
	j->uid_resolved = true;
	j->uid = uid;
	return j;
}

static void parse_pfx(struct prefix *pfx, const char *text)
{
	char buf[64];
	char *slash;

	while (*text == ' ')
		text++;
	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(pfx, 0, sizeof(*pfx));
	pfx->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(pfx->family, buf, pfx->addr.b) != 1)
		abort();
	pfx->len = slash ? (uint8_t)atoi(slash + 1) : (pfx->family == AF_INET ? 32 : 128);
}

static struct jail *add_netns_jail(struct policy *p, const char *name, const char *v4,
				   const char *v6, unsigned int line)
{
	struct jail *j = VEC_PUSH(p->jails, p->njails);

	j->name = xstrdup(name);
	j->loc = at(line);
	j->backend = BACKEND_NETNS;
	if (v4) {
		j->has_v4 = true;
		parse_pfx(&j->v4, v4);
		j->v4_loc = at(line + 1);
	}
	if (v6) {
		j->has_v6 = true;
		parse_pfx(&j->v6, v6);
		j->v6_loc = at(line + 2);
	}
	return j;
}

/*
 * Add "allow PROTO[/PORTS] [to DESTS]".  ports: "80,1000-2000" or NULL;
 * dests: "192.0.2.0/24,host" or NULL.
 */
static struct rule *allow(struct jail *j, unsigned int line, enum proto proto, const char *ports,
			  const char *dests)
{
	struct rule *r = VEC_PUSH(j->rules, j->nrules);
	char buf[512], *tok, *save = NULL;

	r->loc = at(line);
	r->proto_loc = at(line);
	r->proto = proto;
	if (ports) {
		snprintf(buf, sizeof(buf), "%s", ports);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			struct port_range *pr = VEC_PUSH(r->ports, r->nports);
			char *dash = strchr(tok, '-');

			pr->lo = (uint16_t)atoi(tok);
			pr->hi = dash ? (uint16_t)atoi(dash + 1) : pr->lo;
			pr->loc = r->loc;
		}
	}
	if (dests) {
		snprintf(buf, sizeof(buf), "%s", dests);
		save = NULL;
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			struct dest *d = VEC_PUSH(r->dests, r->ndests);

			d->loc = r->loc;
			if (!strcmp(tok, "host"))
				d->kind = DEST_HOST;
			else
				parse_pfx(&d->pfx, tok);
		}
	}
	return r;
}

static void policy_start(struct policy *p)
{
	policy_init(p);
	file_main = policy_add_file(p, "/etc/jailfw/p.conf");
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	const char *s = hay;

	while ((s = strstr(s, needle))) {
		n++;
		s += strlen(needle);
	}
	return n;
}

#define T_HAS(text, needle, what) T_CHECK(strstr((text), (needle)) != NULL, what)
#define T_HASNT(text, needle, what) T_CHECK(strstr((text), (needle)) == NULL, what)

/* No anonymous set anywhere: braces appear only in declarations. */
static bool no_anonymous_sets(const char *text)
{
	const char *line = text;

	while (line && *line) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);
		const char *brace = memchr(line, '{', n);

		/* "update @set { KEY limit ... }" is a meter of a named set. */
		if (brace && strncmp(line, "\t\telements = {", 14) && strncmp(line, "table ", 6) &&
		    strncmp(line, "\tchain ", 7) && strncmp(line, "\tmap ", 5) &&
		    strncmp(line, "\tset ", 5) && !memmem(line, n, "update @", 8))
			return false;
		line = eol ? eol + 1 : NULL;
	}
	return true;
}

/*
 * out with its dst chains' names (dst_ and 16 hex digits, render.c's
 * intern) replaced by dst_1, dst_2, ... in order of first appearance, so
 * that the tests below can spell them.
 */
static char *renumber(char *out)
{
	char *names[64];
	struct strbuf sb;
	size_t n = 0, i, k = 0;
	const char *p = out;

	sb_init(&sb);
	while (p[k]) {
		if (strncmp(p + k, "dst_", 4) || strspn(p + k + 4, "0123456789abcdef") < 16) {
			k++;
			continue;
		}
		sb_printf(&sb, "%.*s", (int)k, p);
		for (i = 0; i < n && strncmp(names[i], p + k, 20); i++)
			;
		if (i == n) {
			if (n == ARRAY_SIZE(names))
				abort();
			names[n++] = xstrndup(p + k, 20);
		}
		sb_printf(&sb, "dst_%zu", i + 1);
		p += k + 20;
		k = 0;
	}
	sb_puts(&sb, p);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(out);
	return sb_steal(&sb);
}

/* The name of the dst chain that the element starting with key jumps to. */
static char *dst_of(const char *out, const char *key)
{
	const char *e = strstr(out, key), *j = e ? strstr(e, "jump dst_") : NULL;

	return j ? xstrndup(j + 5, strcspn(j + 5, ",} \n")) : xstrdup("(none)");
}

/*
 * The dst chains are named by their contents: a jail added in front of
 * others, with destinations of its own, renames none of theirs.
 */
static void test_dst_names_stable(void)
{
	struct policy p, q;
	struct jail *j;
	char *a, *b, *da, *db;

	policy_start(&p);
	j = add_uid_jail(&p, "web", 1099, 1);
	allow(j, 2, PROTO_TCP, "443", "192.0.2.0/24,198.51.100.0/24,203.0.113.0/24");
	j = add_netns_jail(&p, "box", "10.97.1.0/24", NULL, 3);
	allow(j, 4, PROTO_TCP, "443", "192.0.2.0/24");
	a = render_policy_str(&p, 0);

	policy_start(&q);
	j = add_uid_jail(&q, "first", 1098, 1);
	allow(j, 2, PROTO_TCP, "80", "198.51.100.7");
	j = add_netns_jail(&q, "nfirst", "10.97.2.0/24", NULL, 3);
	allow(j, 4, PROTO_UDP, "53", "203.0.113.9");
	j = add_uid_jail(&q, "web", 1099, 5);
	allow(j, 6, PROTO_TCP, "443", "192.0.2.0/24,198.51.100.0/24,203.0.113.0/24");
	j = add_netns_jail(&q, "box", "10.97.1.0/24", NULL, 7);
	allow(j, 8, PROTO_TCP, "443", "192.0.2.0/24");
	b = render_policy_str(&q, 0);

	da = dst_of(a, "1099 . tcp . 443");
	db = dst_of(b, "1099 . tcp . 443");
	T_CHECK(!strncmp(da, "dst_", 4) && strlen(da) == 20, "a hashed name: dst_ and 16 digits");
	T_STREQ(db, da, "the uid jail's dst chain keeps its name when jails come before it");
	free(da);
	free(db);
	da = dst_of(a, "\"box-out\" . tcp . 443");
	db = dst_of(b, "\"box-out\" . tcp . 443");
	T_STREQ(db, da, "the netns jail's too");
	free(da);
	da = dst_of(b, "\"nfirst-out\" . udp . 53");
	T_CHECK(strcmp(da, db) && strncmp(da, "dst_", 4) == 0, "a new union: a chain of its own");
	free(da);
	free(db);
	free(a);
	free(b);
	policy_free(&p);
	policy_free(&q);
}

static void test_segmentation(void)
{
	struct policy p;
	struct jail *j;
	char *out;

	policy_start(&p);
	j = add_uid_jail(&p, "web", 1099, 3);
	allow(j, 4, PROTO_TCP, "80", "192.0.2.0/24");
	allow(j, 5, PROTO_TCP, "1-1024", "198.51.100.0/24");
	allow(j, 6, PROTO_TCP, "80", NULL);
	allow(j, 7, PROTO_UDP, "1000-2000", "203.0.113.0/24");
	allow(j, 8, PROTO_UDP, "1500-3000", "203.0.113.0/24");
	out = renumber(render_policy_str(&p, 0));

	/*
	 * Port 80: all three rules, and "any" covers both prefixes (a uid
	 * jail's prefixes stop short of the host as "any" does); the rest of
	 * 1-1024: rule 5 only.
	 */
	T_HAS(out, "1099 . tcp . 80 comment \"p.conf:4\" : jump dst_any,",
	      "segment tcp/80 gets its own element, first rule's comment");
	T_HAS(out, "1099 . tcp . 1-79 comment \"p.conf:5\" : jump dst_1,", "segment below 80");
	T_HAS(out, "1099 . tcp . 81-1024 comment \"p.conf:5\" : jump dst_1,", "segment above 80");
	T_CHECK(count(out, "1099 . tcp . ") == 3, "exactly three tcp segments");
	T_HAS(out,
	      "\tchain dst_any {\n"
	      "\t\toif != \"lo\" meta mark set meta mark | 0x00200000 accept comment \"any "
	      "destination but the host\"\n"
	      "\t}\n",
	      "tcp/80 union: any (but the host), which holds both prefixes");
	T_HAS(out,
	      "\tchain dst_1 {\n"
	      "\t\toif != \"lo\" ip daddr 198.51.100.0/24 meta mark set meta mark | 0x00200000 "
	      "accept comment \"p.conf:5\"\n"
	      "\t}\n",
	      "rest of 1-1024: B only, never the host");
	/* Overlapping rules with the same destination merge into one. */
	T_HAS(out, "1099 . udp . 1000-3000 comment \"p.conf:7\" : jump dst_2 }",
	      "adjacent segments with equal unions merge");
	T_CHECK(count(out, "1099 . udp . ") == 1, "one udp element");
	T_HAS(out, "\t\tflags interval\n", "ranges make the map an interval map");
	T_CHECK(no_anonymous_sets(out), "no anonymous sets");
	free(out);
	policy_free(&p);
}

static void test_no_interval_without_ranges(void)
{
	struct policy p;
	struct jail *j;
	char *out;

	policy_start(&p);
	j = add_uid_jail(&p, "w", 1099, 1);
	allow(j, 2, PROTO_TCP, "80,443", NULL);
	allow(j, 3, PROTO_TCP, "80", NULL);
	out = render_policy_str(&p, 0);
	T_HASNT(out, "flags interval", "single ports: hash map");
	T_CHECK(count(out, "1099 . tcp . 80 ") == 1, "duplicate port once");
	T_HAS(out,
	      "1099 . tcp . 80 comment \"p.conf:2\" : jump dst_any,\n"
	      "\t\t\t     1099 . tcp . 443 comment \"p.conf:2\" : jump dst_any }",
	      "elements in port order within a rule");
	free(out);
	policy_free(&p);
}

static void test_interning(void)
{
	struct policy p;
	struct jail *a, *b, *c;
	char *out;

	policy_start(&p);
	a = add_uid_jail(&p, "a", 2001, 1);
	allow(a, 2, PROTO_TCP, "443", "192.0.2.0/24,2001:db8::/32");
	b = add_uid_jail(&p, "b", 2002, 5);
	allow(b, 6, PROTO_UDP, "53", "2001:db8::/32,192.0.2.0/24");
	c = add_netns_jail(&p, "c", "10.97.1.0/24", NULL, 10);
	allow(c, 13, PROTO_TCP, "443", "192.0.2.0/24, 2001:db8::/32");
	out = renumber(render_policy_str(&p, 0));
	T_HAS(out, "2001 . tcp . 443 comment \"p.conf:2\" : jump dst_1", "first jail uses dst_1");
	T_HAS(out, "2002 . udp . 53 comment \"p.conf:6\" : jump dst_1",
	      "second jail, same union in another order, shares dst_1");
	/* A uid jail's prefixes exclude the host (lo); forwarded ones need not. */
	T_HAS(out, "\"c-out\" . tcp . 443 comment \"p.conf:13\" : jump dst_2",
	      "netns jail with the same prefixes has a chain of its own");
	T_CHECK(count(out, "\tchain dst_") == 2, "one dst chain per backend");
	/* Mixed families: one chain holds both. */
	T_HAS(out,
	      "\tchain dst_1 {\n"
	      "\t\toif != \"lo\" ip daddr 192.0.2.0/24 meta mark set meta mark | 0x00200000 accept "
	      "comment \"p.conf:2\"\n"
	      "\t\toif != \"lo\" ip6 daddr 2001:db8::/32 meta mark set meta mark | 0x00200000 "
	      "accept comment \"p.conf:2\"\n"
	      "\t}\n",
	      "dst chain with both families");
	T_HAS(out,
	      "\tchain dst_2 {\n"
	      "\t\tip daddr 192.0.2.0/24 meta mark set meta mark | 0x00200000 accept comment "
	      "\"p.conf:13\"\n",
	      "the netns jail's dst chain matches the address alone");
	free(out);
	policy_free(&p);
}

static void test_normalisation(void)
{
	struct policy p;
	struct jail *j;
	char *out;

	policy_start(&p);
	j = add_uid_jail(&p, "n", 2001, 1);
	allow(j, 2, PROTO_TCP, "443",
	      "192.0.2.128/25,192.0.2.0/24,192.0.2.7,198.51.100.0/24,203.0.113.0/24");
	allow(j, 3, PROTO_TCP, "443", "192.0.2.0/24,2001:db8::/32,2001:db8:1::/48");
	/* Host bits set (check only warns): masked before use. */
	allow(j, 4, PROTO_UDP, "53", "198.51.100.77/24");
	out = renumber(render_policy_str(&p, 0));
	T_HASNT(out, "192.0.2.128/25", "contained prefix dropped");
	T_HASNT(out, "192.0.2.7 ", "contained address dropped");
	T_HASNT(out, "2001:db8:1::/48", "contained v6 prefix dropped");
	T_CHECK(count(out, "192.0.2.0/24 comment") == 1,
		"duplicate prefix kept once, as a set element");
	T_HAS(out,
	      "\tset dst_1_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
	      "\t\telements = { 192.0.2.0/24 comment \"p.conf:2\",\n"
	      "\t\t\t     198.51.100.0/24 comment \"p.conf:2\",\n"
	      "\t\t\t     203.0.113.0/24 comment \"p.conf:2\" }\n\t}\n",
	      "three v4 prefixes become a named interval set, sorted");
	T_HAS(out, "\t\toif != \"lo\" ip daddr @dst_1_v4 meta mark set", "rule uses the set");
	T_HAS(out, "\t\toif != \"lo\" ip6 daddr 2001:db8::/32 meta mark set",
	      "one v6 prefix stays a plain match");
	T_HASNT(out, "dst_1_v6", "no v6 set for a single prefix");
	T_HAS(out,
	      "ip daddr 198.51.100.0/24 meta mark set meta mark | 0x00200000 accept comment "
	      "\"p.conf:4\"",
	      "host bits masked");
	free(out);
	policy_free(&p);
}

static void test_netns_split(void)
{
	struct policy p;
	struct jail *j;
	struct publish *pb;
	char *out;

	policy_start(&p);
	j = add_netns_jail(&p, "ns", "10.97.10.0/24", "fd00:97::3:0/112", 1);
	allow(j, 5, PROTO_UDP, "53", "host,192.0.2.53");
	allow(j, 6, PROTO_ICMP, NULL, "host");
	allow(j, 7, PROTO_TCP, NULL, NULL);
	pb = VEC_PUSH(j->pubs, j->npubs);
	pb->loc = at(8);
	pb->proto = PROTO_TCP;
	pb->ext_lo = pb->ext_hi = 8080;
	pb->int_lo = 80;
	pb = VEC_PUSH(j->pubs, j->npubs);
	pb->loc = at(9);
	pb->proto = PROTO_UDP;
	pb->ext_lo = 6000;
	pb->ext_hi = 6001;
	pb->int_lo = 7000;
	out = renumber(render_policy_str(&p, 0));
	T_HAS(out,
	      "\tmap host_ports {\n\t\ttype ifname . inet_proto . inet_service : verdict\n"
	      "\t\telements = { \"ns-out\" . udp . 53 comment \"p.conf:5\" : jump dst_hostin }",
	      "host part of a split rule goes to host_ports");
	T_HAS(out, "\"ns-out\" . udp . 53 comment \"p.conf:5\" : jump dst_1 }",
	      "the rest of it to net_ports");
	T_HAS(out, "\"ns-out\" . icmp comment \"p.conf:6\" : jump dst_hostin",
	      "whole-protocol to host in host_protos");
	T_HAS(out, "\"ns-out\" . tcp comment \"p.conf:7\" : jump dst_any_net",
	      "tcp without ports or to: net_protos, any");
	T_HAS(out, "\tchain dst_1 {\n\t\tip daddr 192.0.2.53 meta mark set",
	      "netns prefix dst chain");
	T_HAS(out,
	      "fib daddr type local tcp dport 8080 dnat ip to 10.97.10.2:80 comment \"p.conf:8\"",
	      "publish v4");
	T_HAS(out, "dnat ip6 to [fd00:97::3:2]:80 comment \"p.conf:8\"", "publish v6");
	T_HAS(out, "udp dport 6001 dnat ip to 10.97.10.2:7001", "shifted range maps 1:1");
	T_HAS(out, "ct status dnat meta l4proto udp th dport 7000-7001 counter",
	      "forward accepts the jail ports");
	T_HAS(out, "iifname != @jail_ifs fib", "no wan: anything but a jail");
	T_HAS(out, "ip6 saddr != fd00:97::3:2 ip6 saddr != fe80::2 counter drop",
	      "input anti-spoofing: the jail's address, and its fixed link-local one");
	T_HAS(out, "ip saddr != 10.97.10.2 counter drop",
	      "anti-spoofing: the jail's address, not its prefix");
	T_CHECK(no_anonymous_sets(out), "no anonymous sets");
	free(out);
	policy_free(&p);
}

static void test_comments_and_names(void)
{
	struct policy p;
	struct jail *j;
	struct rule *r;
	const char *tf, *lf;
	char *out, *longname;

	policy_start(&p);
	tf = policy_add_file(&p, "/usr/share/jailfw/templates/ntp.conf");
	j = add_uid_jail(&p, "output", 2001, 3);
	r = allow(j, 2, PROTO_UDP, "123", NULL);
	r->loc.file = tf;
	r->from_template = true;
	r->use_loc = at(9);
	j = add_uid_jail(&p, "counter", 2002, 11);
	longname = xasprintf("/tmp/%0200d\"evil\".conf", 0);
	lf = policy_add_file(&p, longname);
	r = allow(j, 12, PROTO_TCP, "80", NULL);
	r->loc.file = lf;
	out = render_policy_str(&p, RENDER_REPLACE);
	T_CHECK(
	    !strncmp(out,
		     "table inet jailfw {}\ndelete table inet jailfw\n"
		     "table arp jailfw {}\ndelete table arp jailfw\ntable inet jailfw {\n",
		     strlen("table inet jailfw {}\ndelete table inet jailfw\n"
			    "table arp jailfw {}\ndelete table arp jailfw\ntable inet jailfw {\n")),
	    "RENDER_REPLACE preamble: both tables of the name");
	T_HAS(out, "comment \"ntp.conf:2 via p.conf:9\"", "template rule comment");
	T_HAS(out, "\tchain uid_output {\n", "jail named output");
	T_HAS(out, "\tchain skuid_output {\n", "fixed chain does not collide");
	T_HAS(out, "\tchain uid_counter {\n", "keyword jail name prefixed");
	T_HASNT(out, "evil\"", "quote in a file name never reaches the text");
	{
		const char *c = strstr(out, "comment \"0000");
		const char *e = c ? strchr(c + 9, '"') : NULL;

		T_CHECK(c && e && e - (c + 9) == 127, "comment cut to 127 bytes");
	}
	free(out);
	free(longname);
	policy_free(&p);
}

static void test_settings(void)
{
	struct policy p;
	struct jail *j;
	char *out;

	policy_start(&p);
	p.settings.table = xstrdup("jailtest");
	p.settings.fwmark = 0x100;
	p.settings.log_drops = TRI_YES;
	p.settings.log_drops_loc = at(2);
	p.settings.wan = xcalloc(1, sizeof(char *));
	p.settings.wan[0] = xstrdup("enp4s0");
	p.settings.nwan = 1;
	p.settings.wan_loc = at(3);
	j = add_netns_jail(&p, "ns", "10.97.10.0/24", NULL, 5);
	allow(j, 8, PROTO_TCP, "443", NULL);
	j = add_uid_jail(&p, "quiet", 2001, 10);
	j->log_drops = TRI_NO;
	j->log_drops_loc = at(11);
	allow(j, 12, PROTO_TCP, "443", NULL);
	out = render_policy_str(&p, RENDER_REPLACE);
	T_CHECK(!strncmp(out, "table inet jailtest {}\ndelete table inet jailtest\n", 48),
		"table name from settings");
	T_HAS(out, "meta mark set meta mark | 0x00000100 accept", "fwmark from settings");
	T_HASNT(out, "0x00200000", "no default mark");
	T_HAS(out, "log prefix \"jailfw drop ns: \" group 7466 comment \"p.conf:2\"",
	      "log-drops from settings");
	T_HASNT(out, "jailfw drop quiet", "jail overrides log-drops");
	T_HAS(
	    out,
	    "\tset wan_ifs {\n\t\ttype ifname\n\t\telements = { \"enp4s0\" comment \"p.conf:3\" }",
	    "wan set");
	T_HAS(out, "oifname @wan_ifs ip saddr @jail_nets4 masquerade", "masquerade out of the wan");
	T_HASNT(out, "jail_nets6", "no v6 set without v6 jails");
	T_HASNT(out, "nd_types", "no nd set without v6 jails");
	T_HAS(out, "meta nfproto ipv6 counter drop comment \"p.conf:5: no ipv6 in this jail\"",
	      "v4-only jail drops v6");
	free(out);
	policy_free(&p);
}

static void test_backends_alone(void)
{
	struct policy p;
	char *out;

	policy_start(&p);
	allow(add_uid_jail(&p, "u", 2001, 1), 2, PROTO_TCP, "80", NULL);
	out = render_policy_str(&p, 0);
	T_HASNT(out, "forward", "uid only: no netns chains");
	T_HASNT(out, "jail_ifs", "uid only: no netns sets");
	T_HASNT(out, "uid_protos", "no empty map");
	free(out);
	policy_free(&p);

	policy_start(&p);
	allow(add_netns_jail(&p, "n", NULL, "fd00::/64", 1), 2, PROTO_TCP, "80", NULL);
	out = render_policy_str(&p, 0);
	T_HASNT(out, "skuid", "netns only: no uid chains");
	T_HASNT(out, "uid_jails", "netns only: no uid map");
	T_HASNT(out, "nat_prerouting", "no publish: no prerouting chain");
	T_HAS(out, "meta nfproto ipv4 counter drop comment \"p.conf:1: no ipv4 in this jail\"",
	      "v6-only jail drops v4");
	free(out);
	policy_free(&p);
}

static void build_big(struct policy *p, size_t n)
{
	size_t i;

	policy_start(p);
	for (i = 0; i < n; i++) {
		char name[32];
		struct jail *j;

		snprintf(name, sizeof(name), "j%zu", i);
		if (i % 2) {
			j = add_uid_jail(p, name, (uid_t)(20000 + i), (unsigned int)(i * 6 + 1));
		} else {
			char v4[32];

			snprintf(v4, sizeof(v4), "10.%zu.%zu.0/24", 100 + i / 256, i % 256);
			j = add_netns_jail(p, name, v4, NULL, (unsigned int)(i * 6 + 1));
		}
		allow(j, (unsigned int)(i * 6 + 4), PROTO_UDP, "123", NULL);
		allow(j, (unsigned int)(i * 6 + 5), PROTO_TCP, "80,443",
		      "192.0.2.0/24,2001:db8::/32");
	}
}

static void test_determinism_and_scale(void)
{
	struct policy p;
	char *a, *b, *m = NULL;
	size_t mlen = 0;
	struct timespec t0, t1;
	double best = 1e9;
	size_t i;
	FILE *f;

	build_big(&p, 5000);
	/* Measured, never asserted: the best of a few runs. */
	for (i = 0; i < 5; i++) {
		double ms;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		a = render_policy_str(&p, RENDER_REPLACE);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms =
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (ms < best)
			best = ms;
		free(a);
	}
	a = render_policy_str(&p, RENDER_REPLACE);
	printf("# rendering 5000 jails: %.2f ms (best of 5), %zu bytes\n", best, strlen(a));
	b = render_policy_str(&p, RENDER_REPLACE);
	T_CHECK(!strcmp(a, b), "rendering twice gives the same bytes");
	f = open_memstream(&m, &mlen);
	render_policy(f, &p, RENDER_REPLACE);
	fclose(f);
	T_CHECK(m && !strcmp(a, m), "render_policy and render_policy_str agree");
	/* Sets and dst chains do not grow with jails (uid and netns prefixes: a chain each). */
	T_CHECK(count(a, "\tchain dst_") == 4, "4 dst chains for 5000 jails");
	T_CHECK(count(a, "\tset ") + count(a, "\tmap ") == 12,
		"fixed number of sets and maps (10 inet, 2 arp)");
	T_CHECK(count(a, "\tchain uid_j") == 2500, "one chain per uid jail");
	T_CHECK(count(a, "\tchain fwd_j") == 2500, "one forward chain per netns jail");
	T_CHECK(no_anonymous_sets(a), "no anonymous sets at scale");
	free(a);
	free(b);
	free(m);
	policy_free(&p);
}

int main(void)
{
	test_dst_names_stable();
	test_segmentation();
	test_no_interval_without_ranges();
	test_interning();
	test_normalisation();
	test_netns_split();
	test_comments_and_names();
	test_settings();
	test_backends_alone();
	test_determinism_and_scale();
	return t_done();
}
