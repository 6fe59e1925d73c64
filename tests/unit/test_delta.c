// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The delta apply's object diff (delta.c): the exact script for an element
 * and a chain changed, a jail added and removed (with a set of its own),
 * and a full replace for everything a delta must not express: the table's
 * own lines, a set declaration, a base chain's hook, a new base chain.
 * And the jails a delta changes (delta_jails), against a record of the
 * policy committed before: each kind of change selects exactly its jail.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "counters.h"
#include "delta.h"
#include "diag.h"
#include "parse.h"
#include "t.h"
#include "util.h"

#define HEAD                                                                                       \
	"table inet jailfw {}\n"                                                                   \
	"delete table inet jailfw\n"                                                               \
	"table inet jailfw {\n"                                                                    \
	"\tcomment \"managed by jailfw from p.conf; do not edit\"\n"

#define MAPS(elems)                                                                                \
	"\tmap uid_jails {\n"                                                                      \
	"\t\ttype uid : verdict\n"                                                                 \
	"\t\telements = { " elems " }\n"                                                           \
	"\t}\n"

#define OUT                                                                                        \
	"\tchain skuid_output {\n"                                                                 \
	"\t\ttype filter hook output priority filter - 10; policy accept;\n"                       \
	"\t\tmeta skuid vmap @uid_jails\n"                                                         \
	"\t}\n"

#define CHAIN(n, r) "\tchain " n " {\n\t\t" r "\n\t}\n"

static const char *const base = HEAD MAPS(
    "1099 comment \"p.conf:1\" : jump uid_a,\n\t\t\t     1100 comment \"p.conf:5\" : jump uid_b")
    OUT CHAIN("uid_a", "counter drop comment \"p.conf:1\"")
	CHAIN("uid_b", "counter drop comment \"p.conf:5\"") "}\n";

static char *script(const char *old, const char *new, size_t *n, const char **why)
{
	return delta_script("jailfw", old, new, n, why);
}

/*
 * The committed policy, and variants with one thing changed.  "ports" and
 * "nets4" are named like the words of a script's shared objects (net_ports,
 * jail_nets4), which re-lexing the script once took for jails.  port NULL:
 * no jail "port"; db_first "yes": jail db at the top of the file.
 */
struct variant {
	const char *box_dst, *port, *own4, *ntp, *web, *extra, *db_first;
};

static const struct variant committed = {
    "198.51.100.0/24", "443", "10.97.52.0/24", "123", "80", "", ""};

static bool policy_of(struct policy *p, const struct variant *v)
{
	static const char db[] = "jail db {\n\tbackend uid\n\tuser 1100\n\tallow tcp/5432\n}\n";
	FILE *devnull = fopen("/dev/null", "w");
	char *text, *port;
	struct diag d;
	bool ok;

	port = !v->port ? xstrdup("")
			: xasprintf("jail port {\n\tbackend netns\n\tipv4 10.97.51.0/24\n"
				    "\tallow tcp/%s\n}\n",
				    v->port);
	text = xasprintf("%stemplate ntp {\n\tallow udp/%s\n}\n"
			 "jail box {\n\tbackend netns\n\tipv4 10.97.50.0/24\n"
			 "\tallow tcp/443 to %s\n}\n"
			 "%s"
			 "jail own {\n\tbackend netns\n\tipv4 %s\n\tallow tcp/443\n}\n"
			 "jail tmpl {\n\tbackend netns\n\tipv4 10.97.53.0/24\n\tuse ntp\n}\n"
			 "jail ports {\n\tbackend netns\n\tipv4 10.97.54.0/24\n\tallow tcp/443\n}\n"
			 "jail nets4 {\n\tbackend netns\n\tipv4 10.97.55.0/24\n}\n"
			 "jail web {\n\tbackend uid\n\tuser 1099\n\tallow tcp/%s\n}\n"
			 "%s%s",
			 *v->db_first ? db : "", v->ntp, v->box_dst, port, v->own4, v->web,
			 *v->db_first ? "" : db, v->extra);
	policy_init(p);
	diag_init(&d, devnull);
	ok = policy_parse_buffer(p, &d, "p.conf", text, strlen(text), false) &&
	     check_policy(p, &d, &(struct check_env){0});
	diag_free(&d);
	if (devnull)
		fclose(devnull);
	free(port);
	free(text);
	return ok;
}

