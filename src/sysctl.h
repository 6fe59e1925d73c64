/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Values below /proc/sys, named by key ('/'-separated, as in the state
 * file: "net/ipv6/conf/eth0.100/accept_ra").  Functions return 0 or -errno.
 */
#ifndef JAILFW_SYSCTL_H
#define JAILFW_SYSCTL_H

#include <stddef.h>

/* "net.ipv6.conf.eth0/100.accept_ra" for key "net/ipv6/conf/eth0.100/accept_ra". */
const char *sysctl_name(const char *key, char *buf, size_t len);

/* The value, without its trailing newline (or blanks); *val is the caller's to free. */
int sysctl_read(const char *key, char **val);

int sysctl_write(const char *key, const char *val);

/*
 * A directory below /proc/sys opened once (its descriptor, or -errno), and
 * values read or written by name in it: a namespace's own sysctl
 * directories (net/ipv6...) sit in one dcache hash chain with those of
 * every other namespace that looked them up through the same proc
 * instance, so each path lookup through them costs a compare per such
 * namespace (docs/ruleset.md, "netns jails at scale").  One lookup serves
 * all the values of the directory.  proc: a proc instance's root
 * (sysctl_proc_instance), or -1 for /proc.
 */
int sysctl_open_dir(int proc, const char *key);
/*
 * A proc instance of its own, not mounted anywhere (fsopen, Linux 5.2):
 * its dcache is its own, and goes when the descriptor is closed.  What it
 * shows below sys/ is the calling thread's namespaces', as under /proc.
 */
int sysctl_proc_instance(void);
int sysctl_write_at(int dir, const char *name, const char *val);
int sysctl_read_at(int dir, const char *name, char **val);

#endif
