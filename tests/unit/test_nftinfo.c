// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nftinfo: the kernel's tables as libnftnl reads them, in a network
 * namespace of the test's own (the binary re-executes itself under
 * `unshare --net --mount`, as test_nftload does).  A ruleset with tables
 * of three families is loaded with libnftables, then read back:
 *
 *   - nftinfo_ruleset_read: every table with its chains (hook, priority,
 *     policy, type), the rules and sets only of the tables asked for, each
 *     rule with its handle, verdict and libnftnl rule (doctor classifies
 *     those), anonymous sets with their elements;
 *   - nftinfo_table_read of the same inet table: the same digests;
 *   - nftinfo_table_comment and nftinfo_table_find by family and name;
 *   - the one socket nftinfo_talk keeps (nftinfo.c): it answers for the
 *     namespace the caller is in, after unshare() and setns() back, in a
 *     forked child and in its parent after it, and after a dump that a
 *     callback stopped early (the rest of it is not read as the next
 *     query's answer).
 */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "nftinfo.h"
#include "sandbox.h"
#include "t.h"

#define NETNS_ENV "JAILFW_TEST_NETNS"

static const char ruleset[] = "table inet own {\n"
			      "\tcomment \"managed by jailfw from p.conf; do not edit\"\n"
			      "\tmap uid_jails {\n"
			      "\t\ttype uid : verdict\n"
			      "\t\telements = { 1099 : jump uid_web }\n"
			      "\t}\n"
			      "\tchain out {\n"
			      "\t\ttype filter hook output priority filter - 10; policy accept;\n"
			      "\t\tmeta skuid vmap @uid_jails\n"
			      "\t}\n"
			      "\tchain uid_web {\n"
			      "\t\tcounter drop comment \"p.conf:1\"\n"
			      "\t}\n"
			      "}\n"
			      "table inet fw {\n"
			      "\tchain input {\n"
			      "\t\ttype filter hook input priority filter + 10; policy drop;\n"
			      "\t\tct state { established, related } accept\n"
			      "\t\tiifname \"lo\" jump allow\n"
			      "\t}\n"
			      "\tchain allow {\n"
			      "\t\taccept\n"
			      "\t}\n"
			      "}\n"
			      "table ip filter {\n"
			      "\tchain FORWARD {\n"
			      "\t\ttype filter hook forward priority filter; policy drop;\n"
			      "\t}\n"
			      "}\n"
			      "table ip6 nat {\n"
			      "\tchain POSTROUTING {\n"
			      "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
			      "\t}\n"
			      "}\n";

static bool load(const char *text)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	bool ok;

	if (!nft)
		return false;
	nft_ctx_buffer_error(nft);
	ok = nft_run_cmd_from_buffer(nft, text) == 0;
	if (!ok)
		printf("# %s", nft_ctx_get_error_buffer(nft));
	nft_ctx_free(nft);
	return ok;
}

/* Only the table called "fw": the others keep their chains, no rules. */
static bool want_fw(const struct nftinfo_table *t, void *arg)
{
	(*(int *)arg)++;
	return !strcmp(t->name, "fw");
}

