// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What each verb needs is decided by the caller (main.c's command table);
 * here we only ask libcap-ng whether the effective set has it, and say
 * exactly what is missing.
 *
 * We look at the effective set, not at the uid: root without CAP_NET_ADMIN
 * (a container, a systemd unit with CapabilityBoundingSet=) is refused by
 * nfnetlink just like any user, and a non-root process granted the
 * capability (ambient caps, file caps) is accepted.
 */
#include "caps.h"

#include <cap-ng.h>
#include <linux/capability.h>
#include <string.h>

#include "util.h"

static const struct {
	unsigned int need;
	unsigned int cap;
	const char *name;
} caps_table[] = {
    {CAPS_NEED_NET_ADMIN, CAP_NET_ADMIN, "CAP_NET_ADMIN"},
    {CAPS_NEED_SYS_ADMIN, CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
};

/*
 * Re-read the process's capabilities every time: libcap-ng caches them,
 * and a caller (or a test) may have dropped some since the last look.
 */
static bool have_cap(unsigned int cap)
{
	if (capng_get_caps_process())
		return false;
	return capng_have_capability(CAPNG_EFFECTIVE, cap) == 1;
}

bool caps_require(const char *verb, unsigned int need, struct diag *d)
{
	struct strbuf missing;
	unsigned int nmissing = 0;
	size_t i;

	sb_init(&missing);
	for (i = 0; i < ARRAY_SIZE(caps_table); i++) {
		if (!(need & caps_table[i].need) || have_cap(caps_table[i].cap))
			continue;
		if (nmissing)
			sb_puts(&missing, " and ");
		sb_puts(&missing, caps_table[i].name);
		nmissing++;
	}
	if (nmissing)
		diag_error(d, NULL, 0, "%s needs %s (run as root or grant %s)", verb, missing.s,
			   nmissing > 1 ? "them" : "it");
	sb_free(&missing);
	return nmissing == 0;
}

bool caps_have_net_admin(void)
{
	return have_cap(CAP_NET_ADMIN);
}

bool caps_have(unsigned int cap)
{
	return have_cap(cap);
}

bool caps_require_list(const char *verb, const unsigned int *caps, size_t ncaps, struct diag *d)
{
	const char *missing[64], *c;
	struct strbuf sb;
	size_t i, k, n = 0;

	for (i = 0; i < ncaps && n < ARRAY_SIZE(missing); i++)
		if (!have_cap(caps[i]))
			missing[n++] = capng_capability_to_name(caps[i]);
	if (!n)
		return true;
	sb_init(&sb);
	for (k = 0; k < n; k++) {
		if (k)
			sb_puts(&sb, k == n - 1 ? " and " : ", ");
		sb_puts(&sb, "CAP_");
		/* libcap-ng names them in lower case without the prefix. */
		for (c = missing[k] ? missing[k] : "unknown"; *c; c++)
			sb_putc(&sb, (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c));
	}
	diag_error(d, NULL, 0, "%s needs %s (run as root or grant %s)", verb, sb.s,
		   n > 1 ? "them" : "it");
	sb_free(&sb);
	return false;
}
