/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * For unit tests that need the kernel: re-run the test binary under
 * `unshare --net --mount --propagation private`, so that every link,
 * namespace, mount and nftables table it makes dies with it and none
 * propagates to the machine (named namespaces are bind mounts under
 * /run/netns, which `ip netns` makes a shared mount).  Not root: also
 * --map-root-user, for the tests that can run in a user namespace.
 *
 *	if (!getenv(MARKER)) {
 *		int err = t_reexec_unshared(MARKER);	// returns only on failure
 *		...
 *	}
 *
 * MARKER is set in the re-run's environment, so that it does not loop.
 */
#ifndef JAILFW_TEST_SANDBOX_H
#define JAILFW_TEST_SANDBOX_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline int t_reexec_unshared(const char *marker)
{
	char self[4096], *args[10];
	ssize_t len;
	int n = 0;

	/* Resolved here: under unshare, /proc/self/exe would be unshare. */
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return -errno;
	self[len] = '\0';
	setenv(marker, "1", 1);
	args[n++] = "unshare";
	if (geteuid() != 0)
		args[n++] = "--map-root-user";
	args[n++] = "--net";
	args[n++] = "--mount";
	args[n++] = "--propagation";
	args[n++] = "private";
	args[n++] = "--";
	args[n++] = self;
	args[n] = NULL;
	fflush(NULL);
	execvp("unshare", args);
	return -errno;
}

#endif
