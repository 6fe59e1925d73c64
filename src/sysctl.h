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

#endif