/* The record counters_save writes of policy old: its jails' signatures. */
static void record_of(const struct policy *old, bool with_jails, struct counters_last *l)
{
	struct counters_last then;
	const uint64_t *sigs;
	size_t i;

	memset(l, 0, sizeof(*l));
	memset(&then, 0, sizeof(then));
	sigs = counters_last_sigs(&then, old);
	for (i = 0; with_jails && i < old->njails; i++)
		*VEC_PUSH(l->rec.jails, l->rec.njails) =
		    (struct counters_obj){xstrdup(old->jails[i].name), 0, sigs[i]};
	counters_last_free(&then);
}

/* The names delta_jails selects, in policy order: "box,web". */
static char *selected(const struct variant *v, bool with_jails)
{
	struct policy old, p;
	struct counters_last l;
	struct strbuf sb;
	bool *changed;
	size_t i;

	sb_init(&sb);
	if (!policy_of(&old, &committed) || !policy_of(&p, v)) {
		sb_puts(&sb, "(invalid policy)");
		goto out;
	}
	record_of(&old, with_jails, &l);
	changed = delta_jails(&p, &l);
	for (i = 0; i < p.njails; i++)
		if (changed[i])
			sb_printf(&sb, "%s%s", sb.len ? "," : "", p.jails[i].name);
	free(changed);
	counters_last_free(&l);
out:
	policy_free(&old);
	policy_free(&p);
	return sb_steal(&sb);
}

static void test_jails(void)
{
#define FIELD(f) offsetof(struct variant, f)
	static const struct {
		size_t field;
		const char *value, *want, *what;
	} cases[] = {
	    {FIELD(box_dst), "198.51.100.0/24", "", "the same policy: none"},
	    {FIELD(box_dst), "198.51.100.0/25", "box", "a destination prefix narrowed: box alone"},
	    {FIELD(port), "8443", "port", "a port changed: that jail alone"},
	    {FIELD(own4), "10.97.60.0/24", "own", "a jail's own prefix changed: that jail alone"},
	    {FIELD(ntp), "124", "tmpl", "a template changed: the jail that uses it alone"},
	    {FIELD(web), "8080", "web", "a uid jail's port changed: that jail alone"},
	    {FIELD(extra), "jail new {\n\tbackend netns\n\tipv4 10.97.56.0/24\n}\n", "new",
	     "a jail added: that jail alone"},
	    {FIELD(port), NULL, "", "a jail removed: none of the others"},
	    {FIELD(db_first), "yes", "", "a jail moved to the top of the file: none"},
	};
#undef FIELD
	struct variant v;
	char *got, *what;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		v = committed;
		*(const char **)((char *)&v + cases[i].field) = cases[i].value;
		got = selected(&v, true);
		what = xasprintf("delta jails: %s", cases[i].what);
		T_STREQ(got, cases[i].want, what);
		free(what);
		free(got);
	}
	got = selected(&committed, false);
	T_STREQ(got, "box,port,own,tmpl,ports,nets4,web,db",
		"delta jails: a record without jails (version 4, or after a failed sweep): all");
	free(got);
}

