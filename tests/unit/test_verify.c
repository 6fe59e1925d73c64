// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * verify: probe planning and the policy oracle (pure, no root), then real
 * runs of verify_policy() as root.
 *
 * For the real runs the binary re-executes itself under
 * `unshare --net --mount --propagation private` (marked by
 * JAILFW_TEST_VERIFY so it does not loop).  verify builds its own sandbox
 * anyway; the outer namespace is a second wall, and it is the "machine"
 * whose network, mounts and files the checks prove verify left alone.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "check.h"
#include "compare.h"
#include "nftload.h"
#include "parse.h"
#include "probe.h"
#include "testhook.h"
#include "sandbox.h"
#include "t.h"
#include "verify.h"

#define SANDBOX_ENV "JAILFW_TEST_VERIFY"

static const char *const tdirs[] = {"templates"};

/* Numeric users need no passwd entry; names resolve as nobody would. */
static bool by_name(const char *name, uid_t *uid, gid_t *gid, void *ctx)
{
	(void)ctx;
	if (strcmp(name, "nobody"))
		return false;
	*uid = *gid = 65534;
	return true;
}

static bool by_uid(uid_t uid, gid_t *gid, void *ctx)
{
	(void)ctx;
	*gid = uid;
	return true;
}

static const struct check_env env = {by_name, by_uid, NULL};

static bool load_file(struct policy *p, const char *path)
{
	struct diag d;
	bool ok;

	diag_init(&d, stderr);
	policy_init(p);
	ok = policy_parse_file(p, &d, path) && policy_load_templates(p, &d, tdirs, 1) &&
	     check_policy(p, &d, &env) && !d.errors;
	diag_free(&d);
	return ok;
}

static bool load_text(struct policy *p, const char *text)
{
	struct diag d;
	bool ok;

	diag_init(&d, stderr);
	policy_init(p);
	ok = policy_parse_buffer(p, &d, "t.conf", text, strlen(text), false) &&
	     policy_load_templates(p, &d, tdirs, 1) && check_policy(p, &d, &env) && !d.errors;
	diag_free(&d);
	return ok;
}

static size_t jail_index(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->njails; i++)
		if (!strcmp(p->jails[i].name, name))
			return i;
	return SIZE_MAX;
}

/* The probe of jail NAME whose probe_str is str, or NULL. */
static const struct probe *find(const struct policy *p, const struct probe_plan *plan,
				const char *jail, const char *str)
{
	size_t ji = jail_index(p, jail), i;
	char buf[96];

	for (i = 0; i < plan->nprobes; i++)
		if (plan->probes[i].jail == ji &&
		    !strcmp(probe_str(&plan->probes[i], buf, sizeof(buf)), str))
			return &plan->probes[i];
	return NULL;
}

static bool has(const struct policy *p, const struct probe_plan *plan, const char *jail,
		const char *str, enum probe_kind kind, bool pass)
{
	const struct probe *pr = find(p, plan, jail, str);

	if (!pr)
		printf("# no probe \"%s\" for jail %s\n", str, jail);
	else if (pr->kind != kind || pr->expect_pass != pass)
		printf("# probe \"%s\": kind %s expect %s\n", str, probe_kind_name(pr->kind),
		       pr->expect_pass ? "pass" : "drop");
	return pr && pr->kind == kind && pr->expect_pass == pass;
}

static bool inet_has(const struct probe_plan *plan, const char *addr)
{
	char buf[PREFIX_STRLEN];
	size_t i;

	for (i = 0; i < plan->ninet; i++)
		if (!strcmp(addr_str(&plan->inet_addrs[i], buf), addr))
			return true;
	return false;
}

static struct prefix addr(const char *s)
{
	struct prefix a = {.family = strchr(s, ':') ? AF_INET6 : AF_INET};

	a.len = a.family == AF_INET ? 32 : 128;
	inet_pton(a.family, s, a.addr.b);
	return a;
}

/* ---- pure ---- */

