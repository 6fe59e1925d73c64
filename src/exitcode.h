/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jailfw's exit statuses (docs/design.md, "Exit statuses"), and the map from -errno to them. */
#ifndef JAILFW_EXITCODE_H
#define JAILFW_EXITCODE_H

enum jailfw_exit {
	EXIT_OK = 0,
	EXIT_INVALID = 1, /* the policy is invalid; nothing changed */
	EXIT_USAGE = 2,	  /* bad command line */
	/*
	 * diff and doctor answer with 1 ("apply would change something",
	 * "something would defeat the policy"), so an invalid policy is 2
	 * there, as trouble is for diff(1): anything above 1 is not an answer.
	 */
	EXIT_TROUBLE = 2,
	EXIT_KERNEL = 3,   /* the kernel or netlink refused; rolled back */
	EXIT_PRIV = 4,	   /* missing privilege or unsupported environment */
	EXIT_CONFLICT = 5, /* an object jailfw does not own is in the way */
	EXIT_VERIFY = 6,   /* verify: a probe contradicts the policy */
	EXIT_LOCKED = 75,  /* another apply holds the lock (--no-wait) */
};

/* Exit status for a -errno from the kernel-facing modules. */
int exitcode_kernel(int err);
/* The same for the provisioner's, which has two of its own (provision.h). */
int exitcode_prov(int err);

#endif
