// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jailfw exec: enter a jail and become what it confines, then execvp.
 *
 * The order of the steps is the security argument, so here it is in full:
 *
 *  1. Look before touching anything.  The jail must be in the state (so
 *     jailfw made it, and its user is the one the policy named), not
 *     half-made by an apply or half-removed by a down, its nftables table
 *     must be loaded and jailfw's (for a uid jail the ruleset is the whole
 *     confinement: after a `flush ruleset` by some other tool, running the
 *     service would run it unconfined), and every capability the steps
 *     below need must be there, all named at once if not.
 *
 *  2. netns jail: open /run/netns/NAME and check that its nsfs inode is
 *     the one recorded when jailfw made it.  The check and setns() use the
 *     same descriptor, so a namespace swapped in behind our back between
 *     the two cannot be entered.
 *
 *  3. Mounts, the way `ip netns exec` makes them, in a mount namespace of
 *     our own (see enter_netns).  Everything that needs CAP_SYS_ADMIN
 *     happens here, before the ids change.
 *
 *  4. Ids and capabilities (drop_privileges): the bounding set first, while
 *     CAP_SETPCAP is still ours; then supplementary groups and the gid,
 *     while CAP_SETGID is; the uid last, because it takes CAP_SETUID and
 *     CAP_SETGID with it; then whatever capabilities remain.  Then verify
 *     all of it, and set no_new_privs.
 *
 *  5. Descriptors: every one above 2 is marked close-on-exec, so none of
 *     jailfw's (nor any its caller leaked to it) reaches CMD, while our
 *     stderr still works to report a failed execvp.
 *
 * jailfw is single-threaded, which matters: setns() and unshare() act on
 * the calling thread only (CLONE_NEWNS refuses a multi-threaded caller).
 */
#include "exec.h"

#include <cap-ng.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "exitcode.h"
#include "caps.h"
#include "model.h"
#include "fileio.h"
#include "netns.h"
#include "nftload.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Jails named in "no jail ... in force (jails: ...)". */
#define LIST_MAX 12

/* ---- the pure part: which jail, may it be entered, what it needs ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void report_unknown(const struct state *s, const char *jail, struct diag *d)
{
	const char **names;
	const char *hint;
	struct strbuf sb;
	size_t i;

	if (!s->njails) {
		diag_error(d, NULL, 0,
			   "no jail \"%s\" in force (no jails are); apply a policy first", jail);
		return;
	}
	names = xcalloc(s->njails, sizeof(*names));
	for (i = 0; i < s->njails; i++)
		names[i] = s->jails[i].name;
	qsort(names, s->njails, sizeof(*names), cmp_str);
	sb_init(&sb);
	for (i = 0; i < s->njails && i < LIST_MAX; i++)
		sb_printf(&sb, "%s%s", i ? ", " : "", names[i]);
	if (s->njails > LIST_MAX)
		sb_printf(&sb, " and %zu more", s->njails - LIST_MAX);
	diag_error(d, NULL, 0, "no jail \"%s\" in force (jails: %s); apply a policy first", jail,
		   sb.s);
	hint = diag_suggest(jail, names, s->njails);
	if (hint)
		diag_note(d, NULL, 0, "did you mean \"%s\"?", hint);
	sb_free(&sb);
	free(names);
}

int exec_lookup(struct state *s, const char *jail, const struct exec_opts *o,
		const struct state_jail **jp, struct diag *d)
{
	const struct state_jail *j;

	*jp = NULL;
	/*
	 * A down that was killed half-way may have deleted the table and
	 * left the records: the uid jails would be unconfined.
	 */
	if (s->phase == STATE_DOWN) {
		diag_error(d, NULL, 0,
			   "a jailfw down is under way or was interrupted, so no jail is in "
			   "force; run jailfw down or jailfw apply to finish it");
		return -EBUSY;
	}
	j = state_find_jail(s, jail);
	if (!j) {
		report_unknown(s, jail, d);
		return -ESRCH;
	}
	/* 0:0 is a namespace whose creation was under way: nothing to compare. */
	if (j->pending || (j->backend == BACKEND_NETNS && !j->ns.ino)) {
		diag_error(d, NULL, 0,
			   "jail \"%s\" is being made by an apply that has not finished; run "
			   "jailfw apply (again) first",
			   jail);
		return -EBUSY;
	}
	if (j->backend == BACKEND_UID && !j->has_user) {
		/* state_load refuses such a record; a hand-built state might not. */
		diag_error(d, NULL, 0, "jail \"%s\" has no user recorded", jail);
		return -EINVAL;
	}
	/*
	 * Without a user, CMD would stay uid 0: no capabilities, but still
	 * the owner of root's files (/etc/shadow, /etc/passwd, unit files,
	 * /run/jailfw/state, which decides what jailfw tears down): enough
	 * to leave any jail, and to take the host.  Only a launcher that
	 * drops privileges itself may have root, and asks for it by name.
	 */
	if (!o->keep_ids && (!j->has_user || j->uid == 0)) {
		diag_error(d, NULL, 0,
			   "jail \"%s\" %s: CMD would run as uid 0, which even without "
			   "capabilities owns root's files (/etc/shadow, unit files, %s); "
			   "nothing run",
			   jail, j->has_user ? "names uid 0 as its user" : "names no user",
			   STATE_FILE);
		diag_note(d, NULL, 0,
			  "give the jail a user (\"user NAME\"), or pass --keep-ids to run a "
			  "launcher that drops privileges itself (nsjail) as root");
		return -EINVAL;
	}
	if (o->keep_ids && j->backend == BACKEND_UID) {
		diag_error(d, NULL, 0,
			   "--keep-ids is refused for uid jail \"%s\": its ruleset confines "
			   "uid %u and nothing else, so CMD would run unconfined as root",
			   jail, (unsigned int)j->uid);
		return -EINVAL;
	}
	*jp = j;
	return 0;
}