static void test_plan_writeup(void)
{
	struct probe_plan plan;
	struct policy p;
	const struct probe *pr;
	size_t i;
	bool controls = true, consistent = true;

	T_CHECK(load_file(&p, "policies/writeup.conf"), "writeup.conf loads");
	probe_plan_build(&p, &plan);
	T_CHECK(plan.nprobes > 30, "writeup: a plan of some size");

	/* psa-www: allow udp/123, both families, and its near misses. */
	T_CHECK(has(&p, &plan, "psa-www", "udp 192.0.2.99:123", PK_ALLOW, true),
		"psa-www: udp/123 to the internet, IPv4, must pass");
	T_CHECK(has(&p, &plan, "psa-www", "udp [2001:db8::99]:123", PK_ALLOW, true),
		"psa-www: udp/123 to the internet, IPv6, must pass");
	T_CHECK(has(&p, &plan, "psa-www", "udp 192.0.2.99:124", PK_PORT, false),
		"psa-www: another port is a drop");
	T_CHECK(has(&p, &plan, "psa-www", "tcp 192.0.2.99:123", PK_PROTO, false),
		"psa-www: tcp on the same port is a drop");
	T_CHECK(has(&p, &plan, "psa-www", "udp 127.0.0.1:123", PK_HOST, false),
		"psa-www: the allowed port on loopback is a drop (no `to host`)");
	T_CHECK(has(&p, &plan, "psa-www", "udp [::1]:123", PK_HOST, false),
		"psa-www: ... and on ::1");
	T_CHECK(has(&p, &plan, "psa-www", "udp 192.0.2.1:123", PK_HOST, false),
		"psa-www: the host's wan address is the host too");
	T_CHECK(has(&p, &plan, "psa-www", "icmp 192.0.2.99", PK_PROTO, false),
		"psa-www: ping is a drop");

	/* foobar: to host, prefixes, template rules, publish. */
	T_CHECK(has(&p, &plan, "foobar", "udp 10.97.10.1:53", PK_ALLOW, true),
		"foobar: udp/53 to host goes to the veth's host side");
	T_CHECK(has(&p, &plan, "foobar", "tcp [fd00:97::3:1]:53", PK_ALLOW, true),
		"foobar: tcp/53 to host, IPv6");
	T_CHECK(has(&p, &plan, "foobar", "tcp 192.0.2.99:80", PK_ALLOW, true),
		"foobar: tcp/80 inside 192.0.2.0/24");
	T_CHECK(has(&p, &plan, "foobar", "tcp 198.51.100.99:80", PK_ADDR, false),
		"foobar: tcp/80 outside the prefixes is a drop");
	T_CHECK(has(&p, &plan, "foobar", "tcp [3fff::99]:80", PK_ADDR, false),
		"foobar: IPv6 near miss outside 2001:db8::/32 (2001:db8:dead:: is inside)");
	T_CHECK(has(&p, &plan, "foobar", "udp 192.0.2.99:123", PK_ALLOW, true),
		"foobar: the ntp template's rule is probed");
	pr = find(&p, &plan, "foobar", "udp 192.0.2.99:123");
	T_CHECK(pr && pr->rule && pr->rule->from_template && strstr(pr->what, "ntp.conf:"),
		"foobar: the template rule's probe names ntp.conf");
	T_CHECK(has(&p, &plan, "foobar", "tcp 10.97.10.1:443", PK_HOST, false),
		"foobar: the host on an allowed port is a drop");
	pr = find(&p, &plan, "foobar", "tcp 192.0.2.1:8080");
	T_CHECK(pr && pr->kind == PK_PUBLISH && pr->expect_pass &&
		    pr->from == PROBE_FROM_INTERNET && pr->at == PROBE_AT_JAIL &&
		    pr->listen_port == 80,
		"foobar: publish tcp/8080:80 from the internet, the jail listens on 80");
	T_CHECK(has(&p, &plan, "foobar", "tcp 192.0.2.1:8081", PK_UNPUBLISHED, false),
		"foobar: the port after the published one is a drop");
	pr = find(&p, &plan, "foobar", "tcp 192.0.2.1:8081");
	T_CHECK(pr && !pr->has_control && pr->listen_port == 81,
		"foobar: ... listened for where a too-wide DNAT would send it, no control");
	T_CHECK(has(&p, &plan, "foobar", "tcp 10.97.10.2:80", PK_DIRECT, false),
		"foobar: the jail's own address from the internet is a drop");

	/* The ways around the wall (issue 10). */
	T_CHECK(has(&p, &plan, "psa-www", "udp 255.255.255.255:123", PK_BCAST, false) &&
		    has(&p, &plan, "psa-www", "udp 192.0.2.255:123", PK_BCAST, false) &&
		    has(&p, &plan, "psa-www", "udp 224.0.0.1:123 dev wan0", PK_BCAST, false) &&
		    has(&p, &plan, "psa-www", "udp [ff02::1]:123 dev wan0", PK_BCAST, false),
		"psa-www: broadcast and multicast to the host, a drop (a uid jail sends none)");
	T_CHECK(has(&p, &plan, "foobar", "udp 10.97.10.255:123", PK_BCAST, false) &&
		    has(&p, &plan, "foobar", "udp 10.97.10.255:53", PK_BCAST, true) &&
		    has(&p, &plan, "foobar", "udp [ff02::1]:53 dev foobar-in", PK_BCAST, true),
		"foobar: broadcast and multicast count as the host (its udp/53 \"to host\")");
	pr = find(&p, &plan, "foobar", "udp 10.97.10.255:123");
	T_CHECK(
	    pr && pr->has_control && pr->control_dst.family == AF_INET &&
		!strcmp(pr->control_if, "") && pr->bcast,
	    "... its control goes through the wan (the jail's link gives it back as the jail's)");
	T_CHECK(has(&p, &plan, "psa-www", "udp 10.97.10.2:123", PK_JAIL, false) &&
		    has(&p, &plan, "psa-www", "udp [fd00:97::3:2]:123", PK_JAIL, false) &&
		    has(&p, &plan, "psa-www", "udp [fe80::2]:123 dev foobar-out", PK_JAIL, false),
		"psa-www -> foobar: its addresses and its link-local one, a drop");
	T_CHECK(has(&p, &plan, "foobar", "tcp 192.0.2.1:80", PK_HOST, false) &&
		    has(&p, &plan, "foobar", "tcp [2001:db8:ffff::1]:80", PK_HOST, false),
		"foobar: the host's wan address in \"tcp/80 to 192.0.2.0/24\" is a drop");
	T_CHECK(
	    has(&p, &plan, "foobar", "udp [2001:db8::99]:123 from fd00:97::3:1", PK_SPOOF, false) &&
		has(&p, &plan, "foobar", "udp 192.0.2.99:123 from 10.97.10.1", PK_SPOOF, false) &&
		has(&p, &plan, "foobar", "udp 192.0.2.99:123 from 203.0.113.66", PK_SPOOF, false),
	    "foobar: spoofed sources, the host side's and another prefix, a drop");
	T_CHECK(has(&p, &plan, "psa-www", "udp [2001:db8:dead::99]:123 via 2001:db8::99", PK_RTHDR,
		    false) &&
		    has(&p, &plan, "foobar", "udp [2001:db8:dead::99]:123 via 2001:db8::99",
			PK_RTHDR, false),
		"a routing header naming the real destination after an allowed one, a drop");
	T_CHECK(inet_has(&plan, "2001:db8:dead::99"), "... the internet owns the real destination");

	for (i = 0; i < plan.nprobes; i++) {
		const struct probe *q = &plan.probes[i];

		if (q->has_control != (!q->expect_pass && q->kind != PK_UNPUBLISHED))
			controls = false;
		/* The conntrack probes are not about one packet's verdict. */
		if (q->kind == PK_STALE || q->kind == PK_FORGED)
			continue;
		/* Spoofed sources and routing headers: always a drop, whatever the rules. */
		if (q->kind == PK_SPOOF || q->kind == PK_RTHDR) {
			if (q->expect_pass)
				consistent = false;
			continue;
		}
		if (q->from == PROBE_FROM_JAIL && q->at != PROBE_AT_JAIL &&
		    q->expect_pass != probe_allowed(&p.jails[q->jail], q->proto, &q->dst, q->port,
						    q->kind == PK_BCAST ? PROBE_DST_BCAST
						    : q->at == PROBE_AT_HOST || q->kind == PK_HOST
							? PROBE_DST_HOST
							: PROBE_DST_NET))
			consistent = false;
	}
	T_CHECK(controls, "every drop probe but the unpublished port has a control");
	T_CHECK(consistent, "every jail probe expects what the oracle says");

	T_CHECK(inet_has(&plan, "192.0.2.99") && inet_has(&plan, "2001:db8::99") &&
		    inet_has(&plan, "198.51.100.99") && inet_has(&plan, "3fff::99"),
		"the internet owns every internet target");
	T_CHECK(!inet_has(&plan, "192.0.2.1") && !inet_has(&plan, "10.97.10.1") &&
		    !inet_has(&plan, "127.0.0.1") && !inet_has(&plan, "10.97.10.2"),
		"... and none of the host's or the jails' addresses");
	T_CHECK(plan.nnotes == 0, "writeup: nothing left unprobed");
	probe_plan_free(&plan);
	policy_free(&p);
}

