// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The state layer (state.c) and its writer (fileio.c): every line of
 * /run/jailfw/state is one jailfw could have written, or the file is
 * refused whole with the line named; only the sysctls jailfw manages, with
 * the values it writes; /run/jailfw is used only when it is root's and
 * closed to others; the writer never follows a link planted at its
 * temporary name; the records of a table go together; status's lock is
 * never held against an apply.
 *
 * The file system part runs as root in a private mount namespace with a
 * tmpfs over /run (t_reexec_unshared), so the host's is never seen.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "counters.h"
#include "diag.h"
#include "fileio.h"
#include "state.h"
#include "util.h"
#include "capture.h"
#include "sandbox.h"
#include "t.h"

#define MARKER "JAILFW_TEST_STATE_UNSHARED"

static const char good[] = "jailfw-state 1\n"
			   "phase idle\n"
			   "table jailfw\n"
			   "jail foobar host=foobar-out peer=foobar-in netns=4:4026532290 "
			   "v4=10.97.10.0/24 v6=fd00:97::3:0/112 uid=65534 gid=65534 resolv=1\n"
			   "jail psa backend=uid uid=1099 gid=1099\n"
			   "jail made host=made-out peer=made-in netns=0:0 pending=1\n"
			   "sysctl net/ipv4/conf/all/forwarding old=0 set=1\n"
			   "sysctl net/ipv6/conf/eth0.100/accept_ra old=1 set=2\n";

static void test_managed(void)
{
	T_CHECK(state_sysctl_managed("net/ipv4/conf/all/forwarding", "0", "1"),
		"managed: IPv4 forwarding 0 -> 1");
	T_CHECK(state_sysctl_managed("net/ipv6/conf/all/forwarding", "0", "1"),
		"managed: IPv6 forwarding 0 -> 1");
	T_CHECK(state_sysctl_managed("net/ipv6/conf/wan0/accept_ra", "1", "2"),
		"managed: an interface's accept_ra 1 -> 2");
	T_CHECK(state_sysctl_managed("net/ipv4/conf/wan0/forwarding", "0", "1"),
		"managed: the wan's IPv4 forwarding 0 -> 1");
	T_CHECK(!state_sysctl_managed("net/ipv4/conf/default/forwarding", "0", "1") &&
		    !state_sysctl_managed("net/ipv6/conf/wan0/forwarding", "0", "1"),
		"managed: not default's IPv4 forwarding, nor an interface's IPv6 one");
	T_CHECK(!state_sysctl_managed("net/ipv4/conf/all/forwarding", "1", "0"),
		"managed: not forwarding 1 -> 0");
	T_CHECK(!state_sysctl_managed("net/ipv6/conf/wan0/accept_ra", "2", "0"),
		"managed: not accept_ra 2 -> 0");
	T_CHECK(!state_sysctl_managed("net/ipv4/ip_unprivileged_port_start", "0", "1024"),
		"managed: not ip_unprivileged_port_start");
	T_CHECK(!state_sysctl_managed("kernel/core_pattern", "|/tmp/x", "core"),
		"managed: not kernel.core_pattern");
	T_CHECK(!state_sysctl_managed("net/ipv6/conf/all/accept_ra", "1", "2") &&
		    !state_sysctl_managed("net/ipv6/conf/default/accept_ra", "1", "2"),
		"managed: accept_ra of all or default is no interface's");
	T_CHECK(!state_sysctl_managed("net/ipv6/conf/../../../kernel/x/accept_ra", "1", "2") &&
		    !state_sysctl_managed("net/ipv6/conf/a/b/accept_ra", "1", "2") &&
		    !state_sysctl_managed("net/ipv6/conf//accept_ra", "1", "2") &&
		    !state_sysctl_managed("net/ipv6/conf/abcdefghijklmnop/accept_ra", "1", "2"),
		"managed: no path out of an interface name, no empty or overlong one");
}

static int put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(text);
	int ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, text, n) == (ssize_t)n;
	return close(fd) == 0 && ok ? 0 : -EIO;
}

static char *slurp(const char *path)
{
	char *text = NULL;

	return fileio_read(path, &text) ? NULL : text;
}

