// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nftload: mapping libnftables' errors back to the policy (pure, on canned
 * error text), then real loads into the kernel.
 *
 * The kernel half needs a network namespace of its own: the binary
 * re-executes itself under `unshare --net --mount` (plus --map-root-user
 * when not root), marked by JAILFW_TEST_NETNS so it does not loop, and
 * asserts on what the kernel holds afterwards, read back through
 * libnftables.  It never touches the namespace it was started in.
 */
#include <cap-ng.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "model.h"
#include "nftload.h"
#include "sandbox.h"
#include "t.h"
#include "util.h"

#define NETNS_ENV "JAILFW_TEST_NETNS"

static const char policy_text[] = "jail www {\n"
				  "\tbackend uid\n"
				  "\tuser 1099\n"
				  "\tallow tcp/80   # web\n"
				  "\tuse ntp\n"
				  "}\n";

static const char ntp_text[] = "template ntp {\n"
			       "\tallow udp/123\n"
			       "}\n";

/* A policy as the parser leaves it, for the files and quoting only. */
struct fixture {
	struct policy p;
	struct diag d;
	char *out;
	size_t len;
	FILE *mem;
};

static void fixture_init(struct fixture *f)
{
	const char *pf, *tf;

	policy_init(&f->p);
	pf = policy_add_file(&f->p, "tests/x/policy.conf");
	tf = policy_add_file(&f->p, "/usr/share/jailfw/templates/ntp.conf");
	f->p.settings.table = strdup("jt");
	f->out = NULL;
	f->len = 0;
	f->mem = open_memstream(&f->out, &f->len);
	diag_init(&f->d, f->mem);
	diag_add_source(&f->d, pf, policy_text, strlen(policy_text));
	diag_add_source(&f->d, tf, ntp_text, strlen(ntp_text));
}

/* What was reported so far (valid until the next call). */
static const char *fixture_text(struct fixture *f)
{
	fflush(f->mem);
	return f->out;
}

static void fixture_reset(struct fixture *f)
{
	fclose(f->mem);
	free(f->out);
	f->out = NULL;
	f->len = 0;
	f->mem = open_memstream(&f->out, &f->len);
	f->d.out = f->mem;
	f->d.errors = f->d.warnings = 0;
}

static void fixture_free(struct fixture *f)
{
	fclose(f->mem);
	free(f->out);
	diag_free(&f->d);
	policy_free(&f->p);
}

/* The shape the renderer emits, small enough to read. */
#define TABLE_HEAD                                                                                 \
	"table inet jt {}\n"                                                                       \
	"delete table inet jt\n"                                                                   \
	"table inet jt {\n"                                                                        \
	"\tcomment \"managed by jailfw from policy.conf; do not edit\"\n"                          \
	"\tchain out {\n"                                                                          \
	"\t\ttype filter hook output priority filter; policy accept;\n"

/* Lines 7 and 8: a rule from the policy and one from a template. */
static const char good_text[] =
    TABLE_HEAD "\t\ttcp dport 80 accept comment \"policy.conf:4\"\n"
	       "\t\tudp dport 123 accept comment \"ntp.conf:2 via policy.conf:5\"\n"
	       "\t}\n"
	       "}\n";

static const char good2_text[] = TABLE_HEAD "\t\ttcp dport 443 accept comment \"policy.conf:4\"\n"
					    "\t}\n"
					    "}\n";

/* Line 8 jumps to a chain that does not exist: the kernel says ENOENT. */
static const char bad_text[] =
    TABLE_HEAD "\t\ttcp dport 8080 accept comment \"policy.conf:4\"\n"
	       "\t\tudp dport 123 jump nosuch comment \"ntp.conf:2 via policy.conf:5\"\n"
	       "\t}\n"
	       "}\n";

static const char want_template_error[] =
    "/usr/share/jailfw/templates/ntp.conf:2:2: error: the kernel refused the rule made "
    "from this line: Could not process rule: No such file or directory\n"
    "    2 |  allow udp/123\n"
    "      |  ^~~~~~~~~~~~~\n"
    "tests/x/policy.conf:5:2: note: the template is used here\n"
    "    5 |  use ntp\n"
    "      |  ^~~~~~~\n";

