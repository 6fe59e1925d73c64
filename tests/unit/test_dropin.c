// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A policy in several files: a policy directory (jailfw.conf, then
 * jails.d/NAME.conf in byte order of NAME) and the include statement.
 * Which drop-in files are read and in what order, which are skipped, and
 * the exact diagnostics for what is refused: a missing main file, an
 * include that names nothing, a cycle, a file read twice, nesting too
 * deep, settings outside the main file, directories others can write, a
 * jail or template defined in two files (both named), and the names rule
 * comments give the files.
 *
 * Runs in a private temporary directory (chdir), so the paths in the
 * messages are short and fixed.
 */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "capture.h"
#include "check.h"
#include "fake_users.h"
#include "parse.h"
#include "render.h"
#include "t.h"

static const struct fake_user users[] = {
    {"www", 1099, 1099},
    {"db", 1100, 1100},
};
static const struct fake_users user_db = {users, ARRAY_SIZE(users)};
static const struct check_env test_env = FAKE_USERS_ENV(user_db);

static char tmpdir[] = "/tmp/jailfw-dropin-XXXXXX";

struct res {
	struct policy p;
	struct cap c;
	const char *out; /* everything diag printed, once res_end() ran */
	bool ok;
};

static void res_begin(struct res *r)
{
	memset(r, 0, sizeof(*r));
	policy_init(&r->p);
	cap_init(&r->c);
	r->c.d.max_errors = 0;
}

static void res_end(struct res *r)
{
	r->out = cap_text(&r->c);
}

static void res_free(struct res *r)
{
	cap_free(&r->c);
	policy_free(&r->p);
}

/* The CLI's front half: parse the path, then check if that went well. */
static void load(struct res *r, const char *path)
{
	res_begin(r);
	r->ok = policy_parse_path(&r->p, &r->c.d, path);
	if (r->ok)
		r->ok = check_policy(&r->p, &r->c.d, &test_env);
	res_end(r);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		printf("# cannot write %s\n", path);
		exit(2);
	}
}

static void dir(const char *path)
{
	if (mkdir(path, 0755) && errno != EEXIST) {
		printf("# cannot mkdir %s\n", path);
		exit(2);
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* An empty policy directory "pol" with an empty jails.d. */
static void fresh_policy_dir(void)
{
	rm_tree("pol");
	dir("pol");
	dir("pol/jails.d");
}

/* The jails' names in policy order, space-separated. */
static const char *jail_names(const struct policy *p)
{
	static char buf[512];
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < p->njails && n < sizeof(buf) - 80; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
				      p->jails[i].name);
	return buf;
}

static const char *uid_jail(const char *name, unsigned int uid)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "jail %s {\n\tbackend uid\n\tuser %u\n\tallow tcp/443\n}\n",
		 name, uid);
	return buf;
}

/* ---- a policy directory ---- */