static void test_oracle(void)
{
	struct policy p;
	const struct jail *u, *n;
	struct prefix a4 = addr("198.51.100.7"), a6 = addr("2001:db8::7"), lo = addr("127.0.0.1"),
		      in = addr("192.0.2.77"), hostpfx = addr("203.0.113.1");

	T_CHECK(load_text(&p, "jail u {\n backend uid\n user 1099\n allow tcp/80\n"
			      " allow udp/53 to host\n allow tcp/8000-8010 to 192.0.2.0/24\n"
			      " allow tcp/631 to 203.0.113.0/24\n allow icmp\n}\n"
			      "jail n {\n backend netns\n ipv4 10.97.10.0/24\n"
			      " allow tcp/80 to 192.0.2.0/24\n allow udp/53 to host\n}\n"),
		"oracle policy loads");
	u = &p.jails[0];
	n = &p.jails[1];
	T_CHECK(probe_allowed(u, PROTO_TCP, &a4, 80, PROBE_DST_NET) &&
		    probe_allowed(u, PROTO_TCP, &a6, 80, PROBE_DST_NET),
		"uid: no `to` allows any destination, both families");
	T_CHECK(!probe_allowed(u, PROTO_TCP, &lo, 80, PROBE_DST_HOST),
		"uid: no `to` stops short of the host");
	T_CHECK(probe_allowed(u, PROTO_UDP, &lo, 53, PROBE_DST_HOST) &&
		    !probe_allowed(u, PROTO_UDP, &a4, 53, PROBE_DST_NET),
		"uid: `to host` is the host only");
	T_CHECK(probe_allowed(u, PROTO_TCP, &in, 8000, PROBE_DST_NET) &&
		    probe_allowed(u, PROTO_TCP, &in, 8010, PROBE_DST_NET) &&
		    !probe_allowed(u, PROTO_TCP, &in, 8011, PROBE_DST_NET) &&
		    !probe_allowed(u, PROTO_TCP, &a4, 8000, PROBE_DST_NET),
		"uid: a range to a prefix: inside both, outside either is a drop");
	T_CHECK(!probe_allowed(u, PROTO_TCP, &hostpfx, 631, PROBE_DST_HOST) &&
		    probe_allowed(u, PROTO_TCP, &hostpfx, 631, PROBE_DST_NET),
		"uid: a prefix holding a host address does not reach the host (only `to host` "
		"does)");
	T_CHECK(probe_allowed(u, PROTO_ICMP, &a4, 0, PROBE_DST_NET) &&
		    !probe_allowed(u, PROTO_ICMPV6, &a6, 0, PROBE_DST_NET) &&
		    !probe_allowed(u, PROTO_ICMP, &a6, 0, PROBE_DST_NET),
		"icmp is IPv4 only");
	T_CHECK(probe_allowed(n, PROTO_TCP, &in, 80, PROBE_DST_NET) &&
		    !probe_allowed(n, PROTO_TCP, &a6, 80, PROBE_DST_NET),
		"netns: a v4-only jail reaches nothing over IPv6");
	T_CHECK(probe_allowed(n, PROTO_UDP, &(struct prefix){.family = AF_INET, .len = 32}, 53,
			      PROBE_DST_HOST),
		"netns: `to host` allows the host");
	T_CHECK(!probe_allowed(n, PROTO_TCP, &in, 80, PROBE_DST_HOST),
		"netns: prefixes never reach the host (forwarded traffic only)");
	T_CHECK(!probe_allowed(n, PROTO_TCP, &in, 80, PROBE_DST_JAIL), "netns: never another jail");
	policy_free(&p);
}