static void test_mapping(void)
{
	struct fixture f;
	unsigned int n;

	fixture_init(&f);

	/* A located error on a rule line, as libnftables prints it. */
	n = nftload_report_errors(&f.p, good_text,
				  "/proc/self/fd/4:7:13-14: Error: Could not process rule: "
				  "Numerical result out of range\n"
				  "\t\ttcp dport 80 accept comment \"policy.conf:4\"\n"
				  "\t\t          ^^\n",
				  &f.d);
	T_CHECK(n == 1 && f.d.errors == 1, "one located error: one report");
	T_STREQ(fixture_text(&f),
		"tests/x/policy.conf:4:2: error: the kernel refused the rule made from this line: "
		"Could not process rule: Numerical result out of range\n"
		"    4 |  allow tcp/80   # web\n"
		"      |  ^~~~~~~~~~~~\n",
		"error mapped to the policy line, statement underlined without its comment");

	/* A template rule: the template's line, then where it is used. */
	fixture_reset(&f);
	nftload_report_errors(&f.p, bad_text,
			      "/proc/self/fd/4:8:26-31: Error: Could not process rule: No such "
			      "file or directory\n"
			      "\t\tudp dport 123 jump nosuch comment "
			      "\"ntp.conf:2 via policy.conf:5\"\n"
			      "\t\t                   ^^^^^^\n",
			      &f.d);
	T_STREQ(fixture_text(&f), want_template_error, "template rule: template line + use note");

	/* The same rule failing twice is said once; a second rule is said too. */
	fixture_reset(&f);
	n = nftload_report_errors(&f.p, good_text,
				  "/proc/self/fd/4:7:1-2: Error: Could not process rule: X\n"
				  "a\nb\n"
				  "/proc/self/fd/4:7:5-6: Error: Could not process rule: X\n"
				  "a\nb\n"
				  "/proc/self/fd/4:8:5-6: Error: Could not process rule: Y\n"
				  "a\nb\n",
				  &f.d);
	T_CHECK(n == 2 && f.d.errors == 2, "duplicate error on one line said once, others kept");

	/* The quoted line is never taken for an error, whatever it holds. */
	fixture_reset(&f);
	n = nftload_report_errors(&f.p, good_text,
				  "/proc/self/fd/4:7:1-2: Error: Could not process rule: X\n"
				  "foo: Error: bar\n"
				  "Error: baz\n",
				  &f.d);
	T_CHECK(n == 1 && f.d.errors == 1, "quoted source line and carets are skipped");

	/* A line without a comment: the ruleset as a whole, first error only. */
	fixture_reset(&f);
	n = nftload_report_errors(&f.p, good_text,
				  "/proc/self/fd/4:3:1-5: Error: Could not process rule: "
				  "Device or resource busy\n"
				  "table inet jt {\n"
				  "^^^^^\n"
				  "/proc/self/fd/4:1:1-5: Error: Something else\n"
				  "table inet jt {}\n"
				  "^^^^^\n",
				  &f.d);
	T_CHECK(n == 1 && f.d.errors == 1, "unmapped: one error");
	T_STREQ(fixture_text(&f),
		"jailfw: error: the kernel refused the ruleset: Could not process rule: Device or "
		"resource busy\n"
		"jailfw: note: at line 3 of the ruleset that \"jailfw render\" prints\n",
		"unmapped: the first message, trimmed, and where in the rendered text");

	/* No location at all (buffer input, netlink failures). */
	fixture_reset(&f);
	nftload_report_errors(&f.p, good_text, "Error: syntax error, unexpected comment  \n", &f.d);
	T_STREQ(fixture_text(&f),
		"jailfw: error: the kernel refused the ruleset: syntax error, unexpected comment\n",
		"unlocated error: trailing blanks trimmed");

	fixture_reset(&f);
	nftload_report_errors(&f.p, good_text,
			      "netlink: Error: cache initialization failed: Operation not "
			      "permitted\n",
			      &f.d);
	T_STREQ(fixture_text(&f),
		"jailfw: error: nftables refused access: cache initialization failed: Operation "
		"not permitted (CAP_NET_ADMIN over this network namespace is needed)\n",
		"EPERM: says which capability");

	fixture_reset(&f);
	nftload_report_errors(&f.p, good_text, "", &f.d);
	T_STREQ(fixture_text(&f),
		"jailfw: error: the kernel refused the ruleset (no reason given)\n",
		"empty error text still reports an error");

	/* A comment naming a file the policy was not read from maps nowhere. */
	fixture_reset(&f);
	nftload_report_errors(&f.p, "\t\tx comment \"other.conf:4\"\n", "f:1:1-2: Error: E\nq\nc\n",
			      &f.d);
	T_STREQ(fixture_text(&f),
		"jailfw: error: the kernel refused the ruleset: E\n"
		"jailfw: note: at line 1 of the ruleset that \"jailfw render\" prints\n",
		"unknown file in the comment: not mapped");

	/* Line past the end of the text, control characters in the message. */
	fixture_reset(&f);
	nftload_report_errors(&f.p, good_text, "f:99:1-2: Error: a\tb\x1b[31m\nq\nc\n", &f.d);
	T_STREQ(fixture_text(&f),
		"jailfw: error: the kernel refused the ruleset: a?b?[31m\n"
		"jailfw: note: at line 99 of the ruleset that \"jailfw render\" prints\n",
		"line beyond the text; control characters neutralised");

	fixture_free(&f);
}