size_t exec_needs(const struct state_jail *j, const struct exec_opts *o, unsigned int caps[8])
{
	size_t n = 0;

	if (j->backend == BACKEND_NETNS)
		caps[n++] = CAP_SYS_ADMIN; /* setns, unshare(CLONE_NEWNS), mount */
	caps[n++] = CAP_NET_ADMIN;	   /* reading the ruleset: is the table there? */
	if (o->keep_ids)
		return n;
	if (j->has_user)
		caps[n++] = CAP_SETUID;
	caps[n++] = CAP_SETGID;	 /* setgroups, setresgid */
	caps[n++] = CAP_SETPCAP; /* emptying the bounding set */
	return n;
}

int exec_check_netns(const struct state_jail *j, int open_err, const struct netns_id *id,
		     struct diag *d)
{
	if (open_err == -ENOENT) {
		diag_error(d, NULL, 0,
			   "the namespace of jail \"%s\" is missing (no %s/%s); nothing run, "
			   "run jailfw apply to make it again",
			   j->name, NETNS_RUN_DIR, j->name);
		return -ENOENT;
	}
	/*
	 * Something else holds the name: the jail's namespace is gone, and
	 * what is there is not jailfw's to enter (nor to remove).
	 */
	if (open_err == -ENODATA || open_err == -EMEDIUMTYPE) {
		char what[160];

		diag_error(d, NULL, 0,
			   "%s/%s is not the namespace jailfw made for jail \"%s\" (it is %s); "
			   "nothing run",
			   NETNS_RUN_DIR, j->name, j->name,
			   netns_what(j->name, what, sizeof(what)));
		return -EEXIST;
	}
	if (open_err) {
		diag_error(d, NULL, 0, "open namespace \"%s\" (%s/%s): %s", j->name, NETNS_RUN_DIR,
			   j->name, strerror(-open_err));
		return open_err;
	}
	if (!netns_id_eq(id, &j->ns)) {
		diag_error(d, NULL, 0,
			   "namespace \"%s\" is not the one jailfw created for the jail (%s/%s "
			   "was deleted and made again by something else); nothing run",
			   j->name, NETNS_RUN_DIR, j->name);
		return -EEXIST;
	}
	return 0;
}

int exec_cmd_status(int err)
{
	return err == -ENOENT ? EXEC_STATUS_NOT_FOUND : EXEC_STATUS_CANNOT_RUN;
}

int exec_exit_status(int ret)
{
	if (ret > 0)
		return ret;
	switch (-ret) {
	case ESRCH:
	case EINVAL:
		return EXIT_USAGE;
	case EBUSY:
		return EXIT_LOCKED;
	case EEXIST:
		return EXIT_CONFLICT;
	}
	return exitcode_kernel(ret);
}

/* ---- the checks that ask the kernel ---- */

