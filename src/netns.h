/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Named network namespaces, made exactly as `ip netns add` makes them: a
 * file /run/netns/NAME with the namespace bind-mounted on it, /run/netns
 * being a shared mount.  So `ip netns exec NAME`, `ip -n NAME` and
 * `ip netns list` work on what jailfw built, and jailfw can reopen a
 * namespace it made in an earlier run.
 *
 * Per-namespace files live in /etc/netns/NAME/ (ip netns exec bind-mounts
 * each of them over its /etc counterpart in a private mount namespace).
 *
 * Functions return 0 or -errno.
 */
#ifndef JAILFW_NETNS_H
#define JAILFW_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NETNS_RUN_DIR "/run/netns"
#define NETNS_ETC_DIR "/etc/netns"

/* What identifies a namespace: its nsfs inode. */
struct netns_id {
	uint64_t dev, ino;
};

static inline bool netns_id_eq(const struct netns_id *a, const struct netns_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/*
 * Create namespace NAME: -EEXIST if /run/netns/NAME exists.  On success
 * *fdp is an O_CLOEXEC descriptor of the new namespace and *id its
 * identity.  When inside is not NULL it runs while the calling thread is
 * in the new namespace, before the namespace is mounted at its name (to
 * open a netlink socket there without entering it again, and to mark the
 * namespace before anyone can see it); its error undoes the creation.
 * The caller is always back in its own namespace on return.
 */
int netns_create(const char *name, int (*inside)(void *ctx), void *ctx, int *fdp,
		 struct netns_id *id);

/*
 * Open namespace NAME.  -ENOENT: no such name.  -ENODATA: an empty regular
 * file with nothing mounted on it (what a creation killed half-way leaves).
 * -EMEDIUMTYPE: something that is not a network namespace and that no
 * creation of jailfw's leaves behind: a directory, a symbolic link, a file
 * with content, a mount of another file system, a namespace of another
 * kind (netns_what says which).  fdp may be NULL when only the identity is
 * wanted.
 */
int netns_open(const char *name, int *fdp, struct netns_id *id);

/*
 * What is at /run/netns/NAME, for messages: "a directory with something
 * mounted on it", "a mount namespace", "a regular
 * file of 12 bytes, nothing mounted on it"...  Returns buf.
 */
const char *netns_what(const char *name, char *buf, size_t len);

/*
 * Remove /run/netns/NAME (unmount, unlink), as `ip netns delete` does.
 * The namespace itself, with the jail end of its veth (and so the whole
 * pair), is freed by the kernel later, once nothing uses it: as long as a
 * process is in it, the pair stays (see netns_find_users).  0 if it was
 * not there.
 */
int netns_delete(const char *name);

/*
 * Which of the namespaces ids[0..n) a process is in: users[i] becomes the
 * pid of one such process, or 0.  One scan of /proc/PID/ns/net for all
 * of them (thread group leaders only: see netns.c).  A namespace can also
 * be held by what no scan of processes shows (an open descriptor of it, a
 * socket made in it, a thread that entered it alone): 0 does not prove
 * that the kernel frees it once its name is gone; nor does it for a
 * process whose namespace this one may not read (without CAP_SYS_PTRACE,
 * another user's).  Returns how many processes could not be read, or
 * -errno when /proc cannot be.
 */
int netns_find_users(const struct netns_id *ids, size_t n, pid_t *users);

/*
 * Set the propagation type (MS_PRIVATE, MS_SLAVE) of every mount in the
 * calling thread's new mount namespace, recursively from its root, also
 * where / is not a mount point (a chroot).  Call right after
 * unshare(CLONE_NEWNS), before mounting anything.
 */
int netns_mounts_propagation(unsigned long type);

/* Run fn inside the namespace nsfd, then return to the caller's. */
int netns_run(int nsfd, int (*fn)(void *ctx), void *ctx);

/*
 * /etc/netns/NAME/FILE, reached only through directories checked as
 * fileio.h says: /etc/netns and /etc/netns/NAME must be real directories
 * of root's that nobody else may write (jailfw makes them 0755 when
 * missing), so that a symbolic link or a directory planted there by
 * someone else never redirects a write.  -EEXIST when one is not, with
 * why (FILEIO_WHY_MAX bytes) saying which and how.
 *
 * open gives a descriptor of /etc/netns/NAME (create: make what is
 * missing, *made when NAME was).  write replaces FILE atomically
 * (fileio_write_at), creating the directories if needed (*made_dir then
 * true).  read returns a malloc'd, NUL-terminated copy (-ENOENT if none;
 * a symbolic link is not followed).  remove unlinks it (file NULL:
 * nothing) and, when rmdir_too, the directory if it is then empty.
 */
int netns_etc_open(const char *name, bool create, bool *made, int *dfd, char *why);
int netns_etc_write(const char *name, const char *file, const char *text, bool *made_dir,
		    char *why);
int netns_etc_read(const char *name, const char *file, char **text, char *why);
int netns_etc_remove(const char *name, const char *file, bool rmdir_too, char *why);
/* Whether /etc/netns/NAME exists (as anything). */
bool netns_etc_exists(const char *name);

#endif