/* good plus line: refused whole, the message names the line and why. */
static void refused(const char *line, const char *why)
{
	char *text = xasprintf("%s%s\n", good, line), *want;
	struct state s;
	struct cap c;
	int err;

	put(STATE_FILE, text);
	cap_init(&c);
	err = state_load(&s, &c.d);
	want = xasprintf("%s:9:1: error: %s", STATE_FILE, why);
	T_CHECK(err == -EINVAL && s.njails == 0 && s.nsysctls == 0 && strstr(cap_text(&c), want),
		line);
	if (!strstr(cap_text(&c), want))
		printf("# got: %s# want: %s\n", cap_text(&c), want);
	cap_free(&c);
	free(want);
	free(text);
}

static void test_load(void)
{
	const struct state_jail *j;
	struct state s;
	struct cap c;
	int err;

	put(STATE_FILE, good);
	cap_init(&c);
	err = state_load(&s, &c.d);
	T_CHECK(err == 0 && s.njails == 3 && s.nsysctls == 2, "load: what jailfw writes is read");
	j = err ? NULL : state_find_jail(&s, "made");
	T_CHECK(j && j->pending && !j->ns.ino, "load: a pending creation may be 0:0");
	state_free(&s);
	cap_free(&c);

	refused("jail victim host=victim-out peer=victim-in netns=0:0",
		"namespace identity 0:0 in a record that is not pending");
	refused("sysctl net/ipv4/ip_unprivileged_port_start old=0 set=1024",
		"a sysctl jailfw does not change, or a value it does not write");
	refused("sysctl kernel/core_pattern old=|/tmp/x set=core",
		"a sysctl jailfw does not change, or a value it does not write");
	refused("sysctl net/ipv4/conf/all/forwarding old=1 set=0", "a sysctl recorded twice");
	refused("jail Bad host=a-out peer=a-in netns=1:2", "not a jail name");
	refused("jail a host=a/../b peer=a-in netns=1:2", "not an interface name");
	refused("jail a host=a-out peer=a-out netns=1:2",
		"the same name for both ends of the veth");
	refused("jail a host=a-out peer=a-in netns=1:2 netns=1:3", "a field given twice");
	refused("jail a host=a-out peer=a-in netns=1:2 v4=10.0.0.1/24",
		"not an IPv4 prefix without host bits");
	refused("jail a host=a-out peer=a-in netns=-1:2", "not a namespace identity (DEV:INODE)");
	refused("jail a host=a-out peer=a-in netns=1:2 uid=0", "a user id without its group id");
	refused("jail a backend=uid uid=0 gid=0", "a uid jail of uid 0");
	refused("jail a backend=uid uid=7 gid=7 netns=1:2", "a uid jail with netns fields");
	refused("jail a host=foobar-out peer=a-in netns=1:2",
		"a second netns jail on the same host interface");
	refused("jail psa backend=uid uid=7 gid=7", "a second record of the same jail");
	refused("table other", "a second table");
	refused("phase down", "a second phase");
	refused("whatever", "an unknown record");

	/* A file that is not jailfw's state at all. */
	put(STATE_FILE, "#!/bin/sh\n");
	cap_init(&c);
	T_CHECK(state_load(&s, &c.d) == -EINVAL &&
		    strstr(cap_text(&c), ":1:1: error: not a jailfw state"),
		"load: another file's text is refused at line 1");
	cap_free(&c);
	unlink(STATE_FILE);
	T_CHECK(state_load(&s, NULL) == 0 && !s.njails, "load: no file is an empty state");
	state_free(&s);
}

static void test_dir(void)
{
	struct state s;
	struct cap c;
	int fd, err;

	T_CHECK(chmod(STATE_DIR, 0777) == 0, "dir: made world-writable");
	cap_init(&c);
	err = state_load(&s, &c.d);
	T_CHECK(err == -EEXIST && strstr(cap_text(&c), "error: /run/jailfw is writable by other "
						       "users (mode 0777): jailfw keeps its state"),
		"dir: a world-writable /run/jailfw is refused, and said so");
	cap_free(&c);
	T_CHECK(state_lock(false, &fd, NULL) == -EEXIST, "dir: ... no lock taken in it");
	T_CHECK(state_save(&s) == -EEXIST, "dir: ... nothing written in it");
	T_CHECK(chmod(STATE_DIR, 0755) == 0 && chown(STATE_DIR, 4242, 4242) == 0,
		"dir: given to uid 4242");
	cap_init(&c);
	err = state_load(&s, &c.d);
	T_CHECK(err == -EEXIST &&
		    strstr(cap_text(&c), "/run/jailfw is owned by uid 4242, not by root"),
		"dir: another user's /run/jailfw is refused, and said so");
	cap_free(&c);
	T_CHECK(chown(STATE_DIR, 0, 0) == 0, "dir: root's again");
}