static int check_table(const struct state *s, const struct state_jail *j, struct diag *d)
{
	const char *table = s->table ? s->table : DEFAULT_TABLE;
	int ret = nftload_table_state(table, d);

	if (ret == NFTLOAD_TABLE_OURS)
		return 0;
	if (ret == NFTLOAD_TABLE_ABSENT) {
		diag_error(d, NULL, 0,
			   "table inet %s is not loaded, so jail \"%s\" is not confined; nothing "
			   "run, run jailfw apply first",
			   table, j->name);
		return -ENOENT;
	}
	if (ret == NFTLOAD_TABLE_FOREIGN) {
		diag_error(d, NULL, 0,
			   "table inet %s is not jailfw's, so jail \"%s\" is not confined by it; "
			   "nothing run",
			   table, j->name);
		return -EEXIST;
	}
	/* A name the state should never hold is a damaged state, not usage. */
	return ret == -EINVAL ? -EBADMSG : ret;
}

/* ---- mounts, as `ip netns exec` makes them ---- */

/*
 * Carry the cgroup hierarchy over into the new /sys.  `ip netns exec`
 * loses everything mounted below /sys when it replaces it; the tools
 * --keep-ids exists for (nsjail) put their jails in cgroups, and the
 * cgroup tree is the same in every network namespace, so keep that one.
 * open_tree() clones it as a detached mount tree before /sys goes, and
 * move_mount() attaches the clone below the new sysfs.  Kernels before
 * 5.2 lack both; there the jail just has no /sys/fs/cgroup, as under
 * `ip netns exec`.
 */
static int cgroup_keep(void)
{
	struct stat sys, cg;

	if (stat("/sys", &sys) < 0 || stat("/sys/fs/cgroup", &cg) < 0 || sys.st_dev == cg.st_dev)
		return -1; /* not a mount point of its own */
	return open_tree(AT_FDCWD, "/sys/fs/cgroup",
			 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
}

static int remount_sys(const char *name, struct diag *d)
{
	unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	struct statvfs sv;
	int cgfd, err = 0;

	/* A read-only /sys (a container's) stays read-only. */
	if (statvfs("/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY))
		flags |= MS_RDONLY;
	cgfd = cgroup_keep();
	/*
	 * EINVAL: /sys was not a mount point; then the new sysfs simply
	 * covers the directory.  MNT_DETACH: the old tree may be busy.
	 */
	if (umount2("/sys", MNT_DETACH) < 0 && errno != EINVAL) {
		err = -errno;
		diag_error(d, NULL, 0, "unmount the host's /sys: %s", strerror(errno));
		goto out;
	}
	if (mount(name, "/sys", "sysfs", flags, NULL) < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "mount a sysfs for namespace \"%s\" on /sys: %s", name,
			   strerror(errno));
		goto out;
	}
	if (cgfd >= 0 &&
	    move_mount(cgfd, "", AT_FDCWD, "/sys/fs/cgroup", MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "mount the cgroup hierarchy on /sys/fs/cgroup: %s",
			   strerror(errno));
	}
out:
	if (cgfd >= 0)
		close(cgfd);
	return err;
}

/*
 * /etc/netns/NAME/FILE over /etc/FILE, every file there (resolv.conf
 * above all: the host's may name a resolver the jail cannot reach, such
 * as 127.0.0.53).  Bind mounts follow symlinks, so a /etc/resolv.conf
 * that links into /run/systemd is covered where it points.  Stricter than
 * `ip netns exec`, which warns and runs anyway: a file the admin put
 * there that cannot be applied stops the exec, and so does a directory
 * that is not root's alone (fileio.h): whoever could write there would
 * choose CMD's /etc/passwd.
 */
static int bind_etc(const char *name, struct diag *d)
{
	char dir[PATH_MAX], src[PATH_MAX], dst[PATH_MAX], why[FILEIO_WHY_MAX];
	struct dirent *e;
	DIR *dp;
	int dfd, err = 0;

	snprintf(dir, sizeof(dir), "%s/%s", NETNS_ETC_DIR, name);
	err = netns_etc_open(name, false, NULL, &dfd, why);
	if (err == -ENOENT)
		return 0;
	if (err == -EEXIST) {
		diag_error(d, NULL, 0, "%s, so its files are not bound over /etc; nothing run",
			   why);
		return err;
	}
	dp = err ? NULL : fdopendir(dfd);
	if (!dp) {
		err = err ? err : -errno;
		if (dfd >= 0)
			close(dfd);
		diag_error(d, NULL, 0, "open %s: %s", dir, strerror(-err));
		return err;
	}
	errno = 0;
	while ((e = readdir(dp))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((size_t)snprintf(src, sizeof(src), "%s/%s", dir, e->d_name) >= sizeof(src) ||
		    (size_t)snprintf(dst, sizeof(dst), "/etc/%s", e->d_name) >= sizeof(dst)) {
			err = -ENAMETOOLONG;
			diag_error(d, NULL, 0, "bind %s/%s: %s", dir, e->d_name, strerror(-err));
			break;
		}
		if (mount(src, dst, "none", MS_BIND, NULL) < 0) {
			err = -errno;
			diag_error(d, NULL, 0, "bind %s over %s: %s", src, dst, strerror(errno));
			break;
		}
		errno = 0;
	}
	if (!err && errno) {
		err = -errno;
		diag_error(d, NULL, 0, "read %s: %s", dir, strerror(errno));
	}
	closedir(dp);
	return err;
}

/*
 * Enter the jail's network namespace and give it the mounts `ip netns
 * exec` would.  nsfd was checked to be the jail's (exec_check_netns).
 */
static int enter_netns(const char *name, int nsfd, struct diag *d)
{
	int err;

	if (setns(nsfd, CLONE_NEWNET) < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "enter namespace \"%s\": %s", name, strerror(errno));
		return err;
	}
	/*
	 * A mount namespace of our own, so that the /sys and /etc mounts
	 * below are CMD's alone.  Its mounts start as copies of ours, with
	 * our propagation: under systemd / is shared, so without the next
	 * step every mount we make would propagate straight back into the
	 * host's namespace (the jail's resolv.conf over the host's, a
	 * sysfs of the jail on the host's /sys).  MS_SLAVE, recursively:
	 * mounts still propagate in from the host (a disk mounted later,
	 * a namespace added under /run/netns) but never out.
	 */
	if (unshare(CLONE_NEWNS) < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "make a mount namespace: %s", strerror(errno));
		return err;
	}
	err = netns_mounts_propagation(MS_SLAVE);
	if (err) {
		diag_error(d, NULL, 0, "make / a slave mount: %s", strerror(-err));
		return err;
	}
	/*
	 * sysfs shows the network devices of the namespace of the process
	 * that mounted it, fixed at mount time, not of the reader: the
	 * host's /sys/class/net would list the host's interfaces to the
	 * jail (and tools that read it, udev helpers, `ip` with some
	 * options, would act on the wrong devices).  So mount a new one, now
	 * that we are inside.
	 */
	err = remount_sys(name, d);
	if (!err)
		err = bind_etc(name, d);
	return err;
}

