// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * status, diff and counters: the pure parts, without a kernel.
 *
 *   - diff_listings: grouping by object, element lists one per line and
 *     in a stable order, added and removed objects, context, no output for
 *     equal listings;
 *   - counters: which chains count as unchanged (comments and file lines
 *     do not matter, a jail's allowlist does), and the rewrite of rendered
 *     text with initial counter values;
 *   - status_print / status_json on a hand-built report, and on one whose
 *     strings came from a hostile kernel or state (any bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "counters.h"
#include "diag.h"
#include "diff.h"
#include "jsonw.h"
#include "parse.h"
#include "render.h"
#include "status.h"
#include "t.h"
#include "util.h"

/* ---- diff_listings ---- */

static const char *const base = "table inet jailfw {\n"
				"\tcomment \"managed by jailfw from p.conf; do not edit\"\n"
				"\tmap uid_jails {\n"
				"\t\ttype uid : verdict\n"
				"\t\telements = { 1099 comment \"p.conf:1\" : jump uid_web, 1100 "
				"comment \"p.conf:6\" : jump uid_db,\n"
				"\t\t\t     1101 comment \"p.conf:9\" : jump uid_x }\n"
				"\t}\n"
				"\n"
				"\tchain uid_web {\n"
				"\t\tcounter jump skuid_common comment \"p.conf:1\"\n"
				"\t\tcounter drop comment \"p.conf:1\"\n"
				"\t}\n"
				"\n"
				"\tchain uid_db {\n"
				"\t\tcounter jump skuid_common comment \"p.conf:6\"\n"
				"\t\tcounter drop comment \"p.conf:6\"\n"
				"\t}\n"
				"}\n";

static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);

	if (!at)
		abort();
	return xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

static void test_diff_same(void)
{
	char *out = diff_listings(base, base, "a", "b");

	T_STREQ(out, "", "diff: equal listings give no output");
	free(out);
	/* The same elements in another order (a hash set's dump order). */
	out = diff_listings(base,
			    "table inet jailfw {\n"
			    "\tcomment \"managed by jailfw from p.conf; do not edit\"\n"
			    "\tmap uid_jails {\n"
			    "\t\ttype uid : verdict\n"
			    "\t\telements = { 1101 comment \"p.conf:9\" : jump uid_x,\n"
			    "\t\t\t     1100 comment \"p.conf:6\" : jump uid_db, 1099 comment "
			    "\"p.conf:1\" : jump uid_web }\n"
			    "\t}\n"
			    "\tchain uid_web {\n"
			    "\t\tcounter jump skuid_common comment \"p.conf:1\"\n"
			    "\t\tcounter drop comment \"p.conf:1\"\n"
			    "\t}\n"
			    "\tchain uid_db {\n"
			    "\t\tcounter jump skuid_common comment \"p.conf:6\"\n"
			    "\t\tcounter drop comment \"p.conf:6\"\n"
			    "\t}\n"
			    "}\n",
			    "a", "b");
	T_STREQ(out, "", "diff: element order and line filling do not count");
	free(out);
	out = diff_listings("", "", "a", "b");
	T_STREQ(out, "", "diff: two empty listings are equal");
	free(out);
}

static void test_diff_element(void)
{
	char *b = replace(base, "1100 comment \"p.conf:6\" : jump uid_db",
			  "1102 comment \"p.conf:6\" : jump uid_db");
	char *out = diff_listings(base, b, "live", "new");

	T_STREQ(out,
		"--- live\n"
		"+++ new\n"
		"@@ map uid_jails @@\n"
		" \t\telements = {\n"
		" \t\t\t1099 comment \"p.conf:1\" : jump uid_web\n"
		"-\t\t\t1100 comment \"p.conf:6\" : jump uid_db\n"
		" \t\t\t1101 comment \"p.conf:9\" : jump uid_x\n"
		"+\t\t\t1102 comment \"p.conf:6\" : jump uid_db\n"
		" \t\t}\n"
		" \t}\n",
		"diff: a changed element is one line, under its map");
	free(out);
	free(b);
}

static void test_diff_chains(void)
{
	char *b = replace(base,
			  "\tchain uid_db {\n"
			  "\t\tcounter jump skuid_common comment \"p.conf:6\"\n"
			  "\t\tcounter drop comment \"p.conf:6\"\n"
			  "\t}\n",
			  "\tchain uid_new {\n"
			  "\t\tcounter drop comment \"p.conf:12\"\n"
			  "\t}\n");
	char *c = replace(b, "\t\tcounter drop comment \"p.conf:1\"\n",
			  "\t\tlog prefix \"x\" group 1\n\t\tcounter drop comment \"p.conf:1\"\n");
	char *out = diff_listings(base, c, "live", "new");

	T_STREQ(out,
		"--- live\n"
		"+++ new\n"
		"@@ chain uid_web @@\n"
		" \tchain uid_web {\n"
		" \t\tcounter jump skuid_common comment \"p.conf:1\"\n"
		"+\t\tlog prefix \"x\" group 1\n"
		" \t\tcounter drop comment \"p.conf:1\"\n"
		" \t}\n"
		"@@ chain uid_new: added @@\n"
		"+\tchain uid_new {\n"
		"+\t\tcounter drop comment \"p.conf:12\"\n"
		"+\t}\n"
		"@@ chain uid_db: removed @@\n"
		"-\tchain uid_db {\n"
		"-\t\tcounter jump skuid_common comment \"p.conf:6\"\n"
		"-\t\tcounter drop comment \"p.conf:6\"\n"
		"-\t}\n",
		"diff: changed, added and removed chains, each under its name");
	free(out);
	out = diff_listings("", base, "live", "new");
	T_CHECK(out && strstr(out, "@@ table: added @@\n+table inet jailfw {\n") &&
		    strstr(out, "@@ chain uid_db: added @@\n"),
		"diff: against no table, everything is added");
	free(out);
	free(b);
	free(c);
}

/* Two changes far apart in one object: two hunks, each with context. */
static void test_diff_hunks(void)
{
	struct strbuf a, b;
	char *out;
	int i;

	sb_init(&a);
	sb_init(&b);
	sb_puts(&a, "table inet t {\n\tchain c {\n");
	sb_puts(&b, "table inet t {\n\tchain c {\n");
	for (i = 0; i < 20; i++) {
		sb_printf(&a, "\t\tr%d\n", i);
		sb_printf(&b, "\t\tr%d%s\n", i, i == 3 || i == 15 ? "x" : "");
	}
	sb_puts(&a, "\t}\n}\n");
	sb_puts(&b, "\t}\n}\n");
	out = diff_listings(a.s, b.s, "a", "b");
	T_STREQ(out,
		"--- a\n+++ b\n"
		"@@ chain c @@\n \t\tr1\n \t\tr2\n-\t\tr3\n+\t\tr3x\n \t\tr4\n \t\tr5\n"
		"@@ chain c @@\n \t\tr13\n \t\tr14\n-\t\tr15\n+\t\tr15x\n \t\tr16\n \t\tr17\n",
		"diff: distant changes make separate hunks with two lines of context");
	free(out);
	sb_free(&a);
	sb_free(&b);
}

/* ---- counters ---- */

static bool load(struct policy *p, const char *text)
{
	struct diag d;
	bool ok;

	diag_init(&d, stderr);
	policy_init(p);
	ok = policy_parse_buffer(p, &d, "p.conf", text, strlen(text), false) &&
	     check_policy(p, &d, NULL) && !d.errors;
	diag_free(&d);
	return ok;
}

static const struct counters_chain_text *find_chain(const struct counters_chain_text *c, size_t n,
						    const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return &c[i];
	return NULL;
}

static uint64_t sig_of(const char *policy, const char *chain)
{
	struct counters_chain_text *ct = NULL;
	const struct counters_chain_text *c;
	struct policy p;
	uint64_t sig = 0;
	size_t n = 0;
	char *text;

	if (!load(&p, policy)) {
		policy_free(&p);
		return 0;
	}
	text = render_policy_str(&p, RENDER_REPLACE);
	n = counters_scan_text(&p, text, &ct);
	c = find_chain(ct, n, chain);
	if (c)
		sig = c->sig;
	counters_chain_text_free(ct, n);
	free(text);
	policy_free(&p);
	return sig;
}

#define POL_WEB "jail web {\n\tbackend uid\n\tuser 1099\n\tallow udp/123\n}\n"
#define POL_DB "jail db {\n\tbackend uid\n\tuser 1100\n\tallow tcp/5432\n}\n"
#define POL_NET                                                                                    \
	"jail box {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tallow tcp/443\n"                     \
	"\tallow tcp/80 to 192.0.2.0/24\n}\n"

static void test_signatures(void)
{
	uint64_t web = sig_of(POL_WEB POL_DB, "uid_web");
	uint64_t db = sig_of(POL_WEB POL_DB, "uid_db");

	T_CHECK(web && db && web != db, "counters: each jail chain has its own signature");
	/* The other jail's allowlist changed, and everything moved down a line. */
	T_CHECK(sig_of("\n" POL_WEB "jail db {\n\tbackend uid\n\tuser 1100\n\tallow tcp/5433\n}\n",
		       "uid_web") == web,
		"counters: another jail's change and shifted lines keep a jail unchanged");
	T_CHECK(sig_of("jail db {\n\tbackend uid\n\tuser 1100\n\tallow tcp/5433\n}\n" POL_WEB,
		       "uid_db") != db,
		"counters: a jail whose allowlist changed is not unchanged");
	T_CHECK(sig_of(POL_DB POL_WEB, "uid_web") == web,
		"counters: the order of jails in the file does not matter");
	T_CHECK(sig_of("jail web {\n\tbackend uid\n\tuser 1098\n\tallow udp/123\n}\n" POL_DB,
		       "uid_web") != web,
		"counters: a jail that moved to another uid is not unchanged");
	T_CHECK(sig_of("jail web {\n\tbackend uid\n\tuser 1099\n\tallow udp/123\n"
		       "\tlog-drops yes\n}\n" POL_DB,
		       "uid_web") != web,
		"counters: logging drops changes the chain");

	web = sig_of(POL_NET, "fwd_box");
	T_CHECK(web && sig_of("jail box {\n\tbackend netns\n\tipv4 10.97.10.0/24\n"
			      "\tallow tcp/80 to 192.0.2.0/24\n\tallow tcp/443\n}\n",
			      "fwd_box") == web,
		"counters: allow rules in another order are the same allowlist");
	T_CHECK(sig_of("jail box {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tallow tcp/443\n"
		       "\tallow tcp/80 to 198.51.100.0/24\n}\n",
		       "fwd_box") != web,
		"counters: another destination is another allowlist");
	T_CHECK(sig_of("jail box {\n\tbackend netns\n\tipv4 10.97.11.0/24\n\tallow tcp/443\n"
		       "\tallow tcp/80 to 192.0.2.0/24\n}\n",
		       "fwd_box") != web,
		"counters: another prefix changes the jail");
	T_CHECK(sig_of(POL_NET, "in_box") && sig_of(POL_NET, "fwdto_box") &&
		    sig_of(POL_NET, "in_box") != sig_of(POL_NET, "fwdto_box"),
		"counters: every chain of a netns jail is scanned");
}

static void test_scan(void)
{
	struct counters_chain_text *ct = NULL;
	const struct counters_chain_text *c;
	struct policy p;
	size_t n = 0;
	char *text;

	if (!load(&p, POL_NET "jail web {\n\tbackend uid\n\tuser 1099\n\tallow udp/123\n"
			      "\tlog-drops yes\n}\n")) {
		T_CHECK(0, "scan: the test policy loads");
		return;
	}
	text = render_policy_str(&p, RENDER_REPLACE);
	n = counters_scan_text(&p, text, &ct);
	c = find_chain(ct, n, "uid_web");
	T_CHECK(c && c->nrules == 3 && c->counted[0] && !c->counted[1] && c->counted[2],
		"scan: uid_web has a counted jump, a log rule and a counted drop");
	c = find_chain(ct, n, "fwd_box");
	T_CHECK(c && c->nrules == 5 && c->counted[0] && c->counted[4],
		"scan: fwd_box has five rules, counters on the first and the last");
	c = find_chain(ct, n, "forward");
	T_CHECK(c && c->nrules >= 2 && !c->counted[0] && !c->counted[1],
		"scan: a base chain's type line is not a rule");
	counters_chain_text_free(ct, n);
	free(text);
	policy_free(&p);
}

static void test_rewrite(void)
{
	static const char text[] =
	    "table inet t {\n"
	    "\tchain a {\n"
	    "\t\tcounter jump x comment \"counter.conf:1\"\n"
	    "\t\tlog prefix \"counter \" group 1 comment \"counter.conf:1\"\n"
	    "\t\tcounter drop comment \"counter.conf:1\"\n"
	    "\t}\n"
	    "\tchain b {\n"
	    "\t\tcounter drop\n"
	    "\t}\n"
	    "}\n";
	static const struct counters_value va[] = {{true, 12, 3456}, {false, 0, 0}, {true, 7, 700}};
	static const struct counters_value vb[] = {{false, 5, 5}};
	struct counters_init init[] = {{"a", va, 3}, {"b", vb, 1}};
	char *out = counters_rewrite(text, init, 2);

	T_STREQ(out,
		"table inet t {\n"
		"\tchain a {\n"
		"\t\tcounter packets 12 bytes 3456 jump x comment \"counter.conf:1\"\n"
		"\t\tlog prefix \"counter \" group 1 comment \"counter.conf:1\"\n"
		"\t\tcounter packets 7 bytes 700 drop comment \"counter.conf:1\"\n"
		"\t}\n"
		"\tchain b {\n"
		"\t\tcounter drop\n"
		"\t}\n"
		"}\n",
		"rewrite: initial values on the counted rules of the listed chains only");
	free(out);
	out = counters_rewrite(text, NULL, 0);
	T_STREQ(out, text, "rewrite: nothing to carry leaves the text as it is");
	free(out);
}

/* ---- status output ---- */

static void fill_report(struct status_report *r)
{
	struct status_jail *j;
	struct status_drift *dr;

	memset(r, 0, sizeof(*r));
	r->table = xstrdup("jailfw");
	r->table_state = STATUS_TABLE_OURS;
	r->applied = r->recorded = true;
	r->phase = "idle";
	r->genid = 7;
	r->jails = xcalloc(2, sizeof(*r->jails));
	r->njails = 2;
	j = &r->jails[0];
	j->name = xstrdup("box");
	j->backend = BACKEND_NETNS;
	j->in_table = j->recorded = true;
	snprintf(j->host_if, sizeof(j->host_if), "box-out");
	j->link_present = j->link_ours = true;
	j->link_up = false;
	j->has_v4 = true;
	j->v4.family = AF_INET;
	j->v4.addr.b[0] = 10;
	j->v4.addr.b[1] = 97;
	j->v4.len = 24;
	j->addrs = xcalloc(1, sizeof(*j->addrs));
	j->naddrs = 1;
	j->addrs[0] = j->v4;
	j->addrs[0].addr.b[3] = 1;
	j->ns_checked = j->ns_present = j->ns_same = true;
	j->accepted = (struct status_count){10, 1000};
	j->dropped = (struct status_count){2, 120};
	j->out.present = j->host.present = j->inbound.present = true;
	j->out.accepted = j->accepted;
	j->out.dropped = j->dropped;
	j = &r->jails[1];
	j->name = xstrdup("web");
	j->backend = BACKEND_UID;
	j->in_table = j->recorded = j->has_uid = true;
	j->uid = 1099;
	j->accepted = (struct status_count){3, 180};
	j->out.present = true;
	j->out.accepted = j->accepted;
	r->drift = xcalloc(1, sizeof(*r->drift));
	r->ndrift = 1;
	dr = &r->drift[0];
	dr->kind = "link-down";
	dr->jail = xstrdup("box");
	dr->message = xstrdup("jail box: interface box-out is down");
}

static char *print(const struct status_report *r, bool quiet)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	status_print(f, r, quiet);
	fclose(f);
	return buf;
}