int main(void)
{
	const char *why;
	char *s;
	size_t n;

	s = script(base, base, &n, &why);
	T_CHECK(!s && n == 0 && !why, "the same text: no script, no reason");

	/* One chain's rules changed: flush and re-add, nothing else. */
	s = script(base,
		   HEAD MAPS("1099 comment \"p.conf:1\" : jump uid_a,\n\t\t\t     1100 comment "
			     "\"p.conf:5\" : jump uid_b")
		       OUT CHAIN("uid_a",
				 "tcp dport 80 accept comment \"p.conf:2\"\n\t\tcounter drop "
				 "comment \"p.conf:1\"") CHAIN("uid_b", "counter drop comment "
									"\"p.conf:5\"") "}\n",
		   &n, &why);
	T_STREQ(s,
		"flush chain inet jailfw uid_a\n"
		"add rule inet jailfw uid_a tcp dport 80 accept comment \"p.conf:2\"\n"
		"add rule inet jailfw uid_a counter drop comment \"p.conf:1\"\n",
		"a chain changed: flushed and refilled");
	T_CHECK(n == 1, "one object");
	free(s);

	/* uid_b removed, uid_c added: elements and chains in a valid order. */
	s = script(base,
		   HEAD MAPS("1099 comment \"p.conf:1\" : jump uid_a,\n\t\t\t     1200 comment "
			     "\"p.conf:9\" : jump uid_c")
		       OUT CHAIN("uid_a", "counter drop comment \"p.conf:1\"") CHAIN(
			   "uid_c", "counter drop comment \"p.conf:9\"") "\tset dst_1_v4 {\n"
									 "\t\ttype ipv4_addr\n"
									 "\t\telements = { "
									 "192.0.2.0/24, "
									 "198.51.100.0/24 }\n"
									 "\t}\n"
									 "}\n",
		   &n, &why);
	T_STREQ(s,
		"table inet jailfw {\n"
		"\tset dst_1_v4 {\n"
		"\t\ttype ipv4_addr\n"
		"\t}\n"
		"}\n"
		"add chain inet jailfw uid_c\n"
		"delete element inet jailfw uid_jails { 1100 }\n"
		"add rule inet jailfw uid_c counter drop comment \"p.conf:9\"\n"
		"flush chain inet jailfw uid_b\n"
		"add element inet jailfw uid_jails { 1200 comment \"p.conf:9\" : jump uid_c }\n"
		"add element inet jailfw dst_1_v4 { 192.0.2.0/24,\n\t198.51.100.0/24 }\n"
		"delete chain inet jailfw uid_b\n",
		"a jail added, one removed: create, unhook, refill, hook, delete");
	T_CHECK(n == 7, "seven objects (2 chains, 2 elements, a set and its 2 elements)");
	free(s);

	/* The removal of a set comes last. */
	s = script(HEAD MAPS("1099 : jump uid_a")
		       OUT CHAIN("uid_a", "drop") "\tset gone {\n\t\ttype ipv4_addr\n\t}\n}\n",
		   HEAD MAPS("1099 : jump uid_a") OUT CHAIN("uid_a", "drop") "}\n", &n, &why);
	T_STREQ(s, "delete set inet jailfw gone\n", "a set removed");
	free(s);

	/* What must be a full replace. */
	s = script(base,
		   "table inet jailfw {}\ndelete table inet jailfw\ntable inet jailfw {\n"
		   "\tcomment \"managed by jailfw from q.conf; do not edit\"\n" MAPS(
		       "1099 comment \"p.conf:1\" : jump uid_a,\n\t\t\t     1100 comment "
		       "\"p.conf:5\" : jump uid_b") OUT CHAIN("uid_a", "counter drop comment "
								       "\"p.conf:1\"")
		       CHAIN("uid_b", "counter drop comment \"p.conf:5\"") "}\n",
		   &n, &why);
	T_CHECK(!s && why && strstr(why, "table"), "the table's comment changed: full replace");

	s = script(HEAD MAPS("1099 : jump uid_a") OUT CHAIN("uid_a", "drop") "}\n",
		   HEAD
		   "\tmap uid_jails {\n\t\ttype uid : verdict\n\t\tflags interval\n"
		   "\t\telements = { 1099 : jump uid_a }\n\t}\n" OUT CHAIN("uid_a", "drop") "}\n",
		   &n, &why);
	T_CHECK(!s && why && strstr(why, "declaration"),
		"a map's declaration changed: full replace");

	s = script(
	    HEAD MAPS("1099 : jump uid_a") OUT CHAIN("uid_a", "drop") "}\n",
	    HEAD MAPS("1099 : jump uid_a") "\tchain skuid_output {\n"
					   "\t\ttype filter hook output priority filter - 5; "
					   "policy accept;\n"
					   "\t\tmeta skuid vmap @uid_jails\n"
					   "\t}\n" CHAIN("uid_a", "drop") "}\n",
	    &n, &why);
	T_CHECK(!s && why && strstr(why, "base chain"),
		"a base chain's priority changed: full replace");

	s = script(
	    HEAD MAPS("1099 : jump uid_a") OUT CHAIN("uid_a", "drop") "}\n",
	    HEAD MAPS("1099 : jump uid_a") OUT CHAIN(
		"uid_a",
		"drop") "\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n"
			"\t}\n}\n",
	    &n, &why);
	T_CHECK(!s && why && strstr(why, "base chain"), "a base chain added: full replace");

	/* A base chain whose rules alone changed is refilled in place. */
	s = script(
	    HEAD MAPS("1099 : jump uid_a") OUT CHAIN("uid_a", "drop") "}\n",
	    HEAD MAPS("1099 : jump uid_a") "\tchain skuid_output {\n"
					   "\t\ttype filter hook output priority filter - 10; "
					   "policy accept;\n"
					   "\t\tmeta skuid vmap @uid_jails counter\n"
					   "\t}\n" CHAIN("uid_a", "drop") "}\n",
	    &n, &why);
	T_STREQ(s,
		"flush chain inet jailfw skuid_output\n"
		"add rule inet jailfw skuid_output meta skuid vmap @uid_jails counter\n",
		"a base chain's rules changed: refilled, its hook untouched");
	free(s);

	/*
	 * A table of another family (the arp walls) with a set of the same
	 * name as the inet table's: each table's delta names its own.
	 */
#define ARP(elems)                                                                                 \
	"table arp jailfw {\n"                                                                     \
	"\tset jail_nets4 {\n"                                                                     \
	"\t\ttype ipv4_addr\n"                                                                     \
	"\t\telements = { " elems " }\n"                                                           \
	"\t}\n"                                                                                    \
	"}\n"
#define INET_SET "\tset jail_nets4 {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1 }\n\t}\n"
	s = script(
	    HEAD MAPS("1099 : jump uid_a") INET_SET CHAIN("uid_a", "drop") "}\n" ARP("10.0.0.1"),
	    HEAD MAPS("1099 : jump uid_a") INET_SET CHAIN("uid_a", "accept") "}\n" ARP("10.0.0.1"),
	    &n, &why);
	T_STREQ(s,
		"flush chain inet jailfw uid_a\n"
		"add rule inet jailfw uid_a accept\n",
		"an arp table beside: the inet table's delta only, its same-named set untouched");
	free(s);
	s = script(
	    HEAD MAPS("1099 : jump uid_a") INET_SET CHAIN("uid_a", "drop") "}\n" ARP("10.0.0.1"),
	    HEAD MAPS("1099 : jump uid_a") INET_SET CHAIN("uid_a", "drop") "}\n" ARP("10.0.0.2"),
	    &n, &why);
	T_STREQ(s,
		"delete element arp jailfw jail_nets4 { 10.0.0.1 }\n"
		"add element arp jailfw jail_nets4 { 10.0.0.2 }\n",
		"the arp table's elements changed: its delta, the inet table untouched");
	T_CHECK(n == 2, "two objects");
	free(s);

	/* Both tables change: one script, each part across both tables. */
	s = script(HEAD MAPS("1099 : jump uid_a")
		       INET_SET CHAIN("uid_a", "drop") "}\n" ARP("10.0.0.1"),
		   HEAD MAPS("1099 : jump uid_a") INET_SET CHAIN("uid_a", "drop")
		       CHAIN("uid_b", "drop") "}\n" ARP("10.0.0.1,\n\t\t\t     10.0.0.2"),
		   &n, &why);
	T_STREQ(s,
		"add chain inet jailfw uid_b\n"
		"add rule inet jailfw uid_b drop\n"
		"add element arp jailfw jail_nets4 { 10.0.0.2 }\n",
		"a chain in one table, an element in the other: one script");
	free(s);

	/* The arp table comes or goes (the first netns jail, the last): a full replace. */
	s = script(HEAD MAPS("1099 : jump uid_a") INET_SET CHAIN("uid_a", "drop") "}\n",
		   HEAD MAPS("1099 : jump uid_a")
		       INET_SET CHAIN("uid_a", "drop") "}\n" ARP("10.0.0.1"),
		   &n, &why);
	T_CHECK(!s && why && strstr(why, "table was added"), "a table added: a full replace");
	s = script(HEAD MAPS("1099 : jump uid_a")
		       INET_SET CHAIN("uid_a", "drop") "}\n" ARP("10.0.0.1"),
		   HEAD MAPS("1099 : jump uid_a") INET_SET CHAIN("uid_a", "drop") "}\n", &n, &why);
	T_CHECK(!s && why && strstr(why, "table was added or removed"),
		"a table removed: a full replace");

	/* A declaration in the arp table is held to the same rule as the inet table's. */
	s = script(
	    HEAD MAPS("1099 : jump uid_a") CHAIN("uid_a", "drop") "}\n" ARP("10.0.0.1"),
	    HEAD MAPS("1099 : jump uid_a") CHAIN(
		"uid_a",
		"drop") "}\n"
			"table arp jailfw {\n\tset jail_nets4 {\n\t\ttype ipv4_addr\n\t\tflags "
			"interval\n\t\telements = { 10.0.0.1 }\n\t}\n}\n",
	    &n, &why);
	T_CHECK(!s && why && strstr(why, "declaration"),
		"an arp set's declaration changed: a full replace");

	test_jails();
	return t_done();
}