static void test_ruleset(void)
{
	const struct nftinfo_table *fw, *own, *ipf, *nat, *none;
	const struct nftinfo_chain *in, *out, *allow, *fwd;
	struct nftinfo_ruleset rs;
	struct doctor_match m;
	int asked = 0, ret;

	ret = nftinfo_ruleset_read(want_fw, &asked, &rs);
	T_CHECK(ret == 0, "ruleset_read: reads");
	if (ret)
		return;
	T_CHECK(rs.ntables == 4 && asked == 4, "ruleset_read: every table, each asked about");
	fw = nftinfo_table_find(&rs, NFPROTO_INET, "fw");
	own = nftinfo_table_find(&rs, NFPROTO_INET, "own");
	ipf = nftinfo_table_find(&rs, NFPROTO_IPV4, "filter");
	nat = nftinfo_table_find(&rs, NFPROTO_IPV6, "nat");
	none = nftinfo_table_find(&rs, NFPROTO_IPV6, "filter");
	T_CHECK(fw && own && ipf && nat && !none, "table_find: by family and name");
	if (!fw || !own || !ipf || !nat)
		goto out;
	T_STREQ(own->comment, "managed by jailfw from p.conf; do not edit", "a table's comment");
	T_STREQ(fw->comment, "", "no comment: \"\"");
	T_CHECK(fw->genid == rs.genid && own->genid == rs.genid, "every table: the read's genid");

	in = nftinfo_chain_find(fw, "input");
	allow = nftinfo_chain_find(fw, "allow");
	T_CHECK(in && allow && fw->nchains == 2, "fw: its two chains");
	if (!in || !allow)
		goto out;
	T_CHECK(in->base && in->hook == NF_INET_LOCAL_IN && in->prio == 10 &&
		    in->policy == NF_DROP && !strcmp(in->type, "filter"),
		"base chain: hook input, priority 10, policy drop, type filter");
	T_CHECK(!allow->base && !allow->type, "a regular chain: no hook, no type");
	T_CHECK(in->nrules == 2 && allow->nrules == 1, "a wanted table: its rules");
	if (in->nrules == 2) {
		T_CHECK(in->rules[0].nl && in->rules[1].nl, "each rule keeps its libnftnl rule");
		T_CHECK(in->rules[0].handle && in->rules[1].handle > in->rules[0].handle,
			"rules: the kernel's handles, in order");
		T_CHECK(in->rules[1].verdict == NFTINFO_V_JUMP &&
			    !strcmp(in->rules[1].target, "allow"),
			"a jump: its verdict and target");
		/* What doctor makes of them: the anonymous set is read too. */
		T_CHECK(doctor_classify_rule(in->rules[0].nl, 0x00200000, &m) ==
				DOCTOR_RULE_ACCEPT_CTSTATE &&
			    m.ctset && nftinfo_set_find(fw, m.ctset) &&
			    nftinfo_set_find(fw, m.ctset)->nelems == 2,
			"ct state { established, related }: its anonymous set, two elements");
		T_CHECK(doctor_classify_rule(in->rules[1].nl, 0x00200000, &m) ==
				DOCTOR_RULE_JUMP_IFNAME &&
			    !strcmp(m.ifname, "lo"),
			"iifname \"lo\" jump: classified from the kept rule");
	}

	out = nftinfo_chain_find(own, "out");
	T_CHECK(out && out->base && out->hook == NF_INET_LOCAL_OUT && out->prio == -10 &&
		    out->policy == NF_ACCEPT,
		"own table: its base chain's hook, priority and policy");
	T_CHECK(out && out->nrules == 0 && own->nsets == 0,
		"a table not wanted: no rules, no sets");
	fwd = nftinfo_chain_find(ipf, "FORWARD");
	T_CHECK(fwd && fwd->hook == NF_INET_FORWARD && fwd->policy == NF_DROP,
		"ip filter FORWARD: hook forward, policy drop");
	T_CHECK(nat->nchains == 1 && !strcmp(nat->chains[0].type, "nat") &&
		    nat->chains[0].prio == 100,
		"ip6 nat POSTROUTING: type nat, priority srcnat (100)");
out:
	nftinfo_ruleset_free(&rs);
	T_CHECK(rs.ntables == 0 && !rs.tables, "ruleset_free: empties it");
}

/* One table read alone and within the whole ruleset: the same digests. */
static void test_same_digests(void)
{
	struct nftinfo_table *t = NULL;
	struct nftinfo_ruleset rs;
	const struct nftinfo_table *w;
	bool same = true;
	size_t i;

	if (nftinfo_table_read("own", &t) || nftinfo_ruleset_read(NULL, NULL, &rs)) {
		T_CHECK(false, "table_read and ruleset_read: read");
		nftinfo_table_free(t);
		return;
	}
	w = nftinfo_table_find(&rs, NFPROTO_INET, "own");
	T_CHECK(w && w->nchains == t->nchains && w->nsets == t->nsets,
		"want NULL: every table's contents");
	for (i = 0; w && i < t->nchains && i < w->nchains; i++)
		same &= !strcmp(t->chains[i].name, w->chains[i].name) &&
			t->chains[i].digest == w->chains[i].digest &&
			t->chains[i].nrules == w->chains[i].nrules;
	for (i = 0; w && i < t->nsets && i < w->nsets; i++)
		same &= t->sets[i].digest == w->sets[i].digest;
	T_CHECK(w && same && t->digest == w->digest, "the same chains, sets and digests");
	T_CHECK(t->nchains == 2 && !t->chains[1].rules[0].nl,
		"table_read: no libnftnl rules kept (thousands of jails)");
	T_CHECK(t->nsets == 1 && t->sets[0].nelems == 1 && t->sets[0].elems[0].chain &&
		    !strcmp(t->sets[0].elems[0].chain, "uid_web"),
		"table_read: a verdict map's element and its chain");
	nftinfo_table_free(t);
	nftinfo_ruleset_free(&rs);
}