/* ---- ids and capabilities ---- */

static const char *const cap_set_names[] = {"effective", "permitted", "inheritable", "bounding"};
static const capng_type_t cap_sets[] = {CAPNG_EFFECTIVE, CAPNG_PERMITTED, CAPNG_INHERITABLE,
					CAPNG_BOUNDING_SET};

/*
 * Read back what the kernel now says and refuse to go on if any of it is
 * not what we asked for.  Cheap, and it catches what no return code does:
 * a securebits setting inherited from our parent (SECBIT_NO_SETUID_FIXUP
 * keeps capabilities across the uid change) or an LSM that quietly
 * skipped a step.
 */
static int verify_dropped(uid_t uid, gid_t gid, struct diag *d)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	unsigned int cap;
	size_t k;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != uid ||
	    eu != uid || su != uid || rg != gid || eg != gid || sg != gid) {
		diag_error(d, NULL, 0, "the ids did not change to %u:%u", (unsigned int)uid,
			   (unsigned int)gid);
		return -EPERM;
	}
	if (getgroups(0, NULL) != 0) {
		diag_error(d, NULL, 0, "supplementary groups are still set");
		return -EPERM;
	}
	if (capng_get_caps_process() < 0) {
		diag_error(d, NULL, 0, "read back the capabilities: %s", strerror(errno));
		return -EPERM;
	}
	for (cap = 0; cap < 64; cap++) {
		for (k = 0; k < ARRAY_SIZE(cap_sets); k++) {
			if (capng_have_capability(cap_sets[k], cap) == 1) {
				diag_error(d, NULL, 0,
					   "capability %u is still in the %s set after dropping "
					   "them all",
					   cap, cap_set_names[k]);
				return -EPERM;
			}
		}
		/*
		 * The ambient set is a subset of permitted and inheritable,
		 * both empty now; ask anyway (EINVAL past the last cap).
		 */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) {
			diag_error(d, NULL, 0, "capability %u is still ambient", cap);
			return -EPERM;
		}
	}
	/* bubblewrap's last word: if we can become root again, we are. */
	if (uid != 0 && setresuid(0, 0, 0) == 0) {
		diag_error(d, NULL, 0, "could become root again after dropping privileges");
		return -EPERM;
	}
	return 0;
}

