// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The parser: every statement lands in the right model fields, every
 * syntax error has its exact message and location, recovery goes on to
 * report the next error, and the file checks refuse what they should.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"
#include "t.h"

struct res {
	struct policy p;
	struct diag d;
	char *out; /* everything diag printed */
	size_t outlen;
	FILE *f;
	bool ok;
};

static void res_begin(struct res *r)
{
	memset(r, 0, sizeof(*r));
	policy_init(&r->p);
	r->f = open_memstream(&r->out, &r->outlen);
	diag_init(&r->d, r->f);
	r->d.max_errors = 0;
}

static void res_end(struct res *r)
{
	fflush(r->f);
}

static void parse_mode(struct res *r, const char *text, bool template_only)
{
	res_begin(r);
	r->ok = policy_parse_buffer(&r->p, &r->d, "p.conf", text, strlen(text), template_only);
	res_end(r);
}

static void parse(struct res *r, const char *text)
{
	parse_mode(r, text, false);
}

static void res_free(struct res *r)
{
	fclose(r->f);
	free(r->out);
	diag_free(&r->d);
	policy_free(&r->p);
}

/* The first line of the diagnostics (the message itself). */
static const char *first_line(const char *s)
{
	static char buf[1024];
	size_t n = strcspn(s ? s : "", "\n");

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s ? s : "", n);
	buf[n] = '\0';
	return buf;
}

static bool pfx_is(const struct prefix *p, const char *want)
{
	char buf[PREFIX_STRLEN];

	return !strcmp(prefix_str(p, buf), want);
}

static void test_design_example(void)
{
	static const char src[] = "settings {\n"
				  "    wan enp4s0\n"
				  "    log-drops yes\n"
				  "}\n"
				  "\n"
				  "jail psa-www {\n"
				  "    backend uid\n"
				  "    user psa-www\n"
				  "    allow udp/123                  # ntp, IPv4 and IPv6\n"
				  "    allow tcp/80,443 to 192.0.2.0/24, 2001:db8::/32\n"
				  "    allow udp/53,tcp/53 to host\n"
				  "}\n"
				  "\n"
				  "jail foobar {\n"
				  "    backend netns\n"
				  "    ipv4 10.97.10.0/24\n"
				  "    ipv6 fd00:97::3:0/112\n"
				  "    user nobody\n"
				  "    dns 10.97.10.1\n"
				  "    use ntp\n"
				  "    allow tcp/443\n"
				  "    publish tcp/8080:80\n"
				  "}\n"
				  "\n"
				  "template ntp {\n"
				  "    allow udp/123\n"
				  "}\n";
	struct res r;
	struct jail *j;
	struct rule *ru;

	parse(&r, src);
	T_CHECK(r.ok, "design example parses");
	T_STREQ(r.out, "", "design example: no diagnostics");
	T_CHECK(r.p.has_settings && r.p.settings.nwan == 1 &&
		    !strcmp(r.p.settings.wan[0], "enp4s0"),
		"settings: wan enp4s0");
	T_CHECK(r.p.settings.log_drops == TRI_YES && r.p.settings.log_drops_loc.line == 3,
		"settings: log-drops yes at line 3");
	T_CHECK(r.p.njails == 2 && r.p.ntmpls == 1, "two jails, one template");
	if (r.p.njails != 2 || r.p.ntmpls != 1)
		goto out;

	j = &r.p.jails[0];
	T_STREQ(j->name, "psa-www", "jail 0 name");
	T_CHECK(j->loc.line == 6 && j->loc.col == 6 && !strcmp(j->loc.file, "p.conf"),
		"jail loc is the name");
	T_CHECK(j->backend == BACKEND_UID && j->backend_loc.line == 7, "backend uid");
	T_STREQ(j->user, "psa-www", "user as written");
	T_CHECK(j->user_loc.line == 8 && j->user_loc.col == 10, "user loc is the value");
	T_CHECK(j->nrules == 4, "psa-www: 4 rules (udp/53,tcp/53 is two)");
	if (j->nrules == 4) {
		ru = &j->rules[0];
		T_CHECK(ru->proto == PROTO_UDP && ru->nports == 1 && ru->ports[0].lo == 123 &&
			    ru->ports[0].hi == 123 && ru->ndests == 0,
			"allow udp/123: one port, any destination");
		T_CHECK(ru->loc.line == 9 && ru->loc.col == 5 && ru->proto_loc.col == 11,
			"rule loc is the statement, proto_loc the spec");
		ru = &j->rules[1];
		T_CHECK(ru->proto == PROTO_TCP && ru->nports == 2 && ru->ports[0].lo == 80 &&
			    ru->ports[1].lo == 443 && ru->ports[1].hi == 443,
			"tcp/80,443 is one rule with two ports");
		T_CHECK(ru->ports[1].loc.line == 10 && ru->ports[1].loc.col == 18, "port 443 loc");
		T_CHECK(ru->ndests == 2 && ru->dests[0].kind == DEST_PREFIX &&
			    pfx_is(&ru->dests[0].pfx, "192.0.2.0/24") &&
			    pfx_is(&ru->dests[1].pfx, "2001:db8::/32") &&
			    ru->dests[1].pfx.family == AF_INET6,
			"to 192.0.2.0/24, 2001:db8::/32");
		T_CHECK(ru->dests[1].loc.col == 39, "dest loc");
		T_CHECK(j->rules[2].proto == PROTO_UDP && j->rules[3].proto == PROTO_TCP,
			"udp/53,tcp/53: udp then tcp");
		T_CHECK(j->rules[2].loc.line == 11 && j->rules[3].loc.line == 11 &&
			    j->rules[2].loc.col == j->rules[3].loc.col,
			"shorthand rules share the statement loc");
		T_CHECK(j->rules[2].proto_loc.col == 11 && j->rules[3].proto_loc.col == 18,
			"shorthand rules have their own proto_loc");
		T_CHECK(j->rules[2].ndests == 1 && j->rules[2].dests[0].kind == DEST_HOST &&
			    j->rules[3].ndests == 1 && j->rules[3].dests[0].kind == DEST_HOST,
			"the to list applies to every rule of the statement");
		T_CHECK(j->rules[2].dests != j->rules[3].dests, "each rule owns its dests");
	}

	j = &r.p.jails[1];
	T_STREQ(j->name, "foobar", "jail 1 name");
	T_CHECK(j->backend == BACKEND_NETNS, "backend netns");
	T_CHECK(j->has_v4 && pfx_is(&j->v4, "10.97.10.0/24") && j->v4_loc.line == 16,
		"ipv4 10.97.10.0/24");
	T_CHECK(j->has_v6 && pfx_is(&j->v6, "fd00:97::3:0/112") && j->v6.len == 112,
		"ipv6 fd00:97::3:0/112");
	T_CHECK(j->ndns == 1 && pfx_is(&j->dns[0], "10.97.10.1") && j->dns_loc.line == 19,
		"dns 10.97.10.1");
	T_CHECK(j->nuses == 1 && !strcmp(j->uses[0].name, "ntp") && j->uses[0].loc.line == 20 &&
		    j->uses[0].loc.col == 9,
		"use ntp");
	T_CHECK(j->nrules == 1 && j->rules[0].proto == PROTO_TCP, "allow tcp/443");
	T_CHECK(j->npubs == 1 && j->pubs[0].proto == PROTO_TCP && j->pubs[0].ext_lo == 8080 &&
		    j->pubs[0].ext_hi == 8080 && j->pubs[0].int_lo == 80 &&
		    j->pubs[0].loc.line == 22,
		"publish tcp/8080:80");

	T_STREQ(r.p.tmpls[0].name, "ntp", "template ntp");
	T_CHECK(!r.p.tmpls[0].from_file && r.p.tmpls[0].nrules == 1 &&
		    r.p.tmpls[0].rules[0].proto == PROTO_UDP,
		"template ntp: allow udp/123, from the policy");
out:
	res_free(&r);
}