/* The renderer writes unsafe characters of a file name as '_'. */
static void test_mapping_names(void)
{
	struct policy p;
	struct diag d;
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	policy_init(&p);
	policy_add_file(&p, "/etc/jailfw/a.conf");
	policy_add_file(&p, "/etc/jailfw/my policy#1.conf");
	diag_init(&d, mem);
	nftload_report_errors(&p, "x comment \"my policy_1.conf:12: anti-spoofing\"\n",
			      "f:1:1-2: Error: E\nq\nc\n", &d);
	fflush(mem);
	T_STREQ(out,
		"/etc/jailfw/my policy#1.conf:12:1: error: the kernel refused the rule made from "
		"this line: E\n",
		"sanitised file name and a comment suffix still map (no source: column 1)");
	fclose(mem);
	free(out);
	diag_free(&d);
	policy_free(&p);
}

/* The table as the kernel holds it ("" if absent). */
static char *kernel_table(const char *table)
{
	struct diag d;
	char *out = NULL;
	FILE *null = fopen("/dev/null", "w");

	diag_init(&d, null);
	if (nftload_list_table(table, NFTLOAD_LIST_TERSE, &out, &d))
		out = strdup("");
	fclose(null);
	return out;
}

static void test_kernel(void)
{
	char *before = NULL, *after = NULL, *json = NULL, *handover, *hold, *saved;
	struct fixture f;
	int ret, status;
	pid_t pid;

	fixture_init(&f);
	T_CHECK(nftload_table_exists("jt") == 0, "fresh netns: no table jt");
	T_CHECK(nftload_table_state("jt", &f.d) == NFTLOAD_TABLE_ABSENT, "fresh netns: absent");

	ret = nftload_run(&f.p, good_text, false, &f.d);
	T_CHECK(ret == 0, "load: accepted");
	T_STREQ(fixture_text(&f), "", "load: nothing reported");
	T_CHECK(nftload_table_exists("jt") == 1, "load: table jt exists");
	T_CHECK(nftload_table_state("jt", &f.d) == NFTLOAD_TABLE_OURS, "load: table is ours");
	before = kernel_table("jt");
	T_CHECK(strstr(before, "tcp dport 80 accept comment \"policy.conf:4\"") != NULL,
		"load: the kernel holds the rule");

	ret = nftload_run(&f.p, good2_text, true, &f.d);
	after = kernel_table("jt");
	T_CHECK(ret == 0, "dry run of another ruleset: accepted");
	T_STREQ(after, before, "dry run: the kernel's table is unchanged");
	free(after);

	ret = nftload_run(&f.p, bad_text, false, &f.d);
	after = kernel_table("jt");
	T_CHECK(ret == -EINVAL, "refused ruleset: -EINVAL");
	T_STREQ(fixture_text(&f), want_template_error,
		"refused ruleset: the kernel's error mapped to the template line");
	T_STREQ(after, before, "refused ruleset: previous table exactly as it was");
	free(after);

	/* The test-only fault hook refuses an otherwise valid ruleset. */
	fixture_reset(&f);
	setenv("JAILFW_TEST_FAULT", "other,nft-commit", 1);
	ret = nftload_run(&f.p, good2_text, false, &f.d);
	unsetenv("JAILFW_TEST_FAULT");
	after = kernel_table("jt");
	T_CHECK(ret == -EINVAL, "fault nft-commit: refused");
	T_CHECK(strstr(fixture_text(&f), "the kernel refused the ruleset: Could not process rule: "
					 "No such file or directory") != NULL,
		"fault nft-commit: reported as a refused ruleset");
	T_STREQ(after, before, "fault nft-commit: previous table exactly as it was");
	free(after);

	/*
	 * nft-commit-replace refuses a load into jailfw's own table but not
	 * one into its handover table (apply.c loads that one first).
	 */
	fixture_reset(&f);
	setenv("JAILFW_TEST_FAULT", "nft-commit-replace", 1);
	ret = nftload_run(&f.p, good2_text, false, &f.d);
	after = kernel_table("jt");
	T_CHECK(ret == -EINVAL, "fault nft-commit-replace: jailfw's table refused");
	T_STREQ(after, before, "fault nft-commit-replace: previous table exactly as it was");
	free(after);
	handover = nftload_handover_name("jt");
	T_STREQ(handover, "jt-handover", "handover table name");
	saved = f.p.settings.table;
	f.p.settings.table = handover;
	hold = xasprintf("table inet %s {\n\tcomment \"managed by jailfw\"\n}\n", handover);
	ret = nftload_run(&f.p, hold, false, &f.d);
	unsetenv("JAILFW_TEST_FAULT");
	f.p.settings.table = saved;
	T_CHECK(ret == 0, "fault nft-commit-replace: the handover table loads");
	T_CHECK(nftload_table_state(handover, &f.d) == NFTLOAD_TABLE_OURS,
		"the handover table is jailfw's");
	T_CHECK(nftload_delete_table(handover, &f.d) == 0 && nftload_table_exists(handover) == 0,
		"the handover table deletes");
	free(hold);
	free(handover);

	ret = nftload_run(&f.p, good2_text, false, &f.d);
	after = kernel_table("jt");
	T_CHECK(ret == 0 && strstr(after, "tcp dport 443") && !strstr(after, "dport 80 "),
		"replace: the new table replaced the old one");
	free(after);

	/* Someone else's table of another name and one of ours. */
	fixture_reset(&f);
	ret = nftload_run(&f.p, "table inet foreign {\n\tchain c {\n\t}\n}\n", false, &f.d);
	T_CHECK(ret == 0, "a foreign table loads");
	T_CHECK(nftload_table_state("foreign", &f.d) == NFTLOAD_TABLE_FOREIGN,
		"a table without jailfw's comment is foreign");

	T_CHECK(nftload_delete_table("jt", &f.d) == 0, "delete: ok");
	T_CHECK(nftload_table_exists("jt") == 0, "delete: table jt gone");
	T_CHECK(nftload_delete_table("jt", &f.d) == 0, "delete again: ok (idempotent)");
	T_CHECK(nftload_table_exists("foreign") == 1, "delete: the other table untouched");
	T_CHECK(nftload_table_exists("x;flush ruleset") == -EINVAL, "bad table name refused");
	T_CHECK(nftload_delete_table("x y", &f.d) == -EINVAL, "bad table name not deleted");
	T_CHECK(nftload_table_exists("foreign") == 1, "the other table still there");
	T_STREQ(fixture_text(&f), "jailfw: error: invalid table name \"x y\"\n",
		"bad table name: reported");

	/* The throwaway namespace: loads there are invisible here. */
	fixture_reset(&f);
	ret = nftload_run_isolated(&f.p, good_text, NFTLOAD_LIST_JSON, &json, &f.d);
	T_CHECK(ret == 0 && json && strstr(json, "\"name\": \"jt\""),
		"isolated: JSON of the table loaded in a throwaway netns");
	T_CHECK(json && strstr(json, "\"comment\": \"policy.conf:4\""),
		"isolated: JSON holds the rule's comment");
	T_CHECK(nftload_table_exists("jt") == 0, "isolated: nothing loaded in this netns");
	free(json);

	fixture_reset(&f);
	ret = nftload_run_isolated(&f.p, bad_text, NFTLOAD_LIST_TERSE, NULL, &f.d);
	T_CHECK(ret == -EINVAL, "isolated dry run of a bad ruleset: -EINVAL");
	T_STREQ(fixture_text(&f), want_template_error,
		"isolated: the child's mapped diagnostics come back");
	T_CHECK(f.d.errors == 1, "isolated: the child's error is counted");

	fixture_reset(&f);
	ret = nftload_run_isolated(&f.p, good_text, NFTLOAD_LIST_TERSE, NULL, &f.d);
	T_CHECK(ret == 0 && f.d.errors == 0, "isolated dry run of a good ruleset: ok");

	/* Without CAP_NET_ADMIN nfnetlink refuses everything: -EPERM. */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		capng_clear(CAPNG_SELECT_BOTH);
		if (capng_apply(CAPNG_SELECT_BOTH))
			_exit(2);
		fixture_reset(&f);
		ret = nftload_run(&f.p, good_text, true, &f.d);
		_exit(ret == -EPERM && strstr(fixture_text(&f), "nftables refused access") ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"no CAP_NET_ADMIN: -EPERM and a message naming it");

	free(before);
	fixture_free(&f);
}

int main(void)
{
	if (!getenv(NETNS_ENV)) {
		int err = t_reexec_unshared(NETNS_ENV);

		/* Only when unshare itself is missing; its own failures exit. */
		printf("# SKIP kernel tests: cannot run unshare: %s\n", strerror(-err));
		test_mapping();
		test_mapping_names();
		return t_done();
	}
	test_mapping();
	test_mapping_names();
	test_kernel();
	return t_done();
}