static void test_missing(void)
{
	struct nftinfo_table *t = (struct nftinfo_table *)1;
	char *comment = (char *)1;

	T_CHECK(nftinfo_table_read("nosuch", &t) == -ENOENT && !t, "table_read: -ENOENT");
	/* table ip filter exists; table inet filter does not. */
	T_CHECK(nftinfo_table_read("filter", &t) == -ENOENT && !t,
		"table_read: inet only, not ip filter");
	T_CHECK(nftinfo_table_comment("nosuch", &comment) == -ENOENT && !comment,
		"table_comment: -ENOENT");
	T_CHECK(nftinfo_table_comment("own", &comment) == 0 && comment &&
		    !strncmp(comment, "managed by jailfw", 17),
		"table_comment: the comment");
	free(comment);
	T_CHECK(nftinfo_table_comment("fw", &comment) == 0 && comment && !*comment,
		"table_comment: \"\" for none");
	free(comment);
}

static bool has_own(void)
{
	char *comment = NULL;
	int ret = nftinfo_table_comment("own", &comment);

	free(comment);
	return ret == 0;
}

static int stop_at_first(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(int *)data)++;
	return MNL_CB_STOP;
}

static void test_socket(void)
{
	char buf[8192], *many;
	struct nlmsghdr *nlh;
	int home, status, seen = 0, i;
	size_t len = 0;
	pid_t pid;

	T_CHECK(has_own(), "socket: this namespace's table");
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	T_CHECK(home >= 0 && unshare(CLONE_NEWNET) == 0, "socket: into a new namespace");
	T_CHECK(!has_own(), "socket: the new namespace has no such table");
	T_CHECK(setns(home, CLONE_NEWNET) == 0, "socket: back home");
	T_CHECK(has_own(), "socket: home's table again");
	close(home);

	pid = fork();
	if (pid == 0)
		_exit(has_own() ? 0 : 1);
	T_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0,
		"socket: a forked child asks on its own");
	T_CHECK(has_own(), "socket: the parent's still answers after the child ended");

	/* 3000 chains: a dump of more than one batch of replies. */
	many = malloc(3000 * 40 + 64);
	len = (size_t)sprintf(many, "table inet many {\n");
	for (i = 0; i < 3000; i++)
		len += (size_t)sprintf(many + len, "\tchain c%d {\n\t}\n", i);
	sprintf(many + len, "}\n");
	T_CHECK(load(many), "socket: a table of 3000 chains");
	free(many);
	nlh = nftinfo_nfnl_header(buf, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN, NLM_F_DUMP,
				  NFPROTO_INET, 0, 4242);
	T_CHECK(nftinfo_talk(nlh, stop_at_first, &seen) == 0 && seen == 1,
		"socket: a dump stopped at its first chain");
	T_CHECK(has_own(), "socket: the next query reads its own answer");
	T_CHECK(load("delete table inet many\n"), "socket: 3000 chains gone");
}

int main(void)
{
	if (!getenv(NETNS_ENV)) {
		int err = t_reexec_unshared(NETNS_ENV);

		printf("# SKIP kernel tests: cannot run unshare: %s\n", strerror(-err));
		return t_done();
	}
	if (!load(ruleset)) {
		T_CHECK(false, "load the test ruleset");
		return t_done();
	}
	test_ruleset();
	test_same_digests();
	test_missing();
	test_socket();
	return t_done();
}
