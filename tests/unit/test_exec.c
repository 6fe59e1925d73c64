// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * exec: which jail, whether it may be entered, what it needs, and the
 * messages, on hand-built states (no root needed); the capability check in
 * a child that dropped every capability first.
 *
 * As root, a second part runs in a forked child that first moves into a
 * network and mount namespace of its own (unshare), with private tmpfs on
 * /run and /etc/netns: the state file round trip with uid jails, and
 * exec_jail for real, refusing (no table, missing or replaced namespace)
 * and succeeding (uid and netns jail: ids, capabilities, no_new_privs,
 * descriptors, the jail's resolv.conf and interfaces).  Nothing it does
 * reaches the machine's namespaces, mounts or files.
 */
#include <errno.h>
#include <fcntl.h>
#include <cap-ng.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "diag.h"
#include "exec.h"
#include "fileio.h"
#include "netns.h"
#include "state.h"
#include "util.h"
#include "capture.h"
#include "t.h"

/* exec's refusal of jail "bare", which names no user. */
static const char bare_refused[] =
    "jailfw: error: jail \"bare\" names no user: CMD would run as uid 0, which even without "
    "capabilities owns root's files (/etc/shadow, unit files, /run/jailfw/state); nothing run\n"
    "jailfw: note: give the jail a user (\"user NAME\"), or pass --keep-ids to run a launcher "
    "that drops privileges itself (nsjail) as root\n";

/* A diag that writes into memory, to look at the messages. */
static bool has_text(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

static struct state_jail *add_netns(struct state *s, const char *name, uint64_t ino)
{
	struct state_jail *j = state_add_jail(s, name);

	snprintf(j->host_if, sizeof(j->host_if), "%s-out", name);
	snprintf(j->jail_if, sizeof(j->jail_if), "%s-in", name);
	j->ns.dev = 4;
	j->ns.ino = ino;
	return j;
}

static struct state_jail *add_uid(struct state *s, const char *name, uid_t uid)
{
	struct state_jail *j = state_add_jail(s, name);

	j->backend = BACKEND_UID;
	j->has_user = true;
	j->uid = uid;
	j->gid = uid;
	return j;
}

static void sample(struct state *s)
{
	struct state_jail *j;

	state_init(s);
	s->table = xstrdup("jailfw");
	add_uid(s, "psa-www", 1099);
	j = add_netns(s, "foobar", 4026532290u);
	j->has_user = true;
	j->uid = j->gid = 65534;
	add_netns(s, "bare", 4026532291u);
}

/* ---- lookup ---- */

static void test_lookup(void)
{
	const struct exec_opts plain = {.keep_ids = false}, keep = {.keep_ids = true};
	const struct state_jail *j;
	struct state s, empty;
	struct cap c;
	int err;

	sample(&s);

	cap_init(&c);
	err = exec_lookup(&s, "foobar", &plain, &j, &c.d);
	T_CHECK(err == 0 && j && !strcmp(j->name, "foobar") && j->backend == BACKEND_NETNS,
		"lookup: a netns jail in force");
	T_STREQ(cap_text(&c), "", "lookup: no message when found");
	cap_free(&c);

	cap_init(&c);
	err = exec_lookup(&s, "psa-www", &plain, &j, &c.d);
	T_CHECK(err == 0 && j && j->backend == BACKEND_UID && j->uid == 1099,
		"lookup: a uid jail in force");
	cap_free(&c);

	cap_init(&c);
	err = exec_lookup(&s, "fooba", &plain, &j, &c.d);
	T_CHECK(err == -ESRCH && !j, "lookup: unknown jail is -ESRCH");
	T_STREQ(cap_text(&c),
		"jailfw: error: no jail \"fooba\" in force (jails: bare, foobar, psa-www); "
		"apply a policy first\n"
		"jailfw: note: did you mean \"foobar\"?\n",
		"lookup: unknown jail lists the jails, sorted, and suggests one");
	cap_free(&c);

	cap_init(&c);
	err = exec_lookup(&s, "zzzzzz", &plain, &j, &c.d);
	T_STREQ(cap_text(&c),
		"jailfw: error: no jail \"zzzzzz\" in force (jails: bare, foobar, psa-www); "
		"apply a policy first\n",
		"lookup: no suggestion when nothing is close");
	cap_free(&c);

	state_init(&empty);
	cap_init(&c);
	err = exec_lookup(&empty, "foobar", &plain, &j, &c.d);
	T_CHECK(err == -ESRCH, "lookup: nothing applied is -ESRCH");
	T_STREQ(cap_text(&c),
		"jailfw: error: no jail \"foobar\" in force (no jails are); apply a policy first\n",
		"lookup: nothing applied says so");
	cap_free(&c);
	state_free(&empty);

	cap_init(&c);
	err = exec_lookup(&s, "psa-www", &keep, &j, &c.d);
	T_CHECK(err == -EINVAL && !j, "lookup: --keep-ids for a uid jail is -EINVAL");
	T_STREQ(cap_text(&c),
		"jailfw: error: --keep-ids is refused for uid jail \"psa-www\": its ruleset "
		"confines uid 1099 and nothing else, so CMD would run unconfined as root\n",
		"lookup: --keep-ids for a uid jail explains why");
	cap_free(&c);

	cap_init(&c);
	err = exec_lookup(&s, "foobar", &keep, &j, &c.d);
	T_CHECK(err == 0 && j, "lookup: --keep-ids for a netns jail is fine");
	cap_free(&c);

	cap_init(&c);
	err = exec_lookup(&s, "bare", &plain, &j, &c.d);
	T_CHECK(err == -EINVAL && !j, "lookup: a jail without a user needs --keep-ids");
	T_STREQ(cap_text(&c), bare_refused, "lookup: ... and says why");
	cap_free(&c);
	cap_init(&c);
	err = exec_lookup(&s, "bare", &keep, &j, &c.d);
	T_CHECK(err == 0 && j, "lookup: a jail without a user, with --keep-ids");
	cap_free(&c);
	state_find_jail(&s, "foobar")->uid = 0;
	cap_init(&c);
	err = exec_lookup(&s, "foobar", &plain, &j, &c.d);
	T_CHECK(err == -EINVAL && has_text(cap_text(&c), "names uid 0 as its user"),
		"lookup: a jail whose user is uid 0 needs --keep-ids too");
	cap_free(&c);
	state_find_jail(&s, "foobar")->uid = 65534;

	state_find_jail(&s, "foobar")->pending = true;
	cap_init(&c);
	err = exec_lookup(&s, "foobar", &plain, &j, &c.d);
	T_CHECK(err == -EBUSY, "lookup: a jail an apply is still making is -EBUSY");
	T_STREQ(cap_text(&c),
		"jailfw: error: jail \"foobar\" is being made by an apply that has not "
		"finished; run jailfw apply (again) first\n",
		"lookup: pending jail message");
	cap_free(&c);
	state_find_jail(&s, "foobar")->pending = false;

	state_find_jail(&s, "bare")->ns.ino = 0;
	cap_init(&c);
	err = exec_lookup(&s, "bare", &plain, &j, &c.d);
	T_CHECK(err == -EBUSY, "lookup: a namespace without a recorded identity is -EBUSY");
	cap_free(&c);

	s.phase = STATE_DOWN;
	cap_init(&c);
	err = exec_lookup(&s, "psa-www", &plain, &j, &c.d);
	T_CHECK(err == -EBUSY && !j, "lookup: nothing is in force during a down");
	T_STREQ(cap_text(&c),
		"jailfw: error: a jailfw down is under way or was interrupted, so no jail is "
		"in force; run jailfw down or jailfw apply to finish it\n",
		"lookup: down message");
	cap_free(&c);

	s.phase = STATE_APPLYING;
	cap_init(&c);
	err = exec_lookup(&s, "psa-www", &plain, &j, &c.d);
	T_CHECK(err == 0, "lookup: a committed jail stays usable while an apply runs");
	cap_free(&c);
	state_free(&s);
}

/* ---- needs, namespace identity, exit status ---- */

static bool caps_are(const unsigned int *got, size_t n, const unsigned int *want, size_t m)
{
	return n == m && !memcmp(got, want, n * sizeof(*got));
}

static void test_needs(void)
{
	const struct exec_opts plain = {.keep_ids = false}, keep = {.keep_ids = true};
	static const unsigned int netns_user[] = {CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SETUID,
						  CAP_SETGID, CAP_SETPCAP};
	static const unsigned int netns_root[] = {CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SETGID,
						  CAP_SETPCAP};
	static const unsigned int netns_keep[] = {CAP_SYS_ADMIN, CAP_NET_ADMIN};
	static const unsigned int uid[] = {CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID, CAP_SETPCAP};
	unsigned int caps[8];
	struct state s;
	size_t n;

	sample(&s);
	n = exec_needs(state_find_jail(&s, "foobar"), &plain, caps);
	T_CHECK(caps_are(caps, n, netns_user, ARRAY_SIZE(netns_user)),
		"needs: netns jail with a user");
	n = exec_needs(state_find_jail(&s, "bare"), &plain, caps);
	T_CHECK(caps_are(caps, n, netns_root, ARRAY_SIZE(netns_root)),
		"needs: netns jail without a user needs no CAP_SETUID");
	n = exec_needs(state_find_jail(&s, "foobar"), &keep, caps);
	T_CHECK(caps_are(caps, n, netns_keep, ARRAY_SIZE(netns_keep)),
		"needs: --keep-ids needs only the namespace and the table");
	n = exec_needs(state_find_jail(&s, "psa-www"), &plain, caps);
	T_CHECK(caps_are(caps, n, uid, ARRAY_SIZE(uid)), "needs: uid jail needs no CAP_SYS_ADMIN");
	state_free(&s);
}

static void test_check_netns(void)
{
	struct netns_id same = {4, 4026532290u}, other = {4, 4026539999u};
	struct state s;
	struct cap c;
	int err;

	sample(&s);

	cap_init(&c);
	err = exec_check_netns(state_find_jail(&s, "foobar"), 0, &same, &c.d);
	T_CHECK(err == 0 && !*cap_text(&c), "netns: the recorded namespace is accepted");
	cap_free(&c);

	cap_init(&c);
	err = exec_check_netns(state_find_jail(&s, "foobar"), 0, &other, &c.d);
	T_CHECK(err == -EEXIST, "netns: another namespace of that name is -EEXIST");
	T_STREQ(cap_text(&c),
		"jailfw: error: namespace \"foobar\" is not the one jailfw created for the jail "
		"(/run/netns/foobar was deleted and made again by something else); nothing "
		"run\n",
		"netns: replaced namespace message");
	cap_free(&c);

	cap_init(&c);
	err = exec_check_netns(state_find_jail(&s, "foobar"), -ENOENT, &same, &c.d);
	T_CHECK(err == -ENOENT, "netns: missing namespace is -ENOENT");
	T_STREQ(cap_text(&c),
		"jailfw: error: the namespace of jail \"foobar\" is missing (no "
		"/run/netns/foobar); nothing run, run jailfw apply to make it again\n",
		"netns: missing namespace message");
	cap_free(&c);

	cap_init(&c);
	err = exec_check_netns(state_find_jail(&s, "foobar"), -ENODATA, &same, &c.d);
	T_CHECK(err == -EEXIST &&
		    has_text(cap_text(&c), "error: /run/netns/foobar is not the namespace "
					   "jailfw made for jail \"foobar\" (it is "),
		"netns: an empty /run/netns file is something else's (-EEXIST), named");
	cap_free(&c);

	cap_init(&c);
	err = exec_check_netns(state_find_jail(&s, "foobar"), -EMEDIUMTYPE, &same, &c.d);
	T_CHECK(err == -EEXIST && has_text(cap_text(&c), "/run/netns/foobar is not the namespace"),
		"netns: what is not a network namespace is something else's (-EEXIST), named");
	cap_free(&c);

	cap_init(&c);
	err = exec_check_netns(state_find_jail(&s, "foobar"), -EACCES, &same, &c.d);
	T_CHECK(err == -EACCES, "netns: other open errors pass through");
	T_STREQ(cap_text(&c),
		"jailfw: error: open namespace \"foobar\" (/run/netns/foobar): Permission denied\n",
		"netns: open error message");
	cap_free(&c);
	state_free(&s);

	T_CHECK(exec_cmd_status(-ENOENT) == 127, "status: not found is 127");
	T_CHECK(exec_cmd_status(-EACCES) == 126 && exec_cmd_status(-ENOEXEC) == 126,
		"status: found but not executable is 126");
	T_CHECK(exec_exit_status(127) == 127 && exec_exit_status(126) == 126,
		"exit: CMD's failures pass through");
	T_CHECK(exec_exit_status(-ESRCH) == 2 && exec_exit_status(-EINVAL) == 2,
		"exit: unknown jail, refused request: 2 (usage)");
	T_CHECK(exec_exit_status(-EBUSY) == 75, "exit: apply or down under way: 75");
	T_CHECK(exec_exit_status(-EEXIST) == 5, "exit: not jailfw's namespace or table: 5");
	T_CHECK(exec_exit_status(-EPERM) == 4 && exec_exit_status(-EACCES) == 4,
		"exit: missing privilege: 4");
	T_CHECK(exec_exit_status(-ENOENT) == 3 && exec_exit_status(-EBADMSG) == 3,
		"exit: missing namespace or table, damaged state: 3");
}

/* ---- the capability check, in a child without any ---- */

/* Run fn in a child; return what it wrote to the pipe (malloc'd). */
static char *in_child(void (*fn)(int fd))
{
	struct strbuf sb;
	char buf[1024];
	int p[2], status;
	ssize_t n;
	pid_t pid;

	sb_init(&sb);
	if (pipe(p) < 0)
		return sb_steal(&sb);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		fn(p[1]);
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		sb_puts(&sb, buf);
	}
	close(p[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	return sb_steal(&sb);
}

static void write_all(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	while (len && (n = write(fd, s, len)) > 0) {
		s += n;
		len -= (size_t)n;
	}
}

static void capless_require(int fd)
{
	static const unsigned int two[] = {CAP_SYS_ADMIN, CAP_SETPCAP};
	static const unsigned int three[] = {CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SETPCAP};
	static const unsigned int none[] = {0};
	struct cap c;

	/* Lowering one's own capabilities needs no privilege. */
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS) != 0) {
		write_all(fd, "capng_apply failed");
		return;
	}
	cap_init(&c);
	write_all(fd, caps_require_list("exec", two, 2, &c.d) ? "true\n" : "false\n");
	caps_require_list("exec", three, 3, &c.d);
	caps_require_list("exec", none, 0, &c.d);
	write_all(fd, cap_text(&c));
	cap_free(&c);
}

static void test_caps(void)
{
	char *out = in_child(capless_require);

	T_STREQ(out,
		"false\n"
		"jailfw: error: exec needs CAP_SYS_ADMIN and CAP_SETPCAP (run as root or grant "
		"them)\n"
		"jailfw: error: exec needs CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_SETPCAP (run as "
		"root or grant them)\n",
		"caps: every missing capability named, none for an empty list");
	free(out);
}

static void test_no_command(void)
{
	const struct exec_opts plain = {.keep_ids = false};
	char *empty[] = {NULL};
	struct cap c;

	cap_init(&c);
	T_CHECK(exec_jail("foobar", &plain, empty, &c.d) == -EINVAL,
		"exec: no command is -EINVAL, before anything is read");
	T_STREQ(cap_text(&c), "jailfw: error: exec: no command to run\n",
		"exec: no command message");
	cap_free(&c);
}

/* ---- as root, in namespaces of our own ---- */

static bool mount_tmpfs(const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return false;
	return mount("exec-test", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0;
}

/*
 * A network namespace and a mount namespace of our own, with nothing of
 * the machine's writable under /run, /run/netns, /run/jailfw, /etc/netns.
 * Then / is made shared inside it (a peer group of this namespace only),
 * as systemd has it on a real host: that is what makes exec's MS_SLAVE
 * step matter, and lets the test see whether a mount leaks back.
 */
static bool sandbox(void)
{
	struct stat st;

	if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0 ||
	    mount("", "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0)
		return false;
	if (!mount_tmpfs("/run") || !mount_tmpfs("/run/netns") || !mount_tmpfs("/run/jailfw"))
		return false;
	/* Our own sysfs, so that /sys/class/net shows this namespace. */
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return false;
	if (stat("/etc/netns", &st) != 0) {
		/* An overlay of /etc whose upper layer is in our /run. */
		if (mkdir("/run/.etc", 0755) || mkdir("/run/.etc/upper", 0755) ||
		    mkdir("/run/.etc/work", 0755) ||
		    mount("overlay", "/etc", "overlay", 0,
			  "lowerdir=/etc,upperdir=/run/.etc/upper,workdir=/run/.etc/work"))
			return false;
	}
	if (!mount_tmpfs("/etc/netns"))
		return false;
	return mount("", "/", NULL, MS_SHARED | MS_REC, NULL) == 0 &&
	       system("ip link set lo up") == 0;
}

/*
 * exec_jail in a child with a descriptor leaked to it (fd 3, no
 * close-on-exec); the child's stdout and stderr come back in *out.
 * Returns its exit status: CMD's, or 64 + errno when exec_jail failed
 * with -errno (126/127 as exec_jail returned them).
 */
static int run_argv(const char *jail, bool keep, char *const argv[], char **out)
{
	struct strbuf sb;
	char buf[1024];
	int p[2], status = -1;
	ssize_t n;
	pid_t pid;

	sb_init(&sb);
	*out = NULL;
	if (pipe(p) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct exec_opts o = {.keep_ids = keep};
		struct diag d;
		int ret;

		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		if (open("/dev/null", O_RDONLY) != 3)
			_exit(99);
		diag_init(&d, stderr);
		ret = exec_jail(jail, &o, argv, &d);
		fflush(NULL);
		_exit(ret > 0 ? ret : 64 + (-ret & 63));
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		sb_puts(&sb, buf);
	}
	close(p[0]);
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		status = WEXITSTATUS(status);
	*out = sb_steal(&sb);
	return status;
}

static int run_exec(const char *jail, bool keep, const char *script, char **out)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};

	return run_argv(jail, keep, argv, out);
}

#define T_RUN(jail, keep, script, want_status, want_out, what)                                     \
	do {                                                                                       \
		char *t_o;                                                                         \
		int t_s = run_exec(jail, keep, script, &t_o);                                      \
		T_CHECK(t_s == (want_status), what ": exit status");                               \
		if (t_s != (want_status))                                                          \
			printf("# exit %d, want %d; output:\n%s", t_s, (want_status), t_o);        \
		T_STREQ(t_o, want_out, what);                                                      \
		free(t_o);                                                                         \
	} while (0)

static char *slurp(const char *path)
{
	char *text = NULL;

	return fileio_read(path, &text) ? NULL : text;
}

/* A file with text in it (tests only: no atomicity needed). */
static int put_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "we");
	int ok;

	if (!f)
		return -errno;
	ok = fputs(text, f) >= 0;
	ok = !fclose(f) && ok;
	return ok && !chmod(path, mode) ? 0 : -EIO;
}

