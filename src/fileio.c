// SPDX-License-Identifier: GPL-2.0-or-later
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define TMP_SUFFIX ".jailfw-tmp"

/*
 * Whoever owns a directory, or may write to it, can swap what is in it
 * for a symbolic link or a file of their own between two of our calls:
 * only root (or the effective user, when jailfw runs with capabilities
 * under another uid) may.
 */
static int check_dir(int fd, const char *path, char *why)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, FILEIO_WHY_MAX, "%s is owned by uid %u, not by root", path,
			 (unsigned int)st.st_uid);
		return -EEXIST;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, FILEIO_WHY_MAX, "%s is writable by %s (mode %04o)", path,
			 st.st_mode & S_IWOTH ? "other users" : "its group",
			 (unsigned int)(st.st_mode & 07777));
		return -EEXIST;
	}
	return 0;
}

int fileio_open_subdir(int parent, const char *path, const char *name, mode_t create, bool *made,
		       int *dfd, char *why)
{
	struct stat st;
	int fd, err;

	*dfd = -1;
	if (made)
		*made = false;
	if (create) {
		if (mkdirat(parent, name, create) == 0) {
			if (made)
				*made = true;
		} else if (errno != EEXIST) {
			return -errno;
		}
	}
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if ((err == -ENOTDIR || err == -ELOOP) &&
		    fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			snprintf(why, FILEIO_WHY_MAX, "%s is %s", path,
				 S_ISLNK(st.st_mode) ? "a symbolic link" : "not a directory");
			return -EEXIST;
		}
		return err;
	}
	err = check_dir(fd, path, why);
	if (err) {
		close(fd);
		return err;
	}
	*dfd = fd;
	return 0;
}

int fileio_open_dir(const char *path, mode_t create, bool *made, int *dfd, char *why)
{
	const char *slash = strrchr(path, '/');
	char parent[PATH_MAX];
	int pfd, err;

	*dfd = -1;
	if (!slash || !slash[1] || (size_t)(slash - path) >= sizeof(parent))
		return -EINVAL;
	snprintf(parent, sizeof(parent), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	err = check_dir(pfd, parent, why);
	if (!err)
		err = fileio_open_subdir(pfd, path, slash + 1, create, made, dfd, why);
	close(pfd);
	return err;
}

int fileio_remove_at(int dfd, const char *name, int flags)
{
	if (unlinkat(dfd, name, flags) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int fileio_write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fileio_write_at(int dfd, const char *name, const void *buf, size_t len, mode_t mode)
{
	char tmp[NAME_MAX + 1];
	int fd = -1, err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s" TMP_SUFFIX, name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	/*
	 * A leftover of a killed run, or anything planted there (a symbolic
	 * link above all): removed, never opened.  O_EXCL | O_NOFOLLOW then
	 * makes sure the file written is the one created here.
	 */
	err = fileio_remove_at(dfd, tmp, 0);
	if (err)
		return err;
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	/* Exactly mode, whatever the umask: resolv.conf must be readable. */
	if (fchmod(fd, mode) < 0)
		err = -errno;
	if (!err)
		err = fileio_write_all(fd, buf, len);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && renameat(dfd, tmp, dfd, name) < 0)
		err = -errno;
	if (!err && fsync(dfd) < 0 && errno != EINVAL)
		err = -errno;
	if (err)
		unlinkat(dfd, tmp, 0);
	return err;
}

int fileio_read_at(int dfd, const char *name, char **text)
{
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	struct stat st;
	int fd, err = 0;
	ssize_t n;

	*text = NULL;
	/* O_NONBLOCK: a FIFO planted there must not hang us before fstat. */
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	/* Sized from the start: growing a record of megabytes copies it over and over. */
	if (st.st_size > 0 && (uint64_t)st.st_size < FILEIO_MAX_SIZE)
		cap = (size_t)st.st_size + 2;
	buf = xmalloc(cap);
	for (;;) {
		if (cap - len < 2) {
			if (cap >= FILEIO_MAX_SIZE) {
				err = -EFBIG;
				goto out;
			}
			cap = cap > FILEIO_MAX_SIZE / 2 ? FILEIO_MAX_SIZE : cap * 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	/* Text only: a NUL inside would silently cut the file short. */
	if (strlen(buf) != len)
		err = -EINVAL;
out:
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*text = buf;
	return 0;
}

int fileio_read(const char *path, char **text)
{
	return fileio_read_at(AT_FDCWD, path, text);
}