static void test_directory(void)
{
	struct res r;
	int fd;

	fresh_policy_dir();
	put("pol/jailfw.conf", "settings {\n\twan eth0\n}\n");
	put("pol/jails.d/b.conf", uid_jail("b", 2002));
	put("pol/jails.d/B.conf", uid_jail("upper", 2001));
	put("pol/jails.d/a-10.conf", uid_jail("a10", 2003));
	put("pol/jails.d/a-9.conf", uid_jail("a9", 2004));
	/* Never policy: each would be an error if it were read. */
	put("pol/jails.d/b.conf~", "not policy\n");
	put("pol/jails.d/b.conf.dpkg-old", "not policy\n");
	put("pol/jails.d/b.conf.rpmnew", "not policy\n");
	put("pol/jails.d/.hidden.conf", "not policy\n");
	put("pol/jails.d/.#b.conf", "not policy\n");
	put("pol/jails.d/README", "not policy\n");
	dir("pol/jails.d/sub.conf");
	put("pol/jails.d/sub.conf/x.conf", "not policy\n");
	T_CHECK(symlink("nowhere", "pol/jails.d/dangling.conf") == 0, "make a dangling symlink");
	T_CHECK(mkfifo("pol/jails.d/fifo.conf", 0644) == 0, "make a FIFO");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		strcpy(sa.sun_path, "pol/jails.d/sock.conf");
		T_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
			"make a socket");
	}
	put("elsewhere.conf", uid_jail("linked", 2005));
	T_CHECK(symlink("../../elsewhere.conf", "pol/jails.d/linked.conf") == 0,
		"make a symlink to a file");

	load(&r, "pol");
	T_STREQ(r.out, "", "directory: no diagnostics");
	T_CHECK(r.ok, "directory: accepted");
	T_STREQ(jail_names(&r.p), "upper a10 a9 b linked",
		"drop-ins in byte order after the main file; backups, hidden files, directories, "
		"FIFOs, sockets and dangling symlinks skipped; a symlink to a file read");
	T_CHECK(r.p.has_settings && r.p.settings.nwan == 1, "the main file's settings");
	T_STREQ(r.p.files[0], "pol/jailfw.conf", "the main file is read first");
	T_STREQ(r.p.jails[0].loc.file, "pol/jails.d/B.conf", "a drop-in's jail is located in it");
	res_free(&r);
	if (fd >= 0)
		close(fd);

	/* Equivalent spellings. */
	load(&r, "pol/");
	T_STREQ(jail_names(&r.p), "upper a10 a9 b linked", "a trailing slash");
	T_STREQ(r.p.files[1], "pol/jails.d/B.conf", "no doubled slash in file names");
	res_free(&r);

	rm_tree("pol");
	dir("pol");
	put("pol/jailfw.conf", uid_jail("main", 2001));
	load(&r, "pol");
	T_CHECK(r.ok && !strcmp(r.out, "") && r.p.njails == 1, "no jails.d: fine");
	res_free(&r);
	dir("pol/jails.d");
	load(&r, "pol");
	T_CHECK(r.ok && !strcmp(r.out, "") && r.p.njails == 1, "an empty jails.d: fine");
	res_free(&r);

	/* The main file must be there. */
	fresh_policy_dir();
	put("pol/jails.d/web.conf", uid_jail("web", 2001));
	load(&r, "pol");
	T_STREQ(r.out, "pol/jailfw.conf: error: cannot open: No such file or directory\n",
		"no jailfw.conf: refused");
	T_CHECK(!r.ok, "no jailfw.conf: not valid");
	res_free(&r);

	/* Only drop-ins: the empty-policy refusal names the main file. */
	put("pol/jailfw.conf", "# jails are in jails.d\n");
	rm_tree("pol/jails.d/web.conf");
	load(&r, "pol");
	T_STREQ(r.out,
		"pol/jailfw.conf: error: the policy defines no jail: applying it would leave every "
		"service unconfined\n"
		"pol/jailfw.conf: note: to remove jailfw's rules on purpose, run \"jailfw down\"\n",
		"jailfw.conf without jails and an empty jails.d: the empty policy is refused");
	res_free(&r);

	/* A file named jails.d, not a directory. */
	rm_tree("pol/jails.d");
	put("pol/jails.d", "");
	put("pol/jailfw.conf", uid_jail("main", 2001));
	load(&r, "pol");
	T_STREQ(r.out, "pol/jails.d: error: is not a directory\n", "jails.d not a directory");
	res_free(&r);
	rm_tree("pol");
}

/* ---- who may write ---- */