/*
 * Become uid:gid (j's user; without one, stay who we are) with nothing
 * else: no supplementary groups, no capabilities in any set, and
 * no_new_privs.  The order is forced:
 *
 *   - The bounding set first.  It is what execve() may ever give back
 *     (a setuid-root binary, file capabilities, and root's own rule that
 *     uid 0 gets every capability of the bounding set on execve), and
 *     dropping from it takes CAP_SETPCAP, which we hold only until the
 *     uid changes.
 *   - Supplementary groups and the gid before the uid: both take
 *     CAP_SETGID, and a non-root uid no longer has it.  In the other
 *     order the process would keep root's groups (gid 0, or disk, adm,
 *     docker...) for good, and with them files the jail must not touch.
 *   - All three ids of each kind (real, effective, saved): with a saved
 *     uid or gid of 0 left over, CMD could simply switch back to it.
 *   - Capabilities last.  Leaving uid 0 clears the effective, permitted
 *     and ambient sets, but only by default (SECBIT_NO_SETUID_FIXUP,
 *     settable by our parent, disables that), never the inheritable set,
 *     and not at all when there is no uid change: so clear them
 *     explicitly, and read everything back.
 *   - no_new_privs: from here on execve() can never grant anything,
 *     neither through setuid/setgid bits nor file capabilities, to CMD
 *     or anything it runs; it is inherited and cannot be unset.
 */
