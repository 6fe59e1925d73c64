// SPDX-License-Identifier: GPL-2.0-or-later
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fileio.h"

const char *sysctl_name(const char *key, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "%s", key);
	for (i = 0; buf[i]; i++) {
		if (buf[i] == '/')
			buf[i] = '.';
		else if (buf[i] == '.')
			buf[i] = '/';
	}
	return buf;
}

int sysctl_read_at(int dir, const char *name, char **val)
{
	size_t n;
	int err;

	err = fileio_read_at(dir, name, val);
	if (err)
		return err;
	n = strlen(*val);
	while (n && ((*val)[n - 1] == '\n' || (*val)[n - 1] == ' '))
		(*val)[--n] = '\0';
	return 0;
}

int sysctl_read(const char *key, char **val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	return sysctl_read_at(AT_FDCWD, path, val);
}

int sysctl_proc_instance(void)
{
	int fs, m;

	fs = fsopen("proc", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		m = -errno;
	else if ((m = fsmount(fs, FSMOUNT_CLOEXEC,
			      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)) < 0)
		m = -errno;
	close(fs);
	return m;
}

int sysctl_open_dir(int proc, const char *key)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", proc >= 0 ? "sys" : "/proc/sys", key);
	fd = openat(proc >= 0 ? proc : AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int sysctl_write_at(int dir, const char *name, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	fd = openat(dir, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

int sysctl_write(const char *key, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	return sysctl_write_at(AT_FDCWD, path, val);
}