static void test_plan_edges(void)
{
	struct probe_plan plan;
	struct policy p;
	size_t i, naddr4 = 0, njail = 0;
	bool ok = true;

	T_CHECK(load_text(&p,
			  "jail w {\n backend uid\n user 1099\n"
			  " allow tcp/80 to 0.0.0.0/0\n allow tcp/22 to 192.0.2.1\n"
			  " allow udp/1000-2000,3000\n allow tcp\n}\n"
			  "jail a {\n backend netns\n ipv4 10.97.10.0/24\n ipv6 fd00:97::3:0/112\n"
			  " allow tcp/443\n}\n"
			  "jail b {\n backend netns\n ipv6 fd00:97::4:0/112\n allow icmpv6\n}\n"),
		"edge policy loads");
	probe_plan_build(&p, &plan);
	for (i = 0; i < plan.nprobes; i++) {
		const struct probe *pr = &plan.probes[i];

		if (pr->kind == PK_ADDR && pr->dst.family == AF_INET && pr->jail == 0)
			naddr4++;
		if (pr->kind == PK_JAIL)
			njail++;
	}
	T_CHECK(naddr4 == 0, "to 0.0.0.0/0: no IPv4 address is a near miss");
	T_CHECK(plan.nnotes == 5 && strstr(plan.notes[0], "192.0.2.1"),
		"the sandbox's own wan address cannot be probed, and a note says so");
	T_CHECK(plan.nnotes == 5 && strstr(plan.notes[1], "jail a: no udp rule") &&
		    strstr(plan.notes[1], "spoofed") &&
		    strstr(plan.notes[2], "jail a: no udp rule") && strstr(plan.notes[2], "flow") &&
		    strstr(plan.notes[3], "jail b: no udp rule") &&
		    strstr(plan.notes[3], "spoofed") &&
		    strstr(plan.notes[4], "jail b: no udp rule") && strstr(plan.notes[4], "flow"),
		"a jail without a udp rule: notes say no spoofed source and no flow kept open");
	T_CHECK(has(&p, &plan, "w", "tcp 192.0.2.1:22", PK_HOST, false),
		"\"to 192.0.2.1\", the sandbox's wan address: the host, a drop");
	T_CHECK(has(&p, &plan, "w", "udp 192.0.2.99:1000", PK_ALLOW, true) &&
		    has(&p, &plan, "w", "udp 192.0.2.99:2000", PK_ALLOW, true) &&
		    has(&p, &plan, "w", "udp 192.0.2.99:3000", PK_ALLOW, true) &&
		    has(&p, &plan, "w", "udp 192.0.2.99:3001", PK_PORT, false),
		"port ranges: first and last port, then the next free port");
	T_CHECK(has(&p, &plan, "w", "tcp 192.0.2.99:1", PK_ALLOW, true) &&
		    has(&p, &plan, "w", "tcp 192.0.2.99:65535", PK_ALLOW, true),
		"a whole protocol: its first and last port");
	T_CHECK(!find(&p, &plan, "w", "tcp 192.0.2.99:81"),
		"no `another port` where the whole protocol is allowed");
	T_CHECK(has(&p, &plan, "a", "tcp [fd00:97::4:2]:443", PK_JAIL, false) &&
		    has(&p, &plan, "b", "tcp [fd00:97::3:2]:22", PK_JAIL, false),
		"jail to jail, in the family both have");
	T_CHECK(has(&p, &plan, "w", "udp 10.97.10.2:1000", PK_JAIL, false) &&
		    has(&p, &plan, "w", "udp [fd00:97::3:2]:1000", PK_JAIL, false) &&
		    has(&p, &plan, "w", "udp [fe80::2]:1000 dev a-out", PK_JAIL, false),
		"uid to netns: the first netns jail, its addresses and its link-local one");
	T_CHECK(njail == 5, "no jail-to-jail probe in a family one jail lacks");
	T_CHECK(has(&p, &plan, "b", "icmpv6 2001:db8::99", PK_ALLOW, true) &&
		    !find(&p, &plan, "b", "icmp 192.0.2.99"),
		"a v6-only jail: no IPv4 probe at all");
	/* A stale flow is its allow rule's packet, kept open: not a second plan of it. */
	for (i = 0; i < plan.nprobes; i++)
		for (size_t k = i + 1; k < plan.nprobes; k++)
			if (plan.probes[k].kind != PK_STALE &&
			    plan.probes[i].jail == plan.probes[k].jail &&
			    plan.probes[i].from == plan.probes[k].from &&
			    plan.probes[i].proto == plan.probes[k].proto &&
			    plan.probes[i].port == plan.probes[k].port &&
			    plan.probes[i].at == plan.probes[k].at &&
			    !memcmp(&plan.probes[i].dst, &plan.probes[k].dst,
				    sizeof(plan.probes[i].dst)) &&
			    !memcmp(&plan.probes[i].src, &plan.probes[k].src,
				    sizeof(plan.probes[i].src)) &&
			    !memcmp(&plan.probes[i].via, &plan.probes[k].via,
				    sizeof(plan.probes[i].via)))
				ok = false;
	T_CHECK(ok, "no packet is planned twice");
	probe_plan_free(&plan);
	policy_free(&p);
}