static void test_accept_misc(void)
{
	struct res r;
	struct jail *j;

	parse(&r, "settings { wan eth0, wlan0.5, br-x_1; table jailfw_test; fwmark 0x10 }\n"
		  "template ntp { allow udp/123 }\n"
		  "jail a-1_b { backend netns; ipv4 10.0.0.0/30; ifname ab; log-drops no\n"
		  "  allow icmp; allow icmpv6, tcp to 192.0.2.1, ::1\n"
		  "  allow tcp/1024-65535,22 to 0.0.0.0/0\n"
		  "  publish udp/5000-5010:6000; publish tcp/443\n"
		  "  use ntp, dns-1; use web\n"
		  "  dns 192.0.2.53, 2001:db8::53\n"
		  "}\n"
		  "jail n { user 1099 }\n"
		  "settings2 {}\n");
	T_STREQ(first_line(r.out),
		"p.conf:11:1: error: unknown statement \"settings2\" at top level (did you mean "
		"\"settings\"?)",
		"misc: only the last line is wrong");
	T_CHECK(r.d.errors == 1, "misc: exactly one error");
	T_CHECK(r.p.settings.nwan == 3 && !strcmp(r.p.settings.wan[2], "br-x_1"), "wan list");
	T_STREQ(r.p.settings.table, "jailfw_test", "table name");
	T_CHECK(r.p.settings.fwmark == 0x10 && r.p.settings.fwmark_loc.col == 65, "fwmark 0x10");
	T_CHECK(r.p.njails == 2, "misc: two jails");
	if (r.p.njails == 2) {
		j = &r.p.jails[0];
		T_CHECK(j->has_v4 && j->v4.len == 30 && !j->has_v6, "ipv4 /30");
		T_STREQ(j->ifname, "ab", "ifname");
		T_CHECK(j->log_drops == TRI_NO, "jail log-drops no");
		T_CHECK(j->nrules == 4, "misc: four rules");
		if (j->nrules == 4) {
			T_CHECK(j->rules[0].proto == PROTO_ICMP && j->rules[0].nports == 0,
				"allow icmp: whole protocol");
			T_CHECK(j->rules[1].proto == PROTO_ICMPV6 &&
				    j->rules[2].proto == PROTO_TCP && j->rules[2].nports == 0,
				"icmpv6, tcp: two whole-protocol rules");
			T_CHECK(j->rules[2].ndests == 2 && j->rules[2].dests[0].pfx.len == 32 &&
				    j->rules[2].dests[1].pfx.len == 128,
				"plain addresses are full-length prefixes");
			T_CHECK(j->rules[3].nports == 2 && j->rules[3].ports[0].lo == 1024 &&
				    j->rules[3].ports[0].hi == 65535 &&
				    j->rules[3].ports[1].lo == 22,
				"range and port");
			T_CHECK(j->rules[3].dests[0].pfx.len == 0, "0.0.0.0/0 accepted");
		}
		T_CHECK(j->npubs == 2 && j->pubs[0].proto == PROTO_UDP &&
			    j->pubs[0].ext_lo == 5000 && j->pubs[0].ext_hi == 5010 &&
			    j->pubs[0].int_lo == 6000,
			"publish udp/5000-5010:6000");
		T_CHECK(j->npubs == 2 && j->pubs[1].ext_lo == 443 && j->pubs[1].int_lo == 443,
			"publish without :INT maps to the same port");
		T_CHECK(j->nuses == 3 && !strcmp(j->uses[1].name, "dns-1") &&
			    !strcmp(j->uses[2].name, "web"),
			"use lists and repeated use");
		T_CHECK(j->ndns == 2 && j->dns[1].family == AF_INET6, "dns with two servers");
		T_STREQ(r.p.jails[1].user, "1099", "numeric user kept as written");
	}
	res_free(&r);

	/* CRLF, comments, ";" and "}" on the statement's line. */
	parse(&r, "# policy\r\njail x { backend uid ; user www-data } # end\r\n"
		  "template t { allow udp/1 }");
	T_CHECK(r.ok && r.p.njails == 1 && r.p.ntmpls == 1, "CRLF and one-line blocks");
	T_CHECK(r.p.njails == 1 && r.p.jails[0].backend == BACKEND_UID &&
		    !strcmp(r.p.jails[0].user, "www-data"),
		"one-line block fields");
	res_free(&r);

	parse(&r, "");
	T_CHECK(r.ok && r.p.njails == 0, "empty text parses (check refuses it)");
	res_free(&r);
}