static int drop_privileges(const struct state_jail *j, struct diag *d)
{
	uid_t uid = j->has_user ? j->uid : geteuid();
	gid_t gid = j->has_user ? j->gid : getegid();
	int err;

	capng_clear(CAPNG_SELECT_BOTH);
	errno = 0;
	if (capng_apply(CAPNG_SELECT_BOUNDS) != 0) {
		err = errno ? -errno : -EPERM;
		diag_error(d, NULL, 0, "empty the capability bounding set: %s", strerror(-err));
		return err;
	}
	/* Kernels before 4.3 have no ambient set: nothing to clear there. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		err = -errno;
		diag_error(d, NULL, 0, "clear the ambient capabilities: %s", strerror(errno));
		return err;
	}
	if (setgroups(0, NULL) < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "drop the supplementary groups: %s", strerror(errno));
		return err;
	}
	if (setresgid(gid, gid, gid) < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "set gid %u: %s", (unsigned int)gid, strerror(errno));
		return err;
	}
	if (setresuid(uid, uid, uid) < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "set uid %u: %s", (unsigned int)uid, strerror(errno));
		return err;
	}
	capng_clear(CAPNG_SELECT_BOTH);
	errno = 0;
	if (capng_apply(CAPNG_SELECT_CAPS) != 0) {
		err = errno ? -errno : -EPERM;
		diag_error(d, NULL, 0, "drop the capabilities: %s", strerror(-err));
		return err;
	}
	err = verify_dropped(uid, gid, d);
	if (err)
		return err;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "set no_new_privs: %s", strerror(errno));
		return err;
	}
	return 0;
}

/* ---- descriptors ---- */

/*
 * Mark every descriptor above 2 close-on-exec: jailfw's own (the state
 * file and the netlink sockets are closed already, but a library may keep
 * one) and any our caller leaked to us, which could be a socket of the
 * host's namespace or a directory outside the jail.  Close-on-exec rather
 * than closed: the execve closes them all at once, and if it fails our
 * diagnostics can still be written.  close_range() does it in one call
 * (Linux 5.11 for the flag); before that, walk /proc/self/fd, and without
 * /proc, every possible number.
 */
static int seal_fds(struct diag *d)
{
	struct rlimit rl;
	struct dirent *e;
	DIR *dp;
	int fd, err;

	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL) {
		err = -errno;
		diag_error(d, NULL, 0, "close descriptors: %s", strerror(errno));
		return err;
	}
	dp = opendir("/proc/self/fd");
	if (dp) {
		while ((e = readdir(dp))) {
			fd = atoi(e->d_name);
			if (fd > 2 && fd != dirfd(dp))
				fcntl(fd, F_SETFD, FD_CLOEXEC);
		}
		closedir(dp);
		return 0;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur > (1u << 20))
		rl.rlim_cur = 1u << 20;
	for (fd = 3; fd < (int)rl.rlim_cur; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

/* ---- exec ---- */

/*
 * Whether some PATH directory holds file (as far as we may look).  execvp
 * says EACCES, not ENOENT, when it found the command nowhere but could not
 * search some directory of PATH, which is common once the uid is no
 * longer root (root's PATH names directories below /root): a shell calls
 * that "not found", and so do we.
 */
static bool on_path(const char *file)
{
	const char *path = secure_getenv("PATH"), *p, *end;
	char buf[PATH_MAX];
	struct stat st;
	int len;

	for (p = path ? path : "/bin:/usr/bin";; p = end + 1) {
		end = strchrnul(p, ':');
		len = (int)(end - p);
		if (snprintf(buf, sizeof(buf), "%.*s%s%s", len, p, len ? "/" : "", file) <
			(int)sizeof(buf) &&
		    stat(buf, &st) == 0)
			return true;
		if (!*end)
			return false;
	}
}

static int report_exec_error(const char *file, int err, struct diag *d)
{
	if (err == -EACCES && !strchr(file, '/') && !on_path(file)) {
		diag_error(d, NULL, 0,
			   "cannot run \"%s\": not found in PATH (some of its directories "
			   "cannot be searched as uid %u)",
			   file, (unsigned int)getuid());
		return exec_cmd_status(-ENOENT);
	}
	diag_error(d, NULL, 0, "cannot run \"%s\": %s", file, strerror(-err));
	return exec_cmd_status(err);
}

static int load_state(struct state *s, struct diag *d)
{
	static const unsigned int root[] = {CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID,
					    CAP_SETPCAP};
	int err = state_load(s, d);

	/* Not root: say what it takes, not only that /run/jailfw is closed. */
	if (err == -EACCES || err == -EPERM)
		caps_require_list("exec", root, ARRAY_SIZE(root), d);
	/* Not jailfw's writing: a conflict (-EINVAL would read as usage). */
	return err == -EINVAL ? -EEXIST : err;
}

int exec_jail(const char *jail, const struct exec_opts *o, char *const argv[], struct diag *d)
{
	const struct state_jail *j;
	unsigned int caps[8];
	struct netns_id id = {0, 0};
	struct state s;
	int nsfd = -1, err;
	size_t n;

	state_init(&s);
	if (!argv || !argv[0] || !argv[0][0]) {
		diag_error(d, NULL, 0, "exec: no command to run");
		return -EINVAL;
	}
	err = load_state(&s, d);
	if (err)
		goto out;
	err = exec_lookup(&s, jail, o, &j, d);
	if (err)
		goto out;
	n = exec_needs(j, o, caps);
	if (!caps_require_list("exec", caps, n, d)) {
		err = -EPERM;
		goto out;
	}
	err = check_table(&s, j, d);
	if (err)
		goto out;
	if (j->backend == BACKEND_NETNS) {
		err = netns_open(j->name, &nsfd, &id);
		err = exec_check_netns(j, err, &id, d);
		if (err)
			goto out;
		err = enter_netns(j->name, nsfd, d);
		if (err)
			goto out;
		close(nsfd);
		nsfd = -1;
	}
	if (!o->keep_ids) {
		err = drop_privileges(j, d);
		if (err)
			goto out;
	}
	/*
	 * --keep-ids: root keeps its capabilities and no no_new_privs is
	 * set.  The launcher it is for drops privileges itself and may have
	 * to leave setuid helpers usable (nsjail's disable_no_new_privs,
	 * newuidmap): the flag could never be cleared again.  It would buy
	 * nothing either: with CAP_SYS_ADMIN, root can setns() straight
	 * back out of the jail.  Confinement under --keep-ids is the
	 * launcher's job; jailfw provides the network.
	 */
	err = seal_fds(d);
	if (err)
		goto out;
	fflush(NULL);
	execvp(argv[0], argv);
	err = report_exec_error(argv[0], -errno, d);
out:
	if (nsfd >= 0)
		close(nsfd);
	state_free(&s);
	return err;
}
