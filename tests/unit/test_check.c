// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * check_policy, one rule at a time: an accepted and a rejected policy text
 * for each, asserting the exact message.  Source-line quotes are left out
 * of the comparison (diag's job, tested there); only the message lines are
 * compared.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "diag.h"
#include "parse.h"
#include "t.h"
#include "fake_users.h"

/* Fixed users; "www"'s gid differs from its uid on purpose. */
static const struct fake_user users[] = {
    {"www", 1099, 33},
    {"db", 1100, 1100},
    {"nobody", 65534, 65534},
    {"root", 0, 0},
};
static const struct fake_users user_db = {users, ARRAY_SIZE(users)};
static const struct check_env env = FAKE_USERS_ENV(user_db);

static const char *const tmpl_dirs[] = {"tests/parse/templates"};

struct run {
	struct policy p;
	bool parsed, ok;
	unsigned int errors, warnings;
	char *msgs; /* message lines only, without the quoted source */
};

/* Keep the lines diag starts at column 1: the messages, not the quotes. */
static char *message_lines(const char *out)
{
	struct strbuf sb;

	sb_init(&sb);
	while (*out) {
		size_t n = strcspn(out, "\n");

		/* Quotes are "   12 | text": wider numbers fill the indent. */
		if (out[0] != ' ' && (out[0] < '0' || out[0] > '9')) {
			sb_printf(&sb, "%.*s", (int)n, out);
			sb_putc(&sb, '\n');
		}
		out += n + (out[n] == '\n');
	}
	return sb_steal(&sb);
}

/* max_errors 0: every message, as in the big generated policies. */
static void run_max(struct run *r, const char *text, const struct check_env *e,
		    unsigned int max_errors)
{
	struct diag d;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		abort();
	memset(r, 0, sizeof(*r));
	policy_init(&r->p);
	diag_init(&d, f);
	d.max_errors = max_errors;
	r->parsed = policy_parse_buffer(&r->p, &d, "policy.conf", text, strlen(text), false) &&
		    policy_load_templates(&r->p, &d, tmpl_dirs, ARRAY_SIZE(tmpl_dirs));
	if (r->parsed)
		r->ok = check_policy(&r->p, &d, e);
	r->errors = d.errors;
	r->warnings = d.warnings;
	fclose(f);
	diag_free(&d);
	r->msgs = message_lines(out);
	free(out);
}

static void run_env(struct run *r, const char *text, const struct check_env *e)
{
	run_max(r, text, e, DIAG_MAX_ERRORS);
}

static void run(struct run *r, const char *text)
{
	run_env(r, text, &env);
}

static void run_free(struct run *r)
{
	policy_free(&r->p);
	free(r->msgs);
}

/* The policy is valid and check said nothing at all. */
static void accepted(const char *text, const char *what)
{
	struct run r;

	run(&r, text);
	T_CHECK(r.parsed, what);
	T_CHECK(r.ok && r.errors == 0 && r.warnings == 0, what);
	T_STREQ(r.msgs, "", what);
	run_free(&r);
}

/* Parsed fine, check refused it with exactly these message lines. */
static void rejected(const char *text, const char *want, const char *what)
{
	struct run r;

	run(&r, text);
	T_CHECK(r.parsed, what);
	T_CHECK(!r.ok && r.errors > 0, what);
	T_STREQ(r.msgs, want, what);
	run_free(&r);
}

/* Valid, but check warned with exactly these message lines. */
static void warned(const char *text, const char *want, const char *what)
{
	struct run r;

	run(&r, text);
	T_CHECK(r.parsed, what);
	T_CHECK(r.ok && r.errors == 0 && r.warnings > 0, what);
	T_STREQ(r.msgs, want, what);
	run_free(&r);
}

#define UID_WWW "jail www {\n\tbackend uid\n\tuser www\n\tallow tcp/443\n}\n"

static void test_empty(void)
{
	rejected("# nothing left\n",
		 "policy.conf: error: the policy defines no jail: applying it would leave every "
		 "service unconfined\n"
		 "policy.conf: note: to remove jailfw's rules on purpose, run \"jailfw down\"\n",
		 "empty policy refused");
	rejected("settings {\n\twan enp4s0\n}\ntemplate ntp {\n\tallow udp/123\n}\n",
		 "policy.conf: error: the policy defines no jail: applying it would leave every "
		 "service unconfined\n"
		 "policy.conf: note: to remove jailfw's rules on purpose, run \"jailfw down\"\n",
		 "settings and templates alone refused");
	accepted(UID_WWW, "one jail is enough");
}

static void test_dup_names(void)
{
	rejected(
	    UID_WWW "jail www {\n\tbackend uid\n\tuser db\n}\n",
	    "policy.conf:6:6: error: duplicate jail \"www\" (first defined at policy.conf:1)\n",
	    "duplicate jail name");
	accepted(UID_WWW "jail db {\n\tbackend uid\n\tuser db\n}\n", "distinct jail names");
	rejected(
	    "jail f {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tpublish tcp/80\n}\n"
	    "jail f {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tpublish tcp/80\n}\n" UID_WWW
		UID_WWW,
	    "policy.conf:6:6: error: duplicate jail \"f\" (first defined at policy.conf:1)\n"
	    "policy.conf:16:6: error: duplicate jail \"www\" (first defined at policy.conf:11)\n",
	    "a pasted duplicate is one error, not a cascade of conflicts");
	rejected(
	    "template t {\n\tallow udp/123\n}\ntemplate t {\n\tallow udp/53\n}\n" UID_WWW,
	    "policy.conf:4:10: error: duplicate template \"t\" (first defined at policy.conf:1)\n",
	    "duplicate template name");
}

static void test_backend(void)
{
	rejected("jail www {\n\tuser www\n}\n",
		 "policy.conf:1:6: error: jail \"www\" has no backend (add \"backend uid\" or "
		 "\"backend netns\")\n",
		 "missing backend");
	rejected("jail www {\n\tbackend uid\n\tallow tcp/443\n}\n",
		 "policy.conf:2:10: error: jail \"www\" has backend uid but no user (add \"user "
		 "NAME\" or \"user UID\")\n",
		 "uid jail without user");
	rejected("jail foobar {\n\tbackend netns\n\tallow tcp/443\n}\n",
		 "policy.conf:2:10: error: jail \"foobar\" has backend netns but no address (add "
		 "\"ipv4 PREFIX\" and/or \"ipv6 PREFIX\")\n",
		 "netns jail without address");
}

static void test_users(void)
{
	struct run r;

	run(&r, UID_WWW
	    "jail n {\n\tbackend uid\n\tuser 1100\n}\njail x {\n\tbackend uid\n\tuser 4000\n}\n"
	    "jail z {\n\tbackend uid\n\tuser 1099\n}\n");
	T_CHECK(r.parsed && r.p.njails == 4, "users: parsed");
	if (r.p.njails == 4) {
		T_CHECK(r.p.jails[0].uid_resolved && r.p.jails[0].uid == 1099 &&
			    r.p.jails[0].gid == 33,
			"user name resolves to its uid and gid");
		T_CHECK(r.p.jails[1].uid_resolved && r.p.jails[1].uid == 1100 &&
			    r.p.jails[1].gid == 1100,
			"known numeric uid takes its gid");
		T_CHECK(r.p.jails[2].uid_resolved && r.p.jails[2].uid == 4000 &&
			    r.p.jails[2].gid == 4000,
			"unknown numeric uid is accepted with gid = uid");
	}
	T_STREQ(
	    r.msgs,
	    "policy.conf:16:7: error: uid 1099 already belongs to jail \"www\" (policy.conf:3)\n",
	    "name and number of one uid conflict");
	run_free(&r);

	rejected("jail www {\n\tbackend uid\n\tuser wwww\n}\n",
		 "policy.conf:3:7: error: unknown user \"wwww\" (no such user on this system; a "
		 "numeric uid need not exist)\n",
		 "unknown user name");
	rejected("jail all {\n\tbackend uid\n\tuser 0\n}\n",
		 "policy.conf:3:7: error: uid 0 cannot be confined: it would confine sshd's "
		 "replies and every root service\n",
		 "uid 0 refused");
	rejected("jail all {\n\tbackend uid\n\tuser root\n}\n",
		 "policy.conf:3:7: error: user \"root\" is uid 0, and uid 0 cannot be confined: it "
		 "would confine sshd's replies and every root service\n",
		 "root by name refused");
	accepted("jail all {\n\tbackend uid\n\tuser 4294967294\n}\n", "largest uid accepted");
	rejected(
	    UID_WWW "jail static {\n\tbackend uid\n\tuser www\n}\n",
	    "policy.conf:8:7: error: uid 1099 already belongs to jail \"www\" (policy.conf:3)\n",
	    "one uid in two uid jails");
	accepted(UID_WWW "jail foo {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tuser www\n}\n"
			 "jail bar {\n\tbackend netns\n\tipv4 10.97.11.0/24\n\tuser www\n}\n",
		 "netns jails may share a user with each other and a uid jail");
	rejected("jail foo {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tuser nobodyy\n}\n",
		 "policy.conf:4:7: error: unknown user \"nobodyy\" (no such user on this system; a "
		 "numeric uid need not exist)\n",
		 "netns jail user must exist");

	/* The default environment asks the system's user database. */
	run_env(&r, "jail all {\n\tbackend uid\n\tuser root\n}\n", NULL);
	T_CHECK(r.parsed && !r.ok && strstr(r.msgs, "user \"root\" is uid 0"),
		"system user database: root is uid 0");
	run_free(&r);
	run_env(&r, "jail all {\n\tbackend uid\n\tuser no-such-user-jailfw\n}\n", NULL);
	T_CHECK(r.parsed && !r.ok && strstr(r.msgs, "unknown user \"no-such-user-jailfw\""),
		"system user database: unknown name");
	run_free(&r);
}

/*
 * A model built by hand (not parsed) gets the numeric checks the parser
 * would have made, and a location-less message still names the problem.
 */
static void hand_built_user(const char *user, const char *want, const char *what)
{
	struct policy p;
	struct diag d;
	struct jail *j;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	bool ok;

	if (!f)
		abort();
	policy_init(&p);
	diag_init(&d, f);
	j = VEC_PUSH(p.jails, p.njails);
	j->name = xstrdup("www");
	j->loc = (struct loc){policy_add_file(&p, "hand.conf"), 1, 6};
	j->backend = BACKEND_UID;
	j->user = xstrdup(user);
	j->user_loc = (struct loc){j->loc.file, 3, 7};
	ok = check_policy(&p, &d, &env);
	fclose(f);
	if (want) {
		T_CHECK(!ok && d.errors == 1, what);
		T_STREQ(out, want, what);
	} else {
		T_CHECK(ok && j->uid_resolved && j->uid == 4294967294u && j->gid == 4294967294u,
			what);
	}
	diag_free(&d);
	policy_free(&p);
	free(out);
}

static void test_hand_built(void)
{
	hand_built_user(
	    "4294967295",
	    "hand.conf:3:7: error: invalid uid \"4294967295\" (0-4294967294, no leading zeros)\n",
	    "hand-built model: (uid_t)-1 refused");
	hand_built_user("99999999999999999999999",
			"hand.conf:3:7: error: invalid uid \"99999999999999999999999\" "
			"(0-4294967294, no leading zeros)\n",
			"hand-built model: overflowing uid refused");
	hand_built_user(
	    "0099", "hand.conf:3:7: error: invalid uid \"0099\" (0-4294967294, no leading zeros)\n",
	    "hand-built model: leading zero refused");
	hand_built_user("4294967294", NULL, "hand-built model: largest uid accepted");
}

static void test_uid_misfits(void)
{
	rejected("jail www {\n\tbackend uid\n\tuser www\n\tpublish tcp/8080:80\n}\n",
		 "policy.conf:4:2: error: \"publish\" needs backend netns: a uid jail has no "
		 "address to forward to\n",
		 "publish on a uid jail");
	rejected("jail www {\n\tbackend uid\n\tuser www\n\tipv4 10.97.10.0/24\n\tipv6 fd00::/64\n"
		 "\tdns 192.0.2.53\n\tifname w\n}\n",
		 "policy.conf:4:7: error: \"ipv4\" needs backend netns: a uid jail uses the host's "
		 "own addresses\n"
		 "policy.conf:5:7: error: \"ipv6\" needs backend netns: a uid jail uses the host's "
		 "own addresses\n"
		 "policy.conf:6:6: error: \"dns\" needs backend netns: a uid jail uses the host's "
		 "resolver configuration\n"
		 "policy.conf:7:9: error: \"ifname\" needs backend netns: a uid jail has no "
		 "interfaces of its own\n",
		 "netns statements on a uid jail");
	accepted("jail www {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tipv6 fd00::/64\n"
		 "\tdns 10.97.10.1\n\tifname w\n\tpublish tcp/8080:80\n}\n",
		 "the same statements on a netns jail");
}

static void test_prefixes(void)
{
	rejected("jail f {\n\tbackend netns\n\tipv4 10.97.10.0/31\n}\n",
		 "policy.conf:3:7: error: ipv4 prefix 10.97.10.0/31 of jail \"f\" is too small: "
		 "the host side gets .1 and the jail side .2 (use /30 or shorter)\n",
		 "ipv4 /31 too small");
	rejected("jail f {\n\tbackend netns\n\tipv6 fd00:97::3:0/127\n}\n",
		 "policy.conf:3:7: error: ipv6 prefix fd00:97::3:0/127 of jail \"f\" is too small: "
		 "the host side gets ::1 and the jail side ::2 (use /126 or shorter)\n",
		 "ipv6 /127 too small");
	accepted("jail f {\n\tbackend netns\n\tipv4 10.97.10.0/30\n\tipv6 fd00:97::3:0/126\n}\n",
		 "/30 and /126 are enough");
	rejected("jail foo {\n\tbackend netns\n\tipv4 10.97.0.0/16\n}\n"
		 "jail bar {\n\tbackend netns\n\tipv4 10.97.10.0/24\n}\n",
		 "policy.conf:7:7: error: ipv4 prefix 10.97.10.0/24 of jail \"bar\" overlaps "
		 "10.97.0.0/16 of jail \"foo\" (policy.conf:3)\n",
		 "overlapping ipv4 subnets");
	rejected("jail foo {\n\tbackend netns\n\tipv6 fd00:97::3:0/112\n}\n"
		 "jail bar {\n\tbackend netns\n\tipv6 fd00:97::3:0/112\n}\n",
		 "policy.conf:7:7: error: ipv6 prefix fd00:97::3:0/112 of jail \"bar\" overlaps "
		 "fd00:97::3:0/112 of jail \"foo\" (policy.conf:3)\n",
		 "identical ipv6 subnets");
	accepted("jail foo {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tipv6 fd00:97::3:0/112\n}\n"
		 "jail bar {\n\tbackend netns\n\tipv4 10.97.11.0/24\n\tipv6 fd00:97::4:0/112\n}\n",
		 "adjacent subnets");
}

static void test_ifnames(void)
{
	rejected("jail averylongname {\n\tbackend netns\n\tipv4 10.97.10.0/24\n}\n",
		 "policy.conf:1:6: error: interface names \"averylongname-out\" and "
		 "\"averylongname-in\" are too long (IFNAMSIZ allows 15 characters); the jail name "
		 "or its \"ifname\" may have at most 11 characters\n",
		 "jail name too long for interfaces");
	accepted("jail elevenchars {\n\tbackend netns\n\tipv4 10.97.10.0/24\n}\n",
		 "eleven characters fit");
	accepted("jail averylongname {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tifname along\n}\n",
		 "ifname rescues a long jail name");
	accepted("jail averylongname {\n\tbackend uid\n\tuser www\n}\n",
		 "a uid jail name may be long");
	rejected("jail web {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tifname webfrontend1\n}\n",
		 "policy.conf:4:9: error: interface names \"webfrontend1-out\" and "
		 "\"webfrontend1-in\" are too long (IFNAMSIZ allows 15 characters); \"ifname\" may "
		 "have at most 11 characters\n",
		 "ifname too long");
	rejected("jail foo {\n\tbackend netns\n\tipv4 10.97.10.0/24\n}\n"
		 "jail bar {\n\tbackend netns\n\tipv4 10.97.11.0/24\n\tifname foo\n}\n",
		 "policy.conf:8:9: error: interface names \"foo-out\" and \"foo-in\" of jail "
		 "\"bar\" are already used by jail \"foo\" (policy.conf:1)\n",
		 "two jails with one interface prefix");
	rejected("settings {\n\twan foobar-out\n}\njail foobar {\n\tbackend netns\n\tipv4 "
		 "10.97.10.0/24\n}\n",
		 "policy.conf:2:6: error: wan interface \"foobar-out\" is the host side of netns "
		 "jail \"foobar\" (policy.conf:4)\n",
		 "wan is a jail's interface");
	accepted("settings {\n\twan enp4s0, foobar\n}\njail foobar {\n\tbackend netns\n\tipv4 "
		 "10.97.10.0/24\n}\n",
		 "wan named like a jail is fine");
}

static void test_dns(void)
{
	rejected(
	    "jail f {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tdns 10.97.10.1, 2001:db8::53\n}\n",
	    "policy.conf:4:18: error: dns server 2001:db8::53 is IPv6, but jail \"f\" has no ipv6 "
	    "prefix to reach it from\n",
	    "dns of a family the jail lacks");
	accepted("jail f {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tipv6 fd00::/64\n\tdns "
		 "10.97.10.1, fd00::1\n}\n",
		 "dns of both families");
}

static void test_templates(void)
{
	struct run r;

	rejected("template ntp {\n\tallow udp/123\n}\njail www {\n\tbackend uid\n\tuser www\n\tuse "
		 "ntpp\n}\n",
		 "policy.conf:7:6: error: unknown template \"ntpp\"; did you mean \"ntp\"?\n",
		 "unknown template with a hint");
	rejected("jail www {\n\tbackend uid\n\tuser www\n\tuse zzz\n}\n",
		 "policy.conf:4:6: error: unknown template \"zzz\" (no template block \"zzz\" in "
		 "the policy and no zzz.conf in the template path)\n",
		 "unknown template without a hint");
	warned("template ntp {\n\tallow udp/123\n}\njail www {\n\tbackend uid\n\tuser www\n\tuse "
	       "ntp\n\tuse ntp\n}\n",
	       "policy.conf:8:6: warning: template \"ntp\" is already used by jail \"www\" "
	       "(policy.conf:7)\n",
	       "template used twice");

	run(&r,
	    "template ntp {\n\tallow udp/123 to 192.0.2.123\n}\n"
	    "jail www {\n\tbackend uid\n\tuser www\n\tallow tcp/443\n\tuse ntp\n\tuse ntp\n}\n");
	T_CHECK(r.ok && r.p.njails == 1 && r.p.ntmpls == 1, "expansion: accepted");
	if (r.ok && r.p.njails == 1 && r.p.ntmpls == 1) {
		const struct jail *j = &r.p.jails[0];
		const struct tmpl *t = &r.p.tmpls[0];

		T_CHECK(j->nrules == 2, "expansion: one copy per template, even when used twice");
		T_CHECK(!j->rules[0].from_template, "expansion: own rule first");
		if (j->nrules == 2) {
			const struct rule *x = &j->rules[1];

			T_CHECK(x->from_template && x->template == t->name,
				"expansion: template rule points at its template's name");
			T_CHECK(x->use_loc.line == 8 && x->use_loc.col == 6,
				"expansion: use_loc is the first use statement");
			T_CHECK(x->loc.line == 2, "expansion: loc stays in the template");
			T_CHECK(x->proto == PROTO_UDP && x->nports == 1 && x->ports[0].lo == 123 &&
				    x->ndests == 1 && x->dests[0].pfx.family == AF_INET,
				"expansion: the rule's content is copied");
			T_CHECK(x->ports != t->rules[0].ports && x->dests != t->rules[0].dests,
				"expansion: ports and dests are deep copies");
		}
		{
			struct diag d;
			FILE *f = fopen("/dev/null", "w");

			diag_init(&d, f);
			T_CHECK(f && check_policy(&r.p, &d, &env) && r.p.jails[0].nrules == 2,
				"expansion: checking again does not expand again");
			diag_free(&d);
			if (f)
				fclose(f);
		}
	}
	run_free(&r);

	run(&r, "jail foobar {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tuse ping4\n}\n");
	T_CHECK(r.ok && r.p.njails == 1 && r.p.jails[0].nrules == 1 &&
		    r.p.jails[0].rules[0].proto == PROTO_ICMP,
		"a template from the template path expands");
	run_free(&r);
}

static void test_rule_families(void)
{
	rejected("jail www {\n\tbackend uid\n\tuser www\n\tallow icmp to 2001:db8::1\n}\n",
		 "policy.conf:4:8: error: \"icmp\" is IPv4 only, but every destination of this "
		 "rule is IPv6 (use \"icmpv6\")\n",
		 "icmp to IPv6 only");
	rejected("jail www {\n\tbackend uid\n\tuser www\n\tallow icmpv6 to 192.0.2.1\n}\n",
		 "policy.conf:4:8: error: \"icmpv6\" is IPv6 only, but every destination of this "
		 "rule is IPv4 (use \"icmp\")\n",
		 "icmpv6 to IPv4 only");
	warned("jail www {\n\tbackend uid\n\tuser www\n\tallow icmp to 192.0.2.1, 2001:db8::1\n}\n",
	       "policy.conf:4:27: warning: \"icmp\" does not apply to IPv6 destination 2001:db8::1 "
	       "(add a separate \"icmpv6\" rule for it)\n",
	       "icmp with a mixed destination list");
	accepted("jail www {\n\tbackend uid\n\tuser www\n\tallow icmp to 192.0.2.1, host\n\tallow "
		 "icmpv6 to 2001:db8::1\n}\n",
		 "icmp and icmpv6 to their own families");
	rejected("jail f {\n\tbackend netns\n\tipv6 fd00::/64\n\tallow tcp/443 to 192.0.2.0/24, "
		 "2001:db8::/32\n}\n",
		 "policy.conf:4:19: error: jail \"f\" has no ipv4 prefix, so it cannot reach "
		 "192.0.2.0/24\n",
		 "netns jail cannot reach a family it lacks");
	accepted("jail f {\n\tbackend netns\n\tipv6 fd00::/64\n\tallow tcp/443 to 2001:db8::/32, "
		 "host\n}\n",
		 "netns jail reaches its family and the host");
	warned("jail f {\n\tbackend netns\n\tipv6 fd00::/64\n\tallow icmp\n}\n",
	       "policy.conf:4:8: warning: jail \"f\" has no ipv4 prefix, so this \"icmp\" rule "
	       "never matches\n",
	       "icmp on an IPv6-only jail");
	rejected("template v6 {\n\tallow tcp/873 to 2001:db8::873\n}\n"
		 "jail f {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tuse v6\n}\n",
		 "policy.conf:7:6: error: template \"v6\" allows tcp/873 only to IPv6 "
		 "destinations, but jail \"f\" has no ipv6 prefix (policy.conf:2)\n",
		 "template rule the jail cannot reach at all");
	warned("jail f {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tuse dual-dns\n}\n",
	       "policy.conf:4:6: warning: jail \"f\" has no ipv6 prefix, so it cannot reach "
	       "2001:db8::53 allowed by template \"dual-dns\" "
	       "(tests/parse/templates/dual-dns.conf:3)\n",
	       "dual-family template in a single-family jail, once per destination");
	rejected(
	    "jail f {\n\tbackend netns\n\tipv6 fd00::/64\n\tallow udp/53,tcp/53 to 192.0.2.53\n}\n",
	    "policy.conf:4:25: error: jail \"f\" has no ipv4 prefix, so it cannot reach "
	    "192.0.2.53\n",
	    "one statement, two protocols: reported once");
	rejected("template v6 {\n\tallow tcp/873,udp/873 to 2001:db8::873\n}\n"
		 "jail f {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tuse v6\n}\n",
		 "policy.conf:7:6: error: template \"v6\" allows tcp/873,udp/873 only to IPv6 "
		 "destinations, but jail \"f\" has no ipv6 prefix (policy.conf:2)\n",
		 "unreachable template statement named whole");
	accepted("jail f {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tipv6 fd00::/64\n"
		 "\tallow icmp, icmpv6 to 192.0.2.1, 2001:db8::1\n}\n"
		 "jail g {\n\tbackend netns\n\tipv6 fd01::/64\n\tallow icmpv6, icmp\n}\n",
		 "icmp and icmpv6 together cover both families");
	rejected("template t {\n\tallow icmpv6 to 192.0.2.1\n}\n" UID_WWW,
		 "policy.conf:2:8: error: \"icmpv6\" is IPv6 only, but every destination of this "
		 "rule is IPv4 (use \"icmp\")\n",
		 "family mismatch inside a template, even unused");
}

static void test_dup_rules(void)
{
	warned("jail www {\n\tbackend uid\n\tuser www\n\tallow tcp/80,443 to 192.0.2.0/24\n"
	       "\tallow tcp/443,80 to 192.0.2.0/24\n}\n",
	       "policy.conf:5:8: warning: duplicate rule in jail \"www\": tcp/443,80 to the same "
	       "destinations is already allowed at policy.conf:4\n",
	       "identical rules, ports in another order");
	accepted("jail www {\n\tbackend uid\n\tuser www\n\tallow tcp/80,443 to 192.0.2.0/24\n"
		 "\tallow tcp/443 to 192.0.2.0/24\n\tallow tcp/80,443\n\tallow udp/80,443 to "
		 "192.0.2.0/24\n}\n",
		 "similar but different rules");
	warned("template ntp {\n\tallow udp/123\n}\njail www {\n\tbackend uid\n\tuser www\n\tallow "
	       "udp/123\n\tuse ntp\n}\n",
	       "policy.conf:8:6: warning: duplicate rule in jail \"www\": udp/123 is already "
	       "allowed at policy.conf:7\n"
	       "policy.conf:2:2: note: the rule comes from template \"ntp\" here\n",
	       "template repeats an own rule");
	warned("template t {\n\tallow udp/123\n\tallow udp/123\n}\n" UID_WWW,
	       "policy.conf:3:8: warning: duplicate rule in template \"t\": udp/123 is already "
	       "allowed at policy.conf:2\n",
	       "duplicate rule within a template");
}

static void test_publish(void)
{
	rejected("jail foo {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tpublish tcp/8080:80\n}\n"
		 "jail bar {\n\tbackend netns\n\tipv4 10.97.11.0/24\n\tpublish tcp/8080:8080\n}\n",
		 "policy.conf:9:10: error: tcp port 8080 is already published by jail \"foo\" "
		 "(policy.conf:4)\n",
		 "one port published by two jails");
	rejected("jail foo {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tpublish udp/6000-6010:6000\n"
		 "\tpublish udp/6005-6020:7005\n}\n",
		 "policy.conf:5:10: error: udp ports 6005-6010 are already published by jail "
		 "\"foo\" (policy.conf:4)\n",
		 "overlapping published ranges");
	accepted("jail foo {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tpublish "
		 "tcp/8080:80\n\tpublish tcp/6000-6010:6000\n}\n"
		 "jail bar {\n\tbackend netns\n\tipv6 fd00::/64\n\tpublish udp/8080:80\n\tpublish "
		 "tcp/6011-6020:6011\n}\n",
		 "same port over another protocol, adjacent ranges");
}

#define TMPL_WEB "template web {\n\tpublish tcp/80\n\tpublish tcp/443\n\tpublish udp/443\n}\n"

/* check again: the model must come out the same, and nothing be said. */
static bool recheck_quiet(struct run *r)
{
	struct diag d;
	FILE *f = fopen("/dev/null", "w");
	bool ok;

	if (!f)
		return false;
	diag_init(&d, f);
	ok = check_policy(&r->p, &d, &env) && d.errors == 0 && d.warnings == 0;
	diag_free(&d);
	fclose(f);
	return ok;
}

/* Templates that publish: copied into netns jails, refused in uid jails. */
static void test_template_publish(void)
{
	struct run r;

	/* Lines: template 1-5, jail 6-11, "use web" on 10. */
	run(&r, TMPL_WEB "jail n {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tpublish tcp/8080:80\n"
			 "\tuse web\n}\n");
	T_CHECK(r.ok && r.errors == 0 && r.warnings == 0, "publishing template in a netns jail");
	T_CHECK(r.p.njails == 1 && r.p.jails[0].npubs == 4,
		"the jail's own publish, then the template's three");
	if (r.ok && r.p.njails == 1 && r.p.jails[0].npubs == 4) {
		const struct jail *j = &r.p.jails[0];
		const struct tmpl *t = &r.p.tmpls[0];
		const struct publish *x = &j->pubs[3];

		T_CHECK(!j->pubs[0].from_template && j->pubs[0].ext_lo == 8080,
			"publish copies: own first");
		T_CHECK(j->pubs[1].from_template && j->pubs[1].proto == PROTO_TCP &&
			    j->pubs[1].ext_lo == 80 && j->pubs[1].int_lo == 80,
			"publish copies: tcp/80 copied");
		T_CHECK(x->from_template && x->template == t->name && x->proto == PROTO_UDP &&
			    x->ext_lo == 443 && x->ext_hi == 443 && x->int_lo == 443,
			"publish copies: udp/443, pointing at its template's name");
		T_CHECK(x->loc.line == 4 && x->loc.col == 2 && x->loc.file == t->pubs[2].loc.file,
			"publish copies: loc stays in the template");
		T_CHECK(x->use_loc.line == 10 && x->use_loc.col == 6,
			"publish copies: use_loc is the use statement");
		T_CHECK(recheck_quiet(&r) && r.p.jails[0].npubs == 4,
			"publish copies: checking again does not expand again");
	}
	run_free(&r);

	/* A template of publishes only: nothing but them marks the jail as expanded. */
	run(&r, TMPL_WEB "jail n {\n\tbackend netns\n\tipv6 fd00::/64\n\tuse web\n}\n");
	T_CHECK(r.ok && r.p.jails[0].npubs == 3 && r.p.jails[0].nrules == 0,
		"publish-only template: three copies, no rule");
	T_CHECK(recheck_quiet(&r) && r.p.jails[0].npubs == 3,
		"publish-only template: checking again does not expand again");
	run_free(&r);

	rejected(TMPL_WEB "jail u {\n\tbackend uid\n\tuser www\n\tuse web\n}\n",
		 "policy.conf:9:6: error: template \"web\" publishes tcp/80, tcp/443 and udp/443, "
		 "which need backend netns: a uid jail has no address to forward to\n"
		 "policy.conf:2:2: note: the publish comes from template \"web\" here\n",
		 "publishing template in a uid jail: at the use, a note at the template");
	rejected("template t {\n\tallow udp/123\n\tpublish tcp/8000-8010:9000\n}\n"
		 "jail u {\n\tbackend uid\n\tuser www\n\tuse t\n}\n",
		 "policy.conf:8:6: error: template \"t\" publishes tcp/8000-8010:9000, which needs "
		 "backend netns: a uid jail has no address to forward to\n"
		 "policy.conf:3:2: note: the publish comes from template \"t\" here\n",
		 "one publish: singular, written as in the template");
	{
		run(&r, "template t {\n\tallow udp/123\n\tpublish tcp/80\n}\n"
			"jail u {\n\tbackend uid\n\tuser www\n\tuse t\n}\n");
		T_CHECK(!r.ok && r.p.jails[0].nrules == 1 && r.p.jails[0].npubs == 0,
			"uid jail: the template's rules are copied, its publishes never");
		run_free(&r);
	}
	rejected(TMPL_WEB "jail x {\n\tuser www\n\tuse web\n}\n",
		 "policy.conf:6:6: error: jail \"x\" has no backend (add \"backend uid\" or "
		 "\"backend netns\")\n",
		 "no backend: said once, not again for the template's publishes");

	/* Lines: template 1-5; a 6-10 (use 9); b 11-15 (use 14). */
	rejected(TMPL_WEB "jail a {\n\tbackend netns\n\tipv4 10.97.1.0/24\n\tuse web\n}\n"
			  "jail b {\n\tbackend netns\n\tipv4 10.97.2.0/24\n\tuse web\n}\n",
		 "policy.conf:14:6: error: tcp port 80 is already published by jail \"a\" "
		 "(policy.conf:9, template \"web\")\n"
		 "policy.conf:2:2: note: the publish comes from template \"web\" here\n"
		 "policy.conf:14:6: error: tcp port 443 is already published by jail \"a\" "
		 "(policy.conf:9, template \"web\")\n"
		 "policy.conf:3:2: note: the publish comes from template \"web\" here\n"
		 "policy.conf:14:6: error: udp port 443 is already published by jail \"a\" "
		 "(policy.conf:9, template \"web\")\n"
		 "policy.conf:4:2: note: the publish comes from template \"web\" here\n",
		 "two jails using one publishing template: the host has one port 80");
	rejected(TMPL_WEB
		 "jail a {\n\tbackend netns\n\tipv4 10.97.1.0/24\n\tuse web\n}\n"
		 "jail b {\n\tbackend netns\n\tipv4 10.97.2.0/24\n\tpublish tcp/440-450:440\n}\n",
		 "policy.conf:14:10: error: tcp port 443 is already published by jail \"a\" "
		 "(policy.conf:9, template \"web\")\n",
		 "a direct publish against an earlier jail's template publish");
	rejected(TMPL_WEB "jail a {\n\tbackend netns\n\tipv4 10.97.1.0/24\n\tpublish udp/443\n"
			  "\tuse web\n}\n",
		 "policy.conf:10:6: error: udp port 443 is already published by jail \"a\" "
		 "(policy.conf:9)\n"
		 "policy.conf:4:2: note: the publish comes from template \"web\" here\n",
		 "a template publish against the jail's own");
	rejected(TMPL_WEB "template alt {\n\tpublish tcp/443:8443\n}\n"
			  "jail a {\n\tbackend netns\n\tipv4 10.97.1.0/24\n\tuse web, alt\n}\n",
		 "policy.conf:12:11: error: tcp port 443 is already published by jail \"a\" "
		 "(policy.conf:12, template \"web\")\n"
		 "policy.conf:7:2: note: the publish comes from template \"alt\" here\n",
		 "two templates of one jail publishing one port");

	/* Within one template: once, with the template, used or not. */
	rejected("template t {\n\tpublish tcp/80-90\n\tpublish tcp/85:8085\n}\n"
		 "jail a {\n\tbackend netns\n\tipv4 10.97.1.0/24\n\tuse t\n}\n"
		 "jail b {\n\tbackend uid\n\tuser www\n}\n",
		 "policy.conf:3:10: error: tcp port 85 is already published by template \"t\" "
		 "(policy.conf:2)\n",
		 "overlap inside a template: reported once, at the template");
	rejected("template t {\n\tpublish udp/1000-2000\n\tpublish udp/1500-2500:1500\n}\n" UID_WWW,
		 "policy.conf:3:10: error: udp ports 1500-2000 are already published by template "
		 "\"t\" (policy.conf:2)\n",
		 "overlap inside an unused template");
}

static void test_all_at_once(void)
{
	struct run r;

	run(&r, UID_WWW
	    "jail web2 {\n\tbackend uid\n\tuser 1099\n\tpublish tcp/80\n}\n"
	    "jail verylongjailname {\n\tbackend netns\n\tipv4 10.97.10.0/31\n\tuse missing\n}\n"
	    "jail nob {\n\tuser nobody\n}\n");
	T_CHECK(r.parsed && !r.ok, "many errors: refused");
	T_CHECK(r.errors == 6, "many errors: every one is reported");
	T_STREQ(r.msgs,
		"policy.conf:8:7: error: uid 1099 already belongs to jail \"www\" (policy.conf:3)\n"
		"policy.conf:9:2: error: \"publish\" needs backend netns: a uid jail has no "
		"address to forward to\n"
		"policy.conf:13:7: error: ipv4 prefix 10.97.10.0/31 of jail \"verylongjailname\" "
		"is too small: the host side gets .1 and the jail side .2 (use /30 or shorter)\n"
		"policy.conf:11:6: error: interface names \"verylongjailname-out\" and "
		"\"verylongjailname-in\" are too long (IFNAMSIZ allows 15 characters); the jail "
		"name or its \"ifname\" may have at most 11 characters\n"
		"policy.conf:14:6: error: unknown template \"missing\" (no template block "
		"\"missing\" in the policy and no missing.conf in the template path)\n"
		"policy.conf:16:6: error: jail \"nob\" has no backend (add \"backend uid\" or "
		"\"backend netns\")\n",
		"many errors: in policy order");
	run_free(&r);
}

/*
 * A conflict is reported at the later jail and names the earliest earlier
 * jail it conflicts with, skipping jails of its own name (the duplicate
 * is reported once, as such): here the jail to name is not the first one
 * of its uid, prefix, interface or port.
 */
static void test_rivals(void)
{
	rejected(
	    "jail x {\n\tbackend uid\n\tuser 7000\n}\n"
	    "jail y {\n\tbackend uid\n\tuser 7000\n}\n"
	    "jail x {\n\tbackend uid\n\tuser 7000\n}\n",
	    "policy.conf:7:7: error: uid 7000 already belongs to jail \"x\" (policy.conf:3)\n"
	    "policy.conf:9:6: error: duplicate jail \"x\" (first defined at policy.conf:1)\n"
	    "policy.conf:11:7: error: uid 7000 already belongs to jail \"y\" (policy.conf:7)\n",
	    "a duplicate's uid conflict names the next jail of another name");
	rejected("jail x {\n\tbackend netns\n\tipv4 10.1.0.0/16\n}\n"
		 "jail y {\n\tbackend netns\n\tipv4 10.1.2.0/24\n}\n"
		 "jail x {\n\tbackend netns\n\tipv4 10.1.2.0/25\n}\n",
		 "policy.conf:7:7: error: ipv4 prefix 10.1.2.0/24 of jail \"y\" overlaps "
		 "10.1.0.0/16 of jail \"x\" (policy.conf:3)\n"
		 "policy.conf:9:6: error: duplicate jail \"x\" (first defined at policy.conf:1)\n"
		 "policy.conf:11:7: error: ipv4 prefix 10.1.2.0/25 of jail \"x\" overlaps "
		 "10.1.2.0/24 of jail \"y\" (policy.conf:7)\n",
		 "a duplicate's overlap names only jails of another name");
	rejected("jail x {\n\tbackend netns\n\tipv4 10.97.1.0/24\n\tpublish tcp/80\n}\n"
		 "jail y {\n\tbackend netns\n\tipv4 10.97.2.0/24\n\tifname x\n\tpublish "
		 "tcp/80-81:80\n}\n"
		 "jail x {\n\tbackend netns\n\tipv4 10.97.3.0/24\n\tpublish tcp/80\n}\n",
		 "policy.conf:9:9: error: interface names \"x-out\" and \"x-in\" of jail \"y\" are "
		 "already used by jail \"x\" (policy.conf:1)\n"
		 "policy.conf:10:10: error: tcp port 80 is already published by jail \"x\" "
		 "(policy.conf:4)\n"
		 "policy.conf:12:6: error: duplicate jail \"x\" (first defined at policy.conf:1)\n"
		 "policy.conf:12:6: error: interface names \"x-out\" and \"x-in\" of jail \"x\" "
		 "are already used by jail \"y\" (policy.conf:9)\n"
		 "policy.conf:15:10: error: tcp port 80 is already published by jail \"y\" "
		 "(policy.conf:10)\n",
		 "a duplicate's interface and port conflicts name the jail of another name");
}

/* Every earlier prefix a jail's contains or is contained in, in policy order. */
static void test_overlap_order(void)
{
	rejected("jail a {\n\tbackend netns\n\tipv4 10.1.2.0/24\n}\n"
		 "jail b {\n\tbackend netns\n\tipv4 10.0.0.0/8\n}\n"
		 "jail c {\n\tbackend netns\n\tipv4 10.1.3.0/24\n}\n"
		 "jail d {\n\tbackend netns\n\tipv4 10.1.0.0/16\n}\n"
		 "jail e {\n\tbackend netns\n\tipv4 10.2.0.0/16\n}\n"
		 "jail f {\n\tbackend netns\n\tipv4 11.0.0.0/8\n}\n",
		 "policy.conf:7:7: error: ipv4 prefix 10.0.0.0/8 of jail \"b\" overlaps "
		 "10.1.2.0/24 of jail \"a\" (policy.conf:3)\n"
		 "policy.conf:11:7: error: ipv4 prefix 10.1.3.0/24 of jail \"c\" overlaps "
		 "10.0.0.0/8 of jail \"b\" (policy.conf:7)\n"
		 "policy.conf:15:7: error: ipv4 prefix 10.1.0.0/16 of jail \"d\" overlaps "
		 "10.1.2.0/24 of jail \"a\" (policy.conf:3)\n"
		 "policy.conf:15:7: error: ipv4 prefix 10.1.0.0/16 of jail \"d\" overlaps "
		 "10.0.0.0/8 of jail \"b\" (policy.conf:7)\n"
		 "policy.conf:15:7: error: ipv4 prefix 10.1.0.0/16 of jail \"d\" overlaps "
		 "10.1.3.0/24 of jail \"c\" (policy.conf:11)\n"
		 "policy.conf:19:7: error: ipv4 prefix 10.2.0.0/16 of jail \"e\" overlaps "
		 "10.0.0.0/8 of jail \"b\" (policy.conf:7)\n",
		 "overlaps: each with every earlier jail it contains or is contained in");
	rejected("jail a {\n\tbackend netns\n\tipv6 fd00:1::/64\n\tipv4 10.1.0.0/24\n}\n"
		 "jail b {\n\tbackend netns\n\tipv4 10.1.0.0/24\n\tipv6 fd00::/16\n}\n",
		 "policy.conf:8:7: error: ipv4 prefix 10.1.0.0/24 of jail \"b\" overlaps "
		 "10.1.0.0/24 of jail \"a\" (policy.conf:4)\n"
		 "policy.conf:9:7: error: ipv6 prefix fd00::/16 of jail \"b\" overlaps fd00:1::/64 "
		 "of jail \"a\" (policy.conf:3)\n",
		 "overlaps: ipv4, then ipv6");
}

/* The earliest publish in policy order, not the lowest port. */
static void test_publish_order(void)
{
	rejected("jail a {\n\tbackend netns\n\tipv4 10.97.1.0/24\n\tpublish tcp/100-200:100\n}\n"
		 "jail b {\n\tbackend netns\n\tipv4 10.97.2.0/24\n\tpublish tcp/50-60:50\n}\n"
		 "jail c {\n\tbackend netns\n\tipv4 10.97.3.0/24\n\tpublish "
		 "tcp/55-150:55\n\tpublish tcp/55\n}\n"
		 "jail d {\n\tbackend netns\n\tipv4 10.97.4.0/24\n\tpublish udp/1-65535:1\n}\n"
		 "jail e {\n\tbackend netns\n\tipv4 10.97.5.0/24\n\tpublish udp/65535\n\tpublish "
		 "tcp/300\n\tpublish tcp/300\n}\n",
		 "policy.conf:14:10: error: tcp ports 100-150 are already published by jail \"a\" "
		 "(policy.conf:4)\n"
		 "policy.conf:15:10: error: tcp port 55 is already published by jail \"b\" "
		 "(policy.conf:9)\n"
		 "policy.conf:25:10: error: udp port 65535 is already published by jail \"d\" "
		 "(policy.conf:20)\n"
		 "policy.conf:27:10: error: tcp port 300 is already published by jail \"e\" "
		 "(policy.conf:26)\n",
		 "publish: the earliest earlier publish, then the jail's own");
}

/*
 * Thousands of jails (not timed: bench/ measures): no false conflict among
 * them, and the planted ones reported exactly, in policy order.
 */
#define BIG_N 2000

static void test_big_policy(void)
{
	struct strbuf pol, want;
	unsigned int line = 0, i, base, late2;
	struct run r;

	sb_init(&pol);
	sb_init(&want);
	for (i = 0; i < BIG_N; i++) {
		sb_printf(&pol,
			  "jail n%u {\n\tbackend netns\n\tipv4 10.%u.%u.0/24\n"
			  "\tipv6 fd00:%x::/64\n\tpublish tcp/%u:80\n\tallow udp/123\n}\n",
			  i, i / 256, i % 256, i, 10000 + i);
		line += 7;
	}
	base = line;
	for (i = 0; i < BIG_N; i++) {
		sb_printf(&pol, "jail u%u {\n\tbackend uid\n\tuser %u\n\tallow tcp/443\n}\n", i,
			  30000 + i);
		line += 5;
	}
	run(&r, pol.s);
	T_CHECK(r.parsed && r.ok && r.p.njails == 2 * BIG_N, "big policy: accepted");
	T_STREQ(r.msgs, "", "big policy: no false conflict");
	run_free(&r);

	/* 10.1.0.0/16 holds the /24s of n256 to n511. */
	sb_printf(&pol, "jail late1 {\n\tbackend netns\n\tipv4 10.1.0.0/16\n}\n");
	for (i = 256; i < 512; i++)
		sb_printf(&want,
			  "policy.conf:%u:7: error: ipv4 prefix 10.1.0.0/16 of jail \"late1\" "
			  "overlaps 10.1.%u.0/24 of jail \"n%u\" (policy.conf:%u)\n",
			  line + 3, i - 256, i, 7 * i + 3);
	line += 4;
	late2 = line;
	sb_printf(&pol, "jail late2 {\n\tbackend netns\n\tipv4 10.200.0.0/24\n\tifname n17\n"
			"\tpublish tcp/10042-10044:80\n}\n");
	sb_printf(&want,
		  "policy.conf:%u:9: error: interface names \"n17-out\" and \"n17-in\" of jail "
		  "\"late2\" are already used by jail \"n17\" (policy.conf:%u)\n"
		  "policy.conf:%u:10: error: tcp port 10042 is already published by jail \"n42\" "
		  "(policy.conf:%u)\n",
		  late2 + 4, 7 * 17 + 1, late2 + 5, 7 * 42 + 5);
	line += 6;
	sb_printf(&pol, "jail u5 {\n\tbackend uid\n\tuser 30005\n}\n");
	sb_printf(
	    &want,
	    "policy.conf:%u:6: error: duplicate jail \"u5\" (first defined at policy.conf:%u)\n",
	    line + 1, base + 5 * 5 + 1);
	line += 4;
	sb_printf(&pol, "jail late3 {\n\tbackend uid\n\tuser %u\n}\n", 30000 + BIG_N - 1);
	sb_printf(
	    &want,
	    "policy.conf:%u:7: error: uid %u already belongs to jail \"u%u\" (policy.conf:%u)\n",
	    line + 3, 30000 + BIG_N - 1, BIG_N - 1, base + 5 * (BIG_N - 1) + 3);

	run_max(&r, pol.s, &env, 0);
	T_CHECK(r.parsed && !r.ok && r.errors == 256 + 4, "big policy: every planted conflict");
	T_STREQ(r.msgs, want.s, "big policy: planted conflicts, exactly and in policy order");
	run_free(&r);
	sb_free(&pol);
	sb_free(&want);
}

/*
 * Past a handful of users the system's database is read once and searched
 * in memory: its answers must be getpwnam_r's and getpwuid_r's, and a
 * name it lacks is still looked up (and here, refused).
 */
#define MAX_SYS_USERS 100

static void test_user_cache(void)
{
	char *names[MAX_SYS_USERS];
	struct passwd *pw, pwb, *res;
	size_t n = 0, i;
	char buf[4096];
	unsigned int line = 0, unknown_line, bad_line;
	uid_t free_uid = 4294967000u;
	struct strbuf pol, want;
	struct run r;
	bool same = true;

	setpwent();
	while (n < MAX_SYS_USERS && (pw = getpwent()))
		names[n++] = xstrdup(pw->pw_name);
	endpwent();
	/* Only names getpwnam() resolves: those are what is compared. */
	for (i = 0; i < n;) {
		if (getpwnam(names[i])) {
			i++;
			continue;
		}
		free(names[i]);
		names[i] = names[--n];
	}
	/* A uid no entry has: its gid must be itself. */
	while (!getpwuid_r(free_uid, &pwb, buf, sizeof(buf), &res) && res)
		free_uid--;

	sb_init(&pol);
	sb_init(&want);
	/* netns jails: users may repeat, root included. */
	for (i = 0; i < n; i++) {
		sb_printf(&pol,
			  "jail c%zu {\n\tbackend netns\n\tipv4 10.98.%zu.0/30\n\tuser %s\n}\n", i,
			  i, names[i]);
		sb_printf(&pol,
			  "jail d%zu {\n\tbackend netns\n\tipv4 10.99.%zu.0/30\n\tuser %u\n}\n", i,
			  i, (unsigned int)getpwnam(names[i])->pw_uid);
		line += 10;
	}
	unknown_line = line + 1;
	sb_printf(&pol, "jail unk {\n\tbackend netns\n\tipv4 10.100.0.0/30\n\tuser %u\n}\n",
		  (unsigned int)free_uid);
	line += 5;
	bad_line = line + 4;
	sb_printf(
	    &pol,
	    "jail bad {\n\tbackend netns\n\tipv4 10.100.1.0/30\n\tuser no-such-user-jailfw\n}\n");
	sb_printf(&want,
		  "policy.conf:%u:7: error: unknown user \"no-such-user-jailfw\" (no such user on "
		  "this system; a numeric uid need not exist)\n",
		  bad_line);

	run_env(&r, pol.s, NULL);
	T_CHECK(n >= 8, "user cache: the system has enough users to use it");
	T_CHECK(r.parsed && r.p.njails == 2 * n + 2, "user cache: parsed");
	T_STREQ(r.msgs, want.s, "user cache: only the unknown name refused");
	for (i = 0; r.p.njails == 2 * n + 2 && i < n; i++) {
		const struct jail *jn = &r.p.jails[2 * i], *ju = &r.p.jails[2 * i + 1];

		pw = getpwnam(names[i]);
		if (!jn->uid_resolved || jn->uid != pw->pw_uid || jn->gid != pw->pw_gid)
			same = false;
		pw = getpwuid(pw->pw_uid);
		if (!ju->uid_resolved || ju->uid != pw->pw_uid || ju->gid != pw->pw_gid)
			same = false;
	}
	T_CHECK(same, "user cache: every name and uid as getpwnam and getpwuid answer");
	if (r.p.njails == 2 * n + 2) {
		const struct jail *j = &r.p.jails[2 * n];

		T_CHECK(j->uid_resolved && j->uid == free_uid && j->gid == (gid_t)free_uid &&
			    j->user_loc.line == unknown_line + 3,
			"user cache: a uid without an entry gets gid = uid");
	}
	run_free(&r);
	for (i = 0; i < n; i++)
		free(names[i]);
	sb_free(&pol);
	sb_free(&want);
}

int main(void)
{
	test_empty();
	test_dup_names();
	test_backend();
	test_users();
	test_hand_built();
	test_uid_misfits();
	test_prefixes();
	test_ifnames();
	test_dns();
	test_templates();
	test_rule_families();
	test_dup_rules();
	test_publish();
	test_template_publish();
	test_all_at_once();
	test_rivals();
	test_overlap_order();
	test_publish_order();
	test_big_policy();
	test_user_cache();
	return t_done();
}
