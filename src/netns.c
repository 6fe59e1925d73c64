// SPDX-License-Identifier: GPL-2.0-or-later
#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fileio.h"
#include "testhook.h"
#include "util.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

/* The calling thread's namespace: unshare() and setns() act per thread. */
#define SELF_NETNS "/proc/thread-self/ns/net"

static bool run_dir_ready;

static int run_path(const char *name, char path[PATH_MAX])
{
	/* Names are checked by the policy checker; refuse anything odd. */
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	snprintf(path, PATH_MAX, "%s/%s", NETNS_RUN_DIR, name);
	return 0;
}

/*
 * Make /run/netns a shared mount point, as iproute2's netns_add() does.
 *
 * Why: a namespace file is a bind mount, and mounts only show up in other
 * mount namespaces (systemd services with PrivateTmp=, ProtectSystem=, a
 * running `ip netns exec`, containers...) through mount propagation.  With
 * /run/netns shared, the bind mount of a new namespace propagates to every
 * peer, so `ip netns exec` works from anywhere; and, just as important,
 * the unmount in `delete` propagates too, so no stale copy in some other
 * mount namespace keeps the dead namespace (and its veth) alive.
 *
 * "mount --make-shared" fails with EINVAL when /run/netns is a plain
 * directory rather than a mount point, so first bind-mount it onto itself
 * (making it a mount point), then retry once.  Two details follow
 * iproute2:
 *  - the bind mount joins the peer group of /run when /run is shared
 *    (systemd's default), and every namespace mounted below it would then
 *    propagate back to /run/netns through /run: a second mount of each.
 *    Making the new mount private first puts it in a peer group of its
 *    own before it is made shared again;
 *  - two processes doing this at once on a plain directory each bind it
 *    onto the other's mount, over and over (a mount storm that has taken
 *    machines down at boot).  An exclusive flock on the directory
 *    serialises the dance with every other jailfw and with `ip netns add`,
 *    which takes the same lock.  It is best effort, as in iproute2: a
 *    file system without flock must not stop an apply.
 */
static int prepare_run_dir(void)
{
	bool made_mount = false;
	int lock, err = 0;

	if (run_dir_ready)
		return 0;
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	lock = open(NETNS_RUN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock < 0)
		return -errno;
	if (flock(lock, LOCK_EX) < 0) {
		close(lock);
		lock = -1;
	}
	while (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL || made_mount) {
			err = -errno;
			break;
		}
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0 ||
		    mount("", NETNS_RUN_DIR, "none", MS_PRIVATE | MS_REC, NULL) < 0) {
			err = -errno;
			break;
		}
		made_mount = true;
	}
	if (lock >= 0)
		close(lock); /* releases the flock */
	if (!err)
		run_dir_ready = true;
	return err;
}

static int fd_id(int fd, struct netns_id *id)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}

/*
 * Back to the namespace we came from.  If that fails, this thread would
 * carry on configuring the wrong namespace, possibly a jail's as if it
 * were the host's: there is no safe way on, so stop here.
 */
static void return_to(int self)
{
	if (setns(self, CLONE_NEWNET) < 0) {
		fprintf(stderr,
			"jailfw: fatal: cannot return to the original network namespace: %s\n",
			strerror(errno));
		abort();
	}
}

int netns_create(const char *name, int (*inside)(void *ctx), void *ctx, int *fdp,
		 struct netns_id *id)
{
	char path[PATH_MAX];
	int self = -1, fd = -1, nsfd = -1, err;
	bool made_file = false, mounted = false, unshared = false;

	*fdp = -1;
	err = run_path(name, path);
	if (err)
		goto out;
	err = prepare_run_dir();
	if (err)
		goto out;
	self = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		err = -errno;
		goto out;
	}
	/* O_EXCL: never take over a name someone else holds. */
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	close(fd);
	made_file = true;
	/*
	 * TEST-ONLY (JAILFW_TEST_FAULT=netns-create): refuse as the kernel
	 * does once user.max_net_namespaces is reached, after the file was
	 * made, so that its removal is exercised too.
	 */
	if (testhook_fault("netns-create")) {
		err = -ENOSPC;
		goto out;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		err = -errno;
		goto out;
	}
	unshared = true;
	nsfd = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		err = -errno;
		goto out;
	}
	err = fd_id(nsfd, id);
	/*
	 * inside runs while the namespace has no name yet: what it does
	 * there (provision_create.c labels the namespace as jailfw's) is in place
	 * before anyone can see the namespace at path.
	 */
	if (!err && inside)
		err = inside(ctx);
	if (err)
		goto out;
	/* The bind mount is what keeps the namespace alive after we leave. */
	if (mount(SELF_NETNS, path, "none", MS_BIND, NULL) < 0) {
		err = -errno;
		goto out;
	}
	mounted = true;