struct err_case {
	const char *src;
	const char *want; /* the first diagnostic line */
	unsigned int errors;
};

static const struct err_case err_cases[] = {
    {"jail a {\n\talow tcp/80\n}\n",
     "p.conf:2:2: error: unknown statement \"alow\" in jail block (did you mean \"allow\"?)", 1},
    {"jial a {\n allow tcp/80\n}\n",
     "p.conf:1:1: error: unknown statement \"jial\" at top level (did you mean \"jail\"?)", 1},
    {"frobnicate\n",
     "p.conf:1:1: error: unknown statement \"frobnicate\" at top level (expected settings, "
     "jail or template)",
     1},
    {"settings { wann eth0 }\n",
     "p.conf:1:12: error: unknown statement \"wann\" in settings block (did you mean \"wan\"?)", 1},
    {"jail a { wan eth0 }\n",
     "p.conf:1:10: error: \"wan\" is not allowed in jail block (it belongs in the settings "
     "block)",
     1},
    {"template t { backend uid }\n",
     "p.conf:1:14: error: \"backend\" is not allowed in template block (templates hold only "
     "allow and publish statements)",
     1},
    {"template t { use ntp }\n",
     "p.conf:1:14: error: \"use\" is not allowed in template block (templates hold only "
     "allow and publish statements)",
     1},
    {"template t { publsh tcp/80 }\n",
     "p.conf:1:14: error: unknown statement \"publsh\" in template block (did you mean "
     "\"publish\"?)",
     1},
    {"template t { publish tcp/0 }\n", "p.conf:1:26: error: port 0 is not allowed", 1},
    {"template t { publish icmp/8 }\n", "p.conf:1:22: error: publish takes tcp or udp, not icmp",
     1},
    {"template t { publish tcp/80-90:65530 }\n",
     "p.conf:1:22: error: port range 80-90 mapped to 65530 runs past port 65535", 1},
    {"allow tcp/80\n",
     "p.conf:1:1: error: \"allow\" is not allowed at top level (it belongs in a jail or "
     "template block)",
     1},
    {"jail a { allow tpc/80 }\n",
     "p.conf:1:16: error: unknown protocol \"tpc\" (expected tcp, udp, icmp, icmpv6)", 1},
    {"jail a { allow sctp }\n",
     "p.conf:1:16: error: unknown protocol \"sctp\" (expected tcp, udp, icmp, icmpv6)", 1},
    {"jail a { allow tcp/0 }\n", "p.conf:1:20: error: port 0 is not allowed", 1},
    {"jail a { allow tcp/70000 }\n", "p.conf:1:20: error: port 70000 is out of range (1-65535)", 1},
    {"jail a { allow tcp/99999999999999999999999 }\n",
     "p.conf:1:20: error: port 99999999999999999999999 is out of range (1-65535)", 1},
    {"jail a { allow tcp/080 }\n", "p.conf:1:20: error: non-canonical number \"080\"", 1},
    {"jail a { allow tcp/443-80 }\n", "p.conf:1:20: error: reversed port range 443-80", 1},
    {"jail a { allow tcp/+80 }\n",
     "p.conf:1:20: error: invalid port \"+80\" (expected a number 1-65535)", 1},
    {"jail a { allow tcp/http }\n",
     "p.conf:1:20: error: invalid port \"http\" (expected a number 1-65535)", 1},
    {"jail a { allow tcp/80- }\n", "p.conf:1:20: error: invalid port range \"80-\" (expected N-M)",
     1},
    {"jail a { allow tcp/ }\n", "p.conf:1:19: error: missing port after \"tcp/\"", 1},
    {"jail a { allow /80 }\n", "p.conf:1:16: error: missing protocol before \"/\"", 1},
    {"jail a { allow icmp/8 }\n", "p.conf:1:21: error: icmp takes no port", 1},
    {"jail a { allow icmpv6, 8 }\n", "p.conf:1:24: error: icmpv6 takes no port", 1},
    {"jail a { allow 80 }\n",
     "p.conf:1:16: error: port \"80\" has no protocol (write tcp/80 or udp/80)", 1},
    {"jail a { allow tcp, 80 }\n",
     "p.conf:1:21: error: port \"80\" follows \"tcp\", which has no port list (write tcp/80)", 1},
    {"jail a { allow tcp/0,70000 }\n", "p.conf:1:20: error: port 0 is not allowed", 2},
    {"jail a { allow }\n",
     "p.conf:1:16: error: missing value after \"allow\" (expected tcp, udp, icmp or icmpv6)", 1},
    {"jail a { allow to host }\n", "p.conf:1:16: error: missing protocol before \"to\"", 1},
    {"jail a { allow tcp/80 to }\n",
     "p.conf:1:26: error: missing value after \"to\" (expected host, an address or a prefix)", 1},
    {"jail a { allow tcp/80, }\n", "p.conf:1:22: error: missing value after \",\"", 1},
    {"jail a { allow tcp/80,,443 }\n", "p.conf:1:23: error: unexpected \",\" after \",\"", 1},
    {"jail a { allow tcp/80 192.0.2.1 }\n",
     "p.conf:1:23: error: unexpected \"192.0.2.1\" at end of \"allow\" statement (missing "
     "\"to\"?)",
     1},
    {"jail a { allow tcp/80 udp/53 }\n",
     "p.conf:1:23: error: unexpected \"udp/53\" at end of \"allow\" statement", 1},
    {"jail a { allow tcp/80 to 192.0.2.256 }\n",
     "p.conf:1:26: error: invalid IPv4 address \"192.0.2.256\"", 1},
    {"jail a { allow tcp/80 to 10.1 }\n", "p.conf:1:26: error: invalid IPv4 address \"10.1\"", 1},
    {"jail a { allow tcp/80 to 010.0.0.1 }\n",
     "p.conf:1:26: error: invalid IPv4 address \"010.0.0.1\"", 1},
    {"jail a { allow tcp/80 to fe80::1%eth0 }\n",
     "p.conf:1:26: error: invalid IPv6 address \"fe80::1%eth0\"", 1},
    {"jail a { allow tcp/80 to example.com }\n",
     "p.conf:1:26: error: invalid IPv4 address \"example.com\"", 1},
    {"jail a { allow tcp/80 to 192.0.2.0/33 }\n",
     "p.conf:1:36: error: prefix length 33 is out of range for IPv4 (0-32)", 1},
    {"jail a { allow tcp/80 to 2001:db8::/129 }\n",
     "p.conf:1:37: error: prefix length 129 is out of range for IPv6 (0-128)", 1},
    {"jail a { allow tcp/80 to 192.0.2.0/024 }\n",
     "p.conf:1:36: error: non-canonical number \"024\"", 1},
    {"jail a { allow tcp/80 to 192.0.2.0/ }\n",
     "p.conf:1:35: error: invalid prefix length \"\" (expected 0-32)", 1},
    {"jail a { allow tcp/80 to 192.0.2.0/x }\n",
     "p.conf:1:35: error: invalid prefix length \"x\" (expected 0-32)", 1},
    {"jail a { publish icmp/80 }\n", "p.conf:1:18: error: publish takes tcp or udp, not icmp", 1},
    {"jail a { publish tcp }\n",
     "p.conf:1:18: error: missing port in \"tcp\" (expected tcp/PORT[:PORT])", 1},
    {"jail a { publish tcp/80: }\n", "p.conf:1:24: error: missing port after \":\"", 1},
    {"jail a { publish tcp/80:0 }\n", "p.conf:1:25: error: port 0 is not allowed", 1},
    {"jail a { publish tcp/8080:80-81 }\n",
     "p.conf:1:27: error: the jail's port must be a single port (a range maps 1:1 from its "
     "first port)",
     1},
    {"jail a { publish tcp/8000-8100:65500 }\n",
     "p.conf:1:18: error: port range 8000-8100 mapped to 65500 runs past port 65535", 1},
    {"jail a { publish tcp/80, tcp/81 }\n",
     "p.conf:1:24: error: unexpected \",\" at end of \"publish\" statement", 1},
    {"jail a { backend uidd }\n",
     "p.conf:1:18: error: unknown backend \"uidd\" (expected uid or netns)", 1},
    {"jail a { backend }\n",
     "p.conf:1:18: error: missing value after \"backend\" (expected uid or netns)", 1},
    {"jail a { backend uid netns }\n",
     "p.conf:1:22: error: unexpected \"netns\" at end of \"backend\" statement", 1},
    {"jail a {\n backend uid\n backend netns\n}\n",
     "p.conf:3:2: error: duplicate \"backend\" statement (first at p.conf:2)", 1},
    {"jail a {\n user x\n ipv4 10.0.0.0/24\n user y\n}\n",
     "p.conf:4:2: error: duplicate \"user\" statement (first at p.conf:2)", 1},
    {"jail a {\n log-drops yes\n log-drops no\n}\n",
     "p.conf:3:2: error: duplicate \"log-drops\" statement (first at p.conf:2)", 1},
    {"jail a {\n dns 10.0.0.1\n dns 10.0.0.2\n}\n",
     "p.conf:3:2: error: duplicate \"dns\" statement (first at p.conf:2)", 1},
    {"jail a {\n ifname x\n ifname y\n}\n",
     "p.conf:3:2: error: duplicate \"ifname\" statement (first at p.conf:2)", 1},
    {"jail a {\n ipv6 fd00::/64\n ipv6 fd01::/64\n}\n",
     "p.conf:3:2: error: duplicate \"ipv6\" statement (first at p.conf:2)", 1},
    {"settings {\n wan eth0\n}\nsettings {\n wan eth1\n}\n",
     "p.conf:4:1: error: duplicate \"settings\" block (first at p.conf:1)", 1},
    {"settings {\n table a\n table b\n}\n",
     "p.conf:3:2: error: duplicate \"table\" statement (first at p.conf:2)", 1},
    {"settings {\n fwmark 1\n fwmark 2\n}\n",
     "p.conf:3:2: error: duplicate \"fwmark\" statement (first at p.conf:2)", 1},
    {"settings {\n wan a\n log-drops no\n wan b\n}\n",
     "p.conf:4:2: error: duplicate \"wan\" statement (first at p.conf:2)", 1},
    {"settings {\n log-drops no\n log-drops no\n}\n",
     "p.conf:3:2: error: duplicate \"log-drops\" statement (first at p.conf:2)", 1},
    {"jail a { user r@@t }\n",
     "p.conf:1:15: error: invalid user \"r@@t\" (expected a name of letters, digits, _ . - "
     "starting with a letter or _, or a number)",
     1},
    {"jail a { user 007 }\n", "p.conf:1:15: error: non-canonical number \"007\"", 1},
    {"jail a { user 4294967295 }\n",
     "p.conf:1:15: error: uid 4294967295 is out of range (0-4294967294)", 1},
    {"jail a { ipv4 fd00::/64 }\n",
     "p.conf:1:15: error: ipv4 needs an IPv4 prefix; \"fd00::/64\" is IPv6", 1},
    {"jail a { ipv6 10.0.0.0/24 }\n",
     "p.conf:1:15: error: ipv6 needs an IPv6 prefix; \"10.0.0.0/24\" is IPv4", 1},
    {"jail a { ipv4 10.97.10.5/24 }\n",
     "p.conf:1:15: error: 10.97.10.5/24 has host bits set (did you mean 10.97.10.0/24?)", 1},
    {"jail a { ipv6 fd00::1/64 }\n",
     "p.conf:1:15: error: fd00::1/64 has host bits set (did you mean fd00::/64?)", 1},
    {"jail a { ipv4 10.97.10.0 }\n",
     "p.conf:1:15: error: missing prefix length in \"10.97.10.0\" (expected ADDRESS/LEN)", 1},
    {"jail a { dns 10.0.0.1/24 }\n",
     "p.conf:1:14: error: dns takes plain addresses, not prefixes (\"10.0.0.1/24\")", 1},
    {"jail a { dns 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4 }\n",
     "p.conf:1:44: error: too many dns servers (at most 3, as resolv.conf uses)", 1},
    {"jail a { log-drops maybe }\n",
     "p.conf:1:20: error: invalid value \"maybe\" for \"log-drops\" (expected yes or no)", 1},
    {"jail Foo { }\n",
     "p.conf:1:6: error: invalid jail name \"Foo\" (expected [a-z0-9][a-z0-9_-]*, at most 64 "
     "characters)",
     1},
    {"jail -a { }\n",
     "p.conf:1:6: error: invalid jail name \"-a\" (expected [a-z0-9][a-z0-9_-]*, at most 64 "
     "characters)",
     1},
    {"jail aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa { }\n",
     "p.conf:1:6: error: jail name "
     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is too long (65 "
     "characters, at most 64)",
     1},
    {"jail a { ifname x.y }\n",
     "p.conf:1:17: error: invalid interface prefix \"x.y\" (expected [a-z0-9][a-z0-9_-]*, at "
     "most 64 characters)",
     1},
    {"jail a { use NTP }\n",
     "p.conf:1:14: error: invalid template name \"NTP\" (expected [a-z0-9][a-z0-9_-]*, at "
     "most 64 characters)",
     1},
    {"template t_ { allow tcp }\ntemplate T { allow tcp }\n",
     "p.conf:2:10: error: invalid template name \"T\" (expected [a-z0-9][a-z0-9_-]*, at most "
     "64 characters)",
     1},
    {"settings { wan eth0/1 }\n",
     "p.conf:1:16: error: invalid interface name \"eth0/1\" (1-15 characters: letters, "
     "digits, _ . -)",
     1},
    {"settings { wan abcdefghijklmnop }\n",
     "p.conf:1:16: error: invalid interface name \"abcdefghijklmnop\" (1-15 characters: "
     "letters, digits, _ . -)",
     1},
    {"settings { wan .. }\n",
     "p.conf:1:16: error: invalid interface name \"..\" (1-15 characters: letters, digits, _ "
     ". -)",
     1},
    {"settings { table Jail }\n",
     "p.conf:1:18: error: invalid table name \"Jail\" (expected [a-z][a-z0-9_]*, at most 32 "
     "characters)",
     1},
    {"settings { fwmark 0 }\n",
     "p.conf:1:19: error: fwmark 0 is not allowed (it would mark nothing)", 1},
    {"settings { fwmark 0x100000000 }\n",
     "p.conf:1:19: error: fwmark 0x100000000 is out of range (32 bits)", 1},
    {"settings { fwmark 4294967296 }\n",
     "p.conf:1:19: error: fwmark 4294967296 is out of range (32 bits)", 1},
    {"settings { fwmark 0xfg }\n",
     "p.conf:1:19: error: invalid fwmark \"0xfg\" (expected a decimal or 0x hexadecimal "
     "number)",
     1},
    {"settings { fwmark 012 }\n", "p.conf:1:19: error: non-canonical number \"012\"", 1},
    {"jail\n", "p.conf:1:5: error: missing name after \"jail\"", 2},
    {"jail { backend uid }\n", "p.conf:1:6: error: missing name after \"jail\"", 1},
    {"template {\n allow tcp\n}\n", "p.conf:1:10: error: missing name after \"template\"", 1},
    {"jail a\n{\n backend uid\n}\n",
     "p.conf:2:1: error: \"{\" must be on the same line as jail \"a\"", 1},
    {"jail a\nbackend uid\n", "p.conf:1:7: error: expected \"{\" after jail \"a\"", 2},
    {"jail a b {\n backend uid\n}\n",
     "p.conf:1:8: error: unexpected \"b\" after jail \"a\" (expected \"{\")", 1},
    {"settings wan {\n}\n",
     "p.conf:1:10: error: unexpected \"wan\" after \"settings\" (expected \"{\")", 1},
    {"jail a {\n backend uid\n",
     "p.conf:1:8: error: jail \"a\" is not closed (missing \"}\" "
     "at end of file)",
     1},
    {"jail a {\n backend uid\n}\n}\n", "p.conf:4:1: error: unexpected \"}\" (no block is open)", 1},
    {"jail a {\n backend uid\njail b {\n backend uid\n}\n",
     "p.conf:3:1: error: \"jail\" inside jail \"a\" (missing \"}\"?)", 1},
    {"jail a { allow tcp { } }\n",
     "p.conf:1:20: error: unexpected \"{\" at end of \"allow\" statement", 1},
    {"jail a { , }\n", "p.conf:1:10: error: unexpected \",\"", 1},
    {"{ }\n", "p.conf:1:1: error: unexpected \"{\"", 1},
    {"jail a { user \"www\" }\n",
     "p.conf:1:15: error: quotes are not part of the language (write the word without them)", 1},
    {"jail a { \xd0\xb0llow tcp/80 }\n",
     "p.conf:1:10: error: non-ASCII byte 0xd0 (only ASCII is allowed)", 1},
};

static void test_errors(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(err_cases); i++) {
		const struct err_case *c = &err_cases[i];
		char what[128];
		struct res r;

		parse(&r, c->src);
		snprintf(what, sizeof(what), "error case %zu: %.60s", i, c->src);
		for (char *p = what; *p; p++)
			if (*p == '\n')
				*p = ' ';
		T_STREQ(first_line(r.out), c->want, what);
		T_CHECK(!r.ok && r.d.errors == c->errors, "... and its error count");
		if (r.d.errors != c->errors)
			printf("# got %u errors:\n%s", r.d.errors, r.out);
		res_free(&r);
	}
}