static void test_writer(void)
{
	char *text;
	int fd;

	T_CHECK(put("/run/victim", "victim\n") == 0 &&
		    symlink("/run/victim", STATE_DIR "/state.jailfw-tmp") == 0 &&
		    symlink("/run/victim", STATE_DIR "/state") == 0,
		"writer: links planted at the temporary and the final name");
	{
		struct state s;

		state_init(&s);
		T_CHECK(state_save(&s) == 0, "writer: the state is written all the same");
		state_free(&s);
	}
	text = slurp("/run/victim");
	T_STREQ(text, "victim\n", "writer: what the links pointed at is unchanged");
	free(text);
	text = slurp(STATE_FILE);
	T_STREQ(text, "jailfw-state 1\nphase idle\n", "writer: the state is a file of its own");
	free(text);
	T_CHECK(access(STATE_DIR "/state.jailfw-tmp", F_OK) != 0, "writer: no temporary file left");

	T_CHECK(state_record_write("jailfw", STATE_RECORD_COMMITTED, "c\n", 2) == 0 &&
		    state_record_write("jailfw", STATE_RECORD_TEXT, "t\n", 2) == 0 &&
		    put(STATE_DIR "/ruleset-jailfw", "old\n") == 0,
		"records: written (and an earlier version's beside them)");
	text = NULL;
	T_CHECK(state_record_read("jailfw", STATE_RECORD_TEXT, &text) == 0 && !strcmp(text, "t\n"),
		"records: read back");
	free(text);
	T_CHECK(state_record_write("../x", STATE_RECORD_COMMITTED, "c\n", 2) == -EINVAL &&
		    state_record_write(".hidden", STATE_RECORD_COMMITTED, "c\n", 2) == -EINVAL,
		"records: a table name cannot leave the directory");
	state_record_forget("jailfw");
	T_CHECK(access(STATE_DIR "/committed-jailfw", F_OK) != 0 &&
		    access(STATE_DIR "/committed-jailfw.nft", F_OK) != 0 &&
		    access(STATE_DIR "/ruleset-jailfw", F_OK) != 0,
		"records: forgotten together, the earlier version's too");

	T_CHECK(state_lock(false, &fd, NULL) == 0, "lock: taken");
	{
		int fd2;

		T_CHECK(!state_try_lock(&fd2), "lock: a reader does not get it while it is held");
		state_unlock(fd);
		T_CHECK(state_try_lock(&fd2), "lock: ... and gets it once it is free");
		state_unlock(fd2);
	}
}

/*
 * The lookup by name (hashed) against the order of the records, through
 * adds that grow the hash, deletes that shift the records, and records
 * edited in place.
 */