static void test_state_format(void)
{
	struct state s, back;
	struct cap c;
	char *text;
	int err;

	sample(&s);
	T_CHECK(state_save(&s) == 0, "state: saved");
	text = slurp(STATE_FILE);
	T_STREQ(text,
		"jailfw-state 1\n"
		"phase idle\n"
		"table jailfw\n"
		"jail psa-www backend=uid uid=1099 gid=1099\n"
		"jail foobar host=foobar-out peer=foobar-in netns=4:4026532290 uid=65534 "
		"gid=65534\n"
		"jail bare host=bare-out peer=bare-in netns=4:4026532291\n",
		"state: uid jails recorded with backend=uid, netns lines unchanged");
	free(text);
	cap_init(&c);
	err = state_load(&back, &c.d);
	T_CHECK(err == 0 && back.njails == 3, "state: loads back");
	if (!err) {
		const struct state_jail *u = state_find_jail(&back, "psa-www");
		const struct state_jail *n = state_find_jail(&back, "bare");

		T_CHECK(u && u->backend == BACKEND_UID && u->has_user && u->uid == 1099 &&
			    u->gid == 1099 && !u->host_if[0] && !u->ns.ino,
			"state: uid jail round trip");
		T_CHECK(n && n->backend == BACKEND_NETNS && !n->has_user &&
			    !strcmp(n->host_if, "bare-out") && n->ns.ino == 4026532291u,
			"state: a record without backend= is a netns jail");
		state_free(&back);
	}
	cap_free(&c);
	state_free(&s);

	T_CHECK(put_file(STATE_FILE,
			 "jailfw-state 1\nphase idle\n"
			 "jail psa backend=uid uid=1099 gid=1099 host=psa-out\n",
			 0600) == 0,
		"state: wrote a uid record with an interface");
	cap_init(&c);
	T_CHECK(
	    state_load(&back, &c.d) == -EINVAL &&
		has_text(cap_text(&c), "a uid jail with netns fields: jailfw did not write this"),
	    "state: a uid record with interfaces is refused");
	cap_free(&c);
	T_CHECK(put_file(STATE_FILE, "jailfw-state 1\nphase idle\njail psa backend=uid\n", 0600) ==
		    0,
		"state: wrote a uid record without a user");
	cap_init(&c);
	T_CHECK(state_load(&back, &c.d) == -EINVAL,
		"state: a uid record without a user is refused");
	cap_free(&c);
}