static void test_full_output(void)
{
	struct res r;

	/* The quoted line and the caret under the whole token. */
	parse(&r, "jail a {\n\tallow tpc/80\n}\n");
	T_STREQ(r.out,
		"p.conf:2:8: error: unknown protocol \"tpc\" (expected tcp, udp, icmp, icmpv6)\n"
		"    2 |  allow tpc/80\n"
		"      |        ^~~\n",
		"full diagnostic with quoted line and caret");
	res_free(&r);

	/* Host bits in a "to" prefix: a warning, and the prefix is masked. */
	parse(&r, "jail a { allow tcp/80 to 192.0.2.1/24, 2001:db8::1/32 }\n");
	T_CHECK(r.ok && r.d.warnings == 2, "host bits in to: warnings, parse ok");
	T_STREQ(first_line(r.out),
		"p.conf:1:26: warning: 192.0.2.1/24 has host bits set; using 192.0.2.0/24",
		"host bits warning text");
	T_CHECK(strstr(r.out, "warning: 2001:db8::1/32 has host bits set; using 2001:db8::/32") !=
		    NULL,
		"v6 host bits warning text");
	T_CHECK(r.p.njails == 1 && r.p.jails[0].nrules == 1 &&
		    pfx_is(&r.p.jails[0].rules[0].dests[0].pfx, "192.0.2.0/24") &&
		    pfx_is(&r.p.jails[0].rules[0].dests[1].pfx, "2001:db8::/32"),
		"host bits masked off in the model");
	res_free(&r);
}