static void test_modes(void)
{
	static const struct {
		const char *path;
		mode_t mode, restore;
		const char *want, *what;
	} cases[] = {
	    {"pol/jails.d", 0775, 0755,
	     "pol/jails.d: error: is writable by its group (chmod g-w)\n",
	     "a group-writable jails.d is refused"},
	    {"pol/jails.d", 0757, 0755,
	     "pol/jails.d: error: is writable by other users (chmod o-w)\n",
	     "a world-writable jails.d is refused"},
	    {"pol/jails.d/web.conf", 0664, 0644,
	     "pol/jails.d/web.conf: error: is writable by its group (chmod g-w)\n",
	     "a group-writable drop-in file is refused"},
	    {"pol", 0777, 0755, "pol: error: is writable by other users (chmod o-w)\n",
	     "a world-writable policy directory is refused, before any file is read"},
	    {"pol/inc", 0775, 0755, "pol/inc: error: is writable by its group (chmod g-w)\n",
	     "an include pattern's group-writable directory is refused"},
	};
	struct res r;
	size_t i;

	fresh_policy_dir();
	dir("pol/inc");
	put("pol/jailfw.conf", "include inc/*.conf\n");
	put("pol/inc/x.conf", uid_jail("x", 2003));
	put("pol/jails.d/web.conf", uid_jail("web", 2002));
	load(&r, "pol");
	T_CHECK(r.ok && !strcmp(jail_names(&r.p), "x web"), "modes: the policy as it should be");
	res_free(&r);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		chmod(cases[i].path, cases[i].mode);
		load(&r, "pol");
		T_STREQ(r.out, cases[i].want, cases[i].what);
		T_CHECK(!r.ok, cases[i].what);
		res_free(&r);
		chmod(cases[i].path, cases[i].restore);
	}
	rm_tree("pol");
}

/* ---- include ---- */

