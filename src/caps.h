/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capabilities, via libcap-ng: what each verb needs is decided up front
 * and checked before anything touches the kernel.
 */
#ifndef JAILFW_CAPS_H
#define JAILFW_CAPS_H

#include <stdbool.h>

#include "diag.h"

enum caps_need {
	CAPS_NEED_NET_ADMIN = 1u << 0,
	CAPS_NEED_SYS_ADMIN = 1u << 1,
};

/*
 * True when every capability in need (a mask of enum caps_need) is in the
 * effective set.  Otherwise reports "VERB needs CAP_X" through d and
 * returns false.
 */
bool caps_require(const char *verb, unsigned int need, struct diag *d);

/* True if CAP_NET_ADMIN is effective (used to choose where to dry-run). */
bool caps_have_net_admin(void);

/* True if cap (a CAP_* number) is in the effective set. */
bool caps_have(unsigned int cap);

/*
 * Like caps_require, for any list of capabilities (CAP_* numbers from
 * <linux/capability.h>, checked in the effective set and named in that
 * order): "exec needs CAP_SYS_ADMIN and CAP_SETPCAP (run as root or grant
 * them)".  For verbs whose needs go beyond enum caps_need.
 */
bool caps_require_list(const char *verb, const unsigned int *caps, size_t ncaps, struct diag *d);

#endif