static void test_recovery(void)
{
	struct res r;

	/* One run reports every error; good statements around them survive. */
	parse(&r, "jail a {\n"
		  "  backend uidd\n"
		  "  alow tcp/80\n"
		  "  allow tcp/80\n"
		  "  allow udp/0; allow udp/53\n"
		  "  user 0x1\n"
		  "}\n"
		  "jail b { backend netns; ipv4 10.0.0.1/24 }\n"
		  "jail c { backend uid }\n");
	T_CHECK(r.d.errors == 5, "recovery: five errors in one run");
	T_CHECK(strstr(r.out, "p.conf:2:11: error: unknown backend") != NULL, "error 1 (line 2)");
	T_CHECK(strstr(r.out, "p.conf:3:3: error: unknown statement \"alow\"") != NULL,
		"error 2 (line 3)");
	T_CHECK(strstr(r.out, "p.conf:5:13: error: port 0") != NULL, "error 3 (line 5)");
	T_CHECK(strstr(r.out, "p.conf:6:8: error: invalid user \"0x1\"") != NULL,
		"error 4 (line 6)");
	T_CHECK(strstr(r.out, "p.conf:8:30: error: 10.0.0.1/24 has host bits set") != NULL,
		"error 5 (line 8)");
	T_CHECK(r.p.njails == 3, "recovery: all three jails are in the model");
	if (r.p.njails == 3) {
		T_CHECK(r.p.jails[0].nrules == 2 && r.p.jails[0].rules[1].ports[0].lo == 53,
			"good rules of jail a kept, bad one dropped");
		T_CHECK(r.p.jails[0].backend == BACKEND_NONE, "bad backend not stored");
		T_CHECK(r.p.jails[1].backend == BACKEND_NETNS && !r.p.jails[1].has_v4,
			"jail b: backend kept, bad ipv4 dropped");
		T_CHECK(r.p.jails[2].backend == BACKEND_UID, "jail c after the errors parsed");
	}
	res_free(&r);

	/* A forgotten "}" closes the block: the next jail still parses. */
	parse(&r, "jail a {\n backend uid\n\njail b {\n backend netns\n}\n");
	T_CHECK(r.d.errors == 1 && r.p.njails == 2 && r.p.jails[1].backend == BACKEND_NETNS,
		"missing } before the next jail: one error, both jails");
	res_free(&r);

	/* diag caps printing but the parser keeps counting. */
	{
		struct strbuf sb;
		int i;

		sb_init(&sb);
		sb_puts(&sb, "jail a {\n");
		for (i = 0; i < 30; i++)
			sb_puts(&sb, "allow tcp/0\n");
		sb_puts(&sb, "}\n");
		res_begin(&r);
		r.d.max_errors = DIAG_MAX_ERRORS;
		r.ok = policy_parse_buffer(&r.p, &r.d, "p.conf", sb.s, sb.len, false);
		res_end(&r);
		T_CHECK(!r.ok && r.d.errors == 30, "30 errors counted");
		T_CHECK(strstr(r.out, "jailfw: too many errors, stopping here\n") != NULL,
			"printing stops at DIAG_MAX_ERRORS");
		res_free(&r);
		sb_free(&sb);
	}
}