/* The document on one line, every key in its place. */
static char *print_json(const struct status_report *r)
{
	json_t *doc = status_json(r);
	char *s = json_dumps(doc, 0);

	json_decref(doc);
	return s;
}

static void test_status_output(void)
{
	struct status_report r;
	char *out;

	fill_report(&r);
	out = print(&r, false);
	T_STREQ(out,
		"table inet jailfw: in force, as jailfw applied it (2 jails: 1 uid, 1 netns)\n"
		"JAIL  BACKEND  ACCEPTED  DROPPED  WHERE\n"
		"box   netns     10/1000    2/120  box-out down 10.97.0.1/24, netns ok\n"
		"web   uid         3/180      0/0  uid 1099\n"
		"(counters: packets/bytes)\n"
		"drift: jail box: interface box-out is down\n",
		"status: the text report, one line per jail and per drift");
	free(out);
	out = print(&r, true);
	T_STREQ(out, "drift: jail box: interface box-out is down\n",
		"status -q: only the drift lines");
	free(out);
	out = print_json(&r);
	T_STREQ(out,
		"{\"schema\": \"jailfw-status\", \"version\": 1, \"table\": \"jailfw\", "
		"\"table_state\": \"jailfw\", \"applied\": true, \"recorded\": true, "
		"\"changed\": false, \"dormant\": false, \"phase\": \"idle\", \"genid\": 7, "
		"\"drift\": [{\"kind\": \"link-down\", \"jail\": \"box\", \"message\": "
		"\"jail box: interface box-out is down\"}], "
		"\"notes\": [], "
		"\"jails\": ["
		"{\"name\": \"box\", \"backend\": \"netns\", \"in_table\": true, "
		"\"recorded\": true, \"stopped\": false, "
		"\"link\": {\"name\": \"box-out\", \"present\": true, \"up\": false, "
		"\"jailfw\": true, \"addresses\": [\"10.97.0.1/24\"]}, "
		"\"namespace\": {\"path\": \"/run/netns/box\", \"present\": true, "
		"\"jailfw\": true}, \"prefixes\": [\"10.97.0.0/24\"], "
		"\"accepted\": {\"packets\": 10, \"bytes\": 1000}, "
		"\"dropped\": {\"packets\": 2, \"bytes\": 120}, "
		"\"flows\": {\"out\": {\"accepted\": {\"packets\": 10, \"bytes\": 1000}, "
		"\"dropped\": {\"packets\": 2, \"bytes\": 120}}, "
		"\"host\": {\"accepted\": {\"packets\": 0, \"bytes\": 0}, "
		"\"dropped\": {\"packets\": 0, \"bytes\": 0}}, "
		"\"inbound\": {\"accepted\": {\"packets\": 0, \"bytes\": 0}, "
		"\"dropped\": {\"packets\": 0, \"bytes\": 0}}}}, "
		"{\"name\": \"web\", \"backend\": \"uid\", \"in_table\": true, "
		"\"recorded\": true, \"stopped\": false, \"uid\": 1099, "
		"\"accepted\": {\"packets\": 3, \"bytes\": 180}, "
		"\"dropped\": {\"packets\": 0, \"bytes\": 0}, "
		"\"flows\": {\"out\": {\"accepted\": {\"packets\": 3, \"bytes\": 180}, "
		"\"dropped\": {\"packets\": 0, \"bytes\": 0}}}}], "
		"\"sysctls\": []}",
		"status --json: the documented schema, version 1, key for key");
	free(out);
	/* A stopped jail (updown.h): said in WHERE and counted in the headline. */
	r.jails[1].stopped = true;
	out = print(&r, false);
	T_STREQ(out,
		"table inet jailfw: in force, as jailfw applied it (2 jails: 1 uid, 1 netns; 1 "
		"stopped)\n"
		"JAIL  BACKEND  ACCEPTED  DROPPED  WHERE\n"
		"box   netns     10/1000    2/120  box-out down 10.97.0.1/24, netns ok\n"
		"web   uid         3/180      0/0  uid 1099, stopped\n"
		"(counters: packets/bytes)\n"
		"drift: jail box: interface box-out is down\n",
		"status: a stopped jail says so");
	free(out);
	out = print_json(&r);
	T_CHECK(strstr(out, "{\"name\": \"web\", \"backend\": \"uid\", \"in_table\": true, "
			    "\"recorded\": true, \"stopped\": true, ") != NULL,
		"status --json: stopped true");
	free(out);
	r.jails[1].stopped = false;
	T_CHECK(status_exit(&r) == 1, "status: drift makes exit status 1");
	free(r.drift[0].jail);
	free(r.drift[0].message);
	r.ndrift = 0;
	T_CHECK(status_exit(&r) == 0, "status: no drift is exit status 0");
	status_report_free(&r);
}