static void test_find(void)
{
	struct state s, c;
	size_t i, miss = 0, wrong = 0;
	char name[32];

	state_init(&s);
	T_CHECK(!state_find_jail(&s, "j0"), "an empty state finds nothing");
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "j%zu", i);
		state_add_jail(&s, name)->v4.len = (uint8_t)(i % 33);
		if (i % 100 == 0 && !state_find_jail(&s, name))
			miss++;
	}
	for (i = 0; i < 1000; i++) {
		struct state_jail *j;

		snprintf(name, sizeof(name), "j%zu", i);
		j = state_find_jail(&s, name);
		if (!j)
			miss++;
		else if (strcmp(j->name, name) || j->v4.len != i % 33)
			wrong++;
	}
	T_CHECK(!miss && !wrong, "each of 1000 records is found by its name");
	T_CHECK(!state_find_jail(&s, "j1000") && !state_find_jail(&s, "j"),
		"names not recorded are not found");
	for (i = 0; i < 1000; i += 2) {
		snprintf(name, sizeof(name), "j%zu", i);
		state_del_jail(&s, name);
	}
	for (i = miss = wrong = 0; i < 1000; i++) {
		struct state_jail *j;

		snprintf(name, sizeof(name), "j%zu", i);
		j = state_find_jail(&s, name);
		if (i % 2 ? !j || strcmp(j->name, name) || j->v4.len != i % 33 : j != NULL)
			wrong++;
	}
	T_CHECK(s.njails == 500 && !wrong, "after deleting every other one, the rest are found");
	/* Edited in place, as record_uid_jails does: keep only the first 10. */
	for (i = 10; i < s.njails; i++)
		free(s.jails[i].name);
	s.njails = 10;
	state_jails_moved(&s);
	T_CHECK(state_find_jail(&s, "j19") && !state_find_jail(&s, "j21"),
		"records dropped in place are not found after state_jails_moved");
	state_copy(&c, &s);
	T_CHECK(c.njails == 10 && state_find_jail(&c, "j1") &&
		    state_find_jail(&c, "j1") != state_find_jail(&s, "j1"),
		"a copy finds its own records");
	state_free(&c);
	state_free(&s);
}

/* The committed record as an apply reads it (counters.h), by version. */
static void test_record_versions(void)
{
	static const char body[] = "genid 7\ndigest 00000000000000ab\npending\n"
				   "chain uid_web 0 11\nchain uid_db 0 22\nset s 0\n";
	struct counters_record r;
	struct counters_last l;
	char *text;

	text = xasprintf("jailfw-committed 5\n%s", body);
	state_record_write("jailfw", STATE_RECORD_COMMITTED, text, strlen(text));
	free(text);
	counters_last_load("jailfw", "text", &l);
	T_CHECK(!l.err && l.rec.genid == 7 && l.rec.text_digest == 0xab && !l.rec.nchains &&
		    !l.rec.nsets && !l.rec.legacy_sigs,
		"record: an apply reads the generation and the digest, not the chains");
	counters_last_free(&l);
	T_CHECK(counters_record_load("jailfw", &r) == 0 && r.nchains == 2 && r.nsets == 1 &&
		    !strcmp(r.chains[0].name, "uid_db") && r.chains[0].sig == 0x22,
		"record: read whole, the chains are there, sorted");
	counters_record_free(&r);

	text = xasprintf("jailfw-committed 4\n%s", body);
	state_record_write("jailfw", STATE_RECORD_COMMITTED, text, strlen(text));
	free(text);
	T_CHECK(counters_record_load("jailfw", &r) == 0 && r.text_digest == 0xab && r.legacy_sigs &&
		    r.nchains == 2,
		"record: version 4 keeps its digest, its signatures are the old kind");
	counters_record_free(&r);

	text = xasprintf("jailfw-committed 3\n%s", body);
	state_record_write("jailfw", STATE_RECORD_COMMITTED, text, strlen(text));
	free(text);
	T_CHECK(counters_record_load("jailfw", &r) == 0 && r.text_digest == 0 && r.legacy_sigs,
		"record: version 3 is read without its digest");
	counters_record_free(&r);

	text = xasprintf("jailfw-committed 5\n%schain uid_x zz 1\n", body);
	state_record_write("jailfw", STATE_RECORD_COMMITTED, text, strlen(text));
	free(text);
	counters_last_load("jailfw", "text", &l);
	T_CHECK(l.err == -EINVAL,
		"record: a malformed chain line is an error to an apply too (a full replace)");
	counters_last_free(&l);
	state_record_forget("jailfw");
}

int main(void)
{
	if (geteuid() == 0 && !getenv(MARKER)) {
		int err = t_reexec_unshared(MARKER);

		printf("# unshare: %s\n", strerror(-err));
		T_CHECK(false, "re-run in a private mount namespace");
		return t_done();
	}
	test_managed();
	test_find();
	if (geteuid() != 0) {
		printf("# not root: the file system part is skipped\n");
		return t_done();
	}
	T_CHECK(mount("jailfw-test", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0 &&
		    mkdir(STATE_DIR, 0700) == 0,
		"a private tmpfs over /run, and /run/jailfw in it");
	if (t_failed)
		return t_done();
	test_load();
	test_dir();
	test_writer();
	test_record_versions();
	return t_done();
}