static void test_template_only(void)
{
	struct res r;

	parse_mode(&r, "template ntp { allow udp/123 }\njail x { backend uid }\nsettings {}\n",
		   true);
	T_CHECK(!r.ok && r.d.errors == 2, "template file: jail and settings refused");
	T_STREQ(first_line(r.out),
		"p.conf:2:1: error: \"jail\" is not allowed in a template file (only template "
		"blocks)",
		"template file: message");
	T_CHECK(r.p.ntmpls == 1 && r.p.tmpls[0].from_file && r.p.njails == 0,
		"template file: template kept and marked from_file, no jail");
	res_free(&r);

	parse_mode(&r, "templat ntp { allow udp/123 }\n", true);
	T_STREQ(first_line(r.out),
		"p.conf:1:1: error: unknown statement \"templat\" at top level (did you mean "
		"\"template\"?)",
		"template file: did you mean template");
	res_free(&r);
}

static void test_keywords(void)
{
	size_t i;
	bool allow = false, publish = false, settings = false;

	for (i = 0; i < policy_nkeywords; i++) {
		allow = allow || !strcmp(policy_keywords[i], "allow");
		publish = publish || !strcmp(policy_keywords[i], "publish");
		settings = settings || !strcmp(policy_keywords[i], "settings");
	}
	T_CHECK(allow && publish && settings && policy_nkeywords >= 16, "policy_keywords");
}