static void test_include(void)
{
	struct res r;

	rm_tree("inc");
	dir("inc");
	dir("inc/sub");
	dir("inc/sub/more");
	put("inc/sub/more/c.conf", uid_jail("c", 2003));
	put("inc/sub/more/b.conf", uid_jail("b", 2002));

	/* Relative to the including file; a pattern matching nothing is fine. */
	put("inc/main.conf", "include sub/a.conf\ninclude sub/none-*.conf\n");
	put("inc/sub/a.conf", "include more/*.conf\njail a {\n\tbackend uid\n\tuser 2001\n}\n");
	load(&r, "inc/main.conf");
	T_STREQ(r.out, "", "include: no diagnostics");
	T_STREQ(jail_names(&r.p), "b c a",
		"include: in place, relative to the including file, patterns in byte order");
	res_free(&r);

	/* An absolute path. */
	{
		char *cwd = getcwd(NULL, 0),
		     *text = xasprintf("include %s/inc/sub/more/b.conf\n", cwd);

		put("inc/main.conf", text);
		load(&r, "inc/main.conf");
		T_CHECK(r.ok && !strcmp(jail_names(&r.p), "b"), "include: an absolute path");
		res_free(&r);
		free(text);
		free(cwd);
	}

	/* A plain name must exist; a missing directory in a pattern matches nothing. */
	put("inc/main.conf", uid_jail("m", 2001));
	put("inc/main.conf", "jail m {\n\tbackend uid\n\tuser 2001\n}\ninclude "
			     "sub/typo.conf\ninclude nodir/*.conf\n");
	load(&r, "inc/main.conf");
	T_STREQ(r.out,
		"inc/main.conf:5:9: error: cannot include \"inc/sub/typo.conf\": no such file\n"
		"    5 | include sub/typo.conf\n"
		"      |         ^~~~~~~~~~~~~\n",
		"include: a plain name that names nothing is an error, at the statement");
	res_free(&r);

	put("inc/main.conf", "include */a.conf\ninclude\ninclude a b\njail m {\n\tinclude x\n}\n");
	load(&r, "inc/main.conf");
	T_STREQ(
	    r.out,
	    "inc/main.conf:1:9: error: wildcards are allowed only in the file name of an "
	    "include, not in its directories\n"
	    "    1 | include */a.conf\n"
	    "      |         ^~~~~~~~\n"
	    "inc/main.conf:2:8: error: missing value after \"include\" (expected a file name or "
	    "a pattern such as jails.d/*.conf)\n"
	    "    2 | include\n"
	    "      |        ^\n"
	    "inc/main.conf:3:11: error: unexpected \"b\" at end of \"include\" statement\n"
	    "    3 | include a b\n"
	    "      |           ^\n"
	    "inc/main.conf:5:2: error: \"include\" inside jail \"m\" (missing \"}\"?)\n"
	    "    5 |  include x\n"
	    "      |  ^~~~~~~\n"
	    "inc/main.conf:5:10: error: cannot include \"inc/x\": no such file\n"
	    "    5 |  include x\n"
	    "      |          ^\n"
	    "inc/main.conf:6:1: error: unexpected \"}\" (no block is open)\n"
	    "    6 | }\n"
	    "      | ^\n",
	    "include: its syntax, and top level only (inside a block: a missing \"}\")");
	res_free(&r);

	/* A cycle, and the same file twice. */
	put("inc/main.conf", "include sub/a.conf\n");
	put("inc/sub/a.conf", "include ../main.conf\n");
	load(&r, "inc/main.conf");
	T_STREQ(r.out,
		"inc/sub/a.conf:1:9: error: include cycle: \"inc/sub/../main.conf\" is already "
		"being read\n"
		"    1 | include ../main.conf\n"
		"      |         ^~~~~~~~~~~~\n"
		"inc/main.conf: note: the main policy file\n",
		"include: a cycle back to the main file");
	res_free(&r);

	put("inc/main.conf", "include sub/a.conf\n");
	put("inc/sub/a.conf", "include a.conf\n");
	load(&r, "inc/main.conf");
	T_STREQ(r.out,
		"inc/sub/a.conf:1:9: error: include cycle: \"inc/sub/a.conf\" is already being "
		"read\n"
		"    1 | include a.conf\n"
		"      |         ^~~~~~\n"
		"inc/main.conf:1:9: note: \"inc/sub/a.conf\" is included here\n"
		"    1 | include sub/a.conf\n"
		"      |         ^~~~~~~~~~\n",
		"include: a file that includes itself");
	res_free(&r);

	put("inc/main.conf", "include sub/a.conf\ninclude sub/*.conf\n");
	put("inc/sub/a.conf", uid_jail("a", 2001));
	load(&r, "inc/main.conf");
	T_STREQ(r.out,
		"inc/main.conf:2:9: error: \"inc/sub/a.conf\" is already part of the policy\n"
		"    2 | include sub/*.conf\n"
		"      |         ^~~~~~~~~~\n"
		"inc/main.conf:1:9: note: \"inc/sub/a.conf\" is included here\n"
		"    1 | include sub/a.conf\n"
		"      |         ^~~~~~~~~~\n",
		"include: a file read twice is an error, not a duplicate of each of its jails");
	T_CHECK(r.p.njails == 1, "include: the file read twice was parsed once");
	res_free(&r);

	/* Nine levels: one too many. */
	{
		int i;

		for (i = 0; i <= 9; i++) {
			char name[32], text[320];

			snprintf(name, sizeof(name), "inc/n%d.conf", i);
			if (i < 9)
				snprintf(text, sizeof(text), "include n%d.conf\n", i + 1);
			else
				snprintf(text, sizeof(text), "%s", uid_jail("deep", 2001));
			put(name, text);
		}
		load(&r, "inc/n1.conf");
		T_CHECK(r.ok && r.p.njails == 1, "include: 8 levels below the main file are fine");
		res_free(&r);
		load(&r, "inc/n0.conf");
		T_STREQ(r.out,
			"inc/n8.conf:1:9: error: includes nested more than 8 deep\n"
			"    1 | include n9.conf\n"
			"      |         ^~~~~~~\n",
			"include: 9 levels are refused");
		res_free(&r);
	}

	/* Settings only in the main file. */
	put("inc/main.conf", "include sub/a.conf\n");
	put("inc/sub/a.conf",
	    "settings {\n\ttable other\n}\njail a {\n\tbackend uid\n\tuser 2001\n}\n");
	load(&r, "inc/main.conf");
	T_STREQ(r.out,
		"inc/sub/a.conf:1:1: error: \"settings\" belongs in the main policy file "
		"(inc/main.conf), not in an included one\n"
		"    1 | settings {\n"
		"      | ^~~~~~~~\n",
		"settings in an included file are refused");
	T_CHECK(!r.p.settings.table, "the refused settings are not kept");
	res_free(&r);

	/* Not in template files, nor in text parsed from memory. */
	res_begin(&r);
	policy_parse_buffer(&r.p, &r.c.d, "t.conf", "include x.conf\n", 15, true);
	res_end(&r);
	T_STREQ(r.out,
		"t.conf:1:1: error: \"include\" is not allowed in a template file (only template "
		"blocks)\n"
		"    1 | include x.conf\n"
		"      | ^~~~~~~\n",
		"include: not in a template file");
	res_free(&r);
	res_begin(&r);
	policy_parse_buffer(&r.p, &r.c.d, "m.conf", "include x.conf\n", 15, false);
	res_end(&r);
	T_STREQ(r.out,
		"m.conf:1:1: error: \"include\" needs a policy read from a file\n"
		"    1 | include x.conf\n"
		"      | ^~~~~~~\n",
		"include: not from memory (fuzzers, tests)");
	res_free(&r);
	rm_tree("inc");
}

