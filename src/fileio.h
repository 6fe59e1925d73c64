/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The files jailfw writes as root, and the directories they live in
 * (/run/jailfw, /etc/netns/NAME), handled so that nobody else can steer a
 * write: a directory is opened once, without following a symbolic link,
 * and used only if it is root's (or the effective user's) and writable by
 * nobody else; every file below it is then reached with *at() calls from
 * that descriptor, never through a path that could be changed meanwhile,
 * and opened with O_NOFOLLOW.  A planted symbolic link is never followed
 * and a directory another user controls is refused (docs/jailfw.8,
 * FILES).
 *
 * Functions return 0 or -errno.  -EEXIST means "something is there that
 * jailfw will not use": why (at least FILEIO_WHY_MAX bytes) says what,
 * e.g. "/run/jailfw is a symbolic link".
 */
#ifndef JAILFW_FILEIO_H
#define JAILFW_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define FILEIO_WHY_MAX 192
/* Files read whole (state, records, /proc values) are small. */
#define FILEIO_MAX_SIZE (16u << 20)

/*
 * Open the directory at absolute path for *at() calls (O_CLOEXEC), after
 * checking it and its parent as above.  create: the mode to make it with
 * when it is missing (*made set), 0 to leave it missing (-ENOENT).
 */
int fileio_open_dir(const char *path, mode_t create, bool *made, int *dfd, char *why);

/* The same for name below the checked directory parent (path: for why). */
int fileio_open_subdir(int parent, const char *path, const char *name, mode_t create, bool *made,
		       int *dfd, char *why);

/*
 * Replace dfd/name atomically with buf: a new temporary file next to it
 * (O_EXCL | O_NOFOLLOW, after removing any left by a run that was
 * killed), written, fsync()ed, renamed over name, and the directory
 * fsync()ed.  Readers see the old file or the new one, never a part.
 */
int fileio_write_at(int dfd, const char *name, const void *buf, size_t len, mode_t mode);

/*
 * Read the regular file dfd/name (dfd AT_FDCWD: name is a path) whole into
 * a malloc'd NUL-terminated string, without following a symbolic link at
 * its last component.  -EINVAL for a NUL byte inside (text only), -EFBIG
 * past FILEIO_MAX_SIZE.
 */
int fileio_read_at(int dfd, const char *name, char **text);
int fileio_read(const char *path, char **text);

/* unlinkat(dfd, name, flags), with a missing file counting as removed. */
int fileio_remove_at(int dfd, const char *name, int flags);

#endif