out:
	if (unshared)
		return_to(self);
	if (self >= 0)
		close(self);
	if (err) {
		if (nsfd >= 0)
			close(nsfd);
		if (mounted)
			umount2(path, MNT_DETACH);
		if (made_file)
			unlink(path);
		return err;
	}
	*fdp = nsfd;
	return 0;
}

/*
 * What is at path, when it is not a network namespace: something mounted
 * on it (a mount root), or a file jailfw never leaves behind (anything but
 * an empty regular file: a creation killed between O_EXCL and the bind
 * mount leaves exactly that).  statx's STATX_ATTR_MOUNT_ROOT (Linux 5.8)
 * also sees a bind mount from the same file system, where comparing
 * st_dev with the directory's would not; before 5.8 that is the fallback.
 */
static bool is_mount_root(const char *path, const struct stat *st)
{
	struct statx stx;
	struct stat dir;

	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
	    (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		return stx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
	return stat(NETNS_RUN_DIR, &dir) == 0 && dir.st_dev != st->st_dev;
}

int netns_open(const char *name, int *fdp, struct netns_id *id)
{
	char path[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	int fd = -1, err, type;

	if (fdp)
		*fdp = -1;
	err = run_path(name, path);
	if (err)
		goto out;
	/*
	 * Look before opening: a FIFO would block open(), and a symbolic
	 * link would lead anywhere; `ip netns add` makes neither.
	 */
	if (lstat(path, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EMEDIUMTYPE;
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (sfs.f_type != NSFS_MAGIC) {
		err = st.st_size || is_mount_root(path, &st) ? -EMEDIUMTYPE : -ENODATA;
		goto out;
	}
	/*
	 * Every kind of namespace lives on nsfs: a mount or user namespace
	 * bind-mounted here is not a network namespace (setns would refuse
	 * it with EINVAL, far too late).  NS_GET_NSTYPE: Linux 4.11.
	 */
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type >= 0 && type != CLONE_NEWNET) {
		err = -EMEDIUMTYPE;
		goto out;
	}
	err = fd_id(fd, id);
out:
	if (!err && fdp) {
		*fdp = fd;
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	return err;
}

static const char *fs_name(unsigned long magic)
{
	switch (magic) {
	case TMPFS_MAGIC:
		return "tmpfs";
	case PROC_SUPER_MAGIC:
		return "proc";
	case SYSFS_MAGIC:
		return "sysfs";
	case EXT4_SUPER_MAGIC:
		return "ext4";
	case OVERLAYFS_SUPER_MAGIC:
		return "overlay";
	}
	return NULL;
}

static const char *ns_type_name(int type)
{
	switch (type) {
	case CLONE_NEWNS:
		return "mount";
	case CLONE_NEWUTS:
		return "uts";
	case CLONE_NEWIPC:
		return "ipc";
	case CLONE_NEWUSER:
		return "user";
	case CLONE_NEWPID:
		return "pid";
	case CLONE_NEWCGROUP:
		return "cgroup";
	}
	return "other";
}

const char *netns_what(const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	struct statfs sfs = {0};
	struct stat st;
	const char *fs;
	int fd, type;

	if (run_path(name, path) || lstat(path, &st) < 0) {
		snprintf(buf, len, "nothing");
		return buf;
	}
	if (S_ISDIR(st.st_mode))
		snprintf(buf, len, "a directory%s",
			 is_mount_root(path, &st) ? " with something mounted on it" : "");
	else if (S_ISLNK(st.st_mode))
		snprintf(buf, len, "a symbolic link");
	else if (!S_ISREG(st.st_mode))
		snprintf(buf, len, "a special file (a FIFO, socket or device)");
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0)
		snprintf(buf, len, "a file that cannot be opened (%s)", strerror(errno));
	else {
		if (fstatfs(fd, &sfs) == 0 && sfs.f_type == NSFS_MAGIC) {
			type = ioctl(fd, NS_GET_NSTYPE);
			if (type == CLONE_NEWNET)
				snprintf(buf, len, "a network namespace");
			else
				snprintf(buf, len, "a %s namespace", ns_type_name(type));
		} else if (is_mount_root(path, &st)) {
			fs = fs_name((unsigned long)sfs.f_type);
			if (fs)
				snprintf(buf, len, "a file with a %s file mounted on it", fs);
			else
				snprintf(buf, len,
					 "a file with a file of file system type 0x%lx mounted on "
					 "it",
					 (unsigned long)sfs.f_type);
		} else {
			snprintf(buf, len, "a regular file of %lld bytes, nothing mounted on it",
				 (long long)st.st_size);
		}
		close(fd);
	}
	return buf;
}

int netns_delete(const char *name)
{
	char path[PATH_MAX];
	int err = run_path(name, path);

	if (err)
		return err;
	/*
	 * MNT_DETACH: a process that has the file open (ip netns exec in
	 * progress) must not make the delete fail; the namespace lives on
	 * until its last user leaves.
	 */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

struct ino_slot {
	uint64_t ino;
	size_t idx;
};

static int ino_slot_cmp(const void *a, const void *b)
{
	const struct ino_slot *x = a, *y = b;

	return (x->ino > y->ino) - (x->ino < y->ino);
}

/*
 * Thread group leaders only: a thread shares its process's namespace
 * unless it entered another one alone (setns acts per thread), which is
 * rare, and reading /proc/PID/task/TID too doubled the cost of the scan
 * (measured on a VM: about 5 µs a process for the leaders alone, readdir
 * included, 75 processes).
 * Namespaces are compared by inode only: the link reads "net:[INODE]",
 * and every namespace inode lives on the one nsfs superblock.
 */
int netns_find_users(const struct netns_id *ids, size_t n, pid_t *users)
{
	struct ino_slot *slots = NULL, key, *hit;
	struct dirent *e;
	DIR *dir = NULL;
	int procfd = -1, dfd, err = 0, unread = 0;
	size_t i, left = n;

	for (i = 0; i < n; i++)
		users[i] = 0;
	if (!n)
		return 0;
	slots = xcalloc(n, sizeof(*slots));
	for (i = 0; i < n; i++) {
		slots[i].ino = ids[i].ino;
		slots[i].idx = i;
	}
	qsort(slots, n, sizeof(*slots), ino_slot_cmp);
	procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0) {
		err = -errno;
		goto out;
	}
	/* A second descriptor for readdir: fdopendir takes it over. */
	dfd = openat(procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !(dir = fdopendir(dfd))) {
		err = -errno;
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	while (left) {
		char path[sizeof(e->d_name) + 8], link[64], *end;
		unsigned long long ino;
		ssize_t len;

		errno = 0;
		e = readdir(dir);
		if (!e) {
			err = -errno;
			break;
		}
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/ns/net", e->d_name);
		len = readlinkat(procfd, path, link, sizeof(link) - 1);
		if (len < 0) {
			/* Gone meanwhile, or a zombie: in no namespace. */
			if (errno == EACCES || errno == EPERM)
				unread++;
			continue;
		}
		link[len] = '\0';
		if (strncmp(link, "net:[", 5))
			continue;
		ino = strtoull(link + 5, &end, 10);
		if (*end != ']')
			continue;
		key.ino = ino;
		hit = bsearch(&key, slots, n, sizeof(*slots), ino_slot_cmp);
		if (hit && !users[hit->idx]) {
			users[hit->idx] = (pid_t)strtol(e->d_name, NULL, 10);
			left--;
		}
	}
out:
	if (dir)
		closedir(dir);
	if (procfd >= 0)
		close(procfd);
	free(slots);
	return err ? err : unread;
}

int netns_run(int nsfd, int (*fn)(void *ctx), void *ctx)
{
	int self, err;

	self = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		err = -errno;
		close(self);
		return err;
	}
	err = fn(ctx);
	return_to(self);
	close(self);
	return err;
}

static int etc_path(const char *name, const char *file, char path[PATH_MAX])
{
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
	    (file && (!file[0] || strchr(file, '/'))))
		return -EINVAL;
	if (file)
		snprintf(path, PATH_MAX, "%s/%s/%s", NETNS_ETC_DIR, name, file);
	else
		snprintf(path, PATH_MAX, "%s/%s", NETNS_ETC_DIR, name);
	return 0;
}

int netns_etc_open(const char *name, bool create, bool *made, int *dfd, char *why)
{
	char dir[PATH_MAX];
	int efd, err;

	*dfd = -1;
	if (made)
		*made = false;
	err = etc_path(name, NULL, dir);
	if (!err)
		err = fileio_open_dir(NETNS_ETC_DIR, create ? 0755 : 0, NULL, &efd, why);
	if (err)
		return err;
	err = fileio_open_subdir(efd, dir, name, create ? 0755 : 0, made, dfd, why);
	close(efd);
	return err;
}

/* /etc/netns/NAME, opened to reach FILE in it (both names checked). */
static int etc_open_for(const char *name, const char *file, bool create, bool *made, int *dfd,
			char *why)
{
	char path[PATH_MAX];
	int err = etc_path(name, file, path);

	return err ? err : netns_etc_open(name, create, made, dfd, why);
}

int netns_etc_write(const char *name, const char *file, const char *text, bool *made_dir, char *why)
{
	int dfd, err;

	*made_dir = false;
	err = etc_open_for(name, file, true, made_dir, &dfd, why);
	if (err)
		return err;
	err = fileio_write_at(dfd, file, text, strlen(text), 0644);
	close(dfd);
	/* A full /etc: the caller never learns of the directory, so it goes here. */
	if (err && *made_dir) {
		netns_etc_remove(name, NULL, true, why);
		*made_dir = false;
	}
	return err;
}

bool netns_etc_exists(const char *name)
{
	char dir[PATH_MAX];
	struct stat st;

	return !etc_path(name, NULL, dir) && lstat(dir, &st) == 0;
}

int netns_etc_read(const char *name, const char *file, char **text, char *why)
{
	int dfd, err;

	*text = NULL;
	err = etc_open_for(name, file, false, NULL, &dfd, why);
	if (err)
		return err;
	err = fileio_read_at(dfd, file, text);
	close(dfd);
	return err;
}

int netns_etc_remove(const char *name, const char *file, bool rmdir_too, char *why)
{
	char dir[PATH_MAX];
	int efd, dfd, err;

	err = etc_path(name, file, dir);
	if (!err && file) {
		err = etc_open_for(name, file, false, NULL, &dfd, why);
		if (err == -ENOENT)
			err = 0;
		else if (!err) {
			err = fileio_remove_at(dfd, file, 0);
			close(dfd);
		}
	}
	if (err || !rmdir_too)
		return err;
	/* Only if empty: the admin may keep other files there. */
	err = fileio_open_dir(NETNS_ETC_DIR, 0, NULL, &efd, why);
	if (err)
		return err == -ENOENT ? 0 : err;
	err = fileio_remove_at(efd, name, AT_REMOVEDIR);
	close(efd);
	return err == -ENOTEMPTY || err == -EEXIST ? 0 : err;
}

/*
 * Propagation type (MS_PRIVATE, MS_SLAVE) on every mount of the calling
 * thread's mount namespace, which it has just made with unshare(): the
 * copies start with the host's propagation, and on a systemd host / is
 * shared, so every mount made afterwards would land in the host's
 * namespace too.
 *
 * In a chroot (pbuilder, a debootstrapped directory) / is a directory,
 * not a mount point: MS_* on it fails with EINVAL, and the mount that
 * holds it (shared, like the host's /) lies outside the root where no
 * path reaches.  setns() into one's own mount namespace sets the root and
 * the working directory to that namespace's root, the real one of this
 * private copy: there the whole tree is changed, then the thread goes
 * back into its chroot through descriptors.  It steps outside the chroot
 * for that one mount() only, and a thread that cannot get back in stops.
 */
int netns_mounts_propagation(unsigned long type)
{
	int root = -1, cwd = -1, ns = -1, err = 0;

	if (mount(NULL, "/", NULL, MS_REC | type, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ns = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (root < 0 || cwd < 0 || ns < 0) {
		err = -errno;
		goto out;
	}
	if (setns(ns, CLONE_NEWNS) < 0) {
		err = -errno;
		goto out;
	}
	if (mount(NULL, "/", NULL, MS_REC | type, NULL) < 0)
		err = -errno;
	if (fchdir(root) < 0 || chroot(".") < 0 || fchdir(cwd) < 0) {
		fprintf(stderr, "jailfw: fatal: cannot return into the root directory: %s\n",
			strerror(errno));
		abort();
	}
out:
	if (ns >= 0)
		close(ns);
	if (cwd >= 0)
		close(cwd);
	if (root >= 0)
		close(root);
	return err;
}