/*
 * What a hostile kernel or state can put into the report: a chain or map
 * element named with any bytes (not UTF-8, control characters, quotes,
 * backslashes), a counter set by hand past INT64_MAX.  The document still
 * parses, with each bad byte sequence as U+FFFD and the rest intact.
 */
static void test_status_json_hostile(void)
{
	static const char bad[] = "x\"y\\z\x01\n\xff\xc3\xa9\xe2\x82";
	static const char want[] = "x\"y\\z\x01\n\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd";
	struct status_report r;
	struct status_jail *j;
	json_t *doc, *back, *jail;
	json_error_t err;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	memset(&r, 0, sizeof(r));
	r.table = xstrdup("jailfw");
	r.jails = xcalloc(2, sizeof(*r.jails));
	r.njails = 2;
	j = &r.jails[0];
	j->name = xstrdup(bad);
	j->backend = BACKEND_UID;
	j->accepted = (struct status_count){UINT64_MAX, (uint64_t)INT64_MAX + 1};
	j = &r.jails[1];
	j->name = xstrdup("n");
	j->backend = BACKEND_NETNS;
	snprintf(j->host_if, sizeof(j->host_if), "\x01\"\\\xfe");
	r.drift = xcalloc(1, sizeof(*r.drift));
	r.ndrift = 1;
	r.drift[0].kind = "table-changed";
	r.drift[0].message = xasprintf("chain %s added", bad);
	r.notes = xcalloc(1, sizeof(*r.notes));
	r.nnotes = 1;
	r.notes[0] = xstrdup(bad);
	r.sysctls = xcalloc(1, sizeof(*r.sysctls));
	r.nsysctls = 1;
	r.sysctls[0].key = xstrdup("net.ipv4.conf.\xff.forwarding");
	r.sysctls[0].set = xstrdup("1");
	r.sysctls[0].was = xstrdup("0\x7f");

	f = open_memstream(&buf, &len);
	doc = status_json(&r);
	T_CHECK(jsonw_print(f, doc) == 0, "hostile: the document is written");
	json_decref(doc);
	fclose(f);
	back = json_loads(buf, 0, &err);
	T_CHECK(back != NULL, "hostile: the document parses (strict UTF-8)");
	if (!back)
		printf("# %s\n%s\n", err.text, buf);
	jail = json_array_get(json_object_get(back, "jails"), 0);
	T_STREQ(json_string_value(json_object_get(jail, "name")), want,
		"hostile: a jail name of any bytes: U+FFFD for each bad sequence, the rest kept");
	T_CHECK(json_integer_value(json_object_get(json_object_get(jail, "accepted"), "packets")) ==
			INT64_MAX &&
		    json_integer_value(
			json_object_get(json_object_get(jail, "accepted"), "bytes")) == INT64_MAX,
		"hostile: counters past INT64_MAX are INT64_MAX, not negative");
	T_CHECK(json_is_null(json_object_get(jail, "uid")) &&
		    json_is_null(json_object_get(json_object_get(jail, "flows"), "out")),
		"hostile: a uid jail without uid or chain: nulls");
	jail = json_array_get(json_object_get(back, "jails"), 1);
	T_STREQ(json_string_value(json_object_get(json_object_get(jail, "link"), "name")),
		"\x01\"\\\xef\xbf\xbd", "hostile: an interface name from the state");
	T_CHECK(json_is_null(json_object_get(jail, "namespace")) &&
		    json_is_null(json_object_get(json_object_get(jail, "flows"), "inbound")),
		"hostile: a netns jail without namespace or chains: nulls");
	T_STREQ(json_string_value(
		    json_object_get(json_array_get(json_object_get(back, "drift"), 0), "message")),
		"chain x\"y\\z\x01\n\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd added",
		"hostile: a drift line naming a chain of any bytes");
	T_STREQ(json_string_value(json_array_get(json_object_get(back, "notes"), 0)), want,
		"hostile: a note");
	T_CHECK(json_is_null(
		    json_object_get(json_array_get(json_object_get(back, "sysctls"), 0), "now")),
		"hostile: an unreadable sysctl is null");
	/* Control characters are escaped, never raw, in the text. */
	for (i = 0; buf && i < len && ((unsigned char)buf[i] >= 0x20 || buf[i] == '\n'); i++)
		;
	T_CHECK(buf && i == len, "hostile: no raw control character in the output");
	json_decref(back);
	free(buf);
	status_report_free(&r);
}

int main(void)
{
	test_diff_same();
	test_diff_element();
	test_diff_chains();
	test_diff_hunks();
	test_signatures();
	test_scan();
	test_rewrite();
	test_status_output();
	test_status_json_hostile();
	return t_done();
}