/* ---- a directory together with include ---- */

static void test_dir_and_include(void)
{
	struct res r;

	fresh_policy_dir();
	put("pol/jailfw.conf", "include jails.d/*.conf\n"
			       "jail main {\n\tbackend uid\n\tuser 2003\n}\n");
	put("pol/jails.d/a.conf", uid_jail("a", 2001));
	put("pol/jails.d/b.conf", uid_jail("b", 2002));
	load(&r, "pol");
	T_STREQ(r.out, "", "a main file that includes jails.d itself: no diagnostics");
	T_STREQ(jail_names(&r.p), "a b main", "each drop-in read once, where it is included");
	res_free(&r);

	put("pol/jailfw.conf", uid_jail("main", 2003));
	put("pol/jails.d/a.conf", "include b.conf\n"
				  "jail a {\n\tbackend uid\n\tuser 2001\n}\n");
	load(&r, "pol");
	T_STREQ(r.out, "", "a drop-in that includes another: no diagnostics");
	T_STREQ(jail_names(&r.p), "main b a", "... which is not read again after it");
	res_free(&r);
	put("pol/jails.d/a.conf", uid_jail("a", 2001));

	/* The main file named alone: its jails.d is not read, and that is said. */
	put("pol/jailfw.conf", uid_jail("main", 2001));
	load(&r, "pol/jailfw.conf");
	T_STREQ(r.out,
		"pol/jailfw.conf: warning: pol/jails.d is not read: the policy named is this file "
		"alone\n"
		"pol/jailfw.conf: note: name the directory (pol) to read jailfw.conf with jails.d, "
		"or include them in this file (include jails.d/*.conf)\n",
		"jailfw.conf named alone next to a jails.d with files: a warning");
	T_CHECK(r.ok && r.p.njails == 1, "jailfw.conf named alone: only its own jails");
	res_free(&r);
	rm_tree("pol");
}

/* ---- the same name in two files ---- */

static void test_duplicates(void)
{
	struct res r;

	fresh_policy_dir();
	put("pol/jailfw.conf", "template web {\n\tallow tcp/80\n}\n");
	put("pol/jails.d/10-web.conf", "jail web {\n\tbackend uid\n\tuser www\n\tuse web\n}\n");
	put("pol/jails.d/20-web.conf",
	    "template web {\n\tallow tcp/81\n}\njail web {\n\tbackend uid\n\tuser db\n}\n");
	load(&r, "pol");
	T_STREQ(r.out,
		"pol/jails.d/20-web.conf:1:10: error: duplicate template \"web\" (first defined at "
		"pol/jailfw.conf:1)\n"
		"    1 | template web {\n"
		"      |          ^~~\n"
		"pol/jails.d/20-web.conf:4:6: error: duplicate jail \"web\" (first defined at "
		"pol/jails.d/10-web.conf:1)\n"
		"    4 | jail web {\n"
		"      |      ^~~\n",
		"a jail and a template defined in two files: each error names both places");
	T_CHECK(!r.ok, "duplicates across files: refused");
	res_free(&r);
	rm_tree("pol");
}

