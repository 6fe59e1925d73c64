// SPDX-License-Identifier: GPL-2.0-or-later
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
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

int sysctl_read(const char *key, char **val)
{
	char path[PATH_MAX];
	size_t n;
	int err;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	err = fileio_read(path, val);
	if (err)
		return err;
	n = strlen(*val);
	while (n && ((*val)[n - 1] == '\n' || (*val)[n - 1] == ' '))
		(*val)[--n] = '\0';
	return 0;
}

int sysctl_write(const char *key, const char *val)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
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