/* ---- files ---- */

static char tmpdir[] = "/tmp/jailfw-test-parse-XXXXXX";

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char *path = tmp_path(name);
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, mode);
	free(path);
}

static void parse_file(struct res *r, const char *name)
{
	char *path = tmp_path(name);

	res_begin(r);
	r->ok = policy_parse_file(&r->p, &r->d, path);
	res_end(r);
	free(path);
}

static void test_files(void)
{
	struct res r;
	char *path, *want;
	int fd;

	write_file("good.conf", "jail a {\n backend uid\n allow tcp/8O\n}\n", 0644);
	parse_file(&r, "good.conf");
	path = tmp_path("good.conf");
	want = xasprintf("%s:3:12: error: invalid port \"8O\" (expected a number 1-65535)\n"
			 "    3 |  allow tcp/8O\n"
			 "      |            ^~\n",
			 path);
	T_STREQ(r.out, want, "file: errors quote the file's line");
	T_CHECK(r.p.njails == 1 && r.p.jails[0].loc.file == r.p.files[0], "loc.file is stable");
	free(want);
	free(path);
	res_free(&r);

	write_file("ow.conf", "jail a { backend uid }\n", 0646);
	parse_file(&r, "ow.conf");
	path = tmp_path("ow.conf");
	want = xasprintf("%s: error: is writable by other users (chmod o-w)\n", path);
	T_STREQ(r.out, want, "world-writable file refused");
	T_CHECK(!r.ok && r.p.njails == 0, "world-writable: nothing parsed");
	free(want);
	free(path);
	res_free(&r);

	write_file("gw.conf", "jail a { backend uid }\n", 0664);
	parse_file(&r, "gw.conf");
	path = tmp_path("gw.conf");
	want = xasprintf("%s: error: is writable by its group (chmod g-w)\n", path);
	T_STREQ(r.out, want, "group-writable file refused");
	T_CHECK(!r.ok && r.p.njails == 0, "group-writable: nothing parsed");
	free(want);
	free(path);
	res_free(&r);

	/* Another user's file, and a directory others may write (sshd's StrictModes). */
	if (geteuid() == 0) {
		write_file("other.conf", "jail a { backend uid }\n", 0644);
		path = tmp_path("other.conf");
		T_CHECK(chown(path, 4242, 4242) == 0, "a file of uid 4242");
		parse_file(&r, "other.conf");
		want =
		    xasprintf("%s: error: is owned by uid 4242, not by root or by uid 0, who runs "
			      "jailfw (chown root)\n",
			      path);
		T_STREQ(r.out, want, "another user's file refused");
		T_CHECK(!r.ok && r.p.njails == 0, "another user's file: nothing parsed");
		free(want);
		free(path);
		res_free(&r);
	}
	path = tmp_path("gwdir");
	T_CHECK(mkdir(path, 0775) == 0 && chmod(path, 0775) == 0, "a group-writable directory");
	free(path);
	write_file("gwdir/in.conf", "jail a { backend uid }\n", 0644);
	parse_file(&r, "gwdir/in.conf");
	path = tmp_path("gwdir");
	want = xasprintf("error: is in directory \"%s\", writable by its group (chmod go-w): they "
			 "could replace the file\n",
			 path);
	T_CHECK(!r.ok && strstr(r.out, want), "a file in a group-writable directory refused");
	free(want);
	free(path);
	res_free(&r);

	path = tmp_path("fifo.conf");
	mkfifo(path, 0644);
	parse_file(&r, "fifo.conf");
	want = xasprintf("%s: error: is not a regular file\n", path);
	T_STREQ(r.out, want, "a FIFO is refused without blocking");
	free(want);
	free(path);
	res_free(&r);

	res_begin(&r);
	r.ok = policy_parse_file(&r.p, &r.d, "/dev/zero");
	res_end(&r);
	T_STREQ(r.out, "/dev/zero: error: is not a regular file\n", "/dev/zero refused");
	res_free(&r);

	res_begin(&r);
	r.ok = policy_parse_file(&r.p, &r.d, tmpdir);
	res_end(&r);
	T_CHECK(!r.ok && strstr(r.out, "error: is not a regular file\n"), "a directory refused");
	res_free(&r);

	path = tmp_path("big.conf");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		T_CHECK(ftruncate(fd, POLICY_MAX_SIZE + 1) == 0, "make a sparse big file");
		close(fd);
	}
	parse_file(&r, "big.conf");
	want = xasprintf("%s: error: is too large (4194305 bytes, at most 4194304)\n", path);
	T_STREQ(r.out, want, "a file over POLICY_MAX_SIZE is refused");
	free(want);
	free(path);
	res_free(&r);

	res_begin(&r);
	r.ok = policy_parse_file(&r.p, &r.d, "/nonexistent/policy.conf");
	res_end(&r);
	T_STREQ(r.out, "/nonexistent/policy.conf: error: cannot open: No such file or directory\n",
		"missing file");
	res_free(&r);

	/* /proc reports size 0: it is still read (and here rejected by the grammar). */
	res_begin(&r);
	r.ok = policy_parse_file(&r.p, &r.d, "/proc/self/comm");
	res_end(&r);
	T_CHECK(!r.ok && strstr(r.out, "/proc/self/comm:1:1: error: unknown statement") != NULL,
		"a size-0 /proc file is read anyway");
	res_free(&r);
}