/* ---- the files' names in rule comments ---- */

/* files[i] (NULL-terminated) is named want[i] in rule comments. */
static void check_labels(const char *const *files, const char *const *want, const char *what)
{
	struct policy p;
	char **l, *msg;
	size_t i;

	policy_init(&p);
	for (i = 0; files[i]; i++)
		policy_add_file(&p, files[i]);
	l = policy_file_labels(&p);
	for (i = 0; files[i]; i++) {
		msg = xasprintf("%s: %s", what, files[i]);
		T_STREQ(l[i], want[i], msg);
		free(msg);
	}
	policy_file_labels_free(&p, l);
	policy_free(&p);
}

static void test_labels(void)
{
	static const char *const files[] = {
	    "/etc/jailfw/jailfw.conf",	    /* the main file */
	    "/etc/jailfw/jails.d/web.conf", /* web.conf twice */
	    "/etc/jailfw/shared/web.conf",
	    "/etc/jailfw/jails.d/db.conf",	    /* db.conf twice, once outside */
	    "/usr/share/jailfw/templates/ntp.conf", /* a template */
	    "/srv/other/db.conf",
	    "/etc/jailfw/jails.d/db.conf", /* the same file again: one name */
	    NULL,
	};
	static const char *const want[] = {
	    "jailfw.conf", "jails.d/web.conf",	 "shared/web.conf", "jails.d/db.conf",
	    "ntp.conf",	   "/srv/other/db.conf", "jails.d/db.conf",
	};
	static const char *const rel_files[] = {"policy.conf", "jails.d/policy.conf", "/abs/x.conf",
						NULL};
	static const char *const rel_want[] = {"policy.conf", "jails.d/policy.conf", "x.conf"};

	check_labels(files, want,
		     "label: the basename; shared basenames: the path below the main file's "
		     "directory, or the whole path");
	check_labels(rel_files, rel_want, "label: a main file without a directory");
}

/* A drop-in's rules carry its name into the ruleset. */
static void test_render_comments(void)
{
	struct res r;
	char *text;

	fresh_policy_dir();
	dir("pol/shared");
	put("pol/jailfw.conf", "include shared/*.conf\n");
	put("pol/shared/web.conf", "template web {\n\tallow tcp/80\n}\n");
	put("pol/jails.d/web.conf", "jail web {\n\tbackend uid\n\tuser www\n\tuse web\n}\n");
	load(&r, "pol");
	T_CHECK(r.ok, "rendered policy is valid");
	text = r.ok ? render_policy_str(&r.p, RENDER_REPLACE) : NULL;
	T_CHECK(text && strstr(text, "comment \"shared/web.conf:2 via jails.d/web.conf:4\""),
		"a rule's comment names both files of the same basename apart");
	T_CHECK(text && strstr(text, "comment \"jails.d/web.conf:1\" : jump uid_web"),
		"a jail's comment names its drop-in file");
	free(text);
	res_free(&r);
	rm_tree("pol");
}

int main(void)
{
	umask(022);
	if (!mkdtemp(tmpdir) || chdir(tmpdir)) {
		T_CHECK(0, "mkdtemp and chdir");
		return t_done();
	}
	chmod(".", 0755);
	test_directory();
	test_modes();
	test_include();
	test_dir_and_include();
	test_duplicates();
	test_labels();
	test_render_comments();
	if (chdir("/") == 0)
		rm_tree(tmpdir);
	return t_done();
}