/* ---- helpers for runs ---- */

struct run {
	int status;
	char *out, *err;
};

static void verify_capture(const struct policy *p, const char *sabotage, bool json, struct run *r)
{
	struct verify_opts o = {.json = json, .sabotage = sabotage};
	size_t olen = 0, elen = 0;
	FILE *out = open_memstream(&r->out, &olen), *err = open_memstream(&r->err, &elen);
	struct diag d;

	diag_init(&d, err);
	o.out = out;
	r->status = verify_policy(p, &o, &d);
	diag_free(&d);
	fclose(out);
	fclose(err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static size_t count_lines(const char *s, const char *needle)
{
	size_t n = 0;

	for (; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* The state of "the machine" (this namespace) verify must not change. */
static char *machine_state(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	struct strbuf sb;
	struct dirent *e;
	DIR *dir;
	FILE *f;
	char line[512];

	sb_init(&sb);
	for (i = ifs; i && i->if_index; i++)
		sb_printf(&sb, "if %s\n", i->if_name);
	if (ifs)
		if_freenameindex(ifs);
	dir = opendir("/run/netns");
	while (dir && (e = readdir(dir)))
		sb_printf(&sb, "netns %s\n", e->d_name);
	if (dir)
		closedir(dir);
	f = fopen("/proc/self/mountinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		sb_puts(&sb, line);
	if (f)
		fclose(f);
	f = fopen("/proc/sys/net/ipv4/conf/all/forwarding", "r");
	if (f && fgets(line, sizeof(line), f))
		sb_printf(&sb, "fwd %s", line);
	if (f)
		fclose(f);
	sb_printf(&sb, "table %d\n", nftload_table_exists("jailfw"));
	return sb_steal(&sb);
}

/* The internet-checksum of n bytes folds to 0xffff when it is right. */
static bool csum_ok(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static void test_plan_conntrack(void)
{
	struct prefix j4 = addr("10.97.10.2"), h4 = addr("192.0.2.1"), n4 = addr("192.0.2.2"),
		      j6 = addr("fd00:97::3:2"), h6 = addr("2001:db8:ffff::1"),
		      n6 = addr("2001:db8:ffff::2");
	const struct probe *pr;
	struct probe_plan plan;
	struct policy p;
	uint8_t pkt[PROBE_FORGE_MAX], pseudo[40];
	uint32_t sum = 0;
	size_t n, i;

	T_CHECK(load_file(&p, "policies/writeup.conf"), "conntrack: writeup.conf loads");
	probe_plan_build(&p, &plan);
	pr = find(&p, &plan, "psa-www", "udp 192.0.2.99:123");
	for (i = 0; i < plan.nprobes && !(plan.probes[i].kind == PK_STALE &&
					  !strcmp(p.jails[plan.probes[i].jail].name, "psa-www"));
	     i++)
		;
	T_CHECK(pr && i < plan.nprobes && !plan.probes[i].expect_pass &&
		    plan.probes[i].has_control && plan.probes[i].port == 123 &&
		    !memcmp(&plan.probes[i].dst, &pr->dst, sizeof(pr->dst)),
		"psa-www: its udp/123 flow kept open across a stricter re-apply, must drop");
	T_CHECK(has(&p, &plan, "foobar", "udp 192.0.2.2:33434", PK_FORGED, false),
		"foobar: a forged ICMP error quoting the host's flow, must drop");
	T_CHECK(!has(&p, &plan, "psa-www", "udp 192.0.2.2:33434", PK_FORGED, false),
		"psa-www: no forged error from a uid jail (it has no raw sockets)");
	probe_plan_free(&plan);
	policy_free(&p);

	n = probe_forge_unreach(pkt, &j4, &h4, &h4, 40000, &n4, PROBE_FORGED_PORT);
	T_CHECK(n == 20 + 8 + 20 + 8 + 6 && pkt[0] == 0x45 && pkt[9] == IPPROTO_ICMP &&
		    !memcmp(pkt + 12, j4.addr.b, 4) && !memcmp(pkt + 16, h4.addr.b, 4) &&
		    csum_ok(pkt, 20, 0),
		"forge (IPv4): the outer header, from the jail to the host, checksummed");
	T_CHECK(pkt[20] == 3 && pkt[21] == 3 && csum_ok(pkt + 20, n - 20, 0),
		"forge (IPv4): a port unreachable, checksummed");
	T_CHECK(pkt[28] == 0x45 && pkt[37] == IPPROTO_UDP && !memcmp(pkt + 40, h4.addr.b, 4) &&
		    !memcmp(pkt + 44, n4.addr.b, 4) && pkt[48] == 40000 >> 8 &&
		    pkt[49] == (40000 & 255) && pkt[50] == PROBE_FORGED_PORT >> 8 &&
		    pkt[51] == (PROBE_FORGED_PORT & 255),
		"forge (IPv4): quoting the host's datagram to the internet");

	n = probe_forge_unreach(pkt, &j6, &h6, &h6, 40000, &n6, PROBE_FORGED_PORT);
	memset(pseudo, 0, sizeof(pseudo));
	memcpy(pseudo, j6.addr.b, 16);
	memcpy(pseudo + 16, h6.addr.b, 16);
	pseudo[35] = (uint8_t)(n - 40);
	pseudo[39] = IPPROTO_ICMPV6;
	for (i = 0; i < sizeof(pseudo); i += 2)
		sum += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
	T_CHECK(n == 40 + 8 + 40 + 8 + 6 && pkt[0] == 0x60 && pkt[6] == IPPROTO_ICMPV6 &&
		    pkt[5] == n - 40 && !memcmp(pkt + 8, j6.addr.b, 16) &&
		    !memcmp(pkt + 24, h6.addr.b, 16),
		"forge (IPv6): the outer header, from the jail to the host");
	T_CHECK(pkt[40] == 1 && pkt[41] == 4 && csum_ok(pkt + 40, n - 40, sum) &&
		    !memcmp(pkt + 48 + 8, h6.addr.b, 16) && pkt[48 + 6] == IPPROTO_UDP,
		"forge (IPv6): a port unreachable over the pseudo-header, quoting the host");
}

static void test_compare_words(void)
{
	struct policy p, sw;
	struct compare_opts o = {0};
	char *t, *out = NULL, buf[PREFIX_STRLEN];
	json_t *doc, *jails;
	size_t len = 0, i;
	enum compare_row r;
	struct diag d;
	bool filled = true;

	if (!load_text(&p,
		       "jail short {\n backend uid\n user 1099\n allow tcp/443\n"
		       " allow udp/53 to host\n}\n"
		       "jail a-rather-long-one {\n backend uid\n user 64003\n allow udp/123\n}\n"
		       "jail n {\n backend netns\n ipv4 10.97.10.0/24\n allow tcp/80 to "
		       "192.0.2.0/24\n publish tcp/8080:80\n dns 10.97.10.1\n}\n")) {
		T_CHECK(false, "compare policy loads");
		return;
	}
	compare_switched(&p, &sw);
	T_CHECK(sw.jails[0].backend == BACKEND_NETNS && sw.jails[0].has_v4 && sw.jails[0].has_v6 &&
		    !strcmp(prefix_str(&sw.jails[0].v4, buf), "10.200.1.0/24"),
		"switched: a uid jail becomes netns 10.200.1.0/24");
	T_CHECK(!strcmp(prefix_str(&sw.jails[0].v6, buf), "fd00:200:1::/64"),
		"switched: ... and fd00:200:1::/64");
	T_CHECK(!sw.jails[0].ifname && sw.jails[1].ifname && !strcmp(sw.jails[1].ifname, "cmp2"),
		"switched: a name too long for NAME-out gets the prefix cmpN");
	T_CHECK(sw.jails[2].backend == BACKEND_UID && sw.jails[2].uid == 64004 &&
		    sw.jails[2].uid_resolved && !sw.jails[2].npubs && !sw.jails[2].ndns,
		"switched: a netns jail becomes uid 64000+N, skipping uids in use, without "
		"publish or dns");
	T_CHECK(sw.jails[2].rules == p.jails[2].rules, "switched: the rules are the jail's own");
	compare_switched_free(&sw, &p);

	for (i = 0; i < p.njails; i++)
		for (r = 0; r < CMP_ROWS; r++)
			for (int b = 0; b < 2; b++) {
				t = compare_text(&p, &p.jails[i], b ? BACKEND_NETNS : BACKEND_UID,
						 r);
				filled = filled && strlen(t) > 20;
				free(t);
			}
	T_CHECK(filled, "compare: every row has words for both backends, for every jail");
	t = compare_text(&p, &p.jails[0], BACKEND_UID, CMP_EGRESS);
	T_CHECK(strstr(t, "uid 1099") && strstr(t, "tcp/443 anywhere") && !strstr(t, "udp/53"),
		"egress: names the uid and the allowlist, not the `to host` rules");
	free(t);
	t = compare_text(&p, &p.jails[0], BACKEND_UID, CMP_HOST_SERVICES);
	T_CHECK(strstr(t, "(udp/53)") != NULL, "host services: names the `to host` rules");
	free(t);
	t = compare_text(&p, &p.jails[2], BACKEND_NETNS, CMP_INBOUND);
	T_CHECK(strstr(t, "tcp/8080->80") != NULL, "inbound: names the published ports");
	free(t);
	t = compare_text(&p, &p.jails[2], BACKEND_NETNS, CMP_HOST_SERVICES);
	T_CHECK(strstr(t, "10.97.10.1") != NULL, "host services (netns): names the veth address");
	free(t);
	t = compare_text(&p, &p.jails[0], BACKEND_UID, CMP_ABSTRACT);
	T_CHECK(strstr(t, "NOT confined") != NULL, "abstract sockets: uid cannot confine them");
	free(t);

	o.out = open_memstream(&out, &len);
	diag_init(&d, stderr);
	T_CHECK(compare_policy(&p, &o, &d) == EXIT_OK, "compare without --probe: exit 0, no root");
	fclose(o.out);
	T_CHECK(out && strstr(out, "jail short: backend uid (uid 1099)") &&
		    strstr(out, "uid (current)") && strstr(out, "netns (current)"),
		"compare: the current backend is marked");
	T_CHECK(out && count_lines(out, "\n  egress allowlist") == 3 &&
		    count_lines(out, "\n  how a process is") == 3,
		"compare: every jail gets every row");
	free(out);
	out = NULL;
	o.out = open_memstream(&out, &len);
	o.json = true;
	compare_policy(&p, &o, &d);
	fclose(o.out);
	doc = out ? json_loads(out, 0, NULL) : NULL;
	jails = json_object_get(doc, "jails");
	T_CHECK(json_array_size(jails) == 3 &&
		    json_array_size(json_object_get(json_array_get(jails, 2), "rows")) ==
			CMP_ROWS &&
		    json_is_false(json_object_get(doc, "probed")),
		"compare --json: one object per row and jail");
	json_decref(doc);
	free(out);
	diag_free(&d);
	policy_free(&p);
}

/* ---- in the sandbox (root) ---- */

static void test_run_writeup(void)
{
	struct policy p;
	struct probe_plan plan;
	struct run r;
	char *before, *after;
	json_t *doc;

	if (!load_file(&p, "policies/writeup.conf")) {
		T_CHECK(false, "writeup.conf loads");
		return;
	}
	probe_plan_build(&p, &plan);
	before = machine_state();
	verify_capture(&p, NULL, false, &r);
	after = machine_state();
	T_CHECK(r.status == EXIT_OK, "verify writeup.conf: exit 0");
	if (r.status)
		printf("# %s\n# %s\n", r.out, r.err);
	T_CHECK(count_lines(r.out, "  ok\n") == plan.nprobes,
		"verify writeup.conf: every planned probe has an ok row");
	T_CHECK(strstr(r.out, "verify: the policy holds") != NULL, "verify: the summary line");
	T_CHECK(!strcmp(before, after),
		"verify left this namespace alone: links, namespaces, mounts, sysctls, tables");
	if (strcmp(before, after))
		printf("# before:\n%s# after:\n%s", before, after);
	free(before);
	free(after);
	run_free(&r);

	/* Opened: a uid jail's near misses get through. */
	verify_capture(&p, "insert rule inet jailfw skuid_common accept", false, &r);
	T_CHECK(r.status == EXIT_VERIFY, "sabotage (uid jails unconfined): exit 6");
	T_CHECK(strstr(r.err, "psa-www: udp 192.0.2.99:124 (another port) got through, but the "
			      "policy drops it") != NULL,
		"sabotage: the error names the failing probe");
	T_CHECK(strstr(r.err, "writeup.conf:35:") != NULL, "sabotage: ... at its policy line");
	T_CHECK(strstr(r.err, TESTHOOK_SABOTAGE_ENV) != NULL,
		"sabotage: the test hook is announced");
	T_CHECK(strstr(r.out, "udp 192.0.2.99:124 (another port)") &&
		    count_lines(r.out, "FAIL") >= 5,
		"sabotage: the table marks the rows FAIL");
	run_free(&r);

	/* Closed: an allow rule no longer passes. */
	verify_capture(&p, "flush chain inet jailfw dst_any", false, &r);
	T_CHECK(r.status == EXIT_VERIFY, "sabotage (dst_any flushed): exit 6");
	T_CHECK(strstr(r.err, "psa-www: udp 192.0.2.99:123 (allow udp/123, writeup.conf:35) was "
			      "dropped, but the policy allows it") != NULL,
		"sabotage: the dropped allow rule is named");
	run_free(&r);

	/* Conntrack: established packets of a uid jail pass unchecked again. */
	verify_capture(&p, "insert rule inet jailfw skuid_common ct state established accept",
		       false, &r);
	T_CHECK(r.status == EXIT_VERIFY &&
		    strstr(r.err, "psa-www: udp 192.0.2.99:123 (a flow kept open across a stricter "
				  "re-apply) got through, but the policy drops it") &&
		    strstr(r.err, "psa-www: udp 192.0.2.2:33435 (the peer of another user's closed "
				  "udp service, from its port) got through") &&
		    strstr(r.err,
			   "psa-www: udp [2001:db8:ffff::2]:33435 (the peer of another user's "
			   "closed udp service, from its port) got through") &&
		    count_lines(r.out, "FAIL") == 3,
		"sabotage (established unchecked): only the flow kept open and the reply rides "
		"(v4, v6) fail");
	run_free(&r);

	/* Conntrack: any answer of a uid jail passes, whoever answered first. */
	verify_capture(
	    &p,
	    "insert rule inet jailfw skuid_common ct direction reply ct state established "
	    "accept",
	    false, &r);
	T_CHECK(r.status == EXIT_VERIFY &&
		    strstr(r.err,
			   "psa-www: udp 192.0.2.2:33435 (the peer of another user's closed "
			   "udp service, from its port) got through, but the policy drops it") &&
		    strstr(r.err, "psa-www: udp [2001:db8:ffff::2]:33435 (the peer of another "
				  "user's closed udp service, from its port) got through") &&
		    count_lines(r.out, "FAIL") == 2,
		"sabotage (answers unchecked): only the reply rides (v4, v6) fail");
	run_free(&r);

	/* Conntrack: every related packet of a netns jail passes. */
	verify_capture(&p, "insert rule inet jailfw net_related accept", false, &r);
	T_CHECK(r.status == EXIT_VERIFY &&
		    strstr(r.err, "foobar: udp 192.0.2.2:33434 (a forged ICMP error quoting the "
				  "host's flow to it) got through, but the policy drops it") &&
		    count_lines(r.out, "FAIL") == 1,
		"sabotage (related unchecked): only the forged ICMP error fails");
	run_free(&r);

	/* netns: forwarded near misses. */
	verify_capture(&p, "insert rule inet jailfw net_common accept", false, &r);
	T_CHECK(r.status == EXIT_VERIFY &&
		    strstr(r.err, "foobar: tcp 198.51.100.99:80 (another address) got through"),
		"sabotage (netns jails unconfined): exit 6, another address named");
	run_free(&r);

	/* The sandbox broken for root too: drops prove nothing. */
	verify_capture(&p,
		       "add chain inet jailfw xx { type filter hook output priority 10; "
		       "policy drop; }",
		       false, &r);
	T_CHECK(r.status == EXIT_VERIFY && strstr(r.out, "untestable") &&
		    strstr(r.err, "could not be tested"),
		"a drop whose control fails too is untestable, not ok");
	run_free(&r);

	verify_capture(&p, NULL, true, &r);
	doc = json_loads(r.out, 0, NULL);
	T_CHECK(r.status == EXIT_OK &&
		    json_is_true(json_object_get(json_object_get(doc, "summary"), "holds")) &&
		    json_array_size(json_object_get(doc, "probes")) == plan.nprobes,
		"--json: one object per probe, and the verdict");
	json_decref(doc);
	run_free(&r);
	probe_plan_free(&plan);
	policy_free(&p);
}

static void test_run_templates(void)
{
	static const char *const tmpls[] = {"dns", "http-client", "ntp"};
	struct policy p;
	struct run r;
	char text[1024];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tmpls); i++) {
		snprintf(text, sizeof(text),
			 "jail u {\n backend uid\n user 1099\n use %s\n}\n"
			 "jail n {\n backend netns\n ipv4 10.97.10.0/24\n ipv6 fd00:97::3:0/112\n"
			 " use %s\n}\n",
			 tmpls[i], tmpls[i]);
		if (!load_text(&p, text)) {
			T_CHECK(false, "template policy loads");
			continue;
		}
		verify_capture(&p, NULL, false, &r);
		T_CHECK(r.status == EXIT_OK, "verify: templates/*.conf in a uid and a netns jail");
		if (r.status)
			printf("# %s: %s\n%s\n", tmpls[i], r.out, r.err);
		run_free(&r);
		policy_free(&p);
	}
}

/* Living (not zombie) processes whose parent is this one. */
static int live_children(void)
{
	char path[300], buf[512], *s, state;
	struct dirent *e;
	int n = 0, ppid;
	DIR *dir = opendir("/proc");
	FILE *f;

	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* "pid (comm) S ppid ...": comm may hold spaces; skip past ')'. */
		if (fgets(buf, sizeof(buf), f) && (s = strrchr(buf, ')')) &&
		    sscanf(s + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid() && state != 'Z')
			n++;
		fclose(f);
	}
	if (dir)
		closedir(dir);
	return n;
}

/*
 * Ctrl-C: verify ends the sandbox and every helper.  This process is a
 * child subreaper, so any helper left behind would become our child.
 */
static void test_interrupt(void)
{
	struct policy p;
	int st, leftovers = 0, delays[] = {50, 200, 400};
	pid_t pid;
	size_t i;

	if (!load_file(&p, "policies/writeup.conf"))
		return;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (i = 0; i < ARRAY_SIZE(delays); i++) {
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			struct verify_opts o = {.quiet = true, .out = fopen("/dev/null", "w")};
			struct diag d;

			diag_init(&d, fopen("/dev/null", "w"));
			_exit(verify_policy(&p, &o, &d));
		}
		nanosleep(&(struct timespec){0, delays[i] * 1000000L}, NULL);
		kill(pid, SIGINT);
		waitpid(pid, &st, 0);
		T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 130,
			"SIGINT: verify returns 128 + SIGINT after the sandbox is gone");
		nanosleep(&(struct timespec){0, 200 * 1000000L}, NULL);
		leftovers += live_children();
		/* Dead helpers reparented to us: reap them. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	T_CHECK(leftovers == 0, "SIGINT: no helper outlives verify");
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	policy_free(&p);
}

static void test_run_compare(void)
{
	struct compare_opts o = {.probe = true, .json = true};
	struct policy p;
	char *out = NULL;
	json_t *doc, *jail, *row;
	size_t len = 0, i, k, measured = 0;
	json_int_t failed = 0;
	struct diag d;
	int st;

	if (!load_file(&p, "policies/writeup.conf"))
		return;
	o.out = open_memstream(&out, &len);
	diag_init(&d, stderr);
	st = compare_policy(&p, &o, &d);
	fclose(o.out);
	T_CHECK(st == EXIT_OK, "compare --probe writeup.conf: exit 0");
	doc = out ? json_loads(out, 0, NULL) : NULL;
	json_array_foreach(json_object_get(doc, "jails"), i, jail)
	{
		json_array_foreach(json_object_get(jail, "rows"), k, row)
		{
			json_t *m = json_object_get(row, "measured");

			if (!m)
				continue;
			measured++;
			failed += json_integer_value(
				      json_object_get(json_object_get(m, "uid"), "failed")) +
				  json_integer_value(
				      json_object_get(json_object_get(m, "netns"), "failed"));
		}
	}
	T_CHECK(json_is_true(json_object_get(doc, "probed")) && measured == 2 * 5 && !failed,
		"compare --probe: five network rows measured per jail, none failed");
	json_decref(doc);
	free(out);
	diag_free(&d);
	policy_free(&p);
}

int main(void)
{
	if (geteuid() == 0 && !getenv(SANDBOX_ENV)) {
		int err = t_reexec_unshared(SANDBOX_ENV);

		printf("not ok 1 - cannot run unshare: %s\n", strerror(-err));
		return 1;
	}
	test_plan_writeup();
	test_oracle();
	test_plan_edges();
	test_plan_conntrack();
	test_compare_words();
	if (geteuid() != 0) {
		printf("# SKIP sandbox runs: verify needs root (setresuid to the jails' uids)\n");
		return t_done();
	}
	test_run_writeup();
	test_run_templates();
	test_run_compare();
	test_interrupt();
	return t_done();
}
