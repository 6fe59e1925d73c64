// SPDX-License-Identifier: GPL-2.0-or-later
#include "exitcode.h"

#include <errno.h>

/*
 * EROFS is the environment (a container's read-only /proc/sys or /run),
 * not a refusal; ENOSPC is a refusal like any other (docs/design.md,
 * "Exit statuses").
 */
int exitcode_kernel(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
	case EPROTONOSUPPORT:
	case EAFNOSUPPORT:
	case EOPNOTSUPP:
	case ENOSYS:
	case EROFS:
		return EXIT_PRIV;
	}
	return EXIT_KERNEL;
}

/* Exit status for a failure of the provisioner (provision.h). */
int exitcode_prov(int err)
{
	if (err == -ENXIO)
		return EXIT_INVALID;
	return err == -EEXIST ? EXIT_CONFLICT : exitcode_kernel(err);
}