/* Template blocks hold publish statements too, located in their file. */
static void test_template_publish(void)
{
	const struct tmpl *t;
	struct res r;

	parse(&r, "template web {\n\tallow tcp/80\n\tpublish tcp/80\n"
		  "\tpublish udp/8000-8010:9000; publish tcp/443\n}\n");
	T_CHECK(r.ok && r.d.errors == 0 && r.p.ntmpls == 1, "template with publish parses");
	if (r.p.ntmpls != 1)
		goto out;
	t = &r.p.tmpls[0];
	T_CHECK(t->nrules == 1 && t->npubs == 3, "template web: one allow, three publishes");
	if (t->npubs != 3)
		goto out;
	T_CHECK(t->pubs[0].proto == PROTO_TCP && t->pubs[0].ext_lo == 80 &&
		    t->pubs[0].ext_hi == 80 && t->pubs[0].int_lo == 80 &&
		    t->pubs[0].loc.line == 3 && t->pubs[0].loc.col == 2 &&
		    !strcmp(t->pubs[0].loc.file, "p.conf"),
		"publish tcp/80 in a template: ports, loc at the keyword");
	T_CHECK(t->pubs[1].proto == PROTO_UDP && t->pubs[1].ext_lo == 8000 &&
		    t->pubs[1].ext_hi == 8010 && t->pubs[1].int_lo == 9000 &&
		    t->pubs[1].loc.line == 4,
		"publish udp/8000-8010:9000 in a template");
	T_CHECK(t->pubs[2].ext_lo == 443 && t->pubs[2].loc.line == 4 && t->pubs[2].loc.col == 30,
		"publish after \";\" in a template");
	T_CHECK(!t->pubs[0].from_template && !t->pubs[0].template,
		"the template's own publishes are not copies");
out:
	res_free(&r);

	/* A template file may publish; a bad publish keeps the template's other statements. */
	parse_mode(&r, "template web {\n\tpublish tcp/80:0\n\tpublish tcp/443\n}\n", true);
	T_STREQ(first_line(r.out), "p.conf:2:17: error: port 0 is not allowed",
		"bad publish in a template file: located");
	T_CHECK(!r.ok && r.p.ntmpls == 1 && r.p.tmpls[0].npubs == 1 &&
		    r.p.tmpls[0].pubs[0].ext_lo == 443,
		"bad publish dropped, the good one kept");
	res_free(&r);
}

static void test_templates(void)
{
	const char *dirs[2];
	char *d1 = tmp_path("t1"), *d2 = tmp_path("t2"), *want, *path;
	struct res r;

	mkdir(d1, 0755);
	mkdir(d2, 0755);
	write_file("t1/ntp.conf", "template ntp {\n\tallow udp/123\n}\n", 0644);
	write_file("t2/ntp.conf", "template ntp {\n\tallow udp/1,2,3\n}\n", 0644);
	write_file("t2/web.conf", "template web { allow tcp/80,443 }\n", 0644);
	write_file("t2/dns.conf", "template other { allow udp/53 }\n", 0644);
	write_file("t1/bad.conf", "template bad { allow tcp/0 }\n", 0644);
	dirs[0] = d1;
	dirs[1] = d2;

	parse(&r, "jail a { use ntp, web, local, missing }\njail b { use ntp }\n"
		  "template local { allow icmp }\n");
	T_CHECK(r.ok, "uses parse");
	T_CHECK(policy_load_templates(&r.p, &r.d, dirs, 2), "templates load");
	T_CHECK(r.p.ntmpls == 3, "local + ntp + web (missing is left for check)");
	if (r.p.ntmpls == 3) {
		T_STREQ(r.p.tmpls[1].name, "ntp", "ntp loaded once for two jails");
		T_CHECK(r.p.tmpls[1].from_file && r.p.tmpls[1].nrules == 1 &&
			    r.p.tmpls[1].rules[0].nports == 1,
			"the first directory wins");
		path = tmp_path("t1/ntp.conf");
		T_STREQ(r.p.tmpls[1].loc.file, path, "template loc names its file");
		T_CHECK(r.p.tmpls[1].rules[0].loc.line == 2, "template rule line");
		free(path);
		T_STREQ(r.p.tmpls[2].name, "web", "web from the second directory");
		T_CHECK(!r.p.tmpls[0].from_file, "the policy's own template is not from_file");
	}
	res_free(&r);

	parse(&r, "jail a { use dns, bad }\n");
	T_CHECK(!policy_load_templates(&r.p, &r.d, dirs, 2), "bad template files fail");
	res_end(&r);
	path = tmp_path("t2/dns.conf");
	want = xasprintf("%s: error: does not define template \"dns\"\n", path);
	T_CHECK(strstr(r.out, want) != NULL, "a file that does not define its template");
	free(want);
	free(path);
	path = tmp_path("t1/bad.conf");
	want = xasprintf("%s:1:26: error: port 0 is not allowed\n", path);
	T_CHECK(strstr(r.out, want) != NULL, "errors inside template files are located");
	free(want);
	free(path);
	res_free(&r);
	free(d1);
	free(d2);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	if (nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		printf("# could not remove %s\n", tmpdir);
}

int main(void)
{
	test_design_example();
	test_accept_misc();
	test_errors();
	test_full_output();
	test_recovery();
	test_template_only();
	test_template_publish();
	test_keywords();
	if (!mkdtemp(tmpdir)) {
		T_CHECK(0, "mkdtemp");
		return t_done();
	}
	test_files();
	test_templates();
	cleanup();
	return t_done();
}