#define CHECK_SCRIPT                                                                               \
	"id -u; id -g; id -G; "                                                                    \
	"grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status; "          \
	"exec ls /proc/self/fd"

#define DROPPED(uid)                                                                               \
	uid "\n" uid "\n" uid "\n"                                                                 \
	    "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"                               \
	    "CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"                               \
	    "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\n"                                          \
	    "0\n1\n2\n3\n"

static void test_exec_root(void)
{
	char want[512], capeff[256] = "", line[200];
	struct netns_id id, other;
	struct state_jail *j;
	struct state s;
	char *text;
	int nsfd = -1;
	FILE *f;

	/* What --keep-ids must keep: our own effective set. */
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			snprintf(capeff, sizeof(capeff), "%s", line);
	if (f)
		fclose(f);
	/* Somewhere every jailed uid may write, to see whether CMD ran. */
	T_CHECK(mkdir("/run/m", 0777) == 0 && chmod("/run/m", 0777) == 0 &&
		    put_file("/run/m/file", "#!/bin/sh\n", 0644) == 0,
		"root: a world-writable directory with a non-executable file");

	/* A state first, but no table yet: nothing may run. */
	sample(&s);
	T_CHECK(state_save(&s) == 0, "root: state saved");
	T_RUN("psa-www", false, "touch /run/m/ran", 64 + ENOENT,
	      "jailfw: error: table inet jailfw is not loaded, so jail \"psa-www\" is not "
	      "confined; nothing run, run jailfw apply first\n",
	      "root: no table, nothing run");
	T_CHECK(access("/run/m/ran", F_OK) != 0, "root: no table: the command did not run");
	T_CHECK(system("nft add table inet jailfw '{ comment \"not ours\"; }'") == 0,
		"root: a foreign table inet jailfw");
	T_RUN("psa-www", false, "true", 64 + EEXIST,
	      "jailfw: error: table inet jailfw is not jailfw's, so jail \"psa-www\" is not "
	      "confined by it; nothing run\n",
	      "root: a foreign table is refused");
	T_CHECK(system("nft delete table inet jailfw && nft add table inet jailfw "
		       "'{ comment \"managed by jailfw (test)\"; }'") == 0,
		"root: table inet jailfw, marked as jailfw's");

	T_RUN("fooba", false, "true", 64 + ESRCH,
	      "jailfw: error: no jail \"fooba\" in force (jails: bare, foobar, psa-www); apply a "
	      "policy first\njailfw: note: did you mean \"foobar\"?\n",
	      "root: unknown jail");
	T_RUN("psa-www", true, "true", 64 + EINVAL,
	      "jailfw: error: --keep-ids is refused for uid jail \"psa-www\": its ruleset "
	      "confines uid 1099 and nothing else, so CMD would run unconfined as root\n",
	      "root: --keep-ids for a uid jail");

	T_RUN("psa-www", false, CHECK_SCRIPT, 0, DROPPED("1099"),
	      "root: uid jail: its uid and gid, no groups, no capabilities, no_new_privs, "
	      "no leaked descriptor");
	T_RUN("psa-www", false, "exit 7", 7, "", "root: CMD's exit status is the exit status");
	{
		char *missing[] = {"/nonexistent/cmd", NULL};
		char *noexec[] = {"/run/m/file", NULL};
		char *onpath[] = {"no-such-command-jailfw", NULL};
		char *o1, *o2, *o3;
		int s1, s2, s3;

		s1 = run_argv("psa-www", false, missing, &o1);
		T_CHECK(s1 == 127, "root: CMD not found: 127");
		T_STREQ(o1,
			"jailfw: error: cannot run \"/nonexistent/cmd\": No such file or "
			"directory\n",
			"root: CMD not found: message");
		s2 = run_argv("psa-www", false, noexec, &o2);
		T_CHECK(s2 == 126, "root: CMD not executable: 126");
		T_STREQ(o2, "jailfw: error: cannot run \"/run/m/file\": Permission denied\n",
			"root: CMD not executable: message");
		s3 = run_argv("psa-www", false, onpath, &o3);
		/*
		 * The test's PATH may name directories below /root, which
		 * uid 1099 cannot search: execvp then says EACCES, a shell
		 * (and exec) "not found".
		 */
		T_CHECK(s3 == 127 && has_text(o3, "cannot run \"no-such-command-jailfw\": "),
			"root: CMD looked up on PATH, not found: 127");
		if (s3 != 127)
			printf("# exit %d: %s", s3, o3);
		free(o1);
		free(o2);
		free(o3);
	}

	/* foobar's namespace does not exist yet. */
	T_RUN("foobar", false, "touch /run/m/ran", 64 + ENOENT,
	      "jailfw: error: the namespace of jail \"foobar\" is missing (no "
	      "/run/netns/foobar); nothing run, run jailfw apply to make it again\n",
	      "root: missing namespace, nothing run");
	T_CHECK(access("/run/m/ran", F_OK) != 0,
		"root: missing namespace: the command did not run");

	T_CHECK(netns_create("foobar", NULL, NULL, &nsfd, &id) == 0, "root: namespace foobar made");
	if (nsfd >= 0)
		close(nsfd);
	T_RUN("foobar", false, "touch /run/m/ran", 64 + EEXIST,
	      "jailfw: error: namespace \"foobar\" is not the one jailfw created for the jail "
	      "(/run/netns/foobar was deleted and made again by something else); nothing "
	      "run\n",
	      "root: replaced namespace, nothing run");
	T_CHECK(access("/run/m/ran", F_OK) != 0,
		"root: replaced namespace: the command did not run");

	j = state_find_jail(&s, "foobar");
	j->ns = id;
	j = state_find_jail(&s, "bare");
	T_CHECK(netns_create("bare", NULL, NULL, &nsfd, &other) == 0, "root: namespace bare made");
	if (nsfd >= 0)
		close(nsfd);
	j->ns = other;
	T_CHECK(state_save(&s) == 0, "root: state records the namespaces");
	T_CHECK(system("ip link add foobar-out type veth peer name foobar-in netns foobar") == 0,
		"root: a veth into foobar");
	T_CHECK(mkdir("/etc/netns/foobar", 0755) == 0 &&
		    put_file("/etc/netns/foobar/resolv.conf", "nameserver 192.0.2.53\n", 0644) == 0,
		"root: /etc/netns/foobar/resolv.conf");
	text = slurp("/etc/resolv.conf");

	T_RUN("foobar", false, CHECK_SCRIPT, 0, DROPPED("65534"),
	      "root: netns jail: the jail's user, no groups, no capabilities, no_new_privs, "
	      "no leaked descriptor");
	T_RUN("foobar", false, "cat /etc/resolv.conf; ls /sys/class/net", 0,
	      "nameserver 192.0.2.53\nfoobar-in\nlo\n",
	      "root: netns jail: its resolv.conf, its /sys/class/net");
	snprintf(want, sizeof(want), "net:[%llu]\n", (unsigned long long)id.ino);
	T_RUN("foobar", false, "readlink /proc/self/ns/net", 0, want,
	      "root: netns jail: in its namespace");
	{
		char *after = slurp("/etc/resolv.conf");

		T_CHECK(text && after && !strcmp(text, after),
			"root: the jail's resolv.conf did not propagate back (MS_SLAVE)");
		free(after);
	}
	T_CHECK(access("/sys/class/net/foobar-out", F_OK) == 0 &&
		    access("/sys/class/net/foobar-in", F_OK) != 0,
		"root: the jail's sysfs did not propagate back");
	snprintf(want, sizeof(want), "0\n%sNoNewPrivs:\t0\n0\n1\n2\n3\n", capeff);
	T_RUN("foobar", true,
	      "id -u; grep -E '^(CapEff|NoNewPrivs):' /proc/self/status; exec ls /proc/self/fd", 0,
	      want,
	      "root: --keep-ids: root, its capabilities, no no_new_privs, no leaked descriptor");
	T_RUN("bare", false, "id -u", 64 + EINVAL, bare_refused,
	      "root: netns jail without a user: refused without --keep-ids, nothing run");
	T_RUN("bare", true, "id -u", 0, "0\n",
	      "root: netns jail without a user, --keep-ids: runs as root");
	T_RUN("foobar", false, "exec /nonexistent/cmd", 127,
	      "/bin/sh: 1: exec: /nonexistent/cmd: not found\n",
	      "root: netns jail: CMD's exit status passes through");
	free(text);
	state_free(&s);
}

/* The root part runs in a child; its results are added to ours. */
static void root_part(int fd)
{
	char buf[64];

	T_CHECK(sandbox(), "root: private network and mount namespace, private tmpfs");
	if (!t_failed) {
		test_state_format();
		test_exec_root();
	}
	fflush(stdout);
	snprintf(buf, sizeof(buf), "%d %d", t_run, t_failed);
	write_all(fd, buf);
}

int main(void)
{
	test_lookup();
	test_needs();
	test_check_netns();
	test_caps();
	test_no_command();
	if (geteuid() == 0) {
		char *res = in_child(root_part);

		if (sscanf(res, "%d %d", &t_run, &t_failed) != 2)
			T_CHECK(false, "root: the child reported its results");
		free(res);
	} else {
		printf("# not root: the namespace part is skipped\n");
	}
	return t_done();
}
